//! The subcommands' reports reach a slow reader whole, through a pipe that the writer set
//! non-blocking (a parent that set `O_NONBLOCK` shares it with recover): a full pipe means
//! "later", never a lost report or a crash; and a closed one is a message and exit 1.

use std::fmt::Write as _;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::RECOVER;

/// Runs recover with `args` in `dir`, its stdout a full non-blocking pipe drained late and
/// slowly; returns the exit code, what came through and stderr.
fn through_a_slow_pipe(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let (read, write) = crate::support::small_non_blocking_pipe();
    let mut child = Command::new(RECOVER)
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .stdin(Stdio::null())
        .stdout(Stdio::from(write))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let reader = crate::support::slow_reader(read, Duration::from_millis(500));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    let out = String::from_utf8(reader.join().unwrap()).unwrap();
    (status.code(), out, stderr)
}

/// The same run with an ordinary blocking pipe.
fn plainly(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(RECOVER)
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_rules_list_waits_out_a_full_non_blocking_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let want = plainly(dir.path(), &["rules", "list"]);
    assert!(want.len() > 4096, "the list must overfill one page");
    let (code, out, stderr) = through_a_slow_pipe(dir.path(), &["rules", "list"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(out, want);
}

#[test]
fn the_task_list_waits_out_a_full_non_blocking_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = String::from("tasks:\n");
    for n in 0..200 {
        writeln!(
            file,
            "  task-{n:03}:\n    description: The task numbered {n} of a long list\n    command: exit 0"
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("recover.yml"), file).unwrap();
    let want = plainly(dir.path(), &["task"]);
    assert!(want.len() > 4096, "the list must overfill one page");
    let (code, out, stderr) = through_a_slow_pipe(dir.path(), &["task"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(out, want);
}

#[test]
fn a_report_that_cannot_be_written_is_a_message_and_exit_1_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("recover.yml"),
        "tasks:\n  a:\n    command: exit 0\n",
    )
    .unwrap();
    for args in [&["rules", "list"][..], &["task"][..]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Command::new(RECOVER)
            .args(args)
            .current_dir(dir.path())
            .env_remove("GITHUB_ACTIONS")
            .stdin(Stdio::null())
            .stdout(full)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("standard output: cannot be written"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
