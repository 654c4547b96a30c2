//! [`Shared`]: one step's circuit and retry budget joined to their files, for the attempt loop.
//!
//! In: the plan's [`StatePlan`] and, during the run, what each attempt did. Out: whether the
//! step may run an attempt or a retry, log lines and warnings, and a [`StateNote`] for the report.
//! The decisions are [`breaker`]'s and [`budget`]'s; this module only reads and writes.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::classify::Classification;
use crate::exec::Cancel;
use crate::log::Log;
use crate::state::breaker::{self, Admission, Circuit, EpochMillis, Event, Phase};
use crate::state::budget::{self, Budget, Spend};
use crate::state::store::{Damaged, Key, Lock, Store, StoreError, Updated};
use crate::state::{
    BudgetNote, CircuitNote, CircuitPlan, Refusal, StateNote, StatePlan, describe_refusal, rfc3339,
    wall_clock,
};

/// How long a step waits for another process's lock on a state file before it runs without
/// state. Other steps hold a lock for a read and a write of a few hundred bytes, well under a
/// millisecond; a lock held for seconds belongs to a stuck or stopped process (or to `flock`
/// run by hand), and the step must not wait on it, let alone past its own deadline.
pub const LOCK_WAIT: Duration = Duration::from_secs(3);

/// How often a held lock is tried again.
const LOCK_RETRY: Duration = Duration::from_millis(20);
/// The circuit and budget of one step, joined to their files.
pub struct Shared {
    store: Store,
    owner: String,
    circuit: Option<CircuitPlan>,
    budget: Option<u64>,
    clock: fn() -> EpochMillis,
    note: StateNote,
    lock_wait: Duration,
}

impl Shared {
    /// Opens the state directory for `plan`. `None`, with a warning, when it cannot be created:
    /// the step then runs without circuit and budget.
    #[must_use]
    pub fn open(plan: &StatePlan, default: PathBuf, log: &mut Log) -> Option<Shared> {
        Shared::open_with(plan, default, wall_clock, log)
    }

    /// [`Shared::open`] with another wall clock.
    #[must_use]
    pub fn open_with(
        plan: &StatePlan,
        default: PathBuf,
        clock: fn() -> EpochMillis,
        log: &mut Log,
    ) -> Option<Shared> {
        let dir = plan.dir.clone().unwrap_or(default);
        let store = match Store::create(&dir) {
            Ok(store) => store,
            Err(error) => {
                log.warning(&without_state(&error));
                return None;
            }
        };
        let note = StateNote {
            circuit: plan.circuit.as_ref().map(|c| CircuitNote {
                name: c.name.clone(),
                phase: Phase::Closed,
                consecutive_failures: 0,
                opened_at_ms: None,
                until_ms: None,
                refused: None,
                opened_here: false,
                probed: false,
            }),
            budget: plan.retry_budget.map(|limit| BudgetNote {
                limit,
                spent: 0,
                ran_out: false,
            }),
        };
        Some(Shared {
            store,
            owner: owner_token(),
            circuit: plan.circuit.clone(),
            budget: plan.retry_budget,
            clock,
            note,
            lock_wait: LOCK_WAIT,
        })
    }

    /// What the report needs.
    #[must_use]
    pub fn note(&self) -> StateNote {
        self.note.clone()
    }

    /// Forgets the circuit and the budget: the step runs on without state, and the report and
    /// the outputs show neither, rather than figures the step could not keep.
    fn drop_state(&mut self) {
        self.circuit = None;
        self.budget = None;
        self.note = StateNote::default();
    }

    /// Takes the lock of `key`, trying again while another process holds it, for at most
    /// [`LOCK_WAIT`]. `None`, with the step now without state, when the wait runs out (one
    /// warning), the lock cannot be taken (one warning) or recover is cancelled meanwhile.
    async fn lock(&mut self, key: &Key, log: &mut Log, cancel: &mut Cancel) -> Option<Lock> {
        let started = Instant::now();
        loop {
            match self.store.try_lock(key) {
                Ok(Some(lock)) => return Some(lock),
                Ok(None) if started.elapsed() >= self.lock_wait => {
                    log.warning(&format!(
                        "state file {} is locked by another process for more than {} s; running without the circuit breaker and retry budget",
                        self.store.path(key).display(),
                        self.lock_wait.as_secs_f64()
                    ));
                    self.drop_state();
                    return None;
                }
                Ok(None) if started.elapsed() < LOCK_RETRY => {
                    tracing::debug!(path = %self.store.path(key).display(), "state file locked by another process; waiting");
                }
                Ok(None) => {}
                Err(error) => {
                    log.warning(&without_state(&error));
                    self.drop_state();
                    return None;
                }
            }
            tokio::select! {
                () = tokio::time::sleep(LOCK_RETRY) => {}
                _ = cancel.cancelled() => {
                    self.drop_state();
                    return None;
                }
            }
        }
    }

    /// Runs `change` on the circuit's file, settled first ([`breaker::settle`]); on an error,
    /// warns and drops the circuit.
    async fn with_circuit<R>(
        &mut self,
        log: &mut Log,
        cancel: &mut Cancel,
        change: impl FnOnce(Circuit, &CircuitPlan, &str, EpochMillis) -> (Circuit, R),
    ) -> Option<R> {
        let plan = self.circuit.clone()?;
        let key = Key::Circuit(plan.name.clone());
        let lock = self.lock(&key, log, cancel).await?;
        let now = (self.clock)();
        let owner = self.owner.clone();
        let result = self.store.update_locked(&lock, &key, |c: Circuit| {
            let c = breaker::settle(c, plan.settings, now);
            let (c, r) = change(c, &plan, &owner, now);
            let seen = c.clone();
            (c, (seen, r))
        });
        drop(lock);
        match result {
            Ok(Updated {
                value: (seen, r),
                damaged,
            }) => {
                warn_damaged(damaged.as_ref(), log);
                if let Some(note) = &mut self.note.circuit {
                    note.phase = seen.phase(now);
                    note.consecutive_failures = seen.consecutive_failures;
                    note.opened_at_ms = seen.opened_at_ms;
                    note.until_ms = seen.until_ms;
                }
                Some(r)
            }
            Err(error) => {
                log.warning(&without_state(&error));
                self.drop_state();
                None
            }
        }
    }

    /// Asks the circuit whether the step may run an attempt now: at its start and before each
    /// retry. `Some` means no: the circuit is open, or half-open with another step probing.
    pub async fn admit(
        &mut self,
        first: bool,
        log: &mut Log,
        cancel: &mut Cancel,
    ) -> Option<Refusal> {
        let admission = self
            .with_circuit(log, cancel, |c, plan, owner, now| {
                breaker::admit(c, owner, plan.settings, now)
            })
            .await?;
        let name = self.circuit.as_ref().map(|c| c.name.clone())?;
        match admission {
            Admission::Closed => None,
            Admission::Probe => {
                if first && let Some(note) = &mut self.note.circuit {
                    note.probed = true;
                    log.line(&format!(
                        "Circuit {name} is half-open: this step's first attempt is the probe."
                    ));
                }
                None
            }
            Admission::Refused {
                since_ms,
                until_ms,
                probing,
            } => {
                let refusal = Refusal {
                    since_ms,
                    until_ms,
                    probing,
                };
                if let Some(note) = &mut self.note.circuit {
                    note.refused = Some(refusal);
                }
                let what = if first {
                    "skipping the command"
                } else {
                    "no more retries"
                };
                log.line(&format!("{}; {what}.", describe_refusal(&name, &refusal)));
                Some(refusal)
            }
        }
    }

    /// Records how an attempt ended; returns whether the circuit is open now (so the step's
    /// retries must stop).
    pub async fn record(
        &mut self,
        succeeded: bool,
        classification: &Classification,
        log: &mut Log,
        cancel: &mut Cancel,
    ) -> bool {
        let event = if succeeded {
            Event::Success
        } else if classification.retryable {
            Event::RetryableFailure
        } else {
            Event::OtherFailure
        };
        let Some((before, after)) = self
            .with_circuit(log, cancel, |c, plan, owner, now| {
                let before = c.phase(now);
                let c = breaker::record(c, owner, event, plan.settings, now);
                let after = c.phase(now);
                (c, (before, after))
            })
            .await
        else {
            return false;
        };
        let Some(note) = &mut self.note.circuit else {
            return false;
        };
        let name = note.name.clone();
        match (before, after) {
            (Phase::Closed | Phase::HalfOpen, Phase::Open) => {
                note.opened_here = true;
                log.line(&format!(
                    "Circuit {name} opened after {} consecutive failures; it stays open until {}.",
                    note.consecutive_failures,
                    rfc3339(note.until_ms.unwrap_or_default())
                ));
            }
            (Phase::Open | Phase::HalfOpen, Phase::Closed) => {
                log.line(&format!("Circuit {name} closed: the attempt passed."));
            }
            _ => {}
        }
        after == Phase::Open
    }

    /// Spends one retry from the budget; `false` when it is spent (or there is no budget file
    /// to spend from, which counts as no budget: `true`).
    pub async fn spend_retry(&mut self, log: &mut Log, cancel: &mut Cancel) -> bool {
        let Some(limit) = self.budget else {
            return true;
        };
        let Some(lock) = self.lock(&Key::Budget, log, cancel).await else {
            return true;
        };
        let result = self
            .store
            .update_locked(&lock, &Key::Budget, |b: Budget| budget::spend(b, limit));
        drop(lock);
        match result {
            Ok(Updated { value, damaged }) => {
                warn_damaged(damaged.as_ref(), log);
                let note = self.note.budget.get_or_insert(BudgetNote {
                    limit,
                    spent: 0,
                    ran_out: false,
                });
                match value {
                    Spend::Granted { left } => {
                        note.spent = limit - left;
                        true
                    }
                    Spend::Refused => {
                        note.spent = note.spent.max(limit);
                        note.ran_out = true;
                        log.line(&format!(
                            "The retry budget ran out: all {limit} retries shared through the state directory are spent."
                        ));
                        false
                    }
                }
            }
            Err(error) => {
                log.warning(&without_state(&error));
                self.drop_state();
                true
            }
        }
    }

    /// Reads the budget's count for the report without spending, so a step that never retried
    /// still shows what is left.
    pub fn refresh_budget(&mut self, log: &mut Log) {
        let Some(limit) = self.budget else {
            return;
        };
        match self.store.read::<Budget>(&Key::Budget) {
            Ok((budget, damaged)) => {
                warn_damaged(damaged.as_ref(), log);
                if let Some(note) = &mut self.note.budget {
                    note.limit = limit;
                    note.spent = note.spent.max(budget.spent);
                }
            }
            Err(error) => {
                log.warning(&without_state(&error));
                self.drop_state();
            }
        }
    }
}

fn warn_damaged(damaged: Option<&Damaged>, log: &mut Log) {
    if let Some(damaged) = damaged {
        log.warning(&damaged.to_string());
    }
}

fn without_state(error: &StoreError) -> String {
    let cause = std::error::Error::source(error).map_or_else(String::new, |s| format!(": {s}"));
    format!("{error}{cause}; running without the circuit breaker and retry budget")
}

/// A token unique to this process, naming the owner of a probe.
fn owner_token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{nanos:09}", std::process::id())
}

#[cfg(test)]
#[path = "shared_tests.rs"]
mod tests;
