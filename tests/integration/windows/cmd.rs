//! cmd scripts as a `shell: cmd` step runs them, their retries and their exit codes, and
//! programs started by name.

use super::cmd;
use crate::support::Test;

#[test]
fn a_cmd_script_sees_recover_attempt_and_is_retried_until_it_passes() {
    let out = cmd(
        ">>attempts.txt echo attempt %RECOVER_ATTEMPT%\r\nif %RECOVER_ATTEMPT% LSS 3 exit 7\r\necho passed on attempt %RECOVER_ATTEMPT%\r\n",
    )
    .args(["--max-attempts", "3"])
    .stdout("passed on attempt 3\r\n")
    .run();
    assert_eq!(
        out.read("attempts.txt"),
        "attempt 1\r\nattempt 2\r\nattempt 3\r\n",
        "{}",
        out.describe()
    );
    assert_eq!(out.output("outcome"), "recovered");
    assert_eq!(out.output("total_attempts"), "3");
    assert!(
        out.stderr.contains("Attempt 1 failed: exit code 7"),
        "{}",
        out.describe()
    );
}

#[test]
fn cmd_does_not_echo_the_script_s_commands() {
    // The runner starts every cmd script with `@echo off`; without it each command is echoed,
    // prompt and all, into the log and into what the rules classify.
    cmd("echo hello\r\nver >nul\r\n").stdout("hello\r\n").run();
}

#[test]
fn a_failing_cmd_script_ends_with_its_exit_code() {
    let out = cmd("exit 5").args(["--max-attempts", "2"]).status(5).run();
    assert_eq!(out.output("exit_code"), "5");
    assert_eq!(out.output("total_attempts"), "2");
    assert!(
        out.output("exit_error")
            .contains("Child_process exited with error code 5"),
        "{}",
        out.describe()
    );
}

#[test]
#[ignore = "Wine's cmd ends `cmd /C \"CALL script\"` with 1 whatever `exit /b N` says; Windows keeps N"]
fn exit_b_in_a_cmd_script_sets_the_exit_code() {
    cmd("exit /b 3")
        .args(["--max-attempts", "1"])
        .status(3)
        .run();
}

/// 0xC0000005 (`STATUS_ACCESS_VIOLATION`), as a crashed program ends.
const ACCESS_VIOLATION: i32 = 0xC000_0005_u32.cast_signed();

#[test]
fn an_ntstatus_exit_code_is_reported_whole_and_passed_on() {
    let out = cmd("exit -1073741819")
        .args(["--max-attempts", "1"])
        .status(ACCESS_VIOLATION)
        .run();
    assert_eq!(out.output("exit_code"), "-1073741819");
    assert!(
        out.stderr
            .contains("Attempt 1 failed: exit code -1073741819 (0xC0000005)"),
        "{}",
        out.describe()
    );
}

#[test]
fn retry_on_exit_code_names_an_ntstatus_in_any_of_its_forms() {
    // Hexadecimal as Windows documents it, unsigned as Node (nick-fields/retry) reports it,
    // signed as the runner and PowerShell print it.
    for form in ["0xC0000005", "3221225477", "-1073741819"] {
        let out = cmd("if %RECOVER_ATTEMPT% LSS 2 exit -1073741819\r\necho passed\r\n")
            .args(["--max-attempts", "2", "--retry-on-exit-code", form])
            .stdout("passed\r\n")
            .run();
        assert_eq!(out.output("total_attempts"), "2", "{form}");
    }
    // Another code is not retried.
    cmd("exit -1073741819")
        .args(["--max-attempts", "2", "--retry-on-exit-code", "0xC00000FD"])
        .status(ACCESS_VIOLATION)
        .stderr_contains("is not in retry_on_exit_code")
        .run();
}

#[test]
fn a_program_given_by_name_may_be_a_batch_file_on_path() {
    // npm, npx, yarn and gradlew are .cmd or .bat files on Windows runners.
    let test = Test::new().file(
        r"tools\flaky-tool.cmd",
        "@echo off\r\n>>runs.txt echo %*\r\nif %RECOVER_ATTEMPT% LSS 2 exit 4\r\necho tool passed\r\n",
    );
    let tools = test.path().join("tools");
    let path = std::env::join_paths(
        std::iter::once(tools).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = test
        .env("PATH", path)
        .args(["--max-attempts", "2", "--retry-wait-seconds", "0", "--"])
        .args(["flaky-tool", "install", "--registry", "a b"])
        .stdout("tool passed\r\n")
        .run();
    assert_eq!(
        out.read("runs.txt"),
        "install --registry \"a b\"\r\ninstall --registry \"a b\"\r\n"
    );
    assert_eq!(out.output("total_attempts"), "2");
}

#[test]
fn a_program_is_started_directly_with_its_arguments() {
    let out = Test::new()
        .args(["--max-attempts", "1", "--", "cmd", "/d", "/c", "exit 3"])
        .status(3)
        .run();
    assert_eq!(out.output("exit_code"), "3");
}

#[test]
fn a_shell_template_may_name_its_program_by_a_windows_path() {
    // The runner takes the template's first word as the program, backslashes and all, and
    // passes the rest as written.
    let comspec = std::env::var("ComSpec").expect("ComSpec");
    assert!(comspec.contains('\\'), "{comspec}");
    Test::new()
        .args(["--max-attempts", "1", "--shell"])
        .arg(format!("{comspec} /d /c type {{0}}"))
        .args(["--command", "hello from the template"])
        .stdout("hello from the template")
        .run();
}
