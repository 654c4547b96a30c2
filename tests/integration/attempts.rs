//! A flaky command recovers: the counter script fails until its Nth run, and the step reports
//! how it went through its outputs, log and exit status.

use crate::support::{Test, flaky, seconds};

const COUNTER_TIMEOUT: &str = "\
n=$(( $(cat count 2>/dev/null || echo 0) + 1 ))
echo \"$n\" > count
if [ \"$n\" -lt 2 ]; then sleep 30; fi
echo \"passed on run $n\"
";

#[track_caller]
fn assert_recovered(out: &crate::support::Output, attempts: &str) {
    let outputs = out.outputs();
    assert_eq!(
        outputs.get("total_attempts").map(String::as_str),
        Some(attempts),
        "{}",
        out.describe()
    );
    assert_eq!(
        outputs.get("exit_code").map(String::as_str),
        Some("0"),
        "{}",
        out.describe()
    );
    assert_eq!(
        outputs.get("outcome").map(String::as_str),
        Some("recovered"),
        "{}",
        out.describe()
    );
    assert_eq!(outputs["exit_error"], "", "{}", out.describe());
    let duration = seconds(&out.output("duration_seconds"));
    assert!(
        duration >= 0.0 && duration <= out.elapsed.as_secs_f64() + 0.5,
        "duration_seconds {duration} vs {:?}",
        out.elapsed
    );
    assert_eq!(out.read("count").trim(), attempts);
}

#[test]
fn retry_on_any_recovers_on_attempt_n() {
    let out = Test::new()
        .args(["--max-attempts", "5", "--retry-wait-seconds", "0"])
        .args(["--command", &flaky(3, 1)])
        .stdout_contains("passed on run 3")
        .run();
    assert_recovered(&out, "3");
}

#[test]
fn retry_on_error_recovers_on_attempt_n() {
    let out = Test::new()
        .env("INPUT_RETRY_ON", "error")
        .env("INPUT_RETRY_WAIT_SECONDS", "0")
        .env("INPUT_COMMAND", flaky(3, 1))
        .run();
    assert_recovered(&out, "3");
}

#[test]
fn retry_on_timeout_recovers_on_attempt_n() {
    let out = Test::new()
        .args(["--retry-on", "timeout", "--timeout-seconds", "1"])
        .args(["--kill-grace-seconds", "1", "--retry-wait-seconds", "0"])
        .args(["--command", COUNTER_TIMEOUT])
        .run();
    assert_recovered(&out, "2");
    assert!(out.run_time().as_secs_f64() >= 1.0, "{:?}", out.run_time());
}

#[test]
fn retry_on_timeout_does_not_retry_an_error() {
    let out = Test::new()
        .args(["--retry-on", "timeout", "--retry-wait-seconds", "0"])
        .args(["--command", &flaky(3, 4)])
        .status(4)
        .run();
    assert_eq!(out.output("total_attempts"), "1");
    assert_eq!(out.output("outcome"), "failure");
    assert_eq!(out.read("count").trim(), "1");
}

#[test]
fn retry_on_error_does_not_retry_a_timeout() {
    let out = Test::new()
        .args(["--retry-on", "error", "--timeout-seconds", "1"])
        .args(["--kill-grace-seconds", "1", "--retry-wait-seconds", "0"])
        .args(["--command", COUNTER_TIMEOUT])
        .status(1)
        .run();
    assert_eq!(out.output("total_attempts"), "1");
    assert_eq!(out.output("exit_code"), "1");
    assert!(
        out.output("exit_error").contains("Timeout of 1000ms hit"),
        "{}",
        out.describe()
    );
}

#[test]
fn retry_on_exit_code_recovers_on_attempt_n() {
    let out = Test::new()
        .args(["--retry-on-exit-code", "75", "--retry-wait-seconds", "0"])
        .args(["--command", &flaky(3, 75)])
        .run();
    assert_recovered(&out, "3");
}

#[test]
fn retry_on_exit_code_takes_a_list() {
    // Run 1 exits 2, run 2 exits 75, run 3 passes: both listed codes are retried.
    let script = "\
n=$(( $(cat count 2>/dev/null || echo 0) + 1 ))
echo \"$n\" > count
case \"$n\" in 1) exit 2 ;; 2) exit 75 ;; esac
";
    let out = Test::new()
        .args(["--retry-on-exit-code", "2, 75", "--retry-wait-seconds", "0"])
        .args(["--max-attempts", "4", "--command", script])
        .run();
    assert_recovered(&out, "3");
}

#[test]
fn an_exit_code_not_in_the_list_fails_at_once() {
    let out = Test::new()
        .args(["--retry-on-exit-code", "2,75", "--retry-wait-seconds", "0"])
        .args(["--max-attempts", "5", "--command", &flaky(3, 4)])
        .status(4)
        .run();
    assert_eq!(out.output("total_attempts"), "1");
    assert_eq!(out.output("exit_code"), "4");
    assert_eq!(out.output("outcome"), "failure");
    assert_eq!(
        out.output("exit_error"),
        "Child_process exited with error code 4"
    );
    assert_eq!(out.read("count").trim(), "1");
}

#[test]
fn success_on_the_first_attempt() {
    let out = Test::new()
        .args(["--command", "echo fine"])
        .stdout("fine\n")
        .run();
    assert_eq!(out.output("total_attempts"), "1");
    assert_eq!(out.output("outcome"), "success");
    assert_eq!(out.output("exit_code"), "0");
    assert_eq!(out.output("exit_error"), "");
}

#[test]
fn final_failure_reports_the_last_exit_code() {
    let out = Test::new()
        .actions()
        .args(["--max-attempts", "3", "--retry-wait-seconds", "0"])
        .args(["--command", &flaky(10, 3)])
        .status(3)
        .run();
    assert_eq!(out.output("total_attempts"), "3");
    assert_eq!(out.output("exit_code"), "3");
    assert_eq!(out.output("outcome"), "failure");
    assert_eq!(
        out.output("exit_error"),
        "Final attempt failed. Child_process exited with error code 3"
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    for n in 1..=3 {
        assert!(
            lines.contains(&format!("::group::Attempt {n}").as_str()),
            "{}",
            out.describe()
        );
    }
    let warnings: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("::warning::Attempt"))
        .collect();
    assert_eq!(
        warnings,
        [
            &"::warning::Attempt 1 failed. Reason: Child_process exited with error code 3",
            &"::warning::Attempt 2 failed. Reason: Child_process exited with error code 3",
        ],
        "{}",
        out.describe()
    );
    let errors: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("::error::"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", out.describe());
    assert!(
        errors[0].contains("Final attempt failed. Child_process exited with error code 3"),
        "{}",
        out.describe()
    );
    let last_group = lines
        .iter()
        .rposition(|l| l.starts_with("::endgroup::"))
        .unwrap();
    let error = lines
        .iter()
        .position(|l| l.starts_with("::error::"))
        .unwrap();
    assert!(
        error > last_group,
        "the final error comes after the last group"
    );
}

#[test]
fn warning_on_retry_false_emits_no_warnings() {
    let out = Test::new()
        .actions()
        .args(["--max-attempts", "3", "--retry-wait-seconds", "0"])
        .args(["--warning-on-retry", "false", "--command", &flaky(10, 3)])
        .status(3)
        .run();
    assert!(
        !out.stdout.contains("::warning::Attempt"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout.contains("Attempt 1 failed"),
        "a plain line still says why: {}",
        out.describe()
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("::error::") && l.contains("Final attempt failed.")),
        "{}",
        out.describe()
    );
}

#[test]
fn continue_on_error_exits_zero_with_a_warning() {
    let out = Test::new()
        .actions()
        .args(["--max-attempts", "2", "--retry-wait-seconds", "0"])
        .args(["--continue-on-error", "true", "--command", "exit 5"])
        .status(0)
        .run();
    assert_eq!(out.output("exit_code"), "5");
    assert_eq!(out.output("outcome"), "failure");
    assert!(!out.stdout.contains("::error::"), "{}", out.describe());
    assert!(
        out.stdout.lines().any(|l| l.starts_with("::warning::")
            && l.contains("Final attempt failed. Child_process exited with error code 5")),
        "{}",
        out.describe()
    );
}

#[test]
fn a_timeout_exits_one_with_its_message() {
    let out = Test::new()
        .actions()
        .args([
            "--max-attempts",
            "1",
            "--timeout-seconds",
            "1",
            "--kill-grace-seconds",
            "1",
        ])
        .args(["--command", "sleep 30"])
        .status(1)
        .run();
    assert_eq!(out.output("exit_code"), "1");
    let error = out.output("exit_error");
    assert!(error.contains("Timeout of 1000ms hit"), "{error}");
    assert!(error.starts_with("Final attempt failed."), "{error}");
    assert!(out.run_time().as_secs_f64() < 8.0, "{:?}", out.run_time());
}

#[test]
fn outside_actions_the_log_is_plain_lines_on_stderr() {
    let out = Test::new()
        .args([
            "--max-attempts",
            "2",
            "--retry-wait-seconds",
            "0",
            "--command",
            &flaky(2, 1),
        ])
        .stdout("passed on run 2\n")
        .run();
    assert!(!out.stderr.contains("::"), "{}", out.describe());
    assert!(
        out.stderr.contains("recover: attempt 1 of 2"),
        "{}",
        out.describe()
    );
}

#[test]
fn retry_on_exit_code_still_retries_timeouts() {
    // nick-fields/retry never retries a timeout once retry_on_exit_code is set; in recover
    // timeouts follow retry_on (any, here).
    let out = Test::new()
        .args(["--retry-on-exit-code", "75", "--timeout-seconds", "1"])
        .args(["--kill-grace-seconds", "1", "--retry-wait-seconds", "0"])
        .args(["--command", COUNTER_TIMEOUT])
        .run();
    assert_recovered(&out, "2");
}
