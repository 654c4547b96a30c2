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
mod tests {
    use super::*;
    use crate::classify::ExitFacts;
    use crate::state::breaker::Settings;
    use std::time::Duration;

    fn failure() -> Classification {
        Classification::from_exit(&ExitFacts {
            exit_code: 1,
            signal: None,
            timed_out: false,
        })
    }

    fn plan(dir: &std::path::Path, budget: Option<u64>) -> StatePlan {
        StatePlan {
            dir: Some(dir.to_owned()),
            circuit: Some(CircuitPlan {
                name: "db".into(),
                settings: Settings {
                    threshold: 2,
                    cooldown: Duration::from_secs(60),
                },
            }),
            retry_budget: budget,
        }
    }

    fn text_of(captured: &std::sync::Arc<std::sync::Mutex<Vec<u8>>>) -> String {
        String::from_utf8_lossy(&captured.lock().unwrap()).into_owned()
    }

    fn fixed_clock() -> EpochMillis {
        1_764_309_600_000
    }

    fn block<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn never() -> Cancel {
        let (tx, cancel) = Cancel::manual();
        std::mem::forget(tx);
        cancel
    }

    #[test]
    fn two_steps_share_a_circuit_through_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = Log::capture(false);
        let p = plan(dir.path(), None);
        let mut a = Shared::open_with(&p, PathBuf::new(), fixed_clock, &mut log).unwrap();
        let mut b = Shared::open_with(&p, PathBuf::new(), fixed_clock, &mut log).unwrap();
        let c = &mut never();
        assert_eq!(block(a.admit(true, &mut log, c)), None);
        assert!(!block(a.record(false, &failure(), &mut log, c)));
        assert!(
            block(b.record(false, &failure(), &mut log, c)),
            "the second failure opens it"
        );
        let refusal = block(a.admit(false, &mut log, c)).unwrap();
        assert_eq!(refusal.until_ms, fixed_clock() + 60_000);
        assert!(b.note().circuit.unwrap().opened_here);
        assert_eq!(a.note().circuit.unwrap().phase, Phase::Open);
    }

    #[test]
    fn the_budget_is_shared_and_runs_out() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = Log::capture(false);
        let p = StatePlan {
            circuit: None,
            ..plan(dir.path(), Some(3))
        };
        let mut a = Shared::open_with(&p, PathBuf::new(), fixed_clock, &mut log).unwrap();
        let mut b = Shared::open_with(&p, PathBuf::new(), fixed_clock, &mut log).unwrap();
        let granted: Vec<bool> = (0..5)
            .map(|i| {
                let c = &mut never();
                if i % 2 == 0 {
                    block(a.spend_retry(&mut log, c))
                } else {
                    block(b.spend_retry(&mut log, c))
                }
            })
            .collect();
        assert_eq!(granted, vec![true, true, true, false, false]);
        let note = a.note().budget.unwrap();
        assert!(note.ran_out);
        assert_eq!(note.left(), 0);
    }

    #[test]
    fn an_unwritable_directory_is_a_warning_and_no_state() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let (mut log, captured) = Log::capture(false);
        let p = plan(&file.join("state"), Some(1));
        assert!(Shared::open_with(&p, PathBuf::new(), fixed_clock, &mut log).is_none());
        drop(log);
        let text = text_of(&captured);
        assert!(
            text.contains("cannot create the state directory")
                && text.contains("running without the circuit breaker and retry budget"),
            "{text}"
        );
    }

    /// Runs `sh -c "exit 3"` (`cmd /c "exit 3"` on Windows) through the attempt loop with
    /// `pairs` and a state of its own; waits are zero, so nothing sleeps.
    fn run_step(pairs: &[(&str, &str)]) -> crate::outcome::RunResult {
        use crate::exec::env::BaseEnv;
        use crate::inputs::RawInputs;
        use crate::plan::Plan;
        use crate::run::{Context, ExitOnly, SystemTime, run};
        let shell = if cfg!(windows) {
            ["cmd", "/c"]
        } else {
            ["sh", "-c"]
        };
        let argv = vec![shell[0].into(), shell[1].into(), "exit 3".into()];
        let mut pairs = pairs.to_vec();
        pairs.push(("retry_wait_seconds", "0"));
        let plan = Plan::from_inputs(&RawInputs::from_pairs(pairs), argv).unwrap();
        let work = tempfile::tempdir().unwrap();
        let env = BaseEnv::new(std::env::vars_os());
        let (mut log, _) = Log::capture(false);
        let mut shared = Shared::open_with(
            plan.state.as_ref().unwrap(),
            PathBuf::new(),
            fixed_clock,
            &mut log,
        );
        let (_tx, mut cancel) = crate::exec::Cancel::manual();
        let ctx = Context {
            env: &env,
            work_dir: &crate::exec::work_dir::WorkDir::new(work.path().to_path_buf()),
            classifier: &ExitOnly,
            clock: &SystemTime,
            sleeper: &SystemTime,
            waits: plan.policy.waits.waits_seeded(0),
            log: &mut log,
            shared: shared.as_mut(),
        };
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(&plan, ctx, &mut cancel))
    }

    #[test]
    fn the_loop_stops_when_the_circuit_opens_and_skips_while_it_is_open() {
        use crate::policy::GiveUp;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().to_str().unwrap();
        let inputs = [
            ("state_dir", state),
            ("circuit", "db"),
            ("circuit_threshold", "2"),
            ("max_attempts", "5"),
        ];
        let first = run_step(&inputs);
        assert_eq!(first.attempts.len(), 2);
        assert_eq!(first.give_up, Some(GiveUp::CircuitOpen));
        let second = run_step(&inputs);
        assert!(second.attempts.is_empty());
        assert_eq!(second.give_up, Some(GiveUp::CircuitOpen));
        let note = second.shared.unwrap().circuit.unwrap();
        assert_eq!(note.refused.unwrap().until_ms, fixed_clock() + 300_000);
    }

    #[test]
    fn the_loop_stops_when_the_budget_is_spent() {
        use crate::policy::GiveUp;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().to_str().unwrap();
        let inputs = [
            ("state_dir", state),
            ("retry_budget", "1"),
            ("max_attempts", "5"),
        ];
        let first = run_step(&inputs);
        assert_eq!(first.attempts.len(), 2);
        assert_eq!(first.give_up, Some(GiveUp::RetryBudgetSpent));
        let second = run_step(&inputs);
        assert_eq!(second.attempts.len(), 1);
        assert_eq!(second.give_up, Some(GiveUp::RetryBudgetSpent));
        assert_eq!(second.shared.unwrap().budget.unwrap().left(), 0);
    }

    #[test]
    fn a_corrupt_circuit_file_is_a_warning_and_a_closed_circuit() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("circuit-db.json"),
            "{\"version\": 1, \"consec",
        )
        .unwrap();
        let (mut log, captured) = Log::capture(false);
        let p = plan(dir.path(), None);
        let mut a = Shared::open_with(&p, PathBuf::new(), fixed_clock, &mut log).unwrap();
        assert_eq!(block(a.admit(true, &mut log, &mut never())), None);
        drop(log);
        assert!(
            text_of(&captured).contains("is not valid JSON"),
            "{}",
            text_of(&captured)
        );
    }

    #[test]
    fn a_held_lock_is_waited_for_briefly_then_the_step_runs_without_state() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, captured) = Log::capture(false);
        let p = plan(dir.path(), Some(5));
        let mut a = Shared::open_with(&p, PathBuf::new(), fixed_clock, &mut log).unwrap();
        a.lock_wait = Duration::from_millis(200);
        let held = Store::existing(dir.path())
            .try_lock(&Key::Circuit("db".into()))
            .unwrap()
            .unwrap();
        let started = Instant::now();
        assert_eq!(block(a.admit(true, &mut log, &mut never())), None);
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(200), "{waited:?}");
        assert!(waited < Duration::from_secs(10), "{waited:?}");
        assert_eq!(a.note(), StateNote::default());
        // Without state, a retry is neither refused nor spent; the held lock is never touched.
        assert!(block(a.spend_retry(&mut log, &mut never())));
        drop(held);
        drop(log);
        let text = text_of(&captured);
        assert_eq!(
            text.matches("is locked by another process").count(),
            1,
            "{text}"
        );
        assert!(
            text.contains("running without the circuit breaker and retry budget"),
            "{text}"
        );
    }

    #[test]
    fn cancellation_ends_the_wait_for_a_held_lock() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = Log::capture(false);
        let p = plan(dir.path(), None);
        let mut a = Shared::open_with(&p, PathBuf::new(), fixed_clock, &mut log).unwrap();
        a.lock_wait = Duration::from_secs(600);
        let _held = Store::existing(dir.path())
            .try_lock(&Key::Circuit("db".into()))
            .unwrap()
            .unwrap();
        let (tx, mut cancel) = Cancel::manual();
        tx.send(Some(15)).unwrap();
        let started = Instant::now();
        assert_eq!(block(a.admit(true, &mut log, &mut cancel)), None);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(a.note(), StateNote::default());
    }

    #[test]
    fn a_circuit_stored_with_times_in_the_future_opens_for_one_cooldown_at_most() {
        let dir = tempfile::tempdir().unwrap();
        let ten_years = 10 * 365 * 24 * 3600 * 1000;
        let future = fixed_clock() + ten_years;
        std::fs::write(
            dir.path().join("circuit-db.json"),
            format!(
                r#"{{"version": 1, "consecutive_failures": 9, "opened_at_ms": {future}, "until_ms": {}, "probe": {{"owner": "ghost", "started_ms": {future}}}}}"#,
                future + 60_000
            ),
        )
        .unwrap();
        let (mut log, _) = Log::capture(false);
        let p = plan(dir.path(), None);
        let mut a = Shared::open_with(&p, PathBuf::new(), fixed_clock, &mut log).unwrap();
        let refusal = block(a.admit(true, &mut log, &mut never())).unwrap();
        assert_eq!(refusal.since_ms, fixed_clock());
        assert_eq!(refusal.until_ms, fixed_clock() + 60_000);
        // The settled times are what the file holds now.
        let (stored, _) = Store::existing(dir.path())
            .read::<Circuit>(&Key::Circuit("db".into()))
            .unwrap();
        assert_eq!(stored.until_ms, Some(fixed_clock() + 60_000));
        assert_eq!(stored.probe.unwrap().started_ms, fixed_clock());
    }
}
