//! Streams of 16 MiB built from the fuzz input through the matcher with every built-in rule:
//! large and varied enough that the lazy DFA's cache fills and is cleared many times over (a
//! clear used to leave one of the two search lanes with a dangling state id). It must never
//! panic, and the findings must not depend on where the chunks were split.
//!
//! Input: byte 0 sets the chunk size, byte 1 how many bytes of each copy of the rest are replaced
//! by noise (0: none, the same text over and over; 255: almost all), the rest is the text.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use recover::classify::{ExitFacts, Rules};
use recover::output::{Observer, Stream};

const STREAM: usize = 16 << 20;

fn rules() -> &'static Arc<Rules> {
    static RULES: OnceLock<Arc<Rules>> = OnceLock::new();
    RULES.get_or_init(|| Arc::new(Rules::builtin()))
}

/// Copies of `text` until [`STREAM`] bytes, each byte replaced by noise with odds `noise`/256.
fn stream(text: &[u8], noise: u8, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(STREAM + text.len());
    while out.len() < STREAM {
        for &byte in text {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let [roll, value, ..] = seed.to_le_bytes();
            out.push(if roll < noise { value } else { byte });
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [split, noise, text @ ..] = data else {
        return;
    };
    if text.is_empty() {
        return;
    }
    let seed = text
        .iter()
        .fold(0x9E37_79B9_7F4A_7C15_u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3));
    let bytes = stream(text, *noise, seed | 1);
    let rules = rules();
    let mut whole = rules.matcher(Stream::Stdout);
    whole.observe(&bytes);
    let whole = whole.finish();
    let mut pieces = rules.matcher(Stream::Stdout);
    for chunk in bytes.chunks(usize::from(*split) * 4099 + 1) {
        pieces.observe(chunk);
    }
    let pieces = pieces.finish();
    assert_eq!(whole, pieces);
    let facts = ExitFacts {
        exit_code: 1,
        signal: None,
        timed_out: false,
    };
    let _ = rules.classify(&[whole], &facts);
});
