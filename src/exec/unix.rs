//! The process group of an attempt on Unix: every process the command starts shares it, so one
//! `killpg` reaches the shell, its children and their children.
//!
//! This file is the platform interface of `exec` (windows.rs has the same items): starting the
//! command in its group, stopping it, the output pipes, the cancelling signals, file access.
//! Linux adds its own relay and a look at `/proc` (linux.rs).
//!
//! Signalling never fails loudly: ESRCH (the group is already gone) is the goal, and EPERM (a
//! member changed its credentials, e.g. through `sudo`) must not crash recover as it does
//! nick-fields/retry (issues #114, #124); the SIGKILL that follows is all we can do.

mod lookup;

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use process_wrap::tokio::{ChildWrapper, CommandWrap};
use tokio::process::{ChildStderr, ChildStdout};
use tokio::sync::watch;

use super::AttemptSpec;
use super::cancel::CancelSignal;
use super::stream::ChildPipe;

#[cfg(target_os = "linux")]
use super::linux::only_zombies;
/// Relays a child's pipe to one of recover's own outputs: from pipe to pipe on Linux, by plain
/// reads and writes elsewhere.
#[cfg(target_os = "linux")]
pub use super::linux::relay;
#[cfg(not(target_os = "linux"))]
pub use super::stream::relay;

/// Whether every process of a group is a zombie: only Linux can tell (linux.rs); elsewhere a
/// group that answers to signals counts as live.
#[cfg(not(target_os = "linux"))]
fn only_zombies(_pgid: Pid) -> bool {
    false
}

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

/// The command of an attempt, with its arguments. A bare program name is looked up on the
/// attempt's own `PATH` here when that can be done for certain (lookup.rs), so that the
/// standard library can start it with `posix_spawn` instead of a fork.
pub fn command(spec: &AttemptSpec) -> tokio::process::Command {
    let mut command = match lookup::resolve(&spec.program, &spec.env) {
        Some(path) => {
            let mut command = tokio::process::Command::new(path);
            command.arg0(&spec.program);
            command
        }
        None => tokio::process::Command::new(&spec.program),
    };
    command.args(&spec.args);
    command
}

/// Starts the command as the leader of a process group of its own.
pub fn contain(wrap: &mut CommandWrap) {
    wrap.wrap(process_wrap::tokio::ProcessGroup::leader());
}

/// The command's first process has exited: its group lives on as long as its members do.
pub fn leader_exited(_child: &mut Box<dyn ChildWrapper>, _group: Group) {}

/// Asks the group to stop (SIGTERM).
pub fn terminate(_child: &mut Box<dyn ChildWrapper>, group: Group) {
    group.terminate();
}

/// Stops the group at once (SIGKILL).
pub fn kill(_child: &mut Box<dyn ChildWrapper>, group: Group) {
    group.kill();
}

macro_rules! child_pipe {
    ($($pipe:ty),*) => {$(
        impl ChildPipe for $pipe {
            fn into_file(self) -> io::Result<File> {
                self.into_owned_fd().map(File::from)
            }
            fn watch_handle(&self) -> Option<File> {
                clone_handle(self).ok()
            }
        }
    )*};
}
child_pipe!(ChildStdout, ChildStderr);

/// How many bytes wait in the pipe behind `pipe` (0 if that cannot be told).
pub fn waiting(pipe: &File) -> u64 {
    rustix::io::ioctl_fionread(pipe).unwrap_or(0)
}

/// A second, unbuffered handle on `handle` (recover's stdout, a child's pipe).
///
/// # Errors
/// When no descriptor is left.
pub fn clone_handle(handle: &impl AsFd) -> io::Result<File> {
    Ok(File::from(handle.as_fd().try_clone_to_owned()?))
}

/// Sends the number of the first SIGINT, SIGTERM or SIGHUP to reach recover through `tx`.
///
/// # Errors
/// When the signal handlers cannot be installed.
pub fn forward_cancel_signals(tx: watch::Sender<Option<CancelSignal>>) -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    // A closed terminal or a dropped SSH session: without this, recover would die of
    // SIGHUP and leave the attempt's group running.
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        let number = tokio::select! {
            _ = int.recv() => 2,
            _ = term.recv() => 15,
            _ = hup.recv() => 1,
        };
        let _ = tx.send(Some(number));
    });
    Ok(())
}

/// Opens without blocking: opening a FIFO without a reader would block; `O_NONBLOCK` makes it
/// return at once, and the caller's check for a regular file then refuses it. On a regular file
/// the flag changes nothing.
pub fn non_blocking(options: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt;
    options.custom_flags(nix::libc::O_NONBLOCK);
}

/// Reads exactly `buf.len()` bytes of `file` from `offset`, leaving its position alone.
///
/// # Errors
/// When the read fails or the file ends first.
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}
