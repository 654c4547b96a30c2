//! The attempt loop, the on-retry command and the waits: the only code that sleeps.
//!
//! In: a [`Plan`], the environment, a [`Classifier`], a [`Log`] and a [`Cancel`] handle.
//! Out: a [`RunResult`] — every attempt with its classification, the outcome and why retrying
//! stopped. The clock and the sleeper are injected, so tests of the loop never really wait.

mod attempt;
mod classifier;
mod commit;
pub mod shared;
mod time;

use std::time::Duration;

use tokio::time::Instant;

pub use classifier::{Classifier, ExitOnly};
pub use time::{Clock, Sleeper, SystemTime};

use crate::classify::{Category, Classification, ExitFacts, WaitHint, wait};
use crate::exec::env::{BaseEnv, SideFiles};
use crate::exec::work_dir::WorkDir;
use crate::exec::{Cancel, CancelSignal};
use crate::github::{Api, RESET_MARGIN_SECONDS, TIMEOUT};
use crate::log::{Log, WaitSource};
use crate::outcome::{AttemptKind, AttemptRecord, Outcome, RunResult};
use crate::plan::{Plan, Program};
use crate::policy::{Decision, GiveUp, Situation, Waits, asks_rate_limit_reset, decide};
use crate::state::StateNote;
use commit::{commit, outputs_of};
use shared::Shared;

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
    let mut runner = Loop {
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
struct Loop<'a, C: Classifier> {
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

impl<C: Classifier> Loop<'_, C> {
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
}

/// The hooks of the circuit and the retry budget: the effects live in [`Shared`], the decisions
/// in [`crate::state::breaker`] and [`crate::state::budget`]. Without them, these do nothing.
impl<C: Classifier> Loop<'_, C> {
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

pub(super) fn min_some(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(all(test, unix))]
mod tests;
