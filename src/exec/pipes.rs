//! The command's two output pipes during an attempt: a relay each, on a thread of its own (or,
//! when no thread can be had, on the runtime), and how long to wait for them once the
//! attempt's group is gone.
//!
//! In: a pipe from tokio, the stream it is and its observer. Out: the relay's result, or why
//! it was left behind.

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::{Instant, sleep};

use super::stream::{self, ChildPipe, Progress, Relayed};
use super::{Cancel, LeftBehind, STOP_POLL, platform};
use crate::output::{Observer, Stream, Tail};

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

/// A relay in progress, on a thread of its own or, failing that, on the runtime.
pub(super) struct RunningRelay<O> {
    done: Option<oneshot::Receiver<io::Result<Relayed<O>>>>,
    progress: Arc<Progress>,
    /// The child's pipe, to ask how many bytes wait in it.
    pipe: Option<File>,
    /// Why the relay runs on the runtime instead of a thread, if it does.
    pub(super) fallback: Option<String>,
}

/// Starts relaying one of the child's pipes.
///
/// The thread is started before it is handed the pipe: if it cannot be started (`EAGAIN` under
/// a process limit, which threads count against), the pipe is still here, and is relayed by a
/// task of the runtime instead. Dropping it would kill the command with `SIGPIPE` on its next
/// write.
pub(super) fn start_relay<O: Observer + 'static>(
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
    pub(super) async fn finish(
        mut self,
        cancel: &mut Cancel,
    ) -> (Option<Relayed<O>>, Option<LeftBehind>) {
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
        taken + self.pipe.as_ref().map_or(0, platform::waiting)
    }
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
    platform::relay(input, output, observer, capacity, progress)
}

/// A handle of recover's own stdout or stderr, unbuffered: each chunk must appear as soon as it
/// is read.
fn downstream(stream: Stream) -> Option<File> {
    let cloned = match stream {
        Stream::Stdout => platform::clone_handle(&io::stdout()),
        Stream::Stderr => platform::clone_handle(&io::stderr()),
    };
    cloned.ok()
}

#[cfg(test)]
#[path = "pipes_tests.rs"]
mod tests;
