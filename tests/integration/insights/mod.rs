//! `recover insights` against a fake GitHub API on 127.0.0.1 ([`server`]) serving deterministic
//! histories ([`fixture`]): the numbers against hand-computed ones, the four formats, the `ETag`
//! cache, the request budget, rate limits, malformed pages and bad input.

mod fixture;
mod server;

use std::time::Duration;

use recover::insights::fetch::{Client, FetchError, Limits, Waiter};
use serde_json::Value;

use self::server::{FakeGitHub, Fault, costly};
use crate::support::{Output, Test};

const TOKEN: &str = "ghs_insightsTestToken0123456789";

/// `recover insights --repo o/r` against `api` with the cache in `cache`.
fn insights(api: &FakeGitHub, cache: &str, args: &[&str]) -> Test {
    let repo: &[&str] = if args.contains(&"--repo") {
        &[]
    } else {
        &["--repo", "o/r"]
    };
    Test::new()
        .env("GITHUB_API_URL", &api.url)
        .env("GITHUB_TOKEN", TOKEN)
        .args(["insights", "--cache-dir", cache])
        .args(repo.iter().chain(args).copied())
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.describe()))
}

fn find<'a>(list: &'a Value, key: &str, name: &str) -> &'a Value {
    list.as_array()
        .and_then(|items| items.iter().find(|i| i[key] == name))
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

fn the_sixty_runs() -> FakeGitHub {
    // 25 runs and 2 jobs per page: the runs list has 3 pages, a re-run's jobs 2.
    FakeGitHub::start(fixture::history, 25, 2)
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one history, checked number by number against the hand count"
)]
fn insights_numbers_match_the_hand_computed_history() {
    let api = the_sixty_runs();
    let out = insights(&api, "cache", &["--format", "json"]).run();
    let v = json(&out);
    assert_eq!(v["complete"], true, "{}", v["gaps"]);
    assert_eq!(
        (v["runs"].as_u64(), v["cancelled_runs"].as_u64()),
        (Some(60), Some(6))
    );
    let ci = find(&v["workflows"], "name", "CI");
    assert_eq!(
        (ci["runs"].as_u64(), ci["cancelled"].as_u64()),
        (Some(60), Some(6))
    );

    let build = find(&ci["jobs"], "name", "build");
    let numbers = |job: &Value, keys: &[&str]| -> Vec<u64> {
        keys.iter()
            .map(|k| job[*k].as_u64().unwrap_or(u64::MAX))
            .collect()
    };
    let job_keys = [
        "runs",
        "passed_first",
        "flaky",
        "failed",
        "cancelled",
        "reruns",
        "truncated",
    ];
    assert_eq!(numbers(build, &job_keys), [60, 36, 9, 9, 6, 9, 0]);
    assert_eq!(build["rerun_lost_s"], 1080.0);
    let test = find(&ci["jobs"], "name", "test");
    assert_eq!(numbers(test, &job_keys), [60, 42, 0, 12, 6, 0, 0]);

    let step_keys = [
        "runs",
        "first_try",
        "recovered",
        "fallback",
        "failures",
        "cancelled",
        "retries",
        "retried_permanent",
        "may_be_truncated",
    ];
    let npm = find(&build["steps"], "label", "npm ci");
    assert_eq!(npm["source"], "recover");
    assert_eq!(numbers(npm, &step_keys), [69, 27, 18, 0, 18, 6, 54, 18, 0]);
    assert_eq!(npm["lost_s"], 1440.0);
    assert_eq!(npm["lost_known"], true);
    assert_eq!(
        npm["categories"],
        serde_json::json!({"network": 18, "permanent": 18})
    );
    assert_eq!(
        npm["rules"],
        serde_json::json!({"npm-404": 18, "npm-registry-503": 18})
    );
    assert_eq!(npm["median_retries_to_recover"], 1.0);
    assert_eq!(npm["median_recovered_lost_s"], 50.0);
    assert_eq!(npm["median_recovery_s"], 45.0);
    assert_eq!(
        (npm["wait_s"].as_f64(), npm["backoff"].as_str()),
        (Some(10.0), Some("fixed"))
    );
    assert_eq!(
        build["steps"].as_array().unwrap().len(),
        1,
        "warnings claimed by results make no step"
    );

    let nick = find(&test["steps"], "label", "nick-fields/retry step 1");
    assert_eq!(nick["source"], "retry_warnings");
    assert_eq!(numbers(nick, &step_keys), [25, 0, 13, 0, 12, 0, 46, 0, 1]);
    assert_eq!(nick["lost_known"], false);
    assert_eq!(nick["categories"], serde_json::json!({"timeout": 12}));
    assert_eq!(nick["median_retries_to_recover"], 2.0);

    let weeks = v["weeks"].as_array().unwrap();
    let sum = |key: &str| weeks.iter().map(|w| w[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(
        [
            sum("runs"),
            sum("recovered"),
            sum("failures"),
            sum("retries"),
            sum("flaky_jobs")
        ],
        [60, 31, 30, 100, 9]
    );
    let lost: f64 = weeks.iter().map(|w| w["lost_s"].as_f64().unwrap()).sum();
    assert!((lost - 1440.0).abs() < 1e-6, "{lost}");
    assert!(
        (2..=3).contains(&weeks.len()),
        "12.5 days span 2 or 3 ISO weeks: {weeks:?}"
    );

    let advice: Vec<&str> = v["advice"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for want in [
        "`npm ci` in job build recovered 18 times after a median 1 retry and 50s; 18 failures were permanent and were retried anyway (retry_on: classified stops that)",
        "`npm ci` in job build: retry_wait_seconds 10 is shorter than this service's typical recovery (median 45s): consider backoff: exponential",
        "job build of CI failed and then passed on a re-run 9 times (18m of runner time in the failed attempts): retry its flaky step with recover instead",
        "`nick-fields/retry step 1` in job test recovered 13 times after a median 2 retries",
        "`nick-fields/retry step 1` in job test: counts of 1 run may be truncated (GitHub keeps 10 warnings and 10 errors per step, 50 annotations per job)",
    ] {
        assert!(advice.contains(&want), "missing {want:?} in {advice:#?}");
    }

    // 3 pages of runs; 60 jobs pages + 9 second pages for the re-run runs; 129 annotation lists.
    let seen = api.seen();
    assert_eq!(seen.len(), 201);
    assert_eq!(v["requests"]["sent"], 201);
    assert_eq!(v["requests"]["cost"], 201);
    let bearer = format!("Bearer {TOKEN}");
    assert!(
        seen.iter()
            .all(|s| s.authorization.as_deref() == Some(bearer.as_str()))
    );
    assert!(!out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN));
    assert!(
        !out.stderr.contains('\r'),
        "no progress line off a terminal: {}",
        out.stderr
    );
}

#[test]
fn insights_prints_the_table_the_markdown_and_the_csv() {
    let api = the_sixty_runs();
    let table = insights(&api, "cache", &[]).run().stdout;
    assert!(
        table.starts_with("recover insights: o/r, last 14 days\n60 runs (6 cancelled) since "),
        "{table}"
    );
    let row = table
        .lines()
        .find(|l| l.starts_with("CI ") && l.contains("npm ci"))
        .unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &cells[..12],
        [
            "CI", "build", "npm", "ci", "69", "27", "18", "0", "18", "54", "24m", "network"
        ],
        "{row}"
    );
    assert!(table.contains("nick-fields/retry step 1 *"), "{table}");
    assert!(table.contains("advice:\n- "), "{table}");

    let markdown = insights(&api, "cache", &["--format", "markdown"])
        .run()
        .stdout;
    assert!(
        markdown.starts_with("## recover insights: o/r, last 14 days\n"),
        "{markdown}"
    );
    for part in [
        "### Advice\n\n- ` npm ci ` in job build recovered 18 times",
        "| workflow | job | step | runs | first try | recovered | fallback | failed | retries | time lost | failures by category (rule) |",
        "| CI | build | ` npm ci ` | 69 | 27 | 18 | 0 | 18 | 54 | 24m | network 18, permanent 18 (rule npm-404 18) |",
        "| CI | build | 60 | 36 | 9 | 9 | 18m |",
        "### Trend per week",
    ] {
        assert!(markdown.contains(part), "missing {part:?} in\n{markdown}");
    }
    assert!(
        !markdown.contains("[!WARNING]"),
        "a complete report is not partial"
    );

    let csv = insights(&api, "cache", &["--format", "csv"]).run().stdout;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "workflow,job,step,source,runs,first_try,recovered,fallback,failures,cancelled,retries,lost_seconds,top_category,top_rule,median_recovery_seconds,may_be_truncated,complete"
        )
    );
    assert_eq!(
        lines.next(),
        Some("CI,build,npm ci,recover,69,27,18,0,18,6,54,1440.0,network,npm-404,45.0,0,true")
    );
    assert_eq!(
        lines.next(),
        Some("CI,test,nick-fields/retry step 1,retry_warnings,25,0,13,0,12,0,46,,timeout,,,1,true")
    );
}

#[test]
fn a_warm_etag_cache_makes_the_second_call_cost_at_most_a_tenth() {
    // 200 runs in 14 days, one job each: 2 pages of runs, 200 jobs lists, 200 annotation lists.
    let api = FakeGitHub::start(|base| fixture::busy(base, 200, 14), 100, 100);
    let cache = tempfile::tempdir().unwrap();
    let cache = cache.path().to_str().unwrap().to_owned();
    let first = insights(&api, &cache, &["--format", "json"]).run();
    let first_cost = costly(&api.seen());
    assert_eq!(first_cost, 402);
    assert_eq!(json(&first)["requests"]["cost"], 402);

    // A new run arrives and one run is re-run: its jobs change, its old job's annotations do not.
    api.edit(|runs| {
        let base = api.url.clone();
        runs.insert(0, fixture::busy_run(&base, 30_000, 60, true));
        let rerun = &mut runs[10];
        rerun.run["run_attempt"] = 2.into();
        rerun.run["updated_at"] = fixture::ago(0).into();
        let id = rerun.run["id"].as_u64().unwrap();
        let job = id * 10 + 2;
        rerun.jobs.push(fixture::job_json(
            &base, job, id, "build", 2, "success", 100, 50,
        ));
        rerun.annotations.insert(job, Vec::new());
    });
    api.clear();
    let second = insights(&api, &cache, &["--format", "json"]).run();
    let seen = api.seen();
    let second_cost = costly(&seen);
    let v = json(&second);
    assert_eq!(v["complete"], true);
    assert_eq!(v["runs"], 201);
    assert!(
        seen.iter().any(|s| s.status == 304),
        "the unchanged annotations are a 304"
    );
    assert!(
        second_cost * 10 <= first_cost,
        "second call cost {second_cost}, first {first_cost}"
    );
    eprintln!(
        "insights figures: 200 runs / 14 days: first call {first_cost} requests; warm cache: {} sent, {second_cost} cost rate limit, {} not modified, {} cached",
        seen.len(),
        v["requests"]["not_modified"],
        v["requests"]["cached"]
    );

    // Nothing new: the pages of runs are 304s, everything else comes from the cache.
    api.clear();
    let third = json(&insights(&api, &cache, &["--format", "json"]).run());
    let seen = api.seen();
    assert_eq!(costly(&seen), 0, "{seen:?}");
    assert!(
        seen.iter()
            .all(|s| s.status == 304 && s.path.ends_with("/actions/runs"))
    );
    assert_eq!(third["runs"], 201);
}

#[test]
fn the_request_budget_stops_the_reading_and_the_report_says_partial() {
    let api = the_sixty_runs();
    let out = insights(&api, "cache", &["--format", "json", "--max-requests", "10"])
        .actions()
        .run();
    assert_eq!(costly(&api.seen()), 10);
    let v = json(&out);
    assert_eq!(v["complete"], false);
    assert_eq!(v["runs"], 2);
    let gaps = v["gaps"].to_string();
    assert!(
        gaps.contains(
            "the request budget (--max-requests 10) is spent: read 2 of 60 runs (the newest)"
        ),
        "{gaps}"
    );
    assert!(
        out.stderr
            .contains("::warning::insights are partial: the request budget"),
        "{}",
        out.stderr
    );
    let markdown = insights(
        &api,
        "nocache",
        &["--format", "markdown", "--max-requests", "10", "--no-cache"],
    )
    .run()
    .stdout;
    assert!(
        markdown.contains("> [!WARNING]\n> PARTIAL: these numbers do not cover the whole period."),
        "{markdown}"
    );
}

#[test]
fn malformed_pages_are_left_out_and_said_so_then_asked_again() {
    let api = the_sixty_runs();
    api.fault("/api/v3/repos/o/r/actions/runs/1004/jobs", Fault::Malformed);
    api.fault("/api/v3/repos/o/r/actions/runs?page=2", Fault::Malformed);
    let out = insights(&api, "cache", &["--format", "json"]).run();
    let v = json(&out);
    assert_eq!(v["complete"], false);
    assert_eq!(v["runs"], 24, "page 1 only, without run 1004");
    let gaps = v["gaps"].to_string();
    assert!(
        gaps.contains("runs list page 2: malformed answer"),
        "{gaps}"
    );
    assert!(
        gaps.contains("run 1004: not counted: malformed answer"),
        "{gaps}"
    );
    assert!(
        out.stderr
            .contains("recover: warning: insights are partial"),
        "{}",
        out.stderr
    );

    // A malformed answer is not kept in the cache: the next call asks for it again.
    api.heal("/api/v3/repos/o/r/actions/runs/1004/jobs");
    api.heal("/api/v3/repos/o/r/actions/runs?page=2");
    api.clear();
    let v = json(&insights(&api, "cache", &["--format", "json"]).run());
    assert_eq!(
        (v["complete"].as_bool(), v["runs"].as_u64()),
        (Some(true), Some(60))
    );
    let again = api.seen();
    let jobs_1004: Vec<_> = again
        .iter()
        .filter(|s| s.path.ends_with("/runs/1004/jobs"))
        .collect();
    assert_eq!(jobs_1004.len(), 1);
    assert!(!jobs_1004[0].conditional && jobs_1004[0].status == 200);
}

#[test]
fn a_secondary_rate_limit_is_waited_out_and_the_request_repeated() {
    let api = the_sixty_runs();
    let path = "/api/v3/repos/o/r/check-runs/10051/annotations";
    api.fault(
        path,
        Fault::Secondary {
            seconds: 0,
            times: 1,
        },
    );
    let v = json(&insights(&api, "cache", &["--format", "json"]).run());
    assert_eq!(v["complete"], true, "{}", v["gaps"]);
    let statuses: Vec<u16> = api
        .seen()
        .iter()
        .filter(|s| s.path == path)
        .map(|s| s.status)
        .collect();
    assert_eq!(statuses, [403, 200]);
    assert_eq!(v["requests"]["cost"], 202);
}

#[test]
fn a_rate_limit_that_resets_too_late_ends_the_reading_with_a_partial_report() {
    let api = the_sixty_runs();
    api.fault(
        "/api/v3/repos/o/r/actions/runs/1003/jobs",
        Fault::Exhausted { reset_in: 3600 },
    );
    let out = insights(
        &api,
        "cache",
        &["--format", "json", "--max-wait-seconds", "60"],
    )
    .run();
    let v = json(&out);
    assert_eq!(v["complete"], false);
    assert_eq!(v["runs"], 3);
    assert!(
        v["gaps"][0]
            .as_str()
            .unwrap()
            .contains("the API rate limit is exhausted until"),
        "{}",
        v["gaps"]
    );
    assert_eq!(
        api.seen()
            .iter()
            .filter(|s| s.path.ends_with("/runs/1003/jobs"))
            .count(),
        1,
        "no request after the limit was seen exhausted"
    );
}

#[test]
fn an_api_that_answers_no_runs_is_an_error() {
    let api = the_sixty_runs();
    let out = insights(&api, "cache", &["--repo", "o/missing"])
        .status(1)
        .stderr_contains(
            "recover: error: cannot read the workflow runs of o/missing: HTTP 404: Not Found",
        )
        .run();
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_input_names_the_flag_and_asks_nothing() {
    let api = the_sixty_runs();
    for (args, message) in [
        (
            vec!["--days", "0"],
            "::error::--days: expected a whole number from 1 to 400, got \"0\"",
        ),
        (
            vec!["--format", "html"],
            "::error::--format: expected table, markdown, json or csv, got \"html\"",
        ),
        (
            vec!["--max-requests", "lots"],
            "::error::--max-requests: expected a whole number from 1 to 100000, got \"lots\"",
        ),
    ] {
        insights(&api, "cache", &args)
            .actions()
            .status(2)
            .stderr_contains(message)
            .run();
    }
    Test::new()
        .actions()
        .args(["insights"])
        .status(2)
        .stderr_contains("::error::--repo: no repository given and GITHUB_REPOSITORY is not set: pass --repo OWNER/NAME")
        .run();
    assert!(api.seen().is_empty());
}

/// A clock that stands still and a sleeper that only records.
struct Recorder {
    now: u64,
    slept: std::sync::Mutex<Vec<Duration>>,
}

impl Waiter for Recorder {
    fn now(&self) -> u64 {
        self.now
    }

    fn sleep(&self, duration: Duration) -> impl std::future::Future<Output = ()> {
        self.slept.lock().unwrap().push(duration);
        std::future::ready(())
    }
}

fn get_with(
    api: &FakeGitHub,
    path: &str,
    max_wait: u64,
) -> (Result<(), FetchError>, Vec<Duration>, u64) {
    let waiter = Recorder {
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        slept: std::sync::Mutex::new(Vec::new()),
    };
    let limits = Limits {
        max_requests: 100,
        max_wait: Duration::from_secs(max_wait),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("{}{}", api.url.trim_end_matches("/api/v3"), path);
    let (result, total_wait) = runtime.block_on(async {
        let mut client = Client::new(&api.url, None, None, limits, &waiter).unwrap();
        let result = client.get(&url, None).await.map(|_| ());
        (result, client.counters.waited_seconds)
    });
    let slept = waiter.slept.lock().unwrap().clone();
    (result, slept, total_wait)
}

#[test]
fn waits_on_limits_go_through_the_injected_sleeper() {
    let api = the_sixty_runs();
    let secondary = "/api/v3/repos/o/r/actions/runs/1001/jobs";
    api.fault(
        secondary,
        Fault::Secondary {
            seconds: 30,
            times: 2,
        },
    );
    let (result, slept, waited) = get_with(&api, &format!("{secondary}?filter=all"), 900);
    assert_eq!(result, Ok(()));
    assert_eq!(slept, [Duration::from_secs(30); 2]);
    assert_eq!(waited, 60);

    let primary = "/api/v3/repos/o/r/actions/runs/1002/jobs";
    api.fault(primary, Fault::Exhausted { reset_in: 100 });
    let (result, slept, _) = get_with(&api, &format!("{primary}?filter=all"), 900);
    assert_eq!(
        result.unwrap_err().to_string().split(':').next(),
        Some("HTTP 403")
    );
    assert_eq!(
        slept.len(),
        3,
        "three waits on the reset between four tries: {slept:?}"
    );
    assert!(
        slept.iter().all(|s| (100..=130).contains(&s.as_secs())),
        "{slept:?}"
    );

    let (result, slept, _) = get_with(&api, &format!("{primary}?filter=all"), 60);
    assert!(
        matches!(result, Err(FetchError::RateLimited { .. })),
        "{result:?}"
    );
    assert!(slept.is_empty());
}

/// recover's side of insights: one result annotation per step, with the correlation id the
/// command gets as `RECOVER_STEP_ID`, which insights reads back whole.
#[test]
fn recover_writes_the_step_result_that_insights_reads_back() {
    let out = Test::new()
        .actions()
        .file("flaky.sh", crate::support::flaky(2, 1))
        .env("GITHUB_RUN_ID", "7301")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .env("GITHUB_JOB", "build")
        .env("GITHUB_ACTION", "deps")
        .args([
            "--retry-wait-seconds",
            "0",
            "--report-file",
            "report.json",
            "--command",
            "echo \"$RECOVER_STEP_ID\" >> ids; bash flaky.sh",
        ])
        .run();
    assert_eq!(out.read("ids"), "7301:2:build:deps\n7301:2:build:deps\n");
    let report: Value = serde_json::from_str(&out.read("report.json")).unwrap();
    assert_eq!(report["step_id"], "7301:2:build:deps");
    let notices: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("::notice::"))
        .collect();
    assert_eq!(notices.len(), 1, "{}", out.stdout);
    let message = notices[0].replace("%0A", "\n").replace("%25", "%");
    assert!(
        message.starts_with(
            // A word that escaping would alter (here a quoted one) is left out whole.
            "Step result: `echo … >> ids; bash flaky.sh` recovered on attempt 2"
        ),
        "{message}"
    );
    let annotation = recover::insights::model::Annotation {
        annotation_level: Some("notice".to_owned()),
        title: None,
        message,
    };
    let warning = recover::insights::model::Annotation {
        annotation_level: Some("warning".to_owned()),
        title: None,
        message: "Attempt 1 failed. Reason: Child_process exited with error code 1".to_owned(),
    };
    let runs = recover::insights::parse::step_runs(&[warning, annotation]);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!(run.label, "echo … >> ids; bash flaky.sh");
    assert_eq!(
        run.outcome,
        recover::insights::parse::StepOutcome::Recovered
    );
    assert_eq!(run.attempts, 2);
    assert_eq!(run.category.as_deref(), Some("unknown"));
    assert_eq!(run.wait_s, Some(0.0));
    assert!(run.lost_s.is_some_and(|l| l >= 0.0) && run.recovery_s.is_some());
}

#[test]
fn an_answer_that_spends_the_last_request_makes_the_next_one_wait_for_the_reset() {
    let api = the_sixty_runs();
    let last = "/api/v3/repos/o/r/actions/runs/1001/jobs";
    api.fault(last, Fault::LastOne { reset_in: 50 });
    let waiter = Recorder {
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        slept: std::sync::Mutex::new(Vec::new()),
    };
    let limits = Limits {
        max_requests: 100,
        max_wait: Duration::from_secs(900),
    };
    let origin = api.url.trim_end_matches("/api/v3").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (first, slept_before_second) = runtime.block_on(async {
        let mut client = Client::new(&api.url, None, None, limits, &waiter).unwrap();
        let first = client
            .get(&format!("{origin}{last}?filter=all"), None)
            .await;
        let slept = waiter.slept.lock().unwrap().clone();
        let second = "/api/v3/repos/o/r/actions/runs/1002/jobs?filter=all";
        client
            .get(&format!("{origin}{second}"), None)
            .await
            .unwrap();
        (first.map(|_| ()), slept)
    });
    assert_eq!(first, Ok(()));
    assert!(slept_before_second.is_empty());
    let slept = waiter.slept.lock().unwrap().clone();
    assert_eq!(slept.len(), 1, "{slept:?}");
    assert!((50..=80).contains(&slept[0].as_secs()), "{slept:?}");
}

/// The insights action maps every input to `INPUT_<NAME>`, empty when not given: empty means
/// the default, as for `recover run`.
#[test]
fn empty_inputs_from_the_action_mean_the_defaults() {
    let api = the_sixty_runs();
    let out = Test::new()
        .env("GITHUB_API_URL", &api.url)
        .env("RECOVER_INSIGHTS_TOKEN", TOKEN)
        .env("INPUT_REPO", "o/r")
        .env("INPUT_DAYS", "")
        .env("INPUT_WORKFLOW", "")
        .env("INPUT_BRANCH", "")
        .env("INPUT_MAX_REQUESTS", "")
        .env("INPUT_MAX_WAIT_SECONDS", "")
        .env("INPUT_CACHE_DIR", "")
        .env("XDG_CACHE_HOME", "xdg")
        .args([
            "insights",
            "--format",
            "json",
            "--token-env",
            "RECOVER_INSIGHTS_TOKEN",
        ])
        .run();
    let v = json(&out);
    assert_eq!(
        (v["days"].as_u64(), v["runs"].as_u64()),
        (Some(14), Some(60))
    );
    assert!(
        out.join("xdg/recover/insights").is_dir(),
        "the default cache directory"
    );
    let bearer = format!("Bearer {TOKEN}");
    assert!(
        api.seen()
            .iter()
            .all(|s| s.authorization.as_deref() == Some(bearer.as_str()))
    );
}

/// insights/action.yml passes every input through `env:` (never `${{ }}` in a `run:` body), each
/// to the variable `recover insights` reads.
#[test]
fn the_insights_action_passes_each_input_to_the_variable_the_binary_reads() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/insights/action.yml"))
        .unwrap();
    let action: Value = serde_saphyr::from_str(&text).expect("insights/action.yml parses");
    let steps = action["runs"]["steps"].as_array().unwrap();
    for step in steps {
        let run = step["run"].as_str().unwrap_or_default();
        assert!(!run.contains("${{"), "an expression in a run body: {run}");
        assert_eq!(step["shell"], "bash");
    }
    let report = steps.iter().find(|s| s["id"] == "report").unwrap();
    let help = String::from_utf8(
        std::process::Command::new(crate::support::RECOVER)
            .args(["insights", "--help"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for (name, _) in action["inputs"].as_object().unwrap() {
        let var = match name.as_str() {
            "install" => continue,
            "github_token" => "RECOVER_INSIGHTS_TOKEN".to_owned(),
            other => format!("INPUT_{}", other.to_uppercase()),
        };
        let env = &report["env"][&var];
        assert_eq!(
            env.as_str(),
            Some(format!("${{{{ inputs.{name} }}}}").as_str()),
            "input {name}"
        );
        assert!(
            var == "RECOVER_INSIGHTS_TOKEN" || help.contains(&format!("[env: {var}=")),
            "recover insights does not read {var}"
        );
    }
}
