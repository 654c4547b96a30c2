//! Step outputs in the runner's format, with multi-line-safe delimiters ([`super::sinks`]
//! appends them to `$GITHUB_OUTPUT`).

use std::fmt::Write as _;

use rand::RngExt;

/// Formats outputs in the runner's heredoc form (`name<<DELIM`, value, `DELIM`), with a random
/// delimiter that is checked not to occur in any value.
#[must_use]
pub fn format(outputs: &[(&str, String)]) -> String {
    let mut rng = rand::rng();
    let mut text = String::new();
    for (name, value) in outputs {
        let delimiter = loop {
            let candidate = format!("ghadelimiter_{:016x}", rng.random::<u64>());
            if !value.contains(&candidate) {
                break candidate;
            }
        };
        let _ = write!(text, "{name}<<{delimiter}\n{value}\n{delimiter}\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_values_survive() {
        let text = format(&[("exit_error", "line 1\nline 2".to_owned())]);
        let mut lines = text.lines();
        let head = lines.next().unwrap();
        let delimiter = head.strip_prefix("exit_error<<").unwrap();
        assert_eq!(lines.next(), Some("line 1"));
        assert_eq!(lines.next(), Some("line 2"));
        assert_eq!(lines.next(), Some(delimiter));
    }
}
