//! The `recover classify` and `recover rules` subcommands: the tools for writing rules.
//!
//! In: parsed arguments, a log (file or standard input), rules files. Out: the verdict or the
//! rule list on standard output, and an exit code; misuse is a [`CommandError`] (exit 2; 1 when
//! standard output cannot take the report).

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::classify::rules::{Origin, Rules, RulesError};
use crate::classify::verdict::{Decider, Evidence};
use crate::classify::wait::resolve;
use crate::classify::{Classification, ExitFacts, WaitHint};
use crate::output::{Observer, Stream};

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
    /// Show the evidence: every rule that matched, with its line, and what decided.
    #[arg(long)]
    pub explain: bool,
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

/// Why a subcommand could not do its work (exit 2, or 1 for [`CommandError::Output`]).
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
    /// With `--explain`: what decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    decided_by: Option<String>,
    /// With `--explain`: every rule that matched, in the order weighed.
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Vec<EvidenceLine<'a>>>,
}

/// One rule that matched, in the JSON form of `--explain`.
#[derive(Debug, Serialize)]
struct EvidenceLine<'a> {
    rule: &'a str,
    category: &'a str,
    role: &'a str,
    line_number: u64,
    line: &'a str,
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
        Some(name) => {
            Some(crate::signals::number(name).ok_or_else(|| CommandError::Signal(name.clone()))?)
        }
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
    let evidence = rules.weigh(&found, &facts);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let explained = args.explain.then_some(&evidence);
    let verdict = &evidence.classification;
    let text = if args.json {
        render_json(verdict, explained, &rules, now)
    } else {
        let mut text = render_text(verdict, &rules, now);
        if let Some(evidence) = explained {
            text.push_str(&render_evidence(evidence, &facts, &rules));
        }
        text
    };
    // Flushed here: what stays in stdout's buffer at exit is dropped on a full pipe.
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CommandError::Output)?;
    Ok(0)
}

/// Feeds a log to a matcher for each stream: a saved log mixes both, so rules for either apply.
fn scan(
    rules: &Arc<Rules>,
    mut input: impl Read,
    path: &str,
) -> Result<Vec<crate::classify::Found>, CommandError> {
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

fn render_json(
    c: &Classification,
    explained: Option<&Evidence>,
    rules: &Rules,
    now: u64,
) -> String {
    let verdict = Verdict {
        category: c.category.as_str(),
        retryable: c.retryable,
        rule: c.rule.as_deref(),
        line: c.line.as_deref(),
        wait_seconds: wait_seconds(c.wait_hint, now),
        decided_by: explained.map(|e| e.decider.describe(rules)),
        evidence: explained.map(|e| {
            e.matched
                .iter()
                .map(|m| {
                    let rule = &rules.rules()[m.rule];
                    EvidenceLine {
                        rule: &rule.name,
                        category: rule.category.as_str(),
                        role: role(rule.symptom),
                        line_number: m.hit.line_number,
                        line: &m.hit.line,
                    }
                })
                .collect()
        }),
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

fn role(symptom: bool) -> &'static str {
    if symptom { "symptom" } else { "cause" }
}

/// The evidence, line by line, in the order the verdict weighs it (see `verdict.rs`).
fn render_evidence(evidence: &Evidence, facts: &ExitFacts, rules: &Rules) -> String {
    let mut text = String::from("\nevidence:\n");
    let signal = facts
        .signal
        .map_or_else(|| "no signal".to_string(), |s| format!("signal {s}"));
    writeln!(
        text,
        "  exit      code {}, {signal}{}",
        facts.exit_code,
        if facts.timed_out { ", timed out" } else { "" }
    )
    .expect("writing to a String cannot fail");
    if evidence.matched.is_empty() {
        text.push_str("  (no rule matched a line)\n");
    }
    for m in &evidence.matched {
        let rule = &rules.rules()[m.rule];
        let decided = match evidence.decider {
            Decider::Cause(i) | Decider::Symptom(i) if i == m.rule => " <- decided",
            _ => "",
        };
        writeln!(
            text,
            "  line {:<5} {} ({}, {}, {}){decided}\n             {}",
            m.hit.line_number,
            rule.name,
            rule.category,
            role(rule.symptom),
            rule.origin,
            m.hit.line,
        )
        .expect("writing to a String cannot fail");
    }
    writeln!(text, "decided:   {}", evidence.decider.describe(rules))
        .expect("writing to a String cannot fail");
    text
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
    // Flushed here: what stays in stdout's buffer at exit is dropped on a full pipe.
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CommandError::Output)?;
    Ok(0)
}

fn check(file: &Path) -> Result<String, CommandError> {
    let origin = Origin::File(file.display().to_string());
    let text = crate::classify::rules::read_capped(file, &origin)?;
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
        writeln!(
            text,
            "{:>3}  {:<24} {:<10} {:<8} {:<13} {}",
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
        )
        .expect("writing to a String cannot fail");
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
            explain: false,
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
            explain: false,
            log: None,
        };
        let err = run_classify(&args, &b""[..], Vec::new()).unwrap_err();
        assert_eq!(err.to_string(), "--signal: unknown signal \"SIGNOPE\"");
    }

    /// `--explain` shows every rule that matched with its line, causes and symptoms alike, and
    /// what decided: here a connection error printed inside a failing test.
    #[test]
    fn explain_shows_every_matching_line_and_what_decided() {
        let log = "collected 3 items\n\
                   FAILED tests/test_api.py::test_fetch - requests.exceptions.ConnectionError: \
                   HTTPConnectionPool(host='db', port=5432): Max retries exceeded (Caused by \
                   NewConnectionError('Failed to establish a new connection: [Errno 111] \
                   Connection refused'))\n\
                   ========== 1 failed, 2 passed in 0.31s ==========\n";
        let args = ClassifyArgs {
            exit_code: None,
            signal: None,
            rules: None,
            json: false,
            explain: true,
            log: None,
        };
        let mut out = Vec::new();
        run_classify(&args, log.as_bytes(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("category:  network\n"), "{text}");
        assert!(text.contains("  exit      code 1, no signal\n"), "{text}");
        assert!(
            text.contains("connection-refused (network, cause, built-in rules) <- decided"),
            "{text}"
        );
        assert!(
            text.contains("line 2     pytest-failed (permanent, symptom, built-in rules)\n"),
            "{text}"
        );
        assert!(
            text.ends_with("decided:   rule connection-refused names a cause\n"),
            "{text}"
        );
    }

    #[test]
    fn list_shows_the_builtin_rules_in_order() {
        let text = list(&Rules::builtin());
        assert!(text.starts_with("  1  rustc-error "), "{text}");
        assert!(text.contains("built-in rules"));
    }
}
