//! `recover task`: finds `recover.yml`, plans every task of it before running any, runs the
//! requested ones in order with the engine of `recover run`, and ends with one line per task.
//!
//! Tasks run from the directory that holds the file, as if `recover run` were started there,
//! so relative paths in a task (`working_directory`, `rules_file`, `report_file`) mean the same
//! wherever in the repository recover is started.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::error::Error;
use super::{is_actions, refuse, runtime};
use crate::exec::Cancel;
use crate::exit_code;
use crate::inputs::RawInputs;
use crate::log::Log;
use crate::outcome::Outcome;
use crate::plan::{Plan, PlanError};
use crate::step::{Finished, execute};
use crate::task::{Task, Tasks};

/// The file `recover task` looks for.
pub const FILE_NAME: &str = "recover.yml";

/// `recover task [NAME...] [--file PATH]`.
#[derive(Debug, Clone, Args)]
pub struct TaskArgs {
    /// The tasks to run, in order (a composite task runs its tasks); none: list the tasks.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// The task file [default: recover.yml in the current directory or the nearest one above].
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

/// Runs `recover task`; returns the exit code: the first failing task's, 0 when all passed,
/// 2 when the file or a task in it is invalid (then nothing runs).
#[must_use]
pub fn run_tasks(args: &TaskArgs) -> i32 {
    let actions = is_actions();
    let (path, tasks) = match load(args.file.as_deref()) {
        Ok(loaded) => loaded,
        Err(problems) => return refuse(&Error::Plan(problems), actions),
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if !dir.as_os_str().is_empty()
        && let Err(error) = std::env::set_current_dir(&dir)
    {
        let problem = format!("cannot enter {}: {error}", dir.display());
        return refuse(&Error::Plan(vec![file_problem(&path, &problem)]), actions);
    }
    let plans = match plan_all(&tasks) {
        Ok(plans) => plans,
        Err(problems) => return refuse(&Error::Plan(problems), actions),
    };
    if args.names.is_empty() {
        return super::print_report(&list(&path, &tasks));
    }
    let order = match tasks.expand(&args.names) {
        Ok(order) => order,
        Err(error) => {
            return refuse(
                &Error::Plan(vec![file_problem(&path, &error.to_string())]),
                actions,
            );
        }
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => return refuse(&Error::Runtime(error), actions),
    };
    runtime.block_on(async {
        let mut cancel = match Cancel::listen() {
            Ok(cancel) => cancel,
            Err(error) => return refuse(&Error::Runtime(error), actions),
        };
        run_in_order(&order, &plans, actions, &mut cancel).await
    })
}

/// Runs the tasks of `order` one after the other until one fails or recover is cancelled;
/// then prints one line per task.
async fn run_in_order(
    order: &[String],
    plans: &BTreeMap<String, Plan>,
    actions: bool,
    cancel: &mut Cancel,
) -> i32 {
    let mut log = Log::new(actions);
    let mut finished: Vec<(String, Finished)> = Vec::new();
    let mut code = exit_code::SUCCESS;
    for (i, name) in order.iter().enumerate() {
        let Some(plan) = plans.get(name) else {
            continue;
        };
        log.line(&format!("task {name} ({} of {})", i + 1, order.len()));
        let done = execute(plan, actions, cancel).await;
        let stop = done.exit_code != exit_code::SUCCESS;
        code = done.exit_code;
        finished.push((name.clone(), done));
        if stop {
            break;
        }
    }
    if order.len() > 1 {
        log.emit(table(order, &finished).trim_end());
    }
    code
}

/// One line per task: outcome, attempts, time; "not run" for those after a failure.
fn table(order: &[String], finished: &[(String, Finished)]) -> String {
    let width = order.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::from("recover: tasks\n");
    for name in order {
        let line = match finished.iter().find(|(done, _)| done == name) {
            Some((_, f)) => format!(
                "  {name:<width$}  {:<9}  {:>2} attempt{}  {}",
                f.outcome.as_str(),
                f.attempts,
                if f.attempts == 1 { " " } else { "s" },
                seconds(f.duration),
            ),
            None => format!("  {name:<width$}  not run"),
        };
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if finished
        .last()
        .is_some_and(|(_, f)| f.outcome == Outcome::Cancelled)
    {
        out.push_str("  (cancelled)\n");
    }
    out
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// `recover task` without a name: every task with what it does.
fn list(path: &Path, tasks: &Tasks) -> String {
    let width = tasks.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let mut out = format!("tasks in {}:\n", path.display());
    for (name, task) in tasks.iter() {
        let what = match task {
            Task::Simple {
                description: Some(description),
                ..
            } => description.clone(),
            Task::Simple { inputs, .. } => inputs
                .get("command")
                .and_then(|c| c.lines().next())
                .unwrap_or_default()
                .to_owned(),
            Task::Composite(steps) => format!("runs {}", steps.join(", ")),
        };
        out.push_str(format!("  {name:<width$}  {what}").trim_end());
        out.push('\n');
    }
    out
}

/// Reads and checks the task file: `explicit`, or the nearest `recover.yml` from the current
/// directory up.
fn load(explicit: Option<&Path>) -> Result<(PathBuf, Tasks), Vec<PlanError>> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => std::env::current_dir()
            .ok()
            .and_then(|dir| find_file(&dir))
            .ok_or_else(|| {
                vec![PlanError {
                    input: "file",
                    problem: format!(
                        "no {FILE_NAME} in the current directory or above it; write one (see docs/tasks.md) or name it with --file"
                    ),
                }]
            })?,
    };
    let text = read(&path).map_err(|error| vec![file_problem(&path, &error.to_string())])?;
    let tasks = Tasks::parse(&text).map_err(|errors| {
        errors
            .iter()
            .map(|e| file_problem(&path, &e.to_string()))
            .collect::<Vec<_>>()
    })?;
    let path = std::path::absolute(&path).unwrap_or(path);
    Ok((path, tasks))
}

/// The nearest `recover.yml` from `start` up to the root.
#[must_use]
pub fn find_file(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

fn read(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(2 * 1024 * 1024)
        .read_to_string(&mut text)?;
    Ok(text)
}

/// Plans every simple task, so that a bad value anywhere in the file stops recover before any
/// task runs. A task's inputs come from the file alone (what it leaves out has `recover run`'s
/// default), except the token for the GitHub API, which comes from `GITHUB_TOKEN` as `gh` and
/// other tools take it.
fn plan_all(tasks: &Tasks) -> Result<BTreeMap<String, Plan>, Vec<PlanError>> {
    let token = std::env::var("GITHUB_TOKEN").ok();
    let mut plans = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, task) in tasks.iter() {
        let Task::Simple { inputs, .. } = task else {
            continue;
        };
        let raw = RawInputs::collect(
            |spec| inputs.get(spec.name).cloned(),
            |var| token.clone().filter(|_| var == "INPUT_GITHUB_TOKEN"),
        );
        match Plan::from_inputs(&raw, Vec::new()) {
            Ok(plan) => {
                plans.insert(name.to_owned(), plan);
            }
            Err(errors) => problems.extend(errors.into_iter().map(|e| PlanError {
                input: e.input,
                problem: format!("{} (task {name})", e.problem),
            })),
        }
    }
    if problems.is_empty() {
        Ok(plans)
    } else {
        Err(problems)
    }
}

fn file_problem(path: &Path, problem: &str) -> PlanError {
    PlanError {
        input: "file",
        problem: format!("{}: {problem}", path.display()),
    }
}
