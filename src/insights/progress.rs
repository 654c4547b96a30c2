//! A one-line progress indicator on stderr, shown only when stderr is a terminal (never in a CI
//! log, a pipe or a file, where repeated carriage returns are noise).
//!
//! In: runs read, runs listed, requests sent. Out: `\r`-rewritten line, cleared at the end.

use std::io::{IsTerminal, Write};

/// The progress line.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    drawn: bool,
}

impl Progress {
    /// A progress line on stderr, when stderr is a terminal and `GITHUB_ACTIONS` is not set.
    #[must_use]
    pub fn on_stderr() -> Progress {
        let enabled =
            std::io::stderr().is_terminal() && std::env::var_os("GITHUB_ACTIONS").is_none();
        Progress {
            enabled,
            drawn: false,
        }
    }

    /// Redraws the line.
    pub fn update(&mut self, done: usize, total: usize, requests: u32) {
        if !self.enabled {
            return;
        }
        let width = 30;
        let filled = (done * width).checked_div(total).unwrap_or(width);
        let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width - filled));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r[{bar}] {done}/{total} runs, {requests} requests");
        let _ = err.flush();
        self.drawn = true;
    }

    /// Clears the line.
    pub fn finish(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}
