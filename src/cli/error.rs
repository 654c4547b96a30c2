//! What can go wrong in recover itself, before or around a run, and its exit code.

use crate::exit_code;
use crate::plan::PlanError;

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
    /// The exit code for this error: 2 for what the user can fix, 71 when recover itself cannot
    /// start.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Runtime(_) => exit_code::CANNOT_START,
            Error::Plan(_) | Error::CircuitName(_) | Error::State(_) => exit_code::USAGE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;
    use crate::exit_code;

    #[test]
    fn bad_input_exits_2_and_a_runtime_that_cannot_start_exits_71() {
        let runtime = Error::Runtime(std::io::Error::other("no threads"));
        assert_eq!(runtime.exit_code(), exit_code::CANNOT_START);
        assert_eq!(runtime.exit_code(), 71);
        assert_eq!(
            Error::CircuitName("..".into()).exit_code(),
            exit_code::USAGE
        );
        assert_eq!(Error::Plan(Vec::new()).exit_code(), 2);
    }
}
