//! A compact image of a compiled Thompson NFA, so that the built-in patterns are compiled when
//! recover is built and only loaded when it runs.
//!
//! In: the patterns of a line set and their compiled NFA (when building), or an image's bytes
//! and the patterns the caller needs (when running). Out: the image, or the same NFA rebuilt
//! state by state with regex-automata's `thompson::Builder`. Rebuilding skips parsing and
//! compiling some 500 patterns, which is most of the cost of loading the built-in rules.
//!
//! `build.rs` compiles this file too (through `#[path]`), so it uses only `std` and
//! `regex_automata`.

use regex_automata::nfa::thompson::{self, Builder, NFA, State, Transition, WhichCaptures};
use regex_automata::util::look::{Look, LookMatcher};
use regex_automata::util::primitives::StateID;
use regex_automata::util::syntax;

/// The size limit of one stream's NFA, in bytes. The built-in rules need well under a
/// megabyte; user rules add to them.
pub const NFA_SIZE_LIMIT: usize = 64 * 1024 * 1024;

/// The first bytes of an image, with the format's version.
const MAGIC: &[u8] = b"recover-nfa\x01";

const BYTE_RANGE: u8 = 0;
const SPARSE: u8 = 1;
const LOOK: u8 = 2;
const UNION: u8 = 3;
const BINARY_UNION: u8 = 4;
const FAIL: u8 = 5;
const MATCH: u8 = 6;

/// The compiler for every line set, built-in or not, so that an image and a run-time compile
/// give the same NFA: multi-line and CRLF-aware, ASCII-only classes over bytes, and no capture
/// groups (the matcher asks which patterns match, never where their groups are).
#[must_use]
pub fn compiler() -> thompson::Compiler {
    let mut compiler = thompson::Compiler::new();
    compiler
        .syntax(
            syntax::Config::new()
                .multi_line(true)
                .crlf(true)
                .unicode(false)
                .utf8(false),
        )
        .configure(
            thompson::Config::new()
                .utf8(false)
                .which_captures(WhichCaptures::None)
                .nfa_size_limit(Some(NFA_SIZE_LIMIT)),
        );
    compiler
}

/// The image of `nfa`, compiled by [`compiler`] from `patterns`; `None` if the NFA has a state
/// the format does not carry (captures, which the compiler leaves out).
#[must_use]
pub fn encode(patterns: &[&str], nfa: &NFA) -> Option<Vec<u8>> {
    let mut out = MAGIC.to_vec();
    put(&mut out, patterns.len());
    for pattern in patterns {
        put(&mut out, pattern.len());
        out.extend_from_slice(pattern.as_bytes());
    }
    out.push(nfa.look_matcher().get_line_terminator());
    out.push(u8::from(nfa.is_utf8()));
    put(&mut out, nfa.start_anchored().as_usize());
    put(&mut out, nfa.start_unanchored().as_usize());
    for pid in nfa.patterns() {
        put(&mut out, nfa.start_pattern(pid)?.as_usize());
    }
    put(&mut out, nfa.states().len());
    for (index, state) in nfa.states().iter().enumerate() {
        // Most transitions lead to a nearby state: store the distance, not the ID.
        let next = |out: &mut Vec<u8>, id: StateID| put_signed(out, id.as_usize(), index);
        match state {
            State::ByteRange { trans } => {
                out.push(BYTE_RANGE);
                out.extend_from_slice(&[trans.start, trans.end]);
                next(&mut out, trans.next);
            }
            State::Sparse(sparse) => {
                out.push(SPARSE);
                put(&mut out, sparse.transitions.len());
                for trans in &sparse.transitions {
                    out.extend_from_slice(&[trans.start, trans.end]);
                    next(&mut out, trans.next);
                }
            }
            State::Look { look, next: to } => {
                out.push(LOOK);
                put(&mut out, usize::try_from(look.as_repr()).ok()?);
                next(&mut out, *to);
            }
            State::Union { alternates } => {
                out.push(UNION);
                put(&mut out, alternates.len());
                for &alt in alternates {
                    next(&mut out, alt);
                }
            }
            State::BinaryUnion { alt1, alt2 } => {
                out.push(BINARY_UNION);
                next(&mut out, *alt1);
                next(&mut out, *alt2);
            }
            State::Fail => out.push(FAIL),
            State::Match { pattern_id } => {
                out.push(MATCH);
                put(&mut out, pattern_id.as_usize());
            }
            State::Dense(_) | State::Capture { .. } => return None,
        }
    }
    Some(out)
}

/// The NFA in `image`, if it was compiled from exactly `patterns` (same patterns, same order);
/// `None` for any other image, an empty one included, so that the caller compiles instead.
#[must_use]
pub fn decode(image: &[u8], patterns: &[&str]) -> Option<NFA> {
    let mut r = Reader {
        bytes: image.strip_prefix(MAGIC)?,
    };
    if r.int()? != patterns.len() {
        return None;
    }
    for pattern in patterns {
        let len = r.int()?;
        if r.take(len)? != pattern.as_bytes() {
            return None;
        }
    }
    let mut builder = Builder::new();
    let mut look_matcher = LookMatcher::new();
    look_matcher.set_line_terminator(r.byte()?);
    builder.set_look_matcher(look_matcher);
    builder.set_utf8(r.byte()? != 0);
    let start_anchored = StateID::new(r.int()?).ok()?;
    let start_unanchored = StateID::new(r.int()?).ok()?;
    let starts = (0..patterns.len())
        .map(|_| StateID::new(r.int()?).ok())
        .collect::<Option<Vec<_>>>()?;
    let len = r.int()?;
    for index in 0..len {
        let id = match r.byte()? {
            BYTE_RANGE => {
                let trans = r.transition(index)?;
                builder.add_range(trans).ok()?
            }
            SPARSE => {
                let n = r.int()?;
                let transitions = (0..n)
                    .map(|_| r.transition(index))
                    .collect::<Option<Vec<_>>>()?;
                builder.add_sparse(transitions).ok()?
            }
            LOOK => {
                let look = Look::from_repr(u32::try_from(r.int()?).ok()?)?;
                let next = r.id(index)?;
                builder.add_look(next, look).ok()?
            }
            UNION => {
                let n = r.int()?;
                let alternates = (0..n).map(|_| r.id(index)).collect::<Option<Vec<_>>>()?;
                builder.add_union(alternates).ok()?
            }
            BINARY_UNION => {
                let alternates = vec![r.id(index)?, r.id(index)?];
                builder.add_union(alternates).ok()?
            }
            FAIL => builder.add_fail().ok()?,
            MATCH => {
                let pid = builder.start_pattern().ok()?;
                if r.int()? != pid.as_usize() {
                    return None;
                }
                let id = builder.add_match().ok()?;
                builder.finish_pattern(*starts.get(pid.as_usize())?).ok()?;
                id
            }
            _ => return None,
        };
        // The builder numbers states in the order they are added; an image that disagrees is
        // corrupt.
        if id.as_usize() != index {
            return None;
        }
    }
    if !r.bytes.is_empty() || builder.pattern_len() != patterns.len() {
        return None;
    }
    builder.build(start_anchored, start_unanchored).ok()
}

/// Appends `n` as a LEB128 variable-length integer.
fn put(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push(u8::try_from(n & 0x7f).unwrap_or(0) | 0x80);
        n >>= 7;
    }
    out.push(u8::try_from(n).unwrap_or(0));
}

/// Appends the distance from `from` to `to`, zigzag-encoded so that short backward jumps stay
/// short too.
fn put_signed(out: &mut Vec<u8>, to: usize, from: usize) {
    let zigzag = if to >= from {
        (to - from) << 1
    } else {
        ((from - to) << 1) - 1
    };
    put(out, zigzag);
}

/// Reads an image front to back; every method is `None` at the end or on a bad value.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn int(&mut self) -> Option<usize> {
        let mut n = 0usize;
        for shift in (0..usize::BITS).step_by(7) {
            let b = self.byte()?;
            n |= usize::from(b & 0x7f).checked_shl(shift)?;
            if b < 0x80 {
                return Some(n);
            }
        }
        None
    }

    fn id(&mut self, from: usize) -> Option<StateID> {
        let zigzag = self.int()?;
        let to = if zigzag & 1 == 0 {
            from.checked_add(zigzag >> 1)?
        } else {
            from.checked_sub((zigzag >> 1) + 1)?
        };
        StateID::new(to).ok()
    }

    fn transition(&mut self, from: usize) -> Option<Transition> {
        let start = self.byte()?;
        let end = self.byte()?;
        let next = self.id(from)?;
        Some(Transition { start, end, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATTERNS: &[&str] = &[
        r"(?i)connection refused",
        r"^error\[E\d{4}\]: ",
        r"\bECONNREFUSED\b",
        r"retry in (\d+)$",
        "caf\u{e9} [^\n]*\\s+x",
    ];

    #[test]
    fn an_image_rebuilds_the_same_nfa() {
        let compiled = compiler().build_many(PATTERNS).unwrap();
        let image = encode(PATTERNS, &compiled).unwrap();
        let loaded = decode(&image, PATTERNS).unwrap();
        assert_eq!(format!("{loaded:?}"), format!("{compiled:?}"));
    }

    #[test]
    fn an_image_of_other_patterns_or_a_damaged_one_is_refused() {
        let compiled = compiler().build_many(PATTERNS).unwrap();
        let image = encode(PATTERNS, &compiled).unwrap();
        assert!(decode(&image, &PATTERNS[..4]).is_none());
        assert!(decode(&image, &[PATTERNS[1], PATTERNS[0]]).is_none());
        assert!(decode(&[], PATTERNS).is_none());
        for cut in [MAGIC.len(), image.len() / 2, image.len() - 1] {
            assert!(decode(&image[..cut], PATTERNS).is_none(), "cut at {cut}");
        }
        let mut longer = image.clone();
        longer.push(FAIL);
        assert!(decode(&longer, PATTERNS).is_none());
    }

    #[test]
    fn integers_and_distances_round_trip() {
        for (n, from) in [
            (0, 0),
            (1, 0),
            (0, 1),
            (127, 3),
            (128, 200),
            (1 << 20, 5),
            (5, 1 << 20),
        ] {
            let mut out = Vec::new();
            put(&mut out, n);
            put_signed(&mut out, n, from);
            let mut r = Reader { bytes: &out };
            assert_eq!(r.int(), Some(n));
            assert_eq!(r.id(from).map(|id| id.as_usize()), Some(n));
            assert!(r.bytes.is_empty());
        }
    }
}
