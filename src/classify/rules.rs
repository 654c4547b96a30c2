//! Rules files: the YAML schema a person writes, and its compiled form.
//!
//! In: YAML text (the inline `rules` input, a `rules_file`, the embedded built-ins). Out: [`Rules`],
//! every rule compiled and checked, in priority order (inline, then file, then built-ins), or a
//! [`RulesError`] naming the input, the rule and the line and column at fault.
//!
//! The same types generate `docs/rules.schema.json` (see [`schema_json`]), so the schema and the
//! parser cannot drift apart.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::Path;

use regex::bytes::{Regex, RegexBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::matcher::{LineSets, check_not_empty};
use super::{Category, Severity};

/// The largest rules input we read, in bytes. Real rules files are a few kilobytes; the cap keeps
/// a mistaken path (a log, a binary) from costing memory and time.
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;

/// The largest compiled size of one regex, in bytes (the `regex` crate's `size_limit`).
const REGEX_SIZE_LIMIT: usize = 1024 * 1024;

/// The built-in rules, embedded in the binary.
const BUILTIN_YAML: &str = include_str!("builtin.yml");

/// A rules file as written: a list of rules under `rules`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "recover rules")]
pub struct RulesFile {
    /// The rules, highest priority first: the first rule that matches an attempt wins.
    pub rules: Vec<RuleSpec>,
}

/// Which output streams a rule's patterns look at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
    pub fn covers(self, stream: crate::exec::stream::Stream) -> bool {
        use crate::exec::stream::Stream;
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
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// A unique name, shown in the report and the `rule` output (`npm-429`).
    #[schemars(with = "String")]
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
    /// Exit codes, one of which the attempt must have ended with.
    #[serde(default)]
    pub exit_codes: Vec<i32>,
    /// Signals (`SIGKILL`, `KILL` or `9`), one of which must have ended the attempt.
    #[serde(default)]
    pub signals: Vec<String>,
    /// Regexes (Rust `regex` syntax), one of which must match an output line. Lines are matched
    /// without their line ending and cut to 4 KiB.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub patterns: Vec<Spanned<String>>,
    /// Regexes that veto a line: a line matching one of them does not count for this rule.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
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
    #[schemars(with = "Vec<String>")]
    pub wait: Vec<Spanned<String>>,
    /// Sample lines that document and test the rule; `recover rules check` verifies them.
    #[serde(default)]
    pub examples: Examples,
}

/// Sample lines for a rule: real lines it must match and near misses it must not.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    /// Lines the rule's patterns must match.
    #[serde(default, rename = "match")]
    pub matches: Vec<String>,
    /// Lines the rule must not match (near misses).
    #[serde(default)]
    pub miss: Vec<String>,
}

/// Where a rule came from, for messages and `recover rules list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The inline `rules` input.
    Inline,
    /// A rules file.
    File(String),
    /// The embedded built-in set.
    Builtin,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Inline => f.write_str("rules input"),
            Origin::File(path) => write!(f, "rules file {path}"),
            Origin::Builtin => f.write_str("built-in rules"),
        }
    }
}

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
    /// The patterns as written.
    pub patterns: Vec<String>,
    /// Compiled exclusions.
    pub exclude: Vec<Regex>,
    /// Compiled wait patterns.
    pub wait: Vec<Regex>,
    /// The streams its patterns look at.
    pub stream: StreamSelector,
    /// Where it was written.
    pub origin: Origin,
    /// Sample lines from the rules file.
    pub examples: Examples,
}

/// Which part of a rule a regex error is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexField {
    /// `patterns`.
    Pattern,
    /// `exclude`.
    Exclude,
    /// `wait`.
    Wait,
}

impl std::fmt::Display for RegexField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RegexField::Pattern => "pattern",
            RegexField::Exclude => "exclude pattern",
            RegexField::Wait => "wait pattern",
        })
    }
}

/// Why a rules input was refused. Every message names the input and, where there is one, the
/// rule and the line and column.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The input could not be read.
    #[error("{input}: cannot be read")]
    Read {
        /// The input at fault.
        input: Origin,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The input is larger than [`MAX_INPUT_BYTES`].
    #[error("{input}: larger than the limit of {limit} bytes")]
    TooLarge {
        /// The input at fault.
        input: Origin,
        /// The limit in bytes.
        limit: usize,
    },
    /// The YAML is malformed or does not fit the schema.
    #[error("{input}: line {line} column {column}: {message}")]
    Yaml {
        /// The input at fault.
        input: Origin,
        /// 1-based line, 0 when unknown.
        line: u64,
        /// 1-based column, 0 when unknown.
        column: u64,
        /// What is wrong.
        message: String,
    },
    /// A regex does not compile.
    #[error("{input}: rule \"{rule}\" line {line} column {column}: invalid {field}")]
    Regex {
        /// The input at fault.
        input: Origin,
        /// The rule at fault.
        rule: String,
        /// Which list the regex is in.
        field: RegexField,
        /// 1-based line of the regex.
        line: u64,
        /// 1-based column of the regex.
        column: u64,
        /// The regex engine's explanation.
        #[source]
        source: regex::Error,
    },
    /// The patterns of all rules together do not fit the regex engine's size limits.
    #[error("rules: the patterns for {stream} together are too large to compile")]
    Set {
        /// The stream whose set failed.
        stream: &'static str,
        /// The regex engine's explanation.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Something else about one rule is wrong (no matcher, a duplicate name, a bad signal).
    #[error("{input}: rule \"{rule}\" line {line} column {column}: {message}")]
    Rule {
        /// The input at fault.
        input: Origin,
        /// The rule at fault.
        rule: String,
        /// 1-based line of the rule's name.
        line: u64,
        /// 1-based column of the rule's name.
        column: u64,
        /// What is wrong.
        message: String,
    },
}

/// The effective rules, compiled, in priority order.
#[derive(Debug)]
pub struct Rules {
    pub(super) rules: Vec<Rule>,
    pub(super) sets: LineSets,
}

impl Rules {
    /// The built-in rules alone.
    #[must_use]
    pub fn builtin() -> Rules {
        let specs = parse(BUILTIN_YAML, &Origin::Builtin).expect("the built-in rules parse");
        let rules = compile(specs, &Origin::Builtin).expect("the built-in rules compile");
        Rules::from_compiled(rules).expect("the built-in rules fit the regex size limits")
    }

    /// The effective rules: the inline YAML first, then the file, then the built-ins.
    ///
    /// # Errors
    /// A [`RulesError`] naming the input, rule and position when an input cannot be read, is
    /// too large, is not valid YAML for the schema, or holds a rule that does not compile.
    pub fn load(inline_yaml: Option<&str>, file: Option<&Path>) -> Result<Rules, RulesError> {
        let mut rules = Vec::new();
        if let Some(yaml) = inline_yaml {
            rules.extend(Rules::compile_input(yaml, &Origin::Inline)?);
        }
        if let Some(path) = file {
            let origin = Origin::File(path.display().to_string());
            let yaml = read_capped(path, &origin)?;
            rules.extend(Rules::compile_input(&yaml, &origin)?);
        }
        let builtin = Rules::builtin();
        rules.extend(builtin.rules);
        Rules::from_compiled(rules)
    }

    /// Parses and compiles one input on its own, as `recover rules check` does.
    ///
    /// # Errors
    /// As for [`Rules::load`].
    pub fn compile_input(yaml: &str, origin: &Origin) -> Result<Vec<Rule>, RulesError> {
        if yaml.len() > MAX_INPUT_BYTES {
            return Err(RulesError::TooLarge {
                input: origin.clone(),
                limit: MAX_INPUT_BYTES,
            });
        }
        compile(parse(yaml, origin)?, origin)
    }

    /// Builds the matcher over compiled rules, in the order given.
    ///
    /// # Errors
    /// [`RulesError::Set`] when the patterns together exceed the regex engine's size limits.
    pub fn from_compiled(rules: Vec<Rule>) -> Result<Rules, RulesError> {
        let sets = LineSets::build(&rules)?;
        Ok(Rules { rules, sets })
    }

    /// The rules in priority order.
    #[must_use]
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
}

/// Reads a rules file, refusing more than [`MAX_INPUT_BYTES`] without reading it all.
pub(super) fn read_capped(path: &Path, origin: &Origin) -> Result<String, RulesError> {
    let read_error = |source| RulesError::Read {
        input: origin.clone(),
        source,
    };
    let file = fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(RulesError::TooLarge {
            input: origin.clone(),
            limit: MAX_INPUT_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.utf8_error(),
        ))
    })
}

/// Parses YAML text into rule specs under a tight budget, so that an alias bomb or a deeply
/// nested document fails fast instead of eating memory.
fn parse(yaml: &str, origin: &Origin) -> Result<Vec<RuleSpec>, RulesError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 200_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_recorded_anchor_events: 100_000,
            max_recorded_anchor_bytes: 1024 * 1024,
            max_depth: 32,
            max_documents: 1,
            max_nodes: 100_000,
            max_total_scalar_bytes: MAX_INPUT_BYTES,
            max_merge_keys: 100,
        },
    };
    let file: RulesFile = serde_saphyr::from_str_with_options(yaml, options).map_err(|e| {
        let (line, column) = e
            .location()
            .map_or((0, 0), |location| (location.line(), location.column()));
        RulesError::Yaml {
            input: origin.clone(),
            line,
            column,
            message: yaml_message(&e),
        }
    })?;
    Ok(file.rules)
}

/// The first line of saphyr's message, without its source snippet or its own position.
fn yaml_message(error: &serde_saphyr::Error) -> String {
    let rendered = error.without_snippet().to_string();
    let first = rendered.lines().next().unwrap_or("invalid yaml").trim();
    let first = match first.rfind(" at line ") {
        Some(at) => &first[..at],
        None => first,
    };
    first.to_string()
}

/// Compiles specs in order, checking each.
fn compile(specs: Vec<RuleSpec>, origin: &Origin) -> Result<Vec<Rule>, RulesError> {
    let mut names = HashSet::new();
    specs
        .into_iter()
        .map(|spec| {
            let rule = compile_rule(spec, origin, &names)?;
            names.insert(rule.name.clone());
            Ok(rule)
        })
        .collect()
}

fn compile_rule(
    spec: RuleSpec,
    origin: &Origin,
    names: &HashSet<String>,
) -> Result<Rule, RulesError> {
    let name = spec.name.value.clone();
    let rule_error = |message: String| RulesError::Rule {
        input: origin.clone(),
        rule: name.clone(),
        line: spec.name.referenced.line(),
        column: spec.name.referenced.column(),
        message,
    };
    if name.trim().is_empty() || name.len() > 100 {
        return Err(rule_error(
            "name must be 1 to 100 characters long".to_string(),
        ));
    }
    if names.contains(&name) {
        return Err(rule_error("duplicate rule name".to_string()));
    }
    if spec.patterns.is_empty() && spec.exit_codes.is_empty() && spec.signals.is_empty() {
        return Err(rule_error(
            "a rule needs at least one of patterns, exit_codes or signals".to_string(),
        ));
    }
    let signals = spec
        .signals
        .iter()
        .map(|s| signal_number(s).ok_or_else(|| rule_error(format!("unknown signal \"{s}\""))))
        .collect::<Result<Vec<_>, _>>()?;
    let regex = |field, list: &[Spanned<String>]| -> Result<Vec<Regex>, RulesError> {
        list.iter()
            .map(|p| {
                build_regex(&p.value).map_err(|source| RulesError::Regex {
                    input: origin.clone(),
                    rule: name.clone(),
                    field,
                    line: p.referenced.line(),
                    column: p.referenced.column(),
                    source,
                })
            })
            .collect()
    };
    regex(RegexField::Pattern, &spec.patterns)?;
    if let Some(p) = spec.patterns.iter().find(|p| !check_not_empty(&p.value)) {
        return Err(rule_error(format!(
            "pattern \"{}\" matches an empty line",
            p.value
        )));
    }
    let exclude = regex(RegexField::Exclude, &spec.exclude)?;
    let wait = regex(RegexField::Wait, &spec.wait)?;
    if let Some((p, _)) = spec
        .wait
        .iter()
        .zip(&wait)
        .find(|(_, re)| re.captures_len() < 2)
    {
        return Err(rule_error(format!(
            "wait pattern \"{}\" has no capture group",
            p.value
        )));
    }
    Ok(Rule {
        category: spec.category,
        severity: spec
            .severity
            .unwrap_or_else(|| spec.category.default_severity()),
        retryable: spec
            .retryable
            .unwrap_or_else(|| spec.category.is_retryable_by_default()),
        exit_codes: spec.exit_codes,
        signals,
        patterns: spec.patterns.into_iter().map(|p| p.value).collect(),
        exclude,
        wait,
        stream: spec.stream,
        origin: origin.clone(),
        examples: spec.examples,
        name,
    })
}

/// Compiles one regex the way every rule regex is compiled: multi-line, so `^` and `$` work
/// at line boundaries in the matcher's whole-chunk prefilter too, and CRLF-aware.
pub(super) fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .multi_line(true)
        .crlf(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// A signal by name (`SIGKILL`, `KILL`, any case) or number (`9`), as numbered on Linux.
#[must_use]
pub fn signal_number(text: &str) -> Option<i32> {
    const NAMES: [(&str, i32); 20] = [
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("ILL", 4),
        ("TRAP", 5),
        ("ABRT", 6),
        ("BUS", 7),
        ("FPE", 8),
        ("KILL", 9),
        ("USR1", 10),
        ("SEGV", 11),
        ("USR2", 12),
        ("PIPE", 13),
        ("ALRM", 14),
        ("TERM", 15),
        ("CHLD", 17),
        ("XCPU", 24),
        ("XFSZ", 25),
        ("SYS", 31),
        ("IOT", 6),
    ];
    let text = text.trim();
    if let Ok(n) = text.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    NAMES.iter().find(|(n, _)| *n == bare).map(|(_, v)| *v)
}

/// The JSON Schema of rules files, as committed in `docs/rules.schema.json`.
#[must_use]
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(RulesFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
