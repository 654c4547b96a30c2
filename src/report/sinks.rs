//! Where a finished run's report goes: the step's outputs (`$GITHUB_OUTPUT`), the job summary
//! (`$GITHUB_STEP_SUMMARY`, or the table on stderr outside Actions) and the notice that tells
//! how to read the outputs the command set.
//!
//! In: a [`Report`] and the paths the runner gives. Out: the files appended to, and warnings
//! for whatever could not be written: a side channel never changes the step's result.

use std::ffi::OsStr;
use std::path::Path;

use super::{Report, summary, terminal};
use crate::exec::runner_file;
use crate::log::Log;
use crate::outcome::Outcome;
use crate::plan::SummaryWhen;

/// The most GitHub takes of one step's summary; past it, the runner drops the whole summary.
pub const STEP_SUMMARY_LIMIT: u64 = 1024 * 1024;

/// Appends `values` to `$GITHUB_OUTPUT` (the file at `path`) in one write, on a line of its own.
pub fn outputs(log: &mut Log, path: Option<&OsStr>, values: &[(&str, String)]) {
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return;
    };
    let text = super::outputs::format(values);
    if let Err(error) = runner_file::append(Path::new(path), text.as_bytes()) {
        log.warning(&format!(
            "cannot write the step's outputs to GITHUB_OUTPUT: {error}"
        ));
    }
}

/// One notice, under Actions, when the command set outputs: a composite action passes on only
/// the outputs it declares, so on GitHub they are read through `command_outputs`.
pub fn command_outputs_notice(report: &Report<'_>, log: &mut Log) {
    let pairs = &report.result.command_outputs;
    if !log.is_actions() || pairs.is_empty() {
        return;
    }
    let mut names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let first = names[0];
    let listed = if names.len() > 5 {
        format!("{} and {} more", names[..5].join(", "), names.len() - 5)
    } else {
        names.join(", ")
    };
    log.annotate(
        "notice",
        &format!(
            "The command set the outputs {listed}. A composite action passes on only the outputs it declares, so read them as fromJSON(steps.<id>.outputs.command_outputs).{first} (or set them with $GITHUB_ENV)."
        ),
        false,
    );
}

/// The job summary under Actions (`$GITHUB_STEP_SUMMARY`, the file at `path`), the table on
/// stderr elsewhere. recover's part is shortened (or left out) so that the step's whole summary
/// stays within [`STEP_SUMMARY_LIMIT`], with a warning.
pub fn summary(report: &Report<'_>, path: Option<&OsStr>, log: &mut Log) {
    let wanted = match report.plan.summary {
        SummaryWhen::Always => true,
        SummaryWhen::OnFailure => report.result.outcome != Outcome::Success,
        SummaryWhen::Never => false,
    };
    if !wanted {
        return;
    }
    if !log.is_actions() {
        let table = terminal::render(report, terminal::use_colour());
        if !table.is_empty() {
            log.emit(table.trim_end());
        }
        return;
    }
    let Some(path) = path.filter(|p| !p.is_empty()).map(Path::new) else {
        log.warning("cannot write the job summary: GITHUB_STEP_SUMMARY is not set");
        return;
    };
    let written = std::fs::metadata(path).map_or(0, |m| m.len());
    // One byte for the newline that starts recover's part after an unterminated last line.
    let room = STEP_SUMMARY_LIMIT.saturating_sub(written + 1);
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    let mut text = summary::render(report);
    if text.len() > room {
        text = summary::render_within(report, room);
        let what = if text.is_empty() {
            "left out"
        } else {
            "shortened"
        };
        log.warning(&format!(
            "the job summary is near GitHub's limit of 1 MiB per step (the command wrote {written} bytes), so recover's report was {what}"
        ));
    }
    if written > STEP_SUMMARY_LIMIT {
        log.warning(&format!(
            "the command wrote {written} bytes to GITHUB_STEP_SUMMARY: over GitHub's limit of 1 MiB per step, so GitHub drops this step's summary"
        ));
    }
    if let Err(error) = runner_file::append(path, text.as_bytes()) {
        log.warning(&format!(
            "cannot write the job summary to GITHUB_STEP_SUMMARY: {error}"
        ));
    }
}
