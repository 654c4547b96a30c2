//! Reading one input as a type: seconds, booleans, counts, shells, exit codes, choices. Each
//! problem is collected with the input's name and what it accepts, so that one run reports every
//! bad input at once.

use std::time::Duration;

use super::{PlanError, RawInputs};
use crate::exec::shell::{Shell, ShellError};

/// The longest duration an input can ask for, in seconds: 100 years. Longer values mean the
/// same (never, in practice) and are clamped, so that adding them to an instant cannot overflow.
const LONGEST_SECS: f64 = 100.0 * 365.0 * 24.0 * 3600.0;

/// The shortest duration an input that must be greater than 0 accepts: one millisecond. A
/// shorter one (`1e-10`) rounds to nothing and would mean "no time at all" where the user asked
/// for some.
const SHORTEST: Duration = Duration::from_millis(1);

/// The exit codes `retry_on_exit_code` accepts: what a process can exit with on Unix (a signal
/// shows as 128 + n). Windows exit codes are 32 bits wide, shown as `i32`, so any non-zero value
/// is one there.
#[cfg(unix)]
const EXIT_CODES: std::ops::RangeInclusive<i32> = 1..=255;
#[cfg(not(unix))]
const EXIT_CODES: std::ops::RangeInclusive<i32> = i32::MIN..=i32::MAX;

/// Collects problems so that one run reports every bad input at once.
pub(super) struct Checker<'a> {
    pub(super) raw: &'a RawInputs,
    pub(super) errors: Vec<PlanError>,
}

impl Checker<'_> {
    pub(super) fn fail(&mut self, input: &'static str, problem: String) {
        self.errors.push(PlanError { input, problem });
    }

    pub(super) fn invalid(&mut self, input: &'static str, value: &str, expected: &str) {
        self.fail(
            input,
            format!("{value:?} is not valid; expected {expected}"),
        );
    }

    pub(super) fn text(&self, input: &'static str) -> Option<String> {
        self.raw.get(input).map(str::to_owned)
    }

    /// A non-negative number of seconds (or minutes, with `scale`), when given.
    pub(super) fn duration(
        &mut self,
        input: &'static str,
        scale: f64,
        allow_zero: bool,
    ) -> Option<Duration> {
        let value = self.raw.get(input)?;
        let parsed = value.parse::<f64>().ok().filter(|v| v.is_finite());
        let ok = parsed.filter(|v| if allow_zero { *v >= 0.0 } else { *v > 0.0 });
        let duration = ok
            .and_then(|v| Duration::try_from_secs_f64((v * scale).min(LONGEST_SECS)).ok())
            .filter(|d| allow_zero || *d >= SHORTEST);
        if duration.is_none() {
            let what = match (allow_zero, ok) {
                (true, _) => "a number of 0 or more",
                (false, Some(_)) => "a number greater than 0; the shortest is 0.001 seconds",
                (false, None) => "a number greater than 0",
            };
            self.invalid(input, value, what);
        }
        duration
    }

    pub(super) fn boolean(&mut self, input: &'static str) -> bool {
        match self.raw.get(input) {
            Some("true" | "True" | "TRUE") => true,
            Some("false" | "False" | "FALSE") | None => false,
            Some(other) => {
                let other = other.to_owned();
                self.invalid(input, &other, "true or false");
                false
            }
        }
    }

    pub(super) fn count(&mut self, input: &'static str) -> u32 {
        let value = self.raw.get(input).unwrap_or("1");
        match value.parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                let value = value.to_owned();
                self.invalid(input, &value, "a whole number of 1 or more");
                1
            }
        }
    }

    pub(super) fn shell(&mut self, input: &'static str, fallback: Option<&Shell>) -> Shell {
        let Some(value) = self.text(input) else {
            return fallback.cloned().unwrap_or_else(Shell::platform_default);
        };
        match Shell::parse(&value) {
            Ok(shell) => shell,
            Err(ShellError::Unknown) => {
                self.invalid(input, &value, Shell::ACCEPTED);
                Shell::platform_default()
            }
            Err(ShellError::Unbalanced) => {
                self.fail(input, format!("{value:?} has an unclosed quote"));
                Shell::platform_default()
            }
        }
    }

    pub(super) fn exit_codes(&mut self, input: &'static str) -> Vec<i32> {
        let Some(value) = self.text(input) else {
            return Vec::new();
        };
        let mut codes = Vec::new();
        for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match parse_exit_code(item) {
                Some(code) if code != 0 && EXIT_CODES.contains(&code) => codes.push(code),
                _ => {
                    let expected = if cfg!(unix) {
                        "exit codes from 1 to 255, separated by commas (e.g. 1,75)"
                    } else {
                        "non-zero exit codes, separated by commas (e.g. 1,75 or 0xC0000005)"
                    };
                    self.invalid(input, item, expected);
                    return Vec::new();
                }
            }
        }
        codes
    }

    pub(super) fn choice<T: Copy>(
        &mut self,
        input: &'static str,
        options: &[(&str, T)],
        expected: &str,
    ) -> T {
        let value = self.raw.get(input).unwrap_or_default();
        if let Some((_, v)) = options
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(value))
        {
            return *v;
        }
        let value = value.to_owned();
        self.invalid(input, &value, expected);
        options[0].1
    }
}

/// An exit code as users write it. Windows exit codes are 32 bits: an NTSTATUS such as
/// 0xC0000005 is -1073741819 as the runner and PowerShell print it, 3221225477 as Node (and so
/// nick-fields/retry) reports it, and 0xC0000005 in Windows' documentation. All three forms
/// name the same code, kept as the `i32` an attempt's exit code is.
fn parse_exit_code(text: &str) -> Option<i32> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok().map(u32::cast_signed);
    }
    text.parse::<i32>()
        .ok()
        .or_else(|| text.parse::<u32>().ok().map(u32::cast_signed))
}

/// A shell that is not installed would fail every attempt the same way: say so up front.
pub(super) fn check_shell_exists(c: &mut Checker<'_>, input: &'static str, shell: &Shell) {
    let program = shell.program();
    if which::which(&program).is_err() {
        let name = program.to_string_lossy().into_owned();
        c.fail(
            input,
            format!("{name:?} was not found on PATH; install it or choose another shell"),
        );
    }
}
