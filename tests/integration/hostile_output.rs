//! Hostile and unlucky output and processes: whatever a command prints and however its processes
//! behave, the step's result is the command's, every byte it printed is passed on unchanged, the
//! step ends on time and the runner's files still parse.
//!
//! recover runs outside Actions here unless a case needs the workflow commands, so that its
//! stdout carries only the command's bytes and can be compared whole.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::support::{Output, Test, alive, noise, read_pid, sha256, wait_for_file};

/// The checks every case makes: recover's exit code, the step's outcome, the command's stdout
/// byte for byte, and a `GITHUB_OUTPUT` that parses (the parser panics on a broken file) and
/// holds the outputs recover always writes.
#[track_caller]
fn check(out: &Output, code: i32, outcome: &str, stdout: &[u8]) {
    assert_eq!(out.code, Some(code), "exit status\n{}", short(out));
    assert!(
        out.stdout_bytes.len() == stdout.len() && sha256(&out.stdout_bytes) == sha256(stdout),
        "stdout changed: {} bytes, {} expected\n{}",
        out.stdout_bytes.len(),
        stdout.len(),
        short(out)
    );
    let outputs = out.outputs();
    assert_eq!(outputs.get("outcome").map(String::as_str), Some(outcome));
    for name in ["exit_code", "total_attempts", "duration_seconds"] {
        assert!(
            outputs.contains_key(name),
            "no output {name}\n{}",
            short(out)
        );
    }
    let attempts: serde_json::Value =
        serde_json::from_str(&outputs["attempts_json"]).expect("attempts_json is JSON");
    assert!(attempts.is_array());
}

/// A failure message that does not print megabytes.
fn short(out: &Output) -> String {
    let cut = |s: &str| s.chars().take(2000).collect::<String>();
    format!(
        "status {:?} after {:?}\n--- stderr\n{}\n--- outputs\n{}",
        out.code,
        out.elapsed,
        cut(&out.stderr),
        cut(&out.read(crate::support::OUTPUT_FILE))
    )
}

#[track_caller]
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// Stops a process that left the attempt's group (its own group, as `setsid` makes it).
fn kill_escaped(pid: i32) {
    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
}

/// Whether a live (not zombie) process is in group `pgid`.
fn group_alive(pgid: i32) -> bool {
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .any(|pid| {
            let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.get(2) == Some(&pgid.to_string().as_str()) && alive(pid)
        })
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

// --- Output -------------------------------------------------------------------------------

#[test]
fn eight_mb_of_binary_output_pass_whole_and_the_command_succeeds() {
    // The issue's reproduction: the matcher panicked in the lazy DFA, the pipe closed, `cat`
    // died of SIGPIPE (exit 141) after about 5.7 MB.
    let blob = noise(8_000_000, 1);
    let out = Test::new()
        .file("blob", &blob)
        .args(["--max-attempts", "1", "--", "cat", "blob"])
        .run();
    check(&out, 0, "success", &blob);
}

#[test]
fn sixteen_mib_of_random_bytes_and_a_failure_are_classified_by_the_exit() {
    let blob = noise(16 << 20, 2);
    let out = Test::new()
        .file("blob", &blob)
        .args(["--max-attempts", "1", "--command", "cat blob; exit 5"])
        .status(5)
        .run();
    check(&out, 5, "failure", &blob);
    assert!(!out.stderr.contains("panicked"), "{}", short(&out));
}

#[test]
fn a_16_mb_line_with_no_newline_passes_whole() {
    let out = Test::new()
        .args(["--max-attempts", "1", "--command"])
        .arg("head -c 16000000 /dev/zero | tr '\\0' x")
        .run();
    check(&out, 0, "success", &vec![b'x'; 16_000_000]);
}

#[test]
fn nul_bytes_do_not_hide_a_classified_line() {
    let mut blob = vec![0u8; 3_000_000];
    blob.extend_from_slice(
        b"\ncurl: (7) Failed to connect to 127.0.0.1 port 9: Connection refused\n",
    );
    blob.extend_from_slice(&[0u8; 1000]);
    let out = Test::new()
        .file("blob", &blob)
        .args(["--max-attempts", "1", "--command", "cat blob; exit 7"])
        .status(7)
        .run();
    check(&out, 7, "failure", &blob);
    assert_eq!(out.output("category"), "network", "{}", short(&out));
}

#[test]
fn carriage_returns_without_line_feeds_pass_unchanged_and_still_classify() {
    // A progress bar: 200,000 updates separated by CR only, then the error, also CR-ended.
    let mut blob = Vec::new();
    for i in 0..200_000 {
        blob.extend_from_slice(format!("\r{i:>6} / 200000 [=====>    ]").as_bytes());
    }
    blob.extend_from_slice(b"\rconnection reset by peer\r");
    let out = Test::new()
        .file("blob", &blob)
        .args(["--max-attempts", "1", "--command", "cat blob >&1; exit 1"])
        .status(1)
        .run();
    check(&out, 1, "failure", &blob);
}

#[test]
fn workflow_command_lookalikes_cannot_forge_the_result() {
    // In Actions, so the workflow commands are live: the command's own lines pass through
    // unchanged, and recover's outputs say what happened, not what the command claimed.
    let lines = "::set-output name=outcome::success\n::error::fake\n::add-mask::\n\
                 ::endgroup::\n::group::fake\n::warning file=x,line=1::w\n%0A%25::x::\n";
    let out = Test::new()
        .actions()
        .file("lines", lines)
        .args(["--max-attempts", "1", "--command", "cat lines; exit 3"])
        .status(3)
        .run();
    assert!(
        contains(&out.stdout_bytes, lines.as_bytes()),
        "{}",
        short(&out)
    );
    let outputs = out.outputs();
    assert_eq!(outputs["outcome"], "failure");
    assert_eq!(outputs["exit_code"], "3");
    assert!(out.stdout.contains("::error"), "recover's own annotation");
}

#[test]
fn ansi_escapes_and_terminal_controls_pass_unchanged() {
    let mut blob = Vec::new();
    for i in 0..20_000 {
        blob.extend_from_slice(
            format!(
                "\x1b[1;3{}mline {i}\x1b[0m \x1b]8;;https://x.invalid/{i}\x07link\x1b]8;;\x07\
                 \x1b[2K\x1b[1G\x1b]0;title\x07\x1bc\x08\x7f\n",
                i % 8
            )
            .as_bytes(),
        );
    }
    blob.extend_from_slice(b"\x1b[31merror:\x1b[0m connection refused\n");
    let out = Test::new()
        .file("blob", &blob)
        .args(["--max-attempts", "1", "--command", "cat blob; exit 2"])
        .status(2)
        .run();
    check(&out, 2, "failure", &blob);
}

#[test]
fn unterminated_last_lines_on_both_streams_pass_unchanged() {
    let out = Test::new()
        .args(["--max-attempts", "1", "--command"])
        .arg("printf 'out without newline'; printf 'err without newline' >&2; exit 4")
        .status(4)
        .run();
    check(&out, 4, "failure", b"out without newline");
    assert!(out.stderr.contains("err without newline"));
}

#[test]
fn a_child_that_closes_its_stdout_early_is_not_disturbed() {
    let out = Test::new()
        .args(["--max-attempts", "1", "--command"])
        .arg("printf early; exec 1>&-; sleep 0.3; echo still here >&2; exit 0")
        .run();
    check(&out, 0, "success", b"early");
    assert!(out.stderr.contains("still here"));
}

#[test]
fn a_stderr_flood_passes_whole_next_to_a_quiet_stdout() {
    let mut flood = Vec::new();
    let mut i = 0u64;
    while flood.len() < 12_000_000 {
        flood.extend_from_slice(format!("WARN {i} retrying request to registry\n").as_bytes());
        i += 1;
    }
    let out = Test::new()
        .file("flood", &flood)
        .args([
            "--max-attempts",
            "1",
            "--command",
            "cat flood >&2; echo done",
        ])
        .run();
    check(&out, 0, "success", b"done\n");
    assert!(contains(&out.stderr_bytes, &flood), "stderr lost bytes");
}

#[test]
fn both_streams_flooded_at_once_lose_nothing() {
    let a = noise(1_000_000, 3);
    let b = noise(1_000_000, 4);
    let out = Test::new()
        .file("a", &a)
        .file("b", &b)
        .args([
            "--max-attempts",
            "1",
            "--command",
            "cat b >&2 & cat a; wait",
        ])
        .run();
    check(&out, 0, "success", &a);
    assert!(contains(&out.stderr_bytes, &b), "stderr lost bytes");
}

#[test]
fn a_closed_downstream_does_not_kill_the_command_or_recover() {
    // recover's stdout is a pipe whose reader goes away after 100 bytes: recover must not die
    // of SIGPIPE, and the command must not either (recover keeps reading its pipe).
    let test = Test::new().args([
        "--max-attempts",
        "1",
        "--command",
        "head -c 20000000 /dev/zero; echo finished >&2",
    ]);
    let dir = test.path().to_owned();
    let mut recover = test.command();
    let mut child = recover
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [1u8; 100];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(first, [0u8; 100]);
    assert!(
        stderr.contains("finished"),
        "the command was cut short: {stderr}"
    );
    assert!(stderr.contains("cannot pass on the output"), "{stderr}");
    let outputs =
        crate::support::parse_outputs(&fs::read_to_string(dir.join("github_output")).unwrap());
    assert_eq!(outputs["outcome"], "success");
}

#[test]
fn a_full_disk_downstream_does_not_disturb_the_command() {
    // recover's stdout is /dev/full: every write fails with ENOSPC. The command still runs to
    // its end, and recover says once that the output could not be passed on.
    let test = Test::new().args([
        "--max-attempts",
        "1",
        "--command",
        "head -c 5000000 /dev/zero; echo finished >&2",
    ]);
    let dir = test.path().to_owned();
    let output = test
        .command()
        .stdin(Stdio::null())
        .stdout(
            fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("finished"), "{stderr}");
    assert_eq!(
        stderr.matches("cannot pass on the output").count(),
        1,
        "{stderr}"
    );
    let outputs =
        crate::support::parse_outputs(&fs::read_to_string(dir.join("github_output")).unwrap());
    assert_eq!(outputs["outcome"], "success");
}

#[test]
fn a_downstream_that_never_reads_cannot_hold_a_timed_out_step() {
    // Nothing reads recover's stdout: the relay blocks, then the command on its full pipe. The
    // timeout stops the command, and the bytes it left can never be passed on: recover stops
    // waiting for them (a warning says so) instead of hanging with its reader.
    let test = Test::new().args([
        "--max-attempts",
        "1",
        "--timeout-seconds",
        "1",
        "--command",
        "head -c 5000000 /dev/zero",
    ]);
    let dir = test.path().to_owned();
    let mut child = test
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let unread = child.stdout.take();
    let ended = wait_until(Duration::from_secs(20), || {
        child.try_wait().unwrap().is_some()
    });
    if !ended {
        let _ = child.kill();
    }
    drop(unread);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(ended, "recover hung with its reader: {stderr}");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.matches("could not all be passed on").count(),
        1,
        "{stderr}"
    );
    let outputs =
        crate::support::parse_outputs(&fs::read_to_string(dir.join("github_output")).unwrap());
    assert_eq!(outputs["outcome"], "failure");
}

// --- Processes ------------------------------------------------------------------------------

/// A daemon that leaves the attempt's group and ticks into the step's output.
/// The command goes on once the daemon has left the group (until then, it is a leftover that
/// the attempt's end would stop).
const TICKER: &str = r"setsid bash -c 'echo $$ > ticker.pid; while :; do echo tick; sleep .3; done' &
until [ -s ticker.pid ]; do sleep 0.05; done";

#[test]
fn an_escaped_writer_after_a_passing_command_ends_the_step_in_seconds() {
    // `& exit 0`: the command passes at once, the daemon keeps the pipe busy forever.
    let out = Test::new()
        .args(["--max-attempts", "1", "--command"])
        .arg(format!("{TICKER}\nexit 0"))
        .run();
    kill_escaped(read_pid(&out.join("ticker.pid")));
    assert_eq!(out.output("outcome"), "success");
    assert!(
        out.elapsed < Duration::from_secs(8),
        "took {:?}",
        out.elapsed
    );
    assert!(out.stderr.contains("still holds its output open"));
    assert!(out.stdout.starts_with("tick\n") || out.stdout.is_empty());
}

#[test]
fn an_escaped_writer_cannot_hold_a_timed_out_step_past_its_deadline() {
    // The issue's reproduction: it ran 60 s and ignored SIGTERM.
    let out = Test::new()
        .args(["--timeout-seconds", "2", "--total-timeout-seconds", "4"])
        .args(["--retry-wait-seconds", "0", "--command"])
        .arg(format!("{TICKER}\nsleep 100"))
        .status(1)
        .run();
    kill_escaped(read_pid(&out.join("ticker.pid")));
    assert_eq!(out.output("outcome"), "failure");
    assert!(
        out.elapsed < Duration::from_secs(10),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn sigterm_ends_a_step_whose_pipe_an_escaped_writer_holds() {
    for command in ["sleep 100", "exit 0"] {
        let test = Test::new()
            .args(["--max-attempts", "1", "--command"])
            .arg(format!("{TICKER}\n{command}"));
        let dir = test.path().to_owned();
        let mut child = test
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        assert!(wait_for_file(
            &dir.join("ticker.pid"),
            Duration::from_secs(10)
        ));
        std::thread::sleep(Duration::from_millis(300));
        let sent = Instant::now();
        kill(Pid::from_raw(child.id().cast_signed()), Signal::SIGTERM).unwrap();
        let ended = wait_until(Duration::from_secs(10), || {
            child.try_wait().unwrap().is_some()
        });
        kill_escaped(read_pid(&dir.join("ticker.pid")));
        if !ended {
            let _ = child.kill();
        }
        let status = child.wait_with_output().unwrap().status;
        assert!(ended, "{command}: recover ignored SIGTERM");
        assert!(sent.elapsed() < Duration::from_secs(8), "{command}");
        if command == "sleep 100" {
            assert_eq!(status.code(), Some(143), "{command}");
        }
    }
}

#[test]
fn a_server_started_with_setsid_outlives_the_step_that_ends() {
    // The README's advice: `setsid` with its own output keeps a server running after the
    // step; the step itself ends as soon as the command does. The server leaves the group a
    // moment after the command has exited (as `setsid` on a busy machine can): it used to be
    // stopped as a leftover before it got there.
    let out = Test::new()
        .args(["--max-attempts", "1", "--command"])
        .arg("(sleep 0.05; exec setsid bash -c 'echo $$ > server.pid; exec sleep 60') > server.log 2>&1 < /dev/null &\necho started")
        .run();
    check(&out, 0, "success", b"started\n");
    assert!(wait_for_file(
        &out.join("server.pid"),
        Duration::from_secs(5)
    ));
    let server = read_pid(&out.join("server.pid"));
    let lives = alive(server);
    kill_escaped(server);
    assert!(lives, "the server was stopped with the step");
    assert!(
        out.elapsed < Duration::from_secs(5),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn children_that_ignore_term_are_killed_after_the_grace() {
    let out = Test::new()
        .args(["--max-attempts", "1", "--timeout-seconds", "1"])
        .args(["--kill-grace-seconds", "1", "--command"])
        .arg("trap '' TERM; echo $$ > leader.pid; (trap '' TERM; sleep 60) & printf 'before'; sleep 60")
        .status(1)
        .run();
    check(&out, 1, "failure", b"before");
    let leader = read_pid(&out.join("leader.pid"));
    assert!(!group_alive(leader), "the group outlived the attempt");
    assert!(
        out.elapsed < Duration::from_secs(8),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn a_burst_of_background_children_is_stopped_with_the_attempt() {
    let out = Test::new()
        .args(["--max-attempts", "1", "--command"])
        .arg("echo $$ > leader.pid; for i in $(seq 150); do (sleep 60 &); done; echo started")
        .run();
    check(&out, 0, "success", b"started\n");
    let leader = read_pid(&out.join("leader.pid"));
    assert!(
        !group_alive(leader),
        "background children outlived the attempt"
    );
    assert!(out.stderr.contains("Stopped processes left running"));
}

#[test]
fn the_attempts_group_is_stopped_when_recover_is_killed() {
    let test = Test::new()
        .args(["--kill-grace-seconds", "1", "--command"])
        .arg("echo $$ > leader.pid; trap '' TERM; sleep 100 & sleep 100");
    let dir = test.path().to_owned();
    let mut child = test
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_for_file(
        &dir.join("leader.pid"),
        Duration::from_secs(10)
    ));
    let leader = read_pid(&dir.join("leader.pid"));
    std::thread::sleep(Duration::from_millis(200));
    assert!(group_alive(leader));
    child.kill().unwrap();
    child.wait().unwrap();
    let gone = wait_until(Duration::from_secs(6), || !group_alive(leader));
    if !gone {
        let _ = killpg(Pid::from_raw(leader), Signal::SIGKILL);
    }
    assert!(gone, "the attempt's group outlived recover");
}

/// Runs `script` as an unprivileged user whose process limit is `nproc` (the test is root;
/// `prlimit` sets the limit, `setpriv` drops to a user no other process runs as).
fn as_limited_user(test: Test, uid: u32, nproc: u32) -> Option<Output> {
    let root = std::os::unix::fs::MetadataExt::uid(&fs::metadata("/proc/self").unwrap()) == 0;
    if !root {
        eprintln!("skipped: needs root to run recover as another user");
        return None;
    }
    let dir = test.path().to_owned();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    for entry in fs::read_dir(&dir).unwrap().flatten() {
        fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o666)).unwrap();
    }
    let recover = test.command();
    let mut command = std::process::Command::new("prlimit");
    command
        .arg(format!("--nproc={nproc}:{nproc}"))
        .args(["--", "setpriv"])
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={uid}"))
        .args(["--clear-groups", "--"])
        .arg(recover.get_program())
        .args(recover.get_args())
        .current_dir(&dir)
        .env_clear()
        .envs(recover.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdin(Stdio::null());
    let started = Instant::now();
    let output = command.output().unwrap();
    let elapsed = started.elapsed();
    Some(Output {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        stdout_bytes: output.stdout,
        stderr_bytes: output.stderr,
        elapsed,
        dir: test.into_dir(),
    })
}

#[test]
fn a_process_limit_that_refuses_the_relay_threads_loses_no_byte() {
    // Two processes for the user: recover's main thread and the command. The relay threads
    // are refused (EAGAIN): the pipes used to be dropped and `cat` died of SIGPIPE.
    let blob = noise(1_000_000, 5);
    let test = Test::new().file("blob", &blob).args([
        "--max-attempts",
        "1",
        "--command",
        "exec cat blob blob >&2",
    ]);
    let Some(out) = as_limited_user(test.args(["--shell", "sh"]), 61_731, 2) else {
        return;
    };
    let twice = [blob.as_slice(), blob.as_slice()].concat();
    assert_eq!(out.code, Some(0), "{}", short(&out));
    assert!(contains(&out.stderr_bytes, &twice), "stderr lost bytes");
    assert_eq!(
        out.stderr.matches("cannot start a thread to relay").count(),
        1,
        "one warning\n{}",
        short(&out)
    );
    assert_eq!(out.output("outcome"), "success");
}

#[test]
fn a_process_limit_that_refuses_the_command_fails_the_attempt_cleanly() {
    let test = Test::new().args(["--max-attempts", "1", "--", "true"]);
    let Some(out) = as_limited_user(test, 61_732, 1) else {
        return;
    };
    check(&out, 126, "failure", b"");
    assert!(out.stderr.contains("cannot start"), "{}", short(&out));
}

// --- Files ------------------------------------------------------------------------------------

#[test]
fn a_rules_file_that_is_a_fifo_or_a_device_is_refused_at_once() {
    let test = Test::new();
    let fifo = test.path().join("rules.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    for path in [fifo.as_path(), Path::new("/dev/zero")] {
        let out = Test::new()
            .actions()
            .arg("--rules-file")
            .arg(path)
            .args(["--command", "touch ran"])
            .status(2)
            .run();
        assert!(out.stdout.contains("::error"), "{}", short(&out));
        assert!(out.stdout.contains("rules_file"), "{}", short(&out));
        assert!(out.stdout.contains("not a regular file"), "{}", short(&out));
        assert!(!out.join("ran").exists(), "the command ran");
        assert!(out.elapsed < Duration::from_secs(5));
    }
}
