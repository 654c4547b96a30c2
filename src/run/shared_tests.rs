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
