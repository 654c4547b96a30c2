//! `recover insights`: the flags, their checks, and the run from query to printed report.
//!
//! In: flags (each also read from `INPUT_<NAME>`, as the insights action sets them), the token
//! from the variable `--token-env` names, `GITHUB_API_URL`, `GITHUB_REPOSITORY`. Out: the report
//! on stdout; diagnostics on stderr (`::error::`/`::warning::` under GitHub Actions, so that a
//! report redirected to a file holds only the report). Exit 0 with a report (a partial one says
//! so), 1 when the API gave nothing, 2 for bad input.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{is_actions, runtime};
use crate::exit_code;
use crate::github::{DEFAULT_API_URL, Token};
use crate::insights::fetch::{Client, Limits, RealWaiter};
use crate::insights::gather::{Query, gather};
use crate::insights::render::{Format, render};
use crate::insights::{
    Insights, SCHEMA_VERSION, advice, aggregate, cache::Cache, progress::Progress,
};
use crate::output::eprint_line;
use crate::workflow::command;

/// `recover insights [--repo OWNER/NAME] [--days 14] [--workflow FILE] [--branch B]
/// [--format table|markdown|json|csv] [--token-env GITHUB_TOKEN] [--max-requests N]`.
#[derive(Debug, Clone, Args)]
#[expect(
    clippy::doc_markdown,
    reason = "the field docs are the --help text, where backticks would show"
)]
pub struct InsightsArgs {
    /// The repository, OWNER/NAME [default: $GITHUB_REPOSITORY].
    #[arg(long, value_name = "OWNER/NAME", env = "INPUT_REPO")]
    pub repo: Option<String>,
    /// The period: runs created in the last N days (1 to 400) [default: 14].
    #[arg(long, value_name = "N", env = "INPUT_DAYS", allow_hyphen_values = true)]
    pub days: Option<String>,
    /// Only the runs of this workflow file (e.g. ci.yml).
    #[arg(long, value_name = "FILE", env = "INPUT_WORKFLOW")]
    pub workflow: Option<String>,
    /// Only the runs on this branch.
    #[arg(long, value_name = "BRANCH", env = "INPUT_BRANCH")]
    pub branch: Option<String>,
    /// table, markdown, json or csv [default: table].
    #[arg(long, value_name = "FORMAT", env = "INPUT_FORMAT")]
    pub format: Option<String>,
    /// The environment variable that holds the API token; the token is never printed
    /// [default: GITHUB_TOKEN].
    #[arg(long, value_name = "NAME", env = "INPUT_TOKEN_ENV")]
    pub token_env: Option<String>,
    /// The most API requests that cost rate limit (a 304 from the ETag cache costs none)
    /// [default: 600].
    #[arg(
        long,
        value_name = "N",
        env = "INPUT_MAX_REQUESTS",
        allow_hyphen_values = true
    )]
    pub max_requests: Option<String>,
    /// The longest wait on a rate-limit reset, in seconds; a later reset ends the reading with a
    /// partial report [default: 900].
    #[arg(
        long,
        value_name = "SECONDS",
        env = "INPUT_MAX_WAIT_SECONDS",
        allow_hyphen_values = true
    )]
    pub max_wait_seconds: Option<String>,
    /// Where API answers are cached with their ETags [default: recover/insights in the
    /// runner's temporary directory, else in the user cache directory].
    #[arg(long, value_name = "DIR", env = "INPUT_CACHE_DIR")]
    pub cache_dir: Option<String>,
    /// Ask without the cache (and write none).
    #[arg(long)]
    pub no_cache: bool,
}

/// Defaults.
const DEFAULT_DAYS: u32 = 14;
const DEFAULT_MAX_REQUESTS: u32 = 600;
const DEFAULT_MAX_WAIT: u64 = 900;

/// The checked settings.
#[derive(Debug)]
struct Settings {
    repo: String,
    days: u32,
    workflow: Option<String>,
    branch: Option<String>,
    format: Format,
    token_env: String,
    token: Option<Token>,
    limits: Limits,
    cache: Option<Cache>,
}

/// Runs `recover insights`; returns the exit code.
#[must_use]
pub fn run(args: &InsightsArgs) -> i32 {
    let actions = is_actions();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let settings = match check(args, &var) {
        Ok(settings) => settings,
        Err(problems) => {
            for problem in problems {
                say(actions, "error", &problem);
            }
            return exit_code::USAGE;
        }
    };
    if settings.token.is_none() {
        say(
            actions,
            "warning",
            &format!(
                "--token-env: ${} is not set: asking the API without a token (60 requests per hour, public repositories only)",
                settings.token_env
            ),
        );
    }
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            say(actions, "error", &format!("cannot start: {error}"));
            return exit_code::FAILURE;
        }
    };
    let api = var("GITHUB_API_URL")
        .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
        .trim()
        .trim_end_matches('/')
        .to_owned();
    match runtime.block_on(report(&settings, &api, actions)) {
        Ok(text) => super::print_report(&text),
        Err(message) => {
            say(actions, "error", &message);
            exit_code::FAILURE
        }
    }
}

async fn report(settings: &Settings, api: &str, actions: bool) -> Result<String, String> {
    let now = chrono::Utc::now();
    let since = (now - chrono::Duration::days(i64::from(settings.days)))
        .format("%Y-%m-%d")
        .to_string();
    let query = Query {
        api: api.to_owned(),
        repo: settings.repo.clone(),
        since: since.clone(),
        workflow: settings.workflow.clone(),
        branch: settings.branch.clone(),
    };
    let waiter = RealWaiter;
    let mut client = Client::new(
        api,
        settings.token.clone(),
        settings.cache.clone(),
        settings.limits,
        &waiter,
    )?;
    let mut progress = Progress::on_stderr();
    let gathered = gather(&mut client, &query, &mut |done, total, sent| {
        progress.update(done, total, sent);
    })
    .await;
    progress.finish();
    for warning in &client.warnings {
        say(actions, "warning", warning);
    }
    let history =
        gathered.map_err(|e| format!("cannot read the workflow runs of {}: {e}", settings.repo))?;
    if let Some(cache) = &settings.cache {
        cache.prune(Duration::from_secs(
            86_400 * u64::from(settings.days.max(23) + 7),
        ));
    }
    if !history.gaps.is_empty() {
        say(
            actions,
            "warning",
            &format!("insights are partial: {}", history.gaps.join("; ")),
        );
    }
    let totals = aggregate::aggregate(&history);
    let insights = Insights {
        schema_version: SCHEMA_VERSION,
        repo: settings.repo.clone(),
        days: settings.days,
        since,
        until: now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        complete: history.gaps.is_empty(),
        gaps: history.gaps,
        requests: client.counters.clone(),
        advice: advice::advise(&totals, settings.days),
        totals,
    };
    Ok(render(&insights, settings.format))
}

/// Checks every flag; each problem names its flag and what it accepts.
fn check(
    args: &InsightsArgs,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, Vec<String>> {
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let repo = repo_of(given(&args.repo).or_else(|| var("GITHUB_REPOSITORY")));
    let days = number(given(&args.days), "--days", DEFAULT_DAYS.into(), 1..=400);
    let max_requests = number(
        given(&args.max_requests),
        "--max-requests",
        DEFAULT_MAX_REQUESTS.into(),
        1..=100_000,
    );
    let max_wait = number(
        given(&args.max_wait_seconds),
        "--max-wait-seconds",
        DEFAULT_MAX_WAIT,
        0..=86_400,
    );
    let workflow = given(&args.workflow)
        .as_deref()
        .map(workflow_of)
        .transpose();
    let format = format_of(given(&args.format).as_deref());
    let token_env = given(&args.token_env).unwrap_or_else(|| "GITHUB_TOKEN".to_owned());
    let token = token_of(&token_env, var);
    let cache = (!args.no_cache).then(|| {
        given(&args.cache_dir).map_or_else(
            || crate::state::default_dir(|name| var(name)).join("insights"),
            PathBuf::from,
        )
    });
    match (repo, days, max_requests, max_wait, workflow, format, token) {
        (
            Ok(repo),
            Ok(days),
            Ok(max_requests),
            Ok(max_wait),
            Ok(workflow),
            Ok(format),
            Ok(token),
        ) => Ok(Settings {
            repo,
            days: u32::try_from(days).unwrap_or(DEFAULT_DAYS),
            workflow,
            branch: given(&args.branch),
            format,
            token_env,
            token,
            limits: Limits {
                max_requests: u32::try_from(max_requests).unwrap_or(DEFAULT_MAX_REQUESTS),
                max_wait: Duration::from_secs(max_wait),
            },
            cache: cache.map(Cache::new),
        }),
        (repo, days, max_requests, max_wait, workflow, format, token) => Err([
            repo.err(),
            days.err(),
            max_requests.err(),
            max_wait.err(),
            workflow.err(),
            format.err(),
            token.err(),
        ]
        .into_iter()
        .flatten()
        .collect()),
    }
}

fn repo_of(repo: Option<String>) -> Result<String, String> {
    match repo {
        Some(repo) if is_repo(&repo) => Ok(repo),
        Some(repo) => Err(format!("--repo: expected OWNER/NAME, got {repo:?}")),
        None => Err(
            "--repo: no repository given and GITHUB_REPOSITORY is not set: pass --repo OWNER/NAME"
                .to_owned(),
        ),
    }
}

/// A workflow file name; a path (`.github/workflows/ci.yml`) is cut to its file name.
fn workflow_of(given: &str) -> Result<String, String> {
    let file = given.rsplit('/').next().unwrap_or_default();
    if !file.is_empty()
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        Ok(file.to_owned())
    } else {
        Err(format!(
            "--workflow: expected a workflow file name such as ci.yml (or its id), got {given:?}"
        ))
    }
}

fn format_of(given: Option<&str>) -> Result<Format, String> {
    match given {
        None | Some("table") => Ok(Format::Table),
        Some("markdown") => Ok(Format::Markdown),
        Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(format!(
            "--format: expected table, markdown, json or csv, got {other:?}"
        )),
    }
}

/// The token in the variable `name`, if it is set; an error for a bad name or a value that no
/// token can be (it would not fit in a header).
fn token_of(name: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<Option<Token>, String> {
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(format!(
            "--token-env: expected the name of an environment variable such as GITHUB_TOKEN, got {name:?}"
        ));
    }
    let Some(value) = var(name) else {
        return Ok(None);
    };
    let token = Token::new(value.trim());
    if token.is_header_safe() {
        Ok(Some(token))
    } else {
        Err(format!(
            "--token-env: ${name} holds spaces or control characters, which no token has"
        ))
    }
}

fn number(
    value: Option<String>,
    flag: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, String> {
    match value {
        None => Ok(default),
        Some(text) => match text.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(format!(
                "{flag}: expected a whole number from {} to {}, got {text:?}",
                range.start(),
                range.end()
            )),
        },
    }
}

fn is_repo(text: &str) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    matches!(text.split_once('/'), Some((owner, name)) if ok(owner) && ok(name))
}

/// A diagnostic on stderr: a workflow command under GitHub Actions (the runner reads both
/// streams), a `recover:` line elsewhere. stdout stays the report's.
fn say(actions: bool, kind: &str, text: &str) {
    if actions {
        eprint_line(&command(kind, &[], text));
    } else {
        eprint_line(&format!(
            "recover: {kind}: {}",
            crate::workflow::one_line(text)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: InsightsArgs,
    }

    fn problems(argv: &[&str], vars: &[(&str, &str)]) -> Vec<String> {
        let mut full = vec!["insights"];
        full.extend_from_slice(argv);
        let parsed = Wrapper::try_parse_from(full).unwrap().args;
        let var = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        check(&parsed, &var).err().unwrap_or_default()
    }

    #[test]
    fn each_bad_flag_is_named_with_what_it_accepts() {
        let repo = [("GITHUB_REPOSITORY", "o/r")];
        let cases: [(&[&str], &str); 7] = [
            (
                &["--days", "0"],
                "--days: expected a whole number from 1 to 400, got \"0\"",
            ),
            (
                &["--days", "2w"],
                "--days: expected a whole number from 1 to 400, got \"2w\"",
            ),
            (
                &["--format", "html"],
                "--format: expected table, markdown, json or csv, got \"html\"",
            ),
            (
                &["--repo", "just-a-name"],
                "--repo: expected OWNER/NAME, got \"just-a-name\"",
            ),
            (
                &["--max-requests", "-1"],
                "--max-requests: expected a whole number from 1 to 100000, got \"-1\"",
            ),
            (
                &["--token-env", "MY-TOKEN"],
                "--token-env: expected the name of an environment variable such as GITHUB_TOKEN, got \"MY-TOKEN\"",
            ),
            (
                &["--workflow", "ci yml"],
                "--workflow: expected a workflow file name such as ci.yml (or its id), got \"ci yml\"",
            ),
        ];
        for (argv, want) in cases {
            assert_eq!(problems(argv, &repo), [want], "{argv:?}");
        }
        assert_eq!(
            problems(&[], &[]),
            [
                "--repo: no repository given and GITHUB_REPOSITORY is not set: pass --repo OWNER/NAME"
            ]
        );
        assert_eq!(
            problems(
                &[],
                &[("GITHUB_REPOSITORY", "o/r"), ("GITHUB_TOKEN", "a b")]
            ),
            ["--token-env: $GITHUB_TOKEN holds spaces or control characters, which no token has"]
        );
    }

    #[test]
    fn good_flags_make_settings_with_defaults() {
        let args = Wrapper::try_parse_from(["insights", "--workflow", ".github/workflows/ci.yml"])
            .unwrap()
            .args;
        let var = |name: &str| (name == "GITHUB_REPOSITORY").then(|| "o/r".to_owned());
        let settings = check(&args, &var).unwrap();
        assert_eq!(settings.repo, "o/r");
        assert_eq!(settings.days, 14);
        assert_eq!(settings.workflow.as_deref(), Some("ci.yml"));
        assert_eq!(settings.limits.max_requests, 600);
        assert!(settings.token.is_none());
    }
}
