//! One command run to its end: its runner files, its script, its observers and the log lines
//! about it. The loop decides what follows; this only runs and records.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use super::Loop;
use super::classifier::Classifier;
use super::min_some;
use crate::exec::env::SideFiles;
use crate::exec::stream::Relayed;
use crate::exec::work_dir::WorkDir;
use crate::exec::{self, AttemptSpec, Cancel, CancelSignal, Ending};
use crate::log::Log;
use crate::log::stop_commands::StopCommands;
use crate::outcome::{AttemptKind, AttemptRecord};
use crate::output::{Observer, Stream, Tail};
use crate::plan::{Plan, Program};

/// One command run to its end, before any decision.
pub(super) struct Executed<O> {
    pub record: AttemptRecord,
    pub found: [Option<O>; 2],
    pub side: Option<SideFiles>,
    pub cancelled: Option<CancelSignal>,
}

impl<C: Classifier> Loop<'_, C> {
    /// Runs one command to its end with runner files of its own.
    pub(super) async fn execute(
        &mut self,
        kind: AttemptKind,
        number: u32,
        program: &Program,
        timeout: Option<Duration>,
        previous_exit_code: Option<i32>,
        cancel: &mut Cancel,
    ) -> Executed<C::Observer> {
        let plan = self.plan;
        let log = &mut *self.ctx.log;
        let dir = format!("{}-{number}", kind.as_str());
        let side = match SideFiles::create(self.ctx.work_dir, &dir, self.ctx.env) {
            Ok(side) => Some(side),
            Err(error) => {
                log.warning(&format!(
                    "cannot give attempt {number} runner files of its own: {error}"
                ));
                None
            }
        };
        let overrides = side.as_ref().map(SideFiles::overrides).unwrap_or_default();
        let max = plan.policy.max_attempts;
        let vars = self
            .ctx
            .env
            .for_attempt(number, max, previous_exit_code, &overrides);
        log.attempt_started(kind, number, max, program);
        let started = self.ctx.clock.now().saturating_duration_since(self.start);
        let mut record = started_record(number, kind, started, timeout);
        let spec = match attempt_spec(
            plan,
            program,
            (self.ctx.work_dir, &dir),
            kind.as_str(),
            vars,
            timeout,
        ) {
            Ok(spec) => spec,
            Err(error) => {
                let message = format!("cannot write the script of attempt {number}: {error}");
                log.line(&message);
                log.attempt_finished();
                record.spawn_error = Some(message);
                return Executed {
                    record,
                    found: [None, None],
                    side,
                    cancelled: None,
                };
            }
        };
        let classifier = self.ctx.classifier;
        let observers = watched(
            log,
            classifier.observer(Stream::Stdout),
            classifier.observer(Stream::Stderr),
        );
        let attempt = exec::run(&spec, observers, cancel).await;
        output_ended(log, &attempt);
        log_problems(log, number, &attempt);
        log.attempt_finished();
        let cancelled = match attempt.ending {
            Ending::Cancelled(signal) => {
                log.cancelled(signal, number);
                Some(signal)
            }
            _ => None,
        };
        record.duration = attempt.duration;
        record.exit_code = attempt.exit_code;
        record.signal = attempt.signal;
        record.timed_out = attempt.ending == Ending::TimedOut;
        record.stdout_tail = attempt.tail(Stream::Stdout);
        record.stderr_tail = attempt.tail(Stream::Stderr);
        record.spawn_error.clone_from(&attempt.spawn_error);
        // An observer that failed leaves the attempt to be classified by its exit alone: the
        // other stream's findings without this one's could tell a different story.
        let observer_failed = [&attempt.stdout, &attempt.stderr]
            .into_iter()
            .flatten()
            .any(|r| r.observer_failure.is_some());
        let found = if observer_failed {
            [None, None]
        } else {
            [
                attempt.stdout.and_then(observer_of),
                attempt.stderr.and_then(observer_of),
            ]
        };
        Executed {
            record,
            found,
            side,
            cancelled,
        }
    }

    /// Runs `on_retry_command` before attempt `next`; its failure is logged and ignored.
    pub(super) async fn on_retry(&mut self, program: &Program, next: u32, cancel: &mut Cancel) {
        let plan = self.plan;
        let dir = format!("on-retry-{next}");
        // The hook gets runner files of its own, committed before the final attempt's unless
        // recover is cancelled during it (then they are half-written).
        let side = match SideFiles::create(self.ctx.work_dir, &dir, self.ctx.env) {
            Ok(side) => Some(side),
            Err(error) => {
                self.ctx.log.warning(&format!(
                    "cannot give on_retry_command runner files of its own: {error}"
                ));
                None
            }
        };
        let overrides = side.as_ref().map(SideFiles::overrides).unwrap_or_default();
        let vars = self
            .ctx
            .env
            .for_attempt(next, plan.policy.max_attempts, None, &overrides);
        let timeout = min_some(plan.attempt_timeout, self.remaining());
        let log = &mut *self.ctx.log;
        log.line(&format!("Running on_retry_command before attempt {next}."));
        let spec = match attempt_spec(
            plan,
            program,
            (self.ctx.work_dir, &dir),
            "on-retry",
            vars,
            timeout,
        ) {
            Ok(spec) => spec,
            Err(error) => {
                log.warning(&format!("on_retry_command could not be written: {error}"));
                return;
            }
        };
        let result = exec::run(&spec, watched(log, (), ()), cancel).await;
        output_ended(log, &result);
        if !matches!(result.ending, Ending::Cancelled(_)) {
            self.hooks.extend(side);
        }
        if result.ending == Ending::TimedOut {
            log.line("on_retry_command timed out; continuing.");
        } else if result.exit_code != 0 {
            log.line(&format!(
                "on_retry_command failed with exit code {}; continuing.",
                result.exit_code
            ));
        }
    }
}

/// What went wrong around an attempt that its exit code does not tell: it could not start, its
/// output could not be passed on, or it left processes running.
fn log_problems<O>(log: &mut Log, number: u32, attempt: &exec::Attempt<O>) {
    if let Some(message) = &attempt.spawn_error {
        log.line(message);
    }
    for relayed in [&attempt.stdout, &attempt.stderr].into_iter().flatten() {
        if let Some(error) = &relayed.write_error {
            log.warning(&format!(
                "cannot pass on the output of attempt {number}: {error}"
            ));
        }
    }
    if let Some(cause) = &attempt.relay_fallback {
        log.warning(&format!("attempt {number}: {cause}"));
    }
    let failures: Vec<&str> = [&attempt.stdout, &attempt.stderr]
        .into_iter()
        .flatten()
        .filter_map(|r| r.observer_failure.as_deref())
        .collect();
    if let Some(first) = failures.first() {
        log.warning(&format!(
            "the output of attempt {number} could not be classified ({first}); it is classified by its exit code alone"
        ));
    }
    if attempt.stopped_leftovers {
        log.line(&format!(
            "Stopped processes left running by attempt {number}."
        ));
    }
    match attempt.output_left_behind {
        Some(exec::LeftBehind::Escaped) => log.line(&format!(
            "A process that left the group of attempt {number} (setsid) still holds its output open: stopped waiting for it."
        )),
        Some(exec::LeftBehind::Stuck) => log.warning(&format!(
            "the output of attempt {number} could not all be passed on (nothing reads recover's output): stopped waiting for it"
        )),
        Some(exec::LeftBehind::Cancelled) | None => {}
    }
}

/// An observer of a command's stream, with the watch for `::stop-commands::` under Actions
/// (the runner reads workflow commands from stdout and stderr alike).
struct Watched<O> {
    inner: O,
    commands: Option<StopCommands>,
}

impl<O: Observer> Observer for Watched<O> {
    fn observe(&mut self, chunk: &[u8]) {
        self.inner.observe(chunk);
        if let Some(commands) = &mut self.commands {
            commands.observe(chunk);
        }
    }
}

/// The observers of one command's two streams, watched for `::stop-commands::` under Actions.
fn watched<O>(log: &Log, stdout: O, stderr: O) -> (Watched<O>, Watched<O>) {
    let watch = || log.is_actions().then(StopCommands::default);
    (
        Watched {
            inner: stdout,
            commands: watch(),
        },
        Watched {
            inner: stderr,
            commands: watch(),
        },
    )
}

/// Tells the log how the command's output on its stream ended (mid-line, and with commands
/// stopped), so that recover's next line starts where the runner reads it.
fn output_ended<O>(log: &mut Log, attempt: &exec::Attempt<Watched<O>>) {
    let ours = match log.stream() {
        Stream::Stdout => &attempt.stdout,
        Stream::Stderr => &attempt.stderr,
    };
    // A relay left behind may still be mid-line: a newline too many is harmless.
    let mid_line = ours
        .as_ref()
        .is_none_or(|r| r.tail.to_vec().last().is_some_and(|b| *b != b'\n'));
    let mut tokens: Vec<String> = [&attempt.stdout, &attempt.stderr]
        .into_iter()
        .flatten()
        .filter_map(|r| r.observer.as_ref()?.commands.as_ref()?.token())
        .collect();
    tokens.dedup();
    log.output_ended(mid_line, tokens);
}

fn observer_of<O>(relayed: Relayed<Watched<O>>) -> Option<O> {
    relayed.observer.map(|watched| watched.inner)
}

/// The record of an attempt that has just started: a failure until its ending says otherwise.
fn started_record(
    number: u32,
    kind: AttemptKind,
    started: Duration,
    timeout: Option<Duration>,
) -> AttemptRecord {
    AttemptRecord {
        number,
        kind,
        started,
        duration: Duration::ZERO,
        exit_code: 1,
        signal: None,
        timed_out: false,
        timeout,
        deadline: None,
        classification: None,
        wait_after: None,
        stdout_tail: Tail::default(),
        stderr_tail: Tail::default(),
        spawn_error: None,
    }
}

/// Builds the spec of one command: a script goes to a file in `dir`, as the runner does.
/// The spec of one run of `program`; a script is written to the sub-directory `dir` of the
/// work directory, as `{stem}.{extension}`.
fn attempt_spec(
    plan: &Plan,
    program: &Program,
    (work, dir): (&WorkDir, &str),
    stem: &str,
    env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    timeout: Option<Duration>,
) -> std::io::Result<AttemptSpec> {
    let (program, args, raw_args) = match program {
        Program::Script { text, shell } => {
            let path: PathBuf = work
                .subdir(dir)?
                .join(format!("{stem}.{}", shell.extension()));
            fs::write(&path, shell.script_text(text))?;
            let raw = shell.passes_raw_args().then(|| shell.raw_args(&path));
            let args = if raw.is_some() {
                Vec::new()
            } else {
                shell.args(&path)
            };
            (shell.program(), args, raw)
        }
        Program::Argv(argv) => (argv[0].clone(), argv[1..].to_vec(), None),
    };
    Ok(AttemptSpec {
        program,
        args,
        raw_args,
        env,
        cwd: plan.working_directory.clone(),
        timeout,
        grace: plan.kill_grace,
    })
}
