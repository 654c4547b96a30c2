//! The report: what a person and the workflow learn from a run.
//!
//! In: the [`Plan`] and the [`RunResult`]. Out: the step's exit code, the final annotation, the
//! outputs, the job summary ([`summary`]), the terminal table ([`terminal`]) and the JSON report
//! ([`json`]). Every sink is a side channel: a failure there is a warning and never changes the
//! step's result.

pub mod json;
pub mod outputs;
pub mod sinks;
pub mod step_result;
pub mod summary;
pub mod terminal;

use std::time::Duration;

use crate::classify::Classification;
use crate::exit_code;
use crate::log::words::{ending, human, reason};
use crate::outcome::{AttemptKind, AttemptRecord, Outcome, RunResult};
use crate::plan::{FallbackOutcome, OnFlaky, Plan};
use crate::policy::GiveUp;
use crate::signals;
use crate::state::{BudgetNote, CircuitNote, describe_refusal};

/// The `category` output of a step whose circuit was open at its start: no attempt ran, so
/// there is no failure to classify. It is not a [`Category`](crate::classify::Category) and
/// cannot be named in `retry_on`.
pub const CIRCUIT_OPEN: &str = "circuit_open";

/// Every output `recover run` writes, on every run (empty when it does not apply), in this
/// order; action.yml declares each (a test checks).
pub const OUTPUTS: [&str; 12] = [
    "total_attempts",
    "exit_code",
    "exit_error",
    "outcome",
    "duration_seconds",
    "category",
    "rule",
    "attempts_json",
    "fallback_exit_code",
    "circuit_state",
    "retry_budget_left",
    "command_outputs",
];

/// The facts of a finished run, in the words the outputs and annotations use.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// The plan the run followed.
    pub plan: &'a Plan,
    /// What happened.
    pub result: &'a RunResult,
}

/// An annotation: its kind (`error`, `warning`, `notice`) and its message.
pub type Annotation = (&'static str, String);

impl<'a> Report<'a> {
    /// A report of `result` under `plan`.
    #[must_use]
    pub fn new(plan: &'a Plan, result: &'a RunResult) -> Report<'a> {
        Report { plan, result }
    }

    /// The attempts of the command, without the fallback.
    #[must_use]
    pub fn attempts(&self) -> impl DoubleEndedIterator<Item = &'a AttemptRecord> + 'a {
        self.result
            .attempts
            .iter()
            .filter(|a| a.kind != AttemptKind::Fallback)
    }

    /// The fallback command's run, if it ran.
    #[must_use]
    pub fn fallback(&self) -> Option<&'a AttemptRecord> {
        self.result
            .attempts
            .iter()
            .find(|a| a.kind == AttemptKind::Fallback)
    }

    /// The number of attempts of the command (the fallback is not one).
    #[must_use]
    pub fn attempt_count(&self) -> usize {
        self.attempts().count()
    }

    fn last_attempt(&self) -> Option<&'a AttemptRecord> {
        self.attempts().next_back()
    }

    /// The classification of the last failed attempt of the command.
    #[must_use]
    pub fn last_failure(&self) -> Option<&'a Classification> {
        self.attempts()
            .rev()
            .find_map(|a| a.classification.as_ref())
    }

    /// Whether the step passed only after retries.
    #[must_use]
    pub fn is_flaky(&self) -> bool {
        self.result.outcome == Outcome::Recovered
    }

    /// Whether the step's result is a failure, before `continue_on_error`.
    #[must_use]
    pub fn is_failure(&self) -> bool {
        match self.result.outcome {
            Outcome::Success => false,
            Outcome::Recovered => self.plan.on_flaky == OnFlaky::Fail,
            Outcome::Fallback => self.plan.fallback_outcome == FallbackOutcome::Failure,
            Outcome::Failure | Outcome::Cancelled => true,
        }
    }

    /// The step's exit status: 0 when it passed (or `continue_on_error` forgives it); the final
    /// command's exit code (1 for a timeout); 1 for a flaky step under `on_flaky: fail`; or
    /// 128 + the signal that cancelled recover.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        if let Outcome::Cancelled = self.result.outcome {
            return 128 + self.result.cancelled_by.unwrap_or(15);
        }
        if !self.is_failure() || self.plan.continue_on_error {
            return exit_code::SUCCESS;
        }
        match self.result.outcome {
            Outcome::Failure => code_of(self.result.attempts.last()),
            Outcome::Fallback => code_of(self.last_attempt()),
            _ => exit_code::FAILURE,
        }
    }

    /// The `exit_code` output: the last attempt's code (1 for a timeout), even when
    /// `continue_on_error` or a fallback makes the step pass.
    #[must_use]
    pub fn exit_code_output(&self) -> i32 {
        match self.result.outcome {
            Outcome::Cancelled => self.exit_code(),
            Outcome::Success | Outcome::Recovered => exit_code::SUCCESS,
            Outcome::Failure | Outcome::Fallback => code_of(self.last_attempt()),
        }
    }

    /// The `exit_error` output, when the step's result is a failure.
    #[must_use]
    pub fn exit_error(&self) -> Option<String> {
        if !self.is_failure() {
            return None;
        }
        let skipped = self.was_skipped();
        let reason = match self.last_attempt() {
            Some(attempt) => reason(attempt),
            None if skipped => format!("{}; no attempt ran", self.refusal_text()),
            None => "No attempt ran".to_owned(),
        };
        let failed = if skipped {
            reason.clone()
        } else {
            format!("Final attempt failed. {reason}")
        };
        Some(match self.result.outcome {
            Outcome::Cancelled => {
                let signal = signals::name(self.result.cancelled_by.unwrap_or(15));
                format!("Cancelled by {signal}")
            }
            Outcome::Recovered => format!(
                "The step is flaky: it passed on attempt {} after {} failed; on_flaky is fail",
                self.attempt_count(),
                self.attempt_count() - 1
            ),
            Outcome::Fallback => {
                format!("{failed}. The fallback command passed, but fallback_outcome is failure")
            }
            _ => match (&self.result.give_up, self.fallback()) {
                (_, Some(fallback)) => format!(
                    "{failed}. The fallback command failed too: {}",
                    self::reason(fallback)
                ),
                (Some(GiveUp::NotRetryable | GiveUp::ExitCodeNotListed(_)), None) => reason,
                (Some(GiveUp::CircuitOpen), None) if skipped => reason,
                (Some(GiveUp::CircuitOpen), None) => {
                    let name = self.circuit().map_or("", |c| c.name.as_str());
                    format!("{failed}. Circuit {name} is open, so no more retries")
                }
                (Some(GiveUp::RetryBudgetSpent), None) => {
                    let limit = self.budget().map_or(0, |b| b.limit);
                    format!("{failed}. The retry budget ran out (all {limit} retries are spent)")
                }
                (Some(why @ GiveUp::HintTooLong { .. }), None) => {
                    let what = crate::log::hint_too_long(why);
                    format!("{failed}. Not retrying: {what}")
                }
                (Some(GiveUp::Deadline), None)
                    if self
                        .last_attempt()
                        .is_none_or(|a| a.deadline.is_none() || !a.timed_out) =>
                {
                    let total = self.plan.total_timeout.unwrap_or_default();
                    format!(
                        "Final attempt failed. {reason}. Total timeout of {} hit",
                        human(total)
                    )
                }
                _ => format!("Final attempt failed. {reason}"),
            },
        })
    }

    /// The annotation that ends the step's log, if any: an error on failure (a warning with
    /// `continue_on_error`), a notice when the fallback rescued the step, a warning for a flaky
    /// step under `on_flaky: warn`.
    #[must_use]
    pub fn final_annotation(&self) -> Option<Annotation> {
        let n = self.attempt_count();
        let attempts = if n == 1 {
            "1 attempt".to_owned()
        } else {
            format!("{n} attempts")
        };
        let kind = if self.plan.continue_on_error {
            "warning"
        } else {
            "error"
        };
        match self.result.outcome {
            Outcome::Success => None,
            Outcome::Recovered => match self.plan.on_flaky {
                OnFlaky::Pass => None,
                OnFlaky::Warn => Some((
                    "warning",
                    format!(
                        "Flaky step: passed on attempt {n} after {} failed{}",
                        n - 1,
                        self.cause()
                    ),
                )),
                OnFlaky::Fail => Some((kind, format!("{}{}", self.exit_error()?, self.cause()))),
            },
            Outcome::Fallback if !self.is_failure() && self.was_skipped() => Some((
                "notice",
                format!(
                    "The fallback command ran instead of the command and passed: {}",
                    self.refusal_text()
                ),
            )),
            Outcome::Fallback if !self.is_failure() => Some((
                "notice",
                format!(
                    "The fallback command rescued the step after {attempts} failed{}",
                    self.cause()
                ),
            )),
            Outcome::Cancelled => Some((kind, self.exit_error()?)),
            Outcome::Fallback | Outcome::Failure if self.was_skipped() => {
                Some((kind, format!("circuit_open: {}", self.exit_error()?)))
            }
            Outcome::Fallback | Outcome::Failure => {
                // nick-fields/retry's exact words first, for the people and log scrapers used
                // to them; recover's facts after.
                let what = self.last_failure().map_or_else(
                    || "failure".to_owned(),
                    |c| match &c.rule {
                        Some(rule) => format!("{} failure, rule {rule}", c.category),
                        None => format!("{} failure", c.category),
                    },
                );
                Some((
                    kind,
                    format!("{} ({what}, after {attempts})", self.exit_error()?),
                ))
            }
        }
    }

    /// " (network, rule X)" for the last failure, or nothing.
    fn cause(&self) -> String {
        self.last_failure()
            .map_or_else(String::new, |c| match &c.rule {
                Some(rule) => format!(" ({}, rule {rule})", c.category),
                None => format!(" ({})", c.category),
            })
    }

    /// The outputs, every one of [`OUTPUTS`] in its order, empty when it does not apply:
    /// written after the command's own writes to `GITHUB_OUTPUT`, so that a command cannot set
    /// one of recover's outputs by writing it first.
    #[must_use]
    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        let failure = self.last_failure();
        let category = match failure {
            Some(c) => c.category.as_str().to_owned(),
            None if self.was_skipped() => CIRCUIT_OPEN.to_owned(),
            None => String::new(),
        };
        let values = [
            self.attempt_count().to_string(),
            self.exit_code_output().to_string(),
            self.exit_error().unwrap_or_default(),
            self.result.outcome.as_str().to_owned(),
            format!("{:.3}", self.result.duration.as_secs_f64()),
            category,
            failure.and_then(|c| c.rule.clone()).unwrap_or_default(),
            json::attempts_json(self),
            self.fallback()
                .map(|f| f.exit_code.to_string())
                .unwrap_or_default(),
            self.circuit()
                .map(|c| c.phase.as_str().to_owned())
                .unwrap_or_default(),
            self.budget()
                .map(|b| b.left().to_string())
                .unwrap_or_default(),
            json::command_outputs(&self.result.command_outputs),
        ];
        OUTPUTS.into_iter().zip(values).collect()
    }

    /// The step's circuit, when it has one that could be used.
    #[must_use]
    pub fn circuit(&self) -> Option<&'a CircuitNote> {
        self.result.shared.as_ref()?.circuit.as_ref()
    }

    /// The step's retry budget, when it has one that could be used.
    #[must_use]
    pub fn budget(&self) -> Option<&'a BudgetNote> {
        self.result.shared.as_ref()?.budget.as_ref()
    }

    /// Whether the circuit was open at the step's start, so no attempt ran.
    #[must_use]
    pub fn was_skipped(&self) -> bool {
        self.attempt_count() == 0 && self.result.give_up == Some(GiveUp::CircuitOpen)
    }

    /// "Circuit db is open since … until …", or an empty string without a refusal.
    #[must_use]
    pub fn refusal_text(&self) -> String {
        self.circuit()
            .and_then(|c| Some(describe_refusal(&c.name, c.refused.as_ref()?)))
            .unwrap_or_default()
    }

    /// Runner time spent on failed attempts and the waits after them.
    #[must_use]
    pub fn time_lost(&self) -> Duration {
        self.attempts()
            .filter(|a| !a.succeeded())
            .map(|a| a.duration + a.wait_after.unwrap_or_default())
            .sum()
    }

    /// The first failure that looks permanent but was retried anyway, and the runner time the
    /// retries after it cost: what `retry_on: classified` would have saved.
    #[must_use]
    pub fn wasted_on_permanent(&self) -> Option<(&'a AttemptRecord, Duration)> {
        let attempts: Vec<&AttemptRecord> = self.attempts().collect();
        let first = attempts.iter().position(|a| {
            a.wait_after.is_some() && a.classification.as_ref().is_some_and(|c| !c.retryable)
        })?;
        let wasted = attempts[first].wait_after.unwrap_or_default()
            + attempts[first + 1..]
                .iter()
                .map(|a| a.duration + a.wait_after.unwrap_or_default())
                .sum::<Duration>();
        Some((attempts[first], wasted))
    }
}

fn code_of(attempt: Option<&AttemptRecord>) -> i32 {
    match attempt {
        Some(a) if a.timed_out => exit_code::FAILURE,
        Some(a) if a.exit_code != 0 => a.exit_code,
        _ => exit_code::FAILURE,
    }
}

#[cfg(test)]
mod snapshots;
