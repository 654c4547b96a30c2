//! recover's own debug events: `::debug::` lines when the runner's debug logging is on
//! (`RUNNER_DEBUG=1`), plain lines on stderr with `RECOVER_LOG` outside a runner, nothing
//! otherwise.

use crate::support::Test;

#[test]
fn runner_debug_turns_events_into_debug_commands() {
    let out = Test::new()
        .actions()
        .env("RUNNER_DEBUG", "1")
        .args(["--max-attempts", "1", "--command", "echo hi"])
        .stdout_contains("hi\n")
        .run();
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("::debug::DEBUG recover::cli: plan checked max_attempts=1")),
        "{}",
        out.describe()
    );
    assert!(
        out.stderr.lines().all(|l| l.starts_with("::debug::")),
        "{}",
        out.describe()
    );
}

#[test]
fn recover_log_filters_plain_lines_on_stderr() {
    let out = Test::new()
        .env("RECOVER_LOG", "recover=debug")
        .args(["--max-attempts", "1", "--command", "true"])
        .stderr_contains("DEBUG recover::cli: plan checked max_attempts=1")
        .run();
    assert!(!out.stderr.contains("::debug::"), "{}", out.describe());
    let quiet = Test::new()
        .env("RECOVER_LOG", "recover=warn")
        .args(["--max-attempts", "1", "--command", "true"])
        .run();
    assert!(
        !quiet.stderr.contains("plan checked"),
        "{}",
        quiet.describe()
    );
}

#[test]
fn without_debug_logging_no_event_is_printed() {
    let out = Test::new()
        .actions()
        .args(["--max-attempts", "1", "--command", "true"])
        .stderr("")
        .run();
    assert!(!out.stdout.contains("::debug::"), "{}", out.describe());
}
