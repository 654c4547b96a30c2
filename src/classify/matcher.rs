//! The streaming line matcher: watches one output stream as it is relayed and remembers, for each
//! rule, the first line that matched it and the first wait hint it captured.
//!
//! In: chunks of a stream, split anywhere. Out: a [`Found`] when the stream ends. Memory is
//! bounded whatever the output size: one partial line of at most [`MAX_LINE`] bytes, and at most
//! one remembered line and one hint per rule.
//!
//! Speed comes from scanning whole blocks of lines at once: one multi-pattern regex holding
//! every pattern of the stream finds the next line that can match anything, and only that line
//! goes through the `RegexSet` that tells which rules matched. Most log lines match nothing, so
//! most bytes see only the alternation's DFA and its literal prefilter.

use std::collections::BTreeMap;
use std::sync::Arc;

use memchr::{memchr, memrchr};
use regex::bytes::{Regex, RegexSet, RegexSetBuilder};

use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::util::syntax;
use regex_automata::{Input, meta};

use super::rules::{Rule, Rules, RulesError, build_regex};
use super::wait::{WaitHint, parse_hint};
use crate::exec::stream::{Observer, Stream};

/// The longest line the matcher looks at, in bytes. Longer lines are cut for matching (never
/// for the relay): error messages are short, and the cut bounds both memory and time per line.
pub const MAX_LINE: usize = 4096;

/// The size limit for the compiled set and the alternation, in bytes. The built-in rules need a
/// few megabytes; user rules add to them.
const SET_SIZE_LIMIT: usize = 64 * 1024 * 1024;

/// What one pattern in a stream's set stands for.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// A rule's pattern: the line matches the rule (unless an exclusion vetoes it).
    Match(usize),
    /// A rule's wait pattern, by rule and position in its `wait` list.
    Wait(usize, usize),
}

/// The compiled patterns of one stream.
#[derive(Debug)]
pub(super) struct LineSet {
    /// Every pattern in one multi-pattern regex, to find candidate lines quickly; `None` when
    /// there are no patterns.
    any: Option<meta::Regex>,
    set: RegexSet,
    targets: Vec<Target>,
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
        Ok(LineSets {
            stdout: LineSet::build(rules, Stream::Stdout)?,
            stderr: LineSet::build(rules, Stream::Stderr)?,
        })
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
        let too_big = |e: regex::Error| RulesError::Set {
            stream: stream_name(stream),
            source: Box::new(e),
        };
        let set = RegexSetBuilder::new(&patterns)
            .multi_line(true)
            .crlf(true)
            .size_limit(SET_SIZE_LIMIT)
            .dfa_size_limit(SET_SIZE_LIMIT)
            .build()
            .map_err(too_big)?;
        let any = if patterns.is_empty() {
            None
        } else {
            Some(
                meta::Builder::new()
                    .syntax(
                        syntax::Config::new()
                            .multi_line(true)
                            .crlf(true)
                            .unicode(false)
                            .utf8(false),
                    )
                    .configure(
                        meta::Config::new()
                            .nfa_size_limit(Some(SET_SIZE_LIMIT))
                            .hybrid_cache_capacity(SET_SIZE_LIMIT)
                            .which_captures(WhichCaptures::Implicit)
                            .utf8_empty(false),
                    )
                    .build_many(&patterns)
                    .map_err(|e| RulesError::Set {
                        stream: stream_name(stream),
                        source: Box::new(e),
                    })?,
            )
        };
        Ok(LineSet { any, set, targets })
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
            self.check_line(&line, self.found.lines);
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
            self.check_line(&line, self.found.lines);
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

    /// Scans whole lines (the block ends with a line feed): the alternation finds the next
    /// candidate line, the set says what it matched.
    fn scan_block(&mut self, block: &[u8]) {
        let rules = Arc::clone(&self.rules);
        let first_line = self.found.lines + 1;
        let mut counted_to = 0;
        let mut counted_lines = 0;
        let mut pos = 0;
        if let Some(any) = &rules.sets.get(self.found.stream).any {
            while pos < block.len() {
                let Some(m) = any.find(Input::new(block).range(pos..)) else {
                    break;
                };
                let start = memrchr(b'\n', &block[pos..m.start()]).map_or(pos, |i| pos + i + 1);
                let end = memchr(b'\n', &block[m.start()..]).map_or(block.len(), |i| m.start() + i);
                counted_lines += count_lines(&block[counted_to..start]);
                counted_to = start;
                self.check_line(&block[start..end], first_line + counted_lines);
                pos = end + 1;
            }
        }
        self.found.lines += count_lines(block);
    }

    /// Runs the set over one line and records new hits and hints.
    fn check_line(&mut self, line: &[u8], line_number: u64) {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = &line[..line.len().min(MAX_LINE)];
        let rules = Arc::clone(&self.rules);
        let set = rules.sets.get(self.found.stream);
        for index in set.set.matches(line).iter() {
            match set.targets[index] {
                Target::Match(rule) => {
                    if self.found.hits.contains_key(&rule)
                        || rules.rules[rule].exclude.iter().any(|re| re.is_match(line))
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
                    if let Some(hint) = capture_wait(&rules.rules[rule].wait[k], line) {
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
