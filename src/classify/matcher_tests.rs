use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::classify::line_set::BUILTIN_IMAGE;
use crate::classify::nfa_image;
use crate::classify::{Category, ExitFacts, WaitHint};

fn rules(yaml: &str) -> Arc<Rules> {
    Arc::new(Rules::load(Some(yaml), None).unwrap())
}

fn feed(rules: &Arc<Rules>, stream: Stream, chunks: &[&[u8]]) -> Found {
    let mut m = rules.matcher(stream);
    for c in chunks {
        m.observe(c);
    }
    m.finish()
}

fn failed(code: i32) -> ExitFacts {
    ExitFacts {
        exit_code: code,
        signal: None,
        timed_out: false,
    }
}

const USER: &str = r"
rules:
  - name: boom
    category: transient
    patterns: ['^boom \d+$']
    exclude: ['boom 0']
  - name: wait-here
    category: rate_limit
    patterns: ['slow down']
    wait: ['retry in (\d+)']
    stream: stderr
  - name: exit-42
    category: permanent
    exit_codes: [42]
";

#[test]
fn every_split_of_the_input_finds_the_same_hits() {
    let r = rules(USER);
    let text = b"start\nboom 0\nxx boom 1\nboom 17\r\ntail without newline boom";
    let whole = feed(&r, Stream::Stdout, &[text]);
    assert_eq!(whole.hit(0).unwrap().line, "boom 17");
    assert_eq!(whole.hit(0).unwrap().line_number, 4);
    assert_eq!(whole.lines(), 5);
    for split in 0..text.len() {
        let (a, b) = text.split_at(split);
        assert_eq!(feed(&r, Stream::Stdout, &[a, b]), whole, "split at {split}");
    }
    let bytes: Vec<&[u8]> = text.chunks(1).collect();
    assert_eq!(feed(&r, Stream::Stdout, &bytes), whole);
}

#[test]
fn a_trailing_line_without_newline_is_checked_at_finish() {
    let r = rules(USER);
    let found = feed(&r, Stream::Stdout, &[b"one\nboom 5"]);
    assert_eq!(found.hit(0).unwrap().line_number, 2);
}

#[test]
fn exclusions_veto_a_line_for_their_rule() {
    let r = rules(USER);
    let found = feed(&r, Stream::Stdout, &[b"boom 0\n"]);
    assert!(found.hit(0).is_none());
}

#[test]
fn stream_selectors_limit_where_a_rule_looks() {
    let r = rules(USER);
    assert!(feed(&r, Stream::Stdout, &[b"slow down\n"]).hit(1).is_none());
    assert!(feed(&r, Stream::Stderr, &[b"slow down\n"]).hit(1).is_some());
}

#[test]
fn long_lines_are_cut_for_matching_and_memory_stays_bounded() {
    let r = rules(USER);
    let mut long = vec![b'x'; MAX_LINE];
    long.extend_from_slice(b"boom 3\n");
    // The pattern sits past the cut: no hit.
    assert!(feed(&r, Stream::Stdout, &[&long]).hit(0).is_none());
    // A huge line split into many chunks keeps the partial buffer at the cap.
    let mut m = r.matcher(Stream::Stdout);
    for _ in 0..1000 {
        m.observe(&[b'y'; 10_000]);
        assert!(m.partial.len() <= MAX_LINE);
    }
    m.observe(b"\nboom 9\n");
    let found = m.finish();
    assert_eq!(found.hit(0).unwrap().line_number, 2);
}

#[test]
fn the_first_rule_in_order_wins_across_streams() {
    let r = rules(USER);
    let out = feed(&r, Stream::Stdout, &[b"fine\nboom 2\n"]);
    let err = feed(&r, Stream::Stderr, &[b"slow down, retry in 7\n"]);
    let c = r.classify(&[err.clone(), out], &failed(1));
    assert_eq!(c.rule.as_deref(), Some("boom"));
    let c = r.classify(&[err], &failed(1));
    assert_eq!(c.rule.as_deref(), Some("wait-here"));
    assert_eq!(c.category, Category::RateLimit);
    assert_eq!(c.wait_hint, Some(WaitHint::After(Duration::from_secs(7))));
}

#[test]
fn exit_code_rules_match_without_output_and_patterns_need_their_exit() {
    let r = rules(USER);
    let empty = feed(&r, Stream::Stdout, &[]);
    let c = r.classify(std::slice::from_ref(&empty), &failed(42));
    assert_eq!(c.rule.as_deref(), Some("exit-42"));
    assert_eq!((c.category, c.retryable), (Category::Permanent, false));
    let c = r.classify(&[empty], &failed(1));
    assert_eq!(c.rule, None);
    assert_eq!(c.category, Category::Unknown);
}

#[test]
fn signal_rules_match_the_signal_or_its_shell_exit_code() {
    let r = rules("rules:\n  - name: segv\n    category: permanent\n    signals: [SIGSEGV]\n");
    let by_signal = ExitFacts {
        exit_code: 139,
        signal: Some(11),
        timed_out: false,
    };
    assert_eq!(r.classify(&[], &by_signal).rule.as_deref(), Some("segv"));
    assert_eq!(r.classify(&[], &failed(139)).rule.as_deref(), Some("segv"));
    assert_eq!(r.classify(&[], &failed(11)).rule, None);
}

#[test]
fn a_compile_error_quoting_a_network_message_is_permanent() {
    let r = Arc::new(Rules::builtin());
    let log = b"   Compiling demo v0.1.0 (/work/demo)\n\
error[E0308]: mismatched types\n\
 --> src/main.rs:2:18\n\
  |\n\
2 |     let x: u8 = \"connection refused\";\n\
  |            --   ^^^^^^^^^^^^^^^^^^^^ expected `u8`, found `&str`\n\
error: could not compile `demo` (bin \"demo\") due to 1 previous error\n";
    let found = feed(&r, Stream::Stderr, &[log]);
    let c = r.classify(&[found], &failed(101));
    assert_eq!(c.rule.as_deref(), Some("rustc-error"));
    assert!(!c.retryable);
}

#[test]
fn cargo_waiting_for_a_lock_is_not_a_failure() {
    let r = Arc::new(Rules::builtin());
    let log = b"    Blocking waiting for file lock on package cache\n    Blocking waiting for file lock on build directory\n";
    let found = feed(&r, Stream::Stderr, &[log]);
    assert_eq!(found.matched_rules().count(), 0);
}

#[test]
fn wait_hints_are_captured_from_any_line_of_the_attempt() {
    let r = Arc::new(Rules::builtin());
    let out = feed(
        &r,
        Stream::Stdout,
        &[b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\n\r\n"],
    );
    let err = feed(
        &r,
        Stream::Stderr,
        &[b"curl: (22) The requested URL returned error: 429\n"],
    );
    let c = r.classify(&[out, err], &failed(22));
    assert_eq!(c.rule.as_deref(), Some("http-429"));
    assert_eq!(c.wait_hint, Some(WaitHint::After(Duration::from_secs(2))));

    let gh = feed(
        &r,
        Stream::Stderr,
        &[b"x-ratelimit-reset: 1767225600\nHTTP 403: API rate limit exceeded for installation ID 1\n"],
    );
    let c = r.classify(&[gh], &failed(1));
    assert_eq!(c.rule.as_deref(), Some("github-rate-limit"));
    assert_eq!(c.wait_hint, Some(WaitHint::Until(1_767_225_600)));

    let text = feed(
        &r,
        Stream::Stderr,
        &[b"Rate limit exceeded, try again in 2m30s\n"],
    );
    let c = r.classify(&[text], &failed(1));
    assert_eq!(c.category, Category::RateLimit);
    assert_eq!(c.wait_hint, Some(WaitHint::After(Duration::from_secs(150))));
}

#[test]
fn the_reported_line_is_bounded() {
    let r = rules(USER);
    let mut line = b"boom 1".to_vec();
    line.extend(std::iter::repeat_n(b'x', 0));
    let mut long = "é".repeat(2000).into_bytes();
    long.extend_from_slice(b" boom 4\n");
    let r2 = rules("rules:\n  - name: any-boom\n    category: transient\n    patterns: ['boom']\n");
    let found = feed(&r2, Stream::Stdout, &[&long]);
    let c = r2.classify(&[found], &failed(1));
    assert!(c.line.unwrap().len() <= crate::classify::verdict::MAX_REPORTED_LINE);
    assert!(feed(&r, Stream::Stdout, &[&line]).hit(0).is_some());
}

/// Every built-in rule documents real lines it matches and near misses it does not; this runs
/// them through the full streaming path (set, exclusions) with all rules loaded.
#[test]
fn every_builtin_rule_matches_its_examples_and_not_its_near_misses() {
    let r = Arc::new(Rules::builtin());
    let mut problems = r.example_problems();
    for rule in r.rules() {
        if rule.examples.matches.is_empty() || rule.examples.miss.is_empty() {
            problems.push(format!("{}: needs a match and a miss example", rule.name));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_matcher_can_move_to_a_relay_thread() {
    fn relay_ready<T: Observer + Send + 'static>(_: &T) {}
    let r = Arc::new(Rules::builtin());
    let matcher = r.matcher(Stream::Stdout);
    relay_ready(&matcher);
    let found = std::thread::spawn(move || {
        let mut m = matcher;
        m.observe(b"curl: (7) Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server\n");
        m.finish()
    })
    .join()
    .unwrap();
    assert_eq!(found.matched_rules().count(), 1);
}

#[test]
fn the_builtin_patterns_load_from_the_image_as_compiled() {
    let rules = Rules::builtin();
    for stream in [Stream::Stdout, Stream::Stderr] {
        let (patterns, _) = LineSet::patterns(&rules.rules, stream);
        let loaded = nfa_image::decode(BUILTIN_IMAGE, &patterns)
            .expect("build.rs made an image of exactly the built-in patterns");
        let compiled = nfa_image::compiler().build_many(&patterns).unwrap();
        assert_eq!(format!("{loaded:?}"), format!("{compiled:?}"));
    }
}

#[test]
fn a_matching_line_after_a_green_block_is_found() {
    // The first block matches nothing (nothing but the DFA runs); the next holds a line that
    // only the per-line check can attribute, and a wait hint.
    let r = Arc::new(Rules::builtin());
    let mut m = r.matcher(Stream::Stderr);
    let green = "   Compiling serde v1.0.0\nok\n".repeat(1000);
    m.observe(green.as_bytes());
    m.observe(b"npm notice\ncurl: (7) Failed to connect to 127.0.0.1 port 9: Connection refused\n");
    let found = m.finish();
    let rule = r
        .rules()
        .iter()
        .position(|rule| rule.name == "connection-refused")
        .unwrap();
    let hit = found.hit(rule).expect("the refused connection is found");
    assert_eq!(hit.line_number, 2002);
    assert_eq!(found.matched_rules().collect::<Vec<_>>(), vec![rule]);
}

#[test]
fn user_rules_before_the_builtins_compile_at_run_time_and_match() {
    let r = rules(USER);
    let (patterns, _) = LineSet::patterns(&r.rules, Stream::Stdout);
    assert!(nfa_image::decode(BUILTIN_IMAGE, &patterns).is_none());
    let found = feed(
        &r,
        Stream::Stderr,
        &[b"ok\nslow down, retry in 7 seconds\nboom 3\ncurl: (6) Could not resolve host: x\n"],
    );
    assert_eq!(found.hit(0).unwrap().line_number, 3);
    assert_eq!(found.hit(1).unwrap().line_number, 2);
    assert_eq!(found.wait(1), Some(WaitHint::After(Duration::from_secs(7))));
    let dns = r
        .rules()
        .iter()
        .position(|rule| rule.name == "dns")
        .unwrap();
    assert_eq!(found.hit(dns).unwrap().line_number, 4);
}

#[test]
fn a_pattern_that_spans_a_line_feed_does_not_hide_a_later_match() {
    // `\s` matches a line feed, so `a\s+b` matches across lines 1 and 2; line 2 matches
    // `^b c$` on its own and must still be found.
    let yaml = r"
rules:
  - name: across
    category: transient
    patterns: ['a\s+b']
  - name: own
    category: transient
    patterns: ['^b c$']
";
    let found = feed(&rules(yaml), Stream::Stdout, &[b"x a\nb c\n"]);
    assert_eq!(found.hit(0), None);
    assert_eq!(found.hit(1).unwrap().line_number, 2);
}

/// Every fixture log, padded so that each block is long enough to be searched in two lanes,
/// gives the same findings as when fed in pieces too small to split (one search per block).
#[test]
fn two_lanes_find_what_one_search_finds() {
    let r = Arc::new(Rules::builtin());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs");
    let filler = "   Compiling serde v1.0.0\n\nok: 200 items\n".repeat(60);
    let mut compared = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let log = std::fs::read(&path).unwrap();
        // The log at the start, the middle and the end of a long text, so that its lines fall
        // into either lane and across the split.
        let mut text = Vec::new();
        for _ in 0..3 {
            text.extend_from_slice(&log);
            text.extend_from_slice(filler.as_bytes());
        }
        for stream in [Stream::Stdout, Stream::Stderr] {
            let whole = feed(&r, stream, &[&text]);
            let pieces: Vec<&[u8]> = text.chunks(700).collect();
            let small = feed(&r, stream, &pieces);
            assert_eq!(whole, small, "{}", path.display());
        }
        compared += 1;
    }
    assert!(compared >= 100, "only {compared} fixture logs");
}
