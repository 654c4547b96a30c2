//! Each attempt writes to runner files of its own: only the final attempt's reach the real
//! `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH` and `GITHUB_STEP_SUMMARY`, appended after what is there.

use crate::support::{Test, parse_outputs};

const WRITES: &str = r#"
n=$(( $(cat count 2>/dev/null || echo 0) + 1 ))
echo "$n" > count
echo "from_attempt=$n" >> "$GITHUB_OUTPUT"
echo "half_written<<EOF" >> "$GITHUB_OUTPUT"
echo "ATTEMPT_$n=yes" >> "$GITHUB_ENV"
echo "/attempt/$n/bin" >> "$GITHUB_PATH"
echo "summary of attempt $n" >> "$GITHUB_STEP_SUMMARY"
if [ "$n" -lt 3 ]; then exit 1; fi
echo "EOF" >> "$GITHUB_OUTPUT"
"#;

fn run(max_attempts: &str, status: i32) -> crate::support::Output {
    let test = Test::new()
        .file("github_output", "earlier=kept\n")
        .file("github_env", "EARLIER=kept\n")
        .file("github_path", "/earlier/bin\n")
        .file("summary.md", "# Earlier step\n");
    let dir = test.path().to_owned();
    test.args([
        "--max-attempts",
        max_attempts,
        "--retry-wait-seconds",
        "0",
        "--command",
        WRITES,
    ])
    .env("GITHUB_OUTPUT", dir.join("github_output"))
    .env("GITHUB_ENV", dir.join("github_env"))
    .env("GITHUB_PATH", dir.join("github_path"))
    .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
    .status(status)
    .run()
}

#[test]
fn only_the_final_attempts_writes_reach_the_real_files() {
    let out = run("3", 0);
    let outputs = parse_outputs(&out.read("github_output"));
    assert_eq!(outputs["earlier"], "kept");
    assert_eq!(outputs["from_attempt"], "3");
    assert_eq!(outputs["half_written"], "");
    assert_eq!(outputs["outcome"], "recovered");
    let output_text = out.read("github_output");
    assert!(
        output_text.starts_with("earlier=kept\nfrom_attempt=3\n"),
        "{output_text}"
    );
    assert!(!output_text.contains("from_attempt=1") && !output_text.contains("from_attempt=2"));
    assert_eq!(out.read("github_env"), "EARLIER=kept\nATTEMPT_3=yes\n");
    assert_eq!(out.read("github_path"), "/earlier/bin\n/attempt/3/bin\n");
    assert_eq!(
        out.read("summary.md"),
        "# Earlier step\nsummary of attempt 3\n"
    );
}

#[test]
fn a_failed_final_attempts_writes_still_reach_the_real_files() {
    // As in a plain `run:` step, the last attempt's files count whether it passed or not; the
    // earlier attempts' half-written block must not break the real file.
    let out = run("2", 1);
    assert_eq!(out.read("github_env"), "EARLIER=kept\nATTEMPT_2=yes\n");
    assert_eq!(
        out.read("summary.md"),
        "# Earlier step\nsummary of attempt 2\n"
    );
    assert!(!out.read("github_env").contains("ATTEMPT_1"));
}

#[test]
fn the_final_attempts_writes_survive_a_deadline_hit_between_attempts() {
    // on_retry_command uses up the rest of the deadline, so attempt 2 never starts: attempt 1
    // is the final attempt, and its writes must reach the real file.
    let out = Test::new()
        .args(["--total-timeout-seconds", "2", "--retry-wait-seconds", "0"])
        .args([
            "--kill-grace-seconds",
            "1",
            "--on-retry-command",
            "sleep 10",
        ])
        .args([
            "--command",
            "echo \"mine=$RECOVER_ATTEMPT\" >> \"$GITHUB_OUTPUT\"; exit 3",
        ])
        .status(3)
        .run();
    let outputs = parse_outputs(&out.read("github_output"));
    assert_eq!(outputs["total_attempts"], "1", "{}", out.describe());
    assert_eq!(
        outputs.get("mine").map(String::as_str),
        Some("1"),
        "{}",
        out.describe()
    );
}

#[test]
fn on_retry_commands_writes_are_committed_in_order_before_the_final_attempts() {
    let out = Test::new()
        .actions()
        .file("flaky.sh", WRITES)
        .env("GITHUB_ENV", "github_env")
        .args(["--retry-wait-seconds", "0", "--command", "bash flaky.sh"])
        .args([
            "--on-retry-command",
            "echo \"RETRIED_$RECOVER_ATTEMPT=true\" >> \"$GITHUB_ENV\"; echo \"hook_$RECOVER_ATTEMPT=yes\" >> \"$GITHUB_OUTPUT\"",
        ])
        .run();
    assert_eq!(
        out.read("github_env"),
        "RETRIED_2=true\nRETRIED_3=true\nATTEMPT_3=yes\n",
        "failed attempts' writes stay dropped"
    );
    let outputs = out.outputs();
    assert_eq!(outputs["hook_2"], "yes");
    assert_eq!(outputs["hook_3"], "yes");
    assert_eq!(outputs["from_attempt"], "3");
    let carried: serde_json::Value = serde_json::from_str(&outputs["command_outputs"]).unwrap();
    assert_eq!(
        carried,
        serde_json::json!({"hook_2": "yes", "hook_3": "yes", "from_attempt": "3", "half_written": ""})
    );
}

#[test]
fn outputs_the_command_sets_are_carried_in_command_outputs_with_one_notice() {
    let out = Test::new()
        .actions()
        .args([
            "--command",
            "echo version=1.2 >> \"$GITHUB_OUTPUT\"; printf 'notes<<EOF\\na\\nb\\nEOF\\n' >> \"$GITHUB_OUTPUT\"",
        ])
        .run();
    let carried: serde_json::Value = serde_json::from_str(&out.output("command_outputs")).unwrap();
    assert_eq!(
        carried,
        serde_json::json!({"version": "1.2", "notes": "a\nb"})
    );
    let notices: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("::notice::") && !l.starts_with("::notice::Step result: "))
        .collect();
    assert_eq!(notices.len(), 1, "{}", out.stdout);
    assert!(
        notices[0].contains("fromJSON(steps.<id>.outputs.command_outputs).notes"),
        "{}",
        notices[0]
    );
    let none = Test::new().actions().args(["--command", "true"]).run();
    assert_eq!(none.output("command_outputs"), "{}");
    assert!(
        !none.stdout.contains("::notice::The command set"),
        "{}",
        none.stdout
    );
}
