use std::fmt::Write as _;

use super::*;
use crate::classify::Severity;

fn inline_error(yaml: &str) -> String {
    Rules::compile_input(yaml, &Origin::Inline)
        .unwrap_err()
        .to_string()
}

#[test]
fn builtin_rules_load_and_every_name_is_unique() {
    let rules = Rules::builtin();
    let names: HashSet<_> = rules.rules().iter().map(|r| &r.name).collect();
    assert_eq!(names.len(), rules.rules().len());
    assert!(rules.rules().iter().all(|r| r.origin == Origin::Builtin));
}

#[test]
fn a_minimal_rule_takes_its_defaults_from_the_category() {
    let rules = Rules::compile_input(
        "rules:\n  - name: flaky-db\n    category: transient\n    patterns: ['deadlock detected']\n",
        &Origin::Inline,
    )
    .unwrap();
    let rule = &rules[0];
    assert_eq!(rule.severity, Severity::Low);
    assert!(rule.retryable);
    assert_eq!(rule.stream, StreamSelector::Both);
    let permanent = Rules::compile_input(
        "rules:\n  - name: p\n    category: permanent\n    exit_codes: [3]\n",
        &Origin::Inline,
    )
    .unwrap();
    assert!(!permanent[0].retryable);
    assert_eq!(permanent[0].severity, Severity::High);
}

#[test]
fn user_rules_go_before_the_builtins_inline_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules.yml");
    std::fs::write(
        &file,
        "rules:\n  - name: from-file\n    category: network\n    patterns: [x]\n",
    )
    .unwrap();
    let rules = Rules::load(
        Some("rules:\n  - name: inline\n    category: network\n    patterns: [y]\n"),
        Some(&file),
    )
    .unwrap();
    let names: Vec<_> = rules
        .rules()
        .iter()
        .take(3)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["inline", "from-file", "rustc-error"]);
}

#[test]
fn bad_rules_input_is_refused_with_its_rule_and_position() {
    let cases = [
        (
            "rules:\n  - name: npm-429\n    category: rate_limit\n    patterns: ['E429(']\n",
            "rules input: rule \"npm-429\" line 4 column 16: invalid pattern",
        ),
        (
            "rules:\n  - name: x\n    category: flaky\n    patterns: [a]\n",
            "rules input: line 3 column 15: unknown variant `flaky`, expected one of network, rate_limit, resource, transient, timeout, permanent, unknown",
        ),
        (
            "rules:\n  - name: x\n    category: network\n    pattern: [a]\n",
            "rules input: line 4 column 5: unknown field `pattern`, expected one of name, category, severity, retryable, symptom, exit_codes, signals, patterns, exclude, stream, wait, examples",
        ),
        (
            "rules:\n  - name: x\n    category: network\n    exit_codes: [one]\n",
            "rules input: line 4 column 18: invalid i32",
        ),
        (
            "rules:\n  - name: x\n    category: network\n",
            "rules input: rule \"x\" line 2 column 11: a rule needs at least one of patterns, exit_codes or signals",
        ),
        (
            "rules:\n  - name: x\n    category: network\n    signals: [SIGNOPE]\n",
            "rules input: rule \"x\" line 2 column 11: unknown signal \"SIGNOPE\"",
        ),
        (
            "rules:\n  - name: x\n    category: network\n    patterns: ['.*']\n",
            "rules input: rule \"x\" line 2 column 11: pattern \".*\" matches an empty line",
        ),
        (
            "rules:\n  - name: x\n    category: network\n    patterns: [a]\n  - name: x\n    category: network\n    patterns: [b]\n",
            "rules input: rule \"x\" line 5 column 11: duplicate rule name",
        ),
        (
            "rules:\n  - name: x\n    category: network\n    patterns: [a]\n    wait: ['retry after \\d+']\n",
            "rules input: rule \"x\" line 2 column 11: wait pattern \"retry after \\d+\" has no capture group",
        ),
        (
            "rules:\n  - name: x\n    category: network\n    patterns: [a]\n    exclude: ['[z-a]']\n",
            "rules input: rule \"x\" line 5 column 15: invalid exclude pattern",
        ),
    ];
    for (yaml, expected) in cases {
        assert_eq!(inline_error(yaml), expected, "{yaml}");
    }
}

#[test]
fn a_yaml_alias_bomb_is_refused_fast() {
    let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = i - 1;
        let items = vec![format!("*a{prev}"); 10].join(", ");
        writeln!(yaml, "a{i}: &a{i} [{items}]").unwrap();
    }
    yaml.push_str("rules: *a9\n");
    let started = std::time::Instant::now();
    let message = inline_error(&yaml);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(message.starts_with("rules input: line "), "{message}");
}

#[test]
fn a_ten_megabyte_input_is_refused_before_parsing() {
    let big = format!("rules: []\n# {}\n", "x".repeat(10 * 1024 * 1024));
    assert_eq!(
        inline_error(&big),
        "rules input: larger than the limit of 1048576 bytes"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.yml");
    std::fs::write(&file, &big).unwrap();
    let error = Rules::load(None, Some(&file)).unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "rules file {}: larger than the limit of 1048576 bytes",
            file.display()
        )
    );
}

/// The JSON Schema of rules files, as committed in `docs/rules.schema.json`.
fn schema_json() -> String {
    let schema = schemars::schema_for!(RulesFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}

#[test]
fn the_committed_schema_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::var_os("RECOVER_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, schema_json()).unwrap();
        return;
    }
    assert!(
        committed == schema_json(),
        "docs/rules.schema.json is stale: run `RECOVER_UPDATE_SCHEMA=1 cargo test schema`"
    );
}
