//! recover's YAML files (rules, tasks) through serde-saphyr, under one budget, so that an alias
//! bomb or a deeply nested document fails fast instead of eating memory, and with one way of
//! saying where a document went wrong.

use serde::de::DeserializeOwned;

/// Why a document did not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// The line, from 1; 0 when saphyr gave no position.
    pub line: u64,
    /// The column, from 1; 0 when saphyr gave no position.
    pub column: u64,
    /// The first line of saphyr's message, without its source snippet or its own position.
    pub message: String,
}

/// Parses `text` into a `T`, with `max_bytes` as the most scalar text the document may hold.
///
/// # Errors
/// Invalid YAML, a document of another shape than `T`, or one past the budget.
pub fn from_str<T: DeserializeOwned>(text: &str, max_bytes: usize) -> Result<T, YamlError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 200_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_recorded_anchor_events: 100_000,
            max_recorded_anchor_bytes: 1024 * 1024,
            max_depth: 32,
            max_documents: 1,
            max_nodes: 100_000,
            max_total_scalar_bytes: max_bytes,
            max_merge_keys: 100,
        },
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let (line, column) = e
            .location()
            .map_or((0, 0), |location| (location.line(), location.column()));
        YamlError {
            line,
            column,
            message: first_line(&e),
        }
    })
}

/// The first line of saphyr's message, without its source snippet or its own position.
fn first_line(error: &serde_saphyr::Error) -> String {
    let rendered = error.without_snippet().to_string();
    let first = rendered.lines().next().unwrap_or("invalid yaml").trim();
    let first = match first.rfind(" at line ") {
        Some(at) => &first[..at],
        None => first,
    };
    first.to_string()
}
