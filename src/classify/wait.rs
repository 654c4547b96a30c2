//! Wait hints: how long a server or tool asked us to wait before the next attempt.
//!
//! In: the text a rule's `wait` pattern captured (`30`, `2m30s`, `21.5 seconds`,
//! `Wed, 21 Oct 2015 07:28:00 GMT`, `1767225600`). Out: a [`WaitHint`], kept as data because an
//! absolute time needs "now" to become a wait, and classification never reads the clock. The
//! engine calls [`resolve`] with the time it read itself.

use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;

/// Numbers at or above this are epoch timestamps (2001-09-09), not seconds to wait: headers such
/// as `x-ratelimit-reset` carry the former, `Retry-After` the latter, and no server asks for a
/// 31-year wait.
const EPOCH_THRESHOLD: f64 = 1_000_000_000.0;

/// What a matched line asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitHint {
    /// Wait this long from now (`Retry-After: 30`, `try again in 2m`).
    After(Duration),
    /// Wait until this time, in seconds since the Unix epoch (`x-ratelimit-reset`, an HTTP-date).
    Until(u64),
}

/// Turns a hint into a wait, given the current time in seconds since the Unix epoch.
///
/// A reset time in the past means no wait at all.
#[must_use]
pub fn resolve(hint: WaitHint, now_epoch: u64) -> Duration {
    match hint {
        WaitHint::After(wait) => wait,
        WaitHint::Until(at) => Duration::from_secs(at.saturating_sub(now_epoch)),
    }
}

/// Reads a captured wait: plain seconds, durations with units (`2m30s`, `1 minute`, `250ms`,
/// `1h`), an HTTP-date (RFC 7231 IMF-fixdate), or an epoch timestamp.
///
/// Returns `None` when the text is none of these, so that a rule never fails on a hint it cannot
/// read: the engine then falls back to its backoff.
#[must_use]
pub fn parse_hint(text: &str) -> Option<WaitHint> {
    let text = text.trim();
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    if let Some(epoch) = parse_http_date(text) {
        return Some(WaitHint::Until(epoch));
    }
    if let Ok(n) = text.parse::<f64>() {
        if !n.is_finite() || n < 0.0 {
            return None;
        }
        if n >= EPOCH_THRESHOLD {
            return Some(WaitHint::Until(to_u64(n)));
        }
        return Duration::try_from_secs_f64(n).ok().map(WaitHint::After);
    }
    parse_duration(text).map(WaitHint::After)
}

/// Converts a finite, non-negative float that is below `u64::MAX` to an integer.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "callers pass finite, non-negative values far below u64::MAX"
)]
fn to_u64(n: f64) -> u64 {
    n as u64
}

/// Reads `2m30s`, `1h 5m`, `21.5 seconds`, `250ms`, `3 minutes`: numbers each followed by a unit.
fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0_f64;
    let mut rest = text.trim();
    let mut parts = 0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_end == 0 {
            return None;
        }
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = rest[number_end..].trim_start();
        let unit_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        let scale = unit_seconds(unit)?;
        total += number * scale;
        rest = rest[unit_end..].trim_start_matches([' ', ',']);
        rest = rest.strip_prefix("and ").unwrap_or(rest);
        parts += 1;
        if parts > 4 {
            return None;
        }
    }
    if parts == 0 {
        return None;
    }
    Duration::try_from_secs_f64(total).ok()
}

/// Seconds per unit; a bare number (empty unit) is seconds.
fn unit_seconds(unit: &str) -> Option<f64> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "ms" | "msec" | "millisecond" | "milliseconds" => 0.001,
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        _ => return None,
    })
}

/// Reads an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form `Retry-After` and `Date`
/// use, into seconds since the Unix epoch, for years 1970 to 9999.
///
/// Lenient where a hint may be: the weekday is not checked, and a day past the month's end
/// (`31 Feb`) or second 60 (a leap second) carries into what follows instead of losing the hint.
fn parse_http_date(text: &str) -> Option<u64> {
    let (_weekday, rest) = text.split_once(", ")?;
    let mut fields = rest.split_ascii_whitespace();
    let day: u64 = fields.next()?.parse().ok()?;
    let month = month_number(fields.next()?)?;
    let year: i32 = fields.next()?.parse().ok()?;
    let mut clock = fields.next()?.split(':');
    let hour: u64 = clock.next()?.parse().ok()?;
    let minute: u64 = clock.next()?.parse().ok()?;
    let second: u64 = clock.next()?.parse().ok()?;
    if fields.next()? != "GMT" || fields.next().is_some() {
        return None;
    }
    if !(1970..=9999).contains(&year) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let month_start = NaiveDate::from_ymd_opt(year, month, 1)?
        .and_time(NaiveTime::MIN)
        .and_utc()
        .timestamp();
    let month_start = u64::try_from(month_start).ok()?;
    Some(month_start + (day - 1) * 86_400 + hour * 3600 + minute * 60 + second)
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let index = MONTHS.iter().position(|m| *m == name)?;
    u32::try_from(index + 1).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_parse_in_every_documented_form() {
        let after = |s: f64| Some(WaitHint::After(Duration::from_secs_f64(s)));
        let cases = [
            ("30", after(30.0)),
            (" 2 ", after(2.0)),
            ("21.5", after(21.5)),
            ("2m30s", after(150.0)),
            ("2m", after(120.0)),
            ("1h 5m", after(3900.0)),
            ("21.5 seconds", after(21.5)),
            ("3 minutes", after(180.0)),
            ("1 minute and 30 seconds", after(90.0)),
            ("250ms", after(0.25)),
            ("1767225600", Some(WaitHint::Until(1_767_225_600))),
            (
                "Wed, 21 Oct 2015 07:28:00 GMT",
                Some(WaitHint::Until(1_445_412_480)),
            ),
            (
                "Thu, 01 Jan 2026 00:00:00 GMT",
                Some(WaitHint::Until(1_767_225_600)),
            ),
            ("", None),
            ("soon", None),
            ("2 fortnights", None),
            ("-5", None),
            ("NaN", None),
            ("inf", None),
            ("Wed, 21 Oct 2015 07:28:00 PST", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_hint(text), expected, "{text:?}");
        }
    }

    /// The calendar at its edges: the epoch, leap days (2000 and 2400 have one, 2100 not),
    /// the last second of year 9999, and what is not a date.
    #[test]
    fn http_dates_at_the_calendars_edges() {
        let cases = [
            ("Thu, 01 Jan 1970 00:00:00 GMT", Some(0)),
            ("Tue, 29 Feb 2000 12:00:00 GMT", Some(951_825_600)),
            ("Thu, 29 Feb 2024 00:00:00 GMT", Some(1_709_164_800)),
            ("Sun, 28 Feb 2100 23:59:59 GMT", Some(4_107_542_399)),
            ("Mon, 01 Mar 2100 00:00:00 GMT", Some(4_107_542_400)),
            ("Tue, 29 Feb 2400 00:00:00 GMT", Some(13_574_563_200)),
            ("Fri, 31 Dec 9999 23:59:59 GMT", Some(253_402_300_799)),
            // A leap second and a day past the month's end carry into what follows.
            ("Sat, 31 Dec 2016 23:59:60 GMT", Some(1_483_228_800)),
            ("Mon, 29 Feb 2100 00:00:00 GMT", Some(4_107_542_400)),
            ("Tue, 31 Feb 2015 00:00:00 GMT", Some(1_425_340_800)),
            // The weekday is not checked: the date says when.
            ("Xyz, 01 Jan 1970 00:00:00 GMT", Some(0)),
            ("Wed, 31 Dec 1969 23:59:59 GMT", None),
            ("Sat, 01 Jan 10000 00:00:00 GMT", None),
            ("Thu, 01 Jan 1970 24:00:00 GMT", None),
            ("Thu, 01 Jan 1970 00:60:00 GMT", None),
            ("Thu, 01 Jan 1970 00:00:61 GMT", None),
            ("Thu, 32 Jan 1970 00:00:00 GMT", None),
            ("Thu, 00 Jan 1970 00:00:00 GMT", None),
            ("Thu, 01 jan 1970 00:00:00 GMT", None),
            ("Thu, 01 Jan 1970 00:00 GMT", None),
            ("Thu, 01 Jan 1970 00:00:00 GMT extra", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_http_date(text), want, "{text:?}");
        }
    }

    #[test]
    fn resolve_uses_the_clock_it_is_given() {
        let now = 1_767_225_000;
        assert_eq!(
            resolve(WaitHint::Until(1_767_225_600), now),
            Duration::from_secs(600)
        );
        assert_eq!(resolve(WaitHint::Until(5), now), Duration::ZERO);
        assert_eq!(
            resolve(WaitHint::After(Duration::from_secs(2)), now),
            Duration::from_secs(2)
        );
    }
}
