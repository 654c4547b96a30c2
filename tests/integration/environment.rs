//! What an attempt runs with: its environment, the hooks between attempts, stdin, the shells,
//! the working directory and argv mode.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::support::Test;

#[test]
fn attempts_see_their_number_and_the_previous_exit_code() {
    let script = r#"echo "$RECOVER_ATTEMPT/$RECOVER_MAX_ATTEMPTS prev=${RECOVER_PREVIOUS_EXIT_CODE-unset}"; exit $((RECOVER_ATTEMPT + 10))"#;
    let out = Test::new()
        .env("RECOVER_PREVIOUS_EXIT_CODE", "99")
        .args([
            "--max-attempts",
            "3",
            "--retry-wait-seconds",
            "0",
            "--command",
            script,
        ])
        .status(13)
        .run();
    assert_eq!(out.stdout, "1/3 prev=unset\n2/3 prev=11\n3/3 prev=12\n");
}

#[test]
fn recovers_own_inputs_and_the_token_never_reach_the_command() {
    let out = Test::new()
        .env("INPUT_MAX_ATTEMPTS", "1")
        .env("INPUT_COMMAND", "env | grep '^INPUT_' | sort")
        .env("INPUT_GITHUB_TOKEN", "ghs_secret")
        .env("INPUT_RETRY_WAIT_SECONDS", "0")
        .env("INPUT_SOMETHING_ELSE", "kept")
        .run();
    assert_eq!(out.stdout, "INPUT_SOMETHING_ELSE=kept\n");
}

#[test]
fn on_retry_command_runs_before_each_retry_only() {
    let out = Test::new()
        .args(["--max-attempts", "3", "--retry-wait-seconds", "0"])
        .args([
            "--command",
            r#"echo "attempt $RECOVER_ATTEMPT" >> log; exit 1"#,
        ])
        .args([
            "--on-retry-command",
            r#"echo "hook before $RECOVER_ATTEMPT" >> log"#,
        ])
        .status(1)
        .run();
    assert_eq!(
        out.read("log"),
        "attempt 1\nhook before 2\nattempt 2\nhook before 3\nattempt 3\n"
    );
}

#[test]
fn on_retry_command_is_not_run_when_the_first_attempt_passes() {
    let out = Test::new()
        .args(["--retry-wait-seconds", "0", "--command", "echo ok >> log"])
        .args(["--on-retry-command", "echo hook >> log"])
        .run();
    assert_eq!(out.read("log"), "ok\n");
}

#[test]
fn on_retry_command_uses_the_steps_shell_and_its_failure_is_ignored() {
    // With bash -e the hook would stop at `false`; with sh it stops too, but `shopt` exists
    // only in bash: the hook records which shell ran it, then fails.
    let out = Test::new()
        .args(["--max-attempts", "2", "--retry-wait-seconds", "0"])
        .args(["--shell", "sh", "--command", &crate::support::flaky(2, 1)])
        .args([
            "--on-retry-command",
            "if [ -n \"${BASH_VERSION-}\" ]; then echo bash > hook; else echo sh > hook; fi; exit 7",
        ])
        .run();
    assert_eq!(out.read("hook"), "sh\n");
    assert_eq!(out.output("outcome"), "recovered");
}

#[test]
fn new_command_on_retry_replaces_the_command_from_attempt_2() {
    let out = Test::new()
        .args(["--max-attempts", "3", "--retry-wait-seconds", "0"])
        .args(["--command", "echo first; exit 1"])
        .args([
            "--new-command-on-retry",
            "echo retry $RECOVER_ATTEMPT; exit 1",
        ])
        .status(1)
        .run();
    assert_eq!(out.stdout, "first\nretry 2\nretry 3\n");
}

#[test]
fn stdin_is_dev_null() {
    // recover's own stdin is an open pipe that never closes; the command must not see it.
    let test = Test::new().args(["--max-attempts", "1", "--command", "cat; echo done"]);
    let mut child = test
        .command()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take();
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("cat waited on stdin");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"done\n");
}

#[test]
fn recovers_stdin_is_not_passed_on() {
    Test::new()
        .stdin("secret input\n")
        .args(["--max-attempts", "1", "--command", "cat; echo done"])
        .stdout("done\n")
        .run();
}

#[test]
fn bash_runs_with_errexit() {
    let out = Test::new()
        .args([
            "--max-attempts",
            "1",
            "--command",
            "false\necho still running",
        ])
        .status(1)
        .run();
    assert_eq!(out.stdout, "");
}

#[test]
fn bash_runs_with_pipefail() {
    Test::new()
        .args(["--max-attempts", "1", "--command", "false | true"])
        .status(1)
        .run();
}

#[test]
fn shell_sh_runs_with_errexit() {
    let out = Test::new()
        .args(["--max-attempts", "1", "--shell", "sh"])
        .args([
            "--command",
            "[ -z \"${BASH_VERSION-}\" ] && echo not bash\nfalse\necho still running",
        ])
        .status(1)
        .run();
    assert_eq!(out.stdout, "not bash\n");
}

#[test]
fn shell_python() {
    if which("python").is_none() {
        eprintln!("skipped: no `python` on PATH");
        return;
    }
    let out = Test::new()
        .args(["--max-attempts", "1", "--shell", "python"])
        .args([
            "--command",
            "import sys\nprint('from python', sys.argv[0].endswith('.py'))\nsys.exit(4)",
        ])
        .status(4)
        .run();
    assert_eq!(out.stdout, "from python True\n");
}

#[test]
fn a_custom_shell_template() {
    let out = Test::new()
        .args(["--max-attempts", "1", "--shell", "bash -l {0}"])
        .args([
            "--command",
            "shopt -q login_shell && echo login\nfalse\necho no errexit",
        ])
        .run();
    assert_eq!(out.stdout, "login\nno errexit\n");
}

#[test]
fn working_directory() {
    let test = Test::new().file("sub dir/here.txt", "x");
    let out = test
        .args(["--max-attempts", "1", "--working-directory", "sub dir"])
        .args(["--command", "ls; pwd > where"])
        .stdout("here.txt\n")
        .run();
    assert!(out.read("sub dir/where").trim_end().ends_with("/sub dir"));
}

#[test]
fn argv_mode_runs_a_program_without_a_shell() {
    let out = Test::new()
        .args(["--max-attempts", "2", "--retry-wait-seconds", "0"])
        .args(["--", "sh", "-c", "echo \"$0 $1\"; exit 3", "one", "$HOME"])
        .status(3)
        .run();
    assert_eq!(out.stdout, "one $HOME\none $HOME\n");
    assert_eq!(out.output("exit_code"), "3");
}

#[test]
fn a_program_found_on_the_path_keeps_its_name_as_argv0() {
    let out = Test::new()
        .args(["--max-attempts", "1", "--", "bash", "-c", "echo \"$0\""])
        .run();
    assert_eq!(out.stdout, "bash\n");
}

#[test]
fn the_commands_own_path_is_searched() {
    let test = Test::new().file("bin/tool", "#!/bin/sh\necho from tool\n");
    let bin = test.path().join("bin");
    std::fs::set_permissions(bin.join("tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    test.env("PATH", path)
        .args(["--max-attempts", "1", "--", "tool"])
        .stdout("from tool\n")
        .run();
}

#[test]
fn the_work_directory_is_made_only_when_needed_and_always_removed() {
    let test = Test::new().file("tmp/.keep", "");
    let tmp = test.path().join("tmp");
    // A bare program outside Actions writes no script and no runner files.
    let out = test
        .env("TMPDIR", &tmp)
        .env("GITHUB_OUTPUT", "")
        .args(["--max-attempts", "1", "--", "sh", "-c", "ls -A \"$TMPDIR\""])
        .run();
    assert_eq!(out.stdout, ".keep\n");
    // A script needs it while it runs; it is gone afterwards.
    let test = Test::new().file("tmp/.keep", "");
    let tmp = test.path().join("tmp");
    let out = test
        .env("TMPDIR", &tmp)
        .args([
            "--max-attempts",
            "1",
            "--command",
            "ls -A \"$TMPDIR\" | grep -c '^recover-'",
        ])
        .run();
    assert_eq!(out.stdout, "1\n");
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        1,
        "only .keep is left"
    );
}

#[test]
fn run_subcommand_is_the_same_as_the_default() {
    Test::new()
        .args(["run", "--max-attempts", "1", "--", "sh", "-c", "exit 3"])
        .status(3)
        .run();
}

#[test]
fn a_missing_program_fails_with_127() {
    let out = Test::new()
        .args(["--max-attempts", "1", "--", "./no-such-program"])
        .status(127)
        .run();
    assert_eq!(out.output("exit_code"), "127");
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}
