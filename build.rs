//! Compiles the patterns of the built-in rules into an NFA image (`$OUT_DIR/builtin.nfa`) that
//! the matcher loads instead of compiling them at run time.
//!
//! The image records the patterns it was made from, and the matcher uses it only when they are
//! exactly the patterns it needs; otherwise (an empty image included) it compiles them. So a
//! failure here never changes what recover matches: it writes an empty image and the test suite,
//! which checks that the built-in rules load from the image, reports it.

use std::path::PathBuf;

use serde::Deserialize;

#[path = "src/classify/nfa_image.rs"]
#[expect(dead_code, reason = "the build uses the encoder, not the decoder")]
mod nfa_image;

#[path = "src/classify/decor.rs"]
mod decor;

const BUILTIN: &str = "src/classify/builtin.yml";

/// The part of a rules file that the line sets compile; serde skips the other fields.
#[derive(Deserialize)]
struct RulesFile {
    rules: Vec<RuleSpec>,
}

#[derive(Deserialize)]
struct RuleSpec {
    #[serde(default)]
    patterns: Vec<String>,
    #[serde(default)]
    wait: Vec<String>,
}

fn main() {
    println!("cargo::rerun-if-changed={BUILTIN}");
    println!("cargo::rerun-if-changed=src/classify/nfa_image.rs");
    println!("cargo::rerun-if-changed=src/classify/decor.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let image = std::fs::read_to_string(BUILTIN)
        .ok()
        .and_then(|yaml| image(&yaml))
        .unwrap_or_default();
    std::fs::write(out.join("builtin.nfa"), image).expect("OUT_DIR is writable");
}

/// The image of the built-in patterns in the matcher's order: each rule's patterns, then its
/// wait patterns, rule by rule.
fn image(yaml: &str) -> Option<Vec<u8>> {
    let file: RulesFile = serde_saphyr::from_str(yaml).ok()?;
    let widened: Vec<String> = file
        .rules
        .iter()
        .flat_map(|rule| rule.patterns.iter().chain(&rule.wait))
        .map(|p| decor::undecorated(p))
        .collect();
    let patterns: Vec<&str> = widened.iter().map(String::as_str).collect();
    let nfa = nfa_image::compiler().build_many(&patterns).ok()?;
    nfa_image::encode(&patterns, &nfa)
}
