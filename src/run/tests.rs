use super::*;
use crate::inputs::RawInputs;
use crate::output::{Observer, Stream};
use std::future::Future;
use std::pin::Pin;
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
    let (mut log, _) = Log::capture(false);
    run_classified(plan, time, seed, &ExitOnly, &mut log, cancel)
}

/// Runs `plan` on fake time with `classifier`, logging to `log`.
fn run_classified<C: Classifier>(
    plan: &Plan,
    time: &FakeTime,
    seed: u64,
    classifier: &C,
    log: &mut Log,
    cancel: &mut Cancel,
) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    let env = BaseEnv::new(std::env::vars_os());
    let ctx = Context {
        env: &env,
        work_dir: &WorkDir::new(dir.path().to_path_buf()),
        classifier,
        clock: time,
        sleeper: time,
        waits: plan.policy.waits.waits_seeded(seed),
        log,
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
    let (mut log, text) = Log::capture(false);
    let (_tx, mut cancel) = Cancel::manual();
    let result = run_classified(&plan, &time, 0, &Panicky, &mut log, &mut cancel);
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
