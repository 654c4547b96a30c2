//! The compiled patterns of each stream: every rule pattern and wait pattern that watches the
//! stream, in one lazy DFA, and what each pattern stands for.
//!
//! The DFA answers the two questions the [matcher](super::matcher) asks: where the earliest match
//! in a block of lines ends (to find the next line worth a closer look) and which patterns match
//! one line. The built-in patterns are compiled when recover is built (see `nfa_image.rs` and
//! `build.rs`), so loading them costs a few milliseconds instead of the tens that parsing and
//! compiling some 500 patterns would.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson::{NFA, pikevm};
use regex_automata::{Input, MatchError, MatchKind, PatternSet};

use super::error::RulesError;
use super::nfa_image;
use super::rule::Rule;
use super::schema::StreamSelector;
use crate::output::Stream;

/// The most memory each lazy DFA's cache may take, in bytes. Past it the cache is cleared and
/// rebuilt as lines come: a little slower on pathological output, but recover's memory stays
/// small whatever the command prints.
const DFA_CACHE_LIMIT: usize = 2 * 1024 * 1024;

/// The built-in patterns, compiled by `build.rs`.
pub(super) const BUILTIN_IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtin.nfa"));

/// What one pattern in a stream's set stands for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Target {
    /// A rule's pattern: the line matches the rule (unless an exclusion vetoes it).
    Match(usize),
    /// A rule's wait pattern, by rule and position in its `wait` list.
    Wait(usize, usize),
}

/// The compiled patterns of one stream.
#[derive(Debug, Clone)]
pub(super) struct LineSet {
    /// Every pattern in one lazy DFA; `None` when there are no patterns.
    pub(super) dfa: Option<Engines>,
    pub(super) targets: Vec<Target>,
}

/// Two engines over one NFA. The lazy DFA does the work; the `PikeVM` answers only if the DFA
/// cannot, which the configuration rules out (no quit bytes, no give-up threshold), but an
/// answer is cheap to keep and better than a panic in the relay.
#[derive(Debug, Clone)]
pub(super) struct Engines {
    dfa: DFA,
    pikevm: pikevm::PikeVM,
}

/// The mutable search state of one stream's [`Engines`].
#[derive(Debug)]
pub(super) struct Caches {
    dfa: Cache,
    pikevm: Option<pikevm::Cache>,
    /// The patterns that matched the line being checked.
    pub(super) matched: PatternSet,
}

/// The compiled patterns of both streams.
#[derive(Debug)]
pub(super) struct LineSets {
    stdout: LineSet,
    stderr: LineSet,
}

impl LineSets {
    /// Compiles the patterns of `rules` for each stream.
    pub(super) fn build(rules: &[Rule]) -> Result<LineSets, RulesError> {
        let stdout = LineSet::build(rules, Stream::Stdout)?;
        // Most rules watch both streams: when the two sets hold the same patterns, compile once
        // and share (the compiled NFA is reference-counted, so a clone is cheap).
        let stderr = if rules.iter().all(|r| r.stream == StreamSelector::Both) {
            stdout.clone()
        } else {
            LineSet::build(rules, Stream::Stderr)?
        };
        Ok(LineSets { stdout, stderr })
    }

    pub(super) fn get(&self, stream: Stream) -> &LineSet {
        match stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
        }
    }
}

impl LineSet {
    fn build(rules: &[Rule], stream: Stream) -> Result<LineSet, RulesError> {
        let (patterns, targets) = LineSet::patterns(rules, stream);
        if patterns.is_empty() {
            return Ok(LineSet { dfa: None, targets });
        }
        let too_big = |e: Box<dyn std::error::Error + Send + Sync>| RulesError::Set {
            stream: stream_name(stream),
            source: e,
        };
        let nfa = match nfa_image::decode(BUILTIN_IMAGE, &patterns) {
            Some(nfa) => nfa,
            None => nfa_image::compiler()
                .build_many(&patterns)
                .map_err(|e| too_big(Box::new(e)))?,
        };
        let engines = Engines::new(nfa).map_err(|e| too_big(e))?;
        Ok(LineSet {
            dfa: Some(engines),
            targets,
        })
    }

    /// The patterns the rules watch `stream` with, in order (each rule's patterns, then its wait
    /// patterns, rule by rule; `build.rs` lists the built-ins in the same order), and what each
    /// stands for.
    pub(super) fn patterns(rules: &[Rule], stream: Stream) -> (Vec<&str>, Vec<Target>) {
        let mut patterns: Vec<&str> = Vec::new();
        let mut targets = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            if !rule.stream.covers(stream) {
                continue;
            }
            for pattern in &rule.patterns {
                patterns.push(pattern);
                targets.push(Target::Match(index));
            }
            for (k, wait) in rule.wait.iter().enumerate() {
                patterns.push(wait.as_str());
                targets.push(Target::Wait(index, k));
            }
        }
        (patterns, targets)
    }
}

impl Engines {
    fn new(nfa: NFA) -> Result<Engines, Box<regex_automata::hybrid::BuildError>> {
        // `MatchKind::All` keeps every pattern alive in the DFA's states, so that one DFA
        // answers both questions: where the earliest match ends, and which patterns match a
        // line (an overlapping search, as a `RegexSet` does).
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    .cache_capacity(DFA_CACHE_LIMIT)
                    .skip_cache_capacity_check(true),
            )
            .build_from_nfa(nfa.clone())
            .map_err(Box::new)?;
        let pikevm = pikevm::PikeVM::builder()
            .configure(pikevm::Config::new().match_kind(MatchKind::All))
            .build_from_nfa(nfa)
            .expect("a PikeVM accepts any NFA the lazy DFA accepts");
        Ok(Engines { dfa, pikevm })
    }

    pub(super) fn caches(&self) -> Caches {
        Caches {
            dfa: self.dfa.create_cache(),
            pikevm: None,
            matched: PatternSet::new(self.dfa.pattern_len()),
        }
    }

    /// The end of the earliest match in `block` at or after `from`, if any (see [`super::lanes`]
    /// for the one case where it is the earliest match that stays within a half of the block).
    pub(super) fn earliest_end(
        &self,
        caches: &mut Caches,
        block: &[u8],
        from: usize,
    ) -> Result<Option<usize>, MatchError> {
        super::lanes::earliest_end(&self.dfa, &mut caches.dfa, block, from)
    }

    /// Fills `caches.matched` with the patterns that match `line`.
    pub(super) fn which_match(&self, caches: &mut Caches, line: &[u8]) {
        let input = Input::new(line);
        caches.matched.clear();
        if self
            .dfa
            .try_which_overlapping_matches(&mut caches.dfa, &input, &mut caches.matched)
            .is_err()
        {
            caches.matched.clear();
            let cache = caches
                .pikevm
                .get_or_insert_with(|| self.pikevm.create_cache());
            self.pikevm
                .which_overlapping_matches(cache, &input, &mut caches.matched);
        }
    }
}

fn stream_name(stream: Stream) -> &'static str {
    match stream {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    }
}
