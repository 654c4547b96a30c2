//! The exit codes of `recover`: one table, used by every command and checked against the
//! README's.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | the command succeeded (maybe after retries), or failed with `continue_on_error` |
//! | 1 | the final attempt timed out |
//! | n | the final attempt's exit code (128 + s when signal s killed it) |
//! | 2 | bad input: nothing was run |
//! | 71 | recover itself could not start (no async runtime or signal handlers): nothing was run |
//! | 129 | cancelled by SIGHUP |
//! | 130 | cancelled by SIGINT |
//! | 143 | cancelled by SIGTERM |
//!
//! A command's own codes pass through unchanged, so 2 or 71 from the command and from recover
//! look alike by status alone; the `exit_error` output and the log tell them apart.

/// The command succeeded.
pub const SUCCESS: i32 = 0;
/// The final attempt timed out (nick-fields/retry reports 1).
pub const FAILURE: i32 = 1;
/// recover was misused: bad input, nothing run.
pub const USAGE: i32 = 2;
/// recover could not start its runtime or its signal handlers (`EX_OSERR` of sysexits.h): the
/// system is short of threads or file descriptors, not the input at fault.
pub const CANNOT_START: i32 = 71;
/// Cancelled by SIGHUP.
pub const CANCELLED_SIGHUP: i32 = 129;
/// Cancelled by SIGINT.
pub const CANCELLED_SIGINT: i32 = 130;
/// Cancelled by SIGTERM.
pub const CANCELLED_SIGTERM: i32 = 143;

/// The code of a run cancelled by `signal`, as a shell reports a death by that signal.
#[must_use]
pub fn cancelled(signal: i32) -> i32 {
    128 + signal
}

/// recover's own codes: those the README's table must list, with the signal of each
/// cancellation code.
pub const OWN: [i32; 7] = [
    SUCCESS,
    FAILURE,
    USAGE,
    CANNOT_START,
    CANCELLED_SIGHUP,
    CANCELLED_SIGINT,
    CANCELLED_SIGTERM,
];

#[cfg(test)]
mod tests {
    use super::{CANCELLED_SIGHUP, CANCELLED_SIGINT, CANCELLED_SIGTERM, OWN, cancelled};

    /// The codes in the first column of a markdown table that follows `heading`.
    fn table_codes(text: &str, heading: &str) -> Vec<i32> {
        let start = text
            .find(heading)
            .unwrap_or_else(|| panic!("no {heading:?}"));
        text[start..]
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .filter_map(|line| line.split('|').nth(1)?.trim().parse().ok())
            .collect()
    }

    #[test]
    fn the_readme_and_the_design_list_every_code_of_the_table() {
        let root = env!("CARGO_MANIFEST_DIR");
        for (file, heading) in [
            ("README.md", "### Exit codes"),
            ("docs/design.md", "## Exit codes"),
        ] {
            let text = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
            let mut listed = table_codes(&text, heading);
            listed.sort_unstable();
            let mut own = OWN.to_vec();
            own.sort_unstable();
            assert_eq!(listed, own, "{file}");
        }
    }

    #[test]
    fn cancellation_codes_are_128_and_the_signal() {
        assert_eq!(
            cancelled(crate::signals::number("HUP").unwrap()),
            CANCELLED_SIGHUP
        );
        assert_eq!(
            cancelled(crate::signals::number("INT").unwrap()),
            CANCELLED_SIGINT
        );
        assert_eq!(
            cancelled(crate::signals::number("TERM").unwrap()),
            CANCELLED_SIGTERM
        );
    }
}
