use super::*;
use crate::policy::{Backoff, Jitter};

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
