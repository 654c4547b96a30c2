use super::*;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

const FILE: &str = r"
tasks:
  lint:
    command: cargo clippy -- -D warnings
  test:
    description: Unit and integration tests
    command: cargo test
    max_attempts: 3
    timeout_minutes: 0.5
    continue_on_error: false
  e2e:
    command: ./e2e.sh
  check: [lint, test]
  ci: [check, e2e, lint]
";

#[test]
fn a_file_parses_into_simple_and_composite_tasks() {
    let tasks = Tasks::parse(FILE).unwrap();
    let test = tasks.inputs("test").unwrap();
    assert_eq!(test["command"], "cargo test");
    assert_eq!(test["max_attempts"], "3");
    assert_eq!(test["timeout_minutes"], "0.5");
    assert_eq!(test["continue_on_error"], "false");
    assert!(!test.contains_key("description"));
    assert!(matches!(
        tasks.iter().find(|(n, _)| *n == "test"),
        Some((_, Task::Simple { description: Some(d), .. })) if d == "Unit and integration tests"
    ));
    assert_eq!(tasks.inputs("check"), None);
}

#[test]
fn composite_tasks_expand_in_order_each_task_once() {
    let tasks = Tasks::parse(FILE).unwrap();
    assert_eq!(
        tasks.expand(&names(&["ci"])).unwrap(),
        names(&["lint", "test", "e2e"])
    );
    assert_eq!(
        tasks.expand(&names(&["e2e", "check"])).unwrap(),
        names(&["e2e", "lint", "test"])
    );
    assert_eq!(
        tasks.expand(&names(&["nope"])),
        Err(TaskError::Unknown {
            task: None,
            name: "nope".into()
        })
    );
}

#[test]
fn every_problem_of_a_file_is_reported_at_once() {
    let yaml = r"
tasks:
  bad name:
    command: x
  a:
    command: x
    max_attempt: 3
    retry_on: [error]
  b: [a, missing]
  c: []
  d:
    command: x
    github_token: ghp_secret
";
    let errors = Tasks::parse(yaml).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|e| e.starts_with("task name \"bad name\" is not valid")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|e| e.starts_with(
            "task a: \"max_attempt\" is not an input of recover run; the inputs are command, "
        )),
        "{text:?}"
    );
    assert!(
        text.contains(&"task a: input retry_on must be a string, a number or a boolean".to_owned()),
        "{text:?}"
    );
    assert!(
        text.contains(&"task b: no task named \"missing\" in the file".to_owned()),
        "{text:?}"
    );
    assert!(
        text.contains(&"task c: a composite task needs at least one task".to_owned()),
        "{text:?}"
    );
    assert!(
        text.contains(&"task d: github_token does not belong in a file; recover task takes it from the GITHUB_TOKEN environment variable".to_owned()),
        "{text:?}"
    );
    assert_eq!(errors.len(), 6, "{text:?}");
}

#[test]
fn cycles_are_refused_with_their_path() {
    let yaml = "tasks:\n  a: [b]\n  b: [c]\n  c: [a]\n  d: [d]\n";
    let errors = Tasks::parse(yaml).unwrap_err();
    assert_eq!(errors, vec![TaskError::Cycle(names(&["a", "b", "c", "a"]))]);
    let errors = Tasks::parse("tasks:\n  d: [d]\n").unwrap_err();
    assert_eq!(errors, vec![TaskError::Cycle(names(&["d", "d"]))]);
}

#[test]
fn malformed_yaml_names_its_position() {
    let errors = Tasks::parse("tasks:\n  a:\n    command: [unclosed\n").unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(&errors[0], TaskError::Yaml(m) if m.contains("line")),
        "{errors:?}"
    );
    let errors = Tasks::parse("jobs: {}\n").unwrap_err();
    assert!(
        matches!(&errors[0], TaskError::Yaml(m) if m.contains("jobs")),
        "{errors:?}"
    );
}

#[test]
fn an_oversized_file_is_refused_before_parsing() {
    let yaml = format!(
        "tasks:\n  a:\n    command: '{}'\n",
        "x".repeat(MAX_FILE_BYTES)
    );
    assert_eq!(Tasks::parse(&yaml), Err(vec![TaskError::TooLarge]));
}

#[test]
fn every_task_error_has_its_exact_message() {
    let inputs: Vec<&str> = INPUTS.iter().map(|spec| spec.name).collect();
    let cases = [
        (TaskError::Yaml("bad at line 2".into()), "bad at line 2".to_owned()),
        (TaskError::TooLarge, "larger than 1048576 bytes".to_owned()),
        (
            TaskError::BadName("a b".into()),
            "task name \"a b\" is not valid; use 1 to 64 letters, digits, `.`, `_` or `-`".to_owned(),
        ),
        (
            TaskError::UnknownInput {
                task: "t".into(),
                key: "retries".into(),
            },
            format!(
                "task t: \"retries\" is not an input of recover run; the inputs are {}, and `description`",
                inputs.join(", ")
            ),
        ),
        (
            TaskError::BadValue {
                task: "t".into(),
                key: "command".into(),
            },
            "task t: input command must be a string, a number or a boolean".to_owned(),
        ),
        (
            TaskError::Unknown {
                task: Some("ci".into()),
                name: "e3e".into(),
            },
            "task ci: no task named \"e3e\" in the file".to_owned(),
        ),
        (
            TaskError::Unknown {
                task: None,
                name: "e3e".into(),
            },
            "no task named \"e3e\" in the file".to_owned(),
        ),
        (
            TaskError::Cycle(names(&["a", "b", "a"])),
            "tasks run themselves: a -> b -> a".to_owned(),
        ),
        (
            TaskError::Empty("ci".into()),
            "task ci: a composite task needs at least one task".to_owned(),
        ),
        (
            TaskError::Secret("t".into()),
            "task t: github_token does not belong in a file; recover task takes it from the GITHUB_TOKEN environment variable".to_owned(),
        ),
    ];
    for (error, want) in cases {
        assert_eq!(error.to_string(), want, "{error:?}");
    }
}
