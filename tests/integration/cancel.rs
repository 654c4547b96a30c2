//! Cancellation: SIGTERM or SIGINT to recover mid-attempt reaches the attempt's whole group,
//! recover exits 143 or 130 within the grace and reports the step cancelled.

use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{Test, alive, read_pid, wait_for_file};

/// A grandchild that notes the SIGTERM it gets and leaves; a child that ignores SIGTERM so only
/// the KILL after the grace stops it; `started` once both run.
const SCRIPT: &str = r#"
bash -c 'trap "echo term > got_term; exit 0" TERM; echo $$ > catcher.pid; while :; do sleep 0.1; done' &
sh -c 'trap "" TERM; echo $$ > stubborn.pid; while :; do sleep 0.1; done' &
while [ ! -s catcher.pid ] || [ ! -s stubborn.pid ]; do sleep 0.05; done
touch started
wait
"#;

fn cancel_with(signal: Signal, expected: i32) {
    let test = Test::new().args([
        "--max-attempts",
        "3",
        "--retry-wait-seconds",
        "0",
        "--kill-grace-seconds",
        "1",
        "--command",
        SCRIPT,
    ]);
    let dir = test.path().to_owned();
    let mut child = test
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start recover");
    assert!(
        wait_for_file(&dir.join("started"), Duration::from_secs(20)),
        "the attempt never started"
    );
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    let sent = Instant::now();
    kill(pid, signal).expect("signal recover");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for recover") {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("recover did not exit after {signal}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = sent.elapsed();
    assert_eq!(status.code(), Some(expected), "{signal}");
    // Grace 1 s + 1 s, with half a second for a loaded machine.
    assert!(
        took < Duration::from_millis(2500),
        "exit took {took:?} after {signal}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("got_term")).unwrap_or_default(),
        "term\n",
        "the grandchild did not get SIGTERM"
    );
    for file in ["catcher.pid", "stubborn.pid"] {
        let pid = read_pid(&dir.join(file));
        assert!(!alive(pid), "{file} {pid} outlived recover");
    }
    let outputs = crate::support::parse_outputs(
        &std::fs::read_to_string(dir.join(crate::support::OUTPUT_FILE)).unwrap(),
    );
    assert_eq!(
        outputs.get("outcome").map(String::as_str),
        Some("cancelled")
    );
    assert_eq!(outputs.get("total_attempts").map(String::as_str), Some("1"));
    assert_eq!(
        outputs.get("exit_code").map(String::as_str),
        Some(expected.to_string().as_str())
    );
    drop(test);
}

#[test]
fn sigterm_reaches_the_group_and_exits_143() {
    cancel_with(Signal::SIGTERM, 143);
}

#[test]
fn sigint_reaches_the_group_and_exits_130() {
    cancel_with(Signal::SIGINT, 130);
}

#[test]
fn sighup_reaches_the_group_and_exits_129() {
    cancel_with(Signal::SIGHUP, 129);
}

#[test]
fn sigterm_during_the_wait_ends_at_once() {
    let test = Test::new().args([
        "--max-attempts",
        "3",
        "--retry-wait-seconds",
        "30",
        "--command",
        "touch started; exit 1",
    ]);
    let dir = test.path().to_owned();
    let mut child = test
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start recover");
    assert!(wait_for_file(&dir.join("started"), Duration::from_secs(20)));
    // Let the attempt end and the wait begin.
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    kill(
        Pid::from_raw(i32::try_from(child.id()).unwrap()),
        Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "{:?}",
        sent.elapsed()
    );
    let outputs = crate::support::parse_outputs(
        &std::fs::read_to_string(dir.join(crate::support::OUTPUT_FILE)).unwrap(),
    );
    assert_eq!(outputs["outcome"], "cancelled");
    assert_eq!(outputs["total_attempts"], "1");
    drop(test);
}
