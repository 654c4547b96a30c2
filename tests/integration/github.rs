//! The GitHub API rate-limit reset: after a GitHub rate limit failure whose output names no wait,
//! recover asks `GET $GITHUB_API_URL/rate_limit` and waits until the exhausted limit resets.
//!
//! The API is a small HTTP server on 127.0.0.1 in this test process that records each request
//! and answers with what the test gives it; nothing reaches the real GitHub API.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::{OUTPUT_FILE, Output, SUMMARY_FILE, Test};

pub(crate) const TOKEN: &str = "ghs_recoverTestToken0123456789";

/// Fails its first run with GitHub's rate limit message (and no wait in it), passes its second;
/// each run dumps its environment to `env-N`.
pub(crate) const RATE_LIMITED: &str = "n=$(( $(cat count 2>/dev/null || echo 0) + 1 ))
echo \"$n\" > count
env > \"env-$n\"
if [ \"$n\" -lt 2 ]; then
  echo 'HTTP 403: API rate limit exceeded for installation ID 1. (https://api.github.com/repos/o/r/releases)' >&2
  exit 1
fi
echo passed
";

/// What the fake API answers: a status and a JSON body, made when the request comes.
pub(crate) type Answer = Box<dyn Fn(&str) -> (u16, String) + Send>;

/// A fake GitHub API on 127.0.0.1 that records the requests it gets.
pub(crate) struct Api {
    pub(crate) url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Api {
    /// Serves `answer` for every request, under the path prefix `/api/v3` (as on GitHub
    /// Enterprise Server, whose `GITHUB_API_URL` has a path).
    pub(crate) fn start(answer: Answer) -> Api {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let url = format!("http://{}/api/v3", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let request = read_request(&stream);
                let (status, body) = answer(&request);
                seen.lock().unwrap().push(request);
                respond(stream, status, &body);
            }
        });
        Api { url, requests }
    }

    pub(crate) fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// The request line and headers (`GET /rate_limit` has no body).
pub(crate) fn read_request(mut stream: &TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 1024];
    while !bytes.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

pub(crate) fn respond(mut stream: TcpStream, status: u16, body: &str) {
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A `/rate_limit` body with `core` at `core_remaining`, resetting `in_seconds` from now, and
/// `search` untouched.
pub(crate) fn rate_limits(core_remaining: u32, in_seconds: u64) -> String {
    let reset = now() + in_seconds;
    format!(
        r#"{{"resources":{{"core":{{"limit":5000,"used":{},"remaining":{core_remaining},"reset":{reset}}},"search":{{"limit":30,"used":0,"remaining":30,"reset":{}}}}},"rate":{{"limit":5000,"used":5000,"remaining":{core_remaining},"reset":{reset}}}}}"#,
        5000 - core_remaining,
        now() + 60
    )
}

/// The rate-limited command under recover, with the API at `url`, the backoff's wait `backoff`
/// (seconds) and a JSON report.
fn rate_limited(url: &str, backoff: &str) -> Test {
    Test::new()
        .file("rate-limited.sh", RATE_LIMITED)
        .env("GITHUB_API_URL", url)
        .args([
            "--retry-wait-seconds",
            backoff,
            "--report-file",
            "report.json",
            "--command",
            "bash rate-limited.sh",
        ])
}

/// The wait recover recorded after attempt 1.
fn first_wait(out: &Output) -> f64 {
    let report: serde_json::Value = serde_json::from_str(&out.read("report.json")).unwrap();
    report["attempts"][0]["wait_after_seconds"]
        .as_f64()
        .unwrap_or_else(|| panic!("no wait after attempt 1\n{}", out.describe()))
}

#[test]
fn an_exhausted_rate_limit_sets_the_wait_until_its_reset() {
    let api = Api::start(Box::new(|_| (200, rate_limits(0, 3))));
    // A backoff of 20 s: a wait of a few seconds can only come from the reset.
    let out = rate_limited(&api.url, "20")
        .env("INPUT_GITHUB_TOKEN", TOKEN)
        .stderr_contains("(when the GitHub API rate limit resets).")
        .run();
    assert_eq!(out.output("outcome"), "recovered");
    let wait = first_wait(&out);
    // The reset is 3 s away when the API answers, and recover adds 1 s: 3 or 4 whole seconds,
    // depending on whether a second boundary passes between the answer and recover's clock.
    assert!(
        (2.5..=6.0).contains(&wait),
        "wait {wait}\n{}",
        out.describe()
    );
    assert!(
        out.run_time() >= Duration::from_secs_f64(wait),
        "{:?}",
        out.run_time()
    );
    assert!(
        out.run_time() < Duration::from_secs(15),
        "{:?}",
        out.run_time()
    );
    let requests = api.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = requests[0].to_ascii_lowercase();
    assert!(
        request.starts_with("get /api/v3/rate_limit http/1.1\r\n"),
        "{request}"
    );
    assert!(
        request.contains(&format!(
            "\r\nauthorization: bearer {}\r\n",
            TOKEN.to_ascii_lowercase()
        )),
        "{request}"
    );
}

#[test]
fn an_api_error_is_one_warning_and_the_backoff() {
    let api = Api::start(Box::new(|_| {
        (500, r#"{"message":"Server Error"}"#.to_owned())
    }));
    let out = rate_limited(&api.url, "0.3")
        .env("INPUT_GITHUB_TOKEN", TOKEN)
        .stderr_contains(
            "recover: warning: cannot ask the GitHub API when the rate limit resets; using the backoff: GET ",
        )
        .stderr_contains("/api/v3/rate_limit failed: HTTP 500: Server Error")
        .stderr_contains("Retrying in 0.3s.")
        .run();
    assert_eq!(out.stderr.matches("warning:").count(), 1, "{}", out.stderr);
    assert_eq!(out.output("outcome"), "recovered");
    assert!((first_wait(&out) - 0.3).abs() < 1e-9);
    assert_eq!(api.requests().len(), 1);
}

#[test]
fn an_api_that_is_not_listening_is_one_warning_and_the_backoff() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let out = rate_limited(&format!("http://127.0.0.1:{port}"), "0.3")
        .env("INPUT_GITHUB_TOKEN", TOKEN)
        .stderr_contains("recover: warning: cannot ask the GitHub API when the rate limit resets")
        .stderr_contains("Retrying in 0.3s.")
        .run();
    assert_eq!(out.stderr.matches("warning:").count(), 1, "{}", out.stderr);
    assert_eq!(out.output("outcome"), "recovered");
    assert_eq!(out.output("exit_code"), "0");
    assert!((first_wait(&out) - 0.3).abs() < 1e-9);
}

#[test]
fn no_exhausted_limit_means_the_backoff_without_a_warning() {
    let api = Api::start(Box::new(|_| (200, rate_limits(4000, 3))));
    let out = rate_limited(&api.url, "0.3")
        .env("INPUT_GITHUB_TOKEN", TOKEN)
        .stderr_contains("recover: The GitHub API shows no exhausted rate limit")
        .stderr_contains("Retrying in 0.3s.")
        .run();
    assert!(!out.stderr.contains("warning:"), "{}", out.stderr);
    assert!((first_wait(&out) - 0.3).abs() < 1e-9);
    assert_eq!(api.requests().len(), 1);
}

#[test]
fn without_a_token_or_with_a_wait_in_the_output_recover_does_not_ask() {
    let api = Api::start(Box::new(|_| (200, rate_limits(0, 3))));
    let out = rate_limited(&api.url, "0.3")
        .stderr_contains("Retrying in 0.3s.")
        .run();
    assert!(!out.stderr.contains("warning:"), "{}", out.stderr);

    let hinted = RATE_LIMITED.replace("exit 1\n", "echo 'retry-after: 1' >&2\n  exit 1\n");
    rate_limited(&api.url, "0.3")
        .file("rate-limited.sh", hinted)
        .env("INPUT_GITHUB_TOKEN", TOKEN)
        .stderr_contains("Retrying in 1s (as the output asked).")
        .run();
    assert!(api.requests().is_empty(), "{:#?}", api.requests());
}

#[test]
fn the_token_is_never_printed_nor_passed_to_the_command() {
    // An API that echoes the credentials in its error, as a misbehaving proxy might.
    let api = Api::start(Box::new(|request: &str| {
        let header = request
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
            .unwrap_or_default()
            .replace('"', "");
        (401, format!(r#"{{"message":"Bad credentials: {header}"}}"#))
    }));
    let out = rate_limited(&api.url, "0.3")
        .actions()
        .env("INPUT_GITHUB_TOKEN", TOKEN)
        .stdout_contains("::warning::cannot ask the GitHub API when the rate limit resets")
        .stdout_contains("HTTP 401: Bad credentials: authorization: Bearer ***")
        .run();
    assert_eq!(api.requests().len(), 1, "the API was asked");
    assert_eq!(out.output("outcome"), "recovered");
    for (what, text) in [
        ("stdout", out.stdout.clone()),
        ("stderr", out.stderr.clone()),
        ("report_file", out.read("report.json")),
        ("the job summary", out.read(SUMMARY_FILE)),
        ("the outputs", out.read(OUTPUT_FILE)),
    ] {
        assert!(!text.is_empty() || what == "stderr", "{what} is empty");
        assert!(!text.contains(TOKEN), "{what} holds the token:\n{text}");
    }
    for attempt in ["env-1", "env-2"] {
        let env = out.read(attempt);
        assert!(env.contains("RECOVER_ATTEMPT="), "{attempt}: {env}");
        assert!(!env.contains(TOKEN), "{attempt} holds the token:\n{env}");
        assert!(!env.contains("INPUT_GITHUB_TOKEN"), "{attempt}:\n{env}");
    }
}
