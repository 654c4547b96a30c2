//! `recover insights`: which steps are flaky, how often, why, and what retries cost, read from
//! the GitHub REST API's history of a repository.
//!
//! ```text
//! command (flags, token from --token-env) ─> gather::Query
//! gather: runs list ─> each run's jobs (every attempt) ─> each job's annotations
//!         through fetch::Client (ETag cache, budget, rate-limit waits, Link pages; the
//!         headers read by answer) ─> History
//! aggregate (pure): parse::step_runs per job ─> workflow → job → step, per week ─> Totals
//! advice (pure) ─> sentences;  render: table | markdown (markdown.rs) | json | csv
//! ```
//!
//! Partial data is said to be partial: [`Insights::complete`] is false and
//! [`Insights::gaps`] says what is missing, in every format.

pub mod advice;
pub mod aggregate;
mod answer;
pub mod cache;
pub mod fetch;
pub mod gather;
pub mod markdown;
pub mod model;
pub mod parse;
pub mod progress;
pub mod render;
mod rows;

use serde::Serialize;

use self::aggregate::Totals;
use self::fetch::Counters;

/// The version of the JSON output's schema.
pub const SCHEMA_VERSION: u32 = 1;

/// What `recover insights` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Insights {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `owner/name`.
    pub repo: String,
    /// The period's length in days.
    pub days: u32,
    /// Its first day (UTC), `YYYY-MM-DD`.
    pub since: String,
    /// When the report was made (RFC 3339, UTC).
    pub until: String,
    /// Whether every run of the period was read.
    pub complete: bool,
    /// What could not be read, when not complete.
    pub gaps: Vec<String>,
    /// What the API requests cost.
    pub requests: Counters,
    /// The numbers.
    #[serde(flatten)]
    pub totals: Totals,
    /// The advice, worst first.
    pub advice: Vec<String>,
}
