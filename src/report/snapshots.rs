//! Snapshots of what a person sees — the job summary, the final annotation, the outputs and the
//! terminal table — for each outcome. The runs are built by hand with fixed times, so nothing
//! needs redacting and every figure in the snapshots can be checked by eye.

use std::time::Duration;

use super::{Report, json, summary, terminal};
use crate::classify::{Category, Classification, Severity};
use crate::inputs::RawInputs;
use crate::log::Log;
use crate::outcome::{AttemptKind, AttemptRecord, Outcome, RunResult};
use crate::output::Tail;
use crate::plan::Plan;
use crate::policy::GiveUp;

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
        deadline: None,
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
        deadline: None,
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
        command_outputs: Vec::new(),
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
        text.contains(
            "::warning::Child_process exited with error code 7 (network failure, rule curl-couldnt-connect, after 1 attempt)"
        ),
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

/// What Markdown makes of a summary: the text of its code (spans and blocks), the HTML it
/// passes through, and the text outside code.
#[derive(Default)]
struct Rendered {
    code: Vec<String>,
    html: Vec<String>,
    text: String,
}

fn rendered(markdown: &str) -> Rendered {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = Rendered::default();
    let mut block: Option<String> = None;
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => block = Some(String::new()),
            Event::End(TagEnd::CodeBlock) => out.code.extend(block.take()),
            Event::Text(t) if block.is_some() => block.as_mut().unwrap().push_str(&t),
            Event::Code(t) => out.code.push(t.into_string()),
            Event::Html(t) | Event::InlineHtml(t) => out.html.push(t.into_string()),
            Event::Text(t) => out.text.push_str(&t),
            _ => {}
        }
    }
    out
}

#[test]
fn hostile_output_stays_inside_its_block_and_the_summary_stays_small() {
    let mut attempt = failed(1, 0, network(), None);
    let mut stdout = Tail::with_capacity(Tail::DEFAULT_CAPACITY);
    stdout.push(
        b"</pre></details><script>alert(1)</script>\n```\n````\n::error::forged\n| a | b |\n",
    );
    stdout.push(&vec![b'x'; 10 * 1024 * 1024]);
    attempt.stdout_tail = stdout;
    let mut short = failed(2, 0, network(), None);
    short.stdout_tail = tail(
        "</details><script>alert(1)</script>\n``````\n~~~\n    ```\n<!-- x\n]]> ?>\n::error::forged\n",
    );
    let mut attempts: Vec<AttemptRecord> = (1..=200)
        .map(|n| AttemptRecord {
            number: n,
            ..attempt.clone()
        })
        .collect();
    attempts.push(AttemptRecord {
        number: 201,
        ..short
    });
    let r = result(attempts, Outcome::Failure, Some(GiveUp::AttemptsExhausted));
    let text = summary::render(&Report::new(&plan(&[("max_attempts", "201")]), &r));
    assert!(text.len() <= summary::MAX_BYTES, "{} bytes", text.len());
    let seen = rendered(&text);
    for html in &seen.html {
        let html = html.trim();
        assert!(
            html.starts_with("<details><summary>Attempt ") || html == "</details>",
            "HTML from the output: {html:?}"
        );
    }
    for marker in ["alert", "forged", "xxxx", "```", "~~~"] {
        assert!(
            !seen.text.contains(marker),
            "{marker:?} outside code:\n{text}"
        );
    }
    let last = seen.code.last().unwrap();
    assert!(last.contains("``````\n~~~\n    ```\n<!-- x\n"), "{last}");
}

/// Every printable ASCII punctuation character: a secret the runner masks by its exact text.
const SECRET: &str = r##"ghp_!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~Xy12"##;

#[test]
fn a_secret_in_the_command_or_its_output_appears_verbatim() {
    let command = format!("docker login -p '{SECRET}' && echo {SECRET}");
    let p = Plan::from_inputs(
        &RawInputs::from_pairs([("command", command.as_str())]),
        Vec::new(),
    )
    .unwrap();
    let mut attempt = failed(1, 0, network(), None);
    attempt.stdout_tail = tail(&format!("token {SECRET} refused\n{SECRET}\n"));
    attempt.stderr_tail = tail(&format!("{} {SECRET} end\n", "word ".repeat(60)));
    let r = result(vec![attempt], Outcome::Failure, Some(GiveUp::NotRetryable));
    let text = summary::render(&Report::new(&p, &r));
    // In the heading (whose 80 characters end before the second one), twice in stdout; the
    // long stderr line is cut before it.
    assert_eq!(text.matches(SECRET).count(), 3, "{text}");
    let seen = rendered(&text);
    let heading = format!("docker login -p '{SECRET}' && echo…");
    assert!(seen.code.contains(&heading), "{:?}", seen.code);
    assert_eq!(
        seen.code
            .iter()
            .map(|c| c.matches(SECRET).count())
            .sum::<usize>(),
        3
    );
    // A line too long for the summary is cut at white space, never inside a token.
    for line in text.lines() {
        if let Some(at) = line.find("ghp_") {
            assert!(
                line[at..].starts_with(SECRET),
                "a part of the secret: {line}"
            );
        }
    }
}

#[test]
fn a_long_line_is_cut_at_white_space_only() {
    let mut attempt = failed(1, 0, network(), None);
    let long_token = format!("{}{}", "a".repeat(300), SECRET);
    let line = format!("{} {long_token} tail\n", "w".repeat(200));
    attempt.stdout_tail = tail(&line);
    attempt.stderr_tail = Tail::default();
    let r = result(vec![attempt], Outcome::Failure, Some(GiveUp::NotRetryable));
    let text = summary::render(&Report::new(&plan(&[]), &r));
    assert!(!text.contains("aaaa"), "{text}");
    assert!(!text.contains("ghp_"), "{text}");
    assert!(text.contains(&format!("{}…", "w".repeat(200))), "{text}");
}
