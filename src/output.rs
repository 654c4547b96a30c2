//! The vocabulary of an attempt's output, shared by whoever produces, watches or reports it:
//! which stream a chunk came from, what watches chunks as they pass, and the bounded tail kept
//! for the report.
//!
//! In: chunks of bytes. Out: the last of them, and writes that survive a non-blocking output.
//! This module imports nothing else of recover's, so every layer may use it.

use std::collections::VecDeque;
use std::io::{self, Write};

/// Which stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The command's standard output.
    Stdout,
    /// The command's standard error.
    Stderr,
}

/// Something that watches an attempt's output as it passes, such as the rule matcher.
///
/// Chunks arrive in order but split anywhere, even inside a line or a UTF-8 sequence.
pub trait Observer: Send {
    /// Sees the next chunk of the stream.
    fn observe(&mut self, chunk: &[u8]);
}

/// No observer at all.
impl Observer for () {
    fn observe(&mut self, _chunk: &[u8]) {}
}

/// An observer that may be absent (no rules loaded, say).
impl<T: Observer> Observer for Option<T> {
    fn observe(&mut self, chunk: &[u8]) {
        if let Some(inner) = self {
            inner.observe(chunk);
        }
    }
}

/// The last bytes of a stream, kept for the report.
///
/// Bounded so that a command printing gigabytes costs recover no more memory than a short one.
#[derive(Debug, Clone, Default)]
pub struct Tail {
    bytes: VecDeque<u8>,
    capacity: usize,
    total: u64,
}

impl Tail {
    /// The tail size kept per stream.
    ///
    /// # Defaults
    /// 64 KiB: enough for the report's last 50 lines at GitHub's usual widths.
    pub const DEFAULT_CAPACITY: usize = 64 * 1024;

    /// A tail that keeps at most `capacity` bytes.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Tail {
        Tail {
            bytes: VecDeque::with_capacity(capacity.min(4096)),
            capacity,
            total: 0,
        }
    }

    /// The tail of a stream of `total` bytes in all that ended with `last`, for a producer that
    /// kept the last bytes itself (the relay's ring buffer) and counted the rest.
    #[must_use]
    pub fn from_end(capacity: usize, last: &[u8], total: u64) -> Tail {
        let mut tail = Tail::with_capacity(capacity);
        tail.push(&last[last.len().saturating_sub(capacity)..]);
        tail.total = total;
        tail
    }

    /// Appends a chunk, dropping the oldest bytes past the capacity.
    pub fn push(&mut self, chunk: &[u8]) {
        self.total += chunk.len() as u64;
        if chunk.len() >= self.capacity {
            self.bytes.clear();
            self.bytes.extend(&chunk[chunk.len() - self.capacity..]);
            return;
        }
        let overflow = (self.bytes.len() + chunk.len()).saturating_sub(self.capacity);
        self.bytes.drain(..overflow);
        self.bytes.extend(chunk);
    }

    /// The kept bytes, oldest first.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes.iter().copied().collect()
    }

    /// How many bytes passed in all, kept or not.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Whether bytes were dropped from the front.
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        self.total > self.bytes.len() as u64
    }
}

/// Writes all of `chunk`, waiting out a full non-blocking descriptor: recover's stdout may be
/// shared with a parent that set `O_NONBLOCK`, and `EAGAIN` there means "later", not "lost".
/// The log writes its own lines with it too.
///
/// # Errors
/// The first error writing `output`, other than an interrupted call or a full non-blocking
/// descriptor.
pub fn write_fully(output: &mut impl Write, mut chunk: &[u8]) -> io::Result<()> {
    while !chunk.is_empty() {
        match output.write(chunk) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => chunk = &chunk[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(e) => return Err(e),
        }
    }
    output.flush()
}

/// A writer that waits out a full non-blocking descriptor instead of failing with `EAGAIN`:
/// what [`write_fully`] does for one chunk, for code that writes through `Write` (the
/// subcommands' reports). Other errors (a closed pipe, a full disk) still return.
#[derive(Debug)]
pub struct Patient<W>(pub W);

impl<W: Write> Write for Patient<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.0.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        loop {
            match self.0.flush() {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                other => return other,
            }
        }
    }
}

/// Writes `text` whole to recover's stdout, waiting out a full non-blocking pipe.
///
/// # Errors
/// The first error other than a full pipe: a closed pipe, a full disk.
pub fn print(text: &str) -> io::Result<()> {
    write_fully(&mut Patient(io::stdout().lock()), text.as_bytes())
}

/// Writes one line to recover's stderr, waiting out a full non-blocking pipe. A line that
/// cannot be written is dropped: stderr is where recover would have said so.
pub fn eprint_line(line: &str) {
    let mut text = String::with_capacity(line.len() + 1);
    text.push_str(line);
    text.push('\n');
    let _ = write_fully(&mut Patient(io::stderr().lock()), text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_bytes() {
        let mut tail = Tail::with_capacity(4);
        tail.push(b"ab");
        tail.push(b"cde");
        assert_eq!(tail.to_vec(), b"bcde");
        tail.push(b"0123456789");
        assert_eq!(tail.to_vec(), b"6789");
        assert_eq!(tail.total(), 15);
        assert!(tail.is_truncated());
    }

    #[test]
    fn a_tail_from_its_end_keeps_the_count_and_the_last_bytes() {
        let tail = Tail::from_end(4, b"abcdef", 100);
        assert_eq!(tail.to_vec(), b"cdef");
        assert_eq!(tail.total(), 100);
        assert!(tail.is_truncated());
        let whole = Tail::from_end(8, b"ab", 2);
        assert_eq!(whole.to_vec(), b"ab");
        assert!(!whole.is_truncated());
    }
}
