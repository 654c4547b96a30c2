//! How the loop asks for a verdict: an observer per stream while the output is relayed, then
//! the classification of the failed attempt. Tests use [`ExitOnly`]; a plan uses its rules.

use crate::classify::lazy::{LazyMatcher, PlanRules};
use crate::classify::{Classification, ExitFacts};
use crate::output::{Observer, Stream};

/// Turns what an attempt printed and how it exited into a [`Classification`].
pub trait Classifier {
    /// What watches each stream while it is relayed.
    type Observer: Observer + 'static;

    /// A fresh observer for one stream of one attempt.
    fn observer(&self, stream: Stream) -> Self::Observer;

    /// The verdict on a failed attempt; `found` holds the observers handed back by the relays
    /// (`None` for a stream whose relay was left behind).
    fn classify(&self, found: [Option<Self::Observer>; 2], facts: &ExitFacts) -> Classification;
}

/// Classification from the exit alone, with no rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExitOnly;

impl Classifier for ExitOnly {
    type Observer = ();

    fn observer(&self, _stream: Stream) {}

    fn classify(&self, _found: [Option<()>; 2], facts: &ExitFacts) -> Classification {
        Classification::from_exit(facts)
    }
}

/// Classification by rules: a matcher per stream while the output is relayed, then the verdict.
impl Classifier for PlanRules {
    type Observer = LazyMatcher;

    fn observer(&self, stream: Stream) -> LazyMatcher {
        PlanRules::observer(self, stream)
    }

    fn classify(&self, found: [Option<LazyMatcher>; 2], facts: &ExitFacts) -> Classification {
        PlanRules::classify(self, found, facts)
    }
}
