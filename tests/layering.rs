//! The layers of `src/`, kept by reading the code: each top-level module may import only
//! modules of the layers below its own, and the sub-modules of one module import each other
//! without a cycle. `src/lib.rs` and docs/design.md draw the same picture.
//!
//! Only library code counts: comments and test modules (`#[cfg(test)] mod ...`, and the files
//! such a declaration names) may reach anywhere, as a test of the loop may build a plan.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module imports only modules of lower layers.
const LAYERS: &[&[&str]] = &[
    // Vocabulary: words every layer shares, importing nothing of ours.
    &[
        "error",
        "exit_code",
        "inputs",
        "output",
        "signals",
        "workflow",
        "yaml",
    ],
    // Mechanisms, each on its own: running processes, classifying output, the shared state's
    // files and decisions, the GitHub API, recover's own diagnostics.
    &["exec", "classify", "state", "github", "trace"],
    // The retry policy decides from a classification.
    &["policy"],
    // Inputs checked into a plan of the mechanisms' settings.
    &["plan"],
    // The record of a run.
    &["outcome"],
    // The live log of a run.
    &["log"],
    // The attempt loop.
    &["run"],
    // The report of a finished run.
    &["report"],
    // One run of a plan as a step: loop, fallback, report sinks, exit code.
    &["step"],
    // Tools built on the step and the report: tasks of recover.yml, insights across runs.
    &["task", "insights"],
    // The command line.
    &["cli"],
];

/// A source file and the module path it holds (`["run", "attempt"]` for src/run/attempt.rs).
struct Source {
    path: PathBuf,
    module: Vec<String>,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&root).unwrap().with_extension("");
                let mut module: Vec<String> = relative
                    .iter()
                    .map(|c| c.to_string_lossy().into_owned())
                    .collect();
                if module.last().is_some_and(|l| l == "mod") {
                    module.pop();
                }
                let text = fs::read_to_string(&path).unwrap();
                found.push(Source { path, module, text });
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// The files that only tests compile: those a `#[cfg(test)]` (or `#[cfg(all(test, ...))]`)
/// module declaration names, by `#[path]` or by its module name.
fn test_only(sources: &[Source]) -> BTreeSet<PathBuf> {
    let mut only = BTreeSet::new();
    for source in sources {
        let lines: Vec<&str> = source.text.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            if !(line.starts_with("#[cfg(test)]") || line.starts_with("#[cfg(all(test")) {
                continue;
            }
            let mut path_attr = None;
            for next in lines.iter().skip(i + 1).take(3) {
                if let Some(p) = next
                    .strip_prefix("#[path = \"")
                    .and_then(|p| p.strip_suffix("\"]"))
                {
                    path_attr = Some(p.to_owned());
                } else if let Some(name) = next
                    .strip_prefix("mod ")
                    .or_else(|| next.strip_prefix("pub mod "))
                    .and_then(|n| n.strip_suffix(';'))
                {
                    let dir = if source.path.ends_with("mod.rs") || source.path.ends_with("lib.rs")
                    {
                        source.path.parent().unwrap().to_path_buf()
                    } else {
                        source.path.with_extension("")
                    };
                    let base = source.path.parent().unwrap();
                    if let Some(p) = &path_attr {
                        only.insert(base.join(p));
                    } else {
                        only.insert(dir.join(format!("{name}.rs")));
                        only.insert(dir.join(name).join("mod.rs"));
                    }
                    break;
                } else if !next.starts_with("#[") {
                    break;
                }
            }
        }
    }
    only
}

/// The library code of a file: comments removed, and nothing from the first test module on.
fn library_code(text: &str) -> String {
    let mut code = String::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let test_module = (trimmed.starts_with("#[cfg(test)]")
            || trimmed.starts_with("#[cfg(all(test"))
            && lines
                .iter()
                .skip(i + 1)
                .find(|l| !l.trim_start().starts_with("#["))
                .is_some_and(|l| l.trim_start().starts_with("mod ") && l.contains('{'));
        if test_module {
            break;
        }
        let without_comment = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        code.push_str(without_comment);
        code.push('\n');
    }
    code
}

/// The `crate::a::b` paths of `code`, including those inside `use crate::{a, b::c}`.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let is_ident_before = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if is_ident_before {
            continue;
        }
        if rest.starts_with('{') {
            let end = rest.find('}').unwrap_or(rest.len());
            for item in rest[1..end].split(',') {
                paths.push(path_of(item.trim()));
            }
        } else {
            paths.push(path_of(rest));
        }
    }
    paths.retain(|p| !p.is_empty());
    paths
}

fn path_of(text: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut rest = text;
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        segments.push(rest[..end].to_owned());
        match rest[end..].strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    segments
}

/// Edges between modules, `(from, to)`.
type Edges = BTreeSet<(String, String)>;

/// Module-to-module edges: top-level (`run -> log`) and, inside one top-level module, between
/// its sub-modules (`classify::rules -> classify::matcher`).
fn edges() -> (Edges, Edges) {
    let sources = sources();
    let only = test_only(&sources);
    let mut top = BTreeSet::new();
    let mut inner = BTreeSet::new();
    for source in &sources {
        if only.contains(&source.path) || source.module.is_empty() {
            continue;
        }
        let from = &source.module;
        if from[0] == "lib" || from[0] == "main" {
            continue;
        }
        let code = library_code(&source.text);
        let mut targets = crate_paths(&code);
        // `super::x` from a direct child of a module is a sibling reference.
        if from.len() == 2 {
            for at in code.match_indices("super::").map(|(i, _)| i) {
                let path = path_of(&code[at + "super::".len()..]);
                if let Some(first) = path.first() {
                    targets.push(vec![from[0].clone(), first.clone()]);
                }
            }
        }
        for target in targets {
            if target[0] != from[0] {
                top.insert((from[0].clone(), target[0].clone()));
            } else if from.len() >= 2 && target.len() >= 2 && target[1] != from[1] {
                inner.insert((
                    format!("{}::{}", from[0], from[1]),
                    format!("{}::{}", target[0], target[1]),
                ));
            }
        }
    }
    (top, inner)
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Depth-first search from `node`: the first cycle met, if any.
fn visit<'a>(
    node: &'a str,
    next: &BTreeMap<&'a str, Vec<&'a str>>,
    stack: &mut Vec<&'a str>,
    done: &mut BTreeSet<&'a str>,
) -> Option<Vec<String>> {
    if let Some(at) = stack.iter().position(|n| *n == node) {
        let mut found: Vec<String> = stack[at..].iter().map(|s| (*s).to_owned()).collect();
        found.push(node.to_owned());
        return Some(found);
    }
    if done.contains(node) {
        return None;
    }
    stack.push(node);
    for n in next.get(node).into_iter().flatten() {
        if let Some(found) = visit(n, next, stack, done) {
            return Some(found);
        }
    }
    stack.pop();
    done.insert(node);
    None
}

/// A cycle in `edges`, if there is one, as the modules along it.
fn cycle(edges: &Edges) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges {
        next.entry(a).or_default().push(b);
    }
    let mut done = BTreeSet::new();
    for start in next.keys() {
        if let Some(found) = visit(start, &next, &mut Vec::new(), &mut done) {
            return Some(found);
        }
    }
    None
}

#[test]
fn every_module_has_a_layer_and_imports_only_layers_below_it() {
    let (top, _) = edges();
    let mut problems = Vec::new();
    for source in sources() {
        let name = &source.module[0];
        if name != "lib" && name != "main" && layer_of(name).is_none() {
            problems.push(format!("src/{name} has no layer in tests/layering.rs"));
        }
    }
    for (from, to) in &top {
        match (layer_of(from), layer_of(to)) {
            (Some(a), Some(b)) if b >= a => problems.push(format!(
                "{from} (layer {a}) imports {to} (layer {b}): a module imports only layers below its own"
            )),
            _ => {}
        }
    }
    problems.dedup();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    eprintln!(
        "{} module-to-module edges between top-level modules",
        top.len()
    );
}

#[test]
fn the_vocabulary_imports_nothing_of_ours() {
    let (top, _) = edges();
    let leaks: Vec<_> = top
        .iter()
        .filter(|(from, _)| LAYERS[0].contains(&from.as_str()))
        .collect();
    assert!(leaks.is_empty(), "{leaks:?}");
}

#[test]
fn the_sub_modules_of_a_module_import_each_other_without_a_cycle() {
    let (_, inner) = edges();
    assert_eq!(cycle(&inner), None, "a cycle between sub-modules");
    eprintln!("{} edges between sub-modules", inner.len());
}

#[test]
fn the_reader_sees_comments_and_tests_as_outside_the_code() {
    let text =
        "use crate::a::B;\n// crate::z::Y\n#[cfg(test)]\nmod tests {\n    use crate::c::D;\n}\n";
    let code = library_code(text);
    assert_eq!(
        crate_paths(&code),
        vec![vec!["a".to_owned(), "B".to_owned()]]
    );
    assert_eq!(
        crate_paths("use crate::{x::Y, z};"),
        vec![vec!["x".to_owned(), "Y".to_owned()], vec!["z".to_owned()]]
    );
    let mut looped = BTreeSet::new();
    looped.insert(("a".to_owned(), "b".to_owned()));
    looped.insert(("b".to_owned(), "a".to_owned()));
    assert!(cycle(&looped).is_some());
}
