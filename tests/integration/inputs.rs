//! Bad inputs stop recover before anything runs: one `::error::` naming the input and what it
//! accepts, outputs `exit_code=2` and `exit_error`, exit status 2. Inputs come from flags or
//! from `INPUT_<NAME>` variables; flags win, empty values are absent, values are trimmed.

use crate::support::Test;

/// How a bad value is given.
#[derive(Clone, Copy, Debug)]
enum Via {
    Flag,
    Env,
}

/// (input, value, how it is given, the exact message).
const BAD: &[(&str, &str, Via, &str)] = &[
    (
        "shell",
        "zsh",
        Via::Flag,
        r#"input shell: "zsh" is not valid; expected bash, sh, pwsh, powershell, python, cmd, or a command template containing {0} such as "bash -l {0}""#,
    ),
    (
        "shell",
        "no-such-shell-here {0}",
        Via::Env,
        r#"input shell: "no-such-shell-here" was not found on PATH; install it or choose another shell"#,
    ),
    (
        "shell",
        r#"bash -l "{0}"#,
        Via::Flag,
        r#"input shell: "bash -l \"{0}" has an unclosed quote"#,
    ),
    (
        "max_attempts",
        "0",
        Via::Flag,
        r#"input max_attempts: "0" is not valid; expected a whole number of 1 or more"#,
    ),
    (
        "max_attempts",
        "-1",
        Via::Env,
        r#"input max_attempts: "-1" is not valid; expected a whole number of 1 or more"#,
    ),
    (
        "max_attempts",
        "abc",
        Via::Flag,
        r#"input max_attempts: "abc" is not valid; expected a whole number of 1 or more"#,
    ),
    (
        "max_attempts",
        "1.5",
        Via::Env,
        r#"input max_attempts: "1.5" is not valid; expected a whole number of 1 or more"#,
    ),
    (
        "timeout_seconds",
        "-3",
        Via::Flag,
        r#"input timeout_seconds: "-3" is not valid; expected a number greater than 0"#,
    ),
    (
        "timeout_seconds",
        "0",
        Via::Env,
        r#"input timeout_seconds: "0" is not valid; expected a number greater than 0"#,
    ),
    (
        "timeout_minutes",
        "soon",
        Via::Flag,
        r#"input timeout_minutes: "soon" is not valid; expected a number greater than 0"#,
    ),
    (
        "timeout_seconds",
        "nan",
        Via::Env,
        r#"input timeout_seconds: "nan" is not valid; expected a number greater than 0"#,
    ),
    (
        "retry_wait_seconds",
        "-1",
        Via::Flag,
        r#"input retry_wait_seconds: "-1" is not valid; expected a number of 0 or more"#,
    ),
    (
        "total_timeout_seconds",
        "abc",
        Via::Env,
        r#"input total_timeout_seconds: "abc" is not valid; expected a number greater than 0"#,
    ),
    (
        "kill_grace_seconds",
        "-1",
        Via::Flag,
        r#"input kill_grace_seconds: "-1" is not valid; expected a number of 0 or more"#,
    ),
    (
        "max_wait_seconds",
        "x",
        Via::Env,
        r#"input max_wait_seconds: "x" is not valid; expected a number of 0 or more"#,
    ),
    (
        "backoff",
        "quadratic",
        Via::Flag,
        r#"input backoff: "quadratic" is not valid; expected fixed, linear or exponential"#,
    ),
    (
        "jitter",
        "lots",
        Via::Env,
        r#"input jitter: "lots" is not valid; expected none, full, equal or decorrelated"#,
    ),
    (
        "backoff_factor",
        "0.5",
        Via::Flag,
        r#"input backoff_factor: "0.5" is not valid; expected a number of 1 or more"#,
    ),
    (
        "retry_on",
        "sometimes",
        Via::Env,
        r#"input retry_on: "sometimes" is not valid; expected any, error, timeout, classified, or a comma list of these and categories (network, rate_limit, resource, transient, timeout, permanent, unknown)"#,
    ),
    (
        "retry_on",
        "error, bogus",
        Via::Flag,
        r#"input retry_on: "bogus" is not valid; expected any, error, timeout, classified, or a comma list of these and categories (network, rate_limit, resource, transient, timeout, permanent, unknown)"#,
    ),
    (
        "unknown_retries",
        "once",
        Via::Env,
        r#"input unknown_retries: "once" is not valid; expected a whole number of 0 or more"#,
    ),
    (
        "retry_on_exit_code",
        "abc",
        Via::Env,
        r#"input retry_on_exit_code: "abc" is not valid; expected exit codes from 1 to 255, separated by commas (e.g. 1,75)"#,
    ),
    (
        "retry_on_exit_code",
        "1,0",
        Via::Flag,
        r#"input retry_on_exit_code: "0" is not valid; expected exit codes from 1 to 255, separated by commas (e.g. 1,75)"#,
    ),
    (
        "warning_on_retry",
        "yes",
        Via::Flag,
        r#"input warning_on_retry: "yes" is not valid; expected true or false"#,
    ),
    (
        "continue_on_error",
        "1",
        Via::Env,
        r#"input continue_on_error: "1" is not valid; expected true or false"#,
    ),
    (
        "timeout_seconds",
        "1e-10",
        Via::Flag,
        r#"input timeout_seconds: "1e-10" is not valid; expected a number greater than 0; the shortest is 0.001 seconds"#,
    ),
    (
        "total_timeout_seconds",
        "1e-9",
        Via::Env,
        r#"input total_timeout_seconds: "1e-9" is not valid; expected a number greater than 0; the shortest is 0.001 seconds"#,
    ),
    (
        "timeout_minutes",
        "1e-7",
        Via::Env,
        r#"input timeout_minutes: "1e-7" is not valid; expected a number greater than 0; the shortest is 0.001 seconds"#,
    ),
    (
        "retry_on_exit_code",
        "-1",
        Via::Flag,
        r#"input retry_on_exit_code: "-1" is not valid; expected exit codes from 1 to 255, separated by commas (e.g. 1,75)"#,
    ),
    (
        "retry_on_exit_code",
        "1, 256",
        Via::Env,
        r#"input retry_on_exit_code: "256" is not valid; expected exit codes from 1 to 255, separated by commas (e.g. 1,75)"#,
    ),
    (
        "max_hint_wait_seconds",
        "-5",
        Via::Flag,
        r#"input max_hint_wait_seconds: "-5" is not valid; expected a number of 0 or more"#,
    ),
    (
        "working_directory",
        "/no/such/directory",
        Via::Flag,
        r#"input working_directory: "/no/such/directory" is not a directory"#,
    ),
];

fn given(test: Test, input: &str, value: &str, via: Via) -> Test {
    match via {
        Via::Flag => test
            .arg(format!("--{}", input.replace('_', "-")))
            .arg(value),
        Via::Env => test.env(format!("INPUT_{}", input.to_ascii_uppercase()), value),
    }
}

/// Runs with the bad input, as on a runner, and checks the refusal; `test` holds the rest.
#[track_caller]
fn assert_refused(test: Test, message: &str) {
    let out = test
        .actions()
        .status(2)
        .stdout(&format!("::error::{message}\n"))
        .stderr("")
        .run();
    assert!(
        !out.join("marker").exists(),
        "the command ran despite {message:?}"
    );
    assert_eq!(out.output("exit_code"), "2");
    assert_eq!(out.output("exit_error"), message);
    assert!(
        !out.outputs().contains_key("total_attempts"),
        "{}",
        out.describe()
    );
}

#[test]
fn each_bad_input_is_refused_with_its_message_and_nothing_runs() {
    assert!(BAD.len() >= 15);
    for &(input, value, via, message) in BAD {
        let test = Test::new().env("INPUT_COMMAND", "touch marker");
        assert_refused(given(test, input, value, via), message);
    }
}

#[test]
fn an_input_that_is_not_utf8_is_refused_not_ignored() {
    use std::os::unix::ffi::OsStrExt as _;
    let value = std::ffi::OsStr::from_bytes(b"\xff5");
    assert_refused(
        Test::new()
            .env("INPUT_COMMAND", "touch marker")
            .env("INPUT_MAX_ATTEMPTS", value),
        "input max_attempts: is not valid UTF-8; give the value as UTF-8 text",
    );
}

#[test]
fn a_flag_that_is_not_utf8_is_refused_with_its_name() {
    use std::os::unix::ffi::OsStrExt as _;
    let value = std::ffi::OsStr::from_bytes(b"1\xfe");
    assert_refused(
        Test::new()
            .env("INPUT_COMMAND", "touch marker")
            .arg("--timeout-seconds")
            .arg(value),
        "input timeout_seconds: is not valid UTF-8; give the value as UTF-8 text",
    );
}

#[test]
fn a_token_on_the_command_line_is_refused_without_echoing_it() {
    let test = Test::new()
        .env("INPUT_COMMAND", "touch marker")
        .args(["--github-token", "ghp_SecretOnTheCommandLine"]);
    assert_refused(
        test,
        "input github_token: the token was given on the command line (--github-token), where every user of the machine sees it in `ps`; set it in the environment variable INPUT_GITHUB_TOKEN instead, or name the variable that holds it with --github-token-env NAME",
    );
}

#[test]
fn a_token_variable_that_is_not_set_is_refused() {
    let test = Test::new()
        .env("INPUT_COMMAND", "touch marker")
        .args(["--github-token-env", "MY_TOKEN"]);
    assert_refused(
        test,
        r#"input github_token: --github-token-env names "MY_TOKEN", which is not set, empty or not UTF-8; export the token in it, or leave the flag out to read INPUT_GITHUB_TOKEN"#,
    );
}

#[test]
fn both_timeouts_are_refused() {
    assert_refused(
        Test::new()
            .args(["--timeout-seconds", "5", "--command", "touch marker"])
            .env("INPUT_TIMEOUT_MINUTES", "1"),
        "input timeout_seconds: set timeout_minutes or timeout_seconds, not both",
    );
}

#[test]
fn a_missing_command_is_refused() {
    assert_refused(
        Test::new().env("INPUT_ON_RETRY_COMMAND", "touch marker"),
        "input command: required; give a script in command, or a program after --",
    );
}

#[test]
fn a_command_and_a_program_are_refused() {
    assert_refused(
        Test::new().args(["--command", "touch marker", "--", "touch", "marker"]),
        "input command: give a command or a program after --, not both",
    );
}

#[test]
fn every_bad_input_is_reported_at_once() {
    let out = Test::new()
        .actions()
        .args([
            "--max-attempts",
            "0",
            "--jitter",
            "lots",
            "--command",
            "touch marker",
        ])
        .status(2)
        .run();
    assert_eq!(
        out.stdout,
        "::error::input max_attempts: \"0\" is not valid; expected a whole number of 1 or more\n\
         ::error::input jitter: \"lots\" is not valid; expected none, full, equal or decorrelated\n"
    );
    assert!(!out.join("marker").exists());
    assert_eq!(out.output("exit_code"), "2");
}

#[test]
fn outside_actions_the_refusal_is_a_plain_line_on_stderr() {
    let out = Test::new()
        .args(["--max-attempts", "abc", "--command", "touch marker"])
        .status(2)
        .stdout("")
        .stderr("recover: error: input max_attempts: \"abc\" is not valid; expected a whole number of 1 or more\n")
        .run();
    assert!(!out.join("marker").exists());
}

#[test]
fn a_bad_value_cannot_forge_a_workflow_command() {
    let out = Test::new()
        .actions()
        .env("INPUT_JITTER", "x\n::error::forged")
        .args(["--command", "touch marker"])
        .status(2)
        .run();
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.describe());
    assert!(
        !out.stdout.contains("\n::error::forged"),
        "{}",
        out.describe()
    );
}

#[test]
fn inputs_come_from_the_environment() {
    let out = Test::new()
        .env("INPUT_COMMAND", "echo \"$RECOVER_MAX_ATTEMPTS\"; exit 1")
        .env("INPUT_MAX_ATTEMPTS", "2")
        .env("INPUT_RETRY_WAIT_SECONDS", "0")
        .status(1)
        .run();
    assert_eq!(out.stdout, "2\n2\n");
    assert_eq!(out.output("total_attempts"), "2");
}

#[test]
fn flags_win_over_the_environment() {
    let out = Test::new()
        .env("INPUT_MAX_ATTEMPTS", "5")
        .env("INPUT_COMMAND", "echo from env; exit 1")
        .args(["--max-attempts", "1", "--command", "echo from flag; exit 1"])
        .status(1)
        .run();
    assert_eq!(out.stdout, "from flag\n");
    assert_eq!(out.output("total_attempts"), "1");
}

#[test]
fn empty_values_count_as_absent() {
    // An empty max_attempts falls back to the default of 3, an empty shell to bash, and empty
    // booleans to their defaults; none of them is an error.
    let out = Test::new()
        .env("INPUT_MAX_ATTEMPTS", "")
        .env("INPUT_SHELL", "  ")
        .env("INPUT_CONTINUE_ON_ERROR", "")
        .env("INPUT_TIMEOUT_SECONDS", "")
        .env("INPUT_RETRY_WAIT_SECONDS", "0")
        .env("INPUT_COMMAND", "echo \"$RECOVER_ATTEMPT\"; exit 1")
        .status(1)
        .run();
    assert_eq!(out.stdout, "1\n2\n3\n");
}

#[test]
fn values_are_trimmed() {
    let out = Test::new()
        .env("INPUT_MAX_ATTEMPTS", " 2\n")
        .env("INPUT_RETRY_WAIT_SECONDS", "\t0 ")
        .env("INPUT_RETRY_ON", " error ")
        .env("INPUT_WARNING_ON_RETRY", " false ")
        .env("INPUT_SHELL", " sh ")
        .env("INPUT_COMMAND", "\n  echo \"$RECOVER_ATTEMPT\"; exit 1  \n")
        .actions()
        .status(1)
        .run();
    assert_eq!(out.output("total_attempts"), "2");
    assert!(
        !out.stdout.contains("::warning::Attempt"),
        "{}",
        out.describe()
    );
}

#[test]
fn huge_durations_mean_never_and_do_not_crash() {
    // Each of these once overflowed an `Instant` and panicked with exit 101.
    let out = Test::new()
        .args([
            "--timeout-seconds",
            "1e19",
            "--total-timeout-seconds",
            "1e300",
        ])
        .args(["--max-attempts", "1", "--command", "echo ok"])
        .stdout("ok\n")
        .run();
    assert_eq!(out.output("outcome"), "success");
    // A huge grace: the attempt times out, and its sleep goes at the TERM.
    Test::new()
        .args(["--timeout-seconds", "1", "--kill-grace-seconds", "1e19"])
        .args(["--max-attempts", "1", "--command", "sleep 10"])
        .status(1)
        .run();
}
