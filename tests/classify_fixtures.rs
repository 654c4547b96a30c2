//! Accuracy of the built-in rules on real tool output: every labelled failing log in
//! `tests/fixtures/logs/` must get its expected category and rule, and no green log may match any
//! rule. The logs come from `scripts/gen-fixtures.py`.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use recover::classify::{ExitFacts, Rules};
use recover::output::{Observer, Stream};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Entry {
    log: String,
    tool: String,
    exit_code: i32,
    signal: Option<i32>,
    category: Option<String>,
    rule: Option<String>,
}

#[test]
fn builtin_rules_classify_every_fixture_log() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs");
    let manifest: Vec<Entry> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let rules = Arc::new(Rules::builtin());
    let (mut failing, mut right, mut green) = (0, 0, 0);
    let mut tools = std::collections::BTreeSet::new();
    let mut report = String::new();
    for entry in &manifest {
        let log = std::fs::read(dir.join(&entry.log)).unwrap();
        // The saved log holds both streams; each matcher sees it in chunks of odd sizes.
        let found: Vec<_> = [Stream::Stdout, Stream::Stderr]
            .into_iter()
            .map(|stream| {
                let mut m = rules.matcher(stream);
                for chunk in log.chunks(777) {
                    m.observe(chunk);
                }
                m.finish()
            })
            .collect();
        let facts = ExitFacts {
            exit_code: entry.exit_code,
            signal: entry.signal,
            timed_out: false,
        };
        let verdict = rules.classify(&found, &facts);
        match &entry.category {
            None => {
                green += 1;
                let matched: Vec<_> = found
                    .iter()
                    .flat_map(recover::classify::Found::matched_rules)
                    .map(|i| rules.rules()[i].name.as_str())
                    .collect();
                if !matched.is_empty() {
                    writeln!(report, "green {} matched {matched:?}", entry.log).unwrap();
                }
            }
            Some(category) => {
                failing += 1;
                tools.insert(entry.tool.as_str());
                let got = (verdict.category.as_str(), verdict.rule.as_deref());
                if got == (category.as_str(), entry.rule.as_deref()) {
                    right += 1;
                } else {
                    writeln!(
                        report,
                        "{}: expected {category}/{:?}, got {}/{:?} on {:?}",
                        entry.log, entry.rule, got.0, got.1, verdict.line
                    )
                    .unwrap();
                }
            }
        }
    }
    println!(
        "fixture accuracy: {right}/{failing} failing logs from {} tools, {green} green logs",
        tools.len()
    );
    assert!(failing >= 60 && tools.len() >= 12, "too few fixtures");
    assert!(report.is_empty(), "{report}");
}

/// `recover rules check` and `recover classify` through the real binary: misuse exits 2 with a
/// message naming the problem, a verdict exits 0.
#[test]
fn the_cli_checks_rules_and_classifies_logs() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "rules:\n  - name: npm-429\n    category: rate_limit\n    patterns: ['E429(']\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recover"))
        .args(["rules", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: rules file {}: rule \"npm-429\" line 4 column 16: invalid pattern: ",
            bad.display()
        )),
        "{stderr}"
    );

    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs/curl-429.log");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recover"))
        .args(["classify", "--json", "--exit-code", "22"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"category\":\"rate_limit\",\"retryable\":true,\"rule\":\"http-429\",\
         \"line\":\"curl: (22) The requested URL returned error: 429\",\"wait_seconds\":null}\n"
    );
}
