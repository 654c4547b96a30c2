//! Signals by name and number, as numbered on Linux: the one table behind the `signals:` of a
//! rule, `recover classify --signal` and the names in the report (`SIGKILL (137)`).
//!
//! Windows has no signals; there a killed process is only an exit code, so the table is only
//! read where an attempt reports a signal or a user names one.

/// Names without the `SIG` prefix, with their numbers on Linux. The first name of a number is
/// the one shown (`ABRT` before its alias `IOT`).
const TABLE: [(&str, i32); 20] = [
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("CHLD", 17),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("SYS", 31),
    ("IOT", 6),
];

/// A signal by name (`SIGKILL`, `KILL`, any case) or number (`9`, from 1 to 64).
#[must_use]
pub fn number(text: &str) -> Option<i32> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    TABLE.iter().find(|(n, _)| *n == bare).map(|(_, v)| *v)
}

/// The conventional name of a signal number (`SIGTERM`), or `signal 40` for one without a name.
#[must_use]
pub fn name(number: i32) -> String {
    match TABLE.iter().find(|(_, n)| *n == number) {
        Some((name, _)) => format!("SIG{name}"),
        None => format!("signal {number}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{name, number};

    #[test]
    fn names_and_numbers_read_both_ways() {
        assert_eq!(number("SIGKILL"), Some(9));
        assert_eq!(number("term"), Some(15));
        assert_eq!(number(" 9 "), Some(9));
        assert_eq!(number("IOT"), Some(6));
        assert_eq!(number("0"), None);
        assert_eq!(number("65"), None);
        assert_eq!(number("SIGNOPE"), None);
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(6), "SIGABRT");
        assert_eq!(name(1), "SIGHUP");
        assert_eq!(name(40), "signal 40");
    }

    #[test]
    fn every_name_reads_back_to_its_number() {
        for n in 1..=64 {
            let shown = name(n);
            if !shown.starts_with("signal ") {
                assert_eq!(number(&shown), Some(n), "{shown}");
            }
        }
    }
}
