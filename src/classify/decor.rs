//! CI line decorations: what runners and build tools print before a tool's own text.
//!
//! A compiler prints `main.c:3:5: error: ...`; in a CI log the same line reads
//! `2024-05-01T10:00:00.1Z ##[error]main.c:3:5: error: ...`, `#12 3.4 main.c:...` (`BuildKit`),
//! `web> main.c:...` (a workspace runner's prefix), `[build] main.c:...` or begins with colour
//! codes. A rule anchored with `^` would miss all of these. So a `^` that starts a pattern is
//! read as "the start of the line's text": the start of the line followed by any number of
//! decorations. The rewrite happens when a pattern is compiled (here for user rules, in
//! `build.rs` for the built-in ones), so the matcher itself never copies or alters a line.

/// The decorations, as one regex group repeated: whitespace; timestamps and clock times
/// (`2024-05-01T10:00:00.1234567Z `, `07:27:58 `, `10:00:00,123: `); `BuildKit`'s `#12 3.456 `
/// and GitHub Actions' `##[error]`; bracketed tags (`[build] `, `[12:58:37]: `, `[INFO] `);
/// ANSI colour and cursor codes (GitLab's `\e[0K`, after the `\r` of its section markers,
/// where `^` matches too); workspace prefixes (`web> `, `web:build> `).
///
/// The group is copied into every anchored pattern, so it is kept to alternatives that start
/// with different bytes and have no counted repetitions: overlapping alternatives (`web_1  | `,
/// pytest's `E   `) multiplied the lazy DFA's states by a hundred and made it clear its cache
/// on every block of an ordinary log (measured on the benchmark's corpus).
const DECORATIONS: &str = r"(?:[ \t]|[0-9][0-9:TZ.,+-]*:? |#+[0-9]* ?|\[[^\]\n]*\]:? ?|\x1b\[[0-9;?]*[A-Za-z]|[A-Za-z_][A-Za-z0-9_.:@/-]*> )*";

/// A pattern with its leading `^` widened to allow decorations; other patterns as written.
#[must_use]
pub fn undecorated(pattern: &str) -> String {
    // Flags first (`(?i)^error`): the decorations go after the anchor all the same.
    let flags = pattern
        .strip_prefix("(?")
        .and_then(|rest| rest.find(')').map(|end| end + 3))
        .filter(|&end| {
            pattern[2..end - 1]
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b'-')
        })
        .unwrap_or(0);
    let (head, body) = pattern.split_at(flags);
    match body.strip_prefix('^') {
        Some(rest) => format!("{head}^{DECORATIONS}{rest}"),
        None => pattern.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, line: &str) -> bool {
        crate::classify::rule::build_regex(&undecorated(pattern))
            .unwrap()
            .is_match(line.as_bytes())
    }

    #[test]
    fn an_anchored_pattern_matches_through_every_kind_of_decoration() {
        let pattern = r"^\S+\.c:\d+:\d+: error: ";
        for line in [
            "main.c:3:5: error: x",
            "  main.c:3:5: error: x",
            "2024-05-01T10:00:00.1234567Z main.c:3:5: error: x",
            "2024-05-01T10:00:00.1234567Z ##[error]main.c:3:5: error: x",
            "07:27:58   main.c:3:5: error: x",
            "#12 3.456 main.c:3:5: error: x",
            "#12 main.c:3:5: error: x",
            "pkg> main.c:3:5: error: x",
            "[build] main.c:3:5: error: x",
            "\x1b[31mmain.c:3:5: error: x",
            "section_start:1712345678:build\r\x1b[0Kmain.c:3:5: error: x",
        ] {
            assert!(matches(pattern, line), "{line:?}");
        }
        assert!(!matches(pattern, "see main.c:3:5: error: x for details"));
    }

    #[test]
    fn unanchored_patterns_stay_as_written() {
        assert_eq!(undecorated("Connection refused"), "Connection refused");
        assert_eq!(undecorated("(?i)refused"), "(?i)refused");
        assert_eq!(undecorated("(?:x)^y"), "(?:x)^y");
    }

    #[test]
    fn flags_before_the_anchor_keep_their_place() {
        assert!(undecorated("(?i)^error: ").starts_with("(?i)^(?:"));
        assert!(undecorated("^x").ends_with(")*x"));
        assert!(matches("(?i)^error: ", "##[error]ERROR: x"));
    }
}
