//! The rows and lines every format of the report shares: steps and jobs worst first, their
//! cells, the weekly trend, the headline and the notes on partial data and requests.

use super::Insights;
use super::advice::secs;
use super::aggregate::{JobStats, StepStats, WorkflowStats};

/// Every step with its workflow and job, worst first.
pub(super) fn steps(insights: &Insights) -> Vec<(&WorkflowStats, &JobStats, &StepStats)> {
    let mut all: Vec<_> = insights
        .totals
        .workflows
        .iter()
        .flat_map(|w| {
            w.jobs
                .iter()
                .flat_map(move |j| j.steps.iter().map(move |s| (w, j, s)))
        })
        .collect();
    all.sort_by(|a, b| super::aggregate::worst(b.2).total_cmp(&super::aggregate::worst(a.2)));
    all
}

pub(super) fn jobs(insights: &Insights) -> Vec<(&WorkflowStats, &JobStats)> {
    insights
        .totals
        .workflows
        .iter()
        .flat_map(|w| w.jobs.iter().map(move |j| (w, j)))
        .collect()
}

pub(super) const STEP_HEADERS: [&str; 11] = [
    "workflow",
    "job",
    "step",
    "runs",
    "first try",
    "recovered",
    "fallback",
    "failed",
    "retries",
    "time lost",
    "failures by category (rule)",
];

pub(super) fn step_row(w: &WorkflowStats, j: &JobStats, s: &StepStats, code: bool) -> Vec<String> {
    let mut label = if code {
        code_span(&s.label)
    } else {
        s.label.clone()
    };
    if s.may_be_truncated > 0 {
        label.push_str(" *");
    }
    vec![
        w.name.clone(),
        j.name.clone(),
        label,
        s.runs.to_string(),
        s.first_try.to_string(),
        s.recovered.to_string(),
        s.fallback.to_string(),
        s.failures.to_string(),
        s.retries.to_string(),
        if s.lost_known {
            secs(s.lost_s)
        } else {
            "?".to_owned()
        },
        categories(s),
    ]
}

/// `network 12 (npm-503 10), timeout 2`.
fn categories(s: &StepStats) -> String {
    let mut parts: Vec<(&String, &u32)> = s.categories.iter().collect();
    parts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut text: Vec<String> = parts
        .into_iter()
        .map(|(category, n)| format!("{category} {n}"))
        .collect();
    if let Some((rule, n)) = s
        .rules
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
    {
        text.push(format!("(rule {rule} {n})"));
    }
    text.join(", ").replace(", (", " (")
}

pub(super) const JOB_HEADERS: [&str; 7] = [
    "workflow",
    "job",
    "runs",
    "passed first",
    "passed on a re-run",
    "failed",
    "time in re-run attempts",
];

pub(super) fn job_row(w: &WorkflowStats, j: &JobStats) -> Vec<String> {
    vec![
        w.name.clone(),
        j.name.clone(),
        j.runs.to_string(),
        j.passed_first.to_string(),
        j.flaky.to_string(),
        j.failed.to_string(),
        secs(j.rerun_lost_s),
    ]
}

pub(super) const WEEK_HEADERS: [&str; 7] = [
    "week",
    "runs",
    "recovered",
    "failed",
    "retries",
    "time lost",
    "jobs passed on a re-run",
];

pub(super) fn week_rows(insights: &Insights) -> Vec<Vec<String>> {
    insights
        .totals
        .weeks
        .iter()
        .map(|w| {
            vec![
                w.week.clone(),
                w.runs.to_string(),
                w.recovered.to_string(),
                w.failures.to_string(),
                w.retries.to_string(),
                secs(w.lost_s),
                w.flaky_jobs.to_string(),
            ]
        })
        .collect()
}

/// One line with the period and the headline numbers.
pub(super) fn headline(insights: &Insights) -> String {
    let t = &insights.totals;
    let recovered: u32 = t.weeks.iter().map(|w| w.recovered).sum();
    let failures: u32 = t.weeks.iter().map(|w| w.failures).sum();
    let lost: f64 = t.weeks.iter().map(|w| w.lost_s).sum();
    let flaky_jobs: u32 = t.weeks.iter().map(|w| w.flaky_jobs).sum();
    format!(
        "{} runs ({} cancelled) since {}: {recovered} step runs recovered after retries, \
         {failures} failed, {} lost to failed attempts and waits, {flaky_jobs} jobs passed only \
         on a re-run",
        t.runs,
        t.cancelled_runs,
        insights.since,
        secs(lost)
    )
}

pub(super) fn requests(insights: &Insights) -> String {
    let r = &insights.requests;
    format!(
        "API requests: {} sent, {} cost rate limit, {} not modified (ETag), {} from the cache without asking; {}s waited on rate limits",
        r.sent, r.cost, r.not_modified, r.cached, r.waited_seconds
    )
}

pub(super) fn partial_note(insights: &Insights) -> Option<String> {
    (!insights.complete).then(|| {
        format!(
            "PARTIAL: these numbers do not cover the whole period. {}",
            insights.gaps.join("; ")
        )
    })
}

/// A label as inline code, with a fence longer than any run of backticks in it.
pub(super) fn code_span(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let text = text.replace('|', "\\|").replace(['\n', '\r'], " ");
    format!("{fence} {text} {fence}")
}
