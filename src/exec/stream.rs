//! One output stream of an attempt: relayed byte for byte as it comes, and teed into observers
//! (the rule matcher) and a bounded tail for the report.
//!
//! In: the read end of the child's pipe and the writer it goes to. Out: the tail and a count.
//! This code is synchronous on purpose: each stream gets its own thread with blocking reads and
//! writes, so a slow reader downstream never stalls the timers and signals of the attempt loop.

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

    pub(crate) fn into_parts(self) -> (Option<O>, Option<String>) {
        (self.observer, self.failure)
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
    fn took(&self, n: usize) {
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

/// [`relay`] between two pipes (Linux), at about the cost of the producer's own writes.
///
/// The bytes are first moved, with `splice(2)`, from the child's pipe into a staging pipe of
/// recover's own: that moves page references, not bytes, and holds the child's pipe only for a
/// moment. Contention on that pipe's lock with the producer, which a relay reading straight from
/// it meets on every chunk, was most of the relay's cost on a fast producer. From the staging
/// pipe each chunk is passed on with `tee(2)` (references to the same pages again) and then read
/// once, for the observers and the tail. When `tee` cannot be used (the output is a file or a
/// terminal, or is non-blocking and full) the chunk is written from what was read instead;
/// without a staging pipe (no descriptors left) or `splice` (a sandbox that lacks it) the relay
/// reads and writes the child's pipe directly. Nothing is lost either way.
///
/// # Errors
/// Only a failure to read `input` (other than an interrupted call) ends the relay early.
#[cfg(target_os = "linux")]
pub fn relay_pipes<O: Observer>(
    input: &std::fs::File,
    output: &std::fs::File,
    observer: O,
    tail_capacity: usize,
    progress: &Progress,
) -> io::Result<Relayed<O>> {
    let Some(mut staging) = Staging::open(input) else {
        return relay(input, output, observer, tail_capacity, progress);
    };
    let pump = |buf: &mut [u8], write_error: &mut Option<io::Error>| {
        staging.pump(input, output, buf, write_error, progress)
    };
    run_ring(pump, observer, tail_capacity, progress)
}

/// The staging pipe of [`relay_pipes`] and how many bytes wait in it.
#[cfg(target_os = "linux")]
struct Staging {
    read: std::fs::File,
    write: std::fs::File,
    /// The most one move can bring: the smaller of the two pipes' capacities.
    full: usize,
    /// Bytes moved in from the child's pipe and not yet read.
    pending: usize,
    /// Whether passing chunks on with `tee` still works for this output.
    teeing: bool,
    /// Whether `splice` failed, so the relay reads and writes the child's pipe directly.
    direct: bool,
    /// Whether the last move found a page or more but less than a full pipe: the producer is
    /// writing fast, in pieces, and the next move waits [`Staging::PAUSE`] for more. Less than
    /// a page is a command printing a line now and then, which is not kept waiting.
    last_move_short: bool,
}

#[cfg(target_os = "linux")]
impl Staging {
    /// As much as one `splice` moves: the capacity asked for the pipes, so that a fast
    /// producer's full pipe is emptied in one call.
    const MOVE: usize = super::unix::PIPE_CAPACITY as usize;

    /// A move of less than this finds a producer that prints now and then, not a fast one.
    const PAGE: usize = 4096;

    /// How long the relay lets a producer that writes in small pieces fill its pipe before the
    /// next move. Waking for every small write of a fast producer costs both sides more than
    /// moving the bytes (200 MB from `head`, 8 KiB per write, to `/dev/null`: about a third of
    /// the relay's CPU time); bytes already moved are passed on before the pause, so it delays
    /// output by at most this much.
    const PAUSE: std::time::Duration = std::time::Duration::from_micros(500);

    /// A staging pipe for relaying `input`, as wide as the system allows.
    fn open(input: &std::fs::File) -> Option<Staging> {
        let (read, write) = nix::unistd::pipe()
            .inspect_err(|error| tracing::debug!(%error, "no staging pipe for the relay"))
            .ok()?;
        let read = std::fs::File::from(read);
        super::unix::widen_pipe(&read);
        let full = capacity(input).min(capacity(&read)).min(Self::MOVE);
        Some(Staging {
            read,
            write: write.into(),
            full,
            pending: 0,
            teeing: true,
            direct: false,
            last_move_short: false,
        })
    }

    /// Fills the start of `buf` with the next bytes of `input`, already passed on to `output`
    /// (or with the first error passing them on in `write_error`); returns how many, 0 at end
    /// of file.
    fn pump(
        &mut self,
        input: &std::fs::File,
        output: &std::fs::File,
        buf: &mut [u8],
        write_error: &mut Option<io::Error>,
        progress: &Progress,
    ) -> io::Result<usize> {
        use nix::errno::Errno;
        use nix::fcntl::{SpliceFFlags, splice, tee};

        if self.direct {
            let n = copy_chunk(&mut { input }, &mut { output }, buf, write_error)?;
            progress.took(n);
            return Ok(n);
        }
        if self.pending == 0 && std::mem::take(&mut self.last_move_short) {
            std::thread::sleep(Self::PAUSE);
        }
        while self.pending == 0 {
            // The staging pipe is empty, so this moves whatever the child's pipe holds (up to
            // a full pipe) without blocking on the staging side.
            match splice(
                input,
                None,
                &self.write,
                None,
                Self::MOVE,
                SpliceFFlags::empty(),
            ) {
                Ok(0) => return Ok(0),
                Ok(moved) => {
                    progress.took(moved);
                    self.pending = moved;
                    self.last_move_short = (Self::PAGE..self.full).contains(&moved);
                }
                Err(Errno::EINTR) => {}
                // A kernel or sandbox that cannot splice between these pipes: the staging pipe
                // is empty, so reading and writing the child's pipe directly loses nothing.
                Err(Errno::EINVAL | Errno::ENOSYS) => {
                    self.direct = true;
                    let n = copy_chunk(&mut { input }, &mut { output }, buf, write_error)?;
                    progress.took(n);
                    return Ok(n);
                }
                Err(error) => return Err(error.into()),
            }
        }
        let mut want = self.pending.min(buf.len());
        while self.teeing && write_error.is_none() {
            match tee(&self.read, output, want, SpliceFFlags::empty()) {
                Ok(teed) if teed > 0 => {
                    want = teed;
                    break;
                }
                Err(Errno::EINTR) => {}
                // Not a pipe, or a non-blocking output that is full: plain writing knows how
                // to wait for that.
                Ok(_) | Err(Errno::EINVAL | Errno::EAGAIN | Errno::ENOSYS) => self.teeing = false,
                Err(error) => *write_error = Some(error.into()),
            }
        }
        let passed_on = self.teeing && write_error.is_none();
        (&self.read).read_exact(&mut buf[..want])?;
        self.pending -= want;
        if !passed_on
            && write_error.is_none()
            && let Err(error) = write_fully(&mut { output }, &buf[..want])
        {
            *write_error = Some(error);
        }
        Ok(want)
    }
}

/// The capacity of the pipe behind `pipe` in bytes; the default 64 KiB if it cannot be told.
#[cfg(target_os = "linux")]
fn capacity(pipe: &std::fs::File) -> usize {
    use nix::fcntl::{FcntlArg, fcntl};
    fcntl(pipe, FcntlArg::F_GETPIPE_SZ)
        .ok()
        .and_then(|size| usize::try_from(size).ok())
        .unwrap_or(64 * 1024)
}

/// Reads the next chunk of `input` into `buf` and writes it to `output`, unless writing has
/// already failed. Returns how many bytes were read, 0 at end of file.
fn copy_chunk(
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
fn run_ring<O: Observer>(
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
    let (observer, observer_failure) = watch.into_parts();
    Ok(Relayed {
        tail,
        observer,
        observer_failure,
        write_error,
    })
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
    let (observer, observer_failure) = watch.into_parts();
    Ok(Relayed {
        tail,
        observer,
        observer_failure,
        write_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    struct Collect(Arc<Mutex<Vec<u8>>>);
    impl Observer for Collect {
        fn observe(&mut self, chunk: &[u8]) {
            self.0.lock().unwrap().extend_from_slice(chunk);
        }
    }

    #[test]
    fn relay_copies_bytes_unchanged_to_the_writer_and_observers() {
        let input: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut out = Vec::new();
        let progress = Progress::default();
        let relayed = relay(
            &input[..],
            &mut out,
            Collect(Arc::clone(&seen)),
            10,
            &progress,
        )
        .unwrap();
        assert_eq!(out, input);
        assert_eq!(*seen.lock().unwrap(), input);
        assert_eq!(relayed.tail.to_vec(), &input[input.len() - 10..]);
        assert_eq!(progress.relayed.load(Ordering::Relaxed), 300_000);
        assert_eq!(progress.taken.load(Ordering::Relaxed), 300_000);
    }

    /// Hands out at most `step` bytes per read, so reads end anywhere in the ring.
    struct Dribble<'a> {
        data: &'a [u8],
        step: usize,
    }
    impl Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn the_tail_is_right_whatever_the_read_sizes() {
        let input: Vec<u8> = (0..=250u8).cycle().take(1_000_003).collect();
        for (step, capacity) in [(1000, 70_000), (4093, 10), (65_536, 65_536), (7, 200_000)] {
            let progress = Progress::default();
            let mut out = Vec::new();
            let reader = Dribble { data: &input, step };
            let relayed = relay(reader, &mut out, (), capacity, &progress).unwrap();
            assert_eq!(out, input);
            let want = &input[input.len() - capacity.min(input.len())..];
            assert_eq!(
                relayed.tail.to_vec(),
                want,
                "step {step}, capacity {capacity}"
            );
            assert_eq!(relayed.tail.total(), input.len() as u64);
        }
    }

    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Accepts a few bytes at a time and says "would block" every other call.
    struct Slow {
        written: Vec<u8>,
        block: bool,
    }
    impl Write for Slow {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.block = !self.block;
            if self.block {
                return Err(io::Error::from(io::ErrorKind::WouldBlock));
            }
            let n = buf.len().min(7);
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_non_blocking_writer_loses_nothing() {
        let input: Vec<u8> = (0..=255u8).cycle().take(5_000).collect();
        let mut slow = Slow {
            written: Vec::new(),
            block: false,
        };
        let progress = Progress::default();
        let relayed = relay(&input[..], &mut slow, (), 8, &progress).unwrap();
        assert!(relayed.write_error.is_none());
        assert_eq!(slow.written, input);
    }

    /// A pipe as (read end, write end).
    #[cfg(target_os = "linux")]
    fn pipe() -> (std::fs::File, std::fs::File) {
        let (read, write) = nix::unistd::pipe().unwrap();
        (read.into(), write.into())
    }

    /// Relays `input` from a writer thread through [`relay_pipes`] into `output`, read back by
    /// a reader thread; returns what came out and what the relay kept.
    #[cfg(target_os = "linux")]
    fn through_pipes(
        input: &[u8],
        output: (std::fs::File, Option<std::fs::File>),
    ) -> (Vec<u8>, Relayed<Collect>) {
        let data = input.to_vec();
        let (downstream, read_back) = output;
        let (out, seen, relayed, _) = relay_between(
            move |mut child| child.write_all(&data).unwrap(),
            downstream,
            move || {
                let mut out = Vec::new();
                if let Some(mut read_back) = read_back {
                    read_back.read_to_end(&mut out).unwrap();
                }
                out
            },
        );
        assert_eq!(seen, input, "the observer saw every byte");
        (out, relayed)
    }

    /// Runs [`relay_pipes`] from a pipe that `write` fills on a thread of its own into
    /// `downstream`, which `read` drains on another; returns what `read` got, what the observer
    /// saw, what the relay kept and the progress count.
    #[cfg(target_os = "linux")]
    fn relay_between(
        write: impl FnOnce(std::fs::File) + Send + 'static,
        downstream: std::fs::File,
        read: impl FnOnce() -> Vec<u8> + Send + 'static,
    ) -> (Vec<u8>, Vec<u8>, Relayed<Collect>, u64) {
        let (from_child, child) = pipe();
        let writer = std::thread::spawn(move || write(child));
        let reader = std::thread::spawn(read);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let progress = Progress::default();
        let relayed = relay_pipes(
            &from_child,
            &downstream,
            Collect(Arc::clone(&seen)),
            1000,
            &progress,
        )
        .unwrap();
        drop(downstream);
        writer.join().unwrap();
        let seen = std::mem::take(&mut *seen.lock().unwrap());
        (
            reader.join().unwrap(),
            seen,
            relayed,
            progress.relayed.load(Ordering::Relaxed),
        )
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn pipe_to_pipe_relay_is_byte_exact() {
        let input: Vec<u8> = (0..=255u8).cycle().take(3_000_017).collect();
        let (read_back, downstream) = pipe();
        let (out, relayed) = through_pipes(&input, (downstream, Some(read_back)));
        assert_eq!(out.len(), input.len());
        assert!(out == input, "the bytes came out changed");
        assert_eq!(relayed.tail.to_vec(), &input[input.len() - 1000..]);
        assert!(relayed.write_error.is_none());
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn small_writes_and_a_narrow_slow_reader_lose_nothing() {
        // Many small writes make many pipe buffers, and a one-page downstream pipe read in odd
        // sizes makes `tee` pass on less than was asked: each chunk must then be read exactly
        // as far as it was passed on.
        use nix::fcntl::{FcntlArg, fcntl};
        let input: Vec<u8> = (0..=255u8).cycle().take(1_500_007).collect();
        let pieces = input.clone();
        let write = move |mut child: std::fs::File| {
            let mut rest = &pieces[..];
            for size in (1..=5_000).cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, after) = rest.split_at(size.min(rest.len()));
                child.write_all(piece).unwrap();
                rest = after;
            }
        };
        let (mut read_back, downstream) = pipe();
        fcntl(&read_back, FcntlArg::F_SETPIPE_SZ(4096)).unwrap();
        let read = move || {
            let mut out = Vec::new();
            let mut buf = [0u8; 999];
            loop {
                match read_back.read(&mut buf).unwrap() {
                    0 => break out,
                    n => out.extend_from_slice(&buf[..n]),
                }
                if out.len() % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
            }
        };
        let (out, seen, relayed, progress) = relay_between(write, downstream, read);
        assert!(out == input, "the bytes came out changed");
        assert!(seen == input, "the observer missed bytes");
        assert_eq!(relayed.tail.to_vec(), &input[input.len() - 1000..]);
        assert_eq!(progress, input.len() as u64);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn without_splice_the_relay_copies_directly() {
        // `splice` refuses a file opened for appending: as a staging pipe, it stands for a
        // kernel or sandbox that cannot splice between pipes.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("staging");
        let write = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        let mut staging = Staging {
            read: std::fs::File::open(&path).unwrap(),
            write,
            full: 64 * 1024,
            pending: 0,
            teeing: true,
            direct: false,
            last_move_short: false,
        };
        let input: Vec<u8> = (0..=255u8).cycle().take(700_001).collect();
        let (from_child, mut child) = pipe();
        let data = input.clone();
        let writer = std::thread::spawn(move || child.write_all(&data).unwrap());
        let (mut read_back, downstream) = pipe();
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            read_back.read_to_end(&mut out).unwrap();
            out
        });
        let seen = Arc::new(Mutex::new(Vec::new()));
        let progress = Progress::default();
        let pump = |buf: &mut [u8], write_error: &mut Option<io::Error>| {
            staging.pump(&from_child, &downstream, buf, write_error, &progress)
        };
        let relayed = run_ring(pump, Collect(Arc::clone(&seen)), 1000, &progress).unwrap();
        assert!(staging.direct, "splice into the appending file worked");
        drop(downstream);
        writer.join().unwrap();
        assert!(
            reader.join().unwrap() == input,
            "the bytes came out changed"
        );
        assert!(*seen.lock().unwrap() == input, "the observer missed bytes");
        assert_eq!(relayed.tail.total(), input.len() as u64);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn pipe_relay_to_a_file_falls_back_to_copying() {
        let input: Vec<u8> = (0..=255u8).cycle().take(700_001).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let file = std::fs::File::create(&path).unwrap();
        let (_, relayed) = through_pipes(&input, (file, None));
        assert!(std::fs::read(&path).unwrap() == input);
        assert_eq!(relayed.tail.total(), input.len() as u64);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn pipe_relay_keeps_reading_after_the_reader_goes() {
        let input = vec![b'x'; 2_000_000];
        let (read_back, downstream) = pipe();
        drop(read_back);
        let (_, relayed) = through_pipes(&input, (downstream, None));
        assert_eq!(relayed.tail.total(), 2_000_000);
        assert!(relayed.write_error.is_some());
    }

    /// Panics once it has seen `after` bytes.
    struct PanicsAfter {
        seen: usize,
        after: usize,
    }
    impl Observer for PanicsAfter {
        fn observe(&mut self, chunk: &[u8]) {
            self.seen += chunk.len();
            assert!(
                self.seen < self.after,
                "observer gave up after {} bytes",
                self.seen
            );
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn an_observer_that_panics_mid_stream_is_dropped_and_every_byte_still_passes() {
        let input: Vec<u8> = (0..=255u8).cycle().take(5_000_011).collect();
        let data = input.clone();
        let (from_child, mut child) = pipe();
        // The writer must be able to write everything: the relay keeps the pipe open and
        // reading after its observer is gone.
        let writer = std::thread::spawn(move || child.write_all(&data));
        let (mut read_back, downstream) = pipe();
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            read_back.read_to_end(&mut out).unwrap();
            out
        });
        let progress = Progress::default();
        let observer = PanicsAfter {
            seen: 0,
            after: 1_000_000,
        };
        let relayed = relay_pipes(&from_child, &downstream, observer, 1000, &progress).unwrap();
        drop(downstream);
        writer
            .join()
            .unwrap()
            .expect("the child's pipe stayed open");
        assert!(
            reader.join().unwrap() == input,
            "the bytes came out changed"
        );
        assert!(
            relayed.observer.is_none(),
            "the failed observer was handed back"
        );
        let failure = relayed.observer_failure.expect("the failure is reported");
        assert!(failure.contains("observer gave up after"), "{failure}");
        assert!(
            failure.contains("stream.rs"),
            "where it panicked: {failure}"
        );
        assert_eq!(relayed.tail.total(), input.len() as u64);
        assert_eq!(relayed.tail.to_vec(), &input[input.len() - 1000..]);
    }

    #[test]
    fn a_panicking_observer_is_dropped_by_the_plain_relay_too() {
        let input = vec![b'y'; 300_000];
        let progress = Progress::default();
        let mut out = Vec::new();
        let observer = PanicsAfter { seen: 0, after: 1 };
        let relayed = relay(&input[..], &mut out, observer, 8, &progress).unwrap();
        assert_eq!(out, input);
        assert!(relayed.observer.is_none());
        assert!(relayed.observer_failure.is_some());
        // A panic outside an observer still reaches the usual hook and unwinds as ever.
        assert!(std::panic::catch_unwind(|| panic!("elsewhere")).is_err());
    }

    #[test]
    fn the_relay_without_a_thread_passes_every_byte_and_fences_its_observer() {
        let input: Vec<u8> = (0..=255u8).cycle().take(700_003).collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let progress = Progress::default();
        let mut out = Vec::new();
        let observer = PanicsAfter {
            seen: 0,
            after: 100_000,
        };
        let relayed = runtime
            .block_on(relay_async(&input[..], &mut out, observer, 1000, &progress))
            .unwrap();
        assert!(out == input, "the bytes came out changed");
        assert!(relayed.observer.is_none());
        assert!(relayed.observer_failure.is_some());
        assert_eq!(relayed.tail.to_vec(), &input[input.len() - 1000..]);
        assert_eq!(progress.relayed.load(Ordering::Relaxed), input.len() as u64);
        assert_eq!(progress.taken.load(Ordering::Relaxed), input.len() as u64);
    }

    #[test]
    fn a_broken_writer_does_not_stop_reading() {
        let input = vec![b'x'; 200_000];
        let progress = Progress::default();
        let relayed = relay(&input[..], Broken, (), 8, &progress).unwrap();
        assert_eq!(relayed.tail.total(), 200_000);
        assert!(relayed.write_error.is_some());
    }
}
