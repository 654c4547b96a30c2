//! Which lines the matcher reads: text lines only. A line that holds a C0 control byte other
//! than tab, backspace, the line-ending controls and escape is binary data (an archive, an image,
//! random bytes sent to a terminal), not a message: rules never match one in a real log, and
//! binary lines make the lazy DFA build a new state for nearly every byte, which measured 95 s
//! for 16 MB of random output through a debug build before this filter.
//!
//! In: chunks of a stream, split anywhere. Out: the same chunks with the bytes of binary lines
//! left out and every line feed kept, so line numbers stay those of the stream. Text chunks pass
//! through without a copy.

/// Whether `byte` never occurs in a line of text: C0 controls except tab, backspace, line feed,
/// vertical tab, form feed, carriage return and escape (ANSI colours and progress bars use
/// those).
fn is_binary(byte: u8) -> bool {
    matches!(byte, 0x00..=0x07 | 0x0E..=0x1A | 0x1C..=0x1F)
}

/// Whether `bytes` hold a binary byte. A fold without an early exit, so that the compiler can
/// scan many bytes per instruction: this check runs on every chunk of text output.
fn holds_binary(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(false, |found, &byte| found | is_binary(byte))
}

/// The filter's state between chunks; see the module documentation.
#[derive(Debug, Default)]
pub struct TextLines {
    /// The current line, not yet ended, already held a binary byte.
    in_binary: bool,
    scratch: Vec<u8>,
}

impl TextLines {
    /// `chunk` without the bytes of its binary lines (their line feeds kept).
    pub fn filter<'a>(&'a mut self, chunk: &'a [u8]) -> &'a [u8] {
        if !self.in_binary && !holds_binary(chunk) {
            return chunk;
        }
        self.scratch.clear();
        for piece in chunk.split_inclusive(|&b| b == b'\n') {
            let (body, ends) = match piece.split_last() {
                Some((b'\n', body)) => (body, true),
                _ => (piece, false),
            };
            if self.in_binary || holds_binary(body) {
                self.in_binary = true;
            } else {
                self.scratch.extend_from_slice(body);
            }
            if ends {
                self.scratch.push(b'\n');
                self.in_binary = false;
            }
        }
        &self.scratch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(chunks: &[&[u8]]) -> Vec<u8> {
        let mut text = TextLines::default();
        chunks
            .iter()
            .flat_map(|c| text.filter(c).to_vec())
            .collect()
    }

    #[test]
    fn text_passes_unchanged_with_tabs_escapes_and_carriage_returns() {
        let log: &[u8] = b"\x1b[31merror:\x1b[0m\tfailed\r\n 10%\r 20%\x08\x0c\n";
        assert_eq!(through(&[log]), log);
    }

    #[test]
    fn a_binary_line_is_left_out_and_its_line_feed_kept() {
        assert_eq!(
            through(&[b"ok\nbin\x00ary\nConnection refused\n"]),
            b"ok\n\nConnection refused\n"
        );
    }

    #[test]
    fn a_line_split_across_chunks_stays_out_after_its_binary_byte() {
        // The part in earlier chunks was already passed on; the rest of the line is not, and
        // the next line is read again.
        assert_eq!(
            through(&[b"abc", b"d\x01ef", b"gh\nnext\n"]),
            b"abc\nnext\n"
        );
        assert_eq!(through(&[b"\x02", b"tail\n", b"x"]), b"\nx");
    }

    #[test]
    fn random_bytes_leave_little_but_line_feeds() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..1 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        let out = through(&[&noise]);
        // Only lines short enough to hold no control byte by chance are left: a few bytes each.
        let left = out.iter().filter(|&&b| b != b'\n').count();
        assert!(left < noise.len() / 100, "{left} bytes left");
        assert!(out.split(|&b| b == b'\n').all(|line| line.len() < 200));
        assert_eq!(
            memchr::memchr_iter(b'\n', &out).count(),
            memchr::memchr_iter(b'\n', &noise).count(),
            "every line feed is kept"
        );
    }
}
