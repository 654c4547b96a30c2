//! The `retry_on` input: which failures get another attempt.
//!
//! In: the input's comma list, then each failure's exit facts and classification. Out: whether
//! the failure may be retried, and whether the unknown policy limits it.

use std::collections::BTreeSet;

use crate::classify::{Category, Classification, ExitFacts};

/// One condition of `retry_on`; a failure is retried when any condition holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RetryCondition {
    /// Every failure (`any`).
    Any,
    /// Failures that are not timeouts (`error`).
    Error,
    /// Timeouts (`timeout`).
    Timeout,
    /// Failures whose classification says retryable (`classified`).
    Classified,
    /// Failures of one category (`network`, `rate_limit`, …).
    Category(Category),
}

impl std::fmt::Display for RetryCondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RetryCondition::Any => "any",
            RetryCondition::Error => "error",
            RetryCondition::Timeout => "timeout",
            RetryCondition::Classified => "classified",
            RetryCondition::Category(category) => category.as_str(),
        })
    }
}

/// The `retry_on` input: which failures get another attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryOn {
    conditions: BTreeSet<RetryCondition>,
}

impl RetryOn {
    /// The accepted values, for error messages.
    pub const ACCEPTED: &'static str = "any, error, timeout, classified, or a comma list of these and categories (network, rate_limit, resource, transient, timeout, permanent, unknown)";

    /// Parses a comma list such as `error,timeout` or `network,rate_limit`.
    ///
    /// # Errors
    /// The first item that is not a known condition or category, or an empty list.
    pub fn parse(value: &str) -> Result<RetryOn, String> {
        let mut conditions = BTreeSet::new();
        for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let condition = match item.to_ascii_lowercase().as_str() {
                "any" => RetryCondition::Any,
                "error" => RetryCondition::Error,
                "timeout" => RetryCondition::Timeout,
                "classified" => RetryCondition::Classified,
                other => match Category::from_name(other) {
                    Some(category) => RetryCondition::Category(category),
                    None => return Err(item.to_owned()),
                },
            };
            conditions.insert(condition);
        }
        if conditions.is_empty() {
            return Err(value.to_owned());
        }
        Ok(RetryOn { conditions })
    }

    /// Retry everything (the default).
    #[must_use]
    pub fn any() -> RetryOn {
        RetryOn {
            conditions: BTreeSet::from([RetryCondition::Any]),
        }
    }

    /// Whether a failure with these facts and this classification may be retried.
    #[must_use]
    pub fn allows(&self, facts: &ExitFacts, classification: &Classification) -> bool {
        self.conditions.iter().any(|condition| match condition {
            RetryCondition::Any => true,
            RetryCondition::Error => !facts.timed_out,
            RetryCondition::Timeout => facts.timed_out,
            RetryCondition::Classified => classification.retryable,
            RetryCondition::Category(category) => classification.category == *category,
        })
    }

    /// Whether only `classified` retries this failure and no rule recognised it: the case the
    /// unknown policy (`unknown_retries`) limits. A list that names `unknown`, `any` or `error`
    /// keeps retrying such a failure, as it says.
    #[must_use]
    pub fn limits_unknown(&self, facts: &ExitFacts, classification: &Classification) -> bool {
        classification.category == Category::Unknown
            && self.conditions.contains(&RetryCondition::Classified)
            && self.conditions.iter().all(|&condition| {
                condition == RetryCondition::Classified
                    || !RetryOn {
                        conditions: BTreeSet::from([condition]),
                    }
                    .allows(facts, classification)
            })
    }

    /// Whether this is the default `any`.
    #[must_use]
    pub fn is_any(&self) -> bool {
        self.conditions.contains(&RetryCondition::Any)
    }
}

impl std::fmt::Display for RetryOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.conditions.iter().map(ToString::to_string).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::policy) fn classification(category: Category, retryable: bool) -> Classification {
        Classification {
            category,
            retryable,
            ..Classification::from_exit(&failed(1))
        }
    }

    pub(in crate::policy) fn failed(code: i32) -> ExitFacts {
        ExitFacts {
            exit_code: code,
            signal: None,
            timed_out: false,
        }
    }

    pub(in crate::policy) fn timed_out() -> ExitFacts {
        ExitFacts {
            exit_code: 143,
            signal: Some(15),
            timed_out: true,
        }
    }

    #[test]
    fn retry_on_conditions() {
        let net = classification(Category::Network, true);
        let perm = classification(Category::Permanent, false);
        let tout = classification(Category::Timeout, true);
        let cases = [
            ("any", failed(1), &perm, true),
            ("any", timed_out(), &tout, true),
            ("error", failed(1), &perm, true),
            ("error", timed_out(), &tout, false),
            ("timeout", failed(1), &net, false),
            ("timeout", timed_out(), &tout, true),
            ("classified", failed(1), &net, true),
            ("classified", failed(1), &perm, false),
            ("network, rate_limit", failed(1), &net, true),
            ("network,rate_limit", failed(1), &perm, false),
            ("error,timeout", timed_out(), &tout, true),
        ];
        for (value, facts, class, want) in cases {
            let retry_on = RetryOn::parse(value).unwrap();
            assert_eq!(retry_on.allows(&facts, class), want, "{value} {facts:?}");
        }
        assert_eq!(RetryOn::parse("any,flaky"), Err("flaky".to_owned()));
        assert_eq!(RetryOn::parse(" , "), Err(" , ".to_owned()));
    }
}
