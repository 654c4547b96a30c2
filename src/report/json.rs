//! The JSON report (`report_file`) and the `attempts_json` output.
//!
//! The report's schema is versioned (`schema_version`) and documented in docs/report.md: fields
//! are only ever added within a version; a removal or a change of meaning bumps it.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::Report;
use crate::outcome::AttemptRecord;
use crate::plan::{FallbackOutcome, OnFlaky, Program};
use crate::policy::GiveUp;
use crate::state::rfc3339;

/// The version of the report's schema.
pub const SCHEMA_VERSION: u32 = 1;

/// One attempt in `attempts_json`: compact, for `fromJSON` in later steps.
#[derive(Debug, Serialize)]
struct Compact<'a> {
    kind: &'static str,
    duration_seconds: f64,
    exit_code: i32,
    signal: Option<String>,
    timed_out: bool,
    category: Option<&'static str>,
    rule: Option<&'a str>,
    wait_seconds: Option<f64>,
}

/// The `attempts_json` output: a compact JSON array, one object per attempt (and the fallback).
#[must_use]
pub fn attempts_json(report: &Report<'_>) -> String {
    let items: Vec<Compact<'_>> = report
        .result
        .attempts
        .iter()
        .map(|a| Compact {
            kind: a.kind.as_str(),
            duration_seconds: seconds(a.duration),
            exit_code: a.exit_code,
            signal: a.signal.map(crate::signals::name),
            timed_out: a.timed_out,
            category: a.classification.as_ref().map(|c| c.category.as_str()),
            rule: a.classification.as_ref().and_then(|c| c.rule.as_deref()),
            wait_seconds: a.wait_after.map(seconds),
        })
        .collect();
    serde_json::to_string(&items).unwrap_or_else(|_| "[]".to_owned())
}

/// The `command_outputs` output: a JSON object of the outputs the command set (a name set
/// twice keeps its last value), read in a later step as
/// `fromJSON(steps.<id>.outputs.command_outputs).<name>`; `{}` when it set none.
#[must_use]
pub fn command_outputs(pairs: &[(String, String)]) -> String {
    let object: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .map(|(name, value)| (name.clone(), serde_json::Value::String(value.clone())))
        .collect();
    serde_json::to_string(&object).unwrap_or_else(|_| "{}".to_owned())
}

/// Seconds with millisecond precision.
fn seconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0).round() / 1000.0
}

#[derive(Debug, Serialize)]
struct Document<'a> {
    schema_version: u32,
    recover_version: &'static str,
    /// The step run's correlation id (`RECOVER_STEP_ID`), on a runner only.
    #[serde(skip_serializing_if = "Option::is_none")]
    step_id: Option<String>,
    outcome: &'static str,
    exit_code: i32,
    exit_error: Option<String>,
    duration_seconds: f64,
    flaky: bool,
    give_up: Option<&'static str>,
    cancelled_by: Option<String>,
    plan: PlanView,
    attempts: Vec<AttemptView<'a>>,
    fallback: Option<AttemptView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<StateView<'a>>,
}

/// The circuit and the budget, when the step has either (`state`).
#[derive(Debug, Serialize)]
struct StateView<'a> {
    circuit: Option<CircuitView<'a>>,
    budget: Option<BudgetView>,
}

#[derive(Debug, Serialize)]
struct CircuitView<'a> {
    name: &'a str,
    state: &'static str,
    consecutive_failures: u64,
    opened_at: Option<String>,
    until: Option<String>,
    skipped: bool,
    opened_by_this_step: bool,
    probe: bool,
}

#[derive(Debug, Serialize)]
struct BudgetView {
    limit: u64,
    spent: u64,
    left: u64,
    ran_out: bool,
}

fn state_view<'a>(report: &Report<'a>) -> Option<StateView<'a>> {
    report.result.shared.as_ref()?;
    Some(StateView {
        circuit: report.circuit().map(|c| CircuitView {
            name: &c.name,
            state: c.phase.as_str(),
            consecutive_failures: c.consecutive_failures,
            opened_at: c.opened_at_ms.map(rfc3339),
            until: c.until_ms.map(rfc3339),
            skipped: report.was_skipped(),
            opened_by_this_step: c.opened_here,
            probe: c.probed,
        }),
        budget: report.budget().map(|b| BudgetView {
            limit: b.limit,
            spent: b.spent,
            left: b.left(),
            ran_out: b.ran_out,
        }),
    })
}

#[derive(Debug, Serialize)]
struct PlanView {
    command: String,
    max_attempts: u32,
    retry_on: String,
    retry_on_exit_code: Vec<i32>,
    timeout_seconds: Option<f64>,
    total_timeout_seconds: Option<f64>,
    kill_grace_seconds: f64,
    retry_wait_seconds: f64,
    backoff: String,
    backoff_factor: f64,
    max_wait_seconds: Option<f64>,
    jitter: String,
    continue_on_error: bool,
    fallback_command: Option<String>,
    fallback_outcome: &'static str,
    on_flaky: &'static str,
}

#[derive(Debug, Serialize)]
struct AttemptView<'a> {
    number: u32,
    kind: &'static str,
    started_seconds: f64,
    duration_seconds: f64,
    exit_code: i32,
    signal: Option<String>,
    timed_out: bool,
    category: Option<&'static str>,
    severity: Option<String>,
    retryable: Option<bool>,
    rule: Option<&'a str>,
    matched_line: Option<&'a str>,
    wait_after_seconds: Option<f64>,
    stdout_bytes: u64,
    stderr_bytes: u64,
}

fn attempt_view(a: &AttemptRecord) -> AttemptView<'_> {
    let c = a.classification.as_ref();
    AttemptView {
        number: a.number,
        kind: a.kind.as_str(),
        started_seconds: seconds(a.started),
        duration_seconds: seconds(a.duration),
        exit_code: a.exit_code,
        signal: a.signal.map(crate::signals::name),
        timed_out: a.timed_out,
        category: c.map(|c| c.category.as_str()),
        severity: c.map(|c| format!("{:?}", c.severity).to_lowercase()),
        retryable: c.map(|c| c.retryable),
        rule: c.and_then(|c| c.rule.as_deref()),
        matched_line: c.and_then(|c| c.line.as_deref()),
        wait_after_seconds: a.wait_after.map(seconds),
        stdout_bytes: a.stdout_tail.total(),
        stderr_bytes: a.stderr_tail.total(),
    }
}

fn describe(program: &Program) -> String {
    match program {
        Program::Script { text, .. } => text.clone(),
        Program::Argv(_) => program.describe(),
    }
}

/// The whole report as pretty JSON.
#[must_use]
pub fn render(report: &Report<'_>) -> String {
    let plan = report.plan;
    let waits = &plan.policy.waits;
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        recover_version: env!("CARGO_PKG_VERSION"),
        step_id: crate::exec::env::step_id(|name| std::env::var(name).ok()),
        outcome: report.result.outcome.as_str(),
        exit_code: report.exit_code(),
        exit_error: report.exit_error(),
        duration_seconds: seconds(report.result.duration),
        flaky: report.is_flaky(),
        give_up: report.result.give_up.as_ref().map(|g| match g {
            GiveUp::AttemptsExhausted => "attempts_exhausted",
            GiveUp::NotRetryable => "not_retryable",
            GiveUp::ExitCodeNotListed(_) => "exit_code_not_listed",
            GiveUp::Deadline => "deadline",
            GiveUp::CircuitOpen => "circuit_open",
            GiveUp::RetryBudgetSpent => "retry_budget_spent",
            GiveUp::HintTooLong { .. } => "hint_too_long",
        }),
        cancelled_by: report.result.cancelled_by.map(crate::signals::name),
        plan: PlanView {
            command: describe(&plan.command),
            max_attempts: plan.policy.max_attempts,
            retry_on: plan.policy.retry_on.to_string(),
            retry_on_exit_code: plan.policy.retry_on_exit_codes.clone(),
            timeout_seconds: plan.attempt_timeout.map(seconds),
            total_timeout_seconds: plan.total_timeout.map(seconds),
            kill_grace_seconds: seconds(plan.kill_grace),
            retry_wait_seconds: seconds(waits.base),
            backoff: format!("{:?}", waits.backoff).to_lowercase(),
            backoff_factor: waits.factor,
            max_wait_seconds: waits.cap.map(seconds),
            jitter: format!("{:?}", waits.jitter).to_lowercase(),
            continue_on_error: plan.continue_on_error,
            fallback_command: plan.fallback.as_ref().map(describe),
            fallback_outcome: match plan.fallback_outcome {
                FallbackOutcome::Success => "success",
                FallbackOutcome::Failure => "failure",
            },
            on_flaky: match plan.on_flaky {
                OnFlaky::Pass => "pass",
                OnFlaky::Warn => "warn",
                OnFlaky::Fail => "fail",
            },
        },
        attempts: report.attempts().map(attempt_view).collect(),
        fallback: report.fallback().map(attempt_view),
        state: state_view(report),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// Writes the report to `path`, replacing the file.
///
/// # Errors
/// When the file cannot be written.
pub fn write(report: &Report<'_>, path: &Path) -> std::io::Result<()> {
    crate::exec::runner_file::write_whole(path, render(report).as_bytes())
}
