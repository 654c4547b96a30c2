//! The rules of a plan, loaded no sooner than needed.
//!
//! Parsing and compiling the built-in rules costs more than starting a command, so a step that
//! uses only the built-ins loads them on the first byte of output or the first failure: a command
//! that passes silently never pays for them. The user's rules (`rules`, `rules_file`) are loaded
//! when the plan is made, so that a bad rule stops the step before anything runs.

use std::sync::{Arc, OnceLock};

use super::matcher::{Found, StreamMatcher};
use super::rules::Rules;
use super::{Classification, ExitFacts};
use crate::output::{Observer, Stream};

/// The built-in rules, shared by every use in the process.
fn builtin() -> Arc<Rules> {
    static BUILTIN: OnceLock<Arc<Rules>> = OnceLock::new();
    Arc::clone(BUILTIN.get_or_init(|| Arc::new(Rules::builtin())))
}

/// The effective rules of a plan.
#[derive(Debug, Clone, Default)]
pub struct PlanRules {
    /// The user's rules followed by the built-ins, or `None` for the built-ins alone.
    given: Option<Arc<Rules>>,
}

impl PlanRules {
    /// The built-in rules alone, loaded on first use.
    #[must_use]
    pub fn builtin() -> PlanRules {
        PlanRules { given: None }
    }

    /// Rules loaded already (the user's, then the built-ins).
    #[must_use]
    pub fn given(rules: Rules) -> PlanRules {
        PlanRules {
            given: Some(Arc::new(rules)),
        }
    }

    /// The rules, loading the built-ins if this is their first use.
    #[must_use]
    pub fn get(&self) -> Arc<Rules> {
        self.given.clone().unwrap_or_else(builtin)
    }

    /// An observer for one stream that loads the rules on the stream's first byte.
    #[must_use]
    pub fn observer(&self, stream: Stream) -> LazyMatcher {
        LazyMatcher {
            rules: self.clone(),
            stream,
            inner: None,
        }
    }

    /// The verdict on a failed attempt, from what its observers saw and how it ended.
    #[must_use]
    pub fn classify(
        &self,
        observers: [Option<LazyMatcher>; 2],
        facts: &ExitFacts,
    ) -> Classification {
        let found: Vec<Found> = observers
            .into_iter()
            .flatten()
            .filter_map(|o| o.inner.map(StreamMatcher::finish))
            .collect();
        self.get().classify(&found, facts)
    }
}

/// A [`StreamMatcher`] made on the first chunk of its stream.
#[derive(Debug)]
pub struct LazyMatcher {
    rules: PlanRules,
    stream: Stream,
    inner: Option<StreamMatcher>,
}

impl Observer for LazyMatcher {
    fn observe(&mut self, chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        let (rules, stream) = (&self.rules, self.stream);
        self.inner
            .get_or_insert_with(|| rules.get().matcher(stream))
            .observe(chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_and_eager_matchers_agree() {
        let rules = PlanRules::builtin();
        let line = b"curl: (7) Failed to connect to 127.0.0.1 port 9: Connection refused\n";
        let facts = ExitFacts {
            exit_code: 7,
            signal: None,
            timed_out: false,
        };
        let mut out = rules.observer(Stream::Stdout);
        let mut err = rules.observer(Stream::Stderr);
        err.observe(line);
        let lazy = rules.classify([Some(out), Some(err)], &facts);
        let eager_rules = Arc::new(Rules::builtin());
        let mut eager = eager_rules.matcher(Stream::Stderr);
        eager.observe(line);
        assert_eq!(lazy, eager_rules.classify(&[eager.finish()], &facts));
        assert_eq!(lazy.category, super::super::Category::Network);
        out = rules.observer(Stream::Stdout);
        assert!(
            out.inner.is_none(),
            "no output, nothing loaded for the stream"
        );
    }
}
