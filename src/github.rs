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
/// backoff: a retry should not wait on a slow API much longer than on the backoff itself. The
/// caller shortens it to what is left before the step's deadline.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer recover reads from `/rate_limit`: 1 MiB. GitHub's is about 2 KB; a
/// server that sends more (or never stops) is not answering the question, and reading it whole
/// would take memory without bound.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

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
    /// `GITHUB_API_URL` is not an http(s) URL with a host. octocrab panics on some such URLs,
    /// so recover checks first.
    #[error("GITHUB_API_URL {url:?} is not valid: {problem}")]
    BadUrl {
        /// The URL, with any user info hidden.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
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
    /// No answer within the time allowed ([`TIMEOUT`], or less before a deadline).
    #[error("GET {url}/rate_limit did not answer within {:.1} s", .after.as_secs_f64())]
    TimedOut {
        /// The base URL.
        url: String,
        /// The time allowed.
        after: Duration,
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

    /// The base URL as messages show it: user info (`user:pass@`) replaced by `***`.
    #[must_use]
    pub fn shown_url(&self) -> String {
        hide_user_info(&self.base_url)
    }

    /// Checks the base URL: http or https, with a host.
    fn check_url(&self) -> Result<(), ApiError> {
        let bad = |problem: &str| ApiError::BadUrl {
            url: self.shown_url(),
            problem: problem.to_owned(),
        };
        let url = url::Url::parse(&self.base_url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("expected an http or https URL"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("the URL has no host"));
        }
        Ok(())
    }

    /// A message about this API with the token and the URL's user info hidden.
    fn redact(&self, text: &str) -> String {
        self.token
            .redact(text)
            .replace(&self.base_url, &self.shown_url())
    }

    /// Asks `GET /rate_limit` and returns the reset time (seconds since the Unix epoch) of the
    /// earliest exhausted rate limit, or `None` when none is exhausted (a secondary rate limit,
    /// which `/rate_limit` does not show, for one).
    ///
    /// # Errors
    /// An [`ApiError`] when the token or the URL is unusable, the call fails or takes longer
    /// than `timeout`. Every message has the token and the URL's user info hidden.
    pub async fn rate_limit_reset(&self, timeout: Duration) -> Result<Option<u64>, ApiError> {
        if !self.token.is_header_safe() {
            return Err(ApiError::BadToken);
        }
        self.check_url()?;
        let url = self.shown_url();
        tracing::debug!(%url, ?timeout, "asking GET /rate_limit");
        let client = octocrab::Octocrab::builder()
            .base_uri(self.base_url.as_str())
            .and_then(|b| b.personal_token(self.token.0.clone()).build())
            .map_err(|e| ApiError::Client {
                url: url.clone(),
                cause: self.redact(&describe(&e)),
            })?;
        match tokio::time::timeout(timeout, ask(&client)).await {
            Err(_) => Err(ApiError::TimedOut {
                url,
                after: timeout,
            }),
            Ok(Err(cause)) => Err(ApiError::Request {
                url,
                cause: self.redact(&cause),
            }),
            Ok(Ok(limits)) => Ok(limits.earliest_exhausted_reset()),
        }
    }
}

/// `GET /rate_limit` with the body read up to [`MAX_ANSWER_BYTES`]; the error is one line.
///
/// The path is relative: octocrab adds the base URL, and sends the token only to a relative
/// request's host (it holds the token back from any other authority).
async fn ask(client: &octocrab::Octocrab) -> Result<RateLimits, String> {
    use http_body_util::BodyExt as _;
    let response = client._get("/rate_limit").await.map_err(|e| describe(&e))?;
    let status = response.status();
    let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                format!("the answer is larger than {MAX_ANSWER_BYTES} bytes")
            } else {
                one_line(&e.to_string())
            }
        })?
        .to_bytes();
    if !status.is_success() {
        return Err(format!(
            "HTTP {}: {}",
            status.as_u16(),
            error_message(&body, status.as_u16(), status.canonical_reason())
        ));
    }
    serde_json::from_slice(&body).map_err(|e| format!("the answer is not the JSON expected: {e}"))
}

/// GitHub's `message` of an error body, else the start of the body, else the status's reason.
fn error_message(body: &[u8], code: u16, reason: Option<&str>) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        message: Option<String>,
    }
    let message = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.message)
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    let first = message.lines().next().unwrap_or_default();
    if first.is_empty() {
        return reason.map_or_else(|| format!("status {code}"), ToOwned::to_owned);
    }
    first.chars().take(200).collect()
}

/// `text` on one line: line breaks become spaces.
fn one_line(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join(" ")
}

impl Api {}

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

/// `url` with its user info (`user:pass@` after the scheme) replaced by `***`, parsed or not.
#[must_use]
pub fn hide_user_info(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => {
            let scheme = if scheme.is_empty() {
                String::new()
            } else {
                format!("{scheme}://")
            };
            format!("{scheme}***@{host}{path}")
        }
        None => url.to_owned(),
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
    one_line(&text)
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
        let result = runtime.block_on(api.rate_limit_reset(TIMEOUT));
        assert!(matches!(result, Err(ApiError::BadToken)), "{result:?}");
    }

    #[test]
    fn a_bad_base_url_is_an_error_before_any_request_and_hides_user_info() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let cases = [
            ("not-a-url", "relative URL without a base"),
            ("ftp://example.com", "expected an http or https URL"),
            ("http://", "empty host"),
            ("https://user:hunter2@", "empty host"),
            ("http://exa mple.com", "invalid international domain name"),
            ("unix:/var/run/socket", "expected an http or https URL"),
        ];
        for (url, problem) in cases {
            let api = Api::new(Some(url), Token::new("ghs_x"));
            let result = runtime.block_on(api.rate_limit_reset(TIMEOUT));
            let Err(error @ ApiError::BadUrl { .. }) = result else {
                panic!("{url}: {result:?}");
            };
            let text = error.to_string();
            assert!(text.contains(problem), "{url}: {text}");
            assert!(!text.contains("hunter2"), "{url}: {text}");
        }
    }

    #[test]
    fn user_info_never_shows() {
        let cases = [
            ("http://user:pass@host:8080/api", "http://***@host:8080/api"),
            ("https://tok@ghe.example.com", "https://***@ghe.example.com"),
            ("https://a@b:c@host/x@y", "https://***@host/x@y"),
            ("user:pass@host", "***@host"),
            ("https://api.github.com", "https://api.github.com"),
            ("http://host/path@x", "http://host/path@x"),
        ];
        for (url, shown) in cases {
            assert_eq!(hide_user_info(url), shown, "{url}");
        }
    }
}
