//! The job object of an attempt on Windows: every process the command starts belongs to it, and
//! terminating the job ends them all.
//!
//! Windows has no SIGTERM for console programs in another job, so a timeout or a cancellation
//! ends the job at once; the grace period does not apply.
//!
//! The job is made with `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` (process-wrap's `KillOnDrop`), so
//! its processes also end when recover lets go of the job, even if recover itself is killed (the
//! runner's `TerminateProcess` at the end of a cancellation).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

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
