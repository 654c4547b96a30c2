//! The numbers: per workflow → job → step, and per week, from a [`History`]. Pure: no clock, no
//! I/O; the same history gives the same numbers.
//!
//! - A job's attempts are the jobs of one name in one run, one per `run_attempt` (the job's
//!   own). A job that failed on one attempt and passed on a later one is flaky, with or without a
//!   retry action.
//! - A step's numbers come from its step runs ([`parse::step_runs`]), in every attempt of every
//!   job.
//! - Worst first: steps and jobs are ordered by runner time lost, then retries, then failures.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{History, JobRecord, RunRecord, seconds_between};
use super::parse::{self, Source, StepOutcome, StepRun};

/// Everything insights says about a period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Completed runs counted.
    pub runs: u32,
    /// Of those, cancelled.
    pub cancelled_runs: u32,
    /// The workflows, each with its jobs and steps, worst first.
    pub workflows: Vec<WorkflowStats>,
    /// The trend, one entry per ISO week (oldest first).
    pub weeks: Vec<WeekStats>,
}

/// One workflow.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkflowStats {
    /// Its name.
    pub name: String,
    /// Runs counted.
    pub runs: u32,
    /// Of those, cancelled.
    pub cancelled: u32,
    /// Its jobs, worst first.
    pub jobs: Vec<JobStats>,
}

/// One job (by name) of a workflow.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JobStats {
    /// The job's name.
    pub name: String,
    /// Runs in which the job ran.
    pub runs: u32,
    /// Passed on its first attempt.
    pub passed_first: u32,
    /// Failed on an attempt and passed on a later one (re-run).
    pub flaky: u32,
    /// Failed on its last attempt.
    pub failed: u32,
    /// Cancelled on its last attempt.
    pub cancelled: u32,
    /// Attempts after the first (re-runs).
    pub reruns: u32,
    /// Runner seconds of failed attempts that were re-run.
    pub rerun_lost_s: f64,
    /// Job attempts whose annotations reached GitHub's limit of 50.
    pub truncated: u32,
    /// Its steps, worst first.
    pub steps: Vec<StepStats>,
}

/// One step (by label) of a job.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StepStats {
    /// The step: its command, or `nick-fields/retry step N`.
    pub label: String,
    /// Where its facts come from.
    pub source: Option<Source>,
    /// Step runs.
    pub runs: u32,
    /// Passed on the first attempt.
    pub first_try: u32,
    /// Passed after retries: flaky.
    pub recovered: u32,
    /// Ended in the fallback command.
    pub fallback: u32,
    /// Failed.
    pub failures: u32,
    /// Cancelled.
    pub cancelled: u32,
    /// Attempts after the first.
    pub retries: u32,
    /// Seconds lost to failed attempts and waits (recover steps only).
    pub lost_s: f64,
    /// Whether `lost_s` is known (some runs come from warnings, which carry no times).
    pub lost_known: bool,
    /// Categories of the last failure of runs that failed at least once.
    pub categories: BTreeMap<String, u32>,
    /// Rules of the last failure of runs that failed at least once.
    pub rules: BTreeMap<String, u32>,
    /// Median retries of the recovered runs.
    pub median_retries_to_recover: Option<f64>,
    /// Median seconds lost in the recovered runs.
    pub median_recovered_lost_s: Option<f64>,
    /// Median seconds the failure took to go away, in the recovered runs.
    pub median_recovery_s: Option<f64>,
    /// Runs that retried a failure classified permanent.
    pub retried_permanent: u32,
    /// The most common `retry_wait_seconds`.
    pub wait_s: Option<f64>,
    /// The most common backoff.
    pub backoff: Option<String>,
    /// Runs whose counts may be truncated by GitHub's annotation limits.
    pub may_be_truncated: u32,
}

/// One ISO week.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WeekStats {
    /// `2026-W48`.
    pub week: String,
    /// Runs created that week.
    pub runs: u32,
    /// Step runs that recovered after retries.
    pub recovered: u32,
    /// Step runs that failed or fell back.
    pub failures: u32,
    /// Retries.
    pub retries: u32,
    /// Seconds lost in steps.
    pub lost_s: f64,
    /// Jobs that passed only on a re-run.
    pub flaky_jobs: u32,
}

/// The numbers of a history.
#[must_use]
pub fn aggregate(history: &History) -> Totals {
    let mut totals = Totals::default();
    let mut workflows: BTreeMap<String, WorkflowAcc> = BTreeMap::new();
    let mut weeks: BTreeMap<String, WeekStats> = BTreeMap::new();
    for record in &history.runs {
        totals.runs += 1;
        let cancelled = record.run.conclusion.as_deref() == Some("cancelled");
        totals.cancelled_runs += u32::from(cancelled);
        let name = record
            .run
            .name
            .clone()
            .or_else(|| record.run.path.clone())
            .unwrap_or_else(|| "(unnamed workflow)".to_owned());
        let workflow = workflows.entry(name).or_default();
        workflow.runs += 1;
        workflow.cancelled += u32::from(cancelled);
        let week_name = iso_week(record.run.created_at.as_deref());
        let week = weeks.entry(week_name.clone()).or_default();
        week.week = week_name;
        week.runs += 1;
        add_run(workflow, week, record);
    }
    totals.workflows = workflows
        .into_iter()
        .map(|(name, acc)| acc.finish(name))
        .collect();
    totals.weeks = weeks.into_values().collect();
    totals
}

#[derive(Default)]
struct WorkflowAcc {
    runs: u32,
    cancelled: u32,
    jobs: BTreeMap<String, JobAcc>,
}

#[derive(Default)]
struct JobAcc {
    stats: JobStats,
    steps: BTreeMap<String, Vec<StepRun>>,
}

fn add_run(workflow: &mut WorkflowAcc, week: &mut WeekStats, record: &RunRecord) {
    let mut by_name: BTreeMap<&str, Vec<&JobRecord>> = BTreeMap::new();
    for job in &record.jobs {
        by_name.entry(job.job.name.as_str()).or_default().push(job);
    }
    for (name, mut attempts) in by_name {
        attempts.sort_by_key(|j| j.job.run_attempt.unwrap_or(1));
        if attempts
            .iter()
            .all(|j| j.job.conclusion.as_deref() == Some("skipped"))
        {
            continue;
        }
        let acc = workflow.jobs.entry(name.to_owned()).or_default();
        let flaky = add_job_attempts(&mut acc.stats, &attempts);
        week.flaky_jobs += u32::from(flaky);
        for job in &attempts {
            for run in parse::step_runs(&job.annotations) {
                week.retries += run.attempts.saturating_sub(1);
                week.lost_s += run.lost_s.unwrap_or_default();
                match run.outcome {
                    StepOutcome::Recovered => week.recovered += 1,
                    StepOutcome::Failure | StepOutcome::Fallback => week.failures += 1,
                    _ => {}
                }
                acc.steps.entry(run.label.clone()).or_default().push(run);
            }
        }
    }
}

/// Counts one job's attempts in one run; returns whether it was flaky (failed, then passed).
fn add_job_attempts(stats: &mut JobStats, attempts: &[&JobRecord]) -> bool {
    let failed =
        |j: &&JobRecord| matches!(j.job.conclusion.as_deref(), Some("failure" | "timed_out"));
    let passed = |j: &&JobRecord| j.job.conclusion.as_deref() == Some("success");
    stats.runs += 1;
    stats.reruns += u32::try_from(attempts.len().saturating_sub(1)).unwrap_or(u32::MAX);
    stats.passed_first += u32::from(attempts.first().is_some_and(passed));
    let last = attempts.last();
    let flaky = last.is_some_and(passed) && attempts.iter().rev().skip(1).any(failed);
    stats.flaky += u32::from(flaky);
    stats.failed += u32::from(last.is_some_and(failed));
    stats.cancelled +=
        u32::from(last.is_some_and(|j| j.job.conclusion.as_deref() == Some("cancelled")));
    for earlier in attempts.iter().rev().skip(1).filter(|j| failed(j)) {
        stats.rerun_lost_s += seconds_between(
            earlier.job.started_at.as_deref(),
            earlier.job.completed_at.as_deref(),
        )
        .unwrap_or_default();
    }
    stats.truncated += u32::try_from(
        attempts
            .iter()
            .filter(|j| j.annotations.len() >= parse::JOB_ANNOTATION_LIMIT)
            .count(),
    )
    .unwrap_or(u32::MAX);
    flaky
}

impl WorkflowAcc {
    fn finish(self, name: String) -> WorkflowStats {
        let mut jobs: Vec<JobStats> = self
            .jobs
            .into_iter()
            .map(|(name, acc)| {
                let mut stats = acc.stats;
                stats.name = name;
                stats.steps = acc
                    .steps
                    .into_iter()
                    .map(|(label, runs)| step_stats(label, &runs))
                    .collect();
                stats
                    .steps
                    .sort_by(|a, b| worst(a).total_cmp(&worst(b)).reverse());
                stats
            })
            .collect();
        jobs.sort_by(|a, b| job_cost(a).total_cmp(&job_cost(b)).reverse());
        WorkflowStats {
            name,
            runs: self.runs,
            cancelled: self.cancelled,
            jobs,
        }
    }
}

/// How bad a step is: seconds lost, then retries and failures as tie-breakers.
#[must_use]
pub fn worst(step: &StepStats) -> f64 {
    step.lost_s + f64::from(step.retries) * 1e-3 + f64::from(step.failures) * 1e-6
}

fn job_cost(job: &JobStats) -> f64 {
    job.rerun_lost_s + job.steps.iter().map(worst).sum::<f64>() + f64::from(job.flaky) * 1e-3
}

fn step_stats(label: String, runs: &[StepRun]) -> StepStats {
    let mut s = StepStats {
        label,
        source: runs.iter().map(|r| r.source).min(),
        lost_known: runs.iter().all(|r| r.lost_s.is_some()),
        ..StepStats::default()
    };
    let mut recovered_retries = Vec::new();
    let mut recovered_lost = Vec::new();
    let mut recovery = Vec::new();
    let mut waits: BTreeMap<String, (u32, f64)> = BTreeMap::new();
    let mut backoffs: BTreeMap<String, u32> = BTreeMap::new();
    for run in runs {
        s.runs += 1;
        s.retries += run.attempts.saturating_sub(1);
        s.lost_s += run.lost_s.unwrap_or_default();
        s.retried_permanent += u32::from(run.retried_permanent);
        s.may_be_truncated += u32::from(run.may_be_truncated);
        match run.outcome {
            StepOutcome::Success => s.first_try += 1,
            StepOutcome::Recovered => {
                s.recovered += 1;
                recovered_retries.push(f64::from(run.attempts.saturating_sub(1)));
                recovered_lost.extend(run.lost_s);
                recovery.extend(run.recovery_s);
            }
            StepOutcome::Fallback => s.fallback += 1,
            StepOutcome::Failure => s.failures += 1,
            StepOutcome::Cancelled => s.cancelled += 1,
        }
        if run.outcome != StepOutcome::Success {
            if let Some(category) = &run.category {
                *s.categories.entry(category.clone()).or_default() += 1;
            }
            if let Some(rule) = &run.rule {
                *s.rules.entry(rule.clone()).or_default() += 1;
            }
        }
        if let Some(wait) = run.wait_s {
            let entry = waits.entry(format!("{wait}")).or_insert((0, wait));
            entry.0 += 1;
        }
        if let Some(backoff) = &run.backoff {
            *backoffs.entry(backoff.clone()).or_default() += 1;
        }
    }
    s.lost_s = (s.lost_s * 10.0).round() / 10.0;
    s.median_retries_to_recover = median(&mut recovered_retries);
    s.median_recovered_lost_s = median(&mut recovered_lost);
    s.median_recovery_s = median(&mut recovery);
    s.wait_s = waits.values().max_by_key(|(n, _)| *n).map(|(_, w)| *w);
    s.backoff = backoffs.into_iter().max_by_key(|(_, n)| *n).map(|(b, _)| b);
    s
}

/// The median; the mean of the middle two for an even count.
#[must_use]
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        f64::midpoint(values[mid - 1], values[mid])
    } else {
        values[mid]
    })
}

/// The ISO week of an RFC 3339 instant, `2026-W48`; `unknown` when it does not parse.
fn iso_week(instant: Option<&str>) -> String {
    use chrono::Datelike;
    instant
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(
            || "unknown".to_owned(),
            |t| {
                let week = t.with_timezone(&chrono::Utc).iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_even_and_empty_lists() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn weeks_are_iso_weeks_in_utc() {
        assert_eq!(iso_week(Some("2026-11-30T00:30:00+02:00")), "2026-W48");
        assert_eq!(iso_week(Some("2027-01-01T12:00:00Z")), "2026-W53");
        assert_eq!(iso_week(Some("garbage")), "unknown");
    }
}
