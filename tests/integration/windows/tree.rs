//! The job object: every process of an attempt goes when the attempt ends, whether it timed
//! out, was cancelled, or its first process exited and left others running.

use std::os::windows::process::CommandExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::{BEAT, START_BEAT, cmd, still_beating};
use crate::support::{OUTPUT_FILE, Test, parse_outputs, wait_for_file};

/// Starts a process that beats in the background, then hangs.
const HANGS: &str = "ping -n 600 127.0.0.1 >nul\r\n";

/// Starts `test`'s recover in the background with `creation_flags`, output discarded, and
/// waits until its attempt has written the file `started`.
fn start_until_started(test: &Test, creation_flags: u32) -> Child {
    let child = test
        .command()
        .creation_flags(creation_flags)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start recover");
    assert!(
        wait_for_file(&test.path().join("started"), Duration::from_secs(30)),
        "the attempt never started"
    );
    child
}

#[test]
fn a_timed_out_attempt_s_whole_tree_is_gone() {
    let out = cmd(&format!("{START_BEAT}{HANGS}"))
        .file("beat.cmd", BEAT)
        .args(["--max-attempts", "1", "--timeout-seconds", "2"])
        .status(1)
        .run();
    assert!(
        !still_beating(out.dir.path()),
        "a process of the timed-out attempt outlived it\n{}",
        out.describe()
    );
    assert!(out.output("exit_error").contains("Timeout of 2000ms hit"));
    // No grace on Windows: the job ends at the deadline. Wide bounds for a loaded machine.
    let took = out.run_time();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "took {took:?}"
    );
}

#[test]
fn processes_left_running_by_a_finished_attempt_are_ended() {
    let out = cmd(&format!("{START_BEAT}echo started\r\n"))
        .file("beat.cmd", BEAT)
        .args(["--max-attempts", "1"])
        .stdout("started\r\n")
        .run();
    assert!(
        !still_beating(out.dir.path()),
        "a process left running by the attempt outlived it\n{}",
        out.describe()
    );
    assert_eq!(out.output("outcome"), "success");
}

#[test]
#[ignore = "Wine 8 cannot send console events (GenerateConsoleCtrlEvent fails with ERROR_INVALID_ACCESS); scripts/wine-cancel-test.sh cancels through Wine's SIGINT instead"]
fn ctrl_break_ends_the_attempt_s_whole_tree_and_recover_exits_143() {
    use windows_sys::Win32::System::Console::{
        AllocConsole, CTRL_BREAK_EVENT, GenerateConsoleCtrlEvent,
    };
    use windows_sys::Win32::System::Threading::CREATE_NEW_PROCESS_GROUP;

    // Console events travel through a console, which a test started with pipes may not have
    // (under Wine it has none): recover must share one with this test. AllocConsole fails
    // harmlessly when there is one already.
    #[expect(
        unsafe_code,
        reason = "the Win32 call that makes a console; no safe wrapper"
    )]
    // SAFETY: no arguments; it only fails when the process has a console.
    unsafe {
        AllocConsole();
    }

    let test = cmd(&format!("{START_BEAT}echo started>started\r\n{HANGS}"))
        .file("beat.cmd", BEAT)
        .args(["--max-attempts", "3"]);
    let dir = test.path().to_owned();
    // A process group of its own, so that the Ctrl-Break reaches recover and its attempt
    // only, not this test.
    let mut child = start_until_started(&test, CREATE_NEW_PROCESS_GROUP);
    let sent = Instant::now();
    #[expect(
        unsafe_code,
        reason = "the Win32 call that sends Ctrl-Break; no safe wrapper"
    )]
    // SAFETY: plain values in, a BOOL out; the group is recover's, made above.
    let delivered = unsafe { GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, child.id()) };
    assert_ne!(delivered, 0, "{}", std::io::Error::last_os_error());
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for recover") {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("recover did not exit after Ctrl-Break");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(143));
    assert!(
        !still_beating(&dir),
        "a process of the cancelled attempt outlived recover"
    );
    let outputs = parse_outputs(&std::fs::read_to_string(dir.join(OUTPUT_FILE)).unwrap());
    assert_eq!(outputs["outcome"], "cancelled");
    assert_eq!(outputs["total_attempts"], "1");
    drop(test);
}

#[test]
fn the_attempt_s_tree_ends_when_recover_itself_is_killed() {
    // The runner ends a cancelled step it could not stop with TerminateProcess; the job is
    // made to kill its processes when its last handle closes, which recover's death does.
    let test = cmd(&format!("{START_BEAT}echo started>started\r\n{HANGS}"))
        .file("beat.cmd", BEAT)
        .args(["--max-attempts", "1"]);
    let dir = test.path().to_owned();
    let mut child = start_until_started(&test, 0);
    child.kill().expect("terminate recover");
    child.wait().expect("wait for recover");
    assert!(
        !still_beating(&dir),
        "a process of the attempt outlived recover's death"
    );
    drop(test);
}
