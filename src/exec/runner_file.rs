//! Appending to the runner's files (`GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH`,
//! `GITHUB_STEP_SUMMARY`) without ever leaving one the runner cannot read, and reading their
//! `name=value` / `name<<DELIMITER` format.
//!
//! In: a path and the bytes to add. Out: the file with the addition, or unchanged and an error.
//! Three rules keep a file readable whatever came before and whatever fails:
//! - an addition starts on a line of its own, even when the command left the file without a
//!   final newline (`printf "foo=bar" >> "$GITHUB_OUTPUT"`): otherwise the runner reads
//!   `foo=bartotal_attempts<<…` and fails the step;
//! - an addition is one write, and a write that fails midway (a full disk) is cut back to where
//!   it started, so no half heredoc is left behind;
//! - only regular files are read or written (a symbolic link is followed): a FIFO would block
//!   recover, a device would feed it forever. The file is opened non-blocking and checked
//!   after opening, so nothing can swap it in between.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use super::platform::{non_blocking, read_at};

/// An addition larger than this is copied in pieces (still cut back on failure) rather than
/// held in memory for one write.
const ONE_WRITE: u64 = 16 * 1024 * 1024;

/// Opens `path` for reading and appending (`create`: make it if missing), refusing anything
/// but a regular file.
fn open(path: &Path, create: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(create);
    non_blocking(&mut options);
    regular(options.open(path)?)
}

/// Opens `path` for reading only, refusing anything but a regular file.
///
/// # Errors
/// When it cannot be opened or is not a regular file.
pub fn open_to_read(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    non_blocking(&mut options);
    regular(options.open(path)?)
}

fn regular(file: File) -> io::Result<File> {
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        Ok(file)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ))
    }
}

/// Appends `addition` to the file at `path` (made if missing), on a line of its own, in one
/// write; on failure the file is cut back to its length before.
///
/// # Errors
/// When the file cannot be opened, is not a regular file, or cannot be written; it is then as
/// it was.
pub fn append(path: &Path, addition: &[u8]) -> io::Result<()> {
    if addition.is_empty() {
        return Ok(());
    }
    let mut file = open(path, true)?;
    let start = file.metadata()?.len();
    let mut bytes = Vec::with_capacity(addition.len() + 1);
    if ends_mid_line(&file, start)? {
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(addition);
    let written = file.write_all(&bytes).and_then(|()| file.flush());
    rolled_back(&file, start, written)
}

/// Appends the file at `from` to the file at `to`, as [`append`] does; an empty or missing
/// `from` adds nothing.
///
/// # Errors
/// As [`append`], and when `from` is not a regular file or cannot be read.
pub fn append_file(from: &Path, to: &Path) -> io::Result<()> {
    let mut source = match open_to_read(from) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    let size = source.metadata()?.len();
    if size == 0 {
        return Ok(());
    }
    if size <= ONE_WRITE {
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        source.read_to_end(&mut bytes)?;
        return append(to, &bytes);
    }
    let mut file = open(to, true)?;
    let start = file.metadata()?.len();
    let newline = ends_mid_line(&file, start)?;
    let copied = (|| {
        if newline {
            file.write_all(b"\n")?;
        }
        io::copy(&mut source, &mut file)?;
        file.flush()
    })();
    rolled_back(&file, start, copied)
}

/// Writes `bytes` as the whole content of the file at `path` (made if missing), for a file the
/// user names (`report_file`). Opening never waits: a FIFO nobody reads is an error at once,
/// not a step that hangs after its command ran. A regular file is replaced; a FIFO that is
/// read, or a device such as `/dev/stderr`, is written to.
///
/// # Errors
/// When the file cannot be opened or written.
pub fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true);
    non_blocking(&mut options);
    let mut file = options.open(path)?;
    if file.metadata()?.is_file() {
        file.set_len(0)?;
    }
    crate::output::write_fully(&mut file, bytes)
}

/// Whether the file's last byte (of `len`) is not a newline.
fn ends_mid_line(file: &File, len: u64) -> io::Result<bool> {
    if len == 0 {
        return Ok(false);
    }
    let mut last = [0u8; 1];
    read_at(file, &mut last, len - 1)?;
    Ok(last[0] != b'\n')
}

/// Cuts the file back to `start` when `result` is an error, so a failed addition leaves
/// nothing behind.
fn rolled_back(file: &File, start: u64, result: io::Result<()>) -> io::Result<()> {
    if let Err(error) = result {
        let _ = file.set_len(start);
        return Err(error);
    }
    Ok(())
}

/// A malformed runner file, as the runner would refuse it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// A line that is neither `name=value` nor `name<<DELIMITER`.
    #[error("line {0}: neither name=value nor name<<DELIMITER")]
    Line(usize),
    /// `name=` or `<<DELIMITER` with an empty part.
    #[error("line {0}: an empty name or delimiter")]
    Empty(usize),
    /// A heredoc whose delimiter never comes.
    #[error("line {0}: the delimiter of {1:?} never comes")]
    Unclosed(usize, String),
}

/// Parses a `GITHUB_OUTPUT` or `GITHUB_ENV` file as the runner does: `name=value` when `=`
/// comes before any `<<`, else `name<<DELIMITER`, the value's lines, and the delimiter alone on a
/// line. Empty lines are skipped. Pairs come in file order; a name may repeat. On Windows, as
/// the runner there, a line may end in CRLF (cmd writes it): the CR is not part of a name, value
/// or delimiter, and a multi-line value keeps its inner line ends as written.
///
/// # Errors
/// On the first line the runner would refuse.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, FormatError> {
    let mut pairs = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    let last = if text.ends_with('\n') {
        lines.len() - 1
    } else {
        lines.len()
    };
    // The line without the CR of a CRLF end (Windows only, as the runner).
    let bare = |i: usize| -> &str {
        let line = lines[i];
        if cfg!(windows) && i + 1 < lines.len() {
            line.strip_suffix('\r').unwrap_or(line)
        } else {
            line
        }
    };
    let mut i = 0;
    while i < last {
        let line = bare(i);
        let number = i + 1;
        i += 1;
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                if e == 0 {
                    return Err(FormatError::Empty(number));
                }
                pairs.push((line[..e].to_owned(), line[e + 1..].to_owned()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(FormatError::Empty(number));
                }
                let first = i;
                loop {
                    if i >= last {
                        return Err(FormatError::Unclosed(number, name.to_owned()));
                    }
                    i += 1;
                    if bare(i - 1) == delimiter {
                        break;
                    }
                }
                // The value's lines as written; the last one's line end is not part of it.
                let value = bare_end(lines[first..i - 1].join("\n"));
                pairs.push((name.to_owned(), value));
            }
            _ => return Err(FormatError::Line(number)),
        }
    }
    Ok(pairs)
}

/// A value without the CR of its last line's CRLF end (Windows only, as the runner).
fn bare_end(mut value: String) -> String {
    if cfg!(windows) && value.ends_with('\r') {
        value.pop();
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_lines_parse_as_the_runner_of_the_platform_reads_them() {
        let text = "version=1.2\r\nnotes<<EOF\r\na\r\nb\r\nEOF\r\n";
        let pairs = parse(text);
        if cfg!(windows) {
            assert_eq!(
                pairs.unwrap(),
                [
                    ("version".into(), "1.2".into()),
                    ("notes".into(), "a\r\nb".into())
                ]
            );
        } else {
            // Elsewhere the runner keeps the CR, and the delimiter "EOF\r" closes the value.
            assert_eq!(
                pairs.unwrap(),
                [
                    ("version".into(), "1.2\r".into()),
                    ("notes".into(), "a\r\nb\r".into())
                ]
            );
        }
    }

    #[test]
    fn an_addition_starts_on_a_line_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, "foo=bar").unwrap();
        append(&path, b"total<<EOF\n3\nEOF\n").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "foo=bar\ntotal<<EOF\n3\nEOF\n");
        assert_eq!(
            parse(&text).unwrap(),
            [("foo".into(), "bar".into()), ("total".into(), "3".into())]
        );
        append(&path, b"x=1\n").unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .ends_with("EOF\nx=1\n")
        );
    }

    #[test]
    fn only_regular_files_are_touched() {
        let dir = tempfile::tempdir().unwrap();
        assert!(append(dir.path(), b"x=1\n").is_err());
        #[cfg(unix)]
        {
            let fifo = dir.path().join("fifo");
            nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
            // Neither blocks: no reader and no writer is ever waited for.
            assert!(append(&fifo, b"x=1\n").is_err());
            assert!(append_file(&fifo, &dir.path().join("to")).is_err());
            assert!(append_file(Path::new("/dev/zero"), &dir.path().join("to")).is_err());
        }
    }

    #[test]
    fn a_whole_file_is_replaced_and_a_fifo_nobody_reads_never_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, "an older, longer report").unwrap();
        write_whole(&path, b"{}").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
        #[cfg(unix)]
        {
            let fifo = dir.path().join("fifo");
            nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
            assert!(write_whole(&fifo, b"{}").is_err());
        }
    }

    #[test]
    fn the_runner_refuses_what_it_cannot_read() {
        let cases = [
            (
                "a=1\n\nb<<E\nx\ny\nE\n",
                Ok(vec![("a", "1"), ("b", "x\ny")]),
            ),
            ("a=b<<c\n", Ok(vec![("a", "b<<c")])),
            ("a<<E\nx\n", Err(FormatError::Unclosed(1, "a".into()))),
            ("foo=bartotal<<E\n3\nE\n", Err(FormatError::Line(2))),
            ("=1\n", Err(FormatError::Empty(1))),
            ("b<<E\nE", Ok(vec![("b", "")])),
        ];
        for (text, want) in cases {
            let want = want.map(|pairs| {
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect::<Vec<_>>()
            });
            assert_eq!(parse(text), want, "{text:?}");
        }
    }
}
