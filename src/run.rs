//! The attempt loop, the on-retry command and the waits: the only code that sleeps.
//!
//! In: a [`Plan`], the environment, a [`Classifier`], a [`Log`] and a [`Cancel`] handle.
//! Out: a [`RunResult`] — every attempt with its classification, the outcome and why retrying
//! stopped. The clock and the sleeper are injected, so tests of the loop never really wait.

use std::fs;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

use crate::classify::lazy::{LazyMatcher, PlanRules};
use crate::classify::{Category, Classification, ExitFacts, WaitHint, wait};
use crate::exec::env::{BaseEnv, SideFiles};
use crate::exec::runner_file;
use crate::exec::stream::Relayed;
use crate::exec::work_dir::WorkDir;
use crate::exec::{self, AttemptSpec, Cancel, CancelSignal, Ending};
use crate::github::{Api, RESET_MARGIN_SECONDS, TIMEOUT};
use crate::output::{Observer, Stream, Tail};
use crate::plan::{Plan, Program};
use crate::policy::{Decision, GiveUp, Situation, Waits, asks_rate_limit_reset, decide};
use crate::report::log::{Log, WaitSource};
use crate::report::stop_commands::StopCommands;
use crate::state::{Shared, StateNote};

/// Where "now" comes from.
pub trait Clock {
    /// The current instant, for durations and the deadline.
    fn now(&self) -> Instant;

    /// The wall-clock time in seconds since the Unix epoch, for wait hints that name a time
    /// (`x-ratelimit-reset`, an HTTP-date).
    fn unix_seconds(&self) -> u64;
}

/// How the loop waits between attempts.
pub trait Sleeper {
    /// Resolves after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + '_>>;
}

/// The real clock and the real sleeper.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemTime;

impl Clock for SystemTime {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn unix_seconds(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

impl Sleeper for SystemTime {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Turns what an attempt printed and how it exited into a [`Classification`].
pub trait Classifier {
    /// What watches each stream while it is relayed.
    type Observer: Observer + 'static;

    /// A fresh observer for one stream of one attempt.
    fn observer(&self, stream: Stream) -> Self::Observer;

    /// The verdict on a failed attempt; `found` holds the observers handed back by the relays
    /// (`None` for a stream whose relay was left behind).
    fn classify(&self, found: [Option<Self::Observer>; 2], facts: &ExitFacts) -> Classification;
}

/// Classification from the exit alone, with no rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExitOnly;

impl Classifier for ExitOnly {
    type Observer = ();

    fn observer(&self, _stream: Stream) {}

    fn classify(&self, _found: [Option<()>; 2], facts: &ExitFacts) -> Classification {
        Classification::from_exit(facts)
    }
}

/// Classification by rules: a matcher per stream while the output is relayed, then the verdict.
impl Classifier for PlanRules {
    type Observer = LazyMatcher;

    fn observer(&self, stream: Stream) -> LazyMatcher {
        PlanRules::observer(self, stream)
    }

    fn classify(&self, found: [Option<LazyMatcher>; 2], facts: &ExitFacts) -> Classification {
        PlanRules::classify(self, found, facts)
    }
}

/// Which command an attempt ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptKind {
    /// `command`, attempt 1.
    Primary,
    /// A later attempt (`command`, or `new_command_on_retry`).
    Retry,
    /// `fallback_command`, after the attempts ran out.
    Fallback,
}

impl AttemptKind {
    /// The word used in the report.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptKind::Primary => "primary",
            AttemptKind::Retry => "retry",
            AttemptKind::Fallback => "fallback",
        }
    }
}

/// What the report needs of one attempt.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// The attempt's number, from 1.
    pub number: u32,
    /// Which command it ran.
    pub kind: AttemptKind,
    /// When it started, from the start of the run.
    pub started: Duration,
    /// How long it took.
    pub duration: Duration,
    /// Its exit code (128 + n for a signal death).
    pub exit_code: i32,
    /// The signal that ended it, if any.
    pub signal: Option<i32>,
    /// Whether recover stopped it for time.
    pub timed_out: bool,
    /// The timeout in force for this attempt.
    pub timeout: Option<Duration>,
    /// The deadline (`total_timeout_seconds`) when it, not the attempt's own timeout, set
    /// [`AttemptRecord::timeout`]: a timed-out attempt was then cut by the deadline.
    pub deadline: Option<Duration>,
    /// The verdict, for a failed attempt.
    pub classification: Option<Classification>,
    /// The wait before the next attempt, if one followed.
    pub wait_after: Option<Duration>,
    /// The last bytes of its standard output.
    pub stdout_tail: Tail,
    /// The last bytes of its standard error.
    pub stderr_tail: Tail,
    /// Why it could not start, if it could not.
    pub spawn_error: Option<String>,
}

impl AttemptRecord {
    /// Whether the attempt passed.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        !self.timed_out && self.exit_code == 0
    }

    /// The facts classification works from.
    #[must_use]
    pub fn facts(&self) -> ExitFacts {
        ExitFacts {
            exit_code: self.exit_code,
            signal: self.signal,
            timed_out: self.timed_out,
        }
    }
}

/// How the step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The first attempt passed.
    Success,
    /// A later attempt passed: the step is flaky.
    Recovered,
    /// No attempt passed, but the fallback command did.
    Fallback,
    /// No attempt passed (nor the fallback, if there was one).
    Failure,
    /// recover was cancelled.
    Cancelled,
}

impl Outcome {
    /// The word used in outputs and the report.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Recovered => "recovered",
            Outcome::Fallback => "fallback",
            Outcome::Failure => "failure",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// Everything that happened in a run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The attempts, in order.
    pub attempts: Vec<AttemptRecord>,
    /// How the step ended.
    pub outcome: Outcome,
    /// Why retrying stopped, for a failure.
    pub give_up: Option<GiveUp>,
    /// The signal that cancelled the run.
    pub cancelled_by: Option<CancelSignal>,
    /// The whole run, waits included.
    pub duration: Duration,
    /// What the circuit and the retry budget did, when the plan has either.
    pub shared: Option<StateNote>,
    /// The `name=value` pairs the committed runner files added to `GITHUB_OUTPUT`
    /// (`on_retry_command`'s, then the final command's), in order: a composite action passes
    /// on only its declared outputs, so recover carries these in `command_outputs`.
    pub command_outputs: Vec<(String, String)>,
}

/// The effects a run needs, injected so tests can replace them.
pub struct Context<'a, C: Classifier> {
    /// The environment attempts start from.
    pub env: &'a BaseEnv,
    /// Where scripts and the attempts' runner files are written.
    pub work_dir: &'a WorkDir,
    /// Classifies failed attempts.
    pub classifier: &'a C,
    /// The source of "now".
    pub clock: &'a dyn Clock,
    /// Waits between attempts.
    pub sleeper: &'a dyn Sleeper,
    /// The waits before each retry.
    pub waits: Waits,
    /// Where the log goes.
    pub log: &'a mut Log,
    /// The circuit and retry budget shared with other steps, if the plan has them.
    pub shared: Option<&'a mut Shared>,
}

/// Runs the plan: attempts until one passes, retrying stops or recover is cancelled; then the
/// fallback, when attempts ran out and the plan has one.
pub async fn run<C: Classifier>(
    plan: &Plan,
    ctx: Context<'_, C>,
    cancel: &mut Cancel,
) -> RunResult {
    let start = ctx.clock.now();
    let mut runner = Runner {
        plan,
        deadline: plan.total_timeout.map(|t| start + t),
        start,
        ctx,
        pending: None,
        hooks: Vec::new(),
        command_outputs: Vec::new(),
    };
    let mut result = match runner.refused_at_start(cancel).await {
        Some(refused) => refused,
        None => runner.attempts(cancel).await,
    };
    match &plan.fallback {
        Some(fallback) if result.outcome == Outcome::Failure => {
            runner.fallback(fallback, &mut result, cancel).await;
        }
        _ => runner.commit_pending(),
    }
    result.duration = runner.elapsed();
    result.shared = runner.shared_note();
    result.command_outputs = std::mem::take(&mut runner.command_outputs);
    result
}

/// The state of one run.
struct Runner<'a, C: Classifier> {
    plan: &'a Plan,
    ctx: Context<'a, C>,
    start: Instant,
    deadline: Option<Instant>,
    /// The runner files of the final attempt, committed once no fallback replaces them.
    pending: Option<SideFiles>,
    /// The runner files of each completed `on_retry_command`, committed in order before the
    /// final attempt's, as nick-fields/retry keeps them.
    hooks: Vec<SideFiles>,
    /// What the committed runner files set as outputs.
    command_outputs: Vec<(String, String)>,
}

/// One command run to its end, before any decision.
struct Executed<O> {
    record: AttemptRecord,
    found: [Option<O>; 2],
    side: Option<SideFiles>,
    cancelled: Option<CancelSignal>,
}

impl<C: Classifier> Runner<'_, C> {
    fn elapsed(&self) -> Duration {
        self.ctx.clock.now().saturating_duration_since(self.start)
    }

    fn remaining(&self) -> Option<Duration> {
        let now = self.ctx.clock.now();
        self.deadline.map(|d| d.saturating_duration_since(now))
    }

    fn result(
        &self,
        attempts: Vec<AttemptRecord>,
        outcome: Outcome,
        give_up: Option<GiveUp>,
        cancelled_by: Option<CancelSignal>,
    ) -> RunResult {
        RunResult {
            attempts,
            outcome,
            give_up,
            cancelled_by,
            duration: self.elapsed(),
            shared: None,
            command_outputs: Vec::new(),
        }
    }

    /// Commits what the run's runner files hold: each `on_retry_command`'s, in order, then the
    /// final command's.
    fn commit_pending(&mut self) {
        for hook in std::mem::take(&mut self.hooks) {
            self.command_outputs
                .extend(outputs_of(&hook, "on_retry_command's", self.ctx.log));
            commit(&hook, "on_retry_command's", self.ctx.log);
        }
        if let Some(side) = self.pending.take() {
            self.command_outputs
                .extend(outputs_of(&side, "the final attempt's", self.ctx.log));
            commit(&side, "the final attempt's", self.ctx.log);
        }
    }

    /// The attempts of the command.
    async fn attempts(&mut self, cancel: &mut Cancel) -> RunResult {
        let plan = self.plan;
        let mut attempts: Vec<AttemptRecord> = Vec::new();
        // The runner files of the attempt being retried: still the final attempt's, should the
        // deadline pass before the next attempt starts.
        let mut retried: Option<SideFiles> = None;
        for number in 1..=plan.policy.max_attempts {
            if let Some(signal) = cancel.signal() {
                return self.result(attempts, Outcome::Cancelled, None, Some(signal));
            }
            if number > 1 && self.refused(false, cancel).await {
                self.pending = retried.take();
                return self.result(attempts, Outcome::Failure, Some(GiveUp::CircuitOpen), None);
            }
            let left = self.remaining();
            if left.is_some_and(|l| l.is_zero()) {
                self.pending = retried.take();
                return self.result(attempts, Outcome::Failure, Some(GiveUp::Deadline), None);
            }
            let kind = if number == 1 {
                AttemptKind::Primary
            } else {
                AttemptKind::Retry
            };
            let timeout = min_some(plan.attempt_timeout, left);
            let previous = attempts.last().map(|a| a.exit_code);
            let program = plan.program_for(number);
            let ex = self
                .execute(kind, number, program, timeout, previous, cancel)
                .await;
            let mut record = ex.record;
            if timeout != plan.attempt_timeout {
                record.deadline = plan.total_timeout;
            }
            if let Some(signal) = ex.cancelled {
                attempts.push(record);
                return self.result(attempts, Outcome::Cancelled, None, Some(signal));
            }
            let facts = record.facts();
            // A passing attempt needs no verdict, and loading the rules for it would cost more
            // than the attempt itself for a quick command.
            let classification = if record.succeeded() {
                Classification::from_exit(&facts)
            } else {
                self.ctx.classifier.classify(ex.found, &facts)
            };
            let earlier_unknown = attempts
                .iter()
                .filter(|a| {
                    a.classification
                        .as_ref()
                        .is_some_and(|c| c.category == Category::Unknown)
                })
                .count();
            let (decision, source) = self
                .decide_after(number, earlier_unknown, &facts, &classification, cancel)
                .await;
            if decision != Decision::Succeed {
                record.classification = Some(classification);
            }
            match decision {
                Decision::Succeed => {
                    self.pending = ex.side;
                    self.ctx.log.succeeded(number);
                    attempts.push(record);
                    let outcome = if number == 1 {
                        Outcome::Success
                    } else {
                        Outcome::Recovered
                    };
                    return self.result(attempts, outcome, None, None);
                }
                Decision::GiveUp(reason) => {
                    self.pending = ex.side;
                    self.ctx.log.giving_up(&record, plan, &reason);
                    attempts.push(record);
                    return self.result(attempts, Outcome::Failure, Some(reason), None);
                }
                Decision::Retry { wait, .. } => {
                    retried = ex.side;
                    record.wait_after = Some(wait);
                    self.ctx.log.retrying(&record, plan, wait, source);
                    attempts.push(record);
                    let cancelled = tokio::select! {
                        () = self.ctx.sleeper.sleep(wait) => None,
                        signal = cancel.cancelled() => Some(signal),
                    };
                    if let Some(signal) = cancelled {
                        self.ctx.log.cancelled_waiting(signal, number + 1);
                        return self.result(attempts, Outcome::Cancelled, None, Some(signal));
                    }
                    if let Some(on_retry) = &plan.on_retry_command {
                        self.on_retry(on_retry, number + 1, cancel).await;
                    }
                }
            }
        }
        unreachable!("the last attempt always ends the loop: decide gives up at max_attempts")
    }

    /// What follows attempt `number`: the policy's decision (decided again with the reset time
    /// as the hinted wait when the failure is a GitHub rate limit the API can time), then the
    /// circuit's and the budget's say; and where a retry's wait came from.
    async fn decide_after(
        &mut self,
        number: u32,
        earlier_unknown: usize,
        facts: &ExitFacts,
        classification: &Classification,
        cancel: &mut Cancel,
    ) -> (Decision, WaitSource) {
        let mut situation = Situation {
            attempt: number,
            earlier_unknown: u32::try_from(earlier_unknown).unwrap_or(u32::MAX),
            facts,
            classification,
            backoff_wait: self.ctx.waits.next().unwrap_or_default(),
            hinted_wait: classification
                .wait_hint
                .map(|hint| wait::resolve(hint, self.ctx.clock.unix_seconds())),
            remaining: self.remaining(),
        };
        let mut decision = decide(&self.plan.policy, &situation);
        let mut source = WaitSource::Output;
        if asks_rate_limit_reset(&situation, &decision)
            && let Some(reset) = self.rate_limit_wait(cancel).await
        {
            situation.hinted_wait = Some(reset);
            situation.remaining = self.remaining();
            decision = decide(&self.plan.policy, &situation);
            source = WaitSource::RateLimitReset;
        }
        let decision = self.shared_decision(decision, classification, cancel).await;
        if matches!(
            decision,
            Decision::Retry {
                from_hint: false,
                ..
            }
        ) {
            source = WaitSource::Backoff;
        }
        (decision, source)
    }

    /// The wait until the GitHub API rate limit resets, when the API shows one exhausted.
    /// `None` otherwise: no `github_token`, nothing exhausted, recover cancelled meanwhile, or
    /// the call failed, which costs one warning and never the step's result.
    async fn rate_limit_wait(&mut self, cancel: &mut Cancel) -> Option<Duration> {
        let token = self.plan.github_token.clone()?;
        let url = self.ctx.env.get("GITHUB_API_URL").and_then(|u| u.to_str());
        let api = Api::new(url, token);
        // The call may not outlast the deadline: what is left of it bounds the wait for the
        // answer as well as the wait the answer asks for.
        let timeout = self.remaining().map_or(TIMEOUT, |left| left.min(TIMEOUT));
        if timeout.is_zero() {
            return None;
        }
        let asked = tokio::select! {
            asked = api.rate_limit_reset(timeout) => asked,
            _ = cancel.cancelled() => return None,
        };
        match asked {
            Ok(Some(reset)) => {
                let at = WaitHint::Until(reset.saturating_add(RESET_MARGIN_SECONDS));
                Some(wait::resolve(at, self.ctx.clock.unix_seconds()))
            }
            Ok(None) => {
                self.ctx.log.line(
                    "The GitHub API shows no exhausted rate limit (a secondary rate limit does not show there); using the backoff.",
                );
                None
            }
            Err(error) => {
                self.ctx.log.warning(&format!(
                    "cannot ask the GitHub API when the rate limit resets; using the backoff: {error}"
                ));
                None
            }
        }
    }

    /// The fallback command, after the attempts failed. It is the step's final command, so its
    /// runner files are the ones committed. The deadline bounds attempts and waits, not the
    /// fallback, which gets the per-attempt timeout.
    async fn fallback(&mut self, program: &Program, result: &mut RunResult, cancel: &mut Cancel) {
        let number = u32::try_from(result.attempts.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let previous = result.attempts.last().map(|a| a.exit_code);
        let timeout = self.plan.attempt_timeout;
        let ex = self
            .execute(
                AttemptKind::Fallback,
                number,
                program,
                timeout,
                previous,
                cancel,
            )
            .await;
        let mut record = ex.record;
        if let Some(signal) = ex.cancelled {
            result.attempts.push(record);
            result.outcome = Outcome::Cancelled;
            result.cancelled_by = Some(signal);
            return;
        }
        self.pending = ex.side;
        self.commit_pending();
        if record.succeeded() {
            result.outcome = Outcome::Fallback;
            self.ctx.log.line("The fallback command succeeded.");
        } else {
            let facts = record.facts();
            record.classification = Some(self.ctx.classifier.classify(ex.found, &facts));
            self.ctx.log.line(&format!(
                "The fallback command failed: exit code {}.",
                record.exit_code
            ));
        }
        result.attempts.push(record);
    }

    /// Runs one command to its end with runner files of its own.
    async fn execute(
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
    async fn on_retry(&mut self, program: &Program, next: u32, cancel: &mut Cancel) {
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

/// The hooks of the circuit and the retry budget: the effects live in [`Shared`], the decisions
/// in [`crate::state::breaker`] and [`crate::state::budget`]. Without them, these do nothing.
impl<C: Classifier> Runner<'_, C> {
    /// A failed run with no attempt when the circuit is open at the step's start.
    async fn refused_at_start(&mut self, cancel: &mut Cancel) -> Option<RunResult> {
        self.refused(true, cancel).await.then(|| {
            self.result(
                Vec::new(),
                Outcome::Failure,
                Some(GiveUp::CircuitOpen),
                None,
            )
        })
    }

    /// Whether the circuit refuses the next attempt. Waiting for the state's lock is bounded
    /// and ends on cancellation (then the step runs on without state).
    async fn refused(&mut self, first: bool, cancel: &mut Cancel) -> bool {
        let log = &mut *self.ctx.log;
        match self.ctx.shared.as_deref_mut() {
            Some(shared) => shared.admit(first, log, cancel).await.is_some(),
            None => false,
        }
    }

    /// Records the attempt on the circuit, then keeps a retry only while the circuit stays closed
    /// and the budget grants it.
    async fn shared_decision(
        &mut self,
        decision: Decision,
        classification: &Classification,
        cancel: &mut Cancel,
    ) -> Decision {
        let log = &mut *self.ctx.log;
        let Some(shared) = self.ctx.shared.as_deref_mut() else {
            return decision;
        };
        let succeeded = decision == Decision::Succeed;
        let open = shared.record(succeeded, classification, log, cancel).await;
        match decision {
            Decision::Retry { .. } if open => Decision::GiveUp(GiveUp::CircuitOpen),
            Decision::Retry { .. } if !shared.spend_retry(log, cancel).await => {
                Decision::GiveUp(GiveUp::RetryBudgetSpent)
            }
            other => other,
        }
    }

    fn shared_note(&mut self) -> Option<StateNote> {
        let log = &mut *self.ctx.log;
        let shared = self.ctx.shared.as_deref_mut()?;
        shared.refresh_budget(log);
        Some(shared.note())
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

fn min_some(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The most of a `GITHUB_OUTPUT` copy read for `command_outputs`: GitHub takes at most 1 MiB
/// per output, so more could never be carried.
const MAX_COMMAND_OUTPUTS: u64 = 1024 * 1024;

/// The `name=value` pairs a command's copy of `GITHUB_OUTPUT` holds. A copy the runner would
/// refuse, or one too large to carry, is a warning and no pairs.
fn outputs_of(side: &SideFiles, whose: &str, log: &mut Log) -> Vec<(String, String)> {
    use std::io::Read as _;
    let Some(copy) = side.copy_of("GITHUB_OUTPUT") else {
        return Vec::new();
    };
    let mut text = String::new();
    let read = runner_file::open_to_read(copy).and_then(|file| {
        file.take(MAX_COMMAND_OUTPUTS + 1)
            .read_to_string(&mut text)
            .map(|_| ())
    });
    if read.is_err() {
        // Committing the copy meets the same error and warns about it.
        return Vec::new();
    }
    if text.len() as u64 > MAX_COMMAND_OUTPUTS {
        log.warning(&format!(
            "{whose} GITHUB_OUTPUT holds over 1 MiB: too much to carry in command_outputs"
        ));
        return Vec::new();
    }
    match runner_file::parse(&text) {
        Ok(pairs) => pairs,
        Err(error) => {
            log.warning(&format!(
                "{whose} GITHUB_OUTPUT is malformed ({error}): the runner will refuse it"
            ));
            Vec::new()
        }
    }
}

fn commit(side: &SideFiles, whose: &str, log: &mut Log) {
    for (var, error) in side.commit() {
        log.warning(&format!("cannot append {whose} {var} file: {error}"));
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::plan::RawInputs;
    use std::sync::Mutex;

    /// A clock that only moves when the loop sleeps, and records each sleep.
    struct FakeTime {
        now: Mutex<Instant>,
        slept: Mutex<Vec<Duration>>,
    }

    impl FakeTime {
        fn new() -> FakeTime {
            FakeTime {
                now: Mutex::new(Instant::now()),
                slept: Mutex::new(Vec::new()),
            }
        }
        fn slept(&self) -> Vec<Duration> {
            self.slept.lock().unwrap().clone()
        }
    }

    impl Clock for FakeTime {
        fn now(&self) -> Instant {
            *self.now.lock().unwrap()
        }

        fn unix_seconds(&self) -> u64 {
            1_767_225_600
        }
    }

    impl Sleeper for FakeTime {
        fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + '_>> {
            *self.now.lock().unwrap() += duration;
            self.slept.lock().unwrap().push(duration);
            Box::pin(std::future::ready(()))
        }
    }

    fn plan(pairs: &[(&str, &str)]) -> Plan {
        let argv = vec!["sh".into(), "-c".into(), "exit 3".into()];
        Plan::from_inputs(&RawInputs::from_pairs(pairs.iter().copied()), argv).unwrap()
    }

    fn run_with(plan: &Plan, time: &FakeTime, seed: u64) -> RunResult {
        let (_tx, mut cancel) = Cancel::manual();
        run_cancellable(plan, time, seed, &mut cancel)
    }

    fn run_cancellable(plan: &Plan, time: &FakeTime, seed: u64, cancel: &mut Cancel) -> RunResult {
        let dir = tempfile::tempdir().unwrap();
        let env = BaseEnv::new(std::env::vars_os());
        let (mut log, _) = Log::capture(false);
        let ctx = Context {
            env: &env,
            work_dir: &WorkDir::new(dir.path().to_path_buf()),
            classifier: &ExitOnly,
            clock: time,
            sleeper: time,
            waits: plan.policy.waits.waits_seeded(seed),
            log: &mut log,
            shared: None,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(run(plan, ctx, cancel))
    }

    type Input = (&'static str, &'static str);

    fn secs(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|s| Duration::from_secs(*s)).collect()
    }

    #[test]
    fn waits_follow_the_backoff_and_none_follows_the_last_attempt() {
        let cases: [(&[Input], Vec<Duration>); 4] = [
            (&[("max_attempts", "4")], secs(&[10, 10, 10])),
            (
                &[
                    ("max_attempts", "4"),
                    ("backoff", "linear"),
                    ("retry_wait_seconds", "5"),
                ],
                secs(&[5, 10, 15]),
            ),
            (
                &[
                    ("max_attempts", "5"),
                    ("backoff", "exponential"),
                    ("max_wait_seconds", "50"),
                ],
                secs(&[10, 20, 40, 50]),
            ),
            (
                &[("max_attempts", "3"), ("retry_wait_seconds", "0")],
                secs(&[0, 0]),
            ),
        ];
        for (inputs, want) in cases {
            let time = FakeTime::new();
            let result = run_with(&plan(inputs), &time, 1);
            assert_eq!(time.slept(), want, "{inputs:?}");
            assert_eq!(result.outcome, Outcome::Failure);
            assert_eq!(result.give_up, Some(GiveUp::AttemptsExhausted));
            assert_eq!(result.attempts.last().unwrap().wait_after, None);
        }
    }

    #[test]
    fn jittered_waits_are_the_seeded_sequence() {
        for jitter in ["full", "equal", "decorrelated"] {
            let p = plan(&[
                ("max_attempts", "5"),
                ("backoff", "exponential"),
                ("jitter", jitter),
            ]);
            let time = FakeTime::new();
            run_with(&p, &time, 99);
            let want: Vec<Duration> = p.policy.waits.waits_seeded(99).take(4).collect();
            assert_eq!(time.slept(), want, "{jitter}");
        }
    }

    #[test]
    fn no_wait_starts_that_the_deadline_cannot_fit() {
        let p = plan(&[
            ("max_attempts", "10"),
            ("backoff", "exponential"),
            ("total_timeout_seconds", "35"),
        ]);
        let time = FakeTime::new();
        let result = run_with(&p, &time, 1);
        // 10 s and 20 s fit in 35 s; the next 40 s wait would not, so recover stops there.
        assert_eq!(time.slept(), secs(&[10, 20]));
        assert_eq!(result.attempts.len(), 3);
        assert_eq!(result.give_up, Some(GiveUp::Deadline));
    }

    /// Classifies by rules whose observer panics on the first chunk it sees.
    struct Panicky;
    struct Boom;
    impl Observer for Boom {
        fn observe(&mut self, _chunk: &[u8]) {
            panic!("boom in the observer");
        }
    }
    impl Classifier for Panicky {
        type Observer = Boom;
        fn observer(&self, _stream: Stream) -> Boom {
            Boom
        }
        fn classify(&self, found: [Option<Boom>; 2], facts: &ExitFacts) -> Classification {
            assert!(
                found.iter().all(Option::is_none),
                "a failed observer was used"
            );
            Classification::from_exit(facts)
        }
    }

    #[test]
    fn an_observer_that_panics_leaves_the_attempt_to_its_exit_code_with_one_warning() {
        let argv = vec![
            "sh".into(),
            "-c".into(),
            "echo x >&2; echo y >&2; exit 3".into(),
        ];
        let inputs = RawInputs::from_pairs([("max_attempts", "1")]);
        let plan = Plan::from_inputs(&inputs, argv).unwrap();
        let time = FakeTime::new();
        let dir = tempfile::tempdir().unwrap();
        let env = BaseEnv::new(std::env::vars_os());
        let (mut log, text) = Log::capture(false);
        let (_tx, mut cancel) = Cancel::manual();
        let ctx = Context {
            env: &env,
            work_dir: &WorkDir::new(dir.path().to_path_buf()),
            classifier: &Panicky,
            clock: &time,
            sleeper: &time,
            waits: plan.policy.waits.waits_seeded(0),
            log: &mut log,
            shared: None,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let result = runtime.block_on(run(&plan, ctx, &mut cancel));
        assert_eq!(result.outcome, Outcome::Failure);
        assert_eq!(result.attempts[0].exit_code, 3);
        let text = String::from_utf8_lossy(&text.lock().unwrap()).into_owned();
        assert_eq!(text.matches("could not be classified").count(), 1, "{text}");
        assert!(text.contains("boom in the observer"), "{text}");
        assert!(text.contains("by its exit code alone"), "{text}");
    }

    #[test]
    fn a_cancelled_run_starts_no_attempt() {
        let (tx, mut cancel) = Cancel::manual();
        tx.send(Some(15)).unwrap();
        let result = run_cancellable(&plan(&[]), &FakeTime::new(), 0, &mut cancel);
        assert_eq!(result.outcome, Outcome::Cancelled);
        assert!(result.attempts.is_empty());
    }
}
