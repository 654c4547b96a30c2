//! The report: what a person and the workflow learn from a run.
//!
//! In: the [`Plan`] and the [`RunResult`]. Out: the step's exit code, the final annotation, and
//! the outputs. Writing outputs is a side channel: a failure there is a warning and never
//! changes the step's result.

pub mod annotations;
pub mod log;
pub mod outputs;

use std::time::Duration;

use crate::error::exit_code;
use crate::plan::Plan;
use crate::policy::GiveUp;
use crate::run::{AttemptRecord, Outcome, RunResult};

/// The facts of a finished run, in the words the outputs and annotations use.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    plan: &'a Plan,
    result: &'a RunResult,
}

impl<'a> Report<'a> {
    /// A report of `result` under `plan`.
    #[must_use]
    pub fn new(plan: &'a Plan, result: &'a RunResult) -> Report<'a> {
        Report { plan, result }
    }

    fn last(&self) -> Option<&AttemptRecord> {
        self.result.attempts.last()
    }

    /// The step's exit status: 0 on success (or with `continue_on_error`), the final attempt's
    /// exit code (1 for a timeout), or 128 + the signal that cancelled recover.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self.result.outcome {
            Outcome::Success | Outcome::Recovered => exit_code::SUCCESS,
            Outcome::Cancelled => 128 + self.result.cancelled_by.unwrap_or(15),
            Outcome::Failure if self.plan.continue_on_error => exit_code::SUCCESS,
            Outcome::Failure => self.failure_code(),
        }
    }

    /// The `exit_code` output: the final attempt's code (1 for a timeout), even when
    /// `continue_on_error` makes the step pass.
    #[must_use]
    pub fn exit_code_output(&self) -> i32 {
        match self.result.outcome {
            Outcome::Failure => self.failure_code(),
            _ => self.exit_code(),
        }
    }

    fn failure_code(&self) -> i32 {
        match self.last() {
            Some(last) if last.timed_out => exit_code::FAILURE,
            Some(last) if last.exit_code != 0 => last.exit_code,
            _ => exit_code::FAILURE,
        }
    }

    /// The `exit_error` output and the final annotation's text, for a failure or a cancellation.
    #[must_use]
    pub fn exit_error(&self) -> Option<String> {
        let last = self.last();
        match self.result.outcome {
            Outcome::Success | Outcome::Recovered => None,
            Outcome::Cancelled => {
                let signal = signal_name(self.result.cancelled_by.unwrap_or(15));
                Some(format!("Cancelled by {signal}"))
            }
            Outcome::Failure => {
                let reason = last.map_or_else(|| "No attempt ran".to_owned(), reason);
                Some(match &self.result.give_up {
                    Some(GiveUp::NotRetryable | GiveUp::ExitCodeNotListed(_)) => reason,
                    Some(GiveUp::Deadline) => {
                        let total = self.plan.total_timeout.unwrap_or_default();
                        format!(
                            "Final attempt failed. {reason}. Total timeout of {} hit",
                            human(total)
                        )
                    }
                    _ => format!("Final attempt failed. {reason}"),
                })
            }
        }
    }

    /// The outputs, in the order they are written.
    #[must_use]
    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("total_attempts", self.result.attempts.len().to_string()),
            ("exit_code", self.exit_code_output().to_string()),
            ("outcome", self.result.outcome.as_str().to_owned()),
            (
                "duration_seconds",
                format!("{:.3}", self.result.duration.as_secs_f64()),
            ),
        ];
        if let Some(error) = self.exit_error() {
            out.push(("exit_error", error));
        }
        let failed = self
            .result
            .attempts
            .iter()
            .rev()
            .find_map(|a| a.classification.as_ref());
        if let Some(classification) = failed {
            out.push(("category", classification.category.as_str().to_owned()));
            out.push(("rule", classification.rule.clone().unwrap_or_default()));
        }
        out
    }

    /// Whether the failure was forgiven by `continue_on_error`.
    #[must_use]
    pub fn is_forgiven(&self) -> bool {
        self.result.outcome == Outcome::Failure && self.plan.continue_on_error
    }
}

/// Why an attempt failed, in nick-fields/retry's words where it has some.
#[must_use]
pub fn reason(attempt: &AttemptRecord) -> String {
    if attempt.timed_out {
        let ms = attempt.timeout.unwrap_or_default().as_millis();
        return format!("Timeout of {ms}ms hit");
    }
    if let Some(signal) = attempt.signal {
        return format!(
            "Child_process was killed by {} (exit code {})",
            signal_name(signal),
            attempt.exit_code
        );
    }
    format!("Child_process exited with error code {}", attempt.exit_code)
}

/// The conventional name of a signal number.
#[must_use]
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

/// A duration as a person reads it: `0s`, `2.5s`, `10s`, `1m 30s`, `2h 5m`.
#[must_use]
pub fn human(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 10.0 && duration.subsec_millis() != 0 {
        return format!("{:.1}s", (secs * 10.0).round() / 10.0);
    }
    let whole = duration.as_secs() + u64::from(duration.subsec_millis() >= 500);
    match whole {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => match s % 60 {
            0 => format!("{}m", s / 60),
            r => format!("{}m {r}s", s / 60),
        },
        s => match (s % 3600) / 60 {
            0 => format!("{}h", s / 3600),
            m => format!("{}h {m}m", s / 3600),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        let cases = [
            (0, "0s"),
            (2500, "2.5s"),
            (10_000, "10s"),
            (90_000, "1m 30s"),
            (120_000, "2m"),
            (7_500_000, "2h 5m"),
        ];
        for (ms, want) in cases {
            assert_eq!(human(Duration::from_millis(ms)), want);
        }
    }
}
