//! The verdict on an attempt: weighs the evidence — how the attempt ended and every rule that
//! matched a line — and says which piece decided.
//!
//! In: the [`Found`] of each stream and the [`ExitFacts`]. Out: an [`Evidence`], whose
//! [`Classification`] is the verdict. Pure: no clock, no disk, so the engine can call it
//! anywhere and tests need no setup.
//!
//! The order of the steps is the evidence model of `docs/rules.md`:
//! 1. the user's cause rules (they know their commands better than any built-in rule);
//! 2. facts of the exit that leave no doubt: recover's own time limit, `timeout(1)`'s 124, the
//!    shell's 126 (not executable, unless a rule says the file was busy) and 127 (not found);
//! 3. the built-in cause rules, in priority order;
//! 4. a kill (`SIGKILL`, 137): most often the kernel's out-of-memory killer; a `SIGTERM` (143):
//!    most often a time limit (`timeout --preserve-status`, a job's limit) or a cancel;
//! 5. symptom rules (a test failed, a step exited non-zero), the user's first;
//! 6. nothing: `unknown`.
//!
//! A symptom says what failed, a cause why; so a connection error printed inside a failing test
//! makes the failure `network`, and a 429 printed before pip's "no matching distribution" makes
//! it `rate_limit`, wherever these lines are in the log.

use super::matcher::{Found, Hit};
use super::rules::{Origin, Rule, Rules};
use super::{Category, Classification, ExitFacts, Severity};
use crate::output::Stream;

/// The longest matched line a classification carries, in bytes, for the report and outputs.
pub const MAX_REPORTED_LINE: usize = 1024;

/// Exit code of `timeout(1)` (and of GNU `timeout --kill-after`'s first signal) when the time
/// limit stopped the command.
pub const EXIT_TIMEOUT: i32 = 124;

/// What decided a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider {
    /// A rule that names a cause: the user's or a built-in one.
    Cause(usize),
    /// A rule that names a symptom, because no cause rule matched.
    Symptom(usize),
    /// recover stopped the attempt when its time ran out.
    TimedOut,
    /// Exit code 124: `timeout(1)` stopped the command.
    TimeoutExit,
    /// Exit code 126 or 127: the command is not executable or not found.
    NotRunnable,
    /// `SIGKILL` (or 137): killed from outside, most often by the out-of-memory killer.
    Killed,
    /// `SIGTERM` (or 143): stopped from outside, most often by a time limit.
    Terminated,
    /// No evidence.
    Nothing,
}

impl Decider {
    /// Why this piece of evidence decided, in a sentence for `recover classify --explain`.
    #[must_use]
    pub fn describe(self, rules: &Rules) -> String {
        let name = |i: usize| &rules.rules()[i].name;
        match self {
            Decider::Cause(i) => format!("rule {} names a cause", name(i)),
            Decider::Symptom(i) => {
                format!(
                    "rule {} names a symptom, and no cause rule matched",
                    name(i)
                )
            }
            Decider::TimedOut => "the time limit stopped the attempt".to_string(),
            Decider::TimeoutExit => "exit code 124: timeout(1) stopped the command".to_string(),
            Decider::NotRunnable => {
                "exit code 126/127: the command is not executable or not found".to_string()
            }
            Decider::Killed => {
                "killed by SIGKILL (137), most often the out-of-memory killer".to_string()
            }
            Decider::Terminated => {
                "terminated by SIGTERM (143), most often a time limit".to_string()
            }
            Decider::Nothing => "no rule matched and the exit code says nothing".to_string(),
        }
    }
}

/// One rule that matched a line of the attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// The rule's index in priority order.
    pub rule: usize,
    /// The stream of the line.
    pub stream: Stream,
    /// The first line that matched it.
    pub hit: Hit,
}

/// Everything the verdict weighed, and the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Every rule whose exit requirements hold and that matched a line, by the line it first
    /// matched (then by priority).
    pub matched: Vec<Matched>,
    /// What decided.
    pub decider: Decider,
    /// The verdict.
    pub classification: Classification,
}

impl Rules {
    /// Classifies a finished attempt; see the module documentation for the order of evidence.
    #[must_use]
    pub fn classify(&self, found: &[Found], facts: &ExitFacts) -> Classification {
        self.weigh(found, facts).classification
    }

    /// Classifies a finished attempt and keeps the evidence, for `recover classify --explain`.
    #[must_use]
    pub fn weigh(&self, found: &[Found], facts: &ExitFacts) -> Evidence {
        let holds: Vec<(usize, Option<Matched>)> = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| exit_holds(rule, facts))
            .filter_map(|(index, rule)| {
                let hit = first_hit(found, index);
                (rule.patterns.is_empty() || hit.is_some()).then_some((index, hit))
            })
            .collect();
        let user = |i: usize| !matches!(self.rules[i].origin, Origin::Builtin);
        let cause = |&&(i, _): &&(usize, Option<Matched>)| !self.rules[i].symptom;
        let decider = holds
            .iter()
            .filter(cause)
            .find(|(i, _)| user(*i))
            .map(|(i, _)| Decider::Cause(*i))
            .or_else(|| {
                // 126 is "found but cannot execute": a busy executable (ETXTBSY) is a resource
                // problem that passes, not a permission one.
                (facts.signal.is_none() && facts.exit_code == 126)
                    .then(|| {
                        holds
                            .iter()
                            .filter(cause)
                            .find(|(i, _)| self.rules[*i].category == Category::Resource)
                            .map(|(i, _)| Decider::Cause(*i))
                    })
                    .flatten()
            })
            .or_else(|| exit_decider(facts))
            .or_else(|| holds.iter().find(cause).map(|(i, _)| Decider::Cause(*i)))
            .or_else(|| killed(facts).then_some(Decider::Killed))
            .or_else(|| terminated(facts).then_some(Decider::Terminated))
            .or_else(|| holds.first().map(|(i, _)| Decider::Symptom(*i)))
            .unwrap_or(Decider::Nothing);
        let by_rule = |index: usize| {
            let rule = &self.rules[index];
            let hit = holds
                .iter()
                .find(|(i, _)| *i == index)
                .and_then(|(_, m)| m.as_ref());
            Classification {
                category: rule.category,
                severity: rule.severity,
                retryable: rule.retryable,
                rule: Some(rule.name.clone()),
                line: hit.map(|m| bounded(&m.hit.line)),
                wait_hint: found.iter().find_map(|f| f.wait(index)),
            }
        };
        let classification = match decider {
            Decider::Cause(index) | Decider::Symptom(index) => by_rule(index),
            _ => {
                // A rule that agrees with the exit names the failure and shows its line.
                let exit = Classification::from_exit(facts);
                holds
                    .iter()
                    .find(|(i, _)| self.rules[*i].category == exit.category)
                    .map_or(exit, |(i, _)| by_rule(*i))
            }
        };
        let mut matched: Vec<Matched> = holds.into_iter().filter_map(|(_, m)| m).collect();
        matched.sort_by_key(|m| (m.hit.line_number, m.rule));
        Evidence {
            matched,
            decider,
            classification,
        }
    }
}

/// The exit facts that outweigh every built-in rule.
fn exit_decider(facts: &ExitFacts) -> Option<Decider> {
    if facts.timed_out {
        Some(Decider::TimedOut)
    } else if facts.signal.is_none() && facts.exit_code == EXIT_TIMEOUT {
        Some(Decider::TimeoutExit)
    } else if facts.signal.is_none() && matches!(facts.exit_code, 126 | 127) {
        Some(Decider::NotRunnable)
    } else {
        None
    }
}

fn killed(facts: &ExitFacts) -> bool {
    facts.signal == Some(9) || (facts.signal.is_none() && facts.exit_code == 137)
}

/// A `SIGTERM` that no rule explains: `timeout --preserve-status` and CI time limits send it.
fn terminated(facts: &ExitFacts) -> bool {
    facts.signal == Some(15) || (facts.signal.is_none() && facts.exit_code == 143)
}

impl Classification {
    /// The verdict when no rule decided: a timeout (recover's limit, or `timeout(1)`'s 124) is
    /// `timeout`, a SIGKILL (137) is `resource` (most often the kernel's out-of-memory killer),
    /// 126 and 127 (not executable, not found) are `permanent`, and anything else is `unknown`.
    #[must_use]
    pub fn from_exit(facts: &ExitFacts) -> Classification {
        let (category, severity) = match exit_decider(facts) {
            Some(Decider::TimedOut | Decider::TimeoutExit) => (Category::Timeout, Severity::Medium),
            Some(_) => (Category::Permanent, Severity::High),
            None if killed(facts) => (Category::Resource, Severity::High),
            None if terminated(facts) => (Category::Timeout, Severity::Medium),
            None => (Category::Unknown, Severity::Medium),
        };
        Classification {
            category,
            severity,
            retryable: category.is_retryable_by_default(),
            rule: None,
            line: None,
            wait_hint: None,
        }
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
fn first_hit(found: &[Found], index: usize) -> Option<Matched> {
    found
        .iter()
        .filter_map(|f| {
            f.hit(index).map(|hit| Matched {
                rule: index,
                stream: f.stream,
                hit: hit.clone(),
            })
        })
        .min_by_key(|m| m.hit.line_number)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::output::Observer;

    fn weigh(rules: &Arc<Rules>, log: &str, exit_code: i32, signal: Option<i32>) -> Evidence {
        let mut m = rules.matcher(Stream::Stderr);
        m.observe(log.as_bytes());
        let facts = ExitFacts {
            exit_code,
            signal,
            timed_out: false,
        };
        rules.weigh(&[m.finish()], &facts)
    }

    fn name(rules: &Rules, e: &Evidence) -> Option<String> {
        match e.decider {
            Decider::Cause(i) | Decider::Symptom(i) => Some(rules.rules()[i].name.clone()),
            _ => None,
        }
    }

    /// A cause decides over a symptom wherever each is in the log: the 429 before pip's "no
    /// matching distribution", the refused connection inside a failing test.
    #[test]
    fn a_cause_outweighs_a_symptom_before_or_after_it() {
        let rules = Arc::new(Rules::builtin());
        let pip = "WARNING: Retrying (Retry(total=0)) after connection broken by 'ResponseError('too many 429 error responses')': /simple/six/\n\
                   ERROR: No matching distribution found for six\n";
        let e = weigh(&rules, pip, 1, None);
        assert_eq!(e.classification.category, Category::RateLimit);
        assert_eq!(e.matched.len(), 3, "every matching rule is kept: {e:?}");
        let test = "--- FAIL: TestFetch (0.01s)\n    api_test.go:12: dial tcp 127.0.0.1:5432: connect: connection refused\nFAIL\n";
        let e = weigh(&rules, test, 1, None);
        assert_eq!(e.classification.category, Category::Network);
        assert_eq!(name(&rules, &e).as_deref(), Some("connection-refused"));
        let alone = weigh(&rules, "--- FAIL: TestAdd (0.00s)\nFAIL\n", 1, None);
        assert_eq!(
            alone.decider,
            Decider::Symptom(rules_index(&rules, "go-test-failed"))
        );
        assert!(!alone.classification.retryable);
    }

    fn rules_index(rules: &Rules, name: &str) -> usize {
        rules.rules().iter().position(|r| r.name == name).unwrap()
    }

    /// Exit facts outweigh the built-in rules, a kill outweighs symptoms only, and the user's
    /// rules outweigh everything.
    #[test]
    fn exit_facts_kills_and_user_rules_take_their_place() {
        let rules = Arc::new(Rules::builtin());
        let e = weigh(
            &rules,
            "curl: (7) Failed to connect to x port 80: Connection refused\n",
            124,
            None,
        );
        assert_eq!(
            (e.decider, e.classification.category),
            (Decider::TimeoutExit, Category::Timeout)
        );
        let e = weigh(&rules, "bash: nope: command not found\n", 127, None);
        assert_eq!(e.decider, Decider::NotRunnable);
        assert_eq!(e.classification.rule.as_deref(), Some("command-not-found"));
        let e = weigh(
            &rules,
            "test result: FAILED. 1 passed; 1 failed\n",
            137,
            None,
        );
        assert_eq!(
            (e.decider, e.classification.category),
            (Decider::Killed, Category::Resource)
        );
        let e = weigh(&rules, "error[E0308]: mismatched types\n", 137, None);
        assert_eq!(
            e.classification.category,
            Category::Permanent,
            "a cause outweighs a kill"
        );
        let e = weigh(&rules, "", 143, None);
        assert_eq!(
            (e.decider, e.classification.category),
            (Decider::Terminated, Category::Timeout),
            "a SIGTERM no rule explains is a time limit"
        );
        let e = weigh(&rules, "nothing to see\n", 1, None);
        assert_eq!(
            (e.decider, e.classification.category),
            (Decider::Nothing, Category::Unknown)
        );

        let user = Arc::new(
            Rules::load(
                Some("rules:\n  - name: our-timeout\n    category: transient\n    exit_codes: [124]\n"),
                None,
            )
            .unwrap(),
        );
        let e = weigh(&user, "anything\n", 124, None);
        assert_eq!(e.classification.rule.as_deref(), Some("our-timeout"));
        assert_eq!(e.classification.category, Category::Transient);
    }

    /// A symptom rule of the user's yields to a built-in cause, as a built-in symptom does.
    #[test]
    fn a_user_symptom_yields_to_a_builtin_cause() {
        let user = Arc::new(
            Rules::load(
                Some("rules:\n  - name: our-suite\n    category: permanent\n    symptom: true\n    patterns: ['^SUITE FAILED']\n"),
                None,
            )
            .unwrap(),
        );
        let e = weigh(
            &user,
            "SUITE FAILED\nread tcp: connection reset by peer\n",
            1,
            None,
        );
        assert_eq!(e.classification.category, Category::Network);
        let e = weigh(&user, "SUITE FAILED\n", 1, None);
        assert_eq!(e.classification.rule.as_deref(), Some("our-suite"));
    }
}
