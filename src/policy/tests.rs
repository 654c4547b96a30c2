use std::time::Duration;

use super::retry_on::tests::{classification, failed, timed_out};
use super::waits::tests::policy;
use super::*;

fn base_policy() -> Policy {
    Policy {
        max_attempts: 3,
        retry_on: RetryOn::any(),
        retry_on_exit_codes: Vec::new(),
        unknown_retries: 1,
        waits: policy(Backoff::Fixed, Jitter::None, 10, Some(30)),
        max_hint_wait: None,
    }
}

fn situation<'a>(attempt: u32, facts: &'a ExitFacts, class: &'a Classification) -> Situation<'a> {
    Situation {
        attempt,
        facts,
        classification: class,
        backoff_wait: Duration::from_secs(10),
        hinted_wait: None,
        earlier_unknown: 0,
        remaining: None,
    }
}

/// The unknown policy: under `retry_on: classified`, a failure no rule recognised is retried
/// `unknown_retries` times, then recover stops; lists that name such failures otherwise
/// (`unknown`, `any`, `error`) are not limited.
#[test]
fn an_unknown_failure_is_retried_unknown_retries_times_under_classified() {
    let f = failed(1);
    let unknown = Classification::from_exit(&f);
    let network = classification(Category::Network, true);
    let classified = Policy {
        retry_on: RetryOn::parse("classified").unwrap(),
        max_attempts: 5,
        ..base_policy()
    };
    let after = |earlier_unknown, class| Situation {
        earlier_unknown,
        ..situation(2, &f, class)
    };
    assert!(matches!(
        decide(&classified, &after(0, &unknown)),
        Decision::Retry { .. }
    ));
    assert_eq!(
        decide(&classified, &after(1, &unknown)),
        Decision::GiveUp(GiveUp::NotRetryable)
    );
    assert!(
        matches!(
            decide(&classified, &after(1, &network)),
            Decision::Retry { .. }
        ),
        "recognised failures are not limited"
    );
    let never = Policy {
        unknown_retries: 0,
        ..classified.clone()
    };
    assert_eq!(
        decide(&never, &after(0, &unknown)),
        Decision::GiveUp(GiveUp::NotRetryable)
    );
    for list in ["classified,unknown", "classified,error", "any"] {
        let wider = Policy {
            retry_on: RetryOn::parse(list).unwrap(),
            ..classified.clone()
        };
        assert!(
            matches!(decide(&wider, &after(3, &unknown)), Decision::Retry { .. }),
            "{list}"
        );
    }
}

#[test]
fn decisions() {
    let p = base_policy();
    let unknown = Classification::from_exit(&failed(1));
    let ok = ExitFacts {
        exit_code: 0,
        signal: None,
        timed_out: false,
    };
    assert_eq!(decide(&p, &situation(1, &ok, &unknown)), Decision::Succeed);
    let f = failed(3);
    assert_eq!(
        decide(&p, &situation(1, &f, &unknown)),
        Decision::Retry {
            wait: Duration::from_secs(10),
            from_hint: false
        }
    );
    assert_eq!(
        decide(&p, &situation(3, &f, &unknown)),
        Decision::GiveUp(GiveUp::AttemptsExhausted)
    );

    let listed = Policy {
        retry_on_exit_codes: vec![2, 5],
        ..base_policy()
    };
    assert_eq!(
        decide(&listed, &situation(1, &f, &unknown)),
        Decision::GiveUp(GiveUp::ExitCodeNotListed(3))
    );
    assert!(matches!(
        decide(&listed, &situation(1, &failed(5), &unknown)),
        Decision::Retry { .. }
    ));
    let t = timed_out();
    assert!(
        matches!(
            decide(&listed, &situation(1, &t, &unknown)),
            Decision::Retry { .. }
        ),
        "timeouts follow retry_on"
    );

    let only_timeouts = Policy {
        retry_on: RetryOn::parse("timeout").unwrap(),
        ..base_policy()
    };
    assert_eq!(
        decide(&only_timeouts, &situation(1, &f, &unknown)),
        Decision::GiveUp(GiveUp::NotRetryable)
    );
}

#[test]
fn hints_replace_the_backoff_within_the_cap_and_the_deadline_bounds_the_wait() {
    let p = base_policy();
    let f = failed(1);
    let unknown = Classification::from_exit(&f);
    let mut s = situation(1, &f, &unknown);
    s.hinted_wait = Some(Duration::from_secs(2));
    assert_eq!(
        decide(&p, &s),
        Decision::Retry {
            wait: Duration::from_secs(2),
            from_hint: true
        }
    );
    s.hinted_wait = Some(Duration::from_secs(600));
    assert_eq!(
        decide(&p, &s),
        Decision::Retry {
            wait: Duration::from_secs(30),
            from_hint: true
        }
    );
    s.hinted_wait = None;
    s.remaining = Some(Duration::from_secs(10));
    assert_eq!(decide(&p, &s), Decision::GiveUp(GiveUp::Deadline));
    s.remaining = Some(Duration::from_secs(11));
    assert!(matches!(decide(&p, &s), Decision::Retry { .. }));
}

#[test]
fn a_hint_longer_than_the_step_can_use_ends_the_retries() {
    let f = failed(1);
    let unknown = Classification::from_exit(&f);
    let secs = Duration::from_secs;
    let uncapped = |max_hint_wait| Policy {
        waits: policy(Backoff::Fixed, Jitter::None, 10, None),
        max_hint_wait,
        ..base_policy()
    };
    let retry = |s| Decision::Retry {
        wait: secs(s),
        from_hint: true,
    };
    let too_long = |wait, limit, deadline| {
        Decision::GiveUp(GiveUp::HintTooLong {
            wait: secs(wait),
            limit: secs(limit),
            deadline,
        })
    };
    // (max_hint_wait_seconds, time left, hint, decision)
    let cases = [
        (None, None, 900, retry(900)),
        (None, None, 901, too_long(901, 900, false)),
        (None, None, 9_999_999, too_long(9_999_999, 900, false)),
        (Some(60), None, 61, too_long(61, 60, false)),
        (Some(60), None, 60, retry(60)),
        (Some(7200), None, 3600, retry(3600)),
        // With a deadline, the time left is the limit unless the input is lower.
        (None, Some(3600), 1800, retry(1800)),
        (None, Some(3600), 3600, too_long(3600, 3600, true)),
        (None, Some(30), 9_999_999, too_long(9_999_999, 30, true)),
        (Some(60), Some(3600), 120, too_long(120, 60, false)),
        (Some(600), Some(100), 200, too_long(200, 100, true)),
    ];
    for (max, left, hint, want) in cases {
        let p = uncapped(max.map(secs));
        let mut s = situation(1, &f, &unknown);
        s.hinted_wait = Some(secs(hint));
        s.remaining = left.map(secs);
        assert_eq!(
            decide(&p, &s),
            want,
            "max {max:?} left {left:?} hint {hint}"
        );
    }
    // max_wait_seconds still caps a hint first: the capped wait is what must fit.
    let mut s = situation(1, &f, &unknown);
    s.hinted_wait = Some(secs(9_999_999));
    assert_eq!(decide(&base_policy(), &s), retry(30));
}

#[test]
fn the_github_rate_limit_rule_is_a_builtin_rate_limit_rule() {
    let rules = crate::classify::Rules::builtin();
    let rule = rules
        .rules()
        .iter()
        .find(|r| r.name == GITHUB_RATE_LIMIT_RULE)
        .expect("builtin.yml has the rule");
    assert_eq!(rule.category, Category::RateLimit);
}

#[test]
fn only_a_github_rate_limit_without_a_hint_that_waits_asks_for_the_reset() {
    let f = failed(1);
    let github = Classification {
        rule: Some(GITHUB_RATE_LIMIT_RULE.to_owned()),
        ..classification(Category::RateLimit, true)
    };
    let docker = Classification {
        rule: Some("docker-rate-limit".to_owned()),
        ..classification(Category::RateLimit, true)
    };
    let backoff = Decision::Retry {
        wait: Duration::from_secs(10),
        from_hint: false,
    };
    let hinted = Decision::Retry {
        wait: Duration::from_secs(10),
        from_hint: true,
    };
    let s = situation(1, &f, &github);
    let with_hint = Situation {
        hinted_wait: Some(Duration::from_secs(10)),
        ..s
    };
    let cases = [
        (s, backoff.clone(), true),
        (s, Decision::GiveUp(GiveUp::Deadline), true),
        (s, hinted, false),
        (with_hint, backoff.clone(), false),
        (s, Decision::GiveUp(GiveUp::AttemptsExhausted), false),
        (s, Decision::GiveUp(GiveUp::NotRetryable), false),
        (s, Decision::Succeed, false),
        (situation(1, &f, &docker), backoff, false),
    ];
    for (situation, decision, want) in cases {
        assert_eq!(
            asks_rate_limit_reset(&situation, &decision),
            want,
            "{decision:?} {:?} {:?}",
            situation.classification.rule,
            situation.hinted_wait
        );
    }
}
