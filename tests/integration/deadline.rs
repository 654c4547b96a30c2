//! The total deadline: it bounds attempts and waits together, the last attempt's timeout shrinks
//! to what is left, and no wait starts that the deadline cannot fit.

use std::time::Duration;

use crate::support::Test;

#[test]
fn the_last_attempts_timeout_shrinks_to_the_deadline() {
    let out = Test::new()
        .args(["--total-timeout-seconds", "2", "--timeout-seconds", "10"])
        .args(["--kill-grace-seconds", "1", "--retry-wait-seconds", "0"])
        .args(["--command", "sleep 30"])
        .status(1)
        .run();
    // 2 s deadline + 1 s grace, with room for a loaded machine; without the deadline this would
    // take the 10 s attempt timeout.
    assert!(
        out.run_time() >= Duration::from_secs(2),
        "{:?}",
        out.run_time()
    );
    assert!(
        out.run_time() < Duration::from_millis(4500),
        "{:?}",
        out.run_time()
    );
    assert_eq!(out.output("total_attempts"), "1");
    let error = out.output("exit_error");
    // The deadline, not the attempt's own 10 s timeout, cut the attempt: its figure is named.
    assert_eq!(
        error,
        "Final attempt failed. Total timeout of 2000ms (total_timeout_seconds) hit"
    );
}

#[test]
fn no_wait_starts_that_the_deadline_cannot_fit() {
    let out = Test::new()
        .args(["--total-timeout-seconds", "3", "--retry-wait-seconds", "5"])
        .args(["--max-attempts", "3", "--command", "exit 4"])
        .status(4)
        .run();
    assert!(
        out.run_time() < Duration::from_secs(2),
        "waited: {:?}",
        out.run_time()
    );
    assert_eq!(out.output("total_attempts"), "1");
    assert_eq!(out.output("exit_code"), "4");
    assert_eq!(out.output("outcome"), "failure");
}

#[test]
fn a_wait_that_fits_is_taken() {
    let out = Test::new()
        .args(["--total-timeout-seconds", "10", "--retry-wait-seconds", "1"])
        .args(["--max-attempts", "2", "--command", "exit 4"])
        .status(4)
        .run();
    assert_eq!(out.output("total_attempts"), "2");
    assert!(
        out.run_time() >= Duration::from_secs(1),
        "{:?}",
        out.run_time()
    );
}
