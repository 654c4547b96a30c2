//! The report in four formats: an aligned table for a terminal, GitHub-flavoured markdown for a
//! job summary (bounded in size), JSON (versioned, [`SCHEMA_VERSION`]) and CSV (one row per
//! step, for people who keep their own charts).
//!
//! In: [`Insights`]. Out: text. Pure. Every format says when the data is partial.
//!
//! [`SCHEMA_VERSION`]: super::SCHEMA_VERSION

use std::fmt::Write as _;

use super::Insights;
use super::markdown::markdown;
use super::rows::{
    JOB_HEADERS, STEP_HEADERS, WEEK_HEADERS, headline, job_row, jobs, partial_note, requests,
    step_row, steps, week_rows,
};

/// The most a markdown report may hold, in bytes: GitHub takes at most 1 MiB per step summary;
/// the rest is left for what other steps write.
pub const MARKDOWN_LIMIT: usize = 512 * 1024;

/// The formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns, for a terminal.
    Table,
    /// GitHub-flavoured markdown, for a job summary.
    Markdown,
    /// JSON (schema in docs/insights.md).
    Json,
    /// CSV, one row per step.
    Csv,
}

/// Renders `insights` as `format`.
#[must_use]
pub fn render(insights: &Insights, format: Format) -> String {
    match format {
        Format::Table => table(insights),
        Format::Markdown => markdown(insights, MARKDOWN_LIMIT),
        Format::Json => serde_json::to_string_pretty(insights).unwrap_or_default() + "\n",
        Format::Csv => csv(insights),
    }
}

fn table(insights: &Insights) -> String {
    let mut out = format!(
        "recover insights: {}, last {} days\n",
        insights.repo, insights.days
    );
    if let Some(note) = partial_note(insights) {
        let _ = writeln!(out, "{note}");
    }
    let _ = writeln!(out, "{}\n", headline(insights));
    let rows: Vec<Vec<String>> = steps(insights)
        .into_iter()
        .map(|(w, j, s)| step_row(w, j, s, false))
        .collect();
    out.push_str(&aligned(&STEP_HEADERS, &rows));
    if steps(insights)
        .iter()
        .any(|(_, _, s)| s.may_be_truncated > 0)
    {
        out.push_str(
            "* counts may be truncated: GitHub keeps 10 warnings and 10 errors per step\n",
        );
    }
    let job_rows: Vec<Vec<String>> = jobs(insights)
        .into_iter()
        .map(|(w, j)| job_row(w, j))
        .collect();
    out.push('\n');
    out.push_str(&aligned(&JOB_HEADERS, &job_rows));
    out.push('\n');
    out.push_str(&aligned(&WEEK_HEADERS, &week_rows(insights)));
    if !insights.advice.is_empty() {
        out.push_str("\nadvice:\n");
        for line in &insights.advice {
            let _ = writeln!(out, "- {line}");
        }
    }
    let _ = writeln!(out, "\n{}", requests(insights));
    out
}

fn aligned(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = widths[i]))
            .collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

const CSV_HEADERS: [&str; 17] = [
    "workflow",
    "job",
    "step",
    "source",
    "runs",
    "first_try",
    "recovered",
    "fallback",
    "failures",
    "cancelled",
    "retries",
    "lost_seconds",
    "top_category",
    "top_rule",
    "median_recovery_seconds",
    "may_be_truncated",
    "complete",
];

fn csv(insights: &Insights) -> String {
    let mut out = CSV_HEADERS.join(",") + "\n";
    for (w, j, s) in steps(insights) {
        let top = |map: &std::collections::BTreeMap<String, u32>| {
            map.iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(k, _)| k.clone())
                .unwrap_or_default()
        };
        let cells = [
            w.name.clone(),
            j.name.clone(),
            s.label.clone(),
            match s.source {
                Some(super::parse::Source::Recover) => "recover".to_owned(),
                Some(super::parse::Source::RetryWarnings) => "retry_warnings".to_owned(),
                None => String::new(),
            },
            s.runs.to_string(),
            s.first_try.to_string(),
            s.recovered.to_string(),
            s.fallback.to_string(),
            s.failures.to_string(),
            s.cancelled.to_string(),
            s.retries.to_string(),
            if s.lost_known {
                format!("{:.1}", s.lost_s)
            } else {
                String::new()
            },
            top(&s.categories),
            top(&s.rules),
            s.median_recovery_s
                .map(|r| format!("{r:.1}"))
                .unwrap_or_default(),
            s.may_be_truncated.to_string(),
            insights.complete.to_string(),
        ];
        let cells: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A CSV cell (RFC 4180 quoting). A cell that a spreadsheet would run as a formula gets a
/// leading `'`: step labels come from commands anyone with push access can write.
fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_never_run_as_formulas() {
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
