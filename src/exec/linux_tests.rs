//! Unit tests of the pipe-to-pipe relay.

use super::*;
use crate::exec::stream::tests::{Collect, PanicsAfter};
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// A pipe as (read end, write end).
fn pipe() -> (std::fs::File, std::fs::File) {
    let (read, write) = nix::unistd::pipe().unwrap();
    (read.into(), write.into())
}

/// Relays `input` from a writer thread through [`relay_pipes`] into `output`, read back by
/// a reader thread; returns what came out and what the relay kept.
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
fn pipe_relay_keeps_reading_after_the_reader_goes() {
    let input = vec![b'x'; 2_000_000];
    let (read_back, downstream) = pipe();
    drop(read_back);
    let (_, relayed) = through_pipes(&input, (downstream, None));
    assert_eq!(relayed.tail.total(), 2_000_000);
    assert!(relayed.write_error.is_some());
}

#[test]
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
        failure.contains("stream_tests.rs"),
        "where it panicked: {failure}"
    );
    assert_eq!(relayed.tail.total(), input.len() as u64);
    assert_eq!(relayed.tail.to_vec(), &input[input.len() - 1000..]);
}
