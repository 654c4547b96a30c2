//! Classification in real runs: rules decide what is retried, a server's `Retry-After` decides
//! how long to wait, and the outputs name the category and the rule.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{SUMMARY_FILE, Test, noise};

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Serves one HTTP response per entry of `responses`, in order, and reports when each request
/// arrived.
fn serve(responses: Vec<&'static str>) -> (u16, mpsc::Receiver<Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for response in responses {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let _ = tx.send(Instant::now());
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (port, rx)
}

#[test]
fn a_retry_after_from_a_429_replaces_the_backoff() {
    let (port, arrivals) = serve(vec![
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
    ]);
    let out = Test::new()
        .args([
            "--retry-wait-seconds",
            "10",
            "--report-file",
            "report.json",
            "--command",
        ])
        .arg(format!("curl -sS -i -f http://127.0.0.1:{port}/"))
        .stderr_contains("Retrying in 2s (as the output asked).")
        .run();
    // recover's own wait: from the end of attempt 1 to the start of attempt 2.
    let report: serde_json::Value = serde_json::from_str(&out.read("report.json")).unwrap();
    let seconds = |v: &serde_json::Value| v.as_f64().unwrap();
    let first = &report["attempts"][0];
    let waited = seconds(&report["attempts"][1]["started_seconds"])
        - seconds(&first["started_seconds"])
        - seconds(&first["duration_seconds"]);
    assert!(
        (1.7..=2.3).contains(&waited),
        "waited {waited:.3} s, not the 2 s the server asked for"
    );
    // The server saw the retry no sooner than it asked, and long before the 10 s backoff.
    let asked = arrivals.recv_timeout(Duration::from_secs(5)).unwrap();
    let retried = arrivals.recv_timeout(Duration::from_secs(5)).unwrap();
    let gap = retried.duration_since(asked).as_secs_f64();
    assert!(
        (2.0..5.0).contains(&gap),
        "the retry reached the server {gap:.3} s later"
    );
    assert_eq!(out.output("outcome"), "recovered");
    let attempts: serde_json::Value = serde_json::from_str(&out.output("attempts_json")).unwrap();
    assert_eq!(attempts[0]["category"], "rate_limit");
    assert_eq!(attempts[0]["wait_seconds"], 2.0);
}

#[test]
fn classified_stops_at_once_on_a_real_compile_error() {
    let out = Test::new()
        .status(1)
        .file("broken.rs", "fn main() { let x: i32 = \"text\"; }\n")
        .args(["--retry-on", "classified", "--retry-wait-seconds", "0"])
        .args(["--command", "rustc --edition 2021 -o /dev/null broken.rs"])
        .run();
    assert_eq!(out.output("total_attempts"), "1", "{}", out.describe());
    assert_eq!(out.output("category"), "permanent");
    assert!(!out.output("rule").is_empty());
    assert!(
        out.stderr.contains("Not retrying: retry_on is classified."),
        "{}",
        out.stderr
    );
}

#[test]
fn classified_retries_a_refused_connection() {
    let port = closed_port();
    let out = Test::new()
        .status(7)
        .args([
            "--retry-on",
            "classified",
            "--retry-wait-seconds",
            "0",
            "--command",
        ])
        .arg(format!("curl -sS http://127.0.0.1:{port}/"))
        .run();
    assert_eq!(out.output("total_attempts"), "3");
    assert_eq!(out.output("category"), "network");
}

/// The unknown policy: under `retry_on: classified`, a failure no rule recognises is retried
/// `unknown_retries` times (once by default), then recover stops.
#[test]
fn classified_retries_an_unknown_failure_once_then_stops() {
    for (given, attempts) in [(None, "2"), (Some("0"), "1"), (Some("2"), "3")] {
        let mut test = Test::new().status(3).args([
            "--retry-on",
            "classified",
            "--max-attempts",
            "5",
            "--retry-wait-seconds",
            "0",
        ]);
        if let Some(n) = given {
            test = test.args(["--unknown-retries", n]);
        }
        let out = test
            .args([
                "--command",
                "echo 'the moon is in the wrong phase' >&2; exit 3",
            ])
            .run();
        assert_eq!(out.output("total_attempts"), attempts, "{given:?}");
        assert_eq!(out.output("category"), "unknown");
    }
}

#[test]
fn a_category_list_retries_only_those_categories() {
    let port = closed_port();
    let network = Test::new()
        .status(7)
        .args([
            "--retry-on",
            "rate_limit,transient",
            "--retry-wait-seconds",
            "0",
            "--command",
        ])
        .arg(format!("curl -sS http://127.0.0.1:{port}/"))
        .run();
    assert_eq!(network.output("total_attempts"), "1");
}

#[test]
fn user_rules_come_before_the_built_in_ones() {
    let rules = "rules:\n  - name: our-flaky-fixture\n    category: transient\n    patterns: ['fixture not ready']\n";
    let out = Test::new()
        .status(1)
        .file("rules.yml", rules)
        .args([
            "--max-attempts",
            "2",
            "--retry-wait-seconds",
            "0",
            "--rules-file",
            "rules.yml",
        ])
        .args([
            "--command",
            "echo 'fixture not ready: connection refused' >&2; exit 1",
        ])
        .run();
    assert_eq!(out.output("rule"), "our-flaky-fixture");
    assert_eq!(out.output("category"), "transient");
}

#[test]
fn a_bad_rules_file_stops_before_anything_runs() {
    let out = Test::new()
        .actions()
        .status(2)
        .file(
            "rules.yml",
            "rules:\n  - name: x\n    category: flaky\n    patterns: ['a']\n",
        )
        .args(["--rules-file", "rules.yml", "--command", "touch ran"])
        .run();
    assert!(!out.join("ran").exists());
    assert!(
        out.stdout.starts_with("::error::input rules_file: "),
        "{}",
        out.stdout
    );
    assert_eq!(out.output("exit_code"), "2");
}

/// The integration tests need a service on 127.0.0.1 that is down; the fallback runs the unit
/// tests instead, and the step passes with a notice.
#[test]
fn integration_falls_back_to_unit_tests_when_the_service_is_down() {
    let port = closed_port();
    let out = Test::new()
        .actions()
        .args([
            "--retry-on",
            "classified",
            "--retry-wait-seconds",
            "0",
            "--command",
        ])
        .arg(format!(
            "curl -sS --max-time 5 http://127.0.0.1:{port}/api && echo integration passed"
        ))
        .args(["--fallback-command", "echo 'unit tests: 12 passed'"])
        .run();
    assert_eq!(out.output("outcome"), "fallback");
    assert_eq!(out.output("category"), "network");
    assert_eq!(out.output("fallback_exit_code"), "0");
    let notices: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("::notice::") && !l.starts_with("::notice::Step result: "))
        .collect();
    assert_eq!(notices.len(), 1, "{}", out.stdout);
    assert!(notices[0].contains("network"), "{}", notices[0]);
    let summary = out.read(SUMMARY_FILE);
    assert!(
        summary.contains("| 1 | primary |") && summary.contains("| network |"),
        "{summary}"
    );
    assert!(summary.contains("| – | fallback |"), "{summary}");
    assert!(out.stdout.contains("unit tests: 12 passed"));
}

#[test]
fn the_classify_command_reads_sixty_four_mib_of_random_bytes() {
    // It panicked in the lazy DFA on 8 MB and more (the matcher's cache cleared under it).
    let out = Test::new()
        .file("blob", noise(64 << 20, 12))
        .args(["classify", "--exit-code", "1", "blob"])
        .run();
    assert!(out.stdout.contains("category:"), "{}", out.stdout);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}
