//! Watches a command's standard output for `::stop-commands::TOKEN`, which makes the runner
//! ignore every workflow command until a line `::TOKEN::`. A command that stops commands and
//! never resumes them would silence recover's own `::error::`, `::group::` and outputs notice,
//! so recover resumes them (with the same token) before its first line after the attempt.
//!
//! In: the stream's chunks, split anywhere. Out: the token in force at the end, if any. Only
//! the first bytes of each line are looked at: a line that does not start with `::` (after
//! white space, as the runner trims it) is skipped at once, so the watch costs little more than
//! finding the newlines.

use crate::output::Observer;

/// The longest command line looked at; a longer one is not a command recover needs to follow.
const MAX_LINE: usize = 4096;

/// Names of the runner's own commands: the runner refuses them as tokens, so they never stop
/// anything.
const COMMANDS: [&str; 15] = [
    "add-mask",
    "add-matcher",
    "add-path",
    "debug",
    "echo",
    "endgroup",
    "error",
    "group",
    "notice",
    "remove-matcher",
    "save-state",
    "set-env",
    "set-output",
    "stop-commands",
    "warning",
];

/// What is known of the line being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// Only white space so far: it may still be a command.
    Undecided,
    /// It starts with `::`: kept until its end.
    Command,
    /// Not a command (or too long to be one): ignored until the newline.
    Skip,
}

/// The `::stop-commands::` state of one stream.
#[derive(Debug, Clone)]
pub struct StopCommands {
    line: Line,
    buf: Vec<u8>,
    token: Option<String>,
}

impl Default for StopCommands {
    fn default() -> Self {
        StopCommands {
            line: Line::Undecided,
            buf: Vec::new(),
            token: None,
        }
    }
}

impl StopCommands {
    /// The token of a `::stop-commands::` still in force when the stream ended. An unterminated
    /// last line counts: recover's next line starts with a newline, which ends it.
    #[must_use]
    pub fn token(&self) -> Option<String> {
        if self.line == Line::Command {
            let mut ended = self.clone();
            ended.end_line();
            return ended.token;
        }
        self.token.clone()
    }

    fn take(&mut self, segment: &[u8]) {
        match self.line {
            Line::Skip => {}
            Line::Undecided | Line::Command => {
                let room = (MAX_LINE + 1).saturating_sub(self.buf.len());
                self.buf
                    .extend_from_slice(&segment[..segment.len().min(room)]);
                if self.buf.len() > MAX_LINE {
                    self.line = Line::Skip;
                    self.buf.clear();
                    return;
                }
                if self.line == Line::Undecided {
                    let start = self.buf.trim_ascii_start();
                    if start.len() >= 2 {
                        if start.starts_with(b"::") {
                            self.line = Line::Command;
                        } else {
                            self.line = Line::Skip;
                            self.buf.clear();
                        }
                    }
                }
            }
        }
    }

    fn end_line(&mut self) {
        if self.line == Line::Command {
            let line = String::from_utf8_lossy(self.buf.trim_ascii()).into_owned();
            self.command(&line);
        }
        self.line = Line::Undecided;
        self.buf.clear();
    }

    /// Follows one workflow command line, as the runner reads it.
    fn command(&mut self, line: &str) {
        let Some(rest) = line.strip_prefix("::") else {
            return;
        };
        let Some((head, data)) = rest.split_once("::") else {
            return;
        };
        let name = head.split(' ').next().unwrap_or_default();
        match &self.token {
            Some(token) if name == token => self.token = None,
            None if name == "stop-commands" => {
                let token = unescape(data);
                if !token.is_empty() && !COMMANDS.contains(&token.as_str()) {
                    self.token = Some(token);
                }
            }
            // Stopped, every other command is ignored; running, recover follows no other.
            _ => {}
        }
    }
}

impl Observer for StopCommands {
    fn observe(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while let Some(at) = memchr::memchr(b'\n', rest) {
            self.take(&rest[..at]);
            self.end_line();
            rest = &rest[at + 1..];
        }
        self.take(rest);
    }
}

/// The runner's unescaping of a command's data.
fn unescape(data: &str) -> String {
    data.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(chunks: &[&[u8]]) -> Option<String> {
        let mut watch = StopCommands::default();
        for chunk in chunks {
            watch.observe(chunk);
        }
        watch.token()
    }

    #[test]
    fn follows_stop_and_resume_across_chunks() {
        let cases: [(&[&[u8]], Option<&str>); 9] = [
            (&[b"plain\n"], None),
            (&[b"::stop-commands::abc\n"], Some("abc")),
            (&[b"::stop-comm", b"ands::ab", b"c\nmore\n"], Some("abc")),
            (&[b"  ::stop-commands::abc\r\n"], Some("abc")),
            (&[b"::stop-commands::abc\n::abc::\n"], None),
            (
                &[b"::stop-commands::abc\n::other::\n::error::x\n"],
                Some("abc"),
            ),
            (&[b"::stop-commands::abc"], Some("abc")),
            (&[b"echo ::stop-commands::abc\n"], None),
            (&[b"::stop-commands::warning\n"], None),
        ];
        for (chunks, want) in cases {
            assert_eq!(watch(chunks).as_deref(), want, "{chunks:?}");
        }
    }

    #[test]
    fn a_huge_line_is_skipped_not_kept() {
        let mut watch = StopCommands::default();
        let mut line = b"::stop-commands::".to_vec();
        line.extend(std::iter::repeat_n(b'x', 100_000));
        watch.observe(&line);
        assert!(watch.buf.len() <= MAX_LINE + 1);
        watch.observe(b"\n::stop-commands::t\n");
        assert_eq!(watch.token().as_deref(), Some("t"));
    }
}
