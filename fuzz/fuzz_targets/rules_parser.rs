//! Feeds arbitrary text to the rules parser and compiler: it must return rules or an error,
//! never panic, hang or exhaust memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recover::classify::rules::{Origin, Rules};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(rules) = Rules::compile_input(text, &Origin::Inline) {
            let _ = Rules::from_compiled(rules);
        }
    }
});
