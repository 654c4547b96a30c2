//! recover's own lines in the log: each starts at a line start whatever the command's output
//! ended with, none is silenced by a command's `::stop-commands::`, and none is lost when
//! recover's stdout is a full non-blocking pipe.

use std::process::Stdio;
use std::time::Duration;

use crate::support::Test;

/// The lines of `text` that are workflow commands recover wrote.
fn own_commands(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            [
                "::group::",
                "::endgroup::",
                "::error::",
                "::warning::",
                "::notice::",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .collect()
}

#[test]
fn recovers_lines_start_at_a_line_start_after_an_unterminated_last_line() {
    let out = Test::new()
        .actions()
        .status(4)
        .args(["--max-attempts", "2", "--retry-wait-seconds", "0"])
        .args(["--command", "printf '::add-mask::'; exit 4"])
        .run();
    assert_eq!(
        out.stdout.matches("::add-mask::\n::endgroup::\n").count(),
        2,
        "{}",
        out.stdout
    );
    // Three per attempt, the final error and the step's result notice.
    let own = own_commands(&out.stdout);
    assert_eq!(own.len(), 7, "{}", out.stdout);
    assert!(
        own[6].starts_with("::notice::Step result: "),
        "{}",
        out.stdout
    );
    let plain = Test::new()
        .status(4)
        .args([
            "--max-attempts",
            "1",
            "--command",
            "printf 'half a line' >&2; exit 4",
        ])
        .run();
    assert!(
        plain.stderr.starts_with("recover: attempt 1 of 1: "),
        "{}",
        plain.stderr
    );
    assert!(
        plain
            .stderr
            .contains("half a line\nrecover: Attempt 1 failed"),
        "{}",
        plain.stderr
    );
}

#[test]
fn a_command_that_stops_workflow_commands_cannot_silence_recover() {
    for (command, stop) in [
        (
            "echo '::stop-commands::tok42'; exit 4",
            "::tok42::\n::endgroup::",
        ),
        (
            "printf '::stop-commands::tok42'; exit 4",
            "::stop-commands::tok42\n::tok42::\n::endgroup::",
        ),
    ] {
        let out = Test::new()
            .actions()
            .status(4)
            .args(["--max-attempts", "1", "--command", command])
            .run();
        assert!(out.stdout.contains(stop), "{command}\n{}", out.stdout);
        assert_eq!(out.stdout.matches("::tok42::").count(), 1, "{}", out.stdout);
        // The final error comes after the resume, so the runner reads it.
        let resumed = out.stdout.find("::tok42::").unwrap();
        let error = out.stdout.find("::error::Final attempt failed.").unwrap();
        assert!(resumed < error, "{}", out.stdout);
    }
    // The runner reads commands from stderr too.
    let out = Test::new()
        .actions()
        .status(4)
        .args([
            "--max-attempts",
            "1",
            "--command",
            "echo '::stop-commands::e7' >&2; exit 4",
        ])
        .run();
    let resumed = out.stdout.find("::e7::\n").expect("resumed on stdout");
    let error = out.stdout.find("::error::Final attempt failed.").unwrap();
    assert!(resumed < error, "{}", out.stdout);
    // A command that resumes them itself gets no second resume.
    let out = Test::new()
        .actions()
        .args([
            "--command",
            "echo '::stop-commands::t1'; echo quiet; echo '::t1::'",
        ])
        .run();
    // The step's result notice quotes the command; only a line of its own is a resume.
    let own_resumes = out.stdout.lines().filter(|l| *l == "::t1::").count();
    assert_eq!(own_resumes, 1, "{}", out.stdout);
}

#[test]
fn no_line_is_lost_on_a_full_non_blocking_stdout() {
    // One page: "::group::Attempt 1\n" and the command's 4077 bytes fill it exactly, so every
    // line recover writes after the attempt meets a full pipe until the reader wakes.
    let (read, write) = crate::support::small_non_blocking_pipe();
    let test = Test::new().actions().args(["--max-attempts", "1"]).args([
        "--command",
        "head -c 4076 /dev/zero | tr '\\0' 'a'; echo; exit 4",
    ]);
    let mut command = test.command();
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(write))
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    drop(command);
    let reader = crate::support::slow_reader(read, Duration::from_millis(700));
    let status = child.wait().unwrap();
    let stdout = String::from_utf8(reader.join().unwrap()).unwrap();
    assert_eq!(status.code(), Some(4));
    let stdout = stdout.replace(&"a".repeat(4076), "<4076 a>");
    assert!(
        stdout.starts_with("::group::Attempt 1\n<4076 a>\n::endgroup::\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nAttempt 1 failed: exit code 4"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n::error::Final attempt failed. Child_process exited with error code 4"),
        "{stdout}"
    );
}

#[test]
fn the_fallbacks_group_title_reaches_the_log_as_written() {
    // The runner unescapes a command's data: an unescaped `%25` would show as `%`.
    let out = Test::new()
        .actions()
        .args(["--max-attempts", "1", "--command", "exit 1"])
        .args(["--fallback-command", "echo 'a%25b%0Ac'"])
        .run();
    assert!(
        out.stdout
            .contains("::group::Fallback: echo 'a%2525b%250Ac'\n"),
        "{}",
        out.stdout
    );
}
