//! action.yml stays in step with the binary: the same inputs with the same defaults, each
//! passed to the binary as `INPUT_<NAME>` in `env:` (never through `${{ }}` in a `run:` body),
//! and every output the binary writes declared.

use std::collections::BTreeMap;

use recover::inputs::{ACTION_ONLY, INPUTS};
use recover::report::OUTPUTS;
use serde::Deserialize;

/// Inputs whose default in the action is an expression the runner evaluates; the binary has no
/// default of its own for them.
const EXPRESSION_DEFAULTS: [(&str, &str); 1] = [("github_token", "${{ github.token }}")];

#[derive(Deserialize)]
struct Action {
    inputs: BTreeMap<String, Input>,
    outputs: BTreeMap<String, Output>,
    runs: Runs,
}

#[derive(Deserialize)]
struct Input {
    description: String,
    default: Option<String>,
}

#[derive(Deserialize)]
struct Output {
    value: String,
}

#[derive(Deserialize)]
struct Runs {
    using: String,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Step {
    id: Option<String>,
    run: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

fn action() -> Action {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
    serde_saphyr::from_str(&text).expect("action.yml parses")
}

#[test]
fn the_action_declares_every_input_of_the_binary_with_its_default() {
    let action = action();
    let binary: Vec<&str> = INPUTS.iter().map(|s| s.name).collect();
    let declared: Vec<&str> = action
        .inputs
        .keys()
        .map(String::as_str)
        .filter(|name| !ACTION_ONLY.contains(name))
        .collect();
    let mut sorted = binary.clone();
    sorted.sort_unstable();
    assert_eq!(
        declared, sorted,
        "action.yml inputs differ from src/inputs.rs"
    );
    for spec in INPUTS {
        let input = &action.inputs[spec.name];
        let expression = EXPRESSION_DEFAULTS
            .iter()
            .find(|(name, _)| *name == spec.name)
            .map(|(_, default)| *default);
        assert_eq!(
            input.default.as_deref().unwrap_or(""),
            expression.or(spec.default).unwrap_or(""),
            "default of {}",
            spec.name
        );
        assert!(
            !input.description.trim().is_empty(),
            "{} has no description",
            spec.name
        );
    }
}

#[test]
fn every_input_reaches_the_binary_through_env_and_no_run_body_interpolates() {
    let action = action();
    assert_eq!(action.runs.using, "composite");
    let run = action
        .runs
        .steps
        .iter()
        .find(|s| s.id.as_deref() == Some("run"))
        .expect("a step with id: run");
    for spec in INPUTS {
        let want = format!("${{{{ inputs.{} }}}}", spec.name);
        assert_eq!(
            run.env.get(&spec.env_var()),
            Some(&want),
            "env of {}",
            spec.name
        );
    }
    for step in &action.runs.steps {
        if let Some(body) = &step.run {
            assert!(
                !body.contains("${{"),
                "a run: body interpolates an expression:\n{body}"
            );
        }
    }
}

#[test]
fn the_action_declares_every_output_of_the_binary() {
    let action = action();
    for name in OUTPUTS {
        let output = action
            .outputs
            .get(name)
            .unwrap_or_else(|| panic!("action.yml lacks output {name}"));
        assert_eq!(output.value, format!("${{{{ steps.run.outputs.{name} }}}}"));
    }
    let readme = include_str!("../README.md");
    let table = readme
        .split_once("### Outputs\n")
        .and_then(|(_, rest)| rest.split("\n#").next())
        .expect("README has an outputs section");
    let mut rows: Vec<&str> = table
        .lines()
        .filter_map(|line| line.strip_prefix("| `")?.split_once("` |"))
        .map(|(name, _)| name)
        .collect();
    rows.sort_unstable();
    let mut binary = OUTPUTS.to_vec();
    binary.sort_unstable();
    assert_eq!(
        rows, binary,
        "README's outputs table lists the binary's outputs"
    );
}

#[test]
fn outputs_the_command_sets_have_a_declared_carrier() {
    // A composite action passes on only the outputs its action.yml declares: what the command
    // writes to $GITHUB_OUTPUT reaches later steps on GitHub only through command_outputs.
    let action = action();
    let carrier = action
        .outputs
        .get("command_outputs")
        .expect("action.yml declares command_outputs");
    assert_eq!(carrier.value, "${{ steps.run.outputs.command_outputs }}");
    let declared: Vec<&str> = action.outputs.keys().map(String::as_str).collect();
    let mut binary = OUTPUTS.to_vec();
    binary.sort_unstable();
    assert_eq!(
        declared, binary,
        "action.yml declares exactly the binary's outputs"
    );
    let workflow = include_str!("e2e/workflows/dropin.yml");
    assert!(workflow.contains("fromJSON(steps.sets.outputs.command_outputs).version"));
    assert!(
        !workflow.contains("steps.sets.outputs.version"),
        "the end-to-end test must not rely on act passing on undeclared outputs"
    );
}
