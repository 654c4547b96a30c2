//! The retry budget: how many retries all steps sharing a state directory may still spend.
//!
//! In: the [`Budget`] as read from its file and the step's `retry_budget`. Out: the new
//! [`Budget`] to write back and whether the retry may run. Pure: no disk, no clock.

use serde::{Deserialize, Serialize};

/// The shared count of retries, as stored in the budget file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// The `retry_budget` of the step that last spent from it.
    pub limit: u64,
    /// Retries spent so far by every step sharing the state directory.
    pub spent: u64,
}

impl Budget {
    /// Retries left under `limit`.
    #[must_use]
    pub fn left(self, limit: u64) -> u64 {
        limit.saturating_sub(self.spent)
    }
}

/// Whether a retry may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Yes; this many retries are left after it.
    Granted {
        /// Retries left.
        left: u64,
    },
    /// No: the budget is spent, so this failure is final.
    Refused,
}

/// A step with `retry_budget` = `limit` asks to spend one retry.
///
/// Steps may pass different limits; each is checked against the shared count with its own limit,
/// so a step with a smaller budget stops sooner. The stored limit is the last one seen, for
/// `recover state show`.
#[must_use]
pub fn spend(budget: Budget, limit: u64) -> (Budget, Spend) {
    if budget.spent >= limit {
        return (Budget { limit, ..budget }, Spend::Refused);
    }
    let spent = budget.spent + 1;
    (
        Budget { limit, spent },
        Spend::Granted {
            left: limit - spent,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_granted_until_the_limit_then_refused() {
        let mut budget = Budget::default();
        let mut answers = Vec::new();
        for _ in 0..4 {
            let (next, answer) = spend(budget, 3);
            budget = next;
            answers.push(answer);
        }
        assert_eq!(
            answers,
            vec![
                Spend::Granted { left: 2 },
                Spend::Granted { left: 1 },
                Spend::Granted { left: 0 },
                Spend::Refused
            ]
        );
        assert_eq!(budget, Budget { limit: 3, spent: 3 });
    }

    #[test]
    fn a_zero_budget_refuses_every_retry() {
        assert_eq!(spend(Budget::default(), 0).1, Spend::Refused);
    }

    #[test]
    fn each_step_checks_its_own_limit_against_the_shared_count() {
        let budget = Budget {
            limit: 10,
            spent: 5,
        };
        assert_eq!(spend(budget, 5).1, Spend::Refused);
        assert_eq!(spend(budget, 10).1, Spend::Granted { left: 4 });
        assert_eq!(budget.left(3), 0);
    }
}
