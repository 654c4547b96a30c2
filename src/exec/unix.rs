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

    /// Whether no live process is left in the group.
    ///
    /// A member that has exited but is not yet reaped (a zombie) has finished: it holds no pipe
    /// and can do nothing more. Orphans are reaped by init, and some inits reap late or never
    /// (`tail -f /dev/null` as PID 1 in a job container), so on Linux such zombies do not count;
    /// otherwise every stop would wait out the whole grace and settle time for them.
    #[must_use]
    pub fn is_empty(self) -> bool {
        match killpg(self.0, None) {
            Err(Errno::ESRCH) => true,
            _ => only_zombies(self.0),
        }
    }

    fn send(self, signal: Signal) {
        match killpg(self.0, signal) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(error) => tracing::debug!(%error, ?signal, "signalling the attempt's group failed"),
        }
    }
}

/// Stops the attempt's group if recover dies before the attempt ends (`SIGKILL`, the OOM
/// killer), when recover cannot do it itself.
///
/// A small `sh` outside the group waits on a pipe from recover. recover writes `done` when the
/// attempt's group is gone; if recover dies first, the pipe closes with nothing written, and the
/// watcher sends the group TERM, waits the grace, then KILL. A parent-death signal
/// (`PR_SET_PDEATHSIG`) would reach only the group's first process, not the shell's children,
/// and exists only on Linux; a pipe's end of file reaches a reader on every Unix.
pub struct Watcher {
    child: Option<tokio::process::Child>,
}

impl Watcher {
    /// The watcher's script: `$1` is the group, `$2` the grace in seconds. It ignores the
    /// terminal's signals, which reach it in recover's group: recover handles those itself.
    const SCRIPT: &str = r#"trap '' INT TERM HUP
IFS= read -r said
[ "$said" = done ] && exit 0
kill -TERM "-$1" 2>/dev/null || exit 0
sleep "$2"
kill -KILL "-$1" 2>/dev/null
exit 0"#;

    /// Starts watching `group`; without `sh` (or processes to spare) the group is simply not
    /// watched, which only matters if recover is killed.
    #[must_use]
    pub fn watch(group: Group, grace: std::time::Duration) -> Watcher {
        let child = tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(Self::SCRIPT)
            .arg("recover-watch")
            .arg(group.0.as_raw().to_string())
            .arg(format!("{}.{:03}", grace.as_secs(), grace.subsec_millis()))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .inspect_err(|error| tracing::debug!(%error, "cannot watch the attempt's group"))
            .ok();
        Watcher { child }
    }

    /// The group is gone: the watcher exits without signalling anything (tokio reaps it).
    pub async fn release(mut self) {
        use tokio::io::AsyncWriteExt;
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(mut said) = child.stdin.take()
            && let Err(error) = said.write_all(b"done\n").await
        {
            tracing::debug!(%error, "cannot release the watcher");
        }
    }
}

/// Whether every process of group `pgid` is a zombie, judged from `/proc` (Linux only; elsewhere
/// a group that answers to signals counts as live).
#[cfg(target_os = "linux")]
fn only_zombies(pgid: Pid) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|f| f.parse::<i32>().ok());
        if pgrp == Some(pgid.as_raw()) && !matches!(state, Some("Z" | "X")) {
            return false;
        }
    }
    true
}

#[cfg(not(target_os = "linux"))]
fn only_zombies(_pgid: Pid) -> bool {
    false
}

/// The pipe capacity asked for on the attempt's output pipes: Linux's default limit for an
/// unprivileged process. A fast producer then fills 16 times fewer pipe buffers between two
/// wake-ups of the relay than with the default 64 KiB.
#[cfg(target_os = "linux")]
pub const PIPE_CAPACITY: i32 = 1024 * 1024;

/// Widens the pipe behind `read_end`, when the system allows it; a refusal (the user's pipe
/// memory quota is spent) only leaves the default size.
#[cfg(target_os = "linux")]
pub fn widen_pipe(read_end: &std::fs::File) {
    use nix::fcntl::{FcntlArg, fcntl};
    if let Err(error) = fcntl(read_end, FcntlArg::F_SETPIPE_SZ(PIPE_CAPACITY)) {
        tracing::debug!(%error, "cannot widen the output pipe");
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
