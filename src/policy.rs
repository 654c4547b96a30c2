//! Retry policy: how long to wait before each retry, which failures to retry, and the decision
//! after each attempt.
//!
//! In: the plan's policy values, the attempt's exit facts and classification, the time left.
//! Out: waits (an iterator) and a [`Decision`]. Pure: no clock, no sleeping; randomness comes
//! from an RNG the caller seeds, so tests can replay exact sequences.

use std::collections::BTreeSet;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::classify::{Category, Classification, ExitFacts};

/// The longest wait recover computes; keeps float overflow out of `Duration`.
const LONGEST_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// How the wait grows from one retry to the next. `n` counts retries from 1, `b` is
/// `retry_wait_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// `wait(n) = b`: the same wait every time (nick-fields/retry's behaviour).
    Fixed,
    /// `wait(n) = b × n`.
    Linear,
    /// `wait(n) = b × factor^(n−1)`.
    Exponential,
}

/// Randomness spread over each wait, so that many jobs failing together do not retry together.
/// `d` is the wait from the backoff after the cap, `U[x, y]` a uniform draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// `wait = d`.
    None,
    /// `wait = U[0, d]` ("full jitter").
    Full,
    /// `wait = d/2 + U[0, d/2]` ("equal jitter").
    Equal,
    /// `wait(n) = min(cap, U[b, 3 × wait(n−1)])` with `wait(0) = b` ("decorrelated jitter",
    /// from the AWS architecture blog): it grows on its own, so it ignores `backoff`.
    Decorrelated,
}

/// Everything that shapes the waits between attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitPolicy {
    /// The base wait (`retry_wait_seconds`).
    pub base: Duration,
    /// How the wait grows.
    pub backoff: Backoff,
    /// The factor of exponential backoff.
    ///
    /// # Defaults
    /// 2.
    pub factor: f64,
    /// The longest single wait (`max_wait_seconds`); `None` means no cap.
    pub cap: Option<Duration>,
    /// The randomness added.
    pub jitter: Jitter,
}

impl WaitPolicy {
    /// The waits before retry 1, 2, 3, …, drawn with `rng`.
    #[must_use]
    pub fn waits(&self, rng: StdRng) -> Waits {
        Waits {
            policy: *self,
            retry: 0,
            previous: self.base,
            rng,
        }
    }

    /// The waits with a fresh random seed.
    #[must_use]
    pub fn waits_from_entropy(&self) -> Waits {
        self.waits(rand::make_rng())
    }

    /// The waits with a fixed seed, for tests and reproducible runs.
    #[must_use]
    pub fn waits_seeded(&self, seed: u64) -> Waits {
        self.waits(StdRng::seed_from_u64(seed))
    }

    fn capped(&self, wait: Duration) -> Duration {
        let wait = wait.min(LONGEST_WAIT);
        self.cap.map_or(wait, |cap| wait.min(cap))
    }
}

/// An endless iterator of waits; the caller takes one per retry.
#[derive(Debug)]
pub struct Waits {
    policy: WaitPolicy,
    retry: u32,
    previous: Duration,
    rng: StdRng,
}

impl Iterator for Waits {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.retry = self.retry.saturating_add(1);
        let p = &self.policy;
        let base = p.base.as_secs_f64();
        if base == 0.0 {
            return Some(Duration::ZERO);
        }
        let grown = match p.backoff {
            Backoff::Fixed => base,
            Backoff::Linear => base * f64::from(self.retry),
            Backoff::Exponential => base * p.factor.powf(f64::from(self.retry - 1)),
        };
        let d = p.capped(seconds(grown)).as_secs_f64();
        let wait = match p.jitter {
            Jitter::None => d,
            Jitter::Full => self.rng.random_range(0.0..=d),
            Jitter::Equal => d / 2.0 + self.rng.random_range(0.0..=d / 2.0),
            Jitter::Decorrelated => {
                let high = (self.previous.as_secs_f64() * 3.0).max(base);
                p.capped(seconds(self.rng.random_range(base..=high)))
                    .as_secs_f64()
            }
        };
        let wait = p.capped(seconds(wait));
        self.previous = wait;
        Some(wait)
    }
}

fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(LONGEST_WAIT)
}

/// One condition of `retry_on`; a failure is retried when any condition holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RetryCondition {
    /// Every failure (`any`).
    Any,
    /// Failures that are not timeouts (`error`).
    Error,
    /// Timeouts (`timeout`).
    Timeout,
    /// Failures whose classification says retryable (`classified`).
    Classified,
    /// Failures of one category (`network`, `rate_limit`, …).
    Category(Category),
}

impl std::fmt::Display for RetryCondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RetryCondition::Any => "any",
            RetryCondition::Error => "error",
            RetryCondition::Timeout => "timeout",
            RetryCondition::Classified => "classified",
            RetryCondition::Category(category) => category.as_str(),
        })
    }
}

/// The `retry_on` input: which failures get another attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryOn {
    conditions: BTreeSet<RetryCondition>,
}

impl RetryOn {
    /// The accepted values, for error messages.
    pub const ACCEPTED: &'static str = "any, error, timeout, classified, or a comma list of these and categories (network, rate_limit, resource, transient, timeout, permanent, unknown)";

    /// Parses a comma list such as `error,timeout` or `network,rate_limit`.
    ///
    /// # Errors
    /// The first item that is not a known condition or category, or an empty list.
    pub fn parse(value: &str) -> Result<RetryOn, String> {
        let mut conditions = BTreeSet::new();
        for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let condition = match item.to_ascii_lowercase().as_str() {
                "any" => RetryCondition::Any,
                "error" => RetryCondition::Error,
                "timeout" => RetryCondition::Timeout,
                "classified" => RetryCondition::Classified,
                other => match Category::from_name(other) {
                    Some(category) => RetryCondition::Category(category),
                    None => return Err(item.to_owned()),
                },
            };
            conditions.insert(condition);
        }
        if conditions.is_empty() {
            return Err(value.to_owned());
        }
        Ok(RetryOn { conditions })
    }

    /// Retry everything (the default).
    #[must_use]
    pub fn any() -> RetryOn {
        RetryOn {
            conditions: BTreeSet::from([RetryCondition::Any]),
        }
    }

    /// Whether a failure with these facts and this classification may be retried.
    #[must_use]
    pub fn allows(&self, facts: &ExitFacts, classification: &Classification) -> bool {
        self.conditions.iter().any(|condition| match condition {
            RetryCondition::Any => true,
            RetryCondition::Error => !facts.timed_out,
            RetryCondition::Timeout => facts.timed_out,
            RetryCondition::Classified => classification.retryable,
            RetryCondition::Category(category) => classification.category == *category,
        })
    }

    /// Whether only `classified` retries this failure and no rule recognised it: the case the
    /// unknown policy (`unknown_retries`) limits. A list that names `unknown`, `any` or `error`
    /// keeps retrying such a failure, as it says.
    #[must_use]
    pub fn limits_unknown(&self, facts: &ExitFacts, classification: &Classification) -> bool {
        classification.category == Category::Unknown
            && self.conditions.contains(&RetryCondition::Classified)
            && self.conditions.iter().all(|&condition| {
                condition == RetryCondition::Classified
                    || !RetryOn {
                        conditions: BTreeSet::from([condition]),
                    }
                    .allows(facts, classification)
            })
    }

    /// Whether this is the default `any`.
    #[must_use]
    pub fn is_any(&self) -> bool {
        self.conditions.contains(&RetryCondition::Any)
    }
}

impl std::fmt::Display for RetryOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.conditions.iter().map(ToString::to_string).collect();
        f.write_str(&names.join(","))
    }
}

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
mod tests {
    use super::*;

    fn policy(backoff: Backoff, jitter: Jitter, base: u64, cap: Option<u64>) -> WaitPolicy {
        WaitPolicy {
            base: Duration::from_secs(base),
            backoff,
            factor: 2.0,
            cap: cap.map(Duration::from_secs),
            jitter,
        }
    }

    fn secs(waits: impl Iterator<Item = Duration>, n: usize) -> Vec<f64> {
        waits.take(n).map(|d| d.as_secs_f64()).collect()
    }

    #[test]
    fn exact_sequences_without_jitter() {
        let cases = [
            (Backoff::Fixed, None, vec![10.0, 10.0, 10.0, 10.0, 10.0]),
            (Backoff::Linear, None, vec![10.0, 20.0, 30.0, 40.0, 50.0]),
            (
                Backoff::Exponential,
                None,
                vec![10.0, 20.0, 40.0, 80.0, 160.0],
            ),
            (
                Backoff::Exponential,
                Some(45),
                vec![10.0, 20.0, 40.0, 45.0, 45.0],
            ),
            (
                Backoff::Linear,
                Some(25),
                vec![10.0, 20.0, 25.0, 25.0, 25.0],
            ),
        ];
        for (backoff, cap, want) in cases {
            let p = policy(backoff, Jitter::None, 10, cap);
            assert_eq!(secs(p.waits_seeded(1), 5), want, "{backoff:?} cap {cap:?}");
        }
    }

    #[test]
    fn zero_base_means_no_wait_whatever_the_shape() {
        for backoff in [Backoff::Fixed, Backoff::Linear, Backoff::Exponential] {
            for jitter in [
                Jitter::None,
                Jitter::Full,
                Jitter::Equal,
                Jitter::Decorrelated,
            ] {
                let p = policy(backoff, jitter, 0, None);
                assert!(
                    p.waits_seeded(7).take(6).all(|d| d.is_zero()),
                    "{backoff:?} {jitter:?}"
                );
            }
        }
    }

    #[test]
    fn huge_exponents_saturate_instead_of_panicking() {
        let p = policy(Backoff::Exponential, Jitter::None, 10, None);
        let last = p.waits_seeded(1).nth(5000).unwrap();
        assert_eq!(last, LONGEST_WAIT);
    }

    #[test]
    fn jitter_stays_inside_its_bounds_for_every_backoff() {
        for backoff in [Backoff::Fixed, Backoff::Linear, Backoff::Exponential] {
            let plain = policy(backoff, Jitter::None, 4, Some(60));
            let expected: Vec<Duration> = plain.waits_seeded(0).take(8).collect();
            for seed in 0..200 {
                let full = policy(backoff, Jitter::Full, 4, Some(60)).waits_seeded(seed);
                let equal = policy(backoff, Jitter::Equal, 4, Some(60)).waits_seeded(seed);
                for ((f, e), d) in full.zip(equal).zip(&expected) {
                    assert!(f <= *d, "full {f:?} > {d:?}");
                    assert!(
                        e >= *d / 2 && e <= *d,
                        "equal {e:?} outside [{:?}, {d:?}]",
                        *d / 2
                    );
                }
                let mut previous = Duration::from_secs(4);
                for w in policy(backoff, Jitter::Decorrelated, 4, Some(60))
                    .waits_seeded(seed)
                    .take(8)
                {
                    let high = (previous * 3)
                        .max(Duration::from_secs(4))
                        .min(Duration::from_secs(60));
                    assert!(
                        w >= Duration::from_secs(4) && w <= high,
                        "decorrelated {w:?} outside [4s, {high:?}]"
                    );
                    previous = w;
                }
            }
        }
    }

    #[test]
    fn a_seed_replays_the_same_sequence() {
        for jitter in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
            let p = policy(Backoff::Exponential, jitter, 3, Some(100));
            assert_eq!(secs(p.waits_seeded(42), 6), secs(p.waits_seeded(42), 6));
            assert_ne!(
                secs(p.waits_seeded(42), 6),
                secs(p.waits_seeded(43), 6),
                "{jitter:?}"
            );
        }
    }

    fn classification(category: Category, retryable: bool) -> Classification {
        Classification {
            category,
            retryable,
            ..Classification::from_exit(&failed(1))
        }
    }

    fn failed(code: i32) -> ExitFacts {
        ExitFacts {
            exit_code: code,
            signal: None,
            timed_out: false,
        }
    }

    fn timed_out() -> ExitFacts {
        ExitFacts {
            exit_code: 143,
            signal: Some(15),
            timed_out: true,
        }
    }

    #[test]
    fn retry_on_conditions() {
        let net = classification(Category::Network, true);
        let perm = classification(Category::Permanent, false);
        let tout = classification(Category::Timeout, true);
        let cases = [
            ("any", failed(1), &perm, true),
            ("any", timed_out(), &tout, true),
            ("error", failed(1), &perm, true),
            ("error", timed_out(), &tout, false),
            ("timeout", failed(1), &net, false),
            ("timeout", timed_out(), &tout, true),
            ("classified", failed(1), &net, true),
            ("classified", failed(1), &perm, false),
            ("network, rate_limit", failed(1), &net, true),
            ("network,rate_limit", failed(1), &perm, false),
            ("error,timeout", timed_out(), &tout, true),
        ];
        for (value, facts, class, want) in cases {
            let retry_on = RetryOn::parse(value).unwrap();
            assert_eq!(retry_on.allows(&facts, class), want, "{value} {facts:?}");
        }
        assert_eq!(RetryOn::parse("any,flaky"), Err("flaky".to_owned()));
        assert_eq!(RetryOn::parse(" , "), Err(" , ".to_owned()));
    }

    fn base_policy() -> Policy {
        Policy {
            max_attempts: 3,
            retry_on: RetryOn::any(),
            retry_on_exit_codes: Vec::new(),
            unknown_retries: 1,
            waits: policy(Backoff::Fixed, Jitter::None, 10, Some(30)),
            max_hint_wait: None,
        }
    }

    fn situation<'a>(
        attempt: u32,
        facts: &'a ExitFacts,
        class: &'a Classification,
    ) -> Situation<'a> {
        Situation {
            attempt,
            facts,
            classification: class,
            backoff_wait: Duration::from_secs(10),
            hinted_wait: None,
            earlier_unknown: 0,
            remaining: None,
        }
    }

    /// The unknown policy: under `retry_on: classified`, a failure no rule recognised is retried
    /// `unknown_retries` times, then recover stops; lists that name such failures otherwise
    /// (`unknown`, `any`, `error`) are not limited.
    #[test]
    fn an_unknown_failure_is_retried_unknown_retries_times_under_classified() {
        let f = failed(1);
        let unknown = Classification::from_exit(&f);
        let network = classification(Category::Network, true);
        let classified = Policy {
            retry_on: RetryOn::parse("classified").unwrap(),
            max_attempts: 5,
            ..base_policy()
        };
        let after = |earlier_unknown, class| Situation {
            earlier_unknown,
            ..situation(2, &f, class)
        };
        assert!(matches!(
            decide(&classified, &after(0, &unknown)),
            Decision::Retry { .. }
        ));
        assert_eq!(
            decide(&classified, &after(1, &unknown)),
            Decision::GiveUp(GiveUp::NotRetryable)
        );
        assert!(
            matches!(
                decide(&classified, &after(1, &network)),
                Decision::Retry { .. }
            ),
            "recognised failures are not limited"
        );
        let never = Policy {
            unknown_retries: 0,
            ..classified.clone()
        };
        assert_eq!(
            decide(&never, &after(0, &unknown)),
            Decision::GiveUp(GiveUp::NotRetryable)
        );
        for list in ["classified,unknown", "classified,error", "any"] {
            let wider = Policy {
                retry_on: RetryOn::parse(list).unwrap(),
                ..classified.clone()
            };
            assert!(
                matches!(decide(&wider, &after(3, &unknown)), Decision::Retry { .. }),
                "{list}"
            );
        }
    }

    #[test]
    fn decisions() {
        let p = base_policy();
        let unknown = Classification::from_exit(&failed(1));
        let ok = ExitFacts {
            exit_code: 0,
            signal: None,
            timed_out: false,
        };
        assert_eq!(decide(&p, &situation(1, &ok, &unknown)), Decision::Succeed);
        let f = failed(3);
        assert_eq!(
            decide(&p, &situation(1, &f, &unknown)),
            Decision::Retry {
                wait: Duration::from_secs(10),
                from_hint: false
            }
        );
        assert_eq!(
            decide(&p, &situation(3, &f, &unknown)),
            Decision::GiveUp(GiveUp::AttemptsExhausted)
        );

        let listed = Policy {
            retry_on_exit_codes: vec![2, 5],
            ..base_policy()
        };
        assert_eq!(
            decide(&listed, &situation(1, &f, &unknown)),
            Decision::GiveUp(GiveUp::ExitCodeNotListed(3))
        );
        assert!(matches!(
            decide(&listed, &situation(1, &failed(5), &unknown)),
            Decision::Retry { .. }
        ));
        let t = timed_out();
        assert!(
            matches!(
                decide(&listed, &situation(1, &t, &unknown)),
                Decision::Retry { .. }
            ),
            "timeouts follow retry_on"
        );

        let only_timeouts = Policy {
            retry_on: RetryOn::parse("timeout").unwrap(),
            ..base_policy()
        };
        assert_eq!(
            decide(&only_timeouts, &situation(1, &f, &unknown)),
            Decision::GiveUp(GiveUp::NotRetryable)
        );
    }

    #[test]
    fn hints_replace_the_backoff_within_the_cap_and_the_deadline_bounds_the_wait() {
        let p = base_policy();
        let f = failed(1);
        let unknown = Classification::from_exit(&f);
        let mut s = situation(1, &f, &unknown);
        s.hinted_wait = Some(Duration::from_secs(2));
        assert_eq!(
            decide(&p, &s),
            Decision::Retry {
                wait: Duration::from_secs(2),
                from_hint: true
            }
        );
        s.hinted_wait = Some(Duration::from_secs(600));
        assert_eq!(
            decide(&p, &s),
            Decision::Retry {
                wait: Duration::from_secs(30),
                from_hint: true
            }
        );
        s.hinted_wait = None;
        s.remaining = Some(Duration::from_secs(10));
        assert_eq!(decide(&p, &s), Decision::GiveUp(GiveUp::Deadline));
        s.remaining = Some(Duration::from_secs(11));
        assert!(matches!(decide(&p, &s), Decision::Retry { .. }));
    }

    #[test]
    fn a_hint_longer_than_the_step_can_use_ends_the_retries() {
        let f = failed(1);
        let unknown = Classification::from_exit(&f);
        let secs = Duration::from_secs;
        let uncapped = |max_hint_wait| Policy {
            waits: policy(Backoff::Fixed, Jitter::None, 10, None),
            max_hint_wait,
            ..base_policy()
        };
        let retry = |s| Decision::Retry {
            wait: secs(s),
            from_hint: true,
        };
        let too_long = |wait, limit, deadline| {
            Decision::GiveUp(GiveUp::HintTooLong {
                wait: secs(wait),
                limit: secs(limit),
                deadline,
            })
        };
        // (max_hint_wait_seconds, time left, hint, decision)
        let cases = [
            (None, None, 900, retry(900)),
            (None, None, 901, too_long(901, 900, false)),
            (None, None, 9_999_999, too_long(9_999_999, 900, false)),
            (Some(60), None, 61, too_long(61, 60, false)),
            (Some(60), None, 60, retry(60)),
            (Some(7200), None, 3600, retry(3600)),
            // With a deadline, the time left is the limit unless the input is lower.
            (None, Some(3600), 1800, retry(1800)),
            (None, Some(3600), 3600, too_long(3600, 3600, true)),
            (None, Some(30), 9_999_999, too_long(9_999_999, 30, true)),
            (Some(60), Some(3600), 120, too_long(120, 60, false)),
            (Some(600), Some(100), 200, too_long(200, 100, true)),
        ];
        for (max, left, hint, want) in cases {
            let p = uncapped(max.map(secs));
            let mut s = situation(1, &f, &unknown);
            s.hinted_wait = Some(secs(hint));
            s.remaining = left.map(secs);
            assert_eq!(
                decide(&p, &s),
                want,
                "max {max:?} left {left:?} hint {hint}"
            );
        }
        // max_wait_seconds still caps a hint first: the capped wait is what must fit.
        let mut s = situation(1, &f, &unknown);
        s.hinted_wait = Some(secs(9_999_999));
        assert_eq!(decide(&base_policy(), &s), retry(30));
    }

    #[test]
    fn the_github_rate_limit_rule_is_a_builtin_rate_limit_rule() {
        let rules = crate::classify::Rules::builtin();
        let rule = rules
            .rules()
            .iter()
            .find(|r| r.name == GITHUB_RATE_LIMIT_RULE)
            .expect("builtin.yml has the rule");
        assert_eq!(rule.category, Category::RateLimit);
    }

    #[test]
    fn only_a_github_rate_limit_without_a_hint_that_waits_asks_for_the_reset() {
        let f = failed(1);
        let github = Classification {
            rule: Some(GITHUB_RATE_LIMIT_RULE.to_owned()),
            ..classification(Category::RateLimit, true)
        };
        let docker = Classification {
            rule: Some("docker-rate-limit".to_owned()),
            ..classification(Category::RateLimit, true)
        };
        let backoff = Decision::Retry {
            wait: Duration::from_secs(10),
            from_hint: false,
        };
        let hinted = Decision::Retry {
            wait: Duration::from_secs(10),
            from_hint: true,
        };
        let s = situation(1, &f, &github);
        let with_hint = Situation {
            hinted_wait: Some(Duration::from_secs(10)),
            ..s
        };
        let cases = [
            (s, backoff.clone(), true),
            (s, Decision::GiveUp(GiveUp::Deadline), true),
            (s, hinted, false),
            (with_hint, backoff.clone(), false),
            (s, Decision::GiveUp(GiveUp::AttemptsExhausted), false),
            (s, Decision::GiveUp(GiveUp::NotRetryable), false),
            (s, Decision::Succeed, false),
            (situation(1, &f, &docker), backoff, false),
        ];
        for (situation, decision, want) in cases {
            assert_eq!(
                asks_rate_limit_reset(&situation, &decision),
                want,
                "{decision:?} {:?} {:?}",
                situation.classification.rule,
                situation.hinted_wait
            );
        }
    }
}
