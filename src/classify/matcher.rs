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
//! nothing, so most bytes see the DFA once. The DFA and the patterns it holds are in
//! `line_set`.

use std::collections::BTreeMap;
use std::sync::Arc;

use memchr::{memchr, memrchr};
use regex::bytes::Regex;

use super::line_set::{Caches, Engines, LineSet, Target};
use super::rules::Rules;
use super::text::TextLines;
use super::wait::{WaitHint, parse_hint};
use crate::output::{Observer, Stream};

/// The longest line the matcher looks at, in bytes. Longer lines are cut for matching (never
/// for the relay): error messages are short, and the cut bounds both memory and time per line.
pub const MAX_LINE: usize = 4096;

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
    /// Leaves binary lines out (see [`text`](super::text)).
    text: TextLines,
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
            text: TextLines::default(),
        }
    }
}

impl Observer for StreamMatcher {
    fn observe(&mut self, chunk: &[u8]) {
        let mut text = std::mem::take(&mut self.text);
        self.observe_text(text.filter(chunk));
        self.text = text;
    }
}

impl StreamMatcher {
    /// Observes a chunk of text lines.
    fn observe_text(&mut self, chunk: &[u8]) {
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
                            .any(|re| re.regex().is_match(line))
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
                    if let Some(hint) = capture_wait(self.rules.rules[rule].wait[k].regex(), line) {
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

#[cfg(test)]
#[path = "matcher_tests.rs"]
mod tests;
