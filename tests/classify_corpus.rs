//! Accuracy of the built-in rules on real CI failures copied from public issue threads
//! (`tests/corpus/`, see its README): the training samples and the held-out fifth are scored
//! apart, per category, and the test fails when a score drops below its floor.
//!
//! Three figures per set: category accuracy (the verdict's category is the label's), permanent →
//! retryable (a failure no retry can fix that `retry_on: classified` would retry; `unknown`
//! counts as retryable, since the unknown policy retries it once) and retryable missed (a
//! failure a retry could fix that recover would give up on).
//!
//! `CORPUS_SHOW=1 cargo test --test classify_corpus -- --nocapture` lists the training samples
//! that miss; the held-out samples are only ever counted.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use recover::classify::{Category, Classification, ExitFacts, Rules};
use recover::output::{Observer, Stream};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Sample {
    id: String,
    tool: String,
    category: String,
    exit_code: Option<i32>,
    signal: Option<i32>,
    #[serde(default)]
    timed_out: bool,
    log: String,
}

/// What a set scored, counted per labelled category.
#[derive(Debug, Default)]
struct Score {
    /// Per category: samples, right.
    per_category: BTreeMap<String, (u32, u32)>,
    permanent: u32,
    permanent_retried: u32,
    retryable: u32,
    retryable_missed: u32,
    unknown: u32,
    tools: std::collections::BTreeSet<String>,
    misses: Vec<String>,
}

impl Score {
    fn total(&self) -> (u32, u32) {
        self.per_category
            .values()
            .fold((0, 0), |(n, r), (cn, cr)| (n + cn, r + cr))
    }

    fn accuracy(&self) -> f64 {
        let (n, r) = self.total();
        percent(r, n)
    }

    fn permanent_retried_rate(&self) -> f64 {
        percent(self.permanent_retried, self.permanent)
    }

    fn retryable_missed_rate(&self) -> f64 {
        percent(self.retryable_missed, self.retryable)
    }
}

fn percent(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        return 100.0 * f64::from(u8::from(part > 0));
    }
    100.0 * f64::from(part) / f64::from(whole)
}

fn load(dir: &Path) -> Vec<Sample> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    let mut samples = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let list: Option<Vec<Sample>> =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        samples.extend(list.unwrap_or_default());
    }
    samples
}

/// The verdict on one sample: its category and whether recover would retry it.
fn verdict(rules: &Arc<Rules>, sample: &Sample) -> Classification {
    let log = sample.log.as_bytes();
    let found: Vec<_> = [Stream::Stdout, Stream::Stderr]
        .into_iter()
        .map(|stream| {
            let mut m = rules.matcher(stream);
            for chunk in log.chunks(501) {
                m.observe(chunk);
            }
            m.finish()
        })
        .collect();
    let exit_code = match (sample.exit_code, sample.signal) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    };
    let facts = ExitFacts {
        exit_code,
        signal: sample.signal,
        timed_out: sample.timed_out,
    };
    rules.classify(&found, &facts)
}

fn score<'a>(scored: impl Iterator<Item = (&'a Sample, &'a Classification)>) -> Score {
    let mut score = Score::default();
    for (sample, verdict) in scored {
        let label = Category::from_name(&sample.category)
            .unwrap_or_else(|| panic!("{}: unknown category {}", sample.id, sample.category));
        let entry = score
            .per_category
            .entry(sample.category.clone())
            .or_default();
        entry.0 += 1;
        let right = verdict.category == label;
        if right {
            entry.1 += 1;
        }
        score.tools.insert(sample.tool.clone());
        if verdict.category == Category::Unknown {
            score.unknown += 1;
        }
        if label == Category::Permanent {
            score.permanent += 1;
            if verdict.retryable {
                score.permanent_retried += 1;
            }
        } else {
            score.retryable += 1;
            if !verdict.retryable {
                score.retryable_missed += 1;
            }
        }
        if !right {
            score.misses.push(format!(
                "{} ({}): labelled {}, got {} by {:?} on {:?}",
                sample.id,
                sample.tool,
                sample.category,
                verdict.category,
                verdict.rule,
                verdict.line
            ));
        }
    }
    score
}

fn table(name: &str, s: &Score) -> String {
    let (n, r) = s.total();
    let mut text = format!(
        "{name}: {n} samples from {} tools: category accuracy {r}/{n} = {:.1} %, \
         permanent -> retryable {}/{} = {:.1} %, retryable missed {}/{} = {:.1} %, unknown {}\n",
        s.tools.len(),
        s.accuracy(),
        s.permanent_retried,
        s.permanent,
        s.permanent_retried_rate(),
        s.retryable_missed,
        s.retryable,
        s.retryable_missed_rate(),
        s.unknown,
    );
    for (category, (cn, cr)) in &s.per_category {
        writeln!(
            text,
            "  {category:<11} {cr:>4}/{cn:<4} {:>5.1} %",
            percent(*cr, *cn)
        )
        .unwrap();
    }
    text
}

/// Floors just under the measured scores: a change that loses accuracy fails here.
struct Floors {
    accuracy: f64,
    permanent_retried: f64,
    retryable_missed: f64,
}

fn check(name: &str, s: &Score, floors: &Floors) -> Vec<String> {
    let mut problems = Vec::new();
    if s.accuracy() < floors.accuracy {
        problems.push(format!(
            "{name}: category accuracy {:.1} % < {:.1} %",
            s.accuracy(),
            floors.accuracy
        ));
    }
    if s.permanent_retried_rate() > floors.permanent_retried {
        problems.push(format!(
            "{name}: permanent -> retryable {:.1} % > {:.1} %",
            s.permanent_retried_rate(),
            floors.permanent_retried
        ));
    }
    if s.retryable_missed_rate() > floors.retryable_missed {
        problems.push(format!(
            "{name}: retryable missed {:.1} % > {:.1} %",
            s.retryable_missed_rate(),
            floors.retryable_missed
        ));
    }
    problems
}

#[test]
fn builtin_rules_classify_the_real_failure_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let train = load(&root.join("train"));
    let heldout = load(&root.join("heldout"));
    let rules = Arc::new(Rules::builtin());
    let train_verdicts: Vec<_> = train.iter().map(|s| verdict(&rules, s)).collect();
    let heldout_verdicts: Vec<_> = heldout.iter().map(|s| verdict(&rules, s)).collect();
    let train_score = score(train.iter().zip(&train_verdicts));
    let heldout_score = score(heldout.iter().zip(&heldout_verdicts));
    let all_score = score(
        train
            .iter()
            .zip(&train_verdicts)
            .chain(heldout.iter().zip(&heldout_verdicts)),
    );
    print!("{}", table("train", &train_score));
    print!("{}", table("held-out", &heldout_score));
    print!("{}", table("all", &all_score));
    if std::env::var_os("CORPUS_SHOW").is_some() {
        for miss in &train_score.misses {
            println!("train miss: {miss}");
        }
    }
    let total = train.len() + heldout.len();
    assert!(total >= 940, "the corpus is too small: {total}");
    // Measured on 2026-12-04 (docs/corpus.md): train 89.0 %, 10.9 %, 5.4 %; held-out 77.8 %,
    // 22.2 %, 6.5 %.
    let mut problems = check(
        "train",
        &train_score,
        &Floors {
            accuracy: 88.5,
            permanent_retried: 11.5,
            retryable_missed: 6.0,
        },
    );
    problems.extend(check(
        "held-out",
        &heldout_score,
        &Floors {
            accuracy: 77.0,
            permanent_retried: 23.0,
            retryable_missed: 7.0,
        },
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
