//! The plan: every input checked and typed before anything runs.
//!
//! In: [`RawInputs`] and the program after `--`, if any. Out: a [`Plan`], or every problem found,
//! each naming its input and what it accepts. Bad input never half-runs a step.
//!
//! `checker.rs` reads one input as a type; `parts.rs` reads each group of inputs into its part of
//! the plan.

mod checker;
mod parts;

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::inputs::RawInputs;

use crate::classify::lazy::PlanRules;
use crate::exec::shell::Shell;
use crate::github::Token;
use crate::policy::Policy;
use crate::state::StatePlan;
use checker::Checker;

/// What an attempt runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// A script run by a shell from a temporary file, as the runner runs `run:`.
    Script {
        /// The script's text.
        text: String,
        /// The shell that runs it.
        shell: Shell,
    },
    /// A program and its arguments, started directly (no shell).
    Argv(Vec<OsString>),
}

impl Program {
    /// A one-line description for the log.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Program::Script { text, .. } => {
                let mut lines = text.lines().filter(|l| !l.trim().is_empty());
                let first = lines.next().unwrap_or("").trim();
                if lines.next().is_some() {
                    format!("{first} …")
                } else {
                    first.to_owned()
                }
            }
            Program::Argv(argv) => argv
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// A validated, typed plan for one step.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The command of attempt 1.
    pub command: Program,
    /// The command of attempts 2 and later (`new_command_on_retry`).
    pub retry_command: Option<Program>,
    /// Run before each retry (`on_retry_command`).
    pub on_retry_command: Option<Program>,
    /// The retry rules: attempts, `retry_on`, exit codes, waits.
    pub policy: Policy,
    /// The per-attempt timeout, if any.
    pub attempt_timeout: Option<Duration>,
    /// The deadline across all attempts and waits, if any.
    pub total_timeout: Option<Duration>,
    /// Between SIGTERM and SIGKILL.
    ///
    /// # Defaults
    /// 5 seconds.
    pub kill_grace: Duration,
    /// A `::warning::` per retried attempt.
    pub warning_on_retry: bool,
    /// A failed step exits 0 with a warning.
    pub continue_on_error: bool,
    /// Where the command runs.
    pub working_directory: Option<PathBuf>,
    /// Run when the attempts fail (`fallback_command`).
    pub fallback: Option<Program>,
    /// The step's result when the fallback succeeds.
    ///
    /// # Defaults
    /// [`FallbackOutcome::Success`].
    pub fallback_outcome: FallbackOutcome,
    /// What a flaky step (passed after retries) does to the step's result.
    ///
    /// # Defaults
    /// [`OnFlaky::Pass`].
    pub on_flaky: OnFlaky,
    /// When the job summary is written.
    ///
    /// # Defaults
    /// [`SummaryWhen::Always`].
    pub summary: SummaryWhen,
    /// Where the JSON report goes, if anywhere.
    pub report_file: Option<PathBuf>,
    /// The circuit and retry budget shared with other steps; `None` when the step uses neither.
    pub state: Option<StatePlan>,
    /// The effective classification rules: `rules`, then `rules_file`, then the built-ins.
    pub rules: PlanRules,
    /// The token for the GitHub API (`github_token`), if any; its `Debug` hides it.
    pub github_token: Option<Token>,
}

/// The step's result when the fallback command succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackOutcome {
    /// The step passes: the fallback was good enough.
    Success,
    /// The step still fails: the fallback only salvaged something.
    Failure,
}

/// What a flaky step does to the step's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFlaky {
    /// Nothing: the step passes.
    Pass,
    /// The step passes with a `::warning::`.
    Warn,
    /// The step fails, saying why.
    Fail,
}

/// When the report goes to the job summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryWhen {
    /// After every run.
    Always,
    /// Only when the step did not pass on its first attempt.
    OnFailure,
    /// Never.
    Never,
}

impl Plan {
    /// The program attempt `n` (from 1) runs.
    #[must_use]
    pub fn program_for(&self, attempt: u32) -> &Program {
        match &self.retry_command {
            Some(retry) if attempt > 1 => retry,
            _ => &self.command,
        }
    }
}

/// One bad input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PlanError {
    /// The input at fault.
    pub input: &'static str,
    /// What was wrong and what is accepted.
    pub problem: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "input {}: {}", self.input, self.problem)
    }
}

impl Plan {
    /// Checks every input and builds the plan.
    ///
    /// `argv` is the program and arguments given after `--` (empty when none).
    ///
    /// # Errors
    /// Every bad input found, each naming the input and what it accepts.
    pub fn from_inputs(raw: &RawInputs, argv: Vec<OsString>) -> Result<Plan, Vec<PlanError>> {
        let mut c = Checker {
            raw,
            errors: Vec::new(),
        };
        for &input in raw.not_utf8() {
            c.fail(
                input,
                "is not valid UTF-8; give the value as UTF-8 text".to_owned(),
            );
        }
        let (command, retry_command, on_retry_command) = parts::commands(&mut c, argv);
        let policy = parts::policy(&mut c);
        let minutes = c.duration("timeout_minutes", 60.0, false);
        let seconds = c.duration("timeout_seconds", 1.0, false);
        if minutes.is_some() && seconds.is_some() {
            c.fail(
                "timeout_seconds",
                "set timeout_minutes or timeout_seconds, not both".to_owned(),
            );
        }
        let _polling = c.duration("polling_interval_seconds", 1.0, true);
        let warning_on_retry = c.boolean("warning_on_retry");
        let continue_on_error = c.boolean("continue_on_error");
        let working_directory = c.text("working_directory").map(PathBuf::from);
        if let Some(dir) = working_directory.as_ref().filter(|d| !d.is_dir()) {
            let shown = dir.display().to_string();
            c.fail("working_directory", format!("{shown:?} is not a directory"));
        }
        let total_timeout = c.duration("total_timeout_seconds", 1.0, false);
        let kill_grace = c
            .duration("kill_grace_seconds", 1.0, true)
            .unwrap_or_default();
        let fallback = parts::fallback(&mut c);
        let fallback_outcome = c.choice(
            "fallback_outcome",
            &[
                ("success", FallbackOutcome::Success),
                ("failure", FallbackOutcome::Failure),
            ],
            "success or failure",
        );
        let on_flaky = c.choice(
            "on_flaky",
            &[
                ("pass", OnFlaky::Pass),
                ("warn", OnFlaky::Warn),
                ("fail", OnFlaky::Fail),
            ],
            "pass, warn or fail",
        );
        let summary = c.choice(
            "summary",
            &[
                ("always", SummaryWhen::Always),
                ("on-failure", SummaryWhen::OnFailure),
                ("never", SummaryWhen::Never),
            ],
            "always, on-failure or never",
        );
        let report_file = c.text("report_file").map(PathBuf::from);
        let state = parts::state(&mut c);
        let rules = parts::rules(&mut c);
        let github_token = c.text("github_token").map(Token::new);
        match command {
            Some(command) if c.errors.is_empty() => Ok(Plan {
                command,
                retry_command,
                on_retry_command,
                policy,
                attempt_timeout: minutes.or(seconds),
                total_timeout,
                kill_grace,
                warning_on_retry,
                continue_on_error,
                working_directory,
                fallback,
                fallback_outcome,
                on_flaky,
                summary,
                report_file,
                state,
                rules,
                github_token,
            }),
            _ => Err(c.errors),
        }
    }
}

#[cfg(test)]
mod tests;
