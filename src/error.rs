//! recover's errors and the table of exit codes.
//!
//! Three cases stay apart: a command that failed is an [`Outcome`](crate::run::Outcome), not an
//! error; recover misused (bad input) is an [`Error`] and exit 2; a side channel that failed
//! (summary, outputs) is a warning that leaves the result as it was.

use crate::plan::PlanError;

/// The exit codes of `recover`.
///
/// | code | meaning |
/// |---|---|
/// | 0 | the command succeeded (maybe after retries), or failed with `continue_on_error` |
/// | 1 | the final attempt timed out |
/// | n | the final attempt's exit code (128 + s when signal s killed it) |
/// | 2 | bad input: nothing was run |
/// | 129 | cancelled by SIGHUP |
/// | 130 | cancelled by SIGINT |
/// | 143 | cancelled by SIGTERM |
pub mod exit_code {
    /// The command succeeded.
    pub const SUCCESS: i32 = 0;
    /// The final attempt timed out (nick-fields/retry reports 1).
    pub const FAILURE: i32 = 1;
    /// recover was misused: bad input, nothing run.
    pub const USAGE: i32 = 2;
    /// Cancelled by SIGINT.
    pub const CANCELLED_SIGINT: i32 = 130;
    /// Cancelled by SIGTERM.
    pub const CANCELLED_SIGTERM: i32 = 143;
}

/// An error and its causes on one line (`outer: inner: innermost`), for messages that must name
/// the root cause, such as a regex engine's explanation behind "invalid pattern".
#[must_use]
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// What can go wrong in recover itself.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more inputs are invalid.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Plan(Vec<PlanError>),
    /// `recover state reset` was given a name no circuit can have.
    #[error("circuit name {0:?} is not valid; expected {rule}", rule = crate::state::store::NAME_RULE)]
    CircuitName(String),
    /// The state directory cannot be read or changed (`recover state`).
    #[error(transparent)]
    State(#[from] crate::state::store::StoreError),
    /// The async runtime or the signal handlers cannot start.
    #[error("cannot start: {0}")]
    Runtime(#[source] std::io::Error),
}

impl Error {
    /// The exit code for this error.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        exit_code::USAGE
    }
}
