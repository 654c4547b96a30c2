//! The job summary: a Markdown report a person reads in seconds, appended to
//! `$GITHUB_STEP_SUMMARY`.
//!
//! In: a [`Report`]. Out: Markdown of at most [`MAX_BYTES`].
//!
//! The command and its output appear byte for byte, never escaped: the runner masks secrets by
//! their exact text, so a secret written as `ghp\_x` or `&#39;` would escape the masking. They
//! go in code, which Markdown shows as it is and which nothing inside can end: the command in a
//! code span in the heading, each output tail in a fenced code block whose fence is longer than
//! any run of backticks in it. A long line is cut only at white space, and a tail's first line
//! is left out when the tail starts mid-line, so no token (a secret) is ever shown in part.
//! Other text from inputs is escaped, so nothing can inject HTML or break the table.

use std::fmt::Write as _;

use super::{Report, ending, human};
use crate::outcome::{AttemptKind, AttemptRecord, Outcome};
use crate::plan::OnFlaky;

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

/// Renders the summary, at most [`MAX_BYTES`].
#[must_use]
pub fn render(report: &Report<'_>) -> String {
    render_within(report, MAX_BYTES)
}

/// Renders the summary in at most `max` bytes: as many output tails as fit, then without the
/// table and advice, then the heading and headline alone; empty when not even those fit.
#[must_use]
pub fn render_within(report: &Report<'_>, max: usize) -> String {
    let mut out = String::new();
    let (icon, headline) = headline(report);
    let title = code_span(&first_line(&report.plan.command.describe(), TITLE_CHARS));
    let _ = writeln!(out, "### {icon} recover: {title}\n");
    let _ = writeln!(out, "{headline}\n");
    let short = out.clone();
    shared(&mut out, report);
    table(&mut out, report);
    advice(&mut out, report);
    if out.len() > max {
        return if short.len() <= max {
            short
        } else {
            String::new()
        };
    }
    tails(&mut out, report, max);
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
        Outcome::Failure | Outcome::Fallback if report.was_skipped() => {
            let fallback = match (report.result.outcome, report.fallback()) {
                (Outcome::Fallback, _) => " The fallback command ran instead, and passed.",
                (_, Some(_)) => " The fallback command ran instead, and failed.",
                _ => "",
            };
            (
                "⛔",
                format!(
                    "**Skipped**: {}; the command did not run.{fallback}",
                    text(&report.refusal_text())
                ),
            )
        }
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
            let signal = crate::signals::name(report.result.cancelled_by.unwrap_or(15));
            (
                "⏹️",
                format!("**Cancelled** by {signal} during attempt {n}, after {took}."),
            )
        }
    }
}

/// A line each for the circuit and the retry budget, when the step has them.
fn shared(out: &mut String, report: &Report<'_>) {
    let mut lines = Vec::new();
    if let Some(c) = report.circuit() {
        let mut line = format!(
            "**Circuit** {}: {} ({} consecutive failures",
            code(&c.name),
            c.phase.as_str(),
            c.consecutive_failures
        );
        if let (crate::state::breaker::Phase::Open, Some(until)) = (c.phase, c.until_ms) {
            let _ = write!(line, ", open until {}", crate::state::rfc3339(until));
        }
        line.push(')');
        if c.opened_here {
            line.push_str("; this step's failures opened it");
        } else if c.probed {
            line.push_str("; this step's first attempt was the probe");
        }
        lines.push(format!("{line}."));
    }
    if let Some(b) = report.budget() {
        let ran_out = if b.ran_out {
            "; it ran out, so the last failure was final"
        } else {
            ""
        };
        lines.push(format!(
            "**Retry budget**: {} of {} retries left{ran_out}.",
            b.left(),
            b.limit
        ));
    }
    if !lines.is_empty() {
        let _ = writeln!(out, "{}\n", lines.join("<br>\n"));
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

/// The output tails of failed attempts, newest first, as many as fit in `max` bytes.
fn tails(out: &mut String, report: &Report<'_>, max: usize) {
    let failed: Vec<&AttemptRecord> = report
        .result
        .attempts
        .iter()
        .filter(|a| !a.succeeded())
        .collect();
    let mut blocks = Vec::new();
    let note = 200;
    let mut left = max.saturating_sub(out.len() + note);
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
        let mut lines: Vec<&str> = text.lines().collect();
        if tail.is_truncated() && !lines.is_empty() {
            // The kept bytes start mid-line: showing that line's end could show a part of a
            // token, which no masking would recognise.
            lines.remove(0);
        }
        let shown = &lines[lines.len().saturating_sub(max_lines)..];
        let last = match shown.len() {
            1 => "last line".to_owned(),
            n => format!("last {n} lines"),
        };
        let _ = writeln!(body, "── {name} ({}, {last}) ──", bytes_text(tail.total()));
        for line in shown {
            body.push_str(&cut(&plain(line)));
            body.push('\n');
        }
    }
    if let Some(error) = &attempt.spawn_error {
        body.push_str(&cut(&plain(error)));
        body.push('\n');
    }
    if body.is_empty() {
        body.push_str("(no output)\n");
    }
    let fence = fence_for(&body);
    format!(
        "<details><summary>{label} output</summary>\n\n{fence}text\n{body}{fence}\n\n</details>\n\n"
    )
}

/// A fence of backticks longer than any run of backticks in `body` (at least three): no line
/// of the body can close the block early.
fn fence_for(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// A code span that shows `value` as it is: its delimiter is a run of backticks of a length
/// that does not occur in it, padded with a space where the value starts or ends with a
/// backtick or a space (Markdown strips one space from each end).
#[must_use]
pub fn code_span(value: &str) -> String {
    let runs: Vec<usize> = value
        .split(|c| c != '`')
        .map(str::len)
        .filter(|n| *n > 0)
        .collect();
    // Among 1..=runs.len() + 1 one length is always free.
    let ticks = (1..=runs.len() + 1)
        .find(|n| !runs.contains(n))
        .unwrap_or(1);
    let delimiter = "`".repeat(ticks);
    let pad = if value.starts_with(['`', ' ']) || value.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{delimiter}{pad}{value}{pad}{delimiter}")
}

/// The first line of `text`, cut to `chars` characters at white space.
fn first_line(text: &str, chars: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    let more = text.lines().nth(1).is_some();
    let line = cut_to(&plain(line), chars);
    if more && !line.ends_with('…') {
        format!("{line} …")
    } else {
        line
    }
}

/// Text with control characters (other than tab) shown as spaces: they would only garble the
/// page, and no secret holds them.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect()
}

#[expect(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
fn bytes_text(n: u64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
    }
}

/// Cuts a line to [`LINE_CHARS`] characters, at white space.
fn cut(line: &str) -> String {
    cut_to(line, LINE_CHARS)
}

/// Cuts `line` to at most `chars` characters, only at white space, and marks the cut with `…`.
/// A line whose first word alone is longer shows none of it: a part of a token (a secret) would
/// escape the runner's masking, which matches whole secrets only.
pub(crate) fn cut_to(line: &str, chars: usize) -> String {
    let Some((at, next)) = line.char_indices().nth(chars) else {
        return line.to_owned();
    };
    let head = &line[..at];
    let keep = if next.is_whitespace() {
        head
    } else {
        head.rfind(char::is_whitespace)
            .map_or("", |space| &head[..space])
    };
    format!("{}…", keep.trim_end())
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
