//! The markdown report, for a job summary: headline, advice, the steps worst first, the jobs,
//! the weekly trend, bounded in size (step rows past the limit are left out, and a line says
//! how many). Cells are escaped so that no label can break its table or inject HTML.
//!
//! In: [`Insights`]. Out: GitHub-flavoured markdown. Pure.

use std::fmt::Write as _;

use super::Insights;
use super::rows::{
    JOB_HEADERS, STEP_HEADERS, WEEK_HEADERS, code_span, headline, job_row, jobs, partial_note,
    requests, step_row, steps, week_rows,
};

/// The markdown report, at most `limit` bytes: step rows past the limit are left out, and a
/// line says how many.
#[must_use]
pub fn markdown(insights: &Insights, limit: usize) -> String {
    let mut head = format!(
        "## recover insights: {}, last {} days\n\n",
        md_text(&insights.repo),
        insights.days
    );
    if let Some(note) = partial_note(insights) {
        let _ = writeln!(head, "> [!WARNING]\n> {}\n", md_text(&note));
    }
    let _ = writeln!(head, "{}\n", md_text(&headline(insights)));
    if !insights.advice.is_empty() {
        head.push_str("### Advice\n\n");
        for line in &insights.advice {
            let _ = writeln!(head, "- {}", md_advice(line));
        }
        head.push('\n');
    }
    let mut tail = String::from("### Jobs\n\n");
    let job_rows: Vec<Vec<String>> = jobs(insights)
        .into_iter()
        .map(|(w, j)| job_row(w, j).into_iter().map(|c| md_text(&c)).collect())
        .collect();
    tail.push_str(&md_table(&JOB_HEADERS, &job_rows));
    tail.push_str("\n### Trend per week\n\n");
    tail.push_str(&md_table(&WEEK_HEADERS, &week_rows(insights)));
    let _ = writeln!(tail, "\n<sub>{}</sub>", md_text(&requests(insights)));

    let all = steps(insights);
    let truncated = all.iter().any(|(_, _, s)| s.may_be_truncated > 0);
    let mut body = String::from("### Steps, worst first\n\n");
    body.push_str(&md_table(&STEP_HEADERS, &[]));
    let budget = limit.saturating_sub(head.len() + tail.len() + 200);
    let mut shown = 0;
    for (w, j, s) in &all {
        let row: Vec<String> = step_row(w, j, s, true)
            .into_iter()
            .enumerate()
            .map(|(i, c)| if i == 2 { c } else { md_text(&c) })
            .collect();
        let line = format!("| {} |\n", row.join(" | "));
        if body.len() + line.len() > budget {
            break;
        }
        body.push_str(&line);
        shown += 1;
    }
    if shown < all.len() {
        let _ = writeln!(
            body,
            "\n{} more steps are left out to keep the summary within GitHub's limit; `--format json` has them all.",
            all.len() - shown
        );
    }
    if truncated {
        body.push_str(
            "\n\\* counts may be truncated: GitHub keeps 10 warnings and 10 errors per step.\n",
        );
    }
    body.push('\n');
    head + &body + &tail
}

fn md_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", headers.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(headers.len()));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out
}

/// Text safe in a markdown table cell: no pipes, no line breaks, no HTML.
fn md_text(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

/// Advice with its `` `label` `` kept as code and the rest escaped.
fn md_advice(line: &str) -> String {
    line.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                code_span(part)
            } else {
                md_text(part)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_stays_within_its_limit_and_says_what_it_left_out() {
        use crate::insights::aggregate::{JobStats, StepStats, Totals, WorkflowStats};
        let steps = (0..300)
            .map(|i| StepStats {
                label: format!("step {i} {}", "x".repeat(100)),
                runs: 1,
                lost_known: true,
                ..StepStats::default()
            })
            .collect();
        let insights = Insights {
            schema_version: 1,
            repo: "o/r".to_owned(),
            days: 14,
            since: "2026-11-20".to_owned(),
            until: "2026-12-04T00:00:00Z".to_owned(),
            complete: false,
            gaps: vec!["run 7: not counted".to_owned()],
            requests: crate::insights::fetch::Counters::default(),
            totals: Totals {
                workflows: vec![WorkflowStats {
                    name: "CI".to_owned(),
                    jobs: vec![JobStats {
                        name: "build".to_owned(),
                        steps,
                        ..JobStats::default()
                    }],
                    ..WorkflowStats::default()
                }],
                ..Totals::default()
            },
            advice: Vec::new(),
        };
        let text = markdown(&insights, 8 * 1024);
        assert!(text.len() <= 8 * 1024, "{}", text.len());
        assert!(text.contains("> PARTIAL: these numbers do not cover the whole period. run 7"));
        let shown = text
            .lines()
            .filter(|l| l.starts_with("| CI | build | `"))
            .count();
        assert!(shown > 10 && shown < 300, "{shown}");
        assert!(
            text.contains(&format!("\n{} more steps are left out", 300 - shown)),
            "{text}"
        );
        assert!(text.contains("### Trend per week"), "the tail is kept");
    }

    #[test]
    fn cells_cannot_break_their_table() {
        assert_eq!(md_text("a|b\nc<d>"), "a\\|b c&lt;d&gt;");
        assert_eq!(code_span("echo `x` | y"), "`` echo `x` \\| y ``");
        assert_eq!(md_advice("`npm ci` in job a|b"), "` npm ci ` in job a\\|b");
    }
}
