//! The circuit's state file on Windows: the lock (`LockFileEx`) and the replace-by-rename that
//! keep concurrent steps from losing an update, and an open circuit that skips the next step.

use std::path::Path;
use std::process::Stdio;

use super::cmd;
use crate::support::Test;

/// A cmd step on circuit `db` in `dir` that always fails, with `threshold`.
fn failing_step(dir: &Path, threshold: u32, attempts: u32) -> Test {
    cmd("exit 1")
        .args(["--state-dir".as_ref(), dir.as_os_str()])
        .args(["--circuit", "db", "--circuit-cooldown-seconds", "600"])
        .args(["--circuit-threshold", &threshold.to_string()])
        .args(["--max-attempts", &attempts.to_string()])
}

fn consecutive_failures(dir: &Path) -> serde_json::Value {
    let out = Test::new()
        .args(["state", "show", "--json"])
        .args(["--state-dir".as_ref(), dir.as_os_str()])
        .run();
    let shown: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", out.describe()));
    shown["circuits"]["db"]["consecutive_failures"].clone()
}

#[test]
fn concurrent_steps_lose_no_failure() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            let test = failing_step(dir.path(), 1000, 4);
            let mut command = test.command();
            command.stdout(Stdio::null()).stderr(Stdio::piped());
            (test, command.spawn().expect("start recover"))
        })
        .collect();
    let mut logs = String::new();
    for (_test, child) in children {
        let output = child.wait_with_output().expect("wait for recover");
        assert_eq!(output.status.code(), Some(1));
        logs.push_str(&String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(consecutive_failures(dir.path()), 32, "{logs}");
}

#[test]
fn an_open_circuit_skips_the_next_step() {
    let dir = tempfile::tempdir().unwrap();
    failing_step(dir.path(), 2, 5)
        .status(1)
        .stderr_contains("Circuit db opened after 2 consecutive failures")
        .run();
    let skipped = cmd("echo ran>ran")
        .args(["--state-dir".as_ref(), dir.path().as_os_str()])
        .args(["--circuit", "db", "--circuit-threshold", "2"])
        .status(1)
        .run();
    assert!(!skipped.join("ran").exists(), "the command ran");
    assert_eq!(
        skipped.output("total_attempts"),
        "0",
        "{}",
        skipped.describe()
    );
    assert_eq!(skipped.output("category"), "circuit_open");
}
