//! Required literals: for a pattern, a few strings of which every match must contain one.
//!
//! In: a rule pattern. Out: its required literals (lowercase ASCII), or `None` when it has no
//! useful ones (`^\s*$`-like patterns, one- or two-letter literals). The matcher searches all
//! required literals at once with Aho-Corasick, case-insensitively, and runs the regexes only on
//! the lines that contain one; a pattern without required literals is searched by regex instead.
//!
//! The extraction works on the pattern's syntax tree with Unicode off, so a literal is a byte
//! string and `(?i)c` is the class `[Cc]`. It is sound for ASCII text: a line a pattern matches
//! always contains one of its literals, ignoring ASCII case. (Non-ASCII case folds such as the
//! Kelvin sign for `k` are not covered; no rule relies on them.)

use regex_syntax::hir::{Class, Hir, HirKind};

/// The shortest literal worth searching for: shorter ones hit on most lines.
const MIN_LITERAL: usize = 3;

/// The most literals one pattern may require before it is cheaper to run the regex.
const MAX_LITERALS: usize = 64;

/// What a piece of a pattern requires of every match.
enum Need {
    /// Nothing, and it adds no text (anchors, word boundaries, empty groups).
    Nothing,
    /// Exactly this text, always (a literal): it joins neighbouring literals.
    Exact(Vec<u8>),
    /// One of these texts somewhere.
    AnyOf(Vec<Vec<u8>>),
    /// Nothing that can be searched for.
    Unknown,
}

/// The required literals of `pattern`, lowercased, or `None` when there are no useful ones.
pub(super) fn required_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .multi_line(true)
        .crlf(true)
        .build()
        .parse(pattern)
        .ok()?;
    let literals = match need(&hir) {
        Need::Exact(text) => vec![text],
        Need::AnyOf(set) => set,
        Need::Nothing | Need::Unknown => return None,
    };
    let useful = !literals.is_empty()
        && literals.len() <= MAX_LITERALS
        && literals.iter().all(|l| l.len() >= MIN_LITERAL);
    useful.then_some(literals)
}

fn need(hir: &Hir) -> Need {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Need::Nothing,
        HirKind::Literal(literal) => Need::Exact(literal.0.to_ascii_lowercase()),
        HirKind::Class(class) => class_byte(class).map_or(Need::Unknown, |b| Need::Exact(vec![b])),
        HirKind::Capture(capture) => need(&capture.sub),
        HirKind::Repetition(repetition) => {
            if repetition.min == 0 {
                return Need::Unknown;
            }
            match need(&repetition.sub) {
                // A repeated literal is still required, but it no longer joins its neighbours:
                // `ab+c` matches `abbc`, which does not contain `abc`.
                Need::Exact(text) if repetition.max != Some(1) => Need::AnyOf(vec![text]),
                other => other,
            }
        }
        HirKind::Concat(children) => concat(children),
        HirKind::Alternation(children) => {
            let mut all = Vec::new();
            for child in children {
                match need(child) {
                    Need::Exact(text) => all.push(text),
                    Need::AnyOf(set) => all.extend(set),
                    Need::Nothing | Need::Unknown => return Need::Unknown,
                }
            }
            Need::AnyOf(all)
        }
    }
}

/// A concatenation requires its best run of adjacent literals, or its best child's literals.
fn concat(children: &[Hir]) -> Need {
    let mut candidates: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut run: Vec<u8> = Vec::new();
    let mut exact = true;
    for child in children {
        match need(child) {
            Need::Nothing => {}
            Need::Exact(text) => run.extend_from_slice(&text),
            Need::AnyOf(set) => {
                exact = false;
                if !run.is_empty() {
                    candidates.push(vec![std::mem::take(&mut run)]);
                }
                candidates.push(set);
            }
            Need::Unknown => {
                exact = false;
                if !run.is_empty() {
                    candidates.push(vec![std::mem::take(&mut run)]);
                }
            }
        }
    }
    if exact {
        return if run.is_empty() {
            Need::Nothing
        } else {
            Need::Exact(run)
        };
    }
    if !run.is_empty() {
        candidates.push(vec![run]);
    }
    candidates
        .into_iter()
        .max_by_key(|set| {
            let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
            (shortest.min(8), std::cmp::Reverse(set.len()), shortest)
        })
        .map_or(Need::Unknown, Need::AnyOf)
}

/// The one lowercase byte a class stands for, when it is one ASCII letter in either case.
fn class_byte(class: &Class) -> Option<u8> {
    let bytes: Vec<u8> = match class {
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .flat_map(|r| r.start()..=r.end())
            .take(3)
            .collect(),
        Class::Unicode(c) => c
            .ranges()
            .iter()
            .flat_map(|r| r.start()..=r.end())
            .take(3)
            .map(|ch| u8::try_from(u32::from(ch)).ok())
            .collect::<Option<Vec<u8>>>()?,
    };
    let first = bytes.first()?.to_ascii_lowercase();
    (bytes.len() <= 2 && bytes.iter().all(|b| b.to_ascii_lowercase() == first)).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(pattern: &str) -> Option<Vec<String>> {
        required_literals(pattern).map(|set| {
            set.into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect()
        })
    }

    #[test]
    fn literals_are_extracted_soundly() {
        let cases: [(&str, Option<&[&str]>); 10] = [
            ("(?i)connection refused", Some(&["connection refused"])),
            (
                "^error: could not compile `",
                Some(&["error: could not compile `"]),
            ),
            (r"\bE[MN]FILE\b", Some(&["file"])),
            (r"^\s+\d+ failing$", Some(&[" failing"])),
            (
                r"(?i)\b50[0-4] +(Bad Gateway|Service Unavailable)",
                Some(&["bad gateway", "service unavailable"]),
            ),
            (r"ab+c", None),
            (r"abcd+e", Some(&["abc"])),
            (r"^\s*$", None),
            (r"x(yz)?", None),
            (r"\[Errno 2[34]\]", Some(&["[errno 2"])),
        ];
        for (pattern, expected) in cases {
            let expected = expected.map(|e| e.iter().map(|s| (*s).to_string()).collect());
            assert_eq!(lits(pattern), expected, "{pattern}");
        }
    }
}
