//! Classification: what kind of failure an attempt was, whether another attempt can help, and
//! how long the server asked us to wait.
//!
//! In: the facts of a finished attempt ([`ExitFacts`]) and what the rule matcher saw in its output.
//! Out: a [`Classification`]. Everything here is pure: no clock, no disk, no processes.

pub mod decor;
pub mod error;
pub mod examples;
mod lanes;
pub mod lazy;
mod line_set;
pub mod matcher;
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "build.rs encodes images; the library only decodes them"
    )
)]
mod nfa_image;
mod rule;
pub mod rules;
pub mod schema;
mod text;
pub mod verdict;
pub mod wait;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use matcher::{Found, Hit, StreamMatcher};
pub use rules::{Rule, Rules, RulesError};
pub use wait::{WaitHint, resolve};

/// The kind of failure. The words are the product's: they appear in outputs, the summary and
/// `retry_on` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The network failed: refused, reset, DNS, TLS, unreachable.
    Network,
    /// A server asked us to slow down (HTTP 429, API rate limits).
    RateLimit,
    /// The machine ran short: disk, memory, file descriptors, processes.
    Resource,
    /// Something that usually passes on its own: 5xx, lock contention, "try again".
    Transient,
    /// The attempt ran out of time.
    Timeout,
    /// Another attempt cannot help: compile errors, failing assertions, 404, bad flags.
    Permanent,
    /// Nothing matched.
    Unknown,
}

impl Category {
    /// Every category, in documentation order.
    pub const ALL: [Category; 7] = [
        Category::Network,
        Category::RateLimit,
        Category::Resource,
        Category::Transient,
        Category::Timeout,
        Category::Permanent,
        Category::Unknown,
    ];

    /// The name used in inputs, outputs and rules files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Network => "network",
            Category::RateLimit => "rate_limit",
            Category::Resource => "resource",
            Category::Transient => "transient",
            Category::Timeout => "timeout",
            Category::Permanent => "permanent",
            Category::Unknown => "unknown",
        }
    }

    /// Parses a category name as written in `retry_on` or a rules file.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether a failure of this category is worth another attempt when no rule says otherwise.
    ///
    /// `unknown` counts as retryable: recover cannot tell, and retrying is what the step asked for.
    #[must_use]
    pub fn is_retryable_by_default(self) -> bool {
        !matches!(self, Category::Permanent)
    }

    /// The severity a rule of this category gets when it does not name one: `permanent` and
    /// `resource` block the step (`high`), `rate_limit` and `transient` are expected noise
    /// (`low`), the others `medium`.
    #[must_use]
    pub fn default_severity(self) -> Severity {
        match self {
            Category::Permanent | Category::Resource => Severity::High,
            Category::RateLimit | Category::Transient => Severity::Low,
            Category::Network | Category::Timeout | Category::Unknown => Severity::Medium,
        }
    }
}

impl Severity {
    /// The name used in rules files and the report.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a failure is, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Expected noise.
    Low,
    /// Worth a look when it repeats.
    Medium,
    /// Blocks the step.
    High,
    /// Blocks the step and likely others.
    Critical,
}

/// How an attempt ended, as far as classification cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitFacts {
    /// The exit code (128 + n for a signal death, as a shell reports it).
    pub exit_code: i32,
    /// The signal that killed the command, if one did.
    pub signal: Option<i32>,
    /// Whether recover stopped the attempt because its time ran out.
    pub timed_out: bool,
}

/// The verdict on one failed attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// The kind of failure.
    pub category: Category,
    /// How bad it is.
    pub severity: Severity,
    /// Whether another attempt can help.
    pub retryable: bool,
    /// The name of the rule that matched, or `None` when the verdict comes from the exit alone.
    pub rule: Option<String>,
    /// The output line the rule matched (bounded in length).
    pub line: Option<String>,
    /// How long the server asked us to wait (`Retry-After` and the like), as data: an absolute
    /// reset time needs the clock, which the engine reads and passes to [`resolve`].
    pub wait_hint: Option<WaitHint>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_line_sets_compile() {
        let rules = rules::Rules::builtin();
        assert!(line_set::LineSets::build(rules.rules()).is_ok());
    }

    /// The built-in patterns skip the one-by-one checks at start-up, so they are made here.
    #[test]
    fn every_builtin_pattern_compiles_alone_and_never_matches_an_empty_line() {
        let rules = rules::Rules::builtin();
        for rule in rules.rules() {
            for pattern in &rule.patterns {
                assert!(
                    rule::build_regex(pattern).is_ok(),
                    "rule {}: {pattern}",
                    rule.name
                );
                assert!(
                    rule::check_not_empty(pattern),
                    "rule {}: {pattern} matches empty",
                    rule.name
                );
            }
        }
    }

    /// The built-in exclusions and wait patterns are compiled on first use, unchecked: they
    /// are checked here, as a user's are when loaded.
    #[test]
    fn every_builtin_exclusion_and_wait_pattern_compiles() {
        let rules = rules::Rules::builtin();
        let mut waits = 0;
        for rule in rules.rules() {
            for re in &rule.exclude {
                assert!(rule::build_regex(re.as_str()).is_ok(), "rule {}", rule.name);
            }
            for re in &rule.wait {
                let compiled = rule::build_regex(re.as_str());
                assert!(
                    compiled.is_ok_and(|c| c.captures_len() >= 2),
                    "rule {}: wait {} needs a capture group",
                    rule.name,
                    re.as_str()
                );
                waits += 1;
            }
        }
        assert!(waits > 0);
    }

    fn facts(exit_code: i32, signal: Option<i32>, timed_out: bool) -> ExitFacts {
        ExitFacts {
            exit_code,
            signal,
            timed_out,
        }
    }

    #[test]
    fn exit_alone_gives_the_documented_defaults() {
        let cases = [
            (facts(143, Some(15), true), Category::Timeout, true),
            (facts(137, Some(9), false), Category::Resource, true),
            (facts(137, None, false), Category::Resource, true),
            (facts(127, None, false), Category::Permanent, false),
            (facts(126, None, false), Category::Permanent, false),
            (facts(124, None, false), Category::Timeout, true),
            (facts(1, None, false), Category::Unknown, true),
        ];
        for (f, category, retryable) in cases {
            let c = Classification::from_exit(&f);
            assert_eq!((c.category, c.retryable), (category, retryable), "{f:?}");
        }
    }

    #[test]
    fn category_names_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::from_name(c.as_str()), Some(c));
        }
        assert_eq!(Category::from_name("flaky"), None);
    }
}
