//! A command killed by a signal is a failure with exit code 128 + n, never a success.

use crate::support::Test;

#[test]
fn kill_9_is_a_failure_with_137() {
    let out = Test::new()
        .args(["--max-attempts", "1", "--command", "kill -9 $$"])
        .status(137)
        .run();
    assert_eq!(out.output("exit_code"), "137");
    assert_eq!(out.output("outcome"), "failure");
    assert!(
        out.output("exit_error").contains("137"),
        "{}",
        out.describe()
    );
}

#[test]
fn sigsegv_is_a_failure_with_139() {
    let out = Test::new()
        .args(["--max-attempts", "1", "--command", "kill -SEGV $$"])
        .status(139)
        .run();
    assert_eq!(out.output("exit_code"), "139");
    assert_eq!(out.output("outcome"), "failure");
}

#[test]
fn a_signal_death_is_retried_like_any_failure() {
    let script = "\
n=$(( $(cat count 2>/dev/null || echo 0) + 1 ))
echo \"$n\" > count
if [ \"$n\" -lt 2 ]; then kill -9 $$; fi
";
    let out = Test::new()
        .args([
            "--max-attempts",
            "2",
            "--retry-wait-seconds",
            "0",
            "--command",
            script,
        ])
        .run();
    assert_eq!(out.output("total_attempts"), "2");
    assert_eq!(out.output("outcome"), "recovered");
}

#[test]
fn argv_mode_reports_a_signal_too() {
    Test::new()
        .args(["--max-attempts", "1", "--", "sh", "-c", "kill -SEGV $$"])
        .status(139)
        .run();
}
