//! Snapshots of what a person sees — the job summary, the final annotation, the outputs and the
//! terminal table — for each outcome. The runs are built by hand with fixed times, so nothing
//! needs redacting and every figure in the snapshots can be checked by eye.

use std::time::Duration;

use super::log::Log;
use super::{Report, json, summary, terminal};
use crate::classify::{Category, Classification, Severity};
use crate::exec::stream::Tail;
use crate::plan::{Plan, RawInputs};
use crate::policy::GiveUp;
use crate::run::{AttemptKind, AttemptRecord, Outcome, RunResult};

fn plan(extra: &[(&str, &str)]) -> Plan {
    let mut pairs = vec![("command", "curl -fsS http://127.0.0.1:8080/health")];
    pairs.extend_from_slice(extra);
    Plan::from_inputs(&RawInputs::from_pairs(pairs), Vec::new()).unwrap()
}

fn tail(text: &str) -> Tail {
    let mut tail = Tail::with_capacity(Tail::DEFAULT_CAPACITY);
    tail.push(text.as_bytes());
    tail
}

fn network() -> Classification {
    Classification {
        category: Category::Network,
        severity: Severity::Medium,
        retryable: true,
        rule: Some("curl-couldnt-connect".to_owned()),
        line: Some("curl: (7) Failed to connect to 127.0.0.1 port 8080".to_owned()),
        wait_hint: None,
    }
}

fn permanent() -> Classification {
    Classification {
        category: Category::Permanent,
        severity: Severity::High,
        retryable: false,
        rule: Some("curl-http-404".to_owned()),
        line: Some("curl: (22) The requested URL returned error: 404".to_owned()),
        wait_hint: None,
    }
}

fn failed(
    number: u32,
    started: u64,
    classification: Classification,
    wait: Option<u64>,
) -> AttemptRecord {
    let stderr = classification.line.clone().unwrap_or_default() + "\n";
    AttemptRecord {
        number,
        kind: if number == 1 {
            AttemptKind::Primary
        } else {
            AttemptKind::Retry
        },
        started: Duration::from_secs(started),
        duration: Duration::from_millis(1500),
        exit_code: 7,
        signal: None,
        timed_out: false,
        timeout: Some(Duration::from_secs(60)),
        classification: Some(classification),
        wait_after: wait.map(Duration::from_secs),
        stdout_tail: tail("checking health\n"),
        stderr_tail: tail(&stderr),
        spawn_error: None,
    }
}

fn passed(number: u32, kind: AttemptKind, started: u64) -> AttemptRecord {
    AttemptRecord {
        number,
        kind,
        started: Duration::from_secs(started),
        duration: Duration::from_millis(800),
        exit_code: 0,
        signal: None,
        timed_out: false,
        timeout: Some(Duration::from_secs(60)),
        classification: None,
        wait_after: None,
        stdout_tail: tail("ok\n"),
        stderr_tail: Tail::default(),
        spawn_error: None,
    }
}

fn result(attempts: Vec<AttemptRecord>, outcome: Outcome, give_up: Option<GiveUp>) -> RunResult {
    let cancelled_by = (outcome == Outcome::Cancelled).then_some(15);
    RunResult {
        attempts,
        outcome,
        give_up,
        cancelled_by,
        duration: Duration::from_secs(25),
        shared: None,
    }
}

/// Everything a person sees of one run, in one text.
fn seen(plan: &Plan, result: &RunResult) -> String {
    let report = Report::new(plan, result);
    let (mut log, buffer) = Log::capture(true);
    if let Some((kind, message)) = report.final_annotation() {
        log.annotate(kind, &message, true);
    }
    log.finish();
    let annotations = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    for (name, _) in report.outputs() {
        assert!(
            super::OUTPUTS.contains(&name),
            "output {name} is not in OUTPUTS"
        );
    }
    let outputs: Vec<String> = report
        .outputs()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "exit status: {}\n\n--- annotations\n{annotations}\n--- outputs\n{}\n\n--- terminal\n{}\n--- summary\n{}",
        report.exit_code(),
        outputs.join("\n"),
        terminal::render(&report, false),
        summary::render(&report),
    )
}

#[test]
fn success() {
    let r = result(
        vec![passed(1, AttemptKind::Primary, 0)],
        Outcome::Success,
        None,
    );
    insta::assert_snapshot!(seen(&plan(&[]), &r));
}

#[test]
fn recovered() {
    let attempts = vec![
        failed(1, 0, network(), Some(10)),
        passed(2, AttemptKind::Retry, 12),
    ];
    let r = result(attempts, Outcome::Recovered, None);
    insta::assert_snapshot!(seen(&plan(&[("on_flaky", "warn")]), &r));
}

#[test]
fn fallback() {
    let attempts = vec![
        failed(1, 0, network(), Some(10)),
        failed(2, 12, network(), None),
        passed(3, AttemptKind::Fallback, 14),
    ];
    let r = result(attempts, Outcome::Fallback, Some(GiveUp::AttemptsExhausted));
    let p = plan(&[
        ("max_attempts", "2"),
        ("fallback_command", "cargo test --lib"),
    ]);
    insta::assert_snapshot!(seen(&p, &r));
}

#[test]
fn failure_of_a_permanent_error_that_was_retried() {
    let attempts = vec![
        failed(1, 0, permanent(), Some(10)),
        failed(2, 12, permanent(), Some(10)),
        failed(3, 24, permanent(), None),
    ];
    let r = result(attempts, Outcome::Failure, Some(GiveUp::AttemptsExhausted));
    insta::assert_snapshot!(seen(&plan(&[]), &r));
}

#[test]
fn cancelled() {
    let mut attempt = failed(1, 0, network(), None);
    attempt.exit_code = 143;
    attempt.signal = Some(15);
    attempt.classification = None;
    let r = result(vec![attempt], Outcome::Cancelled, None);
    insta::assert_snapshot!(seen(&plan(&[]), &r));
}

#[test]
fn continue_on_error_turns_the_error_into_a_warning() {
    let r = result(
        vec![failed(1, 0, network(), None)],
        Outcome::Failure,
        Some(GiveUp::NotRetryable),
    );
    let text = seen(
        &plan(&[("continue_on_error", "true"), ("max_attempts", "1")]),
        &r,
    );
    assert!(text.starts_with("exit status: 0\n"), "{text}");
    assert!(
        text.contains("::warning::network failure (rule curl-couldnt-connect) after 1 attempt: "),
        "{text}"
    );
    assert!(!text.contains("::error::"), "{text}");
}

#[test]
fn the_json_report_is_versioned_and_complete() {
    let attempts = vec![
        failed(1, 0, network(), Some(10)),
        passed(2, AttemptKind::Fallback, 12),
    ];
    let r = result(attempts, Outcome::Fallback, Some(GiveUp::AttemptsExhausted));
    let p = plan(&[("max_attempts", "1"), ("fallback_command", "make unit")]);
    let doc: serde_json::Value = serde_json::from_str(&json::render(&Report::new(&p, &r))).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["outcome"], "fallback");
    assert_eq!(doc["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(doc["attempts"][0]["rule"], "curl-couldnt-connect");
    assert_eq!(doc["fallback"]["exit_code"], 0);
    assert_eq!(doc["plan"]["fallback_command"], "make unit");
}

#[test]
fn hostile_output_stays_inside_its_block_and_the_summary_stays_small() {
    let mut attempt = failed(1, 0, network(), None);
    let mut stdout = Tail::with_capacity(Tail::DEFAULT_CAPACITY);
    stdout.push(b"</pre></details><script>alert(1)</script>\n```\n::error::forged\n| a | b |\n");
    stdout.push(&vec![b'x'; 10 * 1024 * 1024]);
    attempt.stdout_tail = stdout;
    let attempts: Vec<AttemptRecord> = (1..=200)
        .map(|n| AttemptRecord {
            number: n,
            ..attempt.clone()
        })
        .collect();
    let r = result(attempts, Outcome::Failure, Some(GiveUp::AttemptsExhausted));
    let text = summary::render(&Report::new(&plan(&[("max_attempts", "200")]), &r));
    assert!(text.len() <= summary::MAX_BYTES, "{} bytes", text.len());
    assert!(!text.contains("<script>"));
    assert_eq!(
        text.matches("<pre>").count(),
        text.matches("</pre>").count()
    );
    assert_eq!(
        text.matches("<details>").count(),
        text.matches("</details>").count()
    );
}
