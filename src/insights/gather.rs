//! Reads the history of a period: the completed workflow runs, every attempt's jobs, and each
//! job's check-run annotations, page by page, newest run first.
//!
//! In: a [`Query`] and a [`Client`]. Out: a [`History`] whose `gaps` say what could not be read.
//! A run counts only when all its jobs and annotations were read, so a partial history is a
//! set of whole runs (the newest ones when the budget runs out), never half a run.

use std::fmt::Write as _;

use serde::de::DeserializeOwned;

use super::fetch::{Client, FetchError, Waiter};
use super::model::{Annotation, History, JobRecord, JobsPage, RunRecord, RunsPage, WorkflowRun};

/// What to read.
#[derive(Debug, Clone)]
pub struct Query {
    /// The API's base URL, without a trailing slash.
    pub api: String,
    /// `owner/name`.
    pub repo: String,
    /// The first day of the period, `YYYY-MM-DD` (UTC).
    pub since: String,
    /// Only this workflow file's runs (`ci.yml`).
    pub workflow: Option<String>,
    /// Only runs on this branch.
    pub branch: Option<String>,
}

impl Query {
    /// The first page of the runs list.
    #[must_use]
    pub fn runs_url(&self) -> String {
        let list = match &self.workflow {
            Some(file) => format!("actions/workflows/{}/runs", encode(file)),
            None => "actions/runs".to_owned(),
        };
        let mut url = format!(
            "{}/repos/{}/{list}?per_page=100&status=completed&exclude_pull_requests=true&created={}",
            self.api,
            self.repo,
            encode(&format!(">={}", self.since))
        );
        if let Some(branch) = &self.branch {
            url.push_str("&branch=");
            url.push_str(&encode(branch));
        }
        url
    }

    fn jobs_url(&self, run: u64) -> String {
        format!(
            "{}/repos/{}/actions/runs/{run}/jobs?filter=all&per_page=100",
            self.api, self.repo
        )
    }

    fn annotations_url(&self, check_run: u64) -> String {
        format!(
            "{}/repos/{}/check-runs/{check_run}/annotations?per_page=100",
            self.api, self.repo
        )
    }
}

/// Progress, as runs are read: (runs read, runs listed, requests sent so far).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize, u32);

/// Reads the history of `query`.
///
/// # Errors
/// When the first page of runs cannot be read: then there is no history at all.
pub async fn gather<W: Waiter>(
    client: &mut Client<'_, W>,
    query: &Query,
    progress: Progress<'_>,
) -> Result<History, FetchError> {
    let mut history = History::default();
    let runs = list_runs(client, query, &mut history).await?;
    let total = runs.len();
    for (done, run) in runs.into_iter().enumerate() {
        progress(done, total, client.counters.sent);
        match read_run(client, query, &run).await {
            Ok(record) => history.runs.push(record),
            Err(error) if error.stops_everything() => {
                history.gaps.push(format!(
                    "{error}: read {done} of {total} runs (the newest); the older {} are not counted",
                    total - done
                ));
                break;
            }
            Err(error) => history
                .gaps
                .push(format!("run {}: not counted: {error}", run.id)),
        }
    }
    progress(total, total, client.counters.sent);
    Ok(history)
}

async fn list_runs<W: Waiter>(
    client: &mut Client<'_, W>,
    query: &Query,
    history: &mut History,
) -> Result<Vec<WorkflowRun>, FetchError> {
    let mut runs = Vec::new();
    let mut next = Some(query.runs_url());
    let mut page_number = 0;
    while let Some(url) = next.take() {
        page_number += 1;
        let page = match client.get(&url, None).await {
            Ok(page) => page,
            Err(error) if page_number == 1 => return Err(error),
            Err(error) => {
                history.gaps.push(format!(
                    "runs list page {page_number}: {error}; older runs are not counted"
                ));
                break;
            }
        };
        match parse::<RunsPage>(client, &url, &page.body) {
            Ok(parsed) => runs.extend(parsed.workflow_runs),
            Err(error) if page_number == 1 => return Err(error),
            Err(error) => {
                history.gaps.push(format!(
                    "runs list page {page_number}: {error}; older runs are not counted"
                ));
                break;
            }
        }
        next = page.next;
    }
    // The list is filtered by the API; a run seen twice (a page boundary moving while new runs
    // arrive) counts once.
    let mut seen = std::collections::BTreeSet::new();
    runs.retain(|r| seen.insert(r.id));
    Ok(runs)
}

async fn read_run<W: Waiter>(
    client: &mut Client<'_, W>,
    query: &Query,
    run: &WorkflowRun,
) -> Result<RunRecord, FetchError> {
    // Only a completed run's answers stay the same while its `updated_at` does.
    let stamp = (run.status.as_deref() == Some("completed"))
        .then_some(run.updated_at.as_deref())
        .flatten();
    let mut jobs = Vec::new();
    let mut next = Some(query.jobs_url(run.id));
    while let Some(url) = next.take() {
        let page = client.get(&url, stamp).await?;
        jobs.extend(parse::<JobsPage>(client, &url, &page.body)?.jobs);
        next = page.next;
    }
    let mut records = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for job in jobs {
        if !seen.insert(job.id) {
            continue;
        }
        // A skipped job ran no step and wrote no annotation.
        let annotations = if job.conclusion.as_deref() == Some("skipped") {
            Vec::new()
        } else {
            read_annotations(client, query, job.check_run_id(), stamp).await?
        };
        records.push(JobRecord { job, annotations });
    }
    Ok(RunRecord {
        run: run.clone(),
        jobs: records,
    })
}

async fn read_annotations<W: Waiter>(
    client: &mut Client<'_, W>,
    query: &Query,
    check_run: u64,
    stamp: Option<&str>,
) -> Result<Vec<Annotation>, FetchError> {
    let mut annotations = Vec::new();
    let mut next = Some(query.annotations_url(check_run));
    while let Some(url) = next.take() {
        let page = client.get(&url, stamp).await?;
        annotations.extend(parse::<Vec<Annotation>>(client, &url, &page.body)?);
        next = page.next;
    }
    Ok(annotations)
}

/// Parses a page; a page that does not parse is dropped from the cache, so that the next call
/// asks for it again instead of replaying it.
fn parse<T: DeserializeOwned>(
    client: &mut Client<'_, impl Waiter>,
    url: &str,
    body: &str,
) -> Result<T, FetchError> {
    serde_json::from_str(body).map_err(|e| {
        client.forget(url);
        FetchError::Malformed(format!("{e}"))
    })
}

/// Percent-encodes a query value or a path segment (RFC 3986 unreserved characters stay).
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runs_url_filters_the_period_workflow_and_branch() {
        let query = Query {
            api: "https://ghe.example.com/api/v3".to_owned(),
            repo: "o/r".to_owned(),
            since: "2026-11-20".to_owned(),
            workflow: Some("ci.yml".to_owned()),
            branch: Some("release/1.x".to_owned()),
        };
        assert_eq!(
            query.runs_url(),
            "https://ghe.example.com/api/v3/repos/o/r/actions/workflows/ci.yml/runs?per_page=100\
             &status=completed&exclude_pull_requests=true&created=%3E%3D2026-11-20\
             &branch=release%2F1.x"
        );
    }
}
