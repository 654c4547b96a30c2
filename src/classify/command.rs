//! The `recover classify` and `recover rules` subcommands: the tools for writing rules.
//!
//! In: parsed arguments, a log (file or standard input), rules files. Out: the verdict or the
//! rule list on standard output, and an exit code; misuse is a [`CommandError`] (exit 2).

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use serde::Serialize;

use super::rules::{Origin, Rules, RulesError, signal_number};
use super::wait::resolve;
use super::{Classification, ExitFacts, WaitHint};
use crate::exec::stream::{Observer, Stream};

/// `recover classify`: explain how recover classifies a log.
#[derive(Debug, Clone, Args)]
pub struct ClassifyArgs {
    /// The exit code of the failed command.
    ///
    /// # Defaults
    /// 1, or 128 + n with `--signal`.
    #[arg(long, allow_negative_numbers = true)]
    pub exit_code: Option<i32>,
    /// The signal that killed the command (`SIGKILL`, `KILL` or `9`).
    #[arg(long, value_name = "SIG")]
    pub signal: Option<String>,
    /// A rules file whose rules go before the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Print one JSON object on one line.
    #[arg(long)]
    pub json: bool,
    /// The log to classify (stdout and stderr together); `-` or nothing reads standard input.
    #[arg(value_name = "LOG")]
    pub log: Option<PathBuf>,
}

/// `recover rules`: check and list rules.
#[derive(Debug, Clone, Args)]
pub struct RulesArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: RulesCommand,
}

/// The `recover rules` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum RulesCommand {
    /// Validate a rules file, its regexes and its examples.
    Check {
        /// The rules file.
        file: PathBuf,
    },
    /// Print the effective rules, highest priority first.
    List {
        /// A rules file whose rules go before the built-in ones.
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
    },
}

/// Why a subcommand could not do its work (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The rules are invalid.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// The log could not be read.
    #[error("log {path}: cannot be read")]
    Log {
        /// The log.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// `--signal` names no known signal.
    #[error("--signal: unknown signal \"{0}\"")]
    Signal(String),
    /// Examples in a rules file do not behave as written.
    #[error("{input}: {problems}")]
    Examples {
        /// The rules file.
        input: Origin,
        /// One line per failing example.
        problems: String,
    },
    /// Standard output could not be written.
    #[error("standard output: cannot be written")]
    Output(#[source] io::Error),
}

/// The one-line JSON form of a verdict.
#[derive(Debug, Serialize)]
struct Verdict<'a> {
    category: &'a str,
    retryable: bool,
    rule: Option<&'a str>,
    line: Option<&'a str>,
    wait_seconds: Option<u64>,
}

/// Runs `recover classify`, writing the verdict to `out`.
///
/// # Errors
/// A [`CommandError`] when the rules, the signal or the log is bad.
pub fn run_classify(
    args: &ClassifyArgs,
    stdin: impl Read,
    mut out: impl Write,
) -> Result<i32, CommandError> {
    let signal = match &args.signal {
        Some(name) => Some(signal_number(name).ok_or_else(|| CommandError::Signal(name.clone()))?),
        None => None,
    };
    let facts = ExitFacts {
        exit_code: args.exit_code.unwrap_or(signal.map_or(1, |n| 128 + n)),
        signal,
        timed_out: false,
    };
    let rules = Arc::new(Rules::load(None, args.rules.as_deref())?);
    let found = match args.log.as_deref() {
        Some(path) if path != Path::new("-") => {
            let file = std::fs::File::open(path).map_err(|source| CommandError::Log {
                path: path.display().to_string(),
                source,
            })?;
            scan(&rules, file, &path.display().to_string())?
        }
        _ => scan(&rules, stdin, "-")?,
    };
    let verdict = rules.classify(&found, &facts);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let text = if args.json {
        render_json(&verdict, now)
    } else {
        render_text(&verdict, &rules, now)
    };
    out.write_all(text.as_bytes())
        .map_err(CommandError::Output)?;
    Ok(0)
}

/// Feeds a log to a matcher for each stream: a saved log mixes both, so rules for either apply.
fn scan(
    rules: &Arc<Rules>,
    mut input: impl Read,
    path: &str,
) -> Result<Vec<super::Found>, CommandError> {
    let mut stdout = rules.matcher(Stream::Stdout);
    let mut stderr = rules.matcher(Stream::Stderr);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(CommandError::Log {
                    path: path.to_string(),
                    source,
                });
            }
        };
        stdout.observe(&buf[..n]);
        stderr.observe(&buf[..n]);
    }
    Ok(vec![stdout.finish(), stderr.finish()])
}

fn wait_seconds(hint: Option<WaitHint>, now: u64) -> Option<u64> {
    hint.map(|h| {
        let wait = resolve(h, now);
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
    })
}

fn render_json(c: &Classification, now: u64) -> String {
    let verdict = Verdict {
        category: c.category.as_str(),
        retryable: c.retryable,
        rule: c.rule.as_deref(),
        line: c.line.as_deref(),
        wait_seconds: wait_seconds(c.wait_hint, now),
    };
    let mut text = serde_json::to_string(&verdict).expect("a verdict serialises");
    text.push('\n');
    text
}

fn render_text(c: &Classification, rules: &Rules, now: u64) -> String {
    let rule = match &c.rule {
        Some(name) => {
            let origin = rules
                .rules()
                .iter()
                .find(|r| &r.name == name)
                .map(|r| r.origin.to_string())
                .unwrap_or_default();
            format!("{name} ({origin})")
        }
        None => "none (decided by the exit code)".to_string(),
    };
    let wait = match wait_seconds(c.wait_hint, now) {
        Some(s) => format!("{s}s (asked for by the output)"),
        None => "none (the backoff decides)".to_string(),
    };
    format!(
        "category:  {}\nseverity:  {}\nretryable: {}\nrule:      {rule}\nline:      {}\nwait:      {wait}\n",
        c.category,
        c.severity.as_str(),
        if c.retryable { "yes" } else { "no" },
        c.line.as_deref().unwrap_or("-"),
    )
}

/// Runs `recover rules check` or `recover rules list`, writing to `out`.
///
/// # Errors
/// A [`CommandError`] naming the input, rule and position when the rules are bad.
pub fn run_rules(args: &RulesArgs, mut out: impl Write) -> Result<i32, CommandError> {
    let text = match &args.command {
        RulesCommand::Check { file } => check(file)?,
        RulesCommand::List { rules } => list(&Rules::load(None, rules.as_deref())?),
    };
    out.write_all(text.as_bytes())
        .map_err(CommandError::Output)?;
    Ok(0)
}

fn check(file: &Path) -> Result<String, CommandError> {
    let origin = Origin::File(file.display().to_string());
    let text = super::rules::read_capped(file, &origin)?;
    let compiled = Rules::compile_input(&text, &origin)?;
    let count = compiled.len();
    let rules = Arc::new(Rules::from_compiled(compiled)?);
    let problems = rules.example_problems();
    if !problems.is_empty() {
        return Err(CommandError::Examples {
            input: origin,
            problems: problems.join("; "),
        });
    }
    Ok(format!("{origin}: {count} rules ok\n"))
}

fn list(rules: &Rules) -> String {
    let mut text = String::new();
    for (i, rule) in rules.rules().iter().enumerate() {
        text.push_str(&format!(
            "{:>3}  {:<24} {:<10} {:<8} {:<13} {}\n",
            i + 1,
            rule.name,
            rule.category.as_str(),
            rule.severity.as_str(),
            if rule.retryable {
                "retryable"
            } else {
                "not retryable"
            },
            rule.origin
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_json(log: &str, exit_code: Option<i32>, signal: Option<&str>) -> String {
        let args = ClassifyArgs {
            exit_code,
            signal: signal.map(str::to_string),
            rules: None,
            json: true,
            log: None,
        };
        let mut out = Vec::new();
        assert_eq!(run_classify(&args, log.as_bytes(), &mut out).unwrap(), 0);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn classify_prints_one_json_line() {
        assert_eq!(
            classify_json(
                "HTTP/1.1 429 Too Many Requests\nRetry-After: 2\n",
                None,
                None
            ),
            "{\"category\":\"rate_limit\",\"retryable\":true,\"rule\":\"http-429\",\
             \"line\":\"HTTP/1.1 429 Too Many Requests\",\"wait_seconds\":2}\n"
        );
        assert_eq!(
            classify_json("nothing to see\n", None, Some("KILL")),
            "{\"category\":\"resource\",\"retryable\":true,\"rule\":null,\"line\":null,\"wait_seconds\":null}\n"
        );
    }

    #[test]
    fn a_bad_signal_is_misuse() {
        let args = ClassifyArgs {
            exit_code: None,
            signal: Some("SIGNOPE".to_string()),
            rules: None,
            json: false,
            log: None,
        };
        let err = run_classify(&args, &b""[..], Vec::new()).unwrap_err();
        assert_eq!(err.to_string(), "--signal: unknown signal \"SIGNOPE\"");
    }

    #[test]
    fn list_shows_the_builtin_rules_in_order() {
        let text = list(&Rules::builtin());
        assert!(text.starts_with("  1  rustc-error "), "{text}");
        assert!(text.contains("built-in rules"));
    }
}
