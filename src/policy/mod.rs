//! Retry policy: how long to wait before each retry, which failures to retry, and the decision
//! after each attempt.
//!
//! In: the plan's policy values, the attempt's exit facts and classification, the time left.
//! Out: waits (an iterator) and a [`Decision`]. Pure: no clock, no sleeping; randomness comes
//! from an RNG the caller seeds, so tests can replay exact sequences.

mod retry_on;
mod waits;

use std::time::Duration;

pub use retry_on::{RetryCondition, RetryOn};
pub use waits::{Backoff, Jitter, WaitPolicy, Waits};

use crate::classify::{Category, Classification, ExitFacts};

/// What recover does after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The attempt passed: the step is done.
    Succeed,
    /// Another attempt follows after `wait`.
    Retry {
        /// How long to wait first.
        wait: Duration,
        /// Whether the wait came from the output (`Retry-After` and the like).
        from_hint: bool,
    },
    /// No more attempts.
    GiveUp(GiveUp),
}

/// Why recover stopped retrying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GiveUp {
    /// That was attempt `max_attempts`.
    AttemptsExhausted,
    /// `retry_on` does not cover this failure.
    NotRetryable,
    /// `retry_on_exit_code` does not list this exit code.
    ExitCodeNotListed(i32),
    /// The wait and another attempt do not fit before the deadline.
    Deadline,
    /// The step's circuit is open (it opened during the step, or was open at its start): the
    /// service looks down, so retrying would only add load.
    CircuitOpen,
    /// The retry budget shared through `state_dir` is spent.
    RetryBudgetSpent,
    /// The output (`Retry-After` and the like) or the GitHub API asked for a wait longer than
    /// the step can use: sleeping through it would hold the runner for nothing.
    HintTooLong {
        /// The wait asked for.
        wait: Duration,
        /// The most the step could wait: `max_hint_wait_seconds`, or the time left before the
        /// deadline.
        limit: Duration,
        /// Whether the limit is the deadline (else `max_hint_wait_seconds` or its default).
        deadline: bool,
    },
}

/// What `decide` looks at.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    /// The attempt just finished, from 1.
    pub attempt: u32,
    /// How the attempt ended.
    pub facts: &'a ExitFacts,
    /// What kind of failure it was.
    pub classification: &'a Classification,
    /// The backoff's wait for the next retry.
    pub backoff_wait: Duration,
    /// The wait the output asked for, already resolved against the clock.
    pub hinted_wait: Option<Duration>,
    /// How many earlier attempts of the step failed with a failure no rule recognised.
    pub earlier_unknown: u32,
    /// Time left before the deadline, if there is one.
    pub remaining: Option<Duration>,
}

/// The retry rules of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Attempts at most, the first included.
    pub max_attempts: u32,
    /// Which failures to retry.
    pub retry_on: RetryOn,
    /// When not empty, only these exit codes are retried (timeouts follow `retry_on`).
    pub retry_on_exit_codes: Vec<i32>,
    /// The unknown policy: under `retry_on: classified`, how many failures that no rule
    /// recognised are retried before recover stops (`unknown_retries`).
    pub unknown_retries: u32,
    /// The waits.
    pub waits: WaitPolicy,
    /// The longest wait a hint may ask for (`max_hint_wait_seconds`), when given. Without it,
    /// the limit is the time left before the deadline, or [`DEFAULT_MAX_HINT_WAIT`] when the
    /// step has no deadline.
    pub max_hint_wait: Option<Duration>,
}

/// The longest wait a hint may ask for when the step has neither `max_hint_wait_seconds` nor a
/// deadline: 15 minutes. `Retry-After: 9999999` would otherwise hold the runner for 2,777 hours;
/// a service that needs longer than this is better retried by a later run.
pub const DEFAULT_MAX_HINT_WAIT: Duration = Duration::from_secs(15 * 60);

impl Policy {
    /// The longest hinted wait the step can use, and whether that limit is the deadline.
    #[must_use]
    pub fn hint_limit(&self, remaining: Option<Duration>) -> (Duration, bool) {
        match (self.max_hint_wait, remaining) {
            (Some(max), Some(left)) if left <= max => (left, true),
            (Some(max), _) => (max, false),
            (None, Some(left)) => (left, true),
            (None, None) => (DEFAULT_MAX_HINT_WAIT, false),
        }
    }
}

/// Decides what follows an attempt.
///
/// The order of the checks is the order a user reads them in the log: success, then whether
/// this failure is one to retry, then attempts left, then the deadline.
#[must_use]
pub fn decide(policy: &Policy, s: &Situation<'_>) -> Decision {
    if !s.facts.timed_out && s.facts.exit_code == 0 {
        return Decision::Succeed;
    }
    if !policy.retry_on.allows(s.facts, s.classification)
        || (policy.retry_on.limits_unknown(s.facts, s.classification)
            && s.earlier_unknown >= policy.unknown_retries)
    {
        return Decision::GiveUp(GiveUp::NotRetryable);
    }
    if !s.facts.timed_out
        && !policy.retry_on_exit_codes.is_empty()
        && !policy.retry_on_exit_codes.contains(&s.facts.exit_code)
    {
        return Decision::GiveUp(GiveUp::ExitCodeNotListed(s.facts.exit_code));
    }
    if s.attempt >= policy.max_attempts {
        return Decision::GiveUp(GiveUp::AttemptsExhausted);
    }
    let (wait, from_hint) = match s.hinted_wait {
        Some(hint) => {
            let wait = policy.waits.capped(hint);
            let (limit, deadline) = policy.hint_limit(s.remaining);
            // A wait that only fits with nothing left for the attempt is too long as well.
            if wait > limit || (deadline && wait >= limit) {
                return Decision::GiveUp(GiveUp::HintTooLong {
                    wait,
                    limit,
                    deadline,
                });
            }
            (wait, true)
        }
        None => (s.backoff_wait, false),
    };
    if s.remaining.is_some_and(|left| wait >= left) {
        return Decision::GiveUp(GiveUp::Deadline);
    }
    Decision::Retry { wait, from_hint }
}

/// The built-in rule for GitHub's rate limits (`builtin.yml`): after a failure it classified,
/// the engine may ask the GitHub API when the limit resets.
pub const GITHUB_RATE_LIMIT_RULE: &str = "github-rate-limit";

/// Whether to ask the GitHub API when its rate limit resets before deciding again with that
/// time as the hinted wait: the failure is a GitHub rate limit, its output named no wait, and
/// only the wait stands between it and a retry (the backoff's wait was chosen, or it would not
/// fit before the deadline, where a shorter reset might).
#[must_use]
pub fn asks_rate_limit_reset(s: &Situation<'_>, decision: &Decision) -> bool {
    let waiting = matches!(
        decision,
        Decision::Retry {
            from_hint: false,
            ..
        } | Decision::GiveUp(GiveUp::Deadline)
    );
    waiting
        && s.hinted_wait.is_none()
        && s.classification.category == Category::RateLimit
        && s.classification.rule.as_deref() == Some(GITHUB_RATE_LIMIT_RULE)
}

#[cfg(test)]
mod tests;
