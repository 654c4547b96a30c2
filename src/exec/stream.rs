//! One output stream of an attempt: relayed byte for byte as it comes, and teed into observers
//! (the rule matcher) and a bounded tail for the report.
//!
//! In: the read end of the child's pipe and the writer it goes to. Out: the tail and a count.
//! This code is synchronous on purpose: each stream gets its own thread with blocking reads and
//! writes, so a slow reader downstream never stalls the timers and signals of the attempt loop.

use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::output::{Observer, Tail, write_fully};

/// What a relay thread hands back when its stream ends.
pub struct Relayed<O> {
    /// The last bytes of the stream.
    pub tail: Tail,
    /// The observer, handed back so its findings can be collected; `None` if it failed.
    pub observer: Option<O>,
    /// Why the observer was dropped (it panicked), if it was.
    pub observer_failure: Option<String>,
    /// The first error writing downstream, if any; reading went on regardless.
    pub write_error: Option<io::Error>,
}

/// One of the child's output pipes, as tokio hands it over. Each platform implements it for
/// tokio's `ChildStdout` and `ChildStderr`.
pub(crate) trait ChildPipe: tokio::io::AsyncRead + Unpin + Send + 'static {
    /// The pipe as a blocking file for a relay thread (tokio hands it back in blocking mode).
    ///
    /// # Errors
    /// When tokio cannot hand it back.
    fn into_file(self) -> io::Result<File>;

    /// A second handle on the pipe, to ask how many bytes wait in it.
    fn watch_handle(&self) -> Option<File>;
}

/// The observer of a relay, fenced off from it: a panic in [`Observer::observe`] drops the
/// observer and is remembered, and the relay goes on. Whatever watches the output must never
/// cost the command a byte of it, nor close its pipe early.
pub(crate) struct Watch<O> {
    observer: Option<O>,
    failure: Option<String>,
}

impl<O: Observer> Watch<O> {
    pub(crate) fn new(observer: O) -> Watch<O> {
        Watch {
            observer: Some(observer),
            failure: None,
        }
    }

    /// Shows `chunk` to the observer, unless it has failed before.
    pub(crate) fn observe(&mut self, chunk: &[u8]) {
        let Some(observer) = self.observer.as_mut() else {
            return;
        };
        if let Err(failure) = quiet_panics::catch(|| observer.observe(chunk)) {
            self.failure = Some(failure);
            // Its state is unknown after a panic: drop it (a panic while dropping it as well
            // is caught too).
            let observer = self.observer.take();
            let _ = quiet_panics::catch(move || drop(observer));
        }
    }

    /// What a relay hands back once its input ended.
    pub(crate) fn relayed(self, tail: Tail, write_error: Option<io::Error>) -> Relayed<O> {
        Relayed {
            tail,
            observer: self.observer,
            observer_failure: self.failure,
            write_error,
        }
    }
}

/// Panics of observers, caught and reported once as a warning instead of on stderr, where the
/// default panic hook would mix them into the command's own output.
mod quiet_panics {
    use std::cell::{Cell, RefCell};
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::Once;

    thread_local! {
        /// Whether this thread is inside [`catch`].
        static CATCHING: Cell<bool> = const { Cell::new(false) };
        /// Where the last caught panic happened and what it said.
        static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    /// Runs `f`; a panic in it comes back as `Err` with its message and location.
    pub(super) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
        install_hook();
        CATCHING.with(|c| c.set(true));
        let result = catch_unwind(AssertUnwindSafe(f));
        CATCHING.with(|c| c.set(false));
        result.map_err(|payload| {
            LAST.with(|last| last.borrow_mut().take())
                .unwrap_or_else(|| {
                    payload
                        .downcast_ref::<&str>()
                        .map(ToString::to_string)
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic".to_owned())
                })
        })
    }

    /// Wraps the panic hook, once per process: panics inside [`catch`] are recorded for it,
    /// every other panic goes to the hook as before.
    fn install_hook() {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if CATCHING.with(Cell::get) {
                    let location = info
                        .location()
                        .map(|l| format!(" at {}:{}", l.file(), l.line()))
                        .unwrap_or_default();
                    let message = info
                        .payload()
                        .downcast_ref::<&str>()
                        .map(ToString::to_string)
                        .or_else(|| info.payload().downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic".to_owned());
                    LAST.with(|last| *last.borrow_mut() = Some(format!("{message}{location}")));
                } else {
                    previous(info);
                }
            }));
        });
    }
}

/// How far a relay has got, shared with the attempt loop so it can tell a live stream from a
/// stuck one, and the bytes its command wrote from those that came later.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes taken out of the child's pipe.
    pub taken: AtomicU64,
    /// Bytes passed on and shown to the observer.
    pub relayed: AtomicU64,
}

impl Progress {
    pub(super) fn took(&self, n: usize) {
        self.taken.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The read size. Large enough that a fast producer costs few system calls, small enough to
/// keep the relay's memory flat.
const CHUNK: usize = 64 * 1024;

/// Copies `input` to `output` until end of file, teeing each chunk to `observer` and the tail.
///
/// Every chunk is written as soon as it is read, with no buffering, so output appears live.
/// A failing writer (a closed stdout) does not stop the relay: the child must never block on
/// a full pipe, so reading goes on and the bytes still reach the observers and the tail.
/// `progress` counts the bytes read and relayed.
///
/// # Errors
/// Only a failure to read `input` (other than an interrupted call) ends the relay early.
pub fn relay<O: Observer>(
    mut input: impl Read,
    mut output: impl Write,
    observer: O,
    tail_capacity: usize,
    progress: &Progress,
) -> io::Result<Relayed<O>> {
    let pump = |buf: &mut [u8], write_error: &mut Option<io::Error>| {
        let n = copy_chunk(&mut input, &mut output, buf, write_error)?;
        progress.took(n);
        Ok(n)
    };
    run_ring(pump, observer, tail_capacity, progress)
}

/// Reads the next chunk of `input` into `buf` and writes it to `output`, unless writing has
/// already failed. Returns how many bytes were read, 0 at end of file.
pub(super) fn copy_chunk(
    input: &mut impl Read,
    output: &mut impl Write,
    buf: &mut [u8],
    write_error: &mut Option<io::Error>,
) -> io::Result<usize> {
    let n = loop {
        match input.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            result => break result?,
        }
    };
    if n > 0
        && write_error.is_none()
        && let Err(e) = write_fully(output, &buf[..n])
    {
        *write_error = Some(e);
    }
    Ok(n)
}

/// The relay's loop around `pump`, which fills the start of the buffer it is given with the
/// next bytes of the stream, already passed on (or with the first error passing them on), and
/// returns how many, 0 at end of file.
pub(super) fn run_ring<O: Observer>(
    mut pump: impl FnMut(&mut [u8], &mut Option<io::Error>) -> io::Result<usize>,
    observer: O,
    tail_capacity: usize,
    progress: &Progress,
) -> io::Result<Relayed<O>> {
    // The read buffer is a ring, and the ring is the tail: every read lands in the next free
    // run of it, so the last bytes are kept without copying each one a second time (that copy
    // was most of the relay's own CPU time on a fast producer).
    let mut ring = vec![0u8; (2 * CHUNK).max(tail_capacity + CHUNK)];
    let mut pos = 0;
    let mut wrapped = false;
    let mut total = 0u64;
    let mut write_error = None;
    let mut watch = Watch::new(observer);
    loop {
        let end = (pos + CHUNK).min(ring.len());
        let n = pump(&mut ring[pos..end], &mut write_error)?;
        if n == 0 {
            break;
        }
        watch.observe(&ring[pos..pos + n]);
        total += n as u64;
        progress.relayed.fetch_add(n as u64, Ordering::Relaxed);
        pos += n;
        if pos == ring.len() {
            pos = 0;
            wrapped = true;
        }
    }
    let mut kept = Vec::with_capacity(tail_capacity.min(ring.len()));
    if wrapped {
        kept.extend_from_slice(&ring[pos..]);
    }
    kept.extend_from_slice(&ring[..pos]);
    let tail = Tail::from_end(tail_capacity, &kept, total);
    Ok(watch.relayed(tail, write_error))
}

/// [`relay`] as a task of the async runtime, for when no thread could be started for it (a
/// process limit reached): slower, and a blocked writer downstream holds up the runtime's other
/// work while it blocks, but the command keeps its pipe and every byte is still passed on.
///
/// # Errors
/// Only a failure to read `input` (other than an interrupted call) ends the relay early.
pub async fn relay_async<O: Observer>(
    mut input: impl tokio::io::AsyncRead + Unpin,
    mut output: impl Write,
    observer: O,
    tail_capacity: usize,
    progress: &Progress,
) -> io::Result<Relayed<O>> {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; CHUNK];
    let mut tail = Tail::with_capacity(tail_capacity);
    let mut watch = Watch::new(observer);
    let mut write_error = None;
    loop {
        let n = match input.read(&mut buf).await {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => result?,
        };
        if n == 0 {
            break;
        }
        progress.took(n);
        if write_error.is_none()
            && let Err(e) = write_fully(&mut output, &buf[..n])
        {
            write_error = Some(e);
        }
        watch.observe(&buf[..n]);
        tail.push(&buf[..n]);
        progress.relayed.fetch_add(n as u64, Ordering::Relaxed);
    }
    Ok(watch.relayed(tail, write_error))
}

#[cfg(test)]
#[path = "stream_tests.rs"]
pub(super) mod tests;
