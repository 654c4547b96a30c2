//! Throughput of the streaming matcher with every built-in rule, over realistic CI log text.
//!
//! Run with `scripts/bench-matcher.sh` (or `cargo bench --bench matcher`). Prints MB/s for one
//! stream on one core; the target is at least 300 MB/s over 200 MB.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use recover::classify::Rules;
use recover::output::{Observer, Stream};

/// Lines seen in real CI logs: build progress, package installs, test output, timestamps,
/// warnings that must not match, long minified lines.
const LINES: &[&str] = &[
    "   Compiling serde_json v1.0.154",
    "   Compiling recover v0.1.0 (/home/runner/work/recover/recover)",
    "warning: unused variable: `attempt`",
    "  --> src/run.rs:42:13",
    "   |",
    "42 |         let attempt = 1;",
    "   |             ^^^^^^^ help: if this is intentional, prefix it with an underscore: `_attempt`",
    "    Finished `release` profile [optimized] target(s) in 41.27s",
    "test classify::wait::tests::hints_parse_in_every_documented_form ... ok",
    "test result: ok. 112 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.41s",
    "Collecting requests==2.32.3 (from -r requirements.txt (line 3))",
    "  Downloading requests-2.32.3-py3-none-any.whl.metadata (4.6 kB)",
    "Successfully installed certifi-2024.8.30 charset-normalizer-3.4.0 idna-3.10 requests-2.32.3",
    "npm warn deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
    "added 1342 packages, and audited 1343 packages in 23s",
    "2026-11-28T05:12:44.1234567Z ##[group]Run actions/checkout@v4",
    "2026-11-28T05:12:45.0000000Z Syncing repository: recover-dev/recover",
    "Get:12 http://deb.debian.org/debian bookworm/main amd64 libcurl4 amd64 7.88.1-10+deb12u8 [391 kB]",
    "Setting up libssl3:amd64 (3.0.15-1~deb12u1) ...",
    "Unpacking git (1:2.39.5-0+deb12u1) over (1:2.39.2-1.1) ...",
    "tests/test_api.py::test_retry_after_header PASSED                         [ 42%]",
    "PASS src/components/Button.test.tsx (5.123 s)",
    "[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/slf4j/slf4j-api/2.0.9/slf4j-api-2.0.9.jar (64 kB at 1.2 MB/s)",
    "> Task :app:compileKotlin UP-TO-DATE",
    "go: downloading golang.org/x/sys v0.26.0",
    "Step 5/12 : RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates",
    " ---> Running in 5c2a8f9e1b7d",
    "remote: Enumerating objects: 1532, done.",
    "Receiving objects: 100% (1532/1532), 2.31 MiB | 11.20 MiB/s, done.",
    "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current",
    "{\"level\":\"info\",\"ts\":1732770000.123,\"msg\":\"request served\",\"status\":200,\"path\":\"/api/v1/items\",\"duration_ms\":12}",
    "",
];

fn corpus(target: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(target + 4096);
    let mut i = 0usize;
    while out.len() < target {
        let line = LINES[i % LINES.len()];
        out.extend_from_slice(line.as_bytes());
        // Now and then a long minified line, as bundlers print.
        if i.is_multiple_of(997) {
            out.extend(std::iter::repeat_n(b'a', 8000));
        }
        out.push(b'\n');
        i += 1;
    }
    out
}

/// CPU time of this thread in seconds, from `/proc/thread-self/schedstat` (Linux), so that a busy
/// machine does not distort the figure; `None` elsewhere.
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
}

fn main() {
    let size: usize = std::env::var("BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200)
        * 1_000_000;
    let text = corpus(size);
    let rules = Arc::new(Rules::builtin());
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    for _ in 0..3 {
        let cpu_start = thread_cpu_seconds();
        let start = Instant::now();
        let mut matcher = rules.matcher(Stream::Stderr);
        for chunk in text.chunks(64 * 1024) {
            matcher.observe(chunk);
        }
        let found = black_box(matcher.finish());
        assert_eq!(
            found.matched_rules().count(),
            0,
            "the corpus is a green log"
        );
        best = best.min(start.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_seconds()) {
            best_cpu = best_cpu.min(b - a);
        }
    }
    #[expect(clippy::cast_precision_loss, reason = "sizes are far below 2^52")]
    let mb = text.len() as f64 / 1e6;
    // A baseline on the same text: one small regex without literals, which the lazy DFA runs
    // byte by byte. It shows how fast this machine is right now (other load included).
    let baseline = regex::bytes::Regex::new(r"[a-z]{3}[0-9]{5}[xy]").expect("a valid regex");
    let cpu_start = thread_cpu_seconds();
    assert!(!black_box(&baseline).is_match(&text));
    if let (Some(a), Some(b)) = (cpu_start, thread_cpu_seconds()) {
        println!(
            "baseline: one literal-free regex over the same text = {:.0} MB/s per core",
            mb / (b - a)
        );
    }
    println!(
        "matcher: {} built-in rules, {mb:.0} MB in {best:.3} s wall = {:.0} MB/s (best of 3)",
        rules.rules().len(),
        mb / best
    );
    if best_cpu < f64::MAX {
        println!(
            "matcher: {mb:.0} MB in {best_cpu:.3} s of CPU = {:.0} MB/s per core",
            mb / best_cpu
        );
    }
}
