//! The words the log and the report share: durations as a person reads them, how an attempt
//! ended, and why it failed in nick-fields/retry's words.

use std::time::Duration;

use crate::outcome::AttemptRecord;

/// Why an attempt failed, in nick-fields/retry's words where it has some.
#[must_use]
pub fn reason(attempt: &AttemptRecord) -> String {
    if let (true, Some(total)) = (attempt.timed_out, attempt.deadline) {
        return format!(
            "Total timeout of {}ms (total_timeout_seconds) hit",
            total.as_millis()
        );
    }
    if attempt.timed_out {
        let ms = attempt.timeout.unwrap_or_default().as_millis();
        return format!("Timeout of {ms}ms hit");
    }
    if let Some(signal) = attempt.signal {
        return format!(
            "Child_process was killed by {} (exit code {})",
            crate::signals::name(signal),
            attempt.exit_code
        );
    }
    format!("Child_process exited with error code {}", attempt.exit_code)
}

/// How an attempt ended, in a few words: `exit 3`, `SIGKILL (137)`, `timeout`.
#[must_use]
pub fn ending(attempt: &AttemptRecord) -> String {
    if attempt.timed_out {
        "timeout".to_owned()
    } else if let Some(signal) = attempt.signal {
        format!("{} ({})", crate::signals::name(signal), attempt.exit_code)
    } else {
        attempt.exit_code.to_string()
    }
}

/// A duration as a person reads it: `0s`, `2.5s`, `10s`, `1m 30s`, `2h 5m`.
#[must_use]
pub fn human(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 10.0 && duration.subsec_millis() != 0 {
        return format!("{:.1}s", (secs * 10.0).round() / 10.0);
    }
    let whole = duration.as_secs() + u64::from(duration.subsec_millis() >= 500);
    match whole {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => match s % 60 {
            0 => format!("{}m", s / 60),
            r => format!("{}m {r}s", s / 60),
        },
        s => match (s % 3600) / 60 {
            0 => format!("{}h", s / 3600),
            m => format!("{}h {m}m", s / 3600),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        let cases = [
            (0, "0s"),
            (2500, "2.5s"),
            (10_000, "10s"),
            (90_000, "1m 30s"),
            (120_000, "2m"),
            (7_500_000, "2h 5m"),
        ];
        for (ms, want) in cases {
            assert_eq!(human(Duration::from_millis(ms)), want);
        }
    }
}
