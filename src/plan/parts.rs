//! The parts of a plan, each read from its group of inputs: the commands, the rules, the
//! fallback, the retry policy and the shared state.

use std::ffi::OsString;
use std::path::PathBuf;

use super::Program;
use super::checker::{Checker, check_shell_exists};
use crate::classify::lazy::PlanRules;
use crate::classify::rules::{Origin, Rules, RulesError};
use crate::error::with_causes;
use crate::exec::shell::Shell;
use crate::policy::{Backoff, Jitter, Policy, RetryOn, WaitPolicy};
use crate::state::breaker::Settings;
use crate::state::{CircuitPlan, StatePlan, store};

/// The command, `new_command_on_retry` and `on_retry_command`, all run with `shell`.
pub(super) fn commands(
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
pub(super) fn rules(c: &mut Checker<'_>) -> PlanRules {
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
pub(super) fn fallback(c: &mut Checker<'_>) -> Option<Program> {
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
pub(super) fn policy(c: &mut Checker<'_>) -> Policy {
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
pub(super) fn state(c: &mut Checker<'_>) -> Option<StatePlan> {
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
