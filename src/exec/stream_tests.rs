//! Unit tests of the plain relay and the relay on the runtime.

use super::*;
use std::sync::{Arc, Mutex};

pub(crate) struct Collect(pub(crate) Arc<Mutex<Vec<u8>>>);
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

/// Panics once it has seen `after` bytes.
pub(crate) struct PanicsAfter {
    pub(crate) seen: usize,
    pub(crate) after: usize,
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
