//! Step runs out of a job's annotations: recover's step result first, then the per-attempt
//! warnings that nick-fields/retry writes (and recover too, in the same words), for steps that
//! left no result.
//!
//! In: one job's annotations in the order GitHub lists them, which is the order they were
//! written. Out: one [`StepRun`] per step that retried or reported.
//!
//! - `recover-result {...}` (a notice, [`StepResult`]): the whole result of a recover step. It is
//!   written after the step's warnings and final error, so it claims the warnings just before it.
//! - `Attempt N failed. Reason: R` (a warning): a retried attempt. A run of these with rising N is
//!   one step; N falling back starts the next step.
//! - `Final attempt failed. R` (an error): nick-fields/retry's end of a step that failed.
//!
//! GitHub keeps at most 10 warnings and 10 errors per step and 50 annotations per job, so counts
//! built from warnings may be short; such step runs are marked [`StepRun::may_be_truncated`].

use serde::Serialize;

use super::model::Annotation;
use crate::report::step_result::StepResult;

/// Warnings GitHub keeps per step.
pub const STEP_WARNING_LIMIT: usize = 10;

/// Annotations GitHub keeps per job.
pub const JOB_ANNOTATION_LIMIT: usize = 50;

/// Where a step run's facts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// recover's step result annotation: complete.
    Recover,
    /// `Attempt N failed` warnings: nick-fields/retry (or a recover that wrote no result).
    RetryWarnings,
}

/// How a step run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// Passed on the first attempt.
    Success,
    /// Passed after retries.
    Recovered,
    /// The attempts failed and the fallback command ran.
    Fallback,
    /// Failed.
    Failure,
    /// Cancelled.
    Cancelled,
}

/// One run of one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRun {
    /// The step as people know it: its command for recover, `nick-fields/retry step N` for the
    /// Nth retried step of a job without a result.
    pub label: String,
    /// Where the facts come from.
    pub source: Source,
    /// How it ended.
    pub outcome: StepOutcome,
    /// Attempts, the first included.
    pub attempts: u32,
    /// The category of the last failure, if known.
    pub category: Option<String>,
    /// The rule of the last failure, if known.
    pub rule: Option<String>,
    /// Seconds lost to failed attempts and waits, if known.
    pub lost_s: Option<f64>,
    /// `retry_wait_seconds`, if known.
    pub wait_s: Option<f64>,
    /// The backoff, if known.
    pub backoff: Option<String>,
    /// For a recovered run: seconds from the first failure to the attempt that passed.
    pub recovery_s: Option<f64>,
    /// Whether a permanent failure was retried anyway.
    pub retried_permanent: bool,
    /// Whether GitHub may have dropped some of this run's annotations.
    pub may_be_truncated: bool,
}

/// The step runs of one job, from its annotations.
#[must_use]
pub fn step_runs(annotations: &[Annotation]) -> Vec<StepRun> {
    let job_full = annotations.len() >= JOB_ANNOTATION_LIMIT;
    let mut runs = Vec::new();
    let mut segments: Vec<Segment> = Vec::new();
    let mut pending: Option<Segment> = None;
    for annotation in annotations {
        match read(annotation) {
            Line::Result(result) => {
                // The warnings and the error just before belong to this step.
                pending = None;
                runs.push(from_result(result, job_full));
            }
            Line::Attempt(number, reason) => match &mut pending {
                Some(segment) if !segment.failed && number > segment.last => {
                    segment.last = number;
                    segment.warnings += 1;
                    segment.reason = reason;
                }
                _ => {
                    segments.extend(pending.take());
                    pending = Some(Segment {
                        last: number,
                        warnings: 1,
                        reason,
                        failed: false,
                    });
                }
            },
            Line::FinalFailure(reason) => match &mut pending {
                Some(segment) if !segment.failed => {
                    segment.failed = true;
                    segment.reason = reason;
                }
                _ => {
                    segments.extend(pending.take());
                    pending = Some(Segment {
                        last: 0,
                        warnings: 0,
                        reason,
                        failed: true,
                    });
                }
            },
            Line::Other => {}
        }
    }
    segments.extend(pending);
    for (i, segment) in segments.into_iter().enumerate() {
        runs.push(segment.into_run(i + 1, job_full));
    }
    runs
}

/// A run of `Attempt N failed` warnings, maybe ended by `Final attempt failed`.
#[derive(Debug)]
struct Segment {
    last: u32,
    warnings: usize,
    reason: String,
    failed: bool,
}

impl Segment {
    fn into_run(self, ordinal: usize, job_full: bool) -> StepRun {
        let attempts = self.last + 1;
        StepRun {
            label: format!("nick-fields/retry step {ordinal}"),
            source: Source::RetryWarnings,
            outcome: if self.failed {
                StepOutcome::Failure
            } else {
                StepOutcome::Recovered
            },
            attempts,
            category: self
                .reason
                .starts_with("Timeout of ")
                .then(|| "timeout".to_owned()),
            rule: None,
            lost_s: None,
            wait_s: None,
            backoff: None,
            recovery_s: None,
            retried_permanent: false,
            may_be_truncated: job_full || self.warnings >= STEP_WARNING_LIMIT,
        }
    }
}

fn from_result(result: StepResult, job_full: bool) -> StepRun {
    let outcome = match result.outcome.as_str() {
        "success" => StepOutcome::Success,
        "recovered" => StepOutcome::Recovered,
        "fallback" => StepOutcome::Fallback,
        "cancelled" => StepOutcome::Cancelled,
        _ => StepOutcome::Failure,
    };
    let label = if result.command.is_empty() {
        result
            .id
            .as_deref()
            .and_then(|id| id.rsplit(':').next())
            .unwrap_or("recover step")
            .to_owned()
    } else {
        result.command
    };
    StepRun {
        label,
        source: Source::Recover,
        outcome,
        attempts: result.attempts,
        category: result.category,
        rule: result.rule,
        lost_s: Some(result.lost_s),
        wait_s: Some(result.wait_s),
        backoff: Some(result.backoff).filter(|b| !b.is_empty()),
        recovery_s: result.recovery_s,
        retried_permanent: result.retried_permanent,
        may_be_truncated: job_full,
    }
}

/// What one annotation says.
enum Line {
    Result(StepResult),
    Attempt(u32, String),
    FinalFailure(String),
    Other,
}

fn read(annotation: &Annotation) -> Line {
    let message = annotation.message.trim();
    let level = annotation.annotation_level.as_deref().unwrap_or_default();
    if let Some(result) = StepResult::parse(message) {
        return Line::Result(result);
    }
    if level == "warning"
        && let Some(rest) = message.strip_prefix("Attempt ")
        && let Some((number, reason)) = rest.split_once(" failed. Reason: ")
        && let Ok(number) = number.trim().parse::<u32>()
    {
        return Line::Attempt(number, reason.trim().to_owned());
    }
    if level == "failure"
        && let Some(reason) = message.strip_prefix("Final attempt failed. ")
    {
        return Line::FinalFailure(reason.trim().to_owned());
    }
    Line::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(level: &str, message: &str) -> Annotation {
        Annotation {
            annotation_level: Some(level.to_owned()),
            title: None,
            message: message.to_owned(),
        }
    }

    fn result(outcome: &str, attempts: u32) -> Annotation {
        let tail = format!(
            r#"recover-result {{"v":1,"id":"9:1:build:npm","command":"npm ci","outcome":"{outcome}","attempts":{attempts},"category":"network","rule":"npm-503","lost_s":12.5,"wait_s":10,"backoff":"fixed","recovery_s":10.5,"retried_permanent":false}}"#
        );
        note("notice", &format!("Step result: `npm ci` ...\n{tail}"))
    }

    #[test]
    fn a_result_claims_the_warnings_before_it() {
        let runs = step_runs(&[
            note(
                "warning",
                "Attempt 1 failed. Reason: Child_process exited with error code 1",
            ),
            result("recovered", 2),
        ]);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].label, "npm ci");
        assert_eq!(runs[0].source, Source::Recover);
        assert_eq!(runs[0].outcome, StepOutcome::Recovered);
        assert_eq!(runs[0].lost_s, Some(12.5));
    }

    #[test]
    fn nick_warnings_make_one_step_per_rising_sequence() {
        let runs = step_runs(&[
            note(
                "warning",
                "Attempt 1 failed. Reason: Timeout of 60000ms hit",
            ),
            note(
                "warning",
                "Attempt 2 failed. Reason: Timeout of 60000ms hit",
            ),
            note("failure", "Final attempt failed. Timeout of 60000ms hit"),
            note(
                "warning",
                "Attempt 1 failed. Reason: Child_process exited with error code 1",
            ),
            note("notice", "something else"),
            note(
                "warning",
                "Attempt 1 failed. Reason: Child_process exited with error code 2",
            ),
        ]);
        let summary: Vec<_> = runs
            .iter()
            .map(|r| {
                (
                    r.label.as_str(),
                    r.outcome,
                    r.attempts,
                    r.category.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "nick-fields/retry step 1",
                    StepOutcome::Failure,
                    3,
                    Some("timeout")
                ),
                ("nick-fields/retry step 2", StepOutcome::Recovered, 2, None),
                ("nick-fields/retry step 3", StepOutcome::Recovered, 2, None),
            ]
        );
    }

    #[test]
    fn ten_warnings_or_a_full_job_may_be_truncated() {
        let mut notes: Vec<Annotation> = (1..=10)
            .map(|n| note("warning", &format!("Attempt {n} failed. Reason: x")))
            .collect();
        let runs = step_runs(&notes);
        assert!(runs[0].may_be_truncated);
        notes.truncate(2);
        assert!(!step_runs(&notes)[0].may_be_truncated);
        let mut full: Vec<Annotation> = (0..49).map(|_| note("notice", "other")).collect();
        full.push(result("success", 1));
        assert!(step_runs(&full)[0].may_be_truncated);
    }
}
