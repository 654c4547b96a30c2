//! Advice from the history: what to change in the retry settings, worst step first.
//!
//! In: the [`Totals`] and the period's length in days. Out: sentences. Pure.
//!
//! - A step that recovered: how often, after how many retries and how long, and how many
//!   permanent failures were retried anyway (what `retry_on: classified` saves).
//! - A fixed wait shorter than the service's typical recovery: consider exponential backoff.
//! - A step that retried but never recovered: what the retries cost for nothing.
//! - A job that passed only on a re-run: a candidate for recover.
//! - Counts that GitHub's annotation limits may have cut short.

use std::fmt::Write as _;
use std::time::Duration;

use super::aggregate::{JobStats, StepStats, Totals};
use crate::log::words::human;

/// At most this many sentences: the worst steps' advice first.
pub const MAX_ADVICE: usize = 12;

/// The advice for a period of `days` days.
#[must_use]
pub fn advise(totals: &Totals, days: u32) -> Vec<String> {
    let mut scored: Vec<(f64, String)> = Vec::new();
    for workflow in &totals.workflows {
        for job in &workflow.jobs {
            for step in &job.steps {
                for line in step_advice(step, &job.name, days) {
                    scored.push((step.lost_s + f64::from(step.retries), line));
                }
            }
            if let Some(line) = rerun_advice(job, &workflow.name) {
                scored.push((job.rerun_lost_s + f64::from(job.flaky), line));
            }
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored
        .into_iter()
        .map(|(_, line)| line)
        .take(MAX_ADVICE)
        .collect()
}

fn step_advice(step: &StepStats, job: &str, days: u32) -> Vec<String> {
    let mut lines = Vec::new();
    let who = format!("`{}` in job {job}", step.label);
    if step.recovered > 0 {
        let retries = step.median_retries_to_recover.unwrap_or(1.0);
        let mut line = format!(
            "{who} recovered {} after a median {} {}",
            times(step.recovered),
            number(retries),
            if (retries - 1.0).abs() < f64::EPSILON {
                "retry"
            } else {
                "retries"
            }
        );
        if let Some(lost) = step.median_recovered_lost_s {
            let _ = write!(line, " and {}", secs(lost));
        }
        if step.retried_permanent > 0 {
            let _ = write!(
                line,
                "; {} {} permanent and {} retried anyway (retry_on: classified stops that)",
                step.retried_permanent,
                if step.retried_permanent == 1 {
                    "failure was"
                } else {
                    "failures were"
                },
                if step.retried_permanent == 1 {
                    "was"
                } else {
                    "were"
                }
            );
        }
        lines.push(line);
    }
    if let (Some(wait), Some(recovery), Some("fixed")) =
        (step.wait_s, step.median_recovery_s, step.backoff.as_deref())
        && step.recovered >= 2
        && recovery > wait * 1.5
    {
        lines.push(format!(
            "{who}: retry_wait_seconds {} is shorter than this service's typical recovery \
             (median {}): consider backoff: exponential",
            number(wait),
            secs(recovery)
        ));
    }
    if step.recovered == 0 && step.retries > 0 {
        let cost = if step.lost_known {
            secs(step.lost_s)
        } else {
            format!("{} attempts", step.retries)
        };
        lines.push(format!(
            "{who} never recovered on a retry in {days} days: retries cost {cost} and helped 0 times"
        ));
    }
    if step.may_be_truncated > 0 {
        lines.push(format!(
            "{who}: counts of {} {} may be truncated (GitHub keeps 10 warnings and 10 errors per \
             step, 50 annotations per job)",
            step.may_be_truncated,
            if step.may_be_truncated == 1 {
                "run"
            } else {
                "runs"
            }
        ));
    }
    lines
}

fn rerun_advice(job: &JobStats, workflow: &str) -> Option<String> {
    (job.flaky > 0).then(|| {
        format!(
            "job {} of {workflow} failed and then passed on a re-run {} ({} of runner time in the \
             failed attempts): retry its flaky step with recover instead",
            job.name,
            times(job.flaky),
            secs(job.rerun_lost_s)
        )
    })
}

fn times(n: u32) -> String {
    if n == 1 {
        "once".to_owned()
    } else {
        format!("{n} times")
    }
}

/// A number without a needless `.0`.
fn number(value: f64) -> String {
    if value.fract().abs() < f64::EPSILON {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Seconds as people read them: `12s`, `1m 30s`, `38m`.
#[must_use]
pub fn secs(seconds: f64) -> String {
    human(Duration::from_secs_f64(seconds.max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::aggregate::WorkflowStats;

    fn step(label: &str) -> StepStats {
        StepStats {
            label: label.to_owned(),
            lost_known: true,
            ..StepStats::default()
        }
    }

    #[test]
    fn the_three_kinds_of_step_advice() {
        let recovered = StepStats {
            runs: 40,
            recovered: 31,
            retries: 35,
            lost_s: 400.0,
            median_retries_to_recover: Some(1.0),
            median_recovered_lost_s: Some(12.0),
            median_recovery_s: Some(45.0),
            retried_permanent: 4,
            wait_s: Some(10.0),
            backoff: Some("fixed".to_owned()),
            ..step("npm ci")
        };
        let hopeless = StepStats {
            runs: 12,
            failures: 12,
            retries: 24,
            lost_s: 38.0 * 60.0,
            ..step("cargo test")
        };
        let totals = Totals {
            workflows: vec![WorkflowStats {
                name: "CI".to_owned(),
                jobs: vec![JobStats {
                    name: "build".to_owned(),
                    steps: vec![recovered, hopeless],
                    ..JobStats::default()
                }],
                ..WorkflowStats::default()
            }],
            ..Totals::default()
        };
        assert_eq!(
            advise(&totals, 14),
            [
                "`cargo test` in job build never recovered on a retry in 14 days: retries cost 38m and helped 0 times",
                "`npm ci` in job build recovered 31 times after a median 1 retry and 12s; 4 failures were permanent and were retried anyway (retry_on: classified stops that)",
                "`npm ci` in job build: retry_wait_seconds 10 is shorter than this service's typical recovery (median 45s): consider backoff: exponential",
            ]
        );
    }
}
