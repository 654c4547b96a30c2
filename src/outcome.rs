//! The record of a run: what each attempt did and how the step ended. Written by the attempt
//! loop, read by the report, the log and `recover task`.

use std::time::Duration;

use crate::classify::{Classification, ExitFacts};
use crate::exec::CancelSignal;
use crate::output::Tail;
use crate::policy::GiveUp;
use crate::state::StateNote;

/// Which command an attempt ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptKind {
    /// `command`, attempt 1.
    Primary,
    /// A later attempt (`command`, or `new_command_on_retry`).
    Retry,
    /// `fallback_command`, after the attempts ran out.
    Fallback,
}

impl AttemptKind {
    /// The word used in the report.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptKind::Primary => "primary",
            AttemptKind::Retry => "retry",
            AttemptKind::Fallback => "fallback",
        }
    }
}

/// What the report needs of one attempt.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// The attempt's number, from 1.
    pub number: u32,
    /// Which command it ran.
    pub kind: AttemptKind,
    /// When it started, from the start of the run.
    pub started: Duration,
    /// How long it took.
    pub duration: Duration,
    /// Its exit code (128 + n for a signal death).
    pub exit_code: i32,
    /// The signal that ended it, if any.
    pub signal: Option<i32>,
    /// Whether recover stopped it for time.
    pub timed_out: bool,
    /// The timeout in force for this attempt.
    pub timeout: Option<Duration>,
    /// The deadline (`total_timeout_seconds`) when it, not the attempt's own timeout, set
    /// [`AttemptRecord::timeout`]: a timed-out attempt was then cut by the deadline.
    pub deadline: Option<Duration>,
    /// The verdict, for a failed attempt.
    pub classification: Option<Classification>,
    /// The wait before the next attempt, if one followed.
    pub wait_after: Option<Duration>,
    /// The last bytes of its standard output.
    pub stdout_tail: Tail,
    /// The last bytes of its standard error.
    pub stderr_tail: Tail,
    /// Why it could not start, if it could not.
    pub spawn_error: Option<String>,
}

impl AttemptRecord {
    /// Whether the attempt passed.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        !self.timed_out && self.exit_code == 0
    }

    /// The facts classification works from.
    #[must_use]
    pub fn facts(&self) -> ExitFacts {
        ExitFacts {
            exit_code: self.exit_code,
            signal: self.signal,
            timed_out: self.timed_out,
        }
    }
}

/// How the step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The first attempt passed.
    Success,
    /// A later attempt passed: the step is flaky.
    Recovered,
    /// No attempt passed, but the fallback command did.
    Fallback,
    /// No attempt passed (nor the fallback, if there was one).
    Failure,
    /// recover was cancelled.
    Cancelled,
}

impl Outcome {
    /// The word used in outputs and the report.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Recovered => "recovered",
            Outcome::Fallback => "fallback",
            Outcome::Failure => "failure",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// Everything that happened in a run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The attempts, in order.
    pub attempts: Vec<AttemptRecord>,
    /// How the step ended.
    pub outcome: Outcome,
    /// Why retrying stopped, for a failure.
    pub give_up: Option<GiveUp>,
    /// The signal that cancelled the run.
    pub cancelled_by: Option<CancelSignal>,
    /// The whole run, waits included.
    pub duration: Duration,
    /// What the circuit and the retry budget did, when the plan has either.
    pub shared: Option<StateNote>,
    /// The `name=value` pairs the committed runner files added to `GITHUB_OUTPUT`
    /// (`on_retry_command`'s, then the final command's), in order: a composite action passes
    /// on only its declared outputs, so recover carries these in `command_outputs`.
    pub command_outputs: Vec<(String, String)>,
}
