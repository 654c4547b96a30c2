//! The job object of an attempt on Windows: every process the command starts belongs to it, and
//! terminating the job ends them all.
//!
//! This file is the platform interface of `exec` on Windows (unix.rs has the same items):
//! starting the command in its job, stopping it, the output pipes, the cancelling signals, file
//! access.
//!
//! Windows has no SIGTERM for console programs in another job, so a timeout or a cancellation
//! ends the job at once; the grace period does not apply.
//!
//! The job is made with `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` (process-wrap's `KillOnDrop`), so
//! its processes also end when recover lets go of the job, even if recover itself is killed (the
//! runner's `TerminateProcess` at the end of a cancellation).

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::windows::io::AsHandle;
use std::path::{Path, PathBuf};

use process_wrap::tokio::{ChildWrapper, CommandWrap};
use tokio::process::{ChildStderr, ChildStdout};
use tokio::sync::watch;

use super::AttemptSpec;
use super::cancel::CancelSignal;
use super::stream::ChildPipe;
/// Relays a child's pipe to one of recover's own outputs by plain reads and writes.
pub use super::stream::relay;

/// The job of an attempt. Termination goes through the child, which owns the job handle.
#[derive(Debug, Clone, Copy)]
pub struct Group;

impl Group {
    /// The job of the attempt whose first process has id `pid`.
    #[must_use]
    pub fn led_by(_pid: u32) -> Group {
        Group
    }

    /// Whether no live process is left in the job, as far as can be told.
    ///
    /// process-wrap keeps the job's handle to itself, so its process count cannot be asked
    /// for. Instead the attempt loop ends the job as soon as its first process exits: whatever
    /// that process left running (`start /b`, a build server) would otherwise outlive the
    /// attempt, hold its output pipes open and overlap the next attempt. A job that has been
    /// ended is empty. (So Windows never logs "Stopped processes left running": it cannot tell
    /// whether there were any.)
    #[must_use]
    #[expect(clippy::unused_self, reason = "the Unix group's signature")]
    pub fn is_empty(self) -> bool {
        true
    }
}

/// The job object ends its processes when its last handle closes, which recover's death does:
/// nothing to watch.
pub struct Watcher;

impl Watcher {
    /// Nothing to start.
    #[must_use]
    pub fn watch(_group: Group, _grace: std::time::Duration) -> Watcher {
        Watcher
    }

    /// Nothing to release.
    #[expect(clippy::unused_async, reason = "the Unix watcher's signature")]
    pub async fn release(self) {}
}

/// The exit code of a Windows process: its whole 32-bit value, as `i32` (an NTSTATUS such as
/// 0xC0000005 is -1073741819, as the runner and PowerShell print it). No signal ends a Windows
/// process.
#[must_use]
pub fn exit_code(status: std::process::ExitStatus) -> (i32, Option<i32>) {
    (status.code().unwrap_or(1), None)
}

/// The batch file that a bare program name stands for on the attempt's `PATH`, as cmd would find
/// it through `PATHEXT` (`npm` is `npm.cmd`, `gradlew` is `gradlew.bat`).
///
/// The standard library looks for `NAME.exe` only, so without this `-- npm ci` could not start
/// at all. Anything else (a name with a path or an extension, an `.exe`, nothing found) is left
/// to the standard library's own search. The standard library runs a `.cmd` or `.bat` through
/// cmd with its arguments escaped for it.
#[must_use]
pub fn resolve(program: &OsStr, env: &[(OsString, OsString)], cwd: &Path) -> Option<PathBuf> {
    let name = Path::new(program);
    if name.extension().is_some() || name.components().count() != 1 {
        return None;
    }
    let path = env
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case("PATH"))
        .map(|(_, v)| v)?;
    let found = which::which_in(program, Some(path), cwd).ok()?;
    let is_batch = found
        .extension()
        .and_then(OsStr::to_str)
        .is_some_and(|e| e.eq_ignore_ascii_case("cmd") || e.eq_ignore_ascii_case("bat"));
    is_batch.then_some(found)
}

/// The command of an attempt, with its arguments: a bare name that stands for a batch file on
/// the attempt's `PATH` starts that file ([`resolve`]), and arguments meant for cmd are passed
/// verbatim.
pub fn command(spec: &AttemptSpec) -> tokio::process::Command {
    let cwd = spec.cwd.clone().or_else(|| std::env::current_dir().ok());
    let batch = cwd.and_then(|cwd| resolve(&spec.program, &spec.env, &cwd));
    let mut command = tokio::process::Command::new(
        batch
            .as_deref()
            .map_or(spec.program.as_os_str(), |p| p.as_os_str()),
    );
    command.args(&spec.args);
    if let Some(raw) = &spec.raw_args {
        command.raw_arg(raw);
    }
    command
}

/// Starts the command in a job object of its own, ended when recover lets go of it.
pub fn contain(wrap: &mut CommandWrap) {
    wrap.wrap(process_wrap::tokio::KillOnDrop)
        .wrap(process_wrap::tokio::JobObject);
}

/// The command's first process has exited: the job ends with it, so that nothing it left
/// running outlives the attempt (see [`Group::is_empty`]).
pub fn leader_exited(child: &mut Box<dyn ChildWrapper>, group: Group) {
    kill(child, group);
}

/// Ends the job at once: console programs in another job get no SIGTERM.
pub fn terminate(child: &mut Box<dyn ChildWrapper>, group: Group) {
    kill(child, group);
}

/// Ends the job at once.
pub fn kill(child: &mut Box<dyn ChildWrapper>, _group: Group) {
    if let Err(error) = child.start_kill() {
        tracing::debug!(%error, "terminating the attempt's job failed");
    }
}

macro_rules! child_pipe {
    ($($pipe:ty),*) => {$(
        impl ChildPipe for $pipe {
            fn into_file(self) -> io::Result<File> {
                self.into_owned_handle().map(File::from)
            }
            fn watch_handle(&self) -> Option<File> {
                None
            }
        }
    )*};
}
child_pipe!(ChildStdout, ChildStderr);

/// How many bytes wait in a pipe: not asked on Windows, where the job ends with its first
/// process and nothing escapes it to hold a pipe open.
pub fn waiting(_pipe: &File) -> u64 {
    0
}

/// A second, unbuffered handle on `handle` (recover's stdout).
///
/// # Errors
/// When the handle cannot be duplicated.
pub fn clone_handle(handle: &impl AsHandle) -> io::Result<File> {
    Ok(File::from(handle.as_handle().try_clone_to_owned()?))
}

/// Sends 2 for the first Ctrl-C and 15 for the first Ctrl-Break to reach recover through `tx`.
///
/// # Errors
/// When the handlers cannot be installed.
pub fn forward_cancel_signals(tx: watch::Sender<Option<CancelSignal>>) -> io::Result<()> {
    let mut ctrl_c = tokio::signal::windows::ctrl_c()?;
    let mut ctrl_break = tokio::signal::windows::ctrl_break()?;
    tokio::spawn(async move {
        let number = tokio::select! {
            _ = ctrl_c.recv() => 2,
            _ = ctrl_break.recv() => 15,
        };
        let _ = tx.send(Some(number));
    });
    Ok(())
}

/// Nothing to do: Windows has no FIFOs that block on opening.
pub fn non_blocking(_options: &mut OpenOptions) {}

/// Reads exactly `buf.len()` bytes of `file` from `offset`.
///
/// # Errors
/// When the read fails or the file ends first.
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    let n = std::os::windows::fs::FileExt::seek_read(file, buf, offset)?;
    if n == buf.len() {
        Ok(())
    } else {
        Err(io::Error::from(io::ErrorKind::UnexpectedEof))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(path: &Path) -> Vec<(OsString, OsString)> {
        vec![("Path".into(), path.as_os_str().to_owned())]
    }

    #[test]
    fn a_bare_name_finds_its_batch_file_on_the_attempts_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tool.cmd"), "@exit 0\r\n").unwrap();
        std::fs::write(dir.path().join("legacy.bat"), "@exit 0\r\n").unwrap();
        std::fs::write(dir.path().join("real.exe"), "MZ").unwrap();
        let env = env(dir.path());
        let cwd = dir.path();
        assert_eq!(
            resolve("tool".as_ref(), &env, cwd),
            Some(dir.path().join("tool.cmd"))
        );
        assert_eq!(
            resolve("legacy".as_ref(), &env, cwd),
            Some(dir.path().join("legacy.bat"))
        );
        // Left to the standard library: an .exe, an explicit extension, a path, nothing found.
        assert_eq!(resolve("real".as_ref(), &env, cwd), None);
        assert_eq!(resolve("tool.cmd".as_ref(), &env, cwd), None);
        assert_eq!(resolve(r"sub\tool".as_ref(), &env, cwd), None);
        assert_eq!(resolve("missing".as_ref(), &env, cwd), None);
    }
}
