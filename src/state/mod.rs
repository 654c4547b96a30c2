//! State shared across steps and jobs on one runner: a circuit breaker per service and a retry
//! budget, kept in files under `state_dir`.
//!
//! In: the plan's [`StatePlan`], the step's environment and, during the run, what each attempt
//! did. Out: whether the step may run an attempt, whether a retry may run, and a [`StateNote`]
//! for the report.
//!
//! The decisions are pure functions in [`breaker`] and [`budget`]; [`store`] does the file work;
//! the attempt loop joins them (`run::shared`). A state that cannot be read or written is a
//! warning and never fails the step: the step then runs as if no circuit or budget were set.

pub mod breaker;
pub mod budget;
mod file;
pub mod inspect;
pub mod store;

use std::path::PathBuf;

use breaker::{EpochMillis, Phase, Settings};
use chrono::{DateTime, Datelike as _, Timelike as _, Utc};

/// What a plan asks of shared state. A plan without a circuit and without a budget has none,
/// and then recover touches no state file at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatePlan {
    /// `state_dir`, when given; else [`default_dir`].
    pub dir: Option<PathBuf>,
    /// The circuit the step belongs to.
    pub circuit: Option<CircuitPlan>,
    /// `retry_budget`: retries all steps sharing the directory may spend together.
    pub retry_budget: Option<u64>,
}

/// One circuit: its name and settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitPlan {
    /// The name shared by the steps that depend on one service.
    pub name: String,
    /// Threshold and cooldown.
    pub settings: Settings,
}

/// The state directory when `state_dir` is not given: `$RUNNER_TEMP/recover` on a runner (it
/// lasts for the job), else the user's cache directory (`$XDG_CACHE_HOME/recover`,
/// `~/.cache/recover`, or `%LOCALAPPDATA%\recover` on Windows), else the system's temporary
/// directory. `var` looks up an environment variable.
#[must_use]
pub fn default_dir(var: impl Fn(&str) -> Option<String>) -> PathBuf {
    let given = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = given("RUNNER_TEMP")
        .or_else(|| given("XDG_CACHE_HOME"))
        .or_else(|| given("LOCALAPPDATA"))
        .or_else(|| given("HOME").map(|h| h.join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("recover")
}

/// Why the circuit keeps a step from running an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// When it opened.
    pub since_ms: EpochMillis,
    /// When its cooldown ends.
    pub until_ms: EpochMillis,
    /// Whether it is half-open with another step's probe running.
    pub probing: bool,
}

/// What this step saw and did of its circuit, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitNote {
    /// The circuit's name.
    pub name: String,
    /// Where it stood when the step ended.
    pub phase: Phase,
    /// The shared count of consecutive retryable failures when the step ended.
    pub consecutive_failures: u64,
    /// When it last opened.
    pub opened_at_ms: Option<EpochMillis>,
    /// When its cooldown ends.
    pub until_ms: Option<EpochMillis>,
    /// Set when the circuit refused this step's attempts (at its start, or before a retry).
    pub refused: Option<Refusal>,
    /// This step's failures opened (or reopened) it.
    pub opened_here: bool,
    /// This step's first attempt was the half-open circuit's probe.
    pub probed: bool,
}

/// What this step saw and did of the retry budget, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetNote {
    /// The step's `retry_budget`.
    pub limit: u64,
    /// Retries spent by all steps when this one ended (as far as it last saw).
    pub spent: u64,
    /// A retry was refused because the budget was spent.
    pub ran_out: bool,
}

impl BudgetNote {
    /// Retries left for steps with this limit.
    #[must_use]
    pub fn left(&self) -> u64 {
        self.limit.saturating_sub(self.spent)
    }
}

/// The shared state's part in one run, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateNote {
    /// The circuit, when the step has one that could be used.
    pub circuit: Option<CircuitNote>,
    /// The budget, when the step has one that could be used.
    pub budget: Option<BudgetNote>,
}

/// The wall clock in milliseconds since the Unix epoch (0 if the clock is before it).
#[must_use]
pub fn wall_clock() -> EpochMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// "Circuit db is open since … until …" (or half-open with another step probing).
#[must_use]
pub fn describe_refusal(name: &str, refusal: &Refusal) -> String {
    if refusal.probing {
        format!(
            "Circuit {name} is half-open and another step is probing it (open since {}, cooldown ended {})",
            rfc3339(refusal.since_ms),
            rfc3339(refusal.until_ms)
        )
    } else {
        format!(
            "Circuit {name} is open since {} until {}",
            rfc3339(refusal.since_ms),
            rfc3339(refusal.until_ms)
        )
    }
}

/// An instant as RFC 3339 in UTC with whole seconds: `2026-11-28T06:00:00Z`. Years after 9999
/// have more digits, without a sign; an instant past the last one chrono can name (in 262142;
/// only a hand-edited state file holds one) shows as that one.
#[must_use]
pub fn rfc3339(ms: EpochMillis) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(i64::MAX);
    let at = DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_utc_dates() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400_000, "2000-02-29T00:00:00Z"),
            (1_764_309_600_999, "2025-11-28T06:00:00Z"),
            (4_102_444_799_000, "2099-12-31T23:59:59Z"),
            (68_169_600_000, "1972-02-29T00:00:00Z"),
            (4_102_444_800_000, "2100-01-01T00:00:00Z"),
            // 2100 is no leap year: 28 February is followed by 1 March.
            (4_107_542_399_000, "2100-02-28T23:59:59Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00Z"),
            (13_574_563_200_000, "2400-02-29T00:00:00Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59Z"),
            (253_402_300_800_000, "10000-01-01T00:00:00Z"),
            (u64::MAX, "262142-12-31T23:59:59Z"),
        ];
        for (ms, want) in cases {
            assert_eq!(rfc3339(ms), want, "{ms}");
        }
    }

    #[test]
    fn the_default_directory_prefers_the_runners_temp() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let cases: [(&[(&str, &str)], &str); 4] = [
            (&[("RUNNER_TEMP", "/rt"), ("HOME", "/h")], "/rt/recover"),
            (
                &[("XDG_CACHE_HOME", "/xdg"), ("HOME", "/h")],
                "/xdg/recover",
            ),
            (&[("RUNNER_TEMP", ""), ("HOME", "/h")], "/h/.cache/recover"),
            (&[("LOCALAPPDATA", "/la")], "/la/recover"),
        ];
        for (pairs, want) in cases {
            assert_eq!(default_dir(env(pairs)), PathBuf::from(want), "{pairs:?}");
        }
    }
}
