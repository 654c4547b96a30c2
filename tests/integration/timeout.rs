//! A timed-out attempt's whole process tree goes, even processes that ignore SIGTERM, and it is
//! gone before the next attempt starts.

use std::time::Duration;

use crate::support::{Test, alive, read_pid};

/// A child and a grandchild that both ignore SIGTERM and write their pids, then wait forever.
const TREE: &str = r#"
trap '' TERM
sh -c 'trap "" TERM; echo $$ > grandchild.pid; while :; do sleep 0.1; done' &
echo $$ > child.pid
while :; do sleep 0.1; done
"#;

/// Attempt 1 starts the tree and hangs; attempt 2 records whether attempt 1's processes are
/// still alive (a zombie counts as gone), then passes.
const ATTEMPTS: &str = r#"
n=$(( $(cat count 2>/dev/null || echo 0) + 1 ))
echo "$n" > count
if [ "$n" -eq 1 ]; then
  trap '' TERM
  bash tree.sh &
  while :; do sleep 0.1; done
fi
for f in child.pid grandchild.pid; do
  pid=$(cat "$f")
  if [ -e "/proc/$pid/stat" ] && [ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1)" != Z ]; then
    echo "$f $pid alive" >> overlap
  else
    echo "$f $pid gone" >> overlap
  fi
done
"#;

#[test]
fn a_child_and_grandchild_ignoring_term_are_gone_after_the_timeout() {
    let out = Test::new()
        .file("tree.sh", TREE)
        .args([
            "--max-attempts",
            "1",
            "--timeout-seconds",
            "1",
            "--kill-grace-seconds",
            "1",
        ])
        .args([
            "--command",
            "trap '' TERM; bash tree.sh & while :; do sleep 0.1; done",
        ])
        .status(1)
        .run();
    let child = read_pid(&out.join("child.pid"));
    let grandchild = read_pid(&out.join("grandchild.pid"));
    assert!(
        !alive(child),
        "child {child} outlived recover\n{}",
        out.describe()
    );
    assert!(
        !alive(grandchild),
        "grandchild {grandchild} outlived recover\n{}",
        out.describe()
    );
    // Deadline 1 s + grace 1 s + 1 s, with room for a loaded machine to start processes.
    assert!(
        out.run_time() < Duration::from_millis(4500),
        "took {:?}",
        out.run_time()
    );
    assert!(
        out.run_time() >= Duration::from_secs(2),
        "the grace was not given: {:?}",
        out.run_time()
    );
    assert_eq!(out.output("exit_code"), "1");
    assert!(out.output("exit_error").contains("Timeout of 1000ms hit"));
}

#[test]
fn the_next_attempt_never_overlaps_a_timed_out_one() {
    let out = Test::new()
        .file("tree.sh", TREE)
        .args(["--max-attempts", "2", "--retry-wait-seconds", "0"])
        .args(["--timeout-seconds", "1", "--kill-grace-seconds", "1"])
        .args(["--command", ATTEMPTS])
        .run();
    assert_eq!(
        out.read("overlap"),
        format!(
            "child.pid {} gone\ngrandchild.pid {} gone\n",
            read_pid(&out.join("child.pid")),
            read_pid(&out.join("grandchild.pid"))
        ),
        "{}",
        out.describe()
    );
    assert_eq!(out.output("outcome"), "recovered");
    // Attempt 2 started within deadline + grace + 1 s and ended at once.
    assert!(
        out.run_time() < Duration::from_secs(5),
        "took {:?}",
        out.run_time()
    );
}

#[test]
fn a_process_left_behind_by_a_finished_command_is_stopped() {
    // The command exits at once but leaves a TERM-ignoring process in its group.
    let out = Test::new()
        .args(["--max-attempts", "1", "--kill-grace-seconds", "1"])
        .args([
            "--command",
            "sh -c 'trap \"\" TERM; echo $$ > left.pid; exec sleep 30' >/dev/null 2>&1 &\n\
             while [ ! -s left.pid ]; do sleep 0.05; done",
        ])
        .run();
    let left = read_pid(&out.join("left.pid"));
    assert!(
        !alive(left),
        "pid {left} outlived the attempt\n{}",
        out.describe()
    );
}

#[test]
fn an_orphan_that_has_exited_does_not_hold_up_the_attempt() {
    // The orphan exits at once and stays a zombie (see `orphans_are_never_reaped`). Counting it
    // as a live process would cost the default grace of 5 s and more.
    let out = Test::new()
        .args([
            "--max-attempts",
            "1",
            "--command",
            "sh -c 'true &'\nsleep 0.5",
        ])
        .run();
    assert!(
        out.run_time() < Duration::from_secs(3),
        "took {:?}",
        out.run_time()
    );
    assert!(
        !out.stderr.contains("Stopped processes"),
        "{}",
        out.describe()
    );
}

#[test]
fn a_process_that_escapes_the_group_does_not_hang_recover() {
    // `setsid` leaves the attempt's group while holding its output pipe open; recover cannot
    // reach it, but must not wait for the pipe to close.
    let out = Test::new()
        .args(["--max-attempts", "1"])
        .args([
            "--command",
            "setsid sleep 20 &\necho $! > escaped.pid\necho done",
        ])
        .stdout("done\n")
        .run();
    let escaped = read_pid(&out.join("escaped.pid"));
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(escaped),
        nix::sys::signal::Signal::SIGKILL,
    );
    assert!(
        out.run_time() < Duration::from_secs(5),
        "took {:?}",
        out.run_time()
    );
}
