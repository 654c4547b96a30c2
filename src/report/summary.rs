//! The job summary: a Markdown report a person reads in seconds, appended to
//! `$GITHUB_STEP_SUMMARY`.
//!
//! In: a [`Report`]. Out: Markdown of at most [`MAX_BYTES`]. Everything that comes from inputs or
//! command output is escaped: Markdown punctuation in text, HTML in the output blocks, so nothing
//! a command prints can close a block, inject HTML or break the table.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{self, Write as _};
use std::path::Path;

use super::{Report, ending, human, signal_name};
use crate::plan::OnFlaky;
use crate::run::{AttemptKind, AttemptRecord, Outcome};

/// The most one step's summary may take. GitHub allows 1 MiB per step; a report that a person
/// reads in seconds needs far less, and the rest of the job's summary needs room too.
pub const MAX_BYTES: usize = 64 * 1024;

/// Lines of output shown per failed attempt.
pub const TAIL_LINES: usize = 50;

/// Characters kept of each output line.
pub const LINE_CHARS: usize = 240;

/// Characters of the command shown in the heading.
const TITLE_CHARS: usize = 80;

/// Attempts listed in the table; a run with more shows the first and the last ones.
const TABLE_ROWS: usize = 30;

/// Renders the summary.
#[must_use]
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    let (icon, headline) = headline(report);
    let title = text(&cut_to(&report.plan.command.describe(), TITLE_CHARS));
    let _ = writeln!(out, "### {icon} recover: {title}\n");
    let _ = writeln!(out, "{headline}\n");
    table(&mut out, report);
    advice(&mut out, report);
    tails(&mut out, report);
    out
}

fn headline(report: &Report<'_>) -> (&'static str, String) {
    let n = report.attempt_count();
    let max = report.plan.policy.max_attempts;
    let took = human(report.result.duration);
    let cause = report
        .last_failure()
        .map_or_else(String::new, |c| match &c.rule {
            Some(rule) => format!(" Last failure: **{}** (rule {}).", c.category, code(rule)),
            None => format!(" Last failure: **{}**.", c.category),
        });
    match report.result.outcome {
        Outcome::Success => ("✅", format!("**Passed** on the first attempt in {took}.")),
        Outcome::Recovered => (
            "🔁",
            format!(
                "**Recovered** on attempt {n} of {max} after {} failed, in {took}.{cause}",
                n - 1
            ),
        ),
        Outcome::Fallback => (
            "🛟",
            format!(
                "**Fallback**: {n} attempts failed, then the fallback command passed, in {took}.{cause}"
            ),
        ),
        Outcome::Failure => {
            let fallback = if report.fallback().is_some() {
                " The fallback command failed too."
            } else {
                ""
            };
            (
                "❌",
                format!("**Failed** after {n} attempts in {took}.{cause}{fallback}"),
            )
        }
        Outcome::Cancelled => {
            let signal = signal_name(report.result.cancelled_by.unwrap_or(15));
            (
                "⏹️",
                format!("**Cancelled** by {signal} during attempt {n}, after {took}."),
            )
        }
    }
}

fn table(out: &mut String, report: &Report<'_>) {
    out.push_str("| # | command | start | duration | exit | category | rule | wait |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    let rows = &report.result.attempts;
    let skip = rows.len().saturating_sub(TABLE_ROWS);
    for (i, a) in rows.iter().enumerate() {
        if skip > 0 && i == 5 {
            let _ = writeln!(out, "| … | {skip} more attempts | | | | | | |");
        }
        if skip > 0 && (5..5 + skip).contains(&i) {
            continue;
        }
        row(out, a);
    }
    out.push('\n');
}

fn row(out: &mut String, a: &AttemptRecord) {
    let number = if a.kind == AttemptKind::Fallback {
        "–".to_owned()
    } else {
        a.number.to_string()
    };
    let c = a.classification.as_ref();
    let category = c.map_or(String::new(), |c| c.category.to_string());
    let rule = c
        .and_then(|c| c.rule.as_deref())
        .map_or(String::new(), code);
    let wait = a.wait_after.map_or(String::new(), human);
    let exit = if a.succeeded() {
        "0 ✓".to_owned()
    } else {
        ending(a)
    };
    let _ = writeln!(
        out,
        "| {number} | {} | +{} | {} | {exit} | {category} | {rule} | {wait} |",
        a.kind.as_str(),
        human(a.started),
        human(a.duration),
    );
}

fn advice(out: &mut String, report: &Report<'_>) {
    let mut tips = Vec::new();
    if let Some((attempt, wasted)) = report.wasted_on_permanent() {
        let rule = attempt
            .classification
            .as_ref()
            .and_then(|c| c.rule.as_deref())
            .map_or_else(|| "no rule".to_owned(), |r| format!("rule {}", code(r)));
        tips.push(format!(
            "Attempt {} looks permanent ({rule}): `retry_on: classified` would have saved {}.",
            attempt.number,
            human(wasted)
        ));
    }
    let lost = report.time_lost();
    if !lost.is_zero() {
        tips.push(format!(
            "Failed attempts and the waits after them took {} of runner time.",
            human(lost)
        ));
    }
    if report.is_flaky() {
        let times = match report.attempt_count() - 1 {
            1 => "once".to_owned(),
            n => format!("{n} times"),
        };
        let hint = if report.plan.on_flaky == OnFlaky::Pass {
            " `on_flaky: warn` makes that visible on every run."
        } else {
            ""
        };
        tips.push(format!(
            "This step is flaky: it failed {times} before passing.{hint}"
        ));
    }
    for tip in tips {
        let _ = writeln!(out, "- {tip}");
    }
    out.push('\n');
}

/// The output tails of failed attempts, newest first, as many as fit in [`MAX_BYTES`].
fn tails(out: &mut String, report: &Report<'_>) {
    let failed: Vec<&AttemptRecord> = report
        .result
        .attempts
        .iter()
        .filter(|a| !a.succeeded())
        .collect();
    let mut blocks = Vec::new();
    let mut left = MAX_BYTES.saturating_sub(out.len() + 200);
    for attempt in failed.iter().rev() {
        let mut lines = TAIL_LINES;
        let block = loop {
            let block = tail_block(attempt, lines);
            if block.len() <= left || lines == 0 {
                break block;
            }
            lines /= 2;
        };
        if block.len() > left {
            break;
        }
        left -= block.len();
        blocks.push(block);
    }
    if blocks.len() < failed.len() {
        let _ = writeln!(
            out,
            "_Output of {} earlier attempts left out to keep this summary short._\n",
            failed.len() - blocks.len()
        );
    }
    for block in blocks.iter().rev() {
        out.push_str(block);
    }
}

fn tail_block(attempt: &AttemptRecord, max_lines: usize) -> String {
    let label = match attempt.kind {
        AttemptKind::Fallback => "Fallback command".to_owned(),
        _ => format!("Attempt {}", attempt.number),
    };
    let mut body = String::new();
    for (name, tail) in [
        ("stdout", &attempt.stdout_tail),
        ("stderr", &attempt.stderr_tail),
    ] {
        if tail.total() == 0 {
            continue;
        }
        let bytes = tail.to_vec();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        let shown = &lines[lines.len().saturating_sub(max_lines)..];
        let last = match shown.len() {
            1 => "last line".to_owned(),
            n => format!("last {n} lines"),
        };
        let _ = writeln!(body, "── {name} ({}, {last}) ──", bytes_text(tail.total()));
        for line in shown {
            body.push_str(&html(&cut(line)));
            body.push('\n');
        }
    }
    if let Some(error) = &attempt.spawn_error {
        body.push_str(&html(&cut(error)));
        body.push('\n');
    }
    if body.is_empty() {
        body.push_str("(no output)\n");
    }
    format!("<details><summary>{label} output</summary>\n\n<pre>\n{body}</pre>\n\n</details>\n\n")
}

#[expect(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
fn bytes_text(n: u64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
    }
}

/// Cuts a line to [`LINE_CHARS`] characters.
fn cut(line: &str) -> String {
    cut_to(line, LINE_CHARS)
}

fn cut_to(line: &str, chars: usize) -> String {
    match line.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

/// Escapes text for HTML: inside `<pre>`, no tag can open and `</pre>` cannot close the block.
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a Markdown line or table cell: every ASCII punctuation character that
/// Markdown or HTML could read is backslash-escaped, and line breaks become spaces.
#[must_use]
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_control() => out.push(' '),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Puts text in a code span: backticks cannot end it early, a pipe cannot split a table cell.
#[must_use]
pub fn code(value: &str) -> String {
    let clean: String = value
        .chars()
        .map(|c| match c {
            '`' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    format!("`{}`", clean.replace('|', "\\|"))
}

/// Appends the summary to the file at `path`, never truncating what is there.
///
/// # Errors
/// When the file cannot be opened or written.
pub fn append(path: &Path, summary: &str) -> io::Result<()> {
    let mut file = OpenOptions::new().append(true).create(true).open(path)?;
    file.write_all(summary.as_bytes())
}
