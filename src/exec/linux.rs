//! What Linux adds to the Unix platform (unix.rs): a relay from pipe to pipe at about the cost
//! of the producer's own writes, wider pipes, and a group whose only members are zombies
//! counted as gone.
//!
//! In: the child's pipe and recover's own output, or a process group. Out: the relayed stream,
//! or whether the group still lives.

use std::fs::File;
use std::io::{self, Read};

use nix::unistd::Pid;

use super::stream::{Progress, Relayed, copy_chunk, run_ring};
use crate::output::{Observer, write_fully};

/// Relays the child's pipe `input` to recover's own `output`: the pipe is widened, then
/// relayed with [`relay_pipes`].
///
/// # Errors
/// Only a failure to read `input` (other than an interrupted call) ends the relay early.
#[expect(
    clippy::needless_pass_by_value,
    reason = "the platform's interface: both ends are the relay's, closed when it ends"
)]
pub fn relay<O: Observer>(
    input: File,
    output: File,
    observer: O,
    tail_capacity: usize,
    progress: &Progress,
) -> io::Result<Relayed<O>> {
    widen_pipe(&input);
    relay_pipes(&input, &output, observer, tail_capacity, progress)
}

/// The pipe capacity asked for on the attempt's output pipes: Linux's default limit for an
/// unprivileged process. A fast producer then fills 16 times fewer pipe buffers between two
/// wake-ups of the relay than with the default 64 KiB.
pub const PIPE_CAPACITY: i32 = 1024 * 1024;

/// Widens the pipe behind `read_end`, when the system allows it; a refusal (the user's pipe
/// memory quota is spent) only leaves the default size.
pub fn widen_pipe(read_end: &File) {
    use nix::fcntl::{FcntlArg, fcntl};
    if let Err(error) = fcntl(read_end, FcntlArg::F_SETPIPE_SZ(PIPE_CAPACITY)) {
        tracing::debug!(%error, "cannot widen the output pipe");
    }
}

/// [`super::stream::relay`] between two pipes, at about the cost of the producer's own writes.
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
pub fn relay_pipes<O: Observer>(
    input: &File,
    output: &File,
    observer: O,
    tail_capacity: usize,
    progress: &Progress,
) -> io::Result<Relayed<O>> {
    let Some(mut staging) = Staging::open(input) else {
        return super::stream::relay(input, output, observer, tail_capacity, progress);
    };
    let pump = |buf: &mut [u8], write_error: &mut Option<io::Error>| {
        staging.pump(input, output, buf, write_error, progress)
    };
    run_ring(pump, observer, tail_capacity, progress)
}

/// The staging pipe of [`relay_pipes`] and how many bytes wait in it.
struct Staging {
    read: File,
    write: File,
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

impl Staging {
    /// As much as one `splice` moves: the capacity asked for the pipes, so that a fast
    /// producer's full pipe is emptied in one call.
    const MOVE: usize = PIPE_CAPACITY as usize;

    /// A move of less than this finds a producer that prints now and then, not a fast one.
    const PAGE: usize = 4096;

    /// How long the relay lets a producer that writes in small pieces fill its pipe before the
    /// next move. Waking for every small write of a fast producer costs both sides more than
    /// moving the bytes (200 MB from `head`, 8 KiB per write, to `/dev/null`: about a third of
    /// the relay's CPU time); bytes already moved are passed on before the pause, so it delays
    /// output by at most this much.
    const PAUSE: std::time::Duration = std::time::Duration::from_micros(500);

    /// A staging pipe for relaying `input`, as wide as the system allows.
    fn open(input: &File) -> Option<Staging> {
        let (read, write) = nix::unistd::pipe()
            .inspect_err(|error| tracing::debug!(%error, "no staging pipe for the relay"))
            .ok()?;
        let read = File::from(read);
        widen_pipe(&read);
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
        input: &File,
        output: &File,
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
fn capacity(pipe: &File) -> usize {
    use nix::fcntl::{FcntlArg, fcntl};
    fcntl(pipe, FcntlArg::F_GETPIPE_SZ)
        .ok()
        .and_then(|size| usize::try_from(size).ok())
        .unwrap_or(64 * 1024)
}

/// Whether every process of group `pgid` is a zombie, judged from `/proc`.
pub fn only_zombies(pgid: Pid) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|f| f.parse::<i32>().ok());
        if pgrp == Some(pgid.as_raw()) && !matches!(state, Some("Z" | "X")) {
            return false;
        }
    }
    true
}

#[cfg(test)]
#[path = "linux_tests.rs"]
mod tests;
