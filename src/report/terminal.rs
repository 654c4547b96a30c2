//! The report outside GitHub Actions: the same facts as the job summary, as a short table on
//! stderr. Colour only on a terminal, and never when `NO_COLOR` is set (<https://no-color.org>).

use std::fmt::Write as _;

use super::{Report, ending, human};
use crate::outcome::{AttemptKind, Outcome};

/// Whether to colour: stderr is a terminal and `NO_COLOR` is unset or empty.
#[must_use]
pub fn use_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Renders the table; empty for a step that passed on its first attempt (nothing to tell).
#[must_use]
pub fn render(report: &Report<'_>, colour: bool) -> String {
    let outcome = report.result.outcome;
    if outcome == Outcome::Success {
        return String::new();
    }
    if report.was_skipped() && report.result.attempts.is_empty() {
        // Nothing ran: the log already said why, and an empty table would add nothing.
        return String::new();
    }
    let paint = |code: &str, text: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let word = match outcome {
        Outcome::Recovered | Outcome::Fallback => paint("33", outcome.as_str()),
        Outcome::Failure | Outcome::Cancelled => paint("31", outcome.as_str()),
        Outcome::Success => paint("32", outcome.as_str()),
    };
    let mut rows = vec![
        [
            "#", "command", "start", "duration", "exit", "category", "rule", "wait",
        ]
        .map(String::from),
    ];
    for a in &report.result.attempts {
        let c = a.classification.as_ref();
        rows.push([
            if a.kind == AttemptKind::Fallback {
                "-".to_owned()
            } else {
                a.number.to_string()
            },
            a.kind.as_str().to_owned(),
            format!("+{}", human(a.started)),
            human(a.duration),
            if a.succeeded() {
                "0".to_owned()
            } else {
                ending(a)
            },
            c.map_or_else(String::new, |c| c.category.to_string()),
            c.and_then(|c| c.rule.clone()).unwrap_or_default(),
            a.wait_after.map_or_else(String::new, human),
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "recover: {word} after {} in {}\n",
        attempts(report),
        human(report.result.duration)
    );
    for row in rows {
        let mut line = String::from("  ");
        for (cell, width) in row.iter().zip(&widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn attempts(report: &Report<'_>) -> String {
    match report.attempt_count() {
        1 => "1 attempt".to_owned(),
        n => format!("{n} attempts"),
    }
}
