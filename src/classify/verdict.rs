//! The verdict on an attempt: which rule wins, given what the matchers found and how the attempt
//! ended.
//!
//! In: the [`Found`] of each stream and the [`ExitFacts`]. Out: a [`Classification`]. Pure: no
//! clock, no disk, so the engine can call it anywhere and tests need no setup.

use super::matcher::{Found, Hit};
use super::rules::{Rule, Rules};
use super::{Classification, ExitFacts};

/// The longest matched line a classification carries, in bytes, for the report and outputs.
pub const MAX_REPORTED_LINE: usize = 1024;

impl Rules {
    /// Classifies a finished attempt: the first rule in priority order whose matchers all hold
    /// wins, across both streams; with no such rule, [`Classification::from_exit`] decides.
    ///
    /// A rule's wait hint comes from whichever stream captured one for that rule.
    #[must_use]
    pub fn classify(&self, found: &[Found], facts: &ExitFacts) -> Classification {
        for (index, rule) in self.rules.iter().enumerate() {
            if !exit_holds(rule, facts) {
                continue;
            }
            let hit = first_hit(found, index);
            if !rule.patterns.is_empty() && hit.is_none() {
                continue;
            }
            return Classification {
                category: rule.category,
                severity: rule.severity,
                retryable: rule.retryable,
                rule: Some(rule.name.clone()),
                line: hit.map(|h| bounded(&h.line)),
                wait_hint: found.iter().find_map(|f| f.wait(index)),
            };
        }
        Classification::from_exit(facts)
    }
}

/// Whether the exit code and signal requirements of a rule hold (an empty list always holds).
/// A signal also counts when only the shell's `128 + n` exit code reports it.
fn exit_holds(rule: &Rule, facts: &ExitFacts) -> bool {
    let code = rule.exit_codes.is_empty() || rule.exit_codes.contains(&facts.exit_code);
    let signal = rule.signals.is_empty()
        || rule.signals.iter().any(|&s| {
            facts.signal == Some(s) || (facts.signal.is_none() && facts.exit_code == 128 + s)
        });
    code && signal
}

/// The earliest hit of a rule across streams (stderr and stdout are not ordered against each
/// other, so the lower line number is as good a tie-break as any, and a stable one).
fn first_hit(found: &[Found], index: usize) -> Option<&Hit> {
    found
        .iter()
        .filter_map(|f| f.hit(index))
        .min_by_key(|h| h.line_number)
}

/// Cuts a line to [`MAX_REPORTED_LINE`] bytes at a character boundary.
fn bounded(line: &str) -> String {
    if line.len() <= MAX_REPORTED_LINE {
        return line.to_string();
    }
    let mut end = MAX_REPORTED_LINE;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line[..end].to_string()
}
