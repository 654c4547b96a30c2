//! Local development tasks: `recover.yml` names commands with their retry policies, and
//! composite tasks that run other tasks in order; `recover task NAME` runs them with the same
//! engine as `recover run`.
//!
//! ```yaml
//! tasks:
//!   lint:
//!     command: cargo clippy --all-targets -- -D warnings
//!   test:
//!     description: Unit and integration tests
//!     command: cargo test
//!     max_attempts: 3
//!     retry_on: classified
//!   check-all: [lint, test]
//! ```
//!
//! In: the file's text. Out: [`Tasks`], checked as a whole (names, inputs, references, cycles)
//! before anything runs, and the order of the simple tasks a request expands to. This module
//! only reads and decides; `cli/task.rs` plans and runs.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::inputs::INPUTS;

/// The most bytes a task file may have; far more than any real one.
const MAX_FILE_BYTES: usize = 1024 * 1024;

/// The longest task name.
const MAX_NAME: usize = 64;

/// A task file, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Tasks {
    tasks: BTreeMap<String, Task>,
}

/// One task of the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// A command with its inputs, by input name (`command`, `max_attempts`, ...), as text.
    Simple {
        /// What the task is for, shown by `recover task` without a name.
        description: Option<String>,
        /// The inputs, as `recover run` takes them.
        inputs: BTreeMap<String, String>,
    },
    /// Other tasks, run in order.
    Composite(Vec<String>),
}

/// What is wrong with a task file or a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The file is not valid YAML of the expected shape.
    #[error("{0}")]
    Yaml(String),
    /// The file is too large to be a task file.
    #[error("larger than {MAX_FILE_BYTES} bytes")]
    TooLarge,
    /// A task has a name no task can have.
    #[error("task name {0:?} is not valid; use 1 to {MAX_NAME} letters, digits, `.`, `_` or `-`")]
    BadName(String),
    /// A task sets something that is not an input of `recover run`.
    #[error(
        "task {task}: {key:?} is not an input of recover run; the inputs are {inputs}, and `description`",
        inputs = input_names()
    )]
    UnknownInput {
        /// The task.
        task: String,
        /// The key it sets.
        key: String,
    },
    /// A task's input has a value that is not a string, a number or a boolean.
    #[error("task {task}: input {key} must be a string, a number or a boolean")]
    BadValue {
        /// The task.
        task: String,
        /// The input.
        key: String,
    },
    /// A composite task, or the request, names a task the file does not have.
    #[error(
        "{within}no task named {name:?} in the file",
        within = task.as_ref().map(|task| format!("task {task}: ")).unwrap_or_default()
    )]
    Unknown {
        /// The composite task that names it; `None` for a name asked for on the command line.
        task: Option<String>,
        /// The missing name.
        name: String,
    },
    /// Composite tasks that end up running themselves.
    #[error("tasks run themselves: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// A composite task with nothing in it.
    #[error("task {0}: a composite task needs at least one task")]
    Empty(String),
    /// A task sets `github_token`: a secret does not belong in a file kept in the repository.
    #[error(
        "task {0}: github_token does not belong in a file; recover task takes it from the GITHUB_TOKEN environment variable"
    )]
    Secret(String),
}

/// The names of `recover run`'s inputs, for [`TaskError::UnknownInput`].
fn input_names() -> String {
    INPUTS
        .iter()
        .map(|spec| spec.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The file as written, before checking.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskFile {
    tasks: BTreeMap<String, TaskSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TaskSpec {
    Composite(Vec<String>),
    Simple(BTreeMap<String, Scalar>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    /// Anything else (a list, a mapping), refused with the task and key named.
    Other(serde::de::IgnoredAny),
}

impl Tasks {
    /// Parses and checks a task file: every name, every input key, every reference, no cycles.
    /// The values themselves are checked when a task is planned, by the same code as
    /// `recover run`'s inputs.
    ///
    /// # Errors
    /// Every problem found, the YAML's first if it does not parse.
    pub fn parse(yaml: &str) -> Result<Tasks, Vec<TaskError>> {
        if yaml.len() > MAX_FILE_BYTES {
            return Err(vec![TaskError::TooLarge]);
        }
        let file: TaskFile = crate::yaml::from_str(yaml, MAX_FILE_BYTES).map_err(|e| {
            vec![TaskError::Yaml(if e.line > 0 {
                format!("{} at line {}, column {}", e.message, e.line, e.column)
            } else {
                e.message
            })]
        })?;
        let mut errors = Vec::new();
        let mut tasks = BTreeMap::new();
        for (name, spec) in file.tasks {
            if !is_valid_name(&name) {
                errors.push(TaskError::BadName(name.clone()));
            }
            let task = match spec {
                TaskSpec::Composite(steps) => {
                    if steps.is_empty() {
                        errors.push(TaskError::Empty(name.clone()));
                    }
                    Task::Composite(steps)
                }
                TaskSpec::Simple(values) => simple(&name, values, &mut errors),
            };
            tasks.insert(name, task);
        }
        let tasks = Tasks { tasks };
        tasks.check_references(&mut errors);
        if errors.is_empty() {
            Ok(tasks)
        } else {
            Err(errors)
        }
    }

    /// The tasks, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Task)> {
        self.tasks.iter().map(|(name, task)| (name.as_str(), task))
    }

    /// The simple tasks that running `requested` runs, in order, each once (the first time it
    /// comes), as `make` does with prerequisites.
    ///
    /// # Errors
    /// A requested name the file does not have.
    pub fn expand(&self, requested: &[String]) -> Result<Vec<String>, TaskError> {
        let mut order = Vec::new();
        for name in requested {
            if !self.tasks.contains_key(name) {
                return Err(TaskError::Unknown {
                    task: None,
                    name: name.clone(),
                });
            }
            self.expand_into(name, &mut order);
        }
        Ok(order)
    }

    /// The inputs of simple task `name`, if there is one.
    #[must_use]
    pub fn inputs(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        match self.tasks.get(name) {
            Some(Task::Simple { inputs, .. }) => Some(inputs),
            _ => None,
        }
    }

    /// Appends the simple tasks of `name` to `order`. Only called on a checked file, which has
    /// no cycles and no dangling references.
    fn expand_into(&self, name: &str, order: &mut Vec<String>) {
        match self.tasks.get(name) {
            Some(Task::Simple { .. }) if !order.iter().any(|done| done == name) => {
                order.push(name.to_owned());
            }
            Some(Task::Composite(steps)) => {
                for step in steps {
                    self.expand_into(step, order);
                }
            }
            Some(Task::Simple { .. }) | None => {}
        }
    }

    /// Finds references to missing tasks and cycles among composite tasks.
    fn check_references(&self, errors: &mut Vec<TaskError>) {
        for (name, task) in &self.tasks {
            if let Task::Composite(steps) = task {
                for step in steps {
                    if !self.tasks.contains_key(step) {
                        errors.push(TaskError::Unknown {
                            task: Some(name.clone()),
                            name: step.clone(),
                        });
                    }
                }
            }
        }
        let mut state = BTreeMap::new();
        for name in self.tasks.keys() {
            let mut path = Vec::new();
            if let Some(cycle) = self.find_cycle(name, &mut state, &mut path) {
                errors.push(TaskError::Cycle(cycle));
                return;
            }
        }
    }

    /// Depth-first search: `state` marks tasks in progress (false) or done (true).
    fn find_cycle<'a>(
        &'a self,
        name: &'a str,
        state: &mut BTreeMap<&'a str, bool>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(name) {
            Some(true) => return None,
            Some(false) => {
                let start = path.iter().position(|p| *p == name).unwrap_or(0);
                let mut cycle: Vec<String> =
                    path[start..].iter().map(|p| (*p).to_owned()).collect();
                cycle.push(name.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        state.insert(name, false);
        path.push(name);
        if let Some(Task::Composite(steps)) = self.tasks.get(name) {
            for step in steps {
                if self.tasks.contains_key(step.as_str())
                    && let Some(cycle) = self.find_cycle(step, state, path)
                {
                    return Some(cycle);
                }
            }
        }
        path.pop();
        state.insert(name, true);
        None
    }
}

/// A simple task from its mapping: `description` apart, every key must be an input.
fn simple(name: &str, values: BTreeMap<String, Scalar>, errors: &mut Vec<TaskError>) -> Task {
    let mut description = None;
    let mut inputs = BTreeMap::new();
    for (key, value) in values {
        let text = match value {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(n) => n.to_string(),
            Scalar::Float(x) => x.to_string(),
            Scalar::Text(s) => s,
            Scalar::Other(_) => {
                errors.push(TaskError::BadValue {
                    task: name.to_owned(),
                    key,
                });
                continue;
            }
        };
        if key == "description" {
            description = Some(text);
        } else if key == "github_token" {
            errors.push(TaskError::Secret(name.to_owned()));
        } else if INPUTS.iter().any(|spec| spec.name == key) {
            inputs.insert(key, text);
        } else {
            errors.push(TaskError::UnknownInput {
                task: name.to_owned(),
                key,
            });
        }
    }
    Task::Simple {
        description,
        inputs,
    }
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests;
