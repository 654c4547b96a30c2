//! Checks the sample lines a rule carries (`examples: {match, miss}`) through the real streaming
//! path, so a rule's documentation is also its test.
//!
//! In: compiled [`Rules`]. Out: one message per example that does not behave as written.

use std::sync::Arc;

use super::rules::Rules;
use crate::output::{Observer, Stream};

impl Rules {
    /// The examples that fail: a `match` line the rule does not match, or a `miss` line it does.
    ///
    /// Each line is fed alone, on each stream the rule looks at, with every rule loaded, so
    /// exclusions and the stream selector count just as in an attempt.
    #[must_use]
    pub fn example_problems(self: &Arc<Self>) -> Vec<String> {
        let mut problems = Vec::new();
        for (index, rule) in self.rules().iter().enumerate() {
            let stream = if rule.stream.covers(Stream::Stderr) {
                Stream::Stderr
            } else {
                Stream::Stdout
            };
            let hits = |line: &str| {
                let mut matcher = self.matcher(stream);
                matcher.observe(line.as_bytes());
                matcher.finish().hit(index).is_some()
            };
            for line in &rule.examples.matches {
                if !hits(line) {
                    problems.push(format!("rule \"{}\": does not match {line:?}", rule.name));
                }
            }
            for line in &rule.examples.miss {
                if hits(line) {
                    problems.push(format!(
                        "rule \"{}\": matches near miss {line:?}",
                        rule.name
                    ));
                }
            }
        }
        problems
    }
}
