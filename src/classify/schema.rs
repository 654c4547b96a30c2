//! The schema of a rules file as a person writes it: the types serde reads the YAML into and,
//! in a unit test, schemars turns into `docs/rules.schema.json`.
//!
//! In: YAML (through serde). Out: [`RulesFile`], checked for shape only; `rules.rs` compiles it.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::{Category, Severity};

/// A rules file as written: a list of rules under `rules`.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(test, schemars(title = "recover rules"))]
pub struct RulesFile {
    /// The rules, highest priority first: the first rule that matches an attempt wins.
    pub rules: Vec<RuleSpec>,
}

/// Which output streams a rule's patterns look at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum StreamSelector {
    /// Standard output only.
    Stdout,
    /// Standard error only.
    Stderr,
    /// Either stream.
    #[default]
    Both,
}

impl StreamSelector {
    /// Whether this selector covers `stream`.
    #[must_use]
    pub fn covers(self, stream: crate::output::Stream) -> bool {
        use crate::output::Stream;
        matches!(
            (self, stream),
            (StreamSelector::Both, _)
                | (StreamSelector::Stdout, Stream::Stdout)
                | (StreamSelector::Stderr, Stream::Stderr)
        )
    }
}

/// One rule as written.
///
/// A rule matches an attempt when every kind of matcher it lists holds: one of its exit codes
/// (when it lists some), one of its signals (when it lists some), and one of its patterns on some
/// output line that none of its exclusions veto (when it lists patterns).
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// A unique name, shown in the report and the `rule` output (`npm-429`).
    #[cfg_attr(test, schemars(with = "String"))]
    pub name: Spanned<String>,
    /// The kind of failure this rule recognises.
    pub category: Category,
    /// How bad the failure is.
    ///
    /// # Defaults
    /// From the category: `permanent` and `resource` are `high`, `rate_limit` and `transient`
    /// are `low`, the others `medium`.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Whether another attempt can help.
    ///
    /// # Defaults
    /// `false` for `permanent`, `true` for every other category.
    #[serde(default)]
    pub retryable: Option<bool>,
    /// Whether the rule names a symptom rather than a cause: what failed (a test, a step, a
    /// resolver that found no version) and not why. A symptom rule decides only when no cause
    /// rule matched any line, so a connection error printed inside a failing test makes the
    /// failure `network`, whatever the order of the rules.
    ///
    /// # Defaults
    /// `false`: the rule names a cause.
    #[serde(default)]
    pub symptom: bool,
    /// Exit codes, one of which the attempt must have ended with.
    #[serde(default)]
    pub exit_codes: Vec<i32>,
    /// Signals (`SIGKILL`, `KILL` or `9`), one of which must have ended the attempt.
    #[serde(default)]
    pub signals: Vec<String>,
    /// Regexes (Rust `regex` syntax), one of which must match an output line. Lines are matched
    /// without their line ending and cut to 4 KiB.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Vec<String>"))]
    pub patterns: Vec<Spanned<String>>,
    /// Regexes that veto a line: a line matching one of them does not count for this rule.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Vec<String>"))]
    pub exclude: Vec<Spanned<String>>,
    /// Which streams the patterns, exclusions and wait patterns look at.
    ///
    /// # Defaults
    /// `both`.
    #[serde(default)]
    pub stream: StreamSelector,
    /// Regexes whose capture group `wait` (or, without one, the first group) gives how long to
    /// wait: seconds (`30`), durations (`2m30s`, `3 minutes`), an HTTP-date, or an epoch time.
    /// They are searched on every line of the attempt, not only the matched one, so a
    /// `Retry-After` header printed apart from the error still counts.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Vec<String>"))]
    pub wait: Vec<Spanned<String>>,
    /// Sample lines that document and test the rule; `recover rules check` verifies them.
    #[serde(default)]
    pub examples: Examples,
}

/// Sample lines for a rule: real lines it must match and near misses it must not.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Examples {
    /// Lines the rule's patterns must match.
    #[serde(default, rename = "match")]
    pub matches: Vec<String>,
    /// Lines the rule must not match (near misses).
    #[serde(default)]
    pub miss: Vec<String>,
}
