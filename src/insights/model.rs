//! The REST API's answers that insights reads, in GitHub's documented shapes, and the history
//! they are gathered into.
//!
//! Only the fields insights uses are declared; GitHub's others are ignored, and a field it leaves
//! out (or sets to `null`) is `None` or empty rather than an error, so that GitHub Enterprise
//! Server versions with fewer fields still read.

use serde::{Deserialize, Serialize};

/// `GET /repos/{owner}/{repo}/actions/runs` (and `.../workflows/{file}/runs`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunsPage {
    /// How many runs match, over all pages.
    #[serde(default)]
    pub total_count: Option<u64>,
    /// The runs of this page, newest first.
    pub workflow_runs: Vec<WorkflowRun>,
}

/// One workflow run, as of its latest attempt.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRun {
    /// The run's id.
    pub id: u64,
    /// The workflow's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The workflow file, e.g. `.github/workflows/ci.yml`.
    #[serde(default)]
    pub path: Option<String>,
    /// The branch.
    #[serde(default)]
    pub head_branch: Option<String>,
    /// `queued`, `in_progress`, `completed`, ...
    #[serde(default)]
    pub status: Option<String>,
    /// `success`, `failure`, `cancelled`, ... once completed.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// The latest attempt's number (1 unless re-run).
    #[serde(default)]
    pub run_attempt: Option<u32>,
    /// When the run was created (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// When the run last changed (RFC 3339): a new attempt or a new conclusion changes it.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// `GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs?filter=all`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobsPage {
    /// How many jobs, over all pages.
    #[serde(default)]
    pub total_count: Option<u64>,
    /// The jobs of this page, of every attempt.
    pub jobs: Vec<Job>,
}

/// One job of one attempt of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The job's id, which is also its check run's id.
    pub id: u64,
    /// The job's name as shown (matrix values included).
    #[serde(default)]
    pub name: String,
    /// The attempt of the run this job belongs to: the job's own, not the run's latest.
    #[serde(default)]
    pub run_attempt: Option<u32>,
    /// `queued`, `in_progress`, `completed`, ...
    #[serde(default)]
    pub status: Option<String>,
    /// `success`, `failure`, `cancelled`, `skipped`, ... once completed.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// When the job started (RFC 3339).
    #[serde(default)]
    pub started_at: Option<String>,
    /// When it ended (RFC 3339).
    #[serde(default)]
    pub completed_at: Option<String>,
    /// Its check run's URL, whose last segment is the check run's id.
    #[serde(default)]
    pub check_run_url: Option<String>,
}

impl Job {
    /// The id of the job's check run, which holds its annotations.
    #[must_use]
    pub fn check_run_id(&self) -> u64 {
        self.check_run_url
            .as_deref()
            .and_then(|u| u.rsplit('/').next())
            .and_then(|id| id.parse().ok())
            .unwrap_or(self.id)
    }
}

/// One check-run annotation (`GET /repos/{owner}/{repo}/check-runs/{id}/annotations`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    /// `notice`, `warning` or `failure` (an `::error::`).
    #[serde(default)]
    pub annotation_level: Option<String>,
    /// The annotation's title, if it has one.
    #[serde(default)]
    pub title: Option<String>,
    /// Its text.
    #[serde(default)]
    pub message: String,
}

/// A run with what insights read of it: its jobs (every attempt) and their annotations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run.
    pub run: WorkflowRun,
    /// Its jobs, each with its annotations.
    pub jobs: Vec<JobRecord>,
}

/// A job with its annotations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The job.
    pub job: Job,
    /// Its annotations, in the order GitHub lists them (the order they were written).
    pub annotations: Vec<Annotation>,
}

/// The history insights aggregates, and how complete it is.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The runs read, newest first.
    pub runs: Vec<RunRecord>,
    /// Why the history is incomplete, if it is; empty when every run of the period was read.
    pub gaps: Vec<String>,
}

/// Seconds between two RFC 3339 instants, if both parse and the second is not earlier.
#[must_use]
pub fn seconds_between(start: Option<&str>, end: Option<&str>) -> Option<f64> {
    let start = chrono::DateTime::parse_from_rfc3339(start?).ok()?;
    let end = chrono::DateTime::parse_from_rfc3339(end?).ok()?;
    let ms = (end - start).num_milliseconds();
    #[expect(
        clippy::cast_precision_loss,
        reason = "job durations are far below 2^52 ms"
    )]
    (ms >= 0).then(|| ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of GitHub's REST reference for "List jobs for a workflow run", cut down.
    const JOBS: &str = r#"{"total_count":1,"jobs":[{"id":399444496,"run_id":29679449,
      "run_url":"https://api.github.com/repos/octo-org/octo-repo/actions/runs/29679449",
      "node_id":"MDEyOldvcmtmbG93IEpvYjM5OTQ0NDQ5Ng==","head_sha":"f83a356604ae3c5d03e1b46ef4d1ca77d64a90b0",
      "url":"https://api.github.com/repos/octo-org/octo-repo/actions/jobs/399444496",
      "html_url":"https://github.com/octo-org/octo-repo/runs/29679449/jobs/399444496",
      "status":"completed","conclusion":"success","started_at":"2020-01-20T17:42:40Z",
      "completed_at":"2020-01-20T17:44:39Z","name":"build",
      "steps":[{"name":"Set up job","status":"completed","conclusion":"success","number":1,
        "started_at":"2020-01-20T09:42:40.000-08:00","completed_at":"2020-01-20T09:42:41.000-08:00"}],
      "check_run_url":"https://api.github.com/repos/octo-org/octo-repo/check-runs/399444497",
      "labels":["self-hosted","foo","bar"],"runner_id":1,"runner_name":"my runner",
      "runner_group_id":2,"runner_group_name":"my runner group","workflow_name":"CI",
      "head_branch":"main","run_attempt":1}]}"#;

    #[test]
    fn jobs_read_in_githubs_documented_shape() {
        let page: JobsPage = serde_json::from_str(JOBS).unwrap();
        let job = &page.jobs[0];
        assert_eq!(job.name, "build");
        assert_eq!(job.run_attempt, Some(1));
        assert_eq!(job.check_run_id(), 399_444_497);
        assert_eq!(
            seconds_between(job.started_at.as_deref(), job.completed_at.as_deref()),
            Some(119.0)
        );
    }

    #[test]
    fn missing_and_null_fields_are_empty_not_errors() {
        let page: RunsPage =
            serde_json::from_str(r#"{"workflow_runs":[{"id":1,"conclusion":null}]}"#).unwrap();
        assert_eq!(page.workflow_runs[0].conclusion, None);
        let annotation: Annotation = serde_json::from_str(r#"{"message":"x"}"#).unwrap();
        assert_eq!(annotation.annotation_level, None);
    }
}
