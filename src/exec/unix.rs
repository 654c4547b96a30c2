//! The process group of an attempt on Unix: every process the command starts shares it, so one
//! `killpg` reaches the shell, its children and their children.
//!
//! Signalling never fails loudly: ESRCH (the group is already gone) is the goal, and EPERM (a
//! member changed its credentials, e.g. through `sudo`) must not crash recover as it does
//! nick-fields/retry (issues #114, #124); the SIGKILL that follows is all we can do.

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The group led by the attempt's first process.
#[derive(Debug, Clone, Copy)]
pub struct Group(Pid);

impl Group {
    /// The group whose leader has process id `pid`.
    #[must_use]
    pub fn led_by(pid: u32) -> Group {
        Group(Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX)))
    }

    /// Asks every member to stop (SIGTERM).
    pub fn terminate(self) {
        self.send(Signal::SIGTERM);
    }

    /// Stops every member at once (SIGKILL).
    pub fn kill(self) {
        self.send(Signal::SIGKILL);
    }

    /// Whether no process is left in the group (zombies not yet reaped count as present).
    #[must_use]
    pub fn is_empty(self) -> bool {
        killpg(self.0, None) == Err(Errno::ESRCH)
    }

    fn send(self, signal: Signal) {
        match killpg(self.0, signal) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(error) => tracing::debug!(%error, ?signal, "signalling the attempt's group failed"),
        }
    }
}

/// The exit code a shell would report: the code, or 128 + the signal number.
#[must_use]
pub fn exit_code(status: std::process::ExitStatus) -> (i32, Option<i32>) {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => (code, None),
        (None, Some(signal)) => (128 + signal, Some(signal)),
        (None, None) => (1, None),
    }
}
