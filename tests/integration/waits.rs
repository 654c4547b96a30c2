//! Waits between attempts: 0 means none, and none follows the last attempt.

use std::time::Duration;

use crate::support::Test;

#[test]
fn retry_wait_seconds_0_means_no_wait() {
    let out = Test::new()
        .args([
            "--max-attempts",
            "3",
            "--retry-wait-seconds",
            "0",
            "--command",
            "exit 1",
        ])
        .status(1)
        .run();
    assert_eq!(out.output("total_attempts"), "3");
    // The default wait is 10 s, and nick-fields/retry turns 0 into 10 s.
    assert!(
        out.run_time() < Duration::from_secs(3),
        "{:?}",
        out.run_time()
    );
}

#[test]
fn no_wait_after_the_last_attempt() {
    let out = Test::new()
        .args([
            "--max-attempts",
            "2",
            "--retry-wait-seconds",
            "2",
            "--command",
            "exit 1",
        ])
        .status(1)
        .run();
    assert_eq!(out.output("total_attempts"), "2");
    assert!(
        out.run_time() >= Duration::from_secs(2),
        "no wait between attempts: {:?}",
        out.run_time()
    );
    assert!(
        out.run_time() < Duration::from_secs(4),
        "waited after the last attempt: {:?}",
        out.run_time()
    );
}

#[test]
fn the_log_says_how_long_the_wait_is() {
    Test::new()
        .args([
            "--max-attempts",
            "2",
            "--retry-wait-seconds",
            "0.2",
            "--command",
            "exit 1",
        ])
        .status(1)
        .stderr_contains("recover: Attempt 1 failed: exit code 1 (unknown). Retrying in 0.2s.")
        .run();
}
