//! What the runner makes of the files a step leaves: its parser of `GITHUB_OUTPUT` and
//! `GITHUB_ENV`, what Markdown makes of a job summary, a check that a secret appears only
//! whole, and a small tmpfs for full and read-only disks.

use std::path::{Path, PathBuf};

use std::process::Command;

/// Every printable ASCII punctuation character around a recognisable core: a secret the
/// runner masks by its exact text.
pub const SECRET: &str = r##"ghp_!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~Xy12"##;

/// Parses a `GITHUB_OUTPUT` or `GITHUB_ENV` file as the runner does (actions/runner,
/// `FileCommandManager`): per line, `name=value` when `=` comes before any `<<`, else
/// `name<<DELIMITER`, the value's lines and the delimiter alone on a line; empty lines are
/// skipped; anything else fails the step.
///
/// # Errors
/// The runner's complaint about the first line it would refuse.
pub fn parse_runner_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut lines = text.split('\n').peekable();
    let mut number = 0;
    while let Some(line) = lines.next() {
        number += 1;
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                if e == 0 {
                    return Err(format!("line {number}: empty name in {line:?}"));
                }
                pairs.push((line[..e].to_owned(), line[e + 1..].to_owned()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!("line {number}: invalid heredoc {line:?}"));
                }
                let mut value = Vec::new();
                loop {
                    let Some(next) = lines.next() else {
                        return Err(format!(
                            "line {number}: matching delimiter not found {delimiter:?}"
                        ));
                    };
                    number += 1;
                    if next == delimiter {
                        break;
                    }
                    value.push(next);
                }
                pairs.push((name.to_owned(), value.join("\n")));
            }
            _ => return Err(format!("line {number}: invalid format {line:?}")),
        }
    }
    Ok(pairs)
}

/// The last value of each name, as the runner keeps them.
pub fn last_values(pairs: &[(String, String)]) -> std::collections::BTreeMap<String, String> {
    pairs.iter().cloned().collect()
}

/// Parses the file at `path` (missing: empty) as the runner would, panicking with its complaint.
#[track_caller]
pub fn parse_file(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    parse_runner_file(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()))
}

/// What Markdown makes of a summary: the text of its code (spans and blocks), the HTML it
/// passes through, and the text outside code.
#[derive(Default, Debug)]
pub struct Rendered {
    /// The text of each code span and code block.
    pub code: Vec<String>,
    /// Each piece of HTML passed through.
    pub html: Vec<String>,
    /// All other text.
    pub text: String,
}

/// Renders a summary as GitHub's Markdown does (`CommonMark`).
pub fn markdown(text: &str) -> Rendered {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = Rendered::default();
    let mut block: Option<String> = None;
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => block = Some(String::new()),
            Event::End(TagEnd::CodeBlock) => out.code.extend(block.take()),
            Event::Text(t) if block.is_some() => {
                block.get_or_insert_with(String::new).push_str(&t);
            }
            Event::Code(t) => out.code.push(t.into_string()),
            Event::Html(t) | Event::InlineHtml(t) => out.html.push(t.into_string()),
            Event::Text(t) => out.text.push_str(&t),
            _ => {}
        }
    }
    out
}

/// Asserts that the only HTML in recover's summary is its own `<details>` folds.
#[track_caller]
pub fn only_own_html(summary: &Rendered) {
    for html in &summary.html {
        let html = html.trim();
        assert!(
            (html.starts_with("<details><summary>") && html.ends_with(" output</summary>"))
                || html == "</details>",
            "HTML that recover did not write: {html:?}"
        );
    }
}

/// Asserts that every trace of [`SECRET`] in `text` (its first or last characters) is part of
/// the whole secret: the runner masks it there, and nowhere is a part or an escaped form left.
#[track_caller]
pub fn secret_only_whole(name: &str, text: &str) {
    for (at, _) in text.match_indices("ghp_") {
        assert!(
            text[at..].starts_with(SECRET),
            "{name}: a part or an altered form of the secret at {at}: {:?}",
            &text[at..(at + 60).min(text.len())]
        );
    }
    for (at, _) in text.match_indices("Xy12") {
        assert!(
            text[..at + 4].ends_with(SECRET),
            "{name}: a part or an altered form of the secret before {at}: {:?}",
            &text[at.saturating_sub(60)..at + 4]
        );
    }
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped: a disk that fills
/// up, or that is read-only. `None`, after printing why, when this process cannot mount.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=`), or says why not.
    pub fn mount(size: &str) -> Option<Tmpfs> {
        if !is_root() {
            eprintln!("skipped: mounting a small tmpfs needs root");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("recover-tmpfs-")
            .tempdir()
            .expect("a mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("skipped: cannot mount a tmpfs here");
            return None;
        }
        Some(Tmpfs { dir })
    }

    /// A file under the mount point.
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Makes the mount read-only.
    pub fn read_only(&self) {
        let status = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.dir.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "remount read-only");
    }
}

/// Whether this process runs as root (its effective user id, from `/proc`).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn the_parser_refuses_what_the_runner_refuses() {
    assert!(parse_runner_file("foo=bartotal<<EOF\n3\nEOF\n").is_err());
    assert!(parse_runner_file("a<<EOF\nx\n").is_err());
    assert_eq!(
        parse_runner_file("a=1\n\nb<<E\nx\ny\nE\nc=d<<e\n").unwrap(),
        [
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "x\ny".to_owned()),
            ("c".to_owned(), "d<<e".to_owned())
        ]
    );
}
