//! A fake GitHub REST API on 127.0.0.1 that serves workflow runs, their jobs and check-run
//! annotations in GitHub's documented shapes, under `/api/v3` as on GitHub Enterprise Server.
//!
//! It paginates with `Link` headers (`rel="next"`, `rel="last"`), sends rate-limit headers,
//! answers `If-None-Match` with `304 Not Modified` when the `ETag` matches, and injects the
//! faults a test asks for: a 403 secondary rate limit, a malformed page, an error status.
//! Every request is recorded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// One run of the fixture: the run object, its jobs (every attempt) and the annotations of
/// each job by job id.
#[derive(Debug, Clone)]
pub struct FixtureRun {
    pub run: Value,
    pub jobs: Vec<Value>,
    pub annotations: BTreeMap<u64, Vec<Value>>,
}

/// A fault for the requests to one path (without the query).
#[derive(Debug, Clone)]
pub enum Fault {
    /// A 403 secondary rate limit with `retry-after: SECONDS`, for the first `n` requests.
    Secondary { seconds: u64, times: u32 },
    /// A 200 whose body is cut off.
    Malformed,
    /// A 403 primary rate limit: nothing remaining until `reset_in` seconds from now.
    Exhausted { reset_in: u64 },
    /// A 200 that spends the last request: nothing remaining until `reset_in` seconds from now.
    LastOne { reset_in: u64 },
}

/// A request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub conditional: bool,
    pub authorization: Option<String>,
    pub status: u16,
}

struct State {
    base: String,
    runs: Vec<FixtureRun>,
    runs_page_size: usize,
    jobs_page_size: usize,
    faults: BTreeMap<String, Fault>,
    seen: Vec<Seen>,
    remaining: u32,
}

/// The fake API.
pub struct FakeGitHub {
    /// The API's base URL (`GITHUB_API_URL`).
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    /// Serves `make(base_url)`'s runs, newest first, `runs_page_size` runs and `jobs_page_size`
    /// jobs per page at most.
    pub fn start(
        make: impl FnOnce(&str) -> Vec<FixtureRun>,
        runs_page_size: usize,
        jobs_page_size: usize,
    ) -> FakeGitHub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let url = format!("http://{}/api/v3", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            base: url.clone(),
            runs: make(&url),
            runs_page_size,
            jobs_page_size,
            faults: BTreeMap::new(),
            seen: Vec::new(),
            remaining: 5000,
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        FakeGitHub { url, state }
    }

    /// Injects `fault` for `path` (e.g. `/api/v3/repos/o/r/actions/runs/1003/jobs`).
    pub fn fault(&self, path: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .insert(path.to_owned(), fault);
    }

    /// Removes the fault of `path`.
    pub fn heal(&self, path: &str) {
        self.state.lock().unwrap().faults.remove(path);
    }

    /// Changes the runs (a new run arrived, a run was re-run).
    pub fn edit(&self, f: impl FnOnce(&mut Vec<FixtureRun>)) {
        f(&mut self.state.lock().unwrap().runs);
    }

    /// The requests seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Forgets the requests seen.
    pub fn clear(&self) {
        self.state.lock().unwrap().seen.clear();
    }
}

fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    while !bytes.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
        }
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut lines = text.lines();
    let target = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (status, extra, body) = answer(state, path, query, &headers);
    let mut response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        let _ = write!(response, "{k}: {v}\r\n");
    }
    response.push_str("\r\n");
    response.push_str(&body);
    let _ = stream.write_all(response.as_bytes());
}

type Answer = (u16, Vec<(String, String)>, String);

fn answer(
    state: &Mutex<State>,
    path: &str,
    query: &str,
    headers: &BTreeMap<String, String>,
) -> Answer {
    let mut state = state.lock().unwrap();
    let params: BTreeMap<String, String> = query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let page = params.get("page").map_or("1", String::as_str);
    let fault = state
        .faults
        .get(&format!("{path}?page={page}"))
        .or_else(|| state.faults.get(path))
        .cloned();
    let (status, mut extra, body) = match fault {
        Some(Fault::Secondary { seconds, times }) if times > 0 => {
            state.faults.insert(
                path.to_owned(),
                Fault::Secondary {
                    seconds,
                    times: times - 1,
                },
            );
            (
                403,
                vec![("retry-after".to_owned(), seconds.to_string())],
                r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}"#.to_owned(),
            )
        }
        Some(Fault::Exhausted { reset_in }) => {
            let reset = epoch() + reset_in;
            (
                403,
                vec![
                    ("x-ratelimit-remaining".to_owned(), "0".to_owned()),
                    ("x-ratelimit-reset".to_owned(), reset.to_string()),
                ],
                r#"{"message":"API rate limit exceeded for installation ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}"#.to_owned(),
            )
        }
        _ => match route(&state, path, &params) {
            Some((body, mut links)) => {
                let body = if matches!(fault, Some(Fault::Malformed)) {
                    body[..body.len() / 2].to_owned()
                } else {
                    body
                };
                if let Some(Fault::LastOne { reset_in }) = fault {
                    links.push(("x-ratelimit-remaining".to_owned(), "0".to_owned()));
                    links.push((
                        "x-ratelimit-reset".to_owned(),
                        (epoch() + reset_in).to_string(),
                    ));
                }
                (200, links, body)
            }
            None => (
                404,
                Vec::new(),
                r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"#
                    .to_owned(),
            ),
        },
    };
    let mut status = status;
    let mut body = body;
    if status == 200 {
        let etag = format!("W/\"{:016x}\"", fnv(body.as_bytes()));
        if headers.get("if-none-match") == Some(&etag) {
            status = 304;
            body = String::new();
        }
        extra.push(("etag".to_owned(), etag));
    }
    if status != 304 {
        state.remaining = state.remaining.saturating_sub(1);
    }
    extra.push(("x-ratelimit-limit".to_owned(), "5000".to_owned()));
    if !extra.iter().any(|(k, _)| k == "x-ratelimit-remaining") {
        extra.push((
            "x-ratelimit-remaining".to_owned(),
            state.remaining.to_string(),
        ));
        extra.push(("x-ratelimit-reset".to_owned(), "4102444800".to_owned()));
    }
    extra.push(("x-ratelimit-resource".to_owned(), "core".to_owned()));
    state.seen.push(Seen {
        path: path.to_owned(),
        conditional: headers.contains_key("if-none-match"),
        authorization: headers.get("authorization").cloned(),
        status,
    });
    (status, extra, body)
}

/// The body and `Link` header of a documented route, or `None` (a 404).
fn route(
    state: &State,
    path: &str,
    params: &BTreeMap<String, String>,
) -> Option<(String, Vec<(String, String)>)> {
    let rest = path.strip_prefix("/api/v3/repos/o/r/")?;
    let page: usize = params.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["actions", "runs"] | ["actions", "workflows", _, "runs"] => {
            let file = (parts.len() == 4).then(|| parts[2]);
            assert_eq!(params.get("status").map(String::as_str), Some("completed"));
            assert!(
                params
                    .get("created")
                    .is_some_and(|c| c.starts_with("%3E%3D")),
                "{params:?}"
            );
            let runs: Vec<&Value> = state
                .runs
                .iter()
                .map(|r| &r.run)
                .filter(|r| file.is_none_or(|f| r["path"].as_str().is_some_and(|p| p.ends_with(f))))
                .filter(|r| {
                    params
                        .get("branch")
                        .is_none_or(|b| r["head_branch"] == b.as_str())
                })
                .collect();
            let size = per_page(params, state.runs_page_size);
            let (items, links) = paginate(&runs, page, size, &state.base, path, params);
            let body = json!({"total_count": runs.len(), "workflow_runs": items});
            Some((body.to_string(), links))
        }
        ["actions", "runs", id, "jobs"] => {
            assert_eq!(params.get("filter").map(String::as_str), Some("all"));
            let id: u64 = id.parse().ok()?;
            let run = state.runs.iter().find(|r| r.run["id"] == id)?;
            let jobs: Vec<&Value> = run.jobs.iter().collect();
            let size = per_page(params, state.jobs_page_size);
            let (items, links) = paginate(&jobs, page, size, &state.base, path, params);
            let body = json!({"total_count": jobs.len(), "jobs": items});
            Some((body.to_string(), links))
        }
        ["check-runs", id, "annotations"] => {
            let id: u64 = id.parse().ok()?;
            let notes = state
                .runs
                .iter()
                .find_map(|r| r.annotations.get(&id))
                .cloned()
                .unwrap_or_default();
            let size = per_page(params, 100);
            let refs: Vec<&Value> = notes.iter().collect();
            let (items, links) = paginate(&refs, page, size, &state.base, path, params);
            Some((Value::Array(items).to_string(), links))
        }
        _ => None,
    }
}

fn per_page(params: &BTreeMap<String, String>, cap: usize) -> usize {
    params
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .min(cap)
        .max(1)
}

fn paginate(
    items: &[&Value],
    page: usize,
    size: usize,
    base: &str,
    path: &str,
    params: &BTreeMap<String, String>,
) -> (Vec<Value>, Vec<(String, String)>) {
    let last = items.len().div_ceil(size).max(1);
    let start = (page - 1) * size;
    let slice: Vec<Value> = items
        .iter()
        .skip(start)
        .take(size)
        .map(|v| (*v).clone())
        .collect();
    let origin = base.trim_end_matches("/api/v3");
    let url = |n: usize| {
        let mut query: Vec<String> = params
            .iter()
            .filter(|(k, _)| k.as_str() != "page")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        query.push(format!("page={n}"));
        format!("{origin}{path}?{}", query.join("&"))
    };
    let mut links = Vec::new();
    if page < last {
        links.push(format!("<{}>; rel=\"next\"", url(page + 1)));
        links.push(format!("<{}>; rel=\"last\"", url(last)));
    }
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", url(page - 1)));
        links.push(format!("<{}>; rel=\"first\"", url(1)));
    }
    let header = if links.is_empty() {
        Vec::new()
    } else {
        vec![("link".to_owned(), links.join(", "))]
    };
    (slice, header)
}

fn epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The paths of the requests seen that cost rate limit (all but 304s).
pub fn costly(seen: &[Seen]) -> usize {
    seen.iter().filter(|s| s.status != 304).count()
}
