//! Where recover's own `tracing` events go: nowhere by default, `::debug::` lines when the
//! runner's debug logging is on, plain lines on stderr with `RECOVER_LOG` locally.
//!
//! In: `RUNNER_DEBUG` (the runner sets it to `1` when a workflow runs with debug logging, as
//! the secret or variable `ACTIONS_STEP_DEBUG` asks) and `RECOVER_LOG` (a filter in the syntax
//! of `tracing_subscriber::EnvFilter`, e.g. `debug` or `recover::exec=trace`). Out: a global
//! subscriber, or none.
//!
//! Events go to stderr, never stdout: recover's stdout carries the command's output and the
//! log, and the runner reads workflow commands from both streams.

use std::fmt::Write as _;

use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use crate::workflow::escape_data;

/// The filter used when debug logging is on and `RECOVER_LOG` does not say otherwise: every
/// event of recover at `debug` and above, nothing of the crates it uses.
pub const DEFAULT_FILTER: &str = "recover=debug";

/// Where events go, from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// No subscriber: events cost next to nothing.
    Off,
    /// `::debug::` lines, which the runner shows only with debug logging on.
    DebugCommands(String),
    /// Plain lines with level and target, for a terminal.
    Plain(String),
}

impl Sink {
    /// Chooses from `RUNNER_DEBUG`, `GITHUB_ACTIONS` and `RECOVER_LOG` (`var` looks them up).
    #[must_use]
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Sink {
        let filter = var("RECOVER_LOG").filter(|f| !f.trim().is_empty());
        let debug = var("RUNNER_DEBUG").is_some_and(|v| v.trim() == "1");
        let actions = var("GITHUB_ACTIONS").is_some_and(|v| v == "true");
        match (filter, debug, actions) {
            (filter, true, true) => {
                Sink::DebugCommands(filter.unwrap_or_else(|| DEFAULT_FILTER.to_owned()))
            }
            (Some(filter), _, true) => Sink::DebugCommands(filter),
            (Some(filter), _, false) => Sink::Plain(filter),
            (None, true, false) => Sink::Plain(DEFAULT_FILTER.to_owned()),
            (None, _, _) => Sink::Off,
        }
    }
}

/// Installs the subscriber `sink` asks for. A filter that does not parse falls back to
/// [`DEFAULT_FILTER`] and says so once on stderr; a second subscriber (in tests) is ignored.
pub fn init(sink: &Sink) {
    let (filter, commands) = match sink {
        Sink::Off => return,
        Sink::DebugCommands(filter) => (filter, true),
        Sink::Plain(filter) => (filter, false),
    };
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|error| {
        eprintln!("recover: RECOVER_LOG {filter:?} is not a valid filter ({error}); using {DEFAULT_FILTER}");
        EnvFilter::new(DEFAULT_FILTER)
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = if commands {
        builder.event_format(DebugCommand).try_init()
    } else {
        builder.without_time().try_init()
    };
}

/// Formats an event as one `::debug::` workflow command: level, target, spans, message and
/// fields, with the command's data escaping, so no field can end the line or forge a command.
struct DebugCommand;

impl<S, N> FormatEvent<S, N> for DebugCommand
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: format::Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let mut text = format!("{} {}: ", meta.level(), meta.target());
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let _ = write!(text, "{}", span.name());
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    let _ = write!(text, "{{{fields}}}");
                }
                text.push_str(": ");
            }
        }
        ctx.format_fields(format::Writer::new(&mut text), event)?;
        writeln!(writer, "::debug::{}", escape_data(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sink_follows_the_runner_and_recover_log() {
        let cases: [(&[(&str, &str)], Sink); 7] = [
            (&[], Sink::Off),
            (&[("GITHUB_ACTIONS", "true")], Sink::Off),
            (
                &[("GITHUB_ACTIONS", "true"), ("RUNNER_DEBUG", "1")],
                Sink::DebugCommands(DEFAULT_FILTER.into()),
            ),
            (
                &[
                    ("GITHUB_ACTIONS", "true"),
                    ("RUNNER_DEBUG", "1"),
                    ("RECOVER_LOG", "trace"),
                ],
                Sink::DebugCommands("trace".into()),
            ),
            (
                &[("GITHUB_ACTIONS", "true"), ("RUNNER_DEBUG", "0")],
                Sink::Off,
            ),
            (
                &[("RECOVER_LOG", "recover::exec=trace")],
                Sink::Plain("recover::exec=trace".into()),
            ),
            (&[("RUNNER_DEBUG", "1")], Sink::Plain(DEFAULT_FILTER.into())),
        ];
        for (pairs, want) in cases {
            let var = |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            };
            assert_eq!(Sink::from_env(var), want, "{pairs:?}");
        }
    }
}
