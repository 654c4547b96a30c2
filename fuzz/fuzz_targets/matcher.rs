//! Feeds arbitrary output, split at arbitrary points, to the matcher with every built-in rule:
//! it must never panic, and the findings must not depend on where the chunks were split.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use recover::classify::{ExitFacts, Rules};
use recover::output::{Observer, Stream};

fn rules() -> &'static Arc<Rules> {
    static RULES: OnceLock<Arc<Rules>> = OnceLock::new();
    RULES.get_or_init(|| Arc::new(Rules::builtin()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, text)) = data.split_first() else {
        return;
    };
    let rules = rules();
    let mut whole = rules.matcher(Stream::Stderr);
    whole.observe(text);
    let whole = whole.finish();
    let mut pieces = rules.matcher(Stream::Stderr);
    for chunk in text.chunks(usize::from(split) + 1) {
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
