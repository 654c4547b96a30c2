//! State shared across steps: the circuit breaker and the retry budget, through real recover
//! processes sharing one `state_dir`.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tempfile::TempDir;

use crate::support::{Output, Test};

fn state_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("recover-state-")
        .tempdir()
        .expect("create a state directory")
}

/// A step on circuit `db` in `dir`: no waits, `threshold` and a cooldown of `cooldown` seconds.
fn step_with(dir: &Path, threshold: u32, cooldown: u32) -> Test {
    Test::new()
        .actions()
        .args(["--state-dir".as_ref(), dir.as_os_str()])
        .args(["--circuit", "db", "--retry-wait-seconds", "0"])
        .args(["--circuit-threshold", &threshold.to_string()])
        .args(["--circuit-cooldown-seconds", &cooldown.to_string()])
}

/// A step on circuit `db` whose cooldown (10 minutes) cannot end during a test, however slow
/// the machine.
fn step(dir: &Path, threshold: u32) -> Test {
    step_with(dir, threshold, 600)
}

/// A step on circuit `db` with a one-second cooldown, for the half-open tests.
fn quick(dir: &Path, threshold: u32) -> Test {
    step_with(dir, threshold, 1)
}

/// `recover state show --json` of `dir`.
fn show(dir: &Path) -> serde_json::Value {
    let out = Test::new()
        .args(["state", "show", "--json"])
        .args(["--state-dir".as_ref(), dir.as_os_str()])
        .run();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", out.describe()))
}

fn report(out: &Output) -> serde_json::Value {
    serde_json::from_str(&out.read("report.json")).expect("the JSON report")
}

/// Opens circuit `db` in `dir`: two failed attempts with a threshold of two.
fn open_the_circuit(dir: &Path) -> Output {
    open_with(step(dir, 2))
}

/// Opens circuit `db` for one second.
fn open_briefly(dir: &Path) -> Output {
    open_with(quick(dir, 2))
}

fn open_with(step: Test) -> Output {
    step.args(["--max-attempts", "5", "--report-file", "report.json"])
        .args(["--command", "echo attempt >> attempts; exit 7"])
        .status(7)
        .stdout_contains("Circuit db opened after 2 consecutive failures")
        .stdout_contains("Not retrying: circuit db is open.")
        .run()
}

#[test]
fn the_circuit_opens_at_the_threshold_and_stops_the_steps_retries() {
    let dir = state_dir();
    let out = open_the_circuit(dir.path());
    assert_eq!(
        out.read("attempts").lines().count(),
        2,
        "{}",
        out.describe()
    );
    assert_eq!(out.output("total_attempts"), "2");
    assert_eq!(out.output("circuit_state"), "open");
    assert!(
        out.output("exit_error")
            .ends_with("Circuit db is open, so no more retries"),
        "{}",
        out.describe()
    );
    let json = report(&out);
    assert_eq!(json["give_up"], "circuit_open");
    assert_eq!(json["state"]["circuit"]["state"], "open");
    assert_eq!(json["state"]["circuit"]["opened_by_this_step"], true);
    let shown = show(dir.path());
    assert_eq!(shown["circuits"]["db"]["state"], "open");
    assert_eq!(shown["circuits"]["db"]["consecutive_failures"], 2);
}

#[test]
fn an_open_circuit_skips_the_command_and_fails_at_once() {
    let dir = state_dir();
    open_the_circuit(dir.path());
    let out = step(dir.path(), 2)
        .args(["--command", "touch ran"])
        .status(1)
        .stdout_contains("skipping the command")
        .run();
    assert!(!out.join("ran").exists(), "the command ran");
    assert_eq!(out.output("total_attempts"), "0");
    assert_eq!(out.output("category"), "circuit_open");
    assert_eq!(out.output("circuit_state"), "open");
    let error = out.output("exit_error");
    assert!(
        error.starts_with("Circuit db is open since ")
            && error.contains(" until ")
            && error.ends_with("Z; no attempt ran"),
        "{error}"
    );
    assert!(
        out.stdout
            .contains("::error::circuit_open: Circuit db is open since")
    );
    let summary = out.read(crate::support::SUMMARY_FILE);
    assert!(
        summary.contains("**Skipped**: Circuit db is open since"),
        "{summary}"
    );
    assert!(summary.contains("**Circuit** `db`: open"), "{summary}");
}

#[test]
fn an_open_circuit_runs_the_fallback_instead() {
    let dir = state_dir();
    open_the_circuit(dir.path());
    let out = step(dir.path(), 2)
        .args(["--command", "touch ran"])
        .args(["--fallback-command", "touch fell-back"])
        .run();
    assert!(!out.join("ran").exists(), "the command ran");
    assert!(out.join("fell-back").exists(), "the fallback did not run");
    assert_eq!(out.output("outcome"), "fallback");
    assert_eq!(out.output("category"), "circuit_open");
}

#[test]
fn after_the_cooldown_a_passing_probe_closes_the_circuit() {
    let dir = state_dir();
    open_briefly(dir.path());
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(show(dir.path())["circuits"]["db"]["state"], "half_open");
    let out = quick(dir.path(), 2)
        .args(["--report-file", "report.json", "--command", "touch ran"])
        .stdout_contains("Circuit db is half-open: this step's first attempt is the probe.")
        .stdout_contains("Circuit db closed: the attempt passed.")
        .run();
    assert!(out.join("ran").exists());
    assert_eq!(out.output("circuit_state"), "closed");
    assert_eq!(report(&out)["state"]["circuit"]["probe"], true);
    let shown = show(dir.path());
    assert_eq!(shown["circuits"]["db"]["state"], "closed");
    assert_eq!(shown["circuits"]["db"]["consecutive_failures"], 0);
}

#[test]
fn after_the_cooldown_a_failing_probe_reopens_the_circuit_at_once() {
    let dir = state_dir();
    open_briefly(dir.path());
    std::thread::sleep(Duration::from_millis(1100));
    let out = quick(dir.path(), 2)
        .args([
            "--max-attempts",
            "5",
            "--command",
            "echo a >> attempts; exit 3",
        ])
        .status(3)
        .stdout_contains("Circuit db opened after 3 consecutive failures")
        .run();
    assert_eq!(
        out.read("attempts").lines().count(),
        1,
        "{}",
        out.describe()
    );
    assert_eq!(out.output("circuit_state"), "open");
}

#[test]
fn the_retry_budget_caps_retries_across_two_steps() {
    let dir = state_dir();
    let budget = |t: Test| {
        t.args(["--state-dir".as_ref(), dir.path().as_os_str()])
            .args(["--retry-budget", "3", "--retry-wait-seconds", "0"])
            .args(["--max-attempts", "5", "--report-file", "report.json"])
            .args(["--command", "echo a >> attempts; exit 4"])
            .status(4)
    };
    // The first step spends all three retries: four attempts.
    let first = budget(Test::new().actions())
        .stdout_contains("The retry budget ran out")
        .run();
    assert_eq!(
        first.read("attempts").lines().count(),
        4,
        "{}",
        first.describe()
    );
    assert_eq!(first.output("retry_budget_left"), "0");
    // The second has none left: its first failure is final.
    let second = budget(Test::new().actions())
        .stdout_contains("Not retrying: the retry budget is spent.")
        .run();
    assert_eq!(
        second.read("attempts").lines().count(),
        1,
        "{}",
        second.describe()
    );
    assert_eq!(second.output("retry_budget_left"), "0");
    assert!(
        second
            .output("exit_error")
            .ends_with("The retry budget ran out (all 3 retries are spent)")
    );
    let json = report(&second);
    assert_eq!(json["give_up"], "retry_budget_spent");
    assert_eq!(json["state"]["budget"]["ran_out"], true);
    let summary = second.read(crate::support::SUMMARY_FILE);
    assert!(
        summary.contains("**Retry budget**: 0 of 3 retries left; it ran out"),
        "{summary}"
    );
    assert_eq!(
        show(dir.path())["budget"],
        serde_json::json!({"limit": 3, "spent": 3})
    );
}

#[test]
fn twenty_concurrent_steps_lose_no_failure() {
    let dir = state_dir();
    let children: Vec<_> = (0..20)
        .map(|_| {
            let test = step(dir.path(), 1000).args(["--max-attempts", "5", "--command", "exit 1"]);
            let mut command = test.command();
            command.stdout(Stdio::null()).stderr(Stdio::null());
            (test, command.spawn().expect("start recover"))
        })
        .collect();
    for (_test, mut child) in children {
        assert_eq!(child.wait().expect("wait for recover").code(), Some(1));
    }
    let shown = show(dir.path());
    assert_eq!(shown["circuits"]["db"]["consecutive_failures"], 100);
    assert_eq!(shown["circuits"]["db"]["state"], "closed");
}

#[test]
fn state_reset_forgets_a_circuit() {
    let dir = state_dir();
    open_the_circuit(dir.path());
    let out = Test::new()
        .args([
            "state".as_ref(),
            "show".as_ref(),
            "--state-dir".as_ref(),
            dir.path().as_os_str(),
        ])
        .stdout_contains("circuit db: open (2 consecutive failures; open since ")
        .run();
    assert!(
        out.stdout.contains("no retry budget spent"),
        "{}",
        out.describe()
    );
    Test::new()
        .args(["state", "reset", "db"])
        .args(["--state-dir".as_ref(), dir.path().as_os_str()])
        .stdout("reset circuit db\n")
        .run();
    assert_eq!(show(dir.path())["circuits"], serde_json::json!({}));
    Test::new()
        .args(["state", "reset", "../x"])
        .status(2)
        .stderr_contains("circuit name \"../x\" is not valid; expected 1 to 100 letters, digits, `.`, `_` or `-`, not starting with `.`")
        .run();
}

#[test]
fn an_unwritable_state_dir_is_a_warning_and_the_step_runs_without_a_circuit() {
    let out = Test::new()
        .actions()
        .file("not-a-dir", "")
        .args(["--state-dir", "not-a-dir/state", "--circuit", "db"])
        .args(["--circuit-threshold", "1", "--retry-wait-seconds", "0"])
        .args([
            "--max-attempts",
            "3",
            "--command",
            "echo a >> attempts; exit 5",
        ])
        .status(5)
        .stdout_contains("cannot create the state directory not-a-dir/state")
        .stdout_contains("running without the circuit breaker and retry budget")
        .run();
    assert_eq!(
        out.read("attempts").lines().count(),
        3,
        "{}",
        out.describe()
    );
    assert_eq!(out.output("circuit_state"), "");
    assert_eq!(out.output("retry_budget_left"), "");
}

#[test]
fn a_corrupt_state_file_is_a_warning_and_a_fresh_circuit() {
    let dir = state_dir();
    std::fs::write(
        dir.path().join("circuit-db.json"),
        "{\"version\": 1, \"consecutive_fail",
    )
    .unwrap();
    let out = step(dir.path(), 2)
        .args(["--command", "touch ran"])
        .stdout_contains("is not valid JSON")
        .stdout_contains("starting from a fresh state")
        .run();
    assert!(out.join("ran").exists());
    assert_eq!(out.output("circuit_state"), "closed");
}

#[test]
fn without_circuit_or_budget_no_state_file_is_written() {
    let dir = state_dir();
    let state = dir.path().join("never");
    Test::new()
        .args(["--state-dir".as_ref(), state.as_os_str()])
        .args([
            "--max-attempts",
            "2",
            "--retry-wait-seconds",
            "0",
            "--command",
            "exit 1",
        ])
        .status(1)
        .run();
    assert!(!state.exists(), "state_dir was created");
}

#[test]
fn a_state_error_midway_drops_the_budget_from_the_outputs_as_the_warning_says() {
    // The circuit's lock cannot be opened (a directory stands in its place): the step runs
    // without state, so it must not report a retry budget it no longer keeps.
    let test = Test::new().actions().status(5);
    std::fs::create_dir_all(test.path().join("state/circuit-db.lock")).unwrap();
    let out = test
        .args([
            "--state-dir",
            "state",
            "--circuit",
            "db",
            "--retry-budget",
            "10",
        ])
        .args([
            "--max-attempts",
            "2",
            "--retry-wait-seconds",
            "0",
            "--command",
            "exit 5",
        ])
        .stdout_contains("running without the circuit breaker and retry budget")
        .run();
    assert_eq!(out.output("circuit_state"), "", "{}", out.describe());
    assert_eq!(out.output("retry_budget_left"), "", "{}", out.describe());
    assert!(
        !out.read(crate::support::SUMMARY_FILE)
            .contains("Retry budget"),
        "the summary shows no budget either"
    );
}
