//! One attempt: spawn the command in a process group of its own, relay its output, enforce its
//! timeout, and stop the whole group (TERM, grace, KILL) when it must end.
//!
//! In: an [`AttemptSpec`] and one observer per stream. Out: an [`Attempt`] — how it ended, how
//! long it took, the tails of its output and the observers back. A command that fails is an
//! outcome, not an error: this module has no error type.

pub mod cancel;
pub mod env;
mod pipes;
pub mod runner_file;
pub mod shell;
pub mod stream;
pub mod work_dir;

// The platform, chosen here and nowhere else. unix.rs and windows.rs offer the same items (the
// group or job, starting and stopping the command, the output pipes, the cancelling signals,
// file access); linux.rs adds Linux's own relay and `/proc` to unix.rs.
#[cfg(target_os = "linux")]
mod linux;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
use windows as platform;

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use process_wrap::tokio::{ChildWrapper, CommandWrap};
use tokio::time::{Instant, sleep, sleep_until};

use crate::output::{Observer, Stream, Tail};
pub use cancel::{Cancel, CancelSignal};
use pipes::start_relay;
use platform::{Group, kill, terminate};
use stream::Relayed;

/// How often the group is checked while it is being stopped. Only the stop path polls: a
/// running attempt is waited on, never polled.
const STOP_POLL: Duration = Duration::from_millis(20);

/// When the command has exited and processes of its group live on, how long they get to leave
/// the group or end before they are stopped. `setsid server &` as a command's last line forks a
/// process that is still in the group until `setsid` runs in it: stopping it at once would kill
/// the server before it ever left. A command without leftovers never waits for this.
const LEFTOVER_SETTLE: Duration = Duration::from_millis(250);

/// After SIGKILL, how long to wait for the kernel to remove the group's processes.
const KILL_SETTLE: Duration = Duration::from_secs(2);

/// Everything needed to start one attempt.
#[derive(Debug, Clone)]
pub struct AttemptSpec {
    /// The program to start.
    pub program: OsString,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// On Windows, arguments passed verbatim (cmd parses its own command line).
    pub raw_args: Option<String>,
    /// The complete environment of the command.
    pub env: Vec<(OsString, OsString)>,
    /// The working directory, if not recover's own.
    pub cwd: Option<PathBuf>,
    /// When the attempt must end.
    pub timeout: Option<Duration>,
    /// Between SIGTERM and SIGKILL.
    pub grace: Duration,
}

/// How an attempt came to an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The command exited by itself (or was killed by someone else).
    Exited,
    /// recover stopped it because its time ran out.
    TimedOut,
    /// recover stopped it because recover was cancelled.
    Cancelled(CancelSignal),
}

/// A finished attempt.
pub struct Attempt<O> {
    /// The exit code as a shell reports it (128 + n for signal n).
    pub exit_code: i32,
    /// The signal that ended the command, if one did.
    pub signal: Option<i32>,
    /// How it ended.
    pub ending: Ending,
    /// From spawn until every process of the group was gone.
    pub duration: Duration,
    /// Standard output's relay, unless it had to be left behind.
    pub stdout: Option<Relayed<O>>,
    /// Standard error's relay, unless it had to be left behind.
    pub stderr: Option<Relayed<O>>,
    /// Processes of the group outlived the command and were stopped.
    pub stopped_leftovers: bool,
    /// The command could not be started at all.
    pub spawn_error: Option<String>,
    /// A relay could not get a thread of its own and ran on recover's main thread instead (the
    /// cause, e.g. a process limit).
    pub relay_fallback: Option<String>,
    /// Why a stream's relay was left behind (its tail and findings are then missing), if one
    /// was.
    pub output_left_behind: Option<LeftBehind>,
}

/// Why recover stopped waiting for a stream's relay once the attempt's group was gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftBehind {
    /// A process that left the group (`setsid`) still held the pipe open.
    Escaped,
    /// The relay could not pass on what the group wrote: nothing reads recover's own output.
    Stuck,
    /// recover was cancelled while it waited.
    Cancelled,
}

impl<O> Attempt<O> {
    /// The bounded tail of one stream (empty if the relay was left behind).
    #[must_use]
    pub fn tail(&self, stream: Stream) -> Tail {
        let relayed = match stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
        };
        relayed.as_ref().map(|r| r.tail.clone()).unwrap_or_default()
    }
}

/// Runs one attempt to its end. No process of the attempt outlives this call.
pub async fn run<O: Observer + 'static>(
    spec: &AttemptSpec,
    observers: (O, O),
    cancel: &mut Cancel,
) -> Attempt<O> {
    let start = Instant::now();
    let mut child = match spawn(spec) {
        Ok(child) => child,
        Err(error) => return spawn_failed(spec, &error, start),
    };
    let group = Group::led_by(child.id().unwrap_or_default());
    let watcher = platform::Watcher::watch(group, spec.grace);
    let stdout = start_relay(child.stdout().take(), Stream::Stdout, observers.0);
    let stderr = start_relay(child.stderr().take(), Stream::Stderr, observers.1);
    let relay_fallback = stdout.fallback.clone().or_else(|| stderr.fallback.clone());

    let deadline = spec.timeout.map(|t| start + t);
    let time_out = async {
        match deadline {
            Some(at) => sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    let (status, ending) = tokio::select! {
        status = child.inner_mut().wait() => (status.ok(), Ending::Exited),
        () = time_out => (None, Ending::TimedOut),
        signal = cancel.cancelled() => (None, Ending::Cancelled(signal)),
    };
    if ending == Ending::Exited {
        platform::leader_exited(&mut child, group);
    }
    let stopped_leftovers = ending == Ending::Exited && !settles(group).await;
    let status = if ending == Ending::Exited && !stopped_leftovers {
        status
    } else {
        stop(&mut child, group, spec.grace, status).await
    };
    watcher.release().await;
    let (exit_code, signal) = status.map_or((1, None), platform::exit_code);
    let mut cancel_too = cancel.clone();
    let (stdout, stderr) = tokio::join!(stdout.finish(cancel), stderr.finish(&mut cancel_too));
    let (stdout, out_behind) = stdout;
    let (stderr, err_behind) = stderr;
    Attempt {
        exit_code,
        signal,
        ending,
        duration: start.elapsed(),
        stdout,
        stderr,
        stopped_leftovers,
        spawn_error: None,
        relay_fallback,
        output_left_behind: out_behind.or(err_behind),
    }
}

fn spawn(spec: &AttemptSpec) -> io::Result<Box<dyn ChildWrapper>> {
    let mut command = platform::command(spec);
    command
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &spec.cwd {
        command.current_dir(dir);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut wrap = CommandWrap::from(command);
    platform::contain(&mut wrap);
    wrap.spawn()
}

/// A command that cannot start fails like a shell would report it: 127 when the program is
/// missing, 126 when it cannot be executed.
fn spawn_failed<O>(spec: &AttemptSpec, error: &io::Error, start: Instant) -> Attempt<O> {
    let exit_code = if error.kind() == io::ErrorKind::NotFound {
        127
    } else {
        126
    };
    let message = format!("cannot start {}: {error}", spec.program.to_string_lossy());
    Attempt {
        exit_code,
        signal: None,
        ending: Ending::Exited,
        duration: start.elapsed(),
        stdout: None,
        stderr: None,
        stopped_leftovers: false,
        spawn_error: Some(message),
        relay_fallback: None,
        output_left_behind: None,
    }
}

/// Whether the group empties within [`LEFTOVER_SETTLE`] of the command's exit.
async fn settles(group: Group) -> bool {
    let until = Instant::now() + LEFTOVER_SETTLE;
    loop {
        if group.is_empty() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        sleep(STOP_POLL).await;
    }
}

/// TERM the group, give it `grace` to go, then KILL it; returns the leader's status.
async fn stop(
    child: &mut Box<dyn ChildWrapper>,
    group: Group,
    grace: Duration,
    mut status: Option<ExitStatus>,
) -> Option<ExitStatus> {
    terminate(child, group);
    let give_up = Instant::now() + grace;
    loop {
        if status.is_none() {
            status = child.inner_mut().try_wait().ok().flatten();
        }
        if status.is_some() && group.is_empty() {
            return status;
        }
        if Instant::now() >= give_up {
            break;
        }
        sleep(STOP_POLL).await;
    }
    kill(child, group);
    if status.is_none() {
        status = child.inner_mut().wait().await.ok();
    }
    let settle = Instant::now() + KILL_SETTLE;
    while !group.is_empty() && Instant::now() < settle {
        sleep(STOP_POLL).await;
    }
    status
}
