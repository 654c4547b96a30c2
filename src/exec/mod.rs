//! One attempt: spawn the command in a process group of its own, relay its output, enforce its
//! timeout, and stop the whole group (TERM, grace, KILL) when it must end.
//!
//! In: an [`AttemptSpec`] and one observer per stream. Out: an [`Attempt`] — how it ended, how
//! long it took, the tails of its output and the observers back. A command that fails is an
//! outcome, not an error: this module has no error type.

pub mod cancel;
pub mod env;
#[cfg(unix)]
mod lookup;
pub mod runner_file;
pub mod shell;
pub mod stream;
#[cfg(unix)]
mod unix;
pub mod work_dir;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as platform;

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use process_wrap::tokio::{ChildWrapper, CommandWrap};
use tokio::sync::oneshot;
use tokio::time::{Instant, sleep, sleep_until};

pub use cancel::{Cancel, CancelSignal};
use platform::Group;
use stream::{Observer, Relayed, Stream, Tail};

/// How often the group is checked while it is being stopped. Only the stop path polls: a
/// running attempt is waited on, never polled.
const STOP_POLL: Duration = Duration::from_millis(20);

/// After SIGKILL, how long to wait for the kernel to remove the group's processes.
const KILL_SETTLE: Duration = Duration::from_secs(2);

/// When a stream has delivered nothing for this long after its whole group is gone, the pipe is
/// held open by a process that escaped the group (`setsid`), and the relay is left behind.
const DRAIN_IDLE: Duration = Duration::from_secs(1);

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

/// Turns a tokio pipe into a blocking file for the relay thread (tokio hands it back in
/// blocking mode).
macro_rules! blocking {
    ($pipe:expr) => {{
        #[cfg(unix)]
        let file = $pipe.and_then(|p| p.into_owned_fd().ok()).map(File::from);
        #[cfg(windows)]
        let file = $pipe
            .and_then(|p| p.into_owned_handle().ok())
            .map(File::from);
        file
    }};
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
    let stdout = start_relay(
        blocking!(child.stdout().take()),
        Stream::Stdout,
        observers.0,
    );
    let stderr = start_relay(
        blocking!(child.stderr().take()),
        Stream::Stderr,
        observers.1,
    );

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
    let stopped_leftovers = ending == Ending::Exited && !group.is_empty();
    let status = if ending == Ending::Exited && !stopped_leftovers {
        status
    } else {
        stop(&mut child, group, spec.grace, status).await
    };
    let (exit_code, signal) = status.map_or((1, None), platform::exit_code);
    let (stdout, stderr) = tokio::join!(stdout.finish(), stderr.finish());
    Attempt {
        exit_code,
        signal,
        ending,
        duration: start.elapsed(),
        stdout,
        stderr,
        stopped_leftovers,
        spawn_error: None,
    }
}

fn spawn(spec: &AttemptSpec) -> io::Result<Box<dyn ChildWrapper>> {
    #[cfg(unix)]
    let mut command = match lookup::resolve(&spec.program, &spec.env) {
        Some(path) => {
            let mut command = tokio::process::Command::new(path);
            command.arg0(&spec.program);
            command
        }
        None => tokio::process::Command::new(&spec.program),
    };
    #[cfg(windows)]
    let mut command = tokio::process::Command::new(&spec.program);
    command.args(&spec.args);
    #[cfg(windows)]
    if let Some(raw) = &spec.raw_args {
        command.raw_arg(raw);
    }
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
    #[cfg(unix)]
    wrap.wrap(process_wrap::tokio::ProcessGroup::leader());
    #[cfg(windows)]
    wrap.wrap(process_wrap::tokio::JobObject);
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

#[cfg(unix)]
fn terminate(_child: &mut Box<dyn ChildWrapper>, group: Group) {
    group.terminate();
}

#[cfg(windows)]
fn terminate(child: &mut Box<dyn ChildWrapper>, group: Group) {
    kill(child, group);
}

#[cfg(unix)]
fn kill(_child: &mut Box<dyn ChildWrapper>, group: Group) {
    group.kill();
}

#[cfg(windows)]
fn kill(child: &mut Box<dyn ChildWrapper>, _group: Group) {
    if let Err(error) = child.start_kill() {
        tracing::debug!(%error, "terminating the attempt's job failed");
    }
}

/// A relay thread in progress.
struct RunningRelay<O> {
    done: Option<oneshot::Receiver<io::Result<Relayed<O>>>>,
    progress: Arc<AtomicU64>,
}

fn start_relay<O: Observer + 'static>(
    input: Option<File>,
    stream: Stream,
    observer: O,
) -> RunningRelay<O> {
    let progress = Arc::new(AtomicU64::new(0));
    let Some(input) = input else {
        return RunningRelay {
            done: None,
            progress,
        };
    };
    let (tx, rx) = oneshot::channel();
    let counter = Arc::clone(&progress);
    let output = downstream(stream);
    let spawned = std::thread::Builder::new()
        .name(format!("relay-{stream:?}").to_lowercase())
        .spawn(move || {
            let result = relay(input, output, observer, &counter);
            let _ = tx.send(result);
        });
    match spawned {
        Ok(_) => RunningRelay {
            done: Some(rx),
            progress,
        },
        Err(error) => {
            tracing::warn!(%error, "cannot start the output relay");
            RunningRelay {
                done: None,
                progress,
            }
        }
    }
}

impl<O> RunningRelay<O> {
    /// Waits for the relay to reach end of file, for as long as bytes keep coming.
    async fn finish(self) -> Option<Relayed<O>> {
        let mut done = self.done?;
        let mut seen = self.progress.load(Ordering::Relaxed);
        let mut idle = Duration::ZERO;
        loop {
            tokio::select! {
                result = &mut done => return result.ok().and_then(Result::ok),
                () = sleep(STOP_POLL * 5) => {
                    let now = self.progress.load(Ordering::Relaxed);
                    if now == seen {
                        idle += STOP_POLL * 5;
                        if idle >= DRAIN_IDLE {
                            tracing::debug!("output pipe held open by a process outside the attempt's group");
                            return None;
                        }
                    } else {
                        seen = now;
                        idle = Duration::ZERO;
                    }
                }
            }
        }
    }
}

/// Relays one stream to recover's own (`None`: nowhere, when that could not be opened).
fn relay<O: Observer>(
    input: File,
    output: Option<File>,
    observer: O,
    progress: &Arc<AtomicU64>,
) -> io::Result<Relayed<O>> {
    let capacity = Tail::DEFAULT_CAPACITY;
    let Some(output) = output else {
        return stream::relay(input, io::sink(), observer, capacity, progress);
    };
    #[cfg(target_os = "linux")]
    {
        platform::widen_pipe(&input);
        stream::relay_pipes(&input, &output, observer, capacity, progress)
    }
    #[cfg(not(target_os = "linux"))]
    stream::relay(input, output, observer, capacity, progress)
}

/// A handle of recover's own stdout or stderr, unbuffered: each chunk must appear as soon as it
/// is read.
fn downstream(stream: Stream) -> Option<File> {
    let cloned = match stream {
        Stream::Stdout => clone_handle(&io::stdout()),
        Stream::Stderr => clone_handle(&io::stderr()),
    };
    cloned.ok()
}

#[cfg(unix)]
fn clone_handle(handle: &impl std::os::fd::AsFd) -> io::Result<File> {
    Ok(File::from(handle.as_fd().try_clone_to_owned()?))
}

#[cfg(windows)]
fn clone_handle(handle: &impl std::os::windows::io::AsHandle) -> io::Result<File> {
    Ok(File::from(handle.as_handle().try_clone_to_owned()?))
}
