//! One compiled rule and the way every rule regex is compiled. `rules` loads and checks them;
//! `line_set` and `matcher` compile and run their patterns.

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};

use super::error::Origin;
use super::schema::{Examples, StreamSelector};
use super::{Category, Severity};

/// The largest compiled size of one regex, in bytes (the `regex` crate's `size_limit`).
const REGEX_SIZE_LIMIT: usize = 1024 * 1024;

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule's name.
    pub name: String,
    /// The category it assigns.
    pub category: Category,
    /// The severity it assigns.
    pub severity: Severity,
    /// Whether its failures are worth another attempt.
    pub retryable: bool,
    /// Exit codes it requires (any of), empty for no requirement.
    pub exit_codes: Vec<i32>,
    /// Signal numbers it requires (any of), empty for no requirement.
    pub signals: Vec<i32>,
    /// Whether the rule names a symptom (a test failed, a step exited non-zero) rather than a
    /// cause: it decides only when no cause rule matched.
    pub symptom: bool,
    /// The patterns, with a leading `^` widened to allow CI decorations (see [`undecorated`](super::decor::undecorated)).
    pub patterns: Vec<String>,
    /// Exclusions.
    pub exclude: Vec<RuleRegex>,
    /// Wait patterns.
    pub wait: Vec<RuleRegex>,
    /// The streams its patterns look at.
    pub stream: StreamSelector,
    /// Where it was written.
    pub origin: Origin,
    /// Sample lines from the rules file.
    pub examples: Examples,
}

/// One exclusion or wait regex of a rule, compiled on first use.
///
/// These regexes are only needed on a line that a rule's patterns matched, which most runs never
/// see: compiling the built-in ones at load time cost more than loading the rest of the rules.
/// A user's regexes are compiled when loaded, to report errors before anything runs; the
/// built-in ones are checked by the test suite.
#[derive(Debug, Clone)]
pub struct RuleRegex {
    pattern: String,
    compiled: OnceLock<Regex>,
}

impl RuleRegex {
    /// A regex known to compile, compiled when first used.
    pub(super) fn trusted(pattern: String) -> RuleRegex {
        RuleRegex {
            pattern,
            compiled: OnceLock::new(),
        }
    }

    /// A regex compiled now.
    pub(super) fn checked(pattern: String) -> Result<RuleRegex, regex::Error> {
        let compiled = OnceLock::from(build_regex(&pattern)?);
        Ok(RuleRegex { pattern, compiled })
    }

    /// The regex as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// The compiled regex.
    ///
    /// # Panics
    /// If a trusted regex does not compile, which the test suite rules out for the built-ins.
    #[must_use]
    pub fn regex(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            build_regex(&self.pattern).expect("the built-in regexes compile (tested)")
        })
    }
}

/// Compiles one regex the way every rule regex is compiled: multi-line, so `^` and `$` work
/// at line boundaries in the matcher's whole-chunk prefilter too, and CRLF-aware.
///
/// Unicode classes are off: log lines are matched as bytes (`\w` is `[0-9A-Za-z_]`, `(?i)` folds
/// ASCII), which keeps the compiled sets small and quick to build; non-ASCII literals in a
/// pattern still match their UTF-8 bytes.
pub fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .multi_line(true)
        .crlf(true)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Whether `pattern` compiles and cannot match an empty line (which would match every line).
pub(super) fn check_not_empty(pattern: &str) -> bool {
    build_regex(pattern).is_ok_and(|re| !re.is_match(b""))
}
