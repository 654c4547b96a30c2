//! The GitHub API, through octocrab, behind one narrow question: when does the rate limit reset?
//!
//! In: the API's base URL (`GITHUB_API_URL`, which GitHub Enterprise Server sets to its own) and
//! the `github_token` input. Out: the reset time of the earliest exhausted rate limit, in seconds
//! since the Unix epoch; `None` when no limit is exhausted; or an [`ApiError`] saying why the API
//! could not tell. The engine asks only after a failure that the built-in rule
//! `github-rate-limit` classified and whose output named no wait; a failure here costs one
//! warning and the backoff wait, never the step's result.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// The API of github.com, used when `GITHUB_API_URL` is unset or empty.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// How long the call to `/rate_limit` may take before recover gives up on it and uses the
/// backoff: a retry should not wait on a slow API much longer than on the backoff itself.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Seconds added to a reset time: the limit is restored at that second, and the runner's clock
/// and GitHub's may differ by a little.
pub const RESET_MARGIN_SECONDS: u64 = 1;

/// A GitHub token (`github_token`). Its `Debug` never shows it, so neither does a [`Plan`]'s.
///
/// [`Plan`]: crate::plan::Plan
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token.
    #[must_use]
    pub fn new(token: impl Into<String>) -> Token {
        Token(token.into())
    }

    /// Whether the token can go into an `Authorization` header: visible ASCII only. octocrab
    /// panics on a header value it cannot build, so recover checks first.
    pub(crate) fn is_header_safe(&self) -> bool {
        !self.0.is_empty() && self.0.bytes().all(|b| b.is_ascii_graphic())
    }

    /// The token itself, for an `Authorization` header; never for a message.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces the token wherever it appears in `text`, so that no message can carry it.
    #[must_use]
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Where to ask and with what token.
#[derive(Debug, Clone)]
pub struct Api {
    base_url: String,
    token: Token,
}

/// Why the API could not say when the rate limit resets.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The token holds characters an HTTP header cannot carry.
    #[error("github_token is not a valid token (it holds spaces or control characters)")]
    BadToken,
    /// octocrab could not be set up for this base URL (a bad URL, no TLS roots).
    #[error("cannot set up a GitHub API client for {url}: {cause}")]
    Client {
        /// The base URL.
        url: String,
        /// What went wrong, with the token redacted.
        cause: String,
    },
    /// The request failed: no connection, an HTTP error status, or a body that is not JSON of
    /// the expected shape.
    #[error("GET {url}/rate_limit failed: {cause}")]
    Request {
        /// The base URL.
        url: String,
        /// What went wrong, with the token redacted.
        cause: String,
    },
    /// No answer within [`TIMEOUT`].
    #[error("GET {url}/rate_limit did not answer within {} s", TIMEOUT.as_secs())]
    TimedOut {
        /// The base URL.
        url: String,
    },
}

impl Api {
    /// The API at `base_url` (`GITHUB_API_URL`; [`DEFAULT_API_URL`] when `None` or empty),
    /// asked with `token`.
    #[must_use]
    pub fn new(base_url: Option<&str>, token: Token) -> Api {
        let base_url = base_url
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or(DEFAULT_API_URL)
            .trim_end_matches('/')
            .to_owned();
        Api { base_url, token }
    }

    /// The base URL requests go to, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Asks `GET /rate_limit` and returns the reset time (seconds since the Unix epoch) of the
    /// earliest exhausted rate limit, or `None` when none is exhausted (a secondary rate limit,
    /// which `/rate_limit` does not show, for one).
    ///
    /// # Errors
    /// An [`ApiError`] when the token is unusable, the call fails or takes longer than
    /// [`TIMEOUT`]. Every message has the token redacted.
    pub async fn rate_limit_reset(&self) -> Result<Option<u64>, ApiError> {
        if !self.token.is_header_safe() {
            return Err(ApiError::BadToken);
        }
        let url = self.base_url.clone();
        let client = octocrab::Octocrab::builder()
            .base_uri(url.as_str())
            .and_then(|b| b.personal_token(self.token.0.clone()).build())
            .map_err(|e| ApiError::Client {
                url: url.clone(),
                cause: self.token.redact(&describe(&e)),
            })?;
        let call = client.get::<RateLimits, _, ()>("/rate_limit", None);
        match tokio::time::timeout(TIMEOUT, call).await {
            Err(_) => Err(ApiError::TimedOut { url }),
            Ok(Err(e)) => Err(ApiError::Request {
                url,
                cause: self.token.redact(&describe(&e)),
            }),
            Ok(Ok(limits)) => Ok(limits.earliest_exhausted_reset()),
        }
    }
}

/// The body of `GET /rate_limit`: each resource (`core`, `search`, `graphql`, …) with what is
/// left of it and when it resets. Resources GitHub adds later are read the same way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RateLimits {
    /// The resources by name.
    #[serde(default)]
    pub resources: BTreeMap<String, Resource>,
}

/// One resource of [`RateLimits`]; a field GitHub leaves out is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Resource {
    /// Requests left in the current window.
    pub remaining: Option<u64>,
    /// When the window ends, in seconds since the Unix epoch.
    pub reset: Option<u64>,
}

impl RateLimits {
    /// The reset time of the exhausted resource (nothing remaining) that resets first.
    ///
    /// recover cannot tell which resource the command used up, so it waits for the earliest:
    /// should the command need another, it fails again and recover asks again.
    #[must_use]
    pub fn earliest_exhausted_reset(&self) -> Option<u64> {
        self.resources
            .values()
            .filter(|r| r.remaining == Some(0))
            .filter_map(|r| r.reset)
            .min()
    }
}

/// One line about an octocrab error: the status and GitHub's message for an HTTP error, else
/// the chain of causes, without the repetition octocrab's messages carry.
fn describe(error: &octocrab::Error) -> String {
    if let octocrab::Error::GitHub { source, .. } = error {
        let message = source.message.lines().next().unwrap_or_default();
        return format!("HTTP {}: {message}", source.status_code.as_u16());
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text.lines().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_exhausted_resource_sets_the_reset() {
        let cases: [(&str, Option<u64>); 6] = [
            (
                r#"{"resources":{"core":{"limit":5000,"used":5000,"remaining":0,"reset":1767225700},
                   "search":{"limit":30,"used":1,"remaining":29,"reset":1767225610}}}"#,
                Some(1_767_225_700),
            ),
            (
                r#"{"resources":{"core":{"remaining":0,"reset":1767225900},
                   "graphql":{"remaining":0,"reset":1767225800},
                   "search":{"remaining":3,"reset":1767225610}}}"#,
                Some(1_767_225_800),
            ),
            (
                r#"{"resources":{"core":{"remaining":12,"reset":1767225700}},
                   "rate":{"remaining":12,"reset":1767225700}}"#,
                None,
            ),
            (
                r#"{"resources":{"code_search":{"remaining":0,"reset":1767225650},
                   "core":{"remaining":1,"reset":1767225600}}}"#,
                Some(1_767_225_650),
            ),
            (r#"{"resources":{"core":{"remaining":0}}}"#, None),
            (r#"{"message":"Rate limiting is not enabled."}"#, None),
        ];
        for (body, want) in cases {
            let limits: RateLimits = serde_json::from_str(body).unwrap();
            assert_eq!(limits.earliest_exhausted_reset(), want, "{body}");
        }
    }

    #[test]
    fn the_base_url_defaults_to_github_com_and_loses_its_trailing_slash() {
        let token = || Token::new("t");
        assert_eq!(Api::new(None, token()).base_url(), DEFAULT_API_URL);
        assert_eq!(Api::new(Some(" "), token()).base_url(), DEFAULT_API_URL);
        assert_eq!(
            Api::new(Some("https://ghe.example.com/api/v3/"), token()).base_url(),
            "https://ghe.example.com/api/v3"
        );
    }

    #[test]
    fn a_token_never_shows_in_debug_output_or_messages() {
        let token = Token::new("ghs_secret123");
        let api = Api::new(None, token.clone());
        assert!(!format!("{token:?} {api:?}").contains("ghs_secret123"));
        assert_eq!(
            token.redact("Bearer ghs_secret123 rejected"),
            "Bearer *** rejected"
        );
    }

    #[test]
    fn only_visible_ascii_tokens_go_into_a_header() {
        assert!(Token::new("ghs_abc-123").is_header_safe());
        for bad in ["", "ghs abc", "ghs\nabc", "ghs\u{7f}", "tökén"] {
            assert!(!Token::new(bad).is_header_safe(), "{bad:?}");
        }
    }

    #[test]
    fn an_unusable_token_is_an_error_before_any_request() {
        let api = Api::new(Some("http://127.0.0.1:9"), Token::new("a b"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let result = runtime.block_on(api.rate_limit_reset());
        assert!(matches!(result, Err(ApiError::BadToken)), "{result:?}");
    }
}
