//! Deterministic histories for the fake API.
//!
//! [`history`] is 60 runs of one workflow, `CI`, one every 5 hours back from now, newest
//! first (run `i` is created `5 i` hours ago). Each run has two jobs:
//!
//! - `build` runs `npm ci` under recover, which writes its step result annotation (and its
//!   `Attempt N failed` warnings before it):
//!   - `i % 10 == 7`: the run is cancelled; the step's result is `cancelled`, 1 attempt;
//!   - `i % 3 == 0`: recovered on attempt 2 (network, rule npm-registry-503), 50 s lost,
//!     recovery 45 s, `retry_wait_seconds` 10, fixed backoff;
//!   - `i % 3 == 1`: passed on the first attempt;
//!   - `i % 3 == 2`: failed after 3 attempts (permanent, rule npm-404, retried anyway), 30 s
//!     lost; the job fails (120 s). For `i < 30` the job was re-run by hand: attempt 2 of the
//!     run passed (the step passed on its first attempt).
//! - `test` runs under nick-fields/retry, which leaves only its warnings and final error:
//!   - `i % 5 == 0`: recovered on attempt 3 (`Timeout of 60000ms hit` last);
//!   - `i % 5 == 3`: failed after 2 attempts (`Final attempt failed`); the job fails;
//!   - `i == 1`: recovered on attempt 11 after 10 warnings (GitHub keeps only 10 per step, so
//!     the counts may be truncated);
//!   - otherwise no annotation; cancelled with the run.
//!
//! Hand-computed (see the test): 60 runs, 6 cancelled; `npm ci`: 69 step runs (54, then 9
//! re-runs and 6 cancelled), 27 first try, 18 recovered, 18 failed, 6 cancelled, 54 retries, 1440 s lost;
//! build: 36 passed first, 9 passed on a re-run, 9 failed, 6 cancelled, 1080 s in re-run
//! attempts; nick step: 25 runs, 13 recovered, 12 failed, 46 retries, 12 timeouts, 1 may be
//! truncated.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::server::FixtureRun;

const HOUR: i64 = 3600;

/// An RFC 3339 instant `seconds_ago` seconds before now.
pub fn ago(seconds_ago: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(seconds_ago))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn run_json(id: u64, conclusion: &str, attempt: u32, created_ago: i64) -> Value {
    json!({
        "id": id, "name": "CI", "node_id": "WFR_x", "head_branch": "main",
        "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
        "path": ".github/workflows/ci.yml", "run_number": id, "event": "push",
        "display_title": "Update README.md", "status": "completed", "conclusion": conclusion,
        "workflow_id": 159_038, "check_suite_id": id * 7, "url": "https://example/runs",
        "html_url": "https://example/runs", "pull_requests": [],
        "created_at": ago(created_ago), "updated_at": ago(created_ago - HOUR),
        "run_attempt": attempt, "run_started_at": ago(created_ago),
        "jobs_url": "https://example/jobs", "logs_url": "https://example/logs",
    })
}

/// A job of the documented shape; its duration is `seconds`.
#[expect(
    clippy::too_many_arguments,
    reason = "a job's fields, named at each call"
)]
pub fn job_json(
    base: &str,
    id: u64,
    run: u64,
    name: &str,
    attempt: u32,
    conclusion: &str,
    started_ago: i64,
    seconds: i64,
) -> Value {
    json!({
        "id": id, "run_id": run, "workflow_name": "CI", "head_branch": "main",
        "run_url": format!("{base}/repos/o/r/actions/runs/{run}"), "run_attempt": attempt,
        "node_id": "CR_x", "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
        "url": format!("{base}/repos/o/r/actions/jobs/{id}"),
        "html_url": format!("https://example/o/r/actions/runs/{run}/job/{id}"),
        "status": "completed", "conclusion": conclusion,
        "created_at": ago(started_ago), "started_at": ago(started_ago),
        "completed_at": ago(started_ago - seconds), "name": name,
        "steps": [{"name": "Set up job", "status": "completed", "conclusion": "success",
                   "number": 1, "started_at": ago(started_ago), "completed_at": ago(started_ago - 1)}],
        "check_run_url": format!("{base}/repos/o/r/check-runs/{id}"),
        "labels": ["ubuntu-latest"], "runner_id": 1, "runner_name": "GitHub Actions 1",
        "runner_group_id": 1, "runner_group_name": "GitHub Actions",
    })
}

/// An annotation of the documented shape.
pub fn note(level: &str, message: &str) -> Value {
    json!({
        "path": ".github", "blob_href": "https://example/blob", "start_line": 1, "end_line": 1,
        "start_column": null, "end_column": null, "annotation_level": level,
        "title": "", "message": message, "raw_details": "",
    })
}

/// recover's step result annotation.
#[allow(clippy::too_many_arguments)]
pub fn result(
    id: &str,
    outcome: &str,
    attempts: u32,
    category: Option<&str>,
    rule: Option<&str>,
    lost: f64,
    recovery: Option<f64>,
    permanent: bool,
) -> Value {
    let tail = json!({
        "v": 1, "id": id, "command": "npm ci", "outcome": outcome, "attempts": attempts,
        "category": category, "rule": rule, "lost_s": lost, "wait_s": 10.0, "backoff": "fixed",
        "recovery_s": recovery, "retried_permanent": permanent,
    });
    note(
        "notice",
        &format!("Step result: `npm ci` {outcome}\nrecover-result {tail}"),
    )
}

fn warning(n: u32, reason: &str) -> Value {
    note("warning", &format!("Attempt {n} failed. Reason: {reason}"))
}

/// The 60-run history described above.
pub fn history(base: &str) -> Vec<FixtureRun> {
    (0..60u64).map(|i| one_run(base, i)).collect()
}

#[allow(clippy::cast_possible_wrap)]
#[expect(
    clippy::too_many_lines,
    reason = "the fixture's rules in one place, in the order the module doc lists them"
)]
fn one_run(base: &str, i: u64) -> FixtureRun {
    let id = 1000 + i;
    let created = (i as i64) * 5 * HOUR + 600;
    let cancelled = i % 10 == 7;
    let rerun = !cancelled && i % 3 == 2 && i < 30;
    let (build_id, test_id, rebuild_id) = (id * 10 + 1, id * 10 + 2, id * 10 + 3);
    let step_id = format!("{id}:1:build:npm");
    let mut annotations: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    let (build_conclusion, build_notes) = if cancelled {
        (
            "cancelled",
            vec![result(
                &step_id,
                "cancelled",
                1,
                None,
                None,
                0.0,
                None,
                false,
            )],
        )
    } else {
        match i % 3 {
            0 => (
                "success",
                vec![
                    warning(1, "Child_process exited with error code 1"),
                    result(
                        &step_id,
                        "recovered",
                        2,
                        Some("network"),
                        Some("npm-registry-503"),
                        50.0,
                        Some(45.0),
                        false,
                    ),
                ],
            ),
            1 => (
                "success",
                vec![result(&step_id, "success", 1, None, None, 0.0, None, false)],
            ),
            _ => (
                "failure",
                vec![
                    warning(1, "Child_process exited with error code 1"),
                    warning(2, "Child_process exited with error code 1"),
                    note(
                        "failure",
                        "permanent failure (rule npm-404) after 3 attempts: Final attempt failed. Child_process exited with error code 1",
                    ),
                    result(
                        &step_id,
                        "failure",
                        3,
                        Some("permanent"),
                        Some("npm-404"),
                        30.0,
                        None,
                        true,
                    ),
                ],
            ),
        }
    };
    annotations.insert(build_id, build_notes);
    let (test_conclusion, test_notes) = if cancelled {
        ("cancelled", Vec::new())
    } else if i == 1 {
        (
            "success",
            (1..=10)
                .map(|n| warning(n, "Child_process exited with error code 1"))
                .collect(),
        )
    } else {
        match i % 5 {
            0 => (
                "success",
                vec![
                    warning(1, "Child_process exited with error code 1"),
                    warning(2, "Timeout of 60000ms hit"),
                ],
            ),
            3 => (
                "failure",
                vec![
                    warning(1, "Child_process exited with error code 2"),
                    note(
                        "failure",
                        "Final attempt failed. Child_process exited with error code 2",
                    ),
                ],
            ),
            _ => ("success", Vec::new()),
        }
    };
    annotations.insert(test_id, test_notes);
    let mut jobs = vec![
        job_json(
            base,
            build_id,
            id,
            "build",
            1,
            build_conclusion,
            created - 60,
            120,
        ),
        job_json(
            base,
            test_id,
            id,
            "test",
            1,
            test_conclusion,
            created - 60,
            300,
        ),
    ];
    let mut conclusion = if cancelled {
        "cancelled"
    } else if build_conclusion == "failure" || test_conclusion == "failure" {
        "failure"
    } else {
        "success"
    };
    if rerun {
        jobs.push(job_json(
            base,
            rebuild_id,
            id,
            "build",
            2,
            "success",
            created - 1800,
            100,
        ));
        annotations.insert(
            rebuild_id,
            vec![result(
                &format!("{id}:2:build:npm"),
                "success",
                1,
                None,
                None,
                0.0,
                None,
                false,
            )],
        );
        if test_conclusion != "failure" {
            conclusion = "success";
        }
    }
    FixtureRun {
        run: run_json(id, conclusion, if rerun { 2 } else { 1 }, created),
        jobs,
        annotations,
    }
}

/// `count` runs spread over `days` days, each with one job `build` whose recover step
/// recovers on every fourth run: a history of the size a busy repository has in two weeks.
#[allow(clippy::cast_possible_wrap)]
pub fn busy(base: &str, count: u64, days: i64) -> Vec<FixtureRun> {
    let spacing = days * 24 * HOUR / (count as i64 + 1);
    (0..count)
        .map(|i| busy_run(base, 20_000 + i, (i as i64 + 1) * spacing, i % 4 == 0))
        .collect()
}

/// One run of [`busy`]: run `id`, created `created` seconds ago.
pub fn busy_run(base: &str, id: u64, created: i64, recovered: bool) -> FixtureRun {
    let job = id * 10 + 1;
    let step = format!("{id}:1:build:npm");
    let note = if recovered {
        result(&step, "recovered", 2, None, None, 5.0, Some(3.0), false)
    } else {
        result(&step, "success", 1, None, None, 0.0, None, false)
    };
    FixtureRun {
        run: run_json(id, "success", 1, created),
        jobs: vec![job_json(
            base,
            job,
            id,
            "build",
            1,
            "success",
            created - 60,
            90,
        )],
        annotations: BTreeMap::from([(job, vec![note])]),
    }
}
