//! GET requests to the REST API that respect its limits: conditional requests from the `ETag`
//! [`Cache`], a request budget, waits on the rate-limit reset and on secondary limits, and the
//! `Link` header's next page.
//!
//! In: a URL, and for answers tied to a run the run's `updated_at` (the cache's stamp). Out: the
//! body and the next page's URL, or a [`FetchError`] saying why not. The waits go through an
//! injected [`Waiter`], so tests never sleep.
//!
//! What counts against `--max-requests` is what counts against GitHub's rate limit: every
//! answer except a `304 Not Modified`. Answers served from the cache without asking cost
//! nothing and are counted apart.

use std::future::Future;
use std::time::Duration;

use http::header::{HeaderMap, HeaderValue};

use super::answer::{RateLimit, Wait, github_message, header, next_link, retry_wait};
use serde::Serialize;

use super::cache::{Cache, Entry};
use crate::github::Token;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How often one request is tried (server errors, secondary limits, a reset waited on).
const TRIES: u32 = 4;

/// The clock and the sleeper, injected so that tests of waits never wait.
pub trait Waiter {
    /// Now, in seconds since the Unix epoch.
    fn now(&self) -> u64;
    /// Sleeps for `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()>;
}

/// The real clock and tokio's sleep.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealWaiter;

impl Waiter for RealWaiter {
    fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(duration)
    }
}

/// The budget and the longest wait on a limit.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests that cost rate limit, at most.
    pub max_requests: u32,
    /// The longest single wait on a rate limit; a reset further away ends the reading.
    pub max_wait: Duration,
}

/// What the requests cost, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Requests sent.
    pub sent: u32,
    /// Requests that cost rate limit (all but `304`s): what `--max-requests` bounds.
    pub cost: u32,
    /// `304 Not Modified` answers, replayed from the cache.
    pub not_modified: u32,
    /// Answers taken from the cache without asking (a completed run that did not change).
    pub cached: u32,
    /// Seconds spent waiting on rate limits.
    pub waited_seconds: u64,
}

/// Why a page could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// `--max-requests` is spent.
    #[error("the request budget (--max-requests {0}) is spent")]
    Budget(u32),
    /// The rate limit is exhausted and resets later than insights will wait.
    #[error(
        "the API rate limit is exhausted until {reset} (epoch seconds), later than the longest wait"
    )]
    RateLimited {
        /// When it resets, in seconds since the Unix epoch.
        reset: u64,
    },
    /// An HTTP error answer.
    #[error("HTTP {status}: {message}")]
    Http {
        /// The status code.
        status: u16,
        /// GitHub's message, or the start of the body.
        message: String,
    },
    /// No answer: connection refused, timed out, a broken response.
    #[error("no answer: {0}")]
    Transport(String),
    /// An answer that is not what the API documents.
    #[error("malformed answer: {0}")]
    Malformed(String),
}

impl FetchError {
    /// Whether no further request should be made (the budget or the rate limit is spent).
    #[must_use]
    pub fn stops_everything(&self) -> bool {
        matches!(self, FetchError::Budget(_) | FetchError::RateLimited { .. })
    }
}

/// One page: its body and the next page's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The body (JSON text).
    pub body: String,
    /// The `Link` header's `rel="next"` URL.
    pub next: Option<String>,
}

/// The client: octocrab for the transport, the rest of the policy here.
pub struct Client<'w, W: Waiter> {
    http: octocrab::Octocrab,
    token: Option<Token>,
    cache: Option<Cache>,
    limits: Limits,
    waiter: &'w W,
    /// When the primary rate limit, seen exhausted, resets (epoch seconds).
    exhausted_until: Option<u64>,
    /// What the requests cost so far.
    pub counters: Counters,
    /// Side-channel problems (the cache), each said once.
    pub warnings: Vec<String>,
}

impl<W: Waiter> std::fmt::Debug for Client<'_, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("token", &self.token)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl<'w, W: Waiter> Client<'w, W> {
    /// A client for the API at `base_url`, with `token` when given.
    ///
    /// # Errors
    /// When octocrab cannot be set up (a bad URL); the message never holds the token.
    #[expect(
        clippy::redundant_closure_for_method_calls,
        reason = "OctocrabBuilder has two `build` methods; the path alone is ambiguous"
    )]
    pub fn new(
        base_url: &str,
        token: Option<Token>,
        cache: Option<Cache>,
        limits: Limits,
        waiter: &'w W,
    ) -> Result<Client<'w, W>, String> {
        let http = octocrab::Octocrab::builder()
            .base_uri(base_url)
            .and_then(|b| b.build())
            .map_err(|e| format!("cannot set up a GitHub API client for {base_url}: {e}"))?;
        Ok(Client {
            http,
            token,
            cache,
            limits,
            waiter,
            exhausted_until: None,
            counters: Counters::default(),
            warnings: Vec::new(),
        })
    }

    /// GETs `url`. With a `stamp` equal to the cached entry's, the cached body is the answer and
    /// nothing is sent.
    ///
    /// # Errors
    /// A [`FetchError`] when the budget or the rate limit is spent, or the API answered with an
    /// error or nothing, after the retries that fit.
    pub async fn get(&mut self, url: &str, stamp: Option<&str>) -> Result<Page, FetchError> {
        let cached = self.cache.as_ref().and_then(|c| c.get(url));
        if let Some(entry) = &cached
            && stamp.is_some()
            && entry.stamp.as_deref() == stamp
        {
            self.counters.cached += 1;
            return Ok(Page {
                body: entry.body.clone(),
                next: entry.next.clone(),
            });
        }
        let etag = cached.as_ref().and_then(|e| e.etag.clone());
        let mut tries = 0;
        loop {
            tries += 1;
            let last = tries >= TRIES;
            self.wait_for_reset().await?;
            if self.counters.cost >= self.limits.max_requests {
                return Err(FetchError::Budget(self.limits.max_requests));
            }
            let (status, headers, body) = match self.send(url, etag.as_deref()).await {
                Ok(answer) => answer,
                Err(e) if last => return Err(e),
                Err(_) => {
                    self.pause(Duration::from_secs(u64::from(tries))).await;
                    continue;
                }
            };
            self.counters.sent += 1;
            let limit = RateLimit::of(&headers);
            if limit.remaining == Some(0) {
                self.exhausted_until = limit.reset;
            }
            if status == 304 {
                self.counters.not_modified += 1;
                let Some(entry) = cached else {
                    return Err(FetchError::Malformed(
                        "304 Not Modified for a request that was not conditional".to_owned(),
                    ));
                };
                self.store(&Entry {
                    stamp: stamp.map(str::to_owned),
                    ..entry.clone()
                });
                return Ok(Page {
                    body: entry.body,
                    next: entry.next,
                });
            }
            self.counters.cost += 1;
            if (200..300).contains(&status) {
                let next = next_link(&headers);
                self.store(&Entry {
                    url: url.to_owned(),
                    etag: header(&headers, "etag"),
                    stamp: stamp.map(str::to_owned),
                    next: next.clone(),
                    body: body.clone(),
                });
                return Ok(Page { body, next });
            }
            let error = FetchError::Http {
                status,
                message: github_message(&body),
            };
            match retry_wait(status, &limit, &body, self.waiter.now()) {
                Some(_) | None if last => return Err(error),
                Some(Wait::Until(reset)) => self.exhausted_until = Some(reset),
                Some(Wait::For(wait)) => {
                    if wait > self.limits.max_wait {
                        return Err(FetchError::RateLimited {
                            reset: self.waiter.now() + wait.as_secs(),
                        });
                    }
                    self.pause(wait).await;
                }
                None => return Err(error),
            }
        }
    }

    /// Drops the cached answer for `url` (it did not parse).
    pub fn forget(&mut self, url: &str) {
        if let Some(cache) = &self.cache {
            cache.remove(url);
        }
    }

    async fn wait_for_reset(&mut self) -> Result<(), FetchError> {
        let Some(reset) = self.exhausted_until else {
            return Ok(());
        };
        let now = self.waiter.now();
        if reset < now {
            self.exhausted_until = None;
            return Ok(());
        }
        // One second more: the limit is restored at that second, and clocks differ a little.
        let wait = Duration::from_secs(reset - now + 1);
        if wait > self.limits.max_wait {
            return Err(FetchError::RateLimited { reset });
        }
        self.pause(wait).await;
        self.exhausted_until = None;
        Ok(())
    }

    async fn pause(&mut self, wait: Duration) {
        self.counters.waited_seconds += wait.as_secs();
        self.waiter.sleep(wait).await;
    }

    fn store(&mut self, entry: &Entry) {
        let Some(cache) = &self.cache else {
            return;
        };
        if let Err(error) = cache.put(entry) {
            self.warnings.push(format!(
                "cannot write the API cache in {}: {error}; reading on without it",
                cache.dir().display()
            ));
            self.cache = None;
        }
    }

    async fn send(
        &self,
        url: &str,
        etag: Option<&str>,
    ) -> Result<(u16, HeaderMap, String), FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            "accept",
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static("2022-11-28"),
        );
        if let Some(token) = &self.token {
            let value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| FetchError::Transport("the token cannot go in a header".into()))?;
            headers.insert("authorization", value);
        }
        if let Some(value) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
            headers.insert("if-none-match", value);
        }
        let redact = |text: String| match &self.token {
            Some(token) => token.redact(&text),
            None => text,
        };
        let call = async {
            let response = self
                .http
                ._get_with_headers(url, Some(headers))
                .await
                .map_err(|e| FetchError::Transport(redact(e.to_string())))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = self
                .http
                .body_to_string(response)
                .await
                .map_err(|e| FetchError::Transport(redact(e.to_string())))?;
            Ok((status, headers, body))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, call)
            .await
            .unwrap_or_else(|_| {
                Err(FetchError::Transport(format!(
                    "no answer within {} s",
                    REQUEST_TIMEOUT.as_secs()
                )))
            })
    }
}
