//! recover on Windows: cmd scripts and their retries, `%RECOVER_ATTEMPT%`, exit codes up to
//! NTSTATUS values, batch programs found through `PATHEXT`, the job object that ends an
//! attempt's whole process tree (timeout, leftovers, Ctrl-Break), runner files at `C:\` and
//! `Z:\` paths written with CRLF, and the circuit's state file shared by concurrent steps. CI
//! runs these under Wine (scripts/wine-test.sh); what Wine cannot show is marked `#[ignore]`
//! with the reason. docs/windows.md lists them all.

mod cmd;
mod files;
mod state;
mod tree;

use std::path::Path;
use std::time::Duration;

use crate::support::Test;

/// A cmd test: `--shell cmd`, no waits between attempts, and `script` as the command.
pub fn cmd(script: &str) -> Test {
    Test::new()
        .args(["--shell", "cmd", "--retry-wait-seconds", "0"])
        .args(["--command", script])
}

/// A batch file that appends a line to `beat.txt` about once a second, for ever: a process of
/// the attempt whose survival can be seen from outside, whatever its process id.
pub const BEAT: &str =
    "@echo off\r\n:loop\r\n>>beat.txt echo beat\r\nping -n 2 127.0.0.1 >nul\r\ngoto loop\r\n";

/// The lines of a cmd script that start [`BEAT`] in the background (`start /b`: same console,
/// same job) and wait until it has beaten once.
pub const START_BEAT: &str = "start /b cmd /d /c beat.cmd\r\n:wait\r\nif not exist beat.txt (ping -n 1 127.0.0.1 >nul & goto wait)\r\n";

/// Whether a [`BEAT`] in `dir` is still beating: `beat.txt` grows within the next few beats.
pub fn still_beating(dir: &Path) -> bool {
    let size = || std::fs::metadata(dir.join("beat.txt")).map_or(0, |m| m.len());
    let before = size();
    std::thread::sleep(Duration::from_millis(3500));
    size() > before
}
