//! Hostile state and a hostile API: state files that are corrupt, truncated, from the future,
//! huge, locked, not files at all or in a directory recover may not write; a GitHub API that
//! refuses, stalls past the deadline, answers with a huge body, garbage or errors, or sits at a
//! URL that is not one. None of it may change the step's result beyond what the command did,
//! hang the step, lose a byte of the command's output or show the token anywhere.
//!
//! Every case runs as on a runner, with a token in `INPUT_GITHUB_TOKEN`, and checks the step's
//! result, the bytes relayed and that the token appears in no stream and no file recover wrote.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::github::{Api, RATE_LIMITED, TOKEN, rate_limits};
use crate::support::{OUTPUT_FILE, Output, SUMMARY_FILE, Test, parse_outputs, wait_for_file};

/// What the command prints on each attempt: control bytes, a tab, no final newline on stderr.
const MARK: &str = "relay\x01\tmark";

/// A command that prints [`MARK`] and exits with `code`.
fn marked(code: i32) -> String {
    format!(
        "printf '{}\\n'; printf 'err-no-newline' >&2; exit {code}",
        MARK.replace('\x01', "\\001").replace('\t', "\\t")
    )
}

/// A step as on a runner with the token set, a JSON report, and the state in `state`.
fn step(state: &Path) -> Test {
    Test::new()
        .actions()
        .env("INPUT_GITHUB_TOKEN", TOKEN)
        .args(["--report-file", "report.json", "--retry-wait-seconds", "0"])
        .args(["--state-dir".as_ref(), state.as_os_str()])
}

/// Checks what every case must hold: the outcome, the command's bytes relayed once per
/// attempt, the runner's files parse, and no token anywhere.
#[track_caller]
fn check(out: &Output, outcome: &str, attempts: usize) {
    let outputs = parse_outputs(&out.read(OUTPUT_FILE));
    assert_eq!(
        outputs.get("outcome").map(String::as_str),
        Some(outcome),
        "{}",
        out.describe()
    );
    assert_eq!(
        out.stdout.matches(&format!("{MARK}\n")).count(),
        attempts,
        "relayed bytes\n{}",
        out.describe()
    );
    assert_eq!(
        out.stderr.matches("err-no-newline").count(),
        attempts,
        "{}",
        out.describe()
    );
    no_token(out);
    assert!(!out.stderr.contains("panicked"), "{}", out.describe());
}

/// The token is in no stream and no file recover wrote.
#[track_caller]
fn no_token(out: &Output) {
    for (what, text) in [
        ("stdout", out.stdout.clone()),
        ("stderr", out.stderr.clone()),
        ("the report", out.read("report.json")),
        ("the job summary", out.read(SUMMARY_FILE)),
        ("the outputs", out.read(OUTPUT_FILE)),
    ] {
        assert!(!text.contains(TOKEN), "{what} holds the token:\n{text}");
    }
}

/// Whether the tests run as root (then they can run recover as another user).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn state_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("recover-hostile-")
        .tempdir()
        .unwrap()
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

// --- State ------------------------------------------------------------------------------------

#[test]
fn a_corrupt_circuit_file_is_one_warning_and_a_fresh_circuit() {
    let dir = state_dir();
    let junk: Vec<u8> = (0..=255u8)
        .cycle()
        .take(4096)
        .map(|b| b.wrapping_mul(7))
        .collect();
    std::fs::write(dir.path().join("circuit-db.json"), junk).unwrap();
    let out = step(dir.path())
        .args(["--circuit", "db", "--command", &marked(0)])
        .stdout_contains("is not valid JSON")
        .run();
    check(&out, "success", 1);
    assert_eq!(
        out.stdout.matches("::warning::").count(),
        1,
        "{}",
        out.stdout
    );
}

#[test]
fn a_truncated_budget_file_is_a_fresh_budget() {
    let dir = state_dir();
    std::fs::write(
        dir.path().join("budget.json"),
        "{\"version\": 1, \"limit\": 3, \"spe",
    )
    .unwrap();
    let out = step(dir.path())
        .args(["--retry-budget", "3", "--max-attempts", "2"])
        .args(["--command", &marked(4)])
        .status(4)
        .run();
    check(&out, "failure", 2);
    assert_eq!(out.output("retry_budget_left"), "2");
}

#[test]
fn a_circuit_from_the_future_stays_open_for_one_cooldown_at_most() {
    let dir = state_dir();
    let ten_years = 10 * 365 * 24 * 3600 * 1000_u64;
    let future = now_ms() + ten_years;
    let path = dir.path().join("circuit-db.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"version": 1, "consecutive_failures": 3, "opened_at_ms": {future}, "until_ms": {future}, "probe": {{"owner": "ghost", "started_ms": {future}}}}}"#
        ),
    )
    .unwrap();
    let before = now_ms();
    let out = step(dir.path())
        .args(["--circuit", "db", "--circuit-cooldown-seconds", "2"])
        .args(["--command", &marked(0)])
        .status(1)
        .stdout_contains("Circuit db is open since")
        .run();
    check(&out, "failure", 0);
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let until = stored["until_ms"].as_u64().unwrap();
    assert!(
        until >= before + 2000 && until <= now_ms() + 2000,
        "until_ms {until} is not within one cooldown of now ({before})"
    );
    assert!(stored["probe"]["started_ms"].as_u64().unwrap() <= now_ms());
    // Once the cooldown has passed, a step probes and closes the circuit.
    std::thread::sleep(Duration::from_millis(until.saturating_sub(now_ms()) + 100));
    let out = step(dir.path())
        .args(["--circuit", "db", "--circuit-cooldown-seconds", "2"])
        .args(["--command", &marked(0)])
        .stdout_contains("this step's first attempt is the probe")
        .run();
    check(&out, "success", 1);
}

#[test]
fn a_huge_state_file_is_not_read_and_is_replaced() {
    let dir = state_dir();
    let path = dir.path().join("circuit-db.json");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(200 << 20).unwrap();
    drop(file);
    let out = Test::new()
        .actions()
        .env("INPUT_GITHUB_TOKEN", TOKEN)
        .args(["--report-file", "report.json"])
        .args(["--state-dir".as_ref(), dir.path().as_os_str()])
        .args(["--circuit", "db", "--command", &marked(0)])
        .stdout_contains("larger than the 1048576 bytes a state file may have")
        .run();
    check(&out, "success", 1);
    assert!(std::fs::metadata(&path).unwrap().len() < 4096);
}

/// Holds `dir/circuit-db.lock` with flock(1) in another process group until [`release`].
fn hold_lock(dir: &Path) -> std::process::Child {
    use std::os::unix::process::CommandExt as _;
    let lock = dir.join("circuit-db.lock");
    let ready = dir.join("held");
    let child = Command::new("flock")
        .arg(&lock)
        .args(["sh", "-c", "touch \"$0\"; exec sleep 60"])
        .arg(&ready)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("flock(1)");
    assert!(wait_for_file(&ready, Duration::from_secs(20)));
    child
}

/// Ends the lock holder and the `sleep` it runs, so that nothing of the test outlives it.
fn release(holder: &mut std::process::Child) {
    let group = Pid::from_raw(i32::try_from(holder.id()).unwrap());
    let _ = nix::sys::signal::killpg(group, Signal::SIGKILL);
    let _ = holder.wait();
}

#[test]
fn a_state_lock_held_by_another_process_is_waited_for_briefly() {
    let dir = state_dir();
    let mut holder = hold_lock(dir.path());
    let started = Instant::now();
    let out = step(dir.path())
        .args(["--circuit", "db", "--command", &marked(0)])
        .stdout_contains("is locked by another process for more than 3 s; running without the circuit breaker and retry budget")
        .run();
    let took = started.elapsed();
    release(&mut holder);
    check(&out, "success", 1);
    assert_eq!(
        out.stdout.matches("::warning::").count(),
        1,
        "{}",
        out.stdout
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    // Without state, no state output claims anything.
    assert!(!out.outputs().contains_key("circuit_state") || out.output("circuit_state").is_empty());
}

#[test]
fn sigterm_ends_the_wait_for_a_held_state_lock() {
    let dir = state_dir();
    let mut holder = hold_lock(dir.path());
    // The debug event says when recover waits for the lock: the signal comes then, not after a
    // guessed delay.
    let test = step(dir.path()).env("RECOVER_LOG", "recover=debug").args([
        "--circuit",
        "db",
        "--command",
        "touch ran",
    ]);
    let test_dir = test.path().to_owned();
    let mut child = test
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut lines = std::io::BufRead::lines(stderr);
    let waiting = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("locked by another process; waiting"));
    assert!(waiting, "recover never waited for the lock");
    std::thread::spawn(move || lines.for_each(drop));
    let sent = Instant::now();
    kill(
        Pid::from_raw(i32::try_from(child.id()).unwrap()),
        Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    let took = sent.elapsed();
    release(&mut holder);
    assert_eq!(status.code(), Some(143));
    // The lock wait is 3 s; cancellation cuts it.
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    assert!(
        !test_dir.join("ran").exists(),
        "the command ran after SIGTERM"
    );
    let outputs = parse_outputs(&std::fs::read_to_string(test_dir.join(OUTPUT_FILE)).unwrap());
    assert_eq!(
        outputs.get("outcome").map(String::as_str),
        Some("cancelled")
    );
}

#[test]
fn a_directory_where_the_state_file_belongs_is_left_alone() {
    let dir = state_dir();
    let path = dir.path().join("circuit-db.json");
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("keep"), "mine").unwrap();
    let out = step(dir.path())
        .args(["--circuit", "db", "--command", &marked(0)])
        .stdout_contains("cannot read state file")
        .run();
    check(&out, "success", 1);
    assert_eq!(std::fs::read_to_string(path.join("keep")).unwrap(), "mine");
}

#[test]
fn a_fifo_or_a_device_as_state_file_does_not_hang_the_step() {
    for kind in ["fifo", "device"] {
        let dir = state_dir();
        let path = dir.path().join("budget.json");
        if kind == "fifo" {
            nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
        } else {
            std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        }
        let started = Instant::now();
        let out = step(dir.path())
            .args(["--retry-budget", "5", "--command", &marked(0)])
            .stdout_contains("not a regular file")
            .run();
        check(&out, "success", 1);
        // `recover state show` reads the same file: an error, not a hang.
        let show = Test::new()
            .args(["state", "show", "--state-dir"])
            .arg(dir.path())
            .status(2)
            .stderr_contains("not a regular file")
            .run();
        assert!(show.stdout.is_empty(), "{}", show.describe());
        assert!(started.elapsed() < Duration::from_secs(30), "{kind}");
    }
}

#[test]
fn a_directory_where_the_lock_file_belongs_is_a_warning() {
    let dir = state_dir();
    std::fs::create_dir(dir.path().join("circuit-db.lock")).unwrap();
    let out = step(dir.path())
        .args(["--circuit", "db", "--command", &marked(0)])
        .stdout_contains("cannot lock state file")
        .run();
    check(&out, "success", 1);
    assert!(dir.path().join("circuit-db.lock").is_dir());
}

#[test]
fn a_read_only_state_directory_is_a_warning_for_an_unprivileged_user() {
    if !is_root() {
        eprintln!("skipped: needs root to run recover as another user (setpriv)");
        return;
    }
    let dir = state_dir();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = as_nobody(
        &[("INPUT_GITHUB_TOKEN", TOKEN)],
        &[
            "--state-dir".as_ref(),
            dir.path().as_os_str(),
            "--circuit".as_ref(),
            "db".as_ref(),
            "--command".as_ref(),
            marked(0).as_ref(),
        ],
    );
    assert_eq!(out.status, Some(0), "{}", out.text());
    assert!(out.stdout.contains(&format!("{MARK}\n")), "{}", out.text());
    assert!(
        out.stderr.contains("cannot lock state file") && out.stderr.contains("Permission denied"),
        "{}",
        out.text()
    );
    assert!(!out.text().contains(TOKEN));
}

// --- The API ----------------------------------------------------------------------------------

/// The rate-limited command under recover (fails once with GitHub's message, then passes),
/// with the API at `url` and the backoff's wait `backoff`.
fn rate_limited(url: &str, backoff: &str) -> Test {
    let script = RATE_LIMITED.replace("echo passed", &marked(0));
    let script = script.replace("  exit 1\n", &format!("  {}\n", marked(1)));
    Test::new()
        .actions()
        .file("rate-limited.sh", script)
        .env("GITHUB_API_URL", url)
        .env("INPUT_GITHUB_TOKEN", TOKEN)
        .args([
            "--retry-wait-seconds",
            backoff,
            "--report-file",
            "report.json",
        ])
        .args(["--command", "bash rate-limited.sh"])
}

fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_refused_api_is_one_warning_and_the_backoff() {
    let out = rate_limited(&format!("http://127.0.0.1:{}", refused_port()), "0.2")
        .stdout_contains("::warning::cannot ask the GitHub API when the rate limit resets")
        .run();
    check(&out, "recovered", 2);
    assert_eq!(out.stdout.matches("::warning::cannot ask").count(), 1);
}

#[test]
fn an_api_slower_than_the_deadline_does_not_hold_the_step() {
    let api = Api::start(Box::new(|_| {
        std::thread::sleep(Duration::from_secs(30));
        (200, rate_limits(0, 3))
    }));
    let started = Instant::now();
    let out = rate_limited(&api.url, "0.2")
        .args(["--total-timeout-seconds", "3"])
        .status(1)
        .stdout_contains("did not answer within")
        .run();
    let took = started.elapsed();
    check(&out, "failure", 1);
    // The deadline is 3 s; the API's 10 s timeout must not outlast it (it took over 10 s).
    assert!(
        took < Duration::from_millis(9500),
        "took {took:?}\n{}",
        out.describe()
    );
}

#[test]
fn a_large_api_answer_within_the_limit_is_read_and_used() {
    let api = Api::start(Box::new(|_| {
        let pad = " ".repeat(900 << 10);
        (200, format!("{{\"resources\":{{}}{pad}}}"))
    }));
    let out = rate_limited(&api.url, "0.2")
        .stdout_contains("The GitHub API shows no exhausted rate limit")
        .run();
    check(&out, "recovered", 2);
}

/// An API on 127.0.0.1 that announces a body of 8 GiB and streams it until the client leaves.
fn endless_api() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::Write as _;
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = crate::github::read_request(&stream);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 8589934592\r\n\r\n{\"resources\":{},\"pad\":\"",
            );
            let chunk = vec![b'x'; 64 << 10];
            while stream.write_all(&chunk).is_ok() {}
        }
    });
    url
}

#[test]
fn an_endless_api_answer_is_cut_at_one_mib() {
    let started = Instant::now();
    let out = rate_limited(&endless_api(), "0.2")
        .stdout_contains("the answer is larger than 1048576 bytes")
        .run();
    check(&out, "recovered", 2);
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn garbage_from_the_api_is_one_warning_and_the_backoff() {
    for body in ["}{ not json", "\u{0}\u{1}binary", "[1,2,3]", ""] {
        let api = Api::start(Box::new(move |_| (200, body.to_owned())));
        let out = rate_limited(&api.url, "0.2")
            .stdout_contains("::warning::cannot ask the GitHub API when the rate limit resets")
            .run();
        check(&out, "recovered", 2);
        assert_eq!(
            out.stdout.matches("::warning::cannot ask").count(),
            1,
            "{body:?}: {}",
            out.stdout
        );
    }
}

#[test]
fn server_errors_from_the_api_are_one_warning_and_the_backoff() {
    for status in [500, 502, 503] {
        let api = Api::start(Box::new(move |_| {
            (status, "<html><body>Bad gateway</body></html>".to_owned())
        }));
        let out = rate_limited(&api.url, "0.2")
            .stdout_contains(&format!("HTTP {status}"))
            .run();
        check(&out, "recovered", 2);
    }
}

#[test]
fn a_bad_api_url_is_one_warning_and_no_panic() {
    for url in [
        "not-a-url",
        "ftp://example.com",
        "http://",
        "http://exa mple.com",
    ] {
        let out = rate_limited(url, "0.2")
            .stdout_contains("::warning::cannot ask the GitHub API when the rate limit resets; using the backoff: GITHUB_API_URL")
            .run();
        check(&out, "recovered", 2);
    }
}

#[test]
fn user_info_in_the_api_url_is_never_printed() {
    let url = format!("http://user:hunter2@127.0.0.1:{}/api", refused_port());
    let out = rate_limited(&url, "0.2")
        .stdout_contains("::warning::cannot ask the GitHub API")
        .stdout_contains("http://***@127.0.0.1:")
        .run();
    check(&out, "recovered", 2);
    for text in [
        &out.stdout,
        &out.stderr,
        &out.read("report.json"),
        &out.read(SUMMARY_FILE),
    ] {
        assert!(!text.contains("hunter2"), "{text}");
    }
}

#[test]
fn an_api_reset_hours_away_ends_the_retries_instead_of_waiting() {
    let api = Api::start(Box::new(|_| (200, rate_limits(0, 10 * 3600))));
    let started = Instant::now();
    let out = rate_limited(&api.url, "0.2")
        .status(1)
        .stdout_contains("is longer than max_hint_wait_seconds (15m)")
        .run();
    check(&out, "failure", 1);
    assert!(started.elapsed() < Duration::from_secs(20));
    let report: serde_json::Value = serde_json::from_str(&out.read("report.json")).unwrap();
    assert_eq!(report["give_up"], "hint_too_long");
}

#[test]
fn retry_after_of_months_ends_the_retries_with_a_reason() {
    let dir = state_dir();
    let started = Instant::now();
    let out = step(dir.path())
        .args(["--max-attempts", "3"])
        .args([
            "--command",
            &format!(
                "echo 'HTTP/1.1 429 Too Many Requests'; echo 'Retry-After: 9999999'; {}",
                marked(1)
            ),
        ])
        .status(1)
        .stdout_contains("is longer than max_hint_wait_seconds (15m)")
        .run();
    check(&out, "failure", 1);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        out.output("exit_error")
            .contains("Not retrying: the wait asked for"),
        "{}",
        out.describe()
    );
    // With a deadline, the time left is the limit.
    let out = step(dir.path())
        .args(["--max-attempts", "3", "--total-timeout-seconds", "600"])
        .args([
            "--command",
            &format!("echo 'Retry-After: 3600'; {}", marked(1)),
        ])
        .status(1)
        .stdout_contains("left before total_timeout_seconds")
        .run();
    check(&out, "failure", 1);
    // A hint the input allows is waited for.
    let out = step(dir.path())
        .args(["--max-attempts", "2", "--max-hint-wait-seconds", "1"])
        .args([
            "--command",
            &format!("echo 'Retry-After: 1'; {}", marked(1)),
        ])
        .status(1)
        .stdout_contains("as the output asked")
        .run();
    check(&out, "failure", 2);
}

// --- The token --------------------------------------------------------------------------------

/// What a run as `nobody` printed.
struct Plain {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Plain {
    fn text(&self) -> String {
        format!(
            "--- status {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Runs recover as the unprivileged user `nobody` (uid 65534) through setpriv(1), in a
/// directory that user may write.
fn as_nobody(env: &[(&str, &str)], args: &[&std::ffi::OsStr]) -> Plain {
    let dir = tempfile::Builder::new()
        .prefix("recover-nobody-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(crate::support::RECOVER)
        .arg("run")
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("TMPDIR", dir.path())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("setpriv(1)");
    Plain {
        status: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn the_command_cannot_read_the_token_from_recovers_proc_entries() {
    if !is_root() {
        eprintln!("skipped: needs root to run recover as another user (setpriv)");
        return;
    }
    let script = "for f in environ cmdline; do tr '\\0' '\\n' < /proc/$PPID/$f || echo \"no $f\"; done; echo done";
    let out = as_nobody(
        &[("INPUT_GITHUB_TOKEN", TOKEN)],
        &[
            "--max-attempts".as_ref(),
            "1".as_ref(),
            "--command".as_ref(),
            script.as_ref(),
        ],
    );
    assert!(out.stdout.contains("no environ"), "{}", out.text());
    assert!(out.stdout.contains("done"), "{}", out.text());
    assert!(
        !out.text().contains(TOKEN),
        "the token leaked:\n{}",
        out.text()
    );
}

#[test]
fn a_redirect_from_the_api_is_not_followed_with_the_token() {
    let elsewhere = Api::start(Box::new(|_| (200, rate_limits(0, 3))));
    let target = format!("{}/rate_limit", elsewhere.url);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::Write as _;
        for mut stream in listener.incoming().flatten() {
            let _ = crate::github::read_request(&stream);
            let _ = write!(
                stream,
                "HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    let out = rate_limited(&url, "0.2")
        .stdout_contains("::warning::cannot ask the GitHub API")
        .stdout_contains("HTTP 302")
        .run();
    check(&out, "recovered", 2);
    for request in elsewhere.requests() {
        assert!(
            !request.contains(TOKEN),
            "the token followed the redirect:\n{request}"
        );
    }
}

#[test]
fn state_reset_gives_up_on_a_lock_held_by_a_stuck_process() {
    let dir = state_dir();
    std::fs::write(
        dir.path().join("circuit-db.json"),
        r#"{"version": 1, "consecutive_failures": 1}"#,
    )
    .unwrap();
    let mut holder = hold_lock(dir.path());
    let started = Instant::now();
    let out = Test::new()
        .args(["state", "reset", "db", "--state-dir"])
        .arg(dir.path())
        .status(2)
        .stderr_contains("held by another process for more than 10 s")
        .run();
    release(&mut holder);
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "{}",
        out.describe()
    );
    assert!(dir.path().join("circuit-db.json").exists());
}

/// A tmpfs of a few KiB mounted on a temporary directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` where mounting is not allowed (not root, or no tmpfs).
    fn mount(kib: u32) -> Option<SmallDisk> {
        if !is_root() {
            return None;
        }
        let dir = state_dir();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is left of the disk.
    fn fill(&self) {
        let _ = std::fs::write(self.path().join("filler"), vec![b'x'; 1 << 20]);
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_disk_under_the_state_is_a_warning_and_keeps_the_old_state() {
    let Some(disk) = SmallDisk::mount(16) else {
        eprintln!("skipped: needs root to mount a small tmpfs");
        return;
    };
    let state = r#"{"version": 1, "consecutive_failures": 1, "opened_at_ms": null, "until_ms": null, "probe": null}"#;
    std::fs::write(disk.path().join("circuit-db.json"), state).unwrap();
    std::fs::write(disk.path().join("circuit-db.lock"), "").unwrap();
    disk.fill();
    let out = step(disk.path())
        .args([
            "--circuit",
            "db",
            "--circuit-threshold",
            "9",
            "--max-attempts",
            "2",
        ])
        .args(["--command", &marked(3)])
        .status(3)
        .stdout_contains("cannot write state file")
        .run();
    check(&out, "failure", 2);
    assert_eq!(
        std::fs::read_to_string(disk.path().join("circuit-db.json")).unwrap(),
        state,
        "the old state was damaged"
    );
    let leftovers: Vec<_> = std::fs::read_dir(disk.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".state-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_state_file_of_a_newer_recover_is_left_alone() {
    let dir = state_dir();
    let path = dir.path().join("circuit-db.json");
    let newer = r#"{"version": 7, "shards": [1, 2, 3]}"#;
    std::fs::write(&path, newer).unwrap();
    let out = step(dir.path())
        .args(["--circuit", "db", "--max-attempts", "2", "--command", &marked(5)])
        .status(5)
        .stdout_contains("has version 7, newer than this recover understands (1); leaving it to the newer recover")
        .run();
    check(&out, "failure", 2);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), newer);
}
