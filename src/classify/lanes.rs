//! The matcher's block scan, in two lanes: where the earliest match in a block of lines ends.
//!
//! A lazy DFA over some 500 patterns spends its time waiting on memory: every byte's transition
//! is a load from a table of a megabyte or more, and the next load depends on it. Searching two
//! halves of the block in lock-step gives the processor two independent chains of loads to
//! overlap, which made the scan about 1.4 times as fast as one search over the whole block.
//!
//! The halves meet at a line start, so every line lies wholly in one lane, and each lane starts
//! in the state a search starting at a line start has. A match that lies within one line is thus
//! found by the lane holding that line, at the same end as a search over the whole block finds
//! it. What the lanes can miss is a match that crosses from the first half into the second
//! (`^\s*x` over a blank line and the next): such a match only ever nominates a line for the
//! per-line check, and the line it ends in passes that check only if it matches on its own, in
//! which case the second lane finds it. So the matcher's findings are the same either way.

use memchr::memchr;
use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::{Input, MatchError};

/// Below this many bytes, one search: splitting would cost more than it saves.
const MIN_SPLIT: usize = 2048;

/// The end of the earliest match in `block` at or after `from`, if any (or, when that match
/// crosses the middle of the block, of the earliest match that does not; see the module doc).
///
/// # Errors
/// When the DFA cannot answer; the configuration rules that out.
pub(super) fn earliest_end(
    dfa: &DFA,
    cache: &mut Cache,
    block: &[u8],
    from: usize,
) -> Result<Option<usize>, MatchError> {
    if let Some(mid) = split(block, from) {
        let clears = cache.clear_count();
        let found = two_lanes(dfa, cache, block, from, mid)?;
        // A lane's state is an index into the cache: if the other lane's transitions filled
        // the cache and it was cleared, that index no longer means anything. Start over with
        // one search, which copes with clearing.
        if cache.clear_count() == clears {
            return Ok(found);
        }
    }
    let input = Input::new(block).range(from..).earliest(true);
    Ok(dfa.try_search_fwd(cache, &input)?.map(|m| m.offset()))
}

/// The start of the line nearest the middle of `block[from..]`, if the block is worth splitting.
fn split(block: &[u8], from: usize) -> Option<usize> {
    let len = block.len().checked_sub(from)?;
    if len < MIN_SPLIT {
        return None;
    }
    let half = from + len / 2;
    let mid = half + memchr(b'\n', &block[half..])? + 1;
    (mid < block.len()).then_some(mid)
}

/// One lane: a search over `block[at..end]`.
struct Lane {
    state: LazyStateID,
    at: usize,
    end: usize,
    progress: Progress,
}

/// How far a lane has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// Still searching.
    Searching,
    /// Found a match ending here.
    Matched(usize),
    /// Reached its end (or a dead state) without a match.
    Done,
}

impl Lane {
    fn start(
        dfa: &DFA,
        cache: &mut Cache,
        block: &[u8],
        range: (usize, usize),
    ) -> Result<Lane, MatchError> {
        // The haystack ends where the lane does, as for a search of that range alone; the byte
        // before the start (a line feed, or the block's own start) sets the start state.
        let input = Input::new(&block[..range.1]).range(range.0..);
        let state = dfa.start_state_forward(cache, &input)?;
        Ok(Lane {
            state,
            at: range.0,
            end: range.1,
            progress: Progress::Searching,
        })
    }

    /// Takes one byte (or the end of the lane). DFA match states come one byte late: entering
    /// one on the byte at `at` means a match ended at `at`.
    fn step(&mut self, dfa: &DFA, cache: &mut Cache, block: &[u8]) -> Result<(), MatchError> {
        if self.at == self.end {
            let state = dfa
                .next_eoi_state(cache, self.state)
                .map_err(|_| gave_up(self.at))?;
            self.progress = if state.is_match() {
                Progress::Matched(self.end)
            } else {
                Progress::Done
            };
            return Ok(());
        }
        let byte = block[self.at];
        self.state = dfa
            .next_state(cache, self.state, byte)
            .map_err(|_| gave_up(self.at))?;
        if self.state.is_tagged() {
            if self.state.is_match() {
                self.progress = Progress::Matched(self.at);
                return Ok(());
            }
            if self.state.is_dead() {
                self.progress = Progress::Done;
                return Ok(());
            }
            if self.state.is_quit() {
                return Err(MatchError::quit(byte, self.at));
            }
        }
        self.at += 1;
        Ok(())
    }

    /// Steps to the lane's end or match; `false` if the cache was cleared meanwhile (after
    /// `clears` clearings), which makes the other lane's state meaningless.
    fn run_out(
        &mut self,
        dfa: &DFA,
        cache: &mut Cache,
        block: &[u8],
        clears: usize,
    ) -> Result<bool, MatchError> {
        while self.progress == Progress::Searching {
            self.step(dfa, cache, block)?;
            if cache.clear_count() != clears {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn gave_up(at: usize) -> MatchError {
    MatchError::gave_up(at)
}

fn two_lanes(
    dfa: &DFA,
    cache: &mut Cache,
    block: &[u8],
    from: usize,
    mid: usize,
) -> Result<Option<usize>, MatchError> {
    // Every call that may add a state to the cache may also clear it, and a clear makes the
    // other lane's state id dangle (using it indexes past the new, smaller tables): so the
    // count is checked after each such call, before the other lane takes its next step.
    let clears = cache.clear_count();
    let mut first = Lane::start(dfa, cache, block, (from, mid))?;
    let mut second = Lane::start(dfa, cache, block, (mid, block.len()))?;
    if cache.clear_count() != clears {
        return Ok(None);
    }
    loop {
        // The fast path: both lanes in ordinary states whose transitions are cached. A tagged
        // state (not yet computed, a match, dead) sends both lanes through one careful step.
        if !first.state.is_tagged() && !second.state.is_tagged() {
            while first.at < first.end && second.at < second.end {
                let a = dfa.next_state_untagged(cache, first.state, block[first.at]);
                let b = dfa.next_state_untagged(cache, second.state, block[second.at]);
                if a.is_tagged() || b.is_tagged() {
                    break;
                }
                first.state = a;
                second.state = b;
                first.at += 1;
                second.at += 1;
            }
        }
        first.step(dfa, cache, block)?;
        if cache.clear_count() != clears {
            return Ok(None);
        }
        second.step(dfa, cache, block)?;
        if cache.clear_count() != clears {
            return Ok(None);
        }
        if first.progress != Progress::Searching || second.progress != Progress::Searching {
            break;
        }
    }
    // The first lane's match, if any, comes before anything in the second.
    if !first.run_out(dfa, cache, block, clears)? {
        return Ok(None);
    }
    if let Progress::Matched(end) = first.progress {
        return Ok(Some(end));
    }
    if !second.run_out(dfa, cache, block, clears)? {
        return Ok(None);
    }
    Ok(match second.progress {
        Progress::Matched(end) => Some(end),
        Progress::Searching | Progress::Done => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex_automata::MatchKind;

    /// Bytes from a xorshift generator, with a line feed now and then: output no DFA cache can
    /// hold, so the cache is cleared again and again.
    fn noise(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                if seed.is_multiple_of(97) {
                    b'\n'
                } else {
                    seed.to_le_bytes()[0]
                }
            })
            .collect()
    }

    #[test]
    fn a_cache_cleared_by_one_lane_does_not_break_the_other() {
        // A small cache over patterns whose DFA is exponential (a byte, then any twelve) fills
        // after a few hundred bytes of noise: a lane's state id then points past the cleared
        // cache's tables, which panicked (index out of bounds) before each step checked for
        // a clear.
        let patterns: Vec<String> = (b'a'..=b'h')
            .map(|c| format!(r"(?-u){}[^\n]{{12}}z", c as char))
            .collect();
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    .cache_capacity(64 * 1024)
                    .skip_cache_capacity_check(true),
            )
            .syntax(regex_automata::util::syntax::Config::new().utf8(false))
            .build_many(&patterns)
            .unwrap();
        let mut cache = dfa.create_cache();
        let mut single = dfa.create_cache();
        let data = noise(4 << 20, 0x9E37_79B9_7F4A_7C15);
        for block in data.chunks(64 * 1024) {
            let mut from = 0;
            while from < block.len() {
                let got = earliest_end(&dfa, &mut cache, block, from).unwrap();
                let input = Input::new(block).range(from..).earliest(true);
                let want = dfa.try_search_fwd(&mut single, &input).unwrap();
                let want = want.map(|m| m.offset());
                // The lanes may pass over a match that crosses the middle (see the module
                // doc), never over one that the single search finds within a line.
                if got != want {
                    let (Some(got), Some(want)) = (got, want) else {
                        panic!("lanes {got:?}, one search {want:?}");
                    };
                    assert!(got > want, "lanes {got}, one search {want}");
                }
                let Some(end) = got else { break };
                from = end.max(from + 1);
            }
        }
        assert!(cache.clear_count() > 10, "the cache was never cleared");
    }
}
