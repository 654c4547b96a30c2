//! Accuracy of the built-in rules on real tool output: every labelled failing log in
//! `tests/fixtures/logs/` must get its expected category and rule, and no green log may match any
//! rule. The logs come from `scripts/gen-fixtures.py`.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use recover::classify::{ExitFacts, Rules};
use recover::exec::stream::{Observer, Stream};
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
