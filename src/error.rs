//! Errors as one line of text.
//!
//! Three cases stay apart in recover: a command that failed is an outcome (`outcome::Outcome`),
//! not an error; recover misused (bad input) is an error and exit 2 (`cli::error`); a side
//! channel that failed (summary, outputs, state) is a warning that leaves the result as it was.

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
