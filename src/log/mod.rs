//! The log: a group per attempt, and one line per decision saying why and for how long.
//!
//! Under GitHub Actions (`GITHUB_ACTIONS=true`) lines go to stdout as the runner reads them,
//! with `::group::` folds and `::warning::` annotations. Elsewhere they are plain `recover: ...`
//! lines on stderr, so stdout stays the command's own.
//!
//! Every line recover writes starts at a line start, even after a command whose output ended
//! mid-line, and is written whole, waiting out a full non-blocking pipe as the relay does: a log
//! line is never glued to the command's last bytes, swallowed by them or dropped.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::exec::CancelSignal;
use crate::outcome::{AttemptKind, AttemptRecord};
use crate::output::{Stream, write_fully};
use crate::plan::{Plan, Program};
use crate::policy::GiveUp;
use crate::workflow::{command, one_line};

pub mod stop_commands;
pub mod words;

use words::{human, reason};

/// GitHub shows at most this many annotations of one kind per step.
pub const ANNOTATION_LIMIT: usize = 10;

/// The annotation kinds recover emits.
const KINDS: [&str; 3] = ["error", "warning", "notice"];

/// Where the wait before a retry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitSource {
    /// The backoff.
    Backoff,
    /// A hint in the attempt's output (`Retry-After` and the like).
    Output,
    /// The reset time of the GitHub API rate limit, from `GET /rate_limit`.
    RateLimitReset,
}

/// Where log lines go, and in which dialect.
pub struct Log {
    actions: bool,
    out: Box<dyn Write + Send>,
    /// Whether the stream the log writes to ended mid-line: the next line needs a newline first.
    mid_line: bool,
    /// The tokens of the `::stop-commands::` the command left in force (on stdout, stderr or
    /// both): the runner ignores workflow commands until it sees `::TOKEN::`, so the next line
    /// resumes them first.
    stopped: Vec<String>,
    /// Annotations emitted, per kind of [`KINDS`].
    emitted: [usize; 3],
    /// Annotations turned into plain lines past the limit, per kind.
    suppressed: [usize; 3],
}

impl Log {
    /// The log of a real run: stdout under GitHub Actions, stderr elsewhere.
    ///
    /// Lines are written unbuffered to a duplicate of the descriptor, as the relay writes the
    /// command's output, so that a full non-blocking pipe can be waited out line by line.
    #[must_use]
    pub fn new(actions: bool) -> Log {
        let out: Box<dyn Write + Send> = if actions {
            raw(&io::stdout()).unwrap_or_else(|| Box::new(io::stdout()))
        } else {
            raw(&io::stderr()).unwrap_or_else(|| Box::new(io::stderr()))
        };
        Log::with_sink(actions, out)
    }

    /// A log that writes to `out`.
    #[must_use]
    pub fn with_sink(actions: bool, out: Box<dyn Write + Send>) -> Log {
        Log {
            actions,
            out,
            mid_line: false,
            stopped: Vec::new(),
            emitted: [0; 3],
            suppressed: [0; 3],
        }
    }

    /// A log kept in memory, for tests.
    #[must_use]
    pub fn capture(actions: bool) -> (Log, Arc<Mutex<Vec<u8>>>) {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let log = Log::with_sink(actions, Box::new(Shared(Arc::clone(&buffer))));
        (log, buffer)
    }

    /// Whether lines use the runner's workflow commands.
    #[must_use]
    pub fn is_actions(&self) -> bool {
        self.actions
    }

    /// Which stream the log writes to: stdout under Actions, stderr elsewhere.
    #[must_use]
    pub fn stream(&self) -> Stream {
        if self.actions {
            Stream::Stdout
        } else {
            Stream::Stderr
        }
    }

    /// Tells the log how a command's relayed output on [`Log::stream`] ended: mid-line (its
    /// last byte is not a newline, or it is unknown), and with which `::stop-commands::` tokens
    /// in force. The next line starts with what puts the runner back to a line start that
    /// reads workflow commands.
    pub fn output_ended(&mut self, mid_line: bool, stopped: Vec<String>) {
        self.mid_line |= mid_line;
        if self.actions {
            self.stopped.extend(stopped);
        }
    }

    /// Writes one line as it is, in one write, after a newline when the command's output ended
    /// mid-line and after `::TOKEN::` when the command stopped workflow commands. A log that
    /// cannot be written is not worth failing the step.
    pub fn emit(&mut self, line: &str) {
        let mut text = String::with_capacity(line.len() + 2);
        if std::mem::take(&mut self.mid_line) {
            text.push('\n');
        }
        for token in std::mem::take(&mut self.stopped) {
            let _ = writeln!(text, "::{token}::");
        }
        text.push_str(line);
        text.push('\n');
        let _ = write_fully(&mut self.out, text.as_bytes());
    }

    /// A plain line of recover's.
    pub fn line(&mut self, text: &str) {
        let text = one_line(text);
        if self.actions {
            self.emit(&text);
        } else {
            self.emit(&format!("recover: {text}"));
        }
    }

    /// A warning: an annotation under Actions.
    pub fn warning(&mut self, text: &str) {
        self.annotate("warning", text, false);
    }

    /// An error: an annotation under Actions.
    pub fn error(&mut self, text: &str) {
        self.annotate("error", text, false);
    }

    /// An annotation of `kind` (`error`, `warning`, `notice`); a plain line outside Actions.
    ///
    /// GitHub shows only [`ANNOTATION_LIMIT`] annotations of a kind per step and drops the rest
    /// silently, so past `ANNOTATION_LIMIT - 2` the others become plain log lines, counted for
    /// one aggregated annotation at [`Log::finish`]. `essential` ones (the final verdict) always
    /// go out; the two reserved places are for them and the aggregate.
    pub fn annotate(&mut self, kind: &'static str, text: &str, essential: bool) {
        if !self.actions {
            self.emit(&format!("recover: {kind}: {}", one_line(text)));
            return;
        }
        let i = KINDS.iter().position(|k| *k == kind).unwrap_or(1);
        if essential || self.emitted[i] < ANNOTATION_LIMIT - 2 {
            self.emitted[i] += 1;
            self.emit(&command(kind, &[], text));
        } else {
            self.suppressed[i] += 1;
            self.emit(&format!("{kind}: {}", one_line(text)));
        }
    }

    /// Emits one aggregated annotation per kind for those turned into plain lines.
    pub fn finish(&mut self) {
        for (i, kind) in KINDS.iter().enumerate() {
            let n = std::mem::take(&mut self.suppressed[i]);
            if n > 0 {
                let text = format!(
                    "{n} more {kind} annotations are in the log: GitHub shows {ANNOTATION_LIMIT} per step"
                );
                self.emit(&command(kind, &[], &text));
            }
        }
    }

    /// The header of an attempt.
    pub fn attempt_started(&mut self, kind: AttemptKind, number: u32, max: u32, program: &Program) {
        if kind == AttemptKind::Fallback {
            let what = one_line(&program.describe());
            if self.actions {
                // Escaped as command data, which the runner unescapes: `%25` in the command
                // must reach the log as `%25`, or a secret holding it would escape masking.
                self.emit(&command("group", &[], &format!("Fallback: {what}")));
            } else {
                self.emit(&format!("recover: fallback: {what}"));
            }
        } else if self.actions {
            self.emit(&format!("::group::Attempt {number}"));
        } else {
            let what = one_line(&program.describe());
            self.emit(&format!("recover: attempt {number} of {max}: {what}"));
        }
    }

    /// The end of an attempt's fold.
    pub fn attempt_finished(&mut self) {
        if self.actions {
            self.emit("::endgroup::");
        }
    }

    /// A failed attempt that will be retried after `wait`, which came from `source`.
    pub fn retrying(
        &mut self,
        attempt: &AttemptRecord,
        plan: &Plan,
        wait: Duration,
        source: WaitSource,
    ) {
        let why = failure(attempt);
        let wait_text = match (wait.is_zero(), source) {
            (true, _) => "Retrying now.".to_owned(),
            (false, WaitSource::Output) => {
                format!("Retrying in {} (as the output asked).", human(wait))
            }
            (false, WaitSource::RateLimitReset) => format!(
                "Retrying in {} (when the GitHub API rate limit resets).",
                human(wait)
            ),
            (false, WaitSource::Backoff) => format!("Retrying in {}.", human(wait)),
        };
        self.line(&format!(
            "Attempt {} failed: {why}. {wait_text}",
            attempt.number
        ));
        if plan.warning_on_retry && self.actions {
            self.warning(&format!(
                "Attempt {} failed. Reason: {}",
                attempt.number,
                reason(attempt)
            ));
        }
    }

    /// The failed attempt after which recover stops.
    pub fn giving_up(&mut self, attempt: &AttemptRecord, plan: &Plan, why: &GiveUp) {
        let stop = match why {
            GiveUp::AttemptsExhausted => format!(
                "No attempts left (max_attempts is {}).",
                plan.policy.max_attempts
            ),
            GiveUp::NotRetryable => format!("Not retrying: retry_on is {}.", plan.policy.retry_on),
            GiveUp::ExitCodeNotListed(code) => {
                format!("Not retrying: exit code {code} is not in retry_on_exit_code.")
            }
            GiveUp::Deadline => {
                "Not retrying: the next attempt would not fit in total_timeout_seconds.".to_owned()
            }
            GiveUp::CircuitOpen => {
                let name = plan
                    .state
                    .as_ref()
                    .and_then(|s| s.circuit.as_ref())
                    .map_or("", |c| c.name.as_str());
                format!("Not retrying: circuit {name} is open.")
            }
            GiveUp::RetryBudgetSpent => "Not retrying: the retry budget is spent.".to_owned(),
            GiveUp::HintTooLong { .. } => format!("Not retrying: {}.", hint_too_long(why)),
        };
        self.line(&format!(
            "Attempt {} failed: {}. {stop}",
            attempt.number,
            failure(attempt)
        ));
    }

    /// The attempt that passed.
    pub fn succeeded(&mut self, number: u32) {
        if number > 1 {
            self.line(&format!("Attempt {number} succeeded."));
        }
    }

    /// recover was cancelled during the wait before attempt `next`.
    pub fn cancelled_waiting(&mut self, signal: CancelSignal, next: u32) {
        let name = crate::signals::name(signal);
        self.line(&format!(
            "Cancelled by {name} while waiting to start attempt {next}; no more attempts."
        ));
    }

    /// recover was cancelled during attempt `number`.
    pub fn cancelled(&mut self, signal: CancelSignal, number: u32) {
        let name = crate::signals::name(signal);
        self.line(&format!(
            "Cancelled by {name} during attempt {number}; no more attempts."
        ));
    }
}

/// How an attempt failed, with its category when there is one.
fn failure(attempt: &AttemptRecord) -> String {
    let mut text = if let (true, Some(total)) = (attempt.timed_out, attempt.deadline) {
        format!(
            "cut by the deadline (total_timeout_seconds, {}) after {}",
            human(total),
            human(attempt.timeout.unwrap_or_default())
        )
    } else if attempt.timed_out {
        format!(
            "timed out after {}",
            human(attempt.timeout.unwrap_or_default())
        )
    } else if let Some(signal) = attempt.signal {
        format!(
            "killed by {} (exit code {})",
            crate::signals::name(signal),
            attempt.exit_code
        )
    } else if attempt.exit_code < 0 {
        // A Windows NTSTATUS (0xC0000005 is -1073741819): the hexadecimal form is the one
        // documented and searched for.
        format!(
            "exit code {} ({:#010X})",
            attempt.exit_code,
            attempt.exit_code.cast_unsigned()
        )
    } else {
        format!("exit code {}", attempt.exit_code)
    };
    if let Some(c) = &attempt.classification {
        let _ = match &c.rule {
            Some(rule) => write!(text, " ({}, rule {rule})", c.category),
            None => write!(text, " ({})", c.category),
        };
    }
    text
}

/// An unbuffered writer on a duplicate of `stream`'s descriptor, if one can be made.
#[cfg(unix)]
fn raw(stream: &impl std::os::fd::AsFd) -> Option<Box<dyn Write + Send>> {
    let fd = stream.as_fd().try_clone_to_owned().ok()?;
    Some(Box::new(std::fs::File::from(fd)))
}

/// None on Windows: the standard streams there convert text for a console, which a raw handle
/// would not, and a Windows pipe is never non-blocking.
#[cfg(windows)]
fn raw<T>(_stream: &T) -> Option<Box<dyn Write + Send>> {
    None
}

struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("log buffer poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why a hinted wait ended the retries, for the log and `exit_error`: "the wait asked for (…) is
/// longer than …"; empty for other reasons.
#[must_use]
pub fn hint_too_long(why: &GiveUp) -> String {
    match why {
        GiveUp::HintTooLong {
            wait,
            limit,
            deadline: true,
        } => format!(
            "the wait asked for ({}) does not fit in the {} left before total_timeout_seconds",
            human(*wait),
            human(*limit)
        ),
        GiveUp::HintTooLong { wait, limit, .. } => format!(
            "the wait asked for ({}) is longer than max_hint_wait_seconds ({})",
            human(*wait),
            human(*limit)
        ),
        _ => String::new(),
    }
}
