//! The report of real runs: the Actions log and its annotations, the job summary, the fallback,
//! flaky accounting, `report_file`, and side channels that fail without changing the result.

use std::fs;

use crate::runner_files::{markdown, only_own_html};
use crate::support::{SUMMARY_FILE, Test, flaky};

fn lines_starting(text: &str, prefix: &str) -> usize {
    text.lines().filter(|l| l.starts_with(prefix)).count()
}

#[test]
fn the_actions_log_of_a_recovered_step() {
    let out = Test::new()
        .actions()
        .file("flaky.sh", flaky(3, 4))
        .args(["--retry-wait-seconds", "0.1", "--command", "bash flaky.sh"])
        .run();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b\d+(\.\d+)?s\b", "[time]");
    settings.add_filter(r#""(lost_s|recovery_s)":[0-9.]+"#, r#""$1":[seconds]"#);
    settings.bind(|| insta::assert_snapshot!(out.stdout));
    assert_eq!(out.output("outcome"), "recovered");
}

#[test]
fn annotations_stay_within_what_github_shows() {
    let out = Test::new()
        .actions()
        .status(1)
        .args([
            "--max-attempts",
            "15",
            "--retry-wait-seconds",
            "0",
            "--command",
            "exit 1",
        ])
        .run();
    let warnings = lines_starting(&out.stdout, "::warning::");
    assert_eq!(
        warnings, 9,
        "8 retry warnings and one aggregate\n{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("::warning::6 more warning annotations are in the log"),
        "{}",
        out.stdout
    );
    assert_eq!(
        lines_starting(&out.stdout, "warning: Attempt "),
        6,
        "the rest as plain lines"
    );
    assert_eq!(lines_starting(&out.stdout, "::error::"), 1);
}

#[test]
fn an_unwritable_summary_is_one_warning_and_changes_nothing_else() {
    let run = |summary_is_a_directory: bool| {
        let test = Test::new().actions().status(3);
        if summary_is_a_directory {
            fs::create_dir(test.path().join(SUMMARY_FILE)).unwrap();
        }
        test.args([
            "--max-attempts",
            "2",
            "--retry-wait-seconds",
            "0",
            "--command",
            "echo out; exit 3",
        ])
        .run()
    };
    let good = run(false);
    let bad = run(true);
    let mut good_outputs = good.outputs();
    let mut bad_outputs = bad.outputs();
    for outputs in [&mut good_outputs, &mut bad_outputs] {
        outputs.remove("duration_seconds");
        outputs.remove("attempts_json");
    }
    assert_eq!(good_outputs, bad_outputs);
    let summary_warnings: Vec<&str> = bad
        .stdout
        .lines()
        .filter(|l| l.starts_with("::warning::cannot write the job summary"))
        .collect();
    assert_eq!(summary_warnings.len(), 1, "{}", bad.stdout);
    assert_eq!(
        lines_starting(&bad.stdout, "::warning::"),
        lines_starting(&good.stdout, "::warning::") + 1
    );
}

#[test]
fn hostile_output_cannot_escape_the_summary_block() {
    let script = r"
printf '</pre></details><script>alert(1)</script>\n```\n::error::forged-annotation\n| a | b |\n'
head -c 10485760 /dev/zero | tr '\0' 'x'
printf '\n<img src=x onerror=alert(2)>\n'
exit 1
";
    let out = Test::new()
        .actions()
        .status(1)
        .file("hostile.sh", script)
        .args([
            "--max-attempts",
            "2",
            "--retry-wait-seconds",
            "0",
            "--command",
            "bash hostile.sh > /dev/stderr",
        ])
        .run();
    let summary = out.read(SUMMARY_FILE);
    assert!(summary.len() <= 64 * 1024, "{} bytes", summary.len());
    // The output is shown as it is, in code: Markdown passes no HTML of it through, and
    // nothing of it appears outside code.
    let rendered = markdown(&summary);
    only_own_html(&rendered);
    assert_eq!(rendered.html.len(), 4, "{:?}", rendered.html);
    for marker in ["forged-annotation", "alert", "xxxxxxxx", "```", "<img"] {
        assert!(
            !rendered.text.contains(marker),
            "{marker:?} outside code:\n{summary}"
        );
    }
    assert!(
        rendered
            .code
            .iter()
            .any(|c| c.contains("<img src=x onerror=alert(2)>\n")),
        "{summary}"
    );
}

#[test]
fn a_fallback_rescues_the_step_with_a_notice() {
    let out = Test::new()
        .actions()
        .args([
            "--max-attempts",
            "2",
            "--retry-wait-seconds",
            "0",
            "--command",
            "echo integration >&2; exit 7",
            "--fallback-command",
            "echo unit tests passed; echo 'ran=unit' >> \"$GITHUB_OUTPUT\"",
        ])
        .run();
    assert_eq!(out.output("outcome"), "fallback");
    assert_eq!(out.output("fallback_exit_code"), "0");
    assert_eq!(out.output("total_attempts"), "2");
    assert_eq!(out.output("exit_code"), "7");
    assert_eq!(
        out.output("ran"),
        "unit",
        "the fallback's runner files are committed"
    );
    // One rescue notice (the step's result notice comes beside it).
    assert_eq!(
        lines_starting(
            &out.stdout,
            "::notice::The fallback command rescued the step"
        ),
        1,
        "{}",
        out.stdout
    );
    assert_eq!(lines_starting(&out.stdout, "::notice::Step result: "), 1);
    assert!(
        out.stdout
            .contains("::group::Fallback: echo unit tests passed")
    );
    let summary = out.read(SUMMARY_FILE);
    assert!(summary.contains("| – | fallback |"), "{summary}");
    assert!(summary.contains("| 1 | primary |"), "{summary}");
}

#[test]
fn fallback_outcome_failure_keeps_the_step_failed() {
    let out = Test::new()
        .status(7)
        .args([
            "--max-attempts",
            "1",
            "--command",
            "exit 7",
            "--fallback-command",
            "true",
        ])
        .args(["--fallback-outcome", "failure"])
        .run();
    assert_eq!(out.output("outcome"), "fallback");
    assert!(
        out.output("exit_error")
            .contains("fallback_outcome is failure")
    );
}

#[test]
fn a_failing_fallback_fails_the_step_with_its_own_code() {
    let out = Test::new()
        .status(5)
        .args([
            "--max-attempts",
            "1",
            "--command",
            "exit 7",
            "--fallback-command",
            "exit 5",
        ])
        .run();
    assert_eq!(out.output("outcome"), "failure");
    assert_eq!(out.output("fallback_exit_code"), "5");
    assert!(
        out.output("exit_error")
            .contains("The fallback command failed too")
    );
}

#[test]
fn a_failure_retry_on_refuses_goes_straight_to_the_fallback() {
    let out = Test::new()
        .args([
            "--retry-on",
            "timeout",
            "--command",
            "exit 3",
            "--fallback-command",
            "true",
        ])
        .run();
    assert_eq!(out.output("total_attempts"), "1");
    assert_eq!(out.output("outcome"), "fallback");
}

#[test]
fn on_flaky_warns_or_fails_a_recovered_step() {
    let warn = Test::new()
        .actions()
        .file("flaky.sh", flaky(2, 1))
        .args([
            "--retry-wait-seconds",
            "0",
            "--on-flaky",
            "warn",
            "--command",
            "bash flaky.sh",
        ])
        .run();
    assert!(
        warn.stdout
            .contains("::warning::Flaky step: passed on attempt 2 after 1 failed"),
        "{}",
        warn.stdout
    );
    let fail = Test::new()
        .actions()
        .status(1)
        .file("flaky.sh", flaky(2, 1))
        .args([
            "--retry-wait-seconds",
            "0",
            "--on-flaky",
            "fail",
            "--command",
            "bash flaky.sh",
        ])
        .run();
    assert_eq!(fail.output("outcome"), "recovered");
    assert!(
        fail.stdout.contains(
            "::error::The step is flaky: it passed on attempt 2 after 1 failed; on_flaky is fail"
        ),
        "{}",
        fail.stdout
    );
}

#[test]
fn summary_on_failure_and_never() {
    let passed = Test::new()
        .actions()
        .args(["--summary", "on-failure", "--command", "true"])
        .run();
    assert_eq!(passed.read(SUMMARY_FILE), "");
    let failed = Test::new()
        .actions()
        .status(1)
        .args([
            "--summary",
            "on-failure",
            "--max-attempts",
            "1",
            "--command",
            "false",
        ])
        .run();
    assert!(
        failed
            .read(SUMMARY_FILE)
            .contains("**Failed** after 1 attempts")
    );
    let never = Test::new()
        .actions()
        .status(1)
        .args([
            "--summary",
            "never",
            "--max-attempts",
            "1",
            "--command",
            "false",
        ])
        .run();
    assert_eq!(never.read(SUMMARY_FILE), "");
}

#[test]
fn the_summary_is_appended_after_what_the_step_wrote() {
    let test = Test::new().actions();
    fs::write(test.path().join(SUMMARY_FILE), "# Earlier step\n").unwrap();
    let out = test
        .args([
            "--command",
            "echo '## from the command' >> \"$GITHUB_STEP_SUMMARY\"",
        ])
        .run();
    let summary = out.read(SUMMARY_FILE);
    assert!(
        summary.starts_with("# Earlier step\n## from the command\n### ✅ recover:"),
        "{summary}"
    );
}

#[test]
fn report_file_holds_the_whole_run_and_its_failure_is_only_a_warning() {
    let out = Test::new()
        .file("flaky.sh", flaky(2, 4))
        .args([
            "--retry-wait-seconds",
            "0",
            "--report-file",
            "report.json",
            "--command",
            "bash flaky.sh",
        ])
        .run();
    let doc: serde_json::Value = serde_json::from_str(&out.read("report.json")).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["outcome"], "recovered");
    assert_eq!(doc["attempts"][0]["exit_code"], 4);
    assert_eq!(doc["attempts"][1]["exit_code"], 0);

    let unwritable = Test::new()
        .args([
            "--report-file",
            "no/such/dir/report.json",
            "--command",
            "true",
        ])
        .stderr_contains("recover: warning: cannot write report_file no/such/dir/report.json")
        .run();
    assert_eq!(unwritable.output("outcome"), "success");
}

#[test]
fn outside_actions_the_report_is_a_plain_table_on_stderr() {
    let out = Test::new()
        .env("NO_COLOR", "1")
        .file("flaky.sh", flaky(2, 4))
        .args(["--retry-wait-seconds", "0", "--command", "bash flaky.sh"])
        .run();
    assert!(
        out.stderr
            .contains("recover: recovered after 2 attempts in "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("  #  command  start"), "{}", out.stderr);
    assert!(!out.stderr.contains('\x1b'), "no colour off a terminal");
    assert!(
        !out.stdout.contains("recover:"),
        "stdout stays the command's own"
    );
}

#[test]
fn the_final_annotation_starts_with_nick_fields_retrys_words() {
    let out = Test::new()
        .actions()
        .status(1)
        .args(["--retry-wait-seconds", "0", "--command", "exit 1"])
        .run();
    assert!(
        out.stdout.contains(
            "\n::error::Final attempt failed. Child_process exited with error code 1 (unknown failure, after 3 attempts)\n"
        ),
        "{}",
        out.stdout
    );
    let forgiven = Test::new()
        .actions()
        .args(["--max-attempts", "2", "--retry-wait-seconds", "0"])
        .args(["--continue-on-error", "true", "--command", "exit 3"])
        .run();
    assert!(
        forgiven.stdout.contains(
            "\n::warning::Final attempt failed. Child_process exited with error code 3 (unknown failure, after 2 attempts)\n"
        ),
        "{}",
        forgiven.stdout
    );
}
