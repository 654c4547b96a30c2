//! One run of a plan as a step: the attempt loop with its effects (environment, work
//! directory, shared state, random waits), then every sink of the report (annotations, the
//! result notice, outputs, the job summary, the JSON report) and the exit code.
//!
//! In: a checked [`Plan`]. Out: [`Finished`]. `recover run` runs one plan, `recover task` one
//! per task.

use std::path::PathBuf;

use crate::exec::Cancel;
use crate::exec::env::BaseEnv;
use crate::exec::work_dir::WorkDir;
use crate::log::Log;
use crate::outcome::Outcome;
use crate::plan::Plan;
use crate::policy::WaitPolicy;
use crate::report::{self, Report};
use crate::run::shared::Shared;
use crate::run::{self, Context, SystemTime};
use crate::state;

/// How one run of a plan ended, for `recover task`, which runs several.
pub struct Finished {
    /// recover's exit code for this run.
    pub exit_code: i32,
    /// How the run ended.
    pub outcome: Outcome,
    /// Attempts of the command (the fallback not counted), as `total_attempts`.
    pub attempts: usize,
    /// The whole run, waits included.
    pub duration: std::time::Duration,
}

/// Runs a plan and reports it: log, outputs, summary, report file.
pub async fn execute(plan: &Plan, actions: bool, cancel: &mut Cancel) -> Finished {
    let mut log = Log::new(actions);
    let env = BaseEnv::current();
    let work_dir = work_dir(&env);
    let waits = WaitPolicy::waits_from_entropy(&plan.policy.waits);
    let mut shared = plan.state.as_ref().and_then(|state| {
        let default = state::default_dir(|name| {
            env.get(name)
                .and_then(|v| v.to_str())
                .map(ToOwned::to_owned)
        });
        Shared::open(state, default, &mut log)
    });
    let ctx = Context {
        env: &env,
        work_dir: &work_dir,
        classifier: &plan.rules,
        clock: &SystemTime,
        sleeper: &SystemTime,
        waits,
        log: &mut log,
        shared: shared.as_mut(),
    };
    let result = run::run(plan, ctx, cancel).await;
    let report = Report::new(plan, &result);
    if let Some((kind, message)) = report.final_annotation() {
        log.annotate(kind, &message, true);
    }
    report::sinks::command_outputs_notice(&report, &mut log);
    report::step_result::emit(&report, &env, &mut log, actions);
    log.finish();
    write_outputs(&mut log, &report.outputs());
    report::sinks::summary(&report, env.get("GITHUB_STEP_SUMMARY"), &mut log);
    if let Some(path) = &plan.report_file
        && let Err(error) = report::json::write(&report, path)
    {
        log.warning(&format!(
            "cannot write report_file {}: {error}",
            path.display()
        ));
    }
    Finished {
        exit_code: report.exit_code(),
        outcome: result.outcome,
        attempts: report.attempt_count(),
        duration: result.duration,
    }
}

/// A private directory for scripts and the attempts' runner files, in `RUNNER_TEMP` when the
/// runner gives one (it is cleaned after the job), else the system's temporary directory.
fn work_dir(env: &BaseEnv) -> WorkDir {
    let parent = env
        .get("RUNNER_TEMP")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    WorkDir::new(parent)
}

/// Writes outputs to `GITHUB_OUTPUT`, when the runner gives one.
pub fn write_outputs(log: &mut Log, values: &[(&str, String)]) {
    let path = std::env::var_os("GITHUB_OUTPUT");
    report::sinks::outputs(log, path.as_deref(), values);
}
