//! The plan: every input checked and typed before anything runs.
//!
//! In: [`RawInputs`] and the program after `--`, if any. Out: a [`Plan`], or every problem found,
//! each naming its input and what it accepts. Bad input never half-runs a step.

pub mod inputs;

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use inputs::{EnvValue, INPUTS, InputSpec, RawInputs};

use crate::classify::lazy::PlanRules;
use crate::classify::rules::{Origin, Rules, RulesError};
use crate::error::with_causes;
use crate::exec::shell::{Shell, ShellError};
use crate::github::Token;
use crate::policy::{Backoff, Jitter, Policy, RetryOn, WaitPolicy};
use crate::state::breaker::Settings;
use crate::state::{CircuitPlan, StatePlan, store};

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

/// The longest duration an input can ask for, in seconds: 100 years. Longer values mean the
/// same (never, in practice) and are clamped, so that adding them to an instant cannot overflow.
const LONGEST_SECS: f64 = 100.0 * 365.0 * 24.0 * 3600.0;

/// The shortest duration an input that must be greater than 0 accepts: one millisecond. A
/// shorter one (`1e-10`) rounds to nothing and would mean "no time at all" where the user asked
/// for some.
const SHORTEST: Duration = Duration::from_millis(1);

/// The exit codes `retry_on_exit_code` accepts: what a process can exit with on Unix (a signal
/// shows as 128 + n). Windows exit codes are 32 bits wide, shown as `i32`, so any non-zero value
/// is one there.
#[cfg(unix)]
const EXIT_CODES: std::ops::RangeInclusive<i32> = 1..=255;
#[cfg(not(unix))]
const EXIT_CODES: std::ops::RangeInclusive<i32> = i32::MIN..=i32::MAX;

/// Collects problems so that one run reports every bad input at once.
struct Checker<'a> {
    raw: &'a RawInputs,
    errors: Vec<PlanError>,
}

impl Checker<'_> {
    fn fail(&mut self, input: &'static str, problem: String) {
        self.errors.push(PlanError { input, problem });
    }

    fn invalid(&mut self, input: &'static str, value: &str, expected: &str) {
        self.fail(
            input,
            format!("{value:?} is not valid; expected {expected}"),
        );
    }

    fn text(&self, input: &'static str) -> Option<String> {
        self.raw.get(input).map(str::to_owned)
    }

    /// A non-negative number of seconds (or minutes, with `scale`), when given.
    fn duration(&mut self, input: &'static str, scale: f64, allow_zero: bool) -> Option<Duration> {
        let value = self.raw.get(input)?;
        let parsed = value.parse::<f64>().ok().filter(|v| v.is_finite());
        let ok = parsed.filter(|v| if allow_zero { *v >= 0.0 } else { *v > 0.0 });
        let duration = ok
            .and_then(|v| Duration::try_from_secs_f64((v * scale).min(LONGEST_SECS)).ok())
            .filter(|d| allow_zero || *d >= SHORTEST);
        if duration.is_none() {
            let what = match (allow_zero, ok) {
                (true, _) => "a number of 0 or more",
                (false, Some(_)) => "a number greater than 0; the shortest is 0.001 seconds",
                (false, None) => "a number greater than 0",
            };
            self.invalid(input, value, what);
        }
        duration
    }

    fn boolean(&mut self, input: &'static str) -> bool {
        match self.raw.get(input) {
            Some("true" | "True" | "TRUE") => true,
            Some("false" | "False" | "FALSE") | None => false,
            Some(other) => {
                let other = other.to_owned();
                self.invalid(input, &other, "true or false");
                false
            }
        }
    }

    fn count(&mut self, input: &'static str) -> u32 {
        let value = self.raw.get(input).unwrap_or("1");
        match value.parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                let value = value.to_owned();
                self.invalid(input, &value, "a whole number of 1 or more");
                1
            }
        }
    }

    fn shell(&mut self, input: &'static str, fallback: Option<&Shell>) -> Shell {
        let Some(value) = self.text(input) else {
            return fallback.cloned().unwrap_or_else(Shell::platform_default);
        };
        match Shell::parse(&value) {
            Ok(shell) => shell,
            Err(ShellError::Unknown) => {
                self.invalid(input, &value, Shell::ACCEPTED);
                Shell::platform_default()
            }
            Err(ShellError::Unbalanced) => {
                self.fail(input, format!("{value:?} has an unclosed quote"));
                Shell::platform_default()
            }
        }
    }

    fn exit_codes(&mut self, input: &'static str) -> Vec<i32> {
        let Some(value) = self.text(input) else {
            return Vec::new();
        };
        let mut codes = Vec::new();
        for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match parse_exit_code(item) {
                Some(code) if code != 0 && EXIT_CODES.contains(&code) => codes.push(code),
                _ => {
                    let expected = if cfg!(unix) {
                        "exit codes from 1 to 255, separated by commas (e.g. 1,75)"
                    } else {
                        "non-zero exit codes, separated by commas (e.g. 1,75 or 0xC0000005)"
                    };
                    self.invalid(input, item, expected);
                    return Vec::new();
                }
            }
        }
        codes
    }

    fn choice<T: Copy>(&mut self, input: &'static str, options: &[(&str, T)], expected: &str) -> T {
        let value = self.raw.get(input).unwrap_or_default();
        if let Some((_, v)) = options
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(value))
        {
            return *v;
        }
        let value = value.to_owned();
        self.invalid(input, &value, expected);
        options[0].1
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
        let (command, retry_command, on_retry_command) = commands(&mut c, argv);
        let policy = policy(&mut c);
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
        let fallback = fallback(&mut c);
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
        let state = state(&mut c);
        let rules = rules(&mut c);
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

/// The command, `new_command_on_retry` and `on_retry_command`, all run with `shell`.
fn commands(
    c: &mut Checker<'_>,
    argv: Vec<OsString>,
) -> (Option<Program>, Option<Program>, Option<Program>) {
    let shell = c.shell("shell", None);
    let script = |text: Option<String>| {
        text.map(|text| Program::Script {
            text,
            shell: shell.clone(),
        })
    };
    let command = match (c.text("command"), argv.is_empty()) {
        (Some(_), false) => {
            c.fail(
                "command",
                "give a command or a program after --, not both".to_owned(),
            );
            None
        }
        (Some(text), true) => script(Some(text)),
        (None, false) => Some(Program::Argv(argv)),
        (None, true) => {
            c.fail(
                "command",
                "required; give a script in command, or a program after --".to_owned(),
            );
            None
        }
    };
    let retry_command = script(c.text("new_command_on_retry"));
    let on_retry_command = script(c.text("on_retry_command"));
    let uses_shell = [&command, &retry_command, &on_retry_command]
        .into_iter()
        .any(|p| matches!(p, Some(Program::Script { .. })));
    if uses_shell {
        check_shell_exists(c, "shell", &shell);
    }
    (command, retry_command, on_retry_command)
}

/// The rules: a bad rule names the input it came from and where, and nothing runs.
fn rules(c: &mut Checker<'_>) -> PlanRules {
    let inline = c.text("rules");
    let file = c.text("rules_file").map(PathBuf::from);
    if inline.is_none() && file.is_none() {
        return PlanRules::builtin();
    }
    match Rules::load(inline.as_deref(), file.as_deref()) {
        Ok(rules) => PlanRules::given(rules),
        Err(error) => {
            let input = match &error {
                RulesError::Read { input, .. }
                | RulesError::TooLarge { input, .. }
                | RulesError::Yaml { input, .. }
                | RulesError::Regex { input, .. }
                | RulesError::Rule { input, .. } => match input {
                    Origin::Inline => "rules",
                    Origin::File(_) | Origin::Builtin => "rules_file",
                },
                RulesError::Set { .. } => "rules",
            };
            c.fail(input, with_causes(&error));
            PlanRules::builtin()
        }
    }
}

/// `fallback_command`, run with `fallback_shell` (default: `shell`).
fn fallback(c: &mut Checker<'_>) -> Option<Program> {
    let text = c.text("fallback_command");
    let step_shell = c.raw.get("shell").and_then(|s| Shell::parse(s).ok());
    let shell = c.shell("fallback_shell", step_shell.as_ref());
    let given = c.raw.given("fallback_shell").is_some();
    let program = text.map(|text| Program::Script {
        text,
        shell: shell.clone(),
    });
    if program.is_some() && given {
        check_shell_exists(c, "fallback_shell", &shell);
    }
    program
}

/// `max_attempts`, `retry_on`, `retry_on_exit_code` and the waits.
fn policy(c: &mut Checker<'_>) -> Policy {
    let max_attempts = c.count("max_attempts");
    let retry_on = match RetryOn::parse(c.raw.get("retry_on").unwrap_or("any")) {
        Ok(r) => r,
        Err(item) => {
            c.invalid("retry_on", &item, RetryOn::ACCEPTED);
            RetryOn::any()
        }
    };
    let retry_on_exit_codes = c.exit_codes("retry_on_exit_code");
    let unknown_retries = if let Ok(n) = c.raw.get("unknown_retries").unwrap_or("1").parse() {
        n
    } else {
        let value = c.raw.get("unknown_retries").unwrap_or_default().to_owned();
        c.invalid("unknown_retries", &value, "a whole number of 0 or more");
        1
    };
    let base = c
        .duration("retry_wait_seconds", 1.0, true)
        .unwrap_or_default();
    let backoff = c.choice(
        "backoff",
        &[
            ("fixed", Backoff::Fixed),
            ("linear", Backoff::Linear),
            ("exponential", Backoff::Exponential),
        ],
        "fixed, linear or exponential",
    );
    let factor = match c.raw.get("backoff_factor").map(str::parse::<f64>) {
        Some(Ok(f)) if f.is_finite() && f >= 1.0 => f,
        _ => {
            let value = c.raw.get("backoff_factor").unwrap_or_default().to_owned();
            c.invalid("backoff_factor", &value, "a number of 1 or more");
            2.0
        }
    };
    let cap = c.duration("max_wait_seconds", 1.0, true);
    let max_hint_wait = c.duration("max_hint_wait_seconds", 1.0, true);
    let jitter = c.choice(
        "jitter",
        &[
            ("none", Jitter::None),
            ("full", Jitter::Full),
            ("equal", Jitter::Equal),
            ("decorrelated", Jitter::Decorrelated),
        ],
        "none, full, equal or decorrelated",
    );
    Policy {
        max_attempts,
        retry_on,
        retry_on_exit_codes,
        unknown_retries,
        waits: WaitPolicy {
            base,
            backoff,
            factor,
            cap,
            jitter,
        },
        max_hint_wait,
    }
}

/// `circuit`, `circuit_threshold`, `circuit_cooldown_seconds`, `retry_budget` and `state_dir`.
fn state(c: &mut Checker<'_>) -> Option<StatePlan> {
    let name = c.text("circuit");
    if let Some(name) = name.as_deref().filter(|n| !store::is_valid_name(n)) {
        c.invalid("circuit", name, &format!("a name of {}", store::NAME_RULE));
    }
    let threshold = c.count("circuit_threshold");
    let cooldown = c
        .duration("circuit_cooldown_seconds", 1.0, false)
        .unwrap_or_default();
    let retry_budget = c.raw.get("retry_budget").map(str::to_owned);
    let retry_budget = retry_budget.and_then(|value| {
        let parsed = value.parse::<u64>().ok();
        if parsed.is_none() {
            c.invalid("retry_budget", &value, "a whole number of 0 or more");
        }
        parsed
    });
    let dir = c.text("state_dir").map(PathBuf::from);
    let circuit = name
        .filter(|n| store::is_valid_name(n))
        .map(|name| CircuitPlan {
            name,
            settings: Settings {
                threshold,
                cooldown,
            },
        });
    (circuit.is_some() || retry_budget.is_some()).then_some(StatePlan {
        dir,
        circuit,
        retry_budget,
    })
}

/// An exit code as users write it. Windows exit codes are 32 bits: an NTSTATUS such as
/// 0xC0000005 is -1073741819 as the runner and PowerShell print it, 3221225477 as Node (and so
/// nick-fields/retry) reports it, and 0xC0000005 in Windows' documentation. All three forms
/// name the same code, kept as the `i32` an attempt's exit code is.
fn parse_exit_code(text: &str) -> Option<i32> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok().map(u32::cast_signed);
    }
    text.parse::<i32>()
        .ok()
        .or_else(|| text.parse::<u32>().ok().map(u32::cast_signed))
}

/// A shell that is not installed would fail every attempt the same way: say so up front.
fn check_shell_exists(c: &mut Checker<'_>, input: &'static str, shell: &Shell) {
    let program = shell.program();
    if which::which(&program).is_err() {
        let name = program.to_string_lossy().into_owned();
        c.fail(
            input,
            format!("{name:?} was not found on PATH; install it or choose another shell"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(pairs: &[(&str, &str)]) -> Result<Plan, Vec<PlanError>> {
        Plan::from_inputs(&RawInputs::from_pairs(pairs.iter().copied()), Vec::new())
    }

    #[test]
    fn defaults_match_nick_fields_retry() {
        let p = plan(&[("command", "echo hi")]).unwrap();
        assert_eq!(p.policy.max_attempts, 3);
        assert_eq!(p.policy.waits.base, Duration::from_secs(10));
        assert_eq!(p.policy.waits.backoff, Backoff::Fixed);
        assert_eq!(p.policy.waits.jitter, Jitter::None);
        assert!(p.policy.retry_on.is_any());
        assert!(p.warning_on_retry);
        assert!(!p.continue_on_error);
        assert_eq!(p.attempt_timeout, None);
        assert_eq!(p.kill_grace, Duration::from_secs(5));
        assert_eq!(
            p.command,
            Program::Script {
                text: "echo hi".into(),
                shell: Shell::platform_default()
            }
        );
    }

    #[test]
    fn the_github_token_is_kept_and_hidden_from_debug_output() {
        let p = plan(&[("command", "true"), ("github_token", " ghs_secret \n")]).unwrap();
        assert_eq!(p.github_token, Some(Token::new("ghs_secret")));
        let shown = format!("{p:?}");
        assert!(!shown.contains("ghs_secret"), "{shown}");
        assert!(shown.contains("github_token: Some(Token(***))"), "{shown}");
        assert_eq!(plan(&[("command", "true")]).unwrap().github_token, None);
    }

    #[test]
    fn timeouts_and_lists() {
        let p = plan(&[
            ("command", "x"),
            ("timeout_minutes", "1.5"),
            ("retry_on_exit_code", "2, 75"),
            ("retry_on", "error"),
        ])
        .unwrap();
        assert_eq!(p.attempt_timeout, Some(Duration::from_secs(90)));
        assert_eq!(p.policy.retry_on_exit_codes, vec![2, 75]);
        // NTSTATUS-style codes exist on Windows only; a Unix exit code is 1 to 255.
        let ntstatus = plan(&[
            ("command", "x"),
            ("shell", "sh"),
            (
                "retry_on_exit_code",
                "0xC0000005, 3221225477, -1073741819, 0x7f",
            ),
        ]);
        if cfg!(windows) {
            assert_eq!(
                ntstatus.unwrap().policy.retry_on_exit_codes,
                vec![-1_073_741_819, -1_073_741_819, -1_073_741_819, 127]
            );
        } else {
            assert!(ntstatus.is_err());
            let p = plan(&[("command", "x"), ("retry_on_exit_code", "0x7f, 255")]).unwrap();
            assert_eq!(p.policy.retry_on_exit_codes, vec![127, 255]);
        }
        for bad in ["0x", "0x1FFFFFFFF", "4294967296", "0x0"] {
            let errors = plan(&[
                ("command", "x"),
                ("shell", "sh"),
                ("retry_on_exit_code", bad),
            ])
            .unwrap_err();
            assert!(
                errors.iter().any(|e| e.input == "retry_on_exit_code"),
                "{bad}: {errors:?}"
            );
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = plan(&[("max_attempts", "0"), ("jitter", "lots")]).unwrap_err();
        let inputs: Vec<_> = errors.iter().map(|e| e.input).collect();
        assert_eq!(inputs, vec!["command", "max_attempts", "jitter"]);
    }

    #[test]
    fn state_is_planned_only_with_a_circuit_or_a_budget() {
        assert_eq!(
            plan(&[("command", "x"), ("state_dir", "/s")])
                .unwrap()
                .state,
            None
        );
        let p = plan(&[("command", "x"), ("circuit", "npm-registry")]).unwrap();
        let state = p.state.unwrap();
        let circuit = state.circuit.unwrap();
        assert_eq!(circuit.name, "npm-registry");
        assert_eq!(circuit.settings.threshold, 3);
        assert_eq!(circuit.settings.cooldown, Duration::from_secs(300));
        assert_eq!(state.retry_budget, None);
        assert_eq!(state.dir, None);
        let p = plan(&[("command", "x"), ("retry_budget", "0"), ("state_dir", "/s")]).unwrap();
        let state = p.state.unwrap();
        assert_eq!(state.retry_budget, Some(0));
        assert_eq!(state.dir, Some(PathBuf::from("/s")));
    }

    #[test]
    fn bad_state_inputs_are_named_with_exact_messages() {
        let cases = [
            (
                ("circuit", "../etc"),
                "input circuit: \"../etc\" is not valid; expected a name of 1 to 100 letters, digits, `.`, `_` or `-`, not starting with `.`",
            ),
            (
                ("circuit_threshold", "0"),
                "input circuit_threshold: \"0\" is not valid; expected a whole number of 1 or more",
            ),
            (
                ("circuit_cooldown_seconds", "-1"),
                "input circuit_cooldown_seconds: \"-1\" is not valid; expected a number greater than 0",
            ),
            (
                ("retry_budget", "many"),
                "input retry_budget: \"many\" is not valid; expected a whole number of 0 or more",
            ),
        ];
        for ((input, value), want) in cases {
            let errors = plan(&[("command", "x"), (input, value)]).unwrap_err();
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            assert_eq!(messages, vec![want.to_owned()], "{input}");
        }
    }

    #[test]
    fn bad_fallback_and_report_inputs_are_named_with_exact_messages() {
        let cases = [
            (
                ("fallback_outcome", "maybe"),
                "input fallback_outcome: \"maybe\" is not valid; expected success or failure",
            ),
            (
                ("on_flaky", "ignore"),
                "input on_flaky: \"ignore\" is not valid; expected pass, warn or fail",
            ),
            (
                ("summary", "sometimes"),
                "input summary: \"sometimes\" is not valid; expected always, on-failure or never",
            ),
            (
                ("fallback_shell", "zsh"),
                "input fallback_shell: \"zsh\" is not valid; expected bash, sh, pwsh, powershell, python, cmd, or a command template containing {0} such as \"bash -l {0}\"",
            ),
            (
                (
                    "rules",
                    "rules: [{name: x, category: flaky, patterns: [a]}]",
                ),
                "input rules: rules input: line 1 column 29: unknown variant `flaky`, expected one of network, rate_limit, resource, transient, timeout, permanent, unknown",
            ),
        ];
        for ((input, value), want) in cases {
            let errors =
                plan(&[("command", "x"), ("fallback_command", "y"), (input, value)]).unwrap_err();
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            assert_eq!(messages, vec![want.to_owned()], "{input}");
        }
    }

    #[test]
    fn retry_command_uses_the_steps_shell() {
        let p = plan(&[
            ("command", "a"),
            ("new_command_on_retry", "b"),
            ("shell", "sh"),
        ])
        .unwrap();
        assert_eq!(
            p.program_for(1),
            &Program::Script {
                text: "a".into(),
                shell: Shell::Sh
            }
        );
        assert_eq!(
            p.program_for(2),
            &Program::Script {
                text: "b".into(),
                shell: Shell::Sh
            }
        );
    }
}
