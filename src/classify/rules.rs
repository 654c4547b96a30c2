//! Rules files: the YAML schema a person writes, and its compiled form.
//!
//! In: YAML text (the inline `rules` input, a `rules_file`, the embedded built-ins). Out: [`Rules`],
//! every rule compiled and checked, in priority order (inline, then file, then built-ins), or a
//! [`RulesError`] naming the input, the rule and the line and column at fault.
//!
//! The same types generate `docs/rules.schema.json` (a unit test writes and checks it, so schemars
//! is only a dev-dependency), so the schema and the parser cannot drift apart.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use serde_saphyr::Spanned;

pub use super::error::{Origin, RegexField, RulesError};
pub use super::schema::{Examples, RuleSpec, RulesFile, StreamSelector};

use super::decor::undecorated;
use super::line_set::LineSets;
use super::rule::check_not_empty;
pub use super::rule::{Rule, RuleRegex};

/// The largest rules input we read, in bytes. Real rules files are a few kilobytes; the cap keeps
/// a mistaken path (a log, a binary) from costing memory and time.
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;

/// The built-in rules, embedded in the binary.
const BUILTIN_YAML: &str = include_str!("builtin.yml");

/// The effective rules, compiled, in priority order.
#[derive(Debug)]
pub struct Rules {
    pub(super) rules: Vec<Rule>,
    /// Compiled on first use: a command that prints nothing never pays for it, and for one that
    /// does, the relay thread compiles while the command runs. User rules are compiled at once,
    /// so that a set too large to compile is a plan error, not a surprise mid-run.
    sets: OnceLock<LineSets>,
}

impl Rules {
    /// The built-in rules alone.
    ///
    /// # Panics
    /// Never in a released binary: the embedded rules are checked by the test suite.
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
        let sets = OnceLock::new();
        if rules.iter().any(|r| !matches!(r.origin, Origin::Builtin)) {
            let _ = sets.set(LineSets::build(&rules)?);
        }
        Ok(Rules { rules, sets })
    }

    /// The compiled line sets, compiled now if this is their first use.
    pub(super) fn sets(&self) -> &LineSets {
        self.sets.get_or_init(|| {
            LineSets::build(&self.rules)
                .expect("only the built-in rules compile lazily, and a test compiles them")
        })
    }

    /// The rules in priority order.
    #[must_use]
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
}

/// Reads a rules file, refusing more than [`MAX_INPUT_BYTES`] without reading it all.
///
/// # Errors
/// The file cannot be read, is not a regular file, or is larger than the limit.
pub fn read_capped(path: &Path, origin: &Origin) -> Result<String, RulesError> {
    let read_error = |source| RulesError::Read {
        input: origin.clone(),
        source,
    };
    // Opened without blocking, then checked: opening a FIFO waits for a writer, and a FIFO or
    // a device never ends, so only a regular file is read (checked on the open file, not the
    // path, which could change in between).
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        nix::fcntl::OFlag::O_NONBLOCK.bits(),
    );
    let file = options.open(path).map_err(read_error)?;
    if !file.metadata().map_err(read_error)?.is_file() {
        return Err(read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, a device or a directory); give the path of a YAML file",
        )));
    }
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

/// Parses YAML text into rule specs under recover's YAML budget.
fn parse(yaml: &str, origin: &Origin) -> Result<Vec<RuleSpec>, RulesError> {
    let file: RulesFile =
        crate::yaml::from_str(yaml, MAX_INPUT_BYTES).map_err(|e| RulesError::Yaml {
            input: origin.clone(),
            line: e.line,
            column: e.column,
            message: e.message,
        })?;
    Ok(file.rules)
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
        .map(|s| {
            crate::signals::number(s).ok_or_else(|| rule_error(format!("unknown signal \"{s}\"")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let regex = |field, list: &[Spanned<String>]| -> Result<Vec<RuleRegex>, RulesError> {
        list.iter()
            .map(|p| {
                RuleRegex::checked(p.value.clone()).map_err(|source| RulesError::Regex {
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
    // The built-in regexes are checked by the test suite; compiling each of them alone at
    // every start would double the cost of loading the rules for nothing.
    let trusted = matches!(origin, Origin::Builtin);
    let lazy = |list: Vec<Spanned<String>>| -> Vec<RuleRegex> {
        list.into_iter()
            .map(|p| RuleRegex::trusted(undecorated(&p.value)))
            .collect()
    };
    if !trusted {
        regex(RegexField::Pattern, &spec.patterns)?;
    }
    if let Some(p) = spec
        .patterns
        .iter()
        .find(|p| !trusted && !check_not_empty(&p.value))
    {
        return Err(rule_error(format!(
            "pattern \"{}\" matches an empty line",
            p.value
        )));
    }
    let (exclude, wait) = if trusted {
        (lazy(spec.exclude), lazy(spec.wait))
    } else {
        regex(RegexField::Exclude, &spec.exclude)?;
        regex(RegexField::Wait, &spec.wait)?;
        let exclude = widened(&spec.exclude);
        let wait = widened(&spec.wait);
        if let Some(re) = wait.iter().find(|re| re.regex().captures_len() < 2) {
            return Err(rule_error(format!(
                "wait pattern \"{}\" has no capture group",
                re.as_str()
            )));
        }
        (exclude, wait)
    };
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
        symptom: spec.symptom,
        patterns: spec
            .patterns
            .iter()
            .map(|p| undecorated(&p.value))
            .collect(),
        exclude,
        wait,
        stream: spec.stream,
        origin: origin.clone(),
        examples: spec.examples,
        name,
    })
}

/// Regexes already checked as written, compiled with a leading `^` widened to allow CI
/// decorations (see [`undecorated`]).
fn widened(list: &[Spanned<String>]) -> Vec<RuleRegex> {
    list.iter()
        .map(|p| {
            RuleRegex::checked(undecorated(&p.value))
                .expect("a pattern that compiles still compiles with decorations allowed")
        })
        .collect()
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
