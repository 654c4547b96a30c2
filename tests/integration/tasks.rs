//! `recover task`: tasks of recover.yml run with the engine of `recover run`.

use crate::support::{Output, Test, flaky};

/// The table `recover task` ends with, one line per task.
fn tasks_table(out: &Output) -> &str {
    out.stderr
        .split("recover: tasks\n")
        .nth(1)
        .unwrap_or_default()
}

fn recover_yml() -> String {
    format!(
        "tasks:\n  lint:\n    description: Checks the style\n    command: echo lint ran >> log\n  flaky:\n    command: |\n{}    max_attempts: 3\n    retry_wait_seconds: 0\n  broken:\n    command: echo broken ran >> log; exit 7\n    max_attempts: 1\n  after:\n    command: echo after ran >> log\n  check: [lint, flaky]\n  all: [check, broken, after]\n",
        flaky(2, 1).lines().fold(String::new(), |mut out, line| {
            out.push_str("      ");
            out.push_str(line);
            out.push('\n');
            out
        })
    )
}

#[test]
fn a_composite_task_runs_its_tasks_in_order_with_retries() {
    let out = Test::new()
        .file("recover.yml", recover_yml())
        .args(["task", "check"])
        .run();
    assert_eq!(out.read("log"), "lint ran\n");
    assert_eq!(out.read("count").trim(), "2");
    assert!(out.stdout.contains("passed on run 2"), "{}", out.describe());
    let table = tasks_table(&out);
    assert!(
        table.contains("lint   success     1 attempt"),
        "{}",
        out.describe()
    );
    assert!(
        table.contains("flaky  recovered   2 attempts"),
        "{}",
        out.describe()
    );
}

#[test]
fn tasks_stop_at_the_first_failure_with_its_exit_code() {
    let out = Test::new()
        .file("recover.yml", recover_yml())
        .args(["task", "all"])
        .status(7)
        .run();
    assert_eq!(out.read("log"), "lint ran\nbroken ran\n");
    let table = tasks_table(&out);
    assert!(
        table.contains("broken  failure     1 attempt"),
        "{}",
        out.describe()
    );
    assert!(table.contains("after   not run"), "{}", out.describe());
}

#[test]
fn the_nearest_file_above_is_found_and_tasks_run_beside_it() {
    let test = Test::new()
        .file("recover.yml", recover_yml())
        .file("deep/down/here/.keep", "");
    let mut command = test.command();
    command.current_dir(test.path().join("deep/down/here"));
    command.args(["task", "lint"]);
    let status = command.status().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(test.path().join("log")).unwrap(),
        "lint ran\n"
    );
    assert!(!test.path().join("deep/down/here/log").exists());
}

#[test]
fn without_a_name_the_tasks_are_listed() {
    let out = Test::new()
        .file("recover.yml", recover_yml())
        .arg("task")
        .stdout_contains("  lint    Checks the style\n")
        .stdout_contains("  check   runs lint, flaky\n")
        .stdout_contains("  broken  echo broken ran >> log; exit 7\n")
        .run();
    assert!(!out.join("log").exists());
}

#[test]
fn a_bad_value_in_any_task_stops_everything_before_it_starts() {
    let yaml =
        recover_yml() + "  typo:\n    command: echo typo ran >> log\n    max_attempts: zero\n";
    let out = Test::new()
        .file("recover.yml", yaml)
        .args(["task", "lint"])
        .status(2)
        .stderr_contains("recover: error: input max_attempts: ")
        .stderr_contains("(task typo)")
        .run();
    assert!(!out.join("log").exists(), "a task ran: {}", out.describe());
    assert_eq!(out.output("exit_code"), "2");
}

#[test]
fn unknown_tasks_and_missing_files_are_bad_input() {
    let out = Test::new()
        .file("recover.yml", recover_yml())
        .args(["task", "lint", "nope"])
        .status(2)
        .stderr_contains("no task named \"nope\" in the file")
        .run();
    assert!(!out.join("log").exists(), "a task ran: {}", out.describe());
    Test::new()
        .args(["task", "--file", "missing.yml", "lint"])
        .status(2)
        .stderr_contains("missing.yml: ")
        .run();
}

#[test]
fn a_cancelled_task_runs_no_further_task() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use std::time::Duration;
    let yaml = "tasks:\n  slow:\n    command: touch started; sleep 30\n    max_attempts: 2\n    kill_grace_seconds: 1\n  next:\n    command: echo next ran >> log\n";
    let test = Test::new().file("recover.yml", yaml);
    let child = test
        .command()
        .args(["task", "slow", "next"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        crate::support::wait_for_file(&test.path().join("started"), Duration::from_secs(20)),
        "the first task never started"
    );
    kill(
        Pid::from_raw(i32::try_from(child.id()).unwrap()),
        Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert!(!test.path().join("log").exists(), "the next task ran");
    assert!(stderr.contains("slow  cancelled"), "{stderr}");
    assert!(stderr.contains("next  not run"), "{stderr}");
}

#[test]
fn without_a_task_file_recover_says_where_it_looked() {
    Test::new()
        .args(["task", "lint"])
        .status(2)
        .stderr(
            "recover: error: input file: no recover.yml in the current directory or above it; write one (see docs/tasks.md) or name it with --file\n",
        )
        .run();
}

/// The repository's own `recover.yml` is checked whole when it is listed, so a broken task file
/// fails here rather than on a newcomer's machine.
#[test]
fn the_repositorys_own_tasks_file_is_valid() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recover"))
        .args(["task", "--file", &format!("{root}/recover.yml")])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for task in ["fmt", "lint", "test", "cross", "bench", "check-all"] {
        assert!(stdout.contains(task), "{task} missing: {stdout}");
    }
}
