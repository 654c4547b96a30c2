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
use std::sync::atomic::Ordering;
use std::time::Duration;

use process_wrap::tokio::{ChildWrapper, CommandWrap};
use tokio::sync::oneshot;
use tokio::time::{Instant, sleep, sleep_until};

use crate::output::{Observer, Stream, Tail};
pub use cancel::{Cancel, CancelSignal};
use platform::Group;
use stream::{Progress, Relayed};

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

/// When a stream has delivered nothing for this long after its whole group is gone, the pipe is
/// held open by a process that escaped the group (`setsid`), and the relay is left behind.
const DRAIN_IDLE: Duration = Duration::from_secs(1);

/// Once the bytes the group left in the pipe are relayed, how long more the output may take to
/// drain, even while bytes still flow: they come from a process that left the group (`setsid`),
/// which would otherwise hold the step past every timeout, deadline and cancellation.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// While bytes the group left in the pipe are still being relayed, how long the relay may go
/// without passing any on before it counts as stuck (a writer downstream that never reads).
const DRAIN_STALL: Duration = Duration::from_secs(5);

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

/// One of the child's output pipes, as tokio hands it over.
trait ChildPipe: tokio::io::AsyncRead + Unpin + Send + 'static {
    /// The pipe as a blocking file for a relay thread (tokio hands it back in blocking mode).
    fn into_file(self) -> io::Result<File>;

    /// A second handle on the pipe, to ask how many bytes wait in it.
    fn watch_handle(&self) -> Option<File>;
}

macro_rules! child_pipe {
    ($($pipe:ty),*) => {$(
        impl ChildPipe for $pipe {
            #[cfg(unix)]
            fn into_file(self) -> io::Result<File> {
                self.into_owned_fd().map(File::from)
            }
            #[cfg(windows)]
            fn into_file(self) -> io::Result<File> {
                self.into_owned_handle().map(File::from)
            }
            #[cfg(unix)]
            fn watch_handle(&self) -> Option<File> {
                clone_handle(self).ok()
            }
            #[cfg(windows)]
            fn watch_handle(&self) -> Option<File> {
                None
            }
        }
    )*};
}
child_pipe!(tokio::process::ChildStdout, tokio::process::ChildStderr);

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
    // On Windows the job's process count is out of reach: the job ends with its first process,
    // so that nothing it left running outlives the attempt (exec/windows.rs).
    #[cfg(windows)]
    if ending == Ending::Exited {
        kill(&mut child, group);
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
    let mut command = {
        let cwd = spec.cwd.clone().or_else(|| std::env::current_dir().ok());
        let batch = cwd.and_then(|cwd| platform::resolve(&spec.program, &spec.env, &cwd));
        tokio::process::Command::new(
            batch
                .as_deref()
                .map_or(spec.program.as_os_str(), |p| p.as_os_str()),
        )
    };
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
    wrap.wrap(process_wrap::tokio::KillOnDrop)
        .wrap(process_wrap::tokio::JobObject);
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

/// A relay in progress, on a thread of its own or, failing that, on the runtime.
struct RunningRelay<O> {
    done: Option<oneshot::Receiver<io::Result<Relayed<O>>>>,
    progress: Arc<Progress>,
    /// The child's pipe, to ask how many bytes wait in it.
    pipe: Option<File>,
    /// Why the relay runs on the runtime instead of a thread, if it does.
    fallback: Option<String>,
}

/// Starts relaying one of the child's pipes.
///
/// The thread is started before it is handed the pipe: if it cannot be started (`EAGAIN` under
/// a process limit, which threads count against), the pipe is still here, and is relayed by a
/// task of the runtime instead. Dropping it would kill the command with `SIGPIPE` on its next
/// write.
fn start_relay<O: Observer + 'static>(
    pipe: Option<impl ChildPipe>,
    stream: Stream,
    observer: O,
) -> RunningRelay<O> {
    let progress = Arc::new(Progress::default());
    let Some(pipe) = pipe else {
        return RunningRelay {
            done: None,
            progress,
            pipe: None,
            fallback: None,
        };
    };
    let watched = pipe.watch_handle();
    let (tx, rx) = oneshot::channel();
    let (hand_over, handed) = std::sync::mpsc::channel::<(File, O)>();
    let counter = Arc::clone(&progress);
    let spawned = std::thread::Builder::new()
        .name(format!("relay-{stream:?}").to_lowercase())
        .spawn(move || {
            if let Ok((input, observer)) = handed.recv() {
                let output = downstream(stream);
                let _ = tx.send(relay(input, output, observer, &counter));
            }
        });
    let Err(error) = spawned else {
        return match pipe.into_file() {
            Ok(input) => {
                // The thread waits for this; it cannot have gone.
                let _ = hand_over.send((input, observer));
                RunningRelay {
                    done: Some(rx),
                    progress,
                    pipe: watched,
                    fallback: None,
                }
            }
            // The pipe is lost to tokio (it could not be made blocking): the thread ends when
            // `hand_over` is dropped, and nothing can read the pipe.
            Err(error) => {
                tracing::warn!(%error, "cannot hand the output pipe to its relay");
                RunningRelay {
                    done: None,
                    progress,
                    pipe: None,
                    fallback: None,
                }
            }
        };
    };
    let name = match stream {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    };
    let fallback = format!(
        "cannot start a thread to relay the command's {name} ({error}); relaying it on recover's main thread"
    );
    let (tx, rx) = oneshot::channel();
    let counter = Arc::clone(&progress);
    tokio::spawn(async move {
        let capacity = Tail::DEFAULT_CAPACITY;
        let result = match downstream(stream) {
            Some(output) => stream::relay_async(pipe, output, observer, capacity, &counter).await,
            None => stream::relay_async(pipe, io::sink(), observer, capacity, &counter).await,
        };
        let _ = tx.send(result);
    });
    RunningRelay {
        done: Some(rx),
        progress,
        pipe: watched,
        fallback: Some(fallback),
    }
}

impl<O> RunningRelay<O> {
    /// Waits for the relay to reach end of file, once the attempt's group is gone.
    ///
    /// Every byte the group left in the pipe is waited for (unless the relay stops passing any
    /// on for [`DRAIN_STALL`]); after them, at most [`DRAIN_GRACE`], less if nothing comes for
    /// [`DRAIN_IDLE`]. Cancellation cuts the wait short, unless the attempt was ended by that
    /// cancellation: its last output is drained as any other's. Returns the relay's result,
    /// and whether it was left behind.
    async fn finish(mut self, cancel: &mut Cancel) -> (Option<Relayed<O>>, Option<LeftBehind>) {
        let owed = self.owed();
        let Some(mut done) = self.done.take() else {
            return (None, None);
        };
        let cancelled_before = cancel.signal().is_some();
        let mut owed_relayed_at = None;
        let mut seen = self.progress.relayed.load(Ordering::Relaxed);
        let mut idle = Duration::ZERO;
        loop {
            tokio::select! {
                result = &mut done => return (result.ok().and_then(Result::ok), None),
                _ = cancel.cancelled(), if !cancelled_before => {
                    return (None, Some(LeftBehind::Cancelled));
                }
                () = sleep(STOP_POLL * 5) => {
                    let now = self.progress.relayed.load(Ordering::Relaxed);
                    if now == seen {
                        idle += STOP_POLL * 5;
                    } else {
                        seen = now;
                        idle = Duration::ZERO;
                    }
                    if now < owed {
                        if idle >= DRAIN_STALL {
                            return (None, Some(LeftBehind::Stuck));
                        }
                    } else {
                        let since = *owed_relayed_at.get_or_insert_with(Instant::now);
                        if idle >= DRAIN_IDLE || since.elapsed() >= DRAIN_GRACE {
                            return (None, Some(LeftBehind::Escaped));
                        }
                    }
                }
            }
        }
    }

    /// How many bytes the relay must have passed on to have passed on all the group wrote:
    /// what it took from the pipe so far and what still waits in it. (Bytes taken between the
    /// two readings are not counted: the grace covers them.)
    fn owed(&self) -> u64 {
        let taken = self.progress.taken.load(Ordering::Relaxed);
        taken + self.pipe.as_ref().map_or(0, waiting)
    }
}

/// How many bytes wait in the pipe behind `pipe` (0 if that cannot be told).
#[cfg(unix)]
fn waiting(pipe: &File) -> u64 {
    rustix::io::ioctl_fionread(pipe).unwrap_or(0)
}

#[cfg(windows)]
fn waiting(_pipe: &File) -> u64 {
    0
}

/// Relays one stream to recover's own (`None`: nowhere, when that could not be opened).
fn relay<O: Observer>(
    input: File,
    output: Option<File>,
    observer: O,
    progress: &Progress,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A relay that never ends and passes on a byte every 20 ms, as one whose pipe a process
    /// outside the group keeps writing to; what `finish` returned, and after how long.
    fn drain_of_an_endless_relay(cancel_after: Option<Duration>) -> (Option<LeftBehind>, Duration) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (tx, rx) = oneshot::channel::<io::Result<Relayed<()>>>();
            let progress = Arc::new(Progress::default());
            let relay = RunningRelay {
                done: Some(rx),
                progress: Arc::clone(&progress),
                pipe: None,
                fallback: None,
            };
            let writer = tokio::spawn(async move {
                loop {
                    sleep(Duration::from_millis(20)).await;
                    progress.taken.fetch_add(1, Ordering::Relaxed);
                    progress.relayed.fetch_add(1, Ordering::Relaxed);
                }
            });
            let (cancel_tx, mut cancel) = Cancel::manual();
            if let Some(after) = cancel_after {
                tokio::spawn(async move {
                    sleep(after).await;
                    let _ = cancel_tx.send(Some(15));
                });
            }
            let start = Instant::now();
            let (relayed, left) = relay.finish(&mut cancel).await;
            writer.abort();
            drop(tx);
            assert!(relayed.is_none());
            (left, start.elapsed())
        })
    }

    #[test]
    fn bytes_that_keep_coming_after_the_group_is_gone_get_a_bounded_grace() {
        let (left, took) = drain_of_an_endless_relay(None);
        assert_eq!(left, Some(LeftBehind::Escaped));
        assert!(took >= DRAIN_GRACE, "{took:?}");
        assert!(took < DRAIN_GRACE * 3, "{took:?}");
    }

    #[test]
    fn a_cancellation_during_the_drain_ends_it_at_once() {
        let (left, took) = drain_of_an_endless_relay(Some(Duration::from_millis(100)));
        assert_eq!(left, Some(LeftBehind::Cancelled));
        assert!(took < DRAIN_GRACE, "{took:?}");
    }
}
