//! Why a rules input was refused, and where it came from.
//!
//! In: the failures of parsing and compiling rules. Out: [`RulesError`], whose messages name the
//! input, the rule, and the line and column at fault.

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
    /// The input is larger than [`MAX_INPUT_BYTES`](super::rules::MAX_INPUT_BYTES).
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
