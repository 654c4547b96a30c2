//! The streaming line matcher: watches one output stream as it is relayed and remembers, for each
//! rule, the first line that matched it and the first wait hint it captured.
//!
//! In: chunks of a stream, split anywhere. Out: a [`Found`] when the stream ends. Memory is
//! bounded whatever the output size: one partial line of at most [`MAX_LINE`] bytes, and at most
//! one remembered line and one hint per rule.
//!
//! Speed comes from scanning whole blocks of lines at once: one lazy DFA holding every pattern
//! of the stream finds the next line that can match anything, stopping at the earliest match
//! end, and only that line is searched again to tell which patterns matched. Most log lines match
//! nothing, so most bytes see the DFA once.
//!
//! The built-in patterns are compiled when recover is built (see `nfa_image.rs` and `build.rs`):
//! loading them costs a few milliseconds instead of the tens that parsing and compiling some
//! 500 patterns would, and a command whose output matches nothing pays that little only.

use std::collections::BTreeMap;
use std::sync::Arc;

use memchr::{memchr, memrchr};
use regex::bytes::Regex;

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson::{NFA, pikevm};
use regex_automata::{Input, MatchError, MatchKind, PatternSet};

use super::nfa_image;
use super::rules::{Rule, Rules, RulesError, StreamSelector, build_regex};
use super::wait::{WaitHint, parse_hint};
use crate::exec::stream::{Observer, Stream};

/// The longest line the matcher looks at, in bytes. Longer lines are cut for matching (never
/// for the relay): error messages are short, and the cut bounds both memory and time per line.
pub const MAX_LINE: usize = 4096;

/// The most memory each lazy DFA's cache may take, in bytes. Past it the cache is cleared and
/// rebuilt as lines come: a little slower on pathological output, but recover's memory stays
/// small whatever the command prints.
const DFA_CACHE_LIMIT: usize = 2 * 1024 * 1024;

/// The built-in patterns, compiled by `build.rs`.
const BUILTIN_IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtin.nfa"));

/// What one pattern in a stream's set stands for.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// A rule's pattern: the line matches the rule (unless an exclusion vetoes it).
    Match(usize),
    /// A rule's wait pattern, by rule and position in its `wait` list.
    Wait(usize, usize),
}

/// The compiled patterns of one stream.
#[derive(Debug, Clone)]
pub(super) struct LineSet {
    /// Every pattern in one lazy DFA; `None` when there are no patterns.
    dfa: Option<Engines>,
    targets: Vec<Target>,
}

/// Two engines over one NFA. The lazy DFA does the work; the `PikeVM` answers only if the DFA
/// cannot, which the configuration rules out (no quit bytes, no give-up threshold), but an
/// answer is cheap to keep and better than a panic in the relay.
#[derive(Debug, Clone)]
struct Engines {
    dfa: DFA,
    pikevm: pikevm::PikeVM,
}

/// The mutable search state of one stream's [`Engines`].
#[derive(Debug)]
struct Caches {
    dfa: Cache,
    pikevm: Option<pikevm::Cache>,
    /// The patterns that matched the line being checked.
    matched: PatternSet,
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

    fn get(&self, stream: Stream) -> &LineSet {
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
    fn patterns(rules: &[Rule], stream: Stream) -> (Vec<&str>, Vec<Target>) {
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

    fn caches(&self) -> Caches {
        Caches {
            dfa: self.dfa.create_cache(),
            pikevm: None,
            matched: PatternSet::new(self.dfa.pattern_len()),
        }
    }

    /// The end of the earliest match in `block` at or after `from`, if any.
    fn earliest_end(
        &self,
        caches: &mut Caches,
        block: &[u8],
        from: usize,
    ) -> Result<Option<usize>, MatchError> {
        let input = Input::new(block).range(from..).earliest(true);
        Ok(self
            .dfa
            .try_search_fwd(&mut caches.dfa, &input)?
            .map(|m| m.offset()))
    }

    /// Fills `caches.matched` with the patterns that match `line`.
    fn which_match(&self, caches: &mut Caches, line: &[u8]) {
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

/// A line that matched a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The 1-based line number in its stream.
    pub line_number: u64,
    /// The line, without its line ending, cut to [`MAX_LINE`] bytes (invalid UTF-8 replaced).
    pub line: String,
}

/// What the matcher saw in one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The stream watched.
    pub stream: Stream,
    hits: BTreeMap<usize, Hit>,
    waits: BTreeMap<usize, WaitHint>,
    lines: u64,
}

impl Found {
    /// Nothing seen yet.
    #[must_use]
    pub fn new(stream: Stream) -> Found {
        Found {
            stream,
            hits: BTreeMap::new(),
            waits: BTreeMap::new(),
            lines: 0,
        }
    }

    /// The first line that matched the rule at `index`, if any.
    #[must_use]
    pub fn hit(&self, index: usize) -> Option<&Hit> {
        self.hits.get(&index)
    }

    /// The first wait hint the rule at `index` captured, if any.
    #[must_use]
    pub fn wait(&self, index: usize) -> Option<WaitHint> {
        self.waits.get(&index).copied()
    }

    /// The indices of the rules that matched a line, lowest (highest priority) first.
    pub fn matched_rules(&self) -> impl Iterator<Item = usize> + '_ {
        self.hits.keys().copied()
    }

    /// How many lines the stream had (a trailing partial line counts).
    #[must_use]
    pub fn lines(&self) -> u64 {
        self.lines
    }
}

/// Watches one stream of an attempt; see the module documentation.
#[derive(Debug)]
pub struct StreamMatcher {
    rules: Arc<Rules>,
    partial: Vec<u8>,
    /// Whether the current line has bytes not in `partial` (it was longer than [`MAX_LINE`]).
    cut: bool,
    found: Found,
    /// The search state, made on the first line checked.
    caches: Option<Caches>,
}

impl Rules {
    /// A matcher for one stream of an attempt, to hand to the relay.
    #[must_use]
    pub fn matcher(self: &Arc<Self>, stream: Stream) -> StreamMatcher {
        StreamMatcher {
            rules: Arc::clone(self),
            partial: Vec::new(),
            cut: false,
            found: Found::new(stream),
            caches: None,
        }
    }
}

impl Observer for StreamMatcher {
    fn observe(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        if !self.partial.is_empty() || self.cut {
            let Some(end) = memchr(b'\n', rest) else {
                self.keep_partial(rest);
                return;
            };
            self.keep_partial(&rest[..end]);
            let line = std::mem::take(&mut self.partial);
            self.found.lines += 1;
            self.check_one(&line, self.found.lines);
            self.partial = line;
            self.partial.clear();
            self.cut = false;
            rest = &rest[end + 1..];
        }
        match memrchr(b'\n', rest) {
            Some(last) => {
                self.scan_block(&rest[..=last]);
                self.keep_partial(&rest[last + 1..]);
            }
            None => self.keep_partial(rest),
        }
    }
}

impl StreamMatcher {
    /// Ends the stream: checks a trailing line that had no line ending, and returns the findings.
    #[must_use]
    pub fn finish(mut self) -> Found {
        if !self.partial.is_empty() || self.cut {
            let line = std::mem::take(&mut self.partial);
            self.found.lines += 1;
            self.check_one(&line, self.found.lines);
        }
        self.found
    }

    fn keep_partial(&mut self, bytes: &[u8]) {
        let room = MAX_LINE - self.partial.len();
        if bytes.len() > room {
            self.cut = true;
        }
        self.partial
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// Scans whole lines (the block ends with a line feed): the DFA finds where the earliest
    /// match ends, and the line holding that end is checked.
    ///
    /// Why the earliest end: a line that matches a pattern on its own holds a match that ends
    /// within it, so no earlier line holds the earliest end unless that line matches too. Lines
    /// are thus checked in order and none that matches is skipped, even when a pattern such as
    /// `^\s*error` matches across a line feed.
    fn scan_block(&mut self, block: &[u8]) {
        let rules = Arc::clone(&self.rules);
        let set = rules.sets().get(self.found.stream);
        let first_line = self.found.lines + 1;
        let mut counted_to = 0;
        let mut counted_lines = 0;
        let mut pos = 0;
        if let Some(engines) = &set.dfa {
            let mut caches = self.caches.take().unwrap_or_else(|| engines.caches());
            while pos < block.len() {
                let at = match engines.earliest_end(&mut caches, block, pos) {
                    Ok(Some(end)) => end.saturating_sub(1).max(pos),
                    Ok(None) => break,
                    // The DFA cannot answer (see `Engines`): check the next line.
                    Err(_) => pos,
                };
                let start = memrchr(b'\n', &block[pos..at]).map_or(pos, |i| pos + i + 1);
                let end = memchr(b'\n', &block[at..]).map_or(block.len(), |i| at + i);
                counted_lines += count_lines(&block[counted_to..start]);
                counted_to = start;
                self.check_line(
                    set,
                    engines,
                    &mut caches,
                    &block[start..end],
                    first_line + counted_lines,
                );
                pos = end + 1;
            }
            self.caches = Some(caches);
        }
        self.found.lines += count_lines(block);
    }

    /// Checks one line outside a block: a line split across chunks, or the last one.
    fn check_one(&mut self, line: &[u8], line_number: u64) {
        let rules = Arc::clone(&self.rules);
        let set = rules.sets().get(self.found.stream);
        let Some(engines) = &set.dfa else {
            return;
        };
        let mut caches = self.caches.take().unwrap_or_else(|| engines.caches());
        self.check_line(set, engines, &mut caches, line, line_number);
        self.caches = Some(caches);
    }

    /// Finds which patterns match one line and records new hits and hints.
    fn check_line(
        &mut self,
        set: &LineSet,
        engines: &Engines,
        caches: &mut Caches,
        line: &[u8],
        line_number: u64,
    ) {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = &line[..line.len().min(MAX_LINE)];
        engines.which_match(caches, line);
        for pattern in caches.matched.iter() {
            match set.targets[pattern.as_usize()] {
                Target::Match(rule) => {
                    if self.found.hits.contains_key(&rule)
                        || self.rules.rules[rule]
                            .exclude
                            .iter()
                            .any(|re| re.is_match(line))
                    {
                        continue;
                    }
                    self.found.hits.insert(
                        rule,
                        Hit {
                            line_number,
                            line: String::from_utf8_lossy(line).into_owned(),
                        },
                    );
                }
                Target::Wait(rule, k) => {
                    if self.found.waits.contains_key(&rule) {
                        continue;
                    }
                    if let Some(hint) = capture_wait(&self.rules.rules[rule].wait[k], line) {
                        self.found.waits.insert(rule, hint);
                    }
                }
            }
        }
    }
}

/// The wait a pattern captures from a line: group `wait`, else the first group that took part.
fn capture_wait(re: &Regex, line: &[u8]) -> Option<WaitHint> {
    let caps = re.captures(line)?;
    let text = caps
        .name("wait")
        .or_else(|| caps.iter().skip(1).flatten().next())?;
    parse_hint(std::str::from_utf8(text.as_bytes()).ok()?)
}

fn count_lines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Checks that a pattern cannot match every line (an empty match would make every line a hit
/// and defeat the prefilter).
pub(super) fn check_not_empty(pattern: &str) -> bool {
    build_regex(pattern).is_ok_and(|re| !re.is_match(b""))
}

#[cfg(test)]
#[path = "matcher_tests.rs"]
mod tests;
