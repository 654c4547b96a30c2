//! The step's result annotation: one `::notice::` per step that holds the whole result, so that
//! the history of a repository can be read back from the API (`recover insights`).
//!
//! In: the [`Report`] and the step's correlation id ([`step_id`]). Out: a notice whose first line
//! is a sentence for people and whose second line is a short machine-readable tail,
//! `recover-result {"v":1,...}` ([`StepResult`]).
//!
//! Why a notice of its own: GitHub keeps at most 10 warnings and 10 errors per step (50
//! annotations per job), so counts rebuilt from per-attempt warnings are truncated on a step that
//! retried often. One annotation holding the totals is never truncated that way, and it is
//! written last, after the attempts' warnings and the final error.
//!
//! [`step_id`]: crate::exec::env::step_id

use serde::{Deserialize, Serialize};

use super::summary::cut_to;
use super::{Report, human};
use crate::exec::env::{BaseEnv, step_id};
use crate::log::Log;
use crate::outcome::Outcome;
use crate::policy::Backoff;

/// The marker that starts the machine-readable line of the annotation.
pub const TAIL_MARKER: &str = "recover-result ";

/// The version of [`StepResult`]: fields are only added within a version.
pub const VERSION: u32 = 1;

/// The longest command text the annotation carries, in characters.
const COMMAND_CHARS: usize = 80;

/// The machine-readable tail of the annotation: the step's whole result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// [`VERSION`].
    pub v: u32,
    /// The correlation id, `RUN_ID:RUN_ATTEMPT:JOB:ACTION` (also the command's
    /// `RECOVER_STEP_ID`).
    #[serde(default)]
    pub id: Option<String>,
    /// The command, on one line and shortened.
    #[serde(default)]
    pub command: String,
    /// `success`, `recovered`, `fallback`, `failure` or `cancelled`.
    pub outcome: String,
    /// Attempts of the command (the fallback not counted).
    pub attempts: u32,
    /// The category of the last failure, if any.
    #[serde(default)]
    pub category: Option<String>,
    /// The rule that classified the last failure, if any.
    #[serde(default)]
    pub rule: Option<String>,
    /// Runner seconds spent on failed attempts and the waits after them.
    #[serde(default)]
    pub lost_s: f64,
    /// `retry_wait_seconds`, the base of the backoff.
    #[serde(default)]
    pub wait_s: f64,
    /// The backoff: `fixed`, `linear` or `exponential`.
    #[serde(default)]
    pub backoff: String,
    /// For a recovered step: seconds from the end of the first failed attempt to the start of the
    /// attempt that passed, how long the failure's cause took to go away (at most).
    #[serde(default)]
    pub recovery_s: Option<f64>,
    /// Whether a failure classified permanent was retried anyway.
    #[serde(default)]
    pub retried_permanent: bool,
}

impl StepResult {
    /// The result of the step `report` describes, with correlation id `id`.
    #[must_use]
    pub fn of(report: &Report<'_>, id: Option<String>) -> StepResult {
        let attempts = u32::try_from(report.attempt_count()).unwrap_or(u32::MAX);
        let failure = report.last_failure();
        let lost = report.time_lost();
        let recovery_s = (report.result.outcome == Outcome::Recovered)
            .then(|| {
                let first = report.attempts().next().map(|a| a.duration)?;
                Some(seconds(lost.saturating_sub(first)))
            })
            .flatten();
        let waits = &report.plan.policy.waits;
        StepResult {
            v: VERSION,
            id,
            command: shorten(&report.plan.command.describe()),
            outcome: report.result.outcome.as_str().to_owned(),
            attempts,
            category: failure.map(|c| c.category.as_str().to_owned()),
            rule: failure.and_then(|c| c.rule.clone()),
            lost_s: seconds(lost),
            wait_s: seconds(waits.base),
            backoff: match waits.backoff {
                Backoff::Fixed => "fixed",
                Backoff::Linear => "linear",
                Backoff::Exponential => "exponential",
            }
            .to_owned(),
            recovery_s,
            retried_permanent: report.wasted_on_permanent().is_some(),
        }
    }

    /// The annotation's text: a sentence, then the tail on a line of its own.
    #[must_use]
    pub fn message(&self) -> String {
        let tail = serde_json::to_string(self).unwrap_or_default();
        format!("{}\n{TAIL_MARKER}{tail}", self.sentence())
    }

    /// Reads the tail out of an annotation's text; `None` when it holds none or a tail of a
    /// newer version.
    #[must_use]
    pub fn parse(message: &str) -> Option<StepResult> {
        let tail = message
            .lines()
            .find_map(|line| line.trim().strip_prefix(TAIL_MARKER))?;
        serde_json::from_str::<StepResult>(tail)
            .ok()
            .filter(|r| r.v == VERSION)
    }

    /// "`npm ci` recovered on attempt 2 after a network failure (rule npm-503); 12s lost".
    fn sentence(&self) -> String {
        let cause = match (&self.category, &self.rule) {
            (Some(category), Some(rule)) => format!(" ({category}, rule {rule})"),
            (Some(category), None) => format!(" ({category})"),
            _ => String::new(),
        };
        let lost = std::time::Duration::from_secs_f64(self.lost_s.max(0.0));
        let lost = if lost.is_zero() {
            String::new()
        } else {
            format!("; {} lost to failed attempts and waits", human(lost))
        };
        let n = self.attempts;
        let what = match self.outcome.as_str() {
            "success" => "passed on the first attempt".to_owned(),
            "recovered" => format!("recovered on attempt {n}{cause}"),
            "fallback" => format!("ran its fallback after {n} attempt(s){cause}"),
            "cancelled" => format!("was cancelled during attempt {n}"),
            _ => format!("failed after {n} attempt(s){cause}"),
        };
        format!("Step result: `{}` {what}{lost}", self.command)
    }
}

/// Writes the step's result annotation (on a runner only: elsewhere nobody reads it back).
pub fn emit(report: &Report<'_>, env: &BaseEnv, log: &mut Log, actions: bool) {
    if !actions {
        return;
    }
    let id = step_id(|name| env.get(name)?.to_str().map(str::to_owned));
    log.annotate("notice", &StepResult::of(report, id).message(), true);
}

/// The command as the annotation carries it: on one line, each word whole or left out, and cut at
/// white space to [`COMMAND_CHARS`]. The runner masks secrets by their exact text, so a word
/// that the annotation's escaping (`%` becomes `%25`) or the tail's JSON (`"` and `\\` gain a
/// backslash) would alter is shown as `…`: an altered or cut secret would escape the masking.
fn shorten(command: &str) -> String {
    let flat: String = command
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = flat
        .split_whitespace()
        .map(|word| {
            if word.contains(['%', '"', '\\']) {
                "…"
            } else {
                word
            }
        })
        .collect();
    cut_to(&words.join(" "), COMMAND_CHARS)
}

fn seconds(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StepResult {
        StepResult {
            v: VERSION,
            id: Some("7301:1:build:npm".to_owned()),
            command: "npm ci".to_owned(),
            outcome: "recovered".to_owned(),
            attempts: 2,
            category: Some("network".to_owned()),
            rule: Some("npm-registry-503".to_owned()),
            lost_s: 12.4,
            wait_s: 10.0,
            backoff: "fixed".to_owned(),
            recovery_s: Some(10.0),
            retried_permanent: false,
        }
    }

    #[test]
    fn the_message_reads_as_a_sentence_and_parses_back() {
        let result = sample();
        let message = result.message();
        let first = message.lines().next().unwrap();
        assert_eq!(
            first,
            "Step result: `npm ci` recovered on attempt 2 (network, rule npm-registry-503); \
             12s lost to failed attempts and waits"
        );
        assert_eq!(StepResult::parse(&message), Some(result));
    }

    #[test]
    fn text_without_a_tail_or_with_a_newer_one_is_not_a_result() {
        assert_eq!(StepResult::parse("Attempt 1 failed. Reason: x"), None);
        assert_eq!(StepResult::parse("recover-result {not json"), None);
        let newer = sample().message().replace("\"v\":1", "\"v\":2");
        assert_eq!(StepResult::parse(&newer), None);
    }

    #[test]
    fn long_commands_are_shortened_on_one_line_at_white_space() {
        let long = format!("echo {}\nsecond line", "x".repeat(200));
        assert_eq!(shorten(&long), "echo…");
        let words = "word ".repeat(40);
        let short = shorten(&words);
        assert!(short.chars().count() <= COMMAND_CHARS, "{short}");
        assert!(short.ends_with("word…") && !short.contains('\n'), "{short}");
    }

    #[test]
    fn a_word_that_escaping_would_alter_is_left_out_whole() {
        let secret = "ghp_a%b\"c\\dXy12";
        let command = format!("docker login -p {secret} && echo 50%\ndone");
        let short = shorten(&command);
        assert_eq!(short, "docker login -p … && echo … done");
        let message = StepResult {
            command: short,
            ..sample()
        }
        .message();
        assert!(
            !message.contains("ghp_") && !message.contains("Xy12"),
            "{message}"
        );
    }
}
