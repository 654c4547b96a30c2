//! Reading an API answer: its rate-limit headers, its `Link` header's next page, GitHub's
//! error message, and whether an error answer is worth another try, by GitHub's rules.
//!
//! In: the status, headers and body of one answer. Out: plain values. Pure.

use std::time::Duration;

use http::header::HeaderMap;

/// The wait GitHub asks for after a secondary rate limit that names no `retry-after`: "wait at
/// least one minute" (docs: "Rate limits for the REST API").
const SECONDARY_WAIT: Duration = Duration::from_secs(60);

/// The rate-limit headers of an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct RateLimit {
    pub(super) remaining: Option<u64>,
    pub(super) reset: Option<u64>,
    pub(super) retry_after: Option<u64>,
}

impl RateLimit {
    pub(super) fn of(headers: &HeaderMap) -> RateLimit {
        let number = |name: &str| header(headers, name).and_then(|v| v.trim().parse().ok());
        RateLimit {
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset"),
            retry_after: number("retry-after"),
        }
    }
}

/// What to do before trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    /// Wait this long (a secondary limit, a server error).
    For(Duration),
    /// Wait until the primary limit resets (epoch seconds).
    Until(u64),
}

/// Whether an error answer is worth another try, and after what wait, by GitHub's rules
/// ("Rate limits for the REST API"): `retry-after` first; then a primary limit's
/// `x-ratelimit-reset` when nothing remains; then a minute for a secondary limit that says so
/// only in its message; a server error gets a short pause. Anything else is final.
pub(super) fn retry_wait(status: u16, limit: &RateLimit, body: &str, now: u64) -> Option<Wait> {
    match status {
        403 | 429 => {
            if let Some(seconds) = limit.retry_after {
                Some(Wait::For(Duration::from_secs(seconds)))
            } else if limit.remaining == Some(0) {
                Some(Wait::Until(limit.reset.unwrap_or(now + 60)))
            } else if body.to_ascii_lowercase().contains("secondary rate limit") {
                Some(Wait::For(SECONDARY_WAIT))
            } else {
                None
            }
        }
        500..=599 => Some(Wait::For(Duration::from_secs(1))),
        _ => None,
    }
}

pub(super) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

/// The `rel="next"` URL of a `Link` header: `<url>; rel="next", <url>; rel="last"`.
pub(super) fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = header(headers, "link")?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// GitHub's `message` from an error body, else the body's first 200 characters.
pub(super) fn github_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect())
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn the_next_link_is_found_among_the_others() {
        let map = headers(&[(
            "link",
            r#"<https://api.github.com/repositories/1/actions/runs?page=3>; rel="next", <https://api.github.com/repositories/1/actions/runs?page=9>; rel="last", <https://api.github.com/repositories/1/actions/runs?page=1>; rel="first""#,
        )]);
        assert_eq!(
            next_link(&map).as_deref(),
            Some("https://api.github.com/repositories/1/actions/runs?page=3")
        );
        let last_page = headers(&[("link", r#"<https://x/r?page=1>; rel="prev""#)]);
        assert_eq!(next_link(&last_page), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn limits_are_waited_on_by_githubs_rules() {
        let limit = |remaining, reset, retry_after| RateLimit {
            remaining,
            reset,
            retry_after,
        };
        let cases = [
            (
                403,
                limit(Some(10), None, Some(30)),
                "",
                Some(Wait::For(Duration::from_secs(30))),
            ),
            (
                429,
                limit(Some(0), Some(1_900), None),
                "",
                Some(Wait::Until(1_900)),
            ),
            (
                403,
                limit(Some(4000), None, None),
                r#"{"message":"You have exceeded a secondary rate limit."}"#,
                Some(Wait::For(SECONDARY_WAIT)),
            ),
            (
                403,
                limit(Some(4000), None, None),
                r#"{"message":"Resource not accessible"}"#,
                None,
            ),
            (
                502,
                limit(None, None, None),
                "",
                Some(Wait::For(Duration::from_secs(1))),
            ),
            (404, limit(None, None, None), "", None),
        ];
        for (status, limit, body, want) in cases {
            assert_eq!(
                retry_wait(status, &limit, body, 1_000),
                want,
                "{status} {body}"
            );
        }
    }

    #[test]
    fn error_messages_are_githubs_or_the_start_of_the_body() {
        assert_eq!(github_message(r#"{"message":"Not Found"}"#), "Not Found");
        assert_eq!(github_message("<html>\nbad gateway"), "<html>");
    }
}
