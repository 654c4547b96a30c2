//! One state file: read with a size cap, decoded with its version checked, and written whole by
//! an atomic replace.
//!
//! In: a path (and, to write, a state). Out: the state, or a fresh one with a [`Damaged`] warning
//! when the file is corrupt, truncated, too large or from a newer recover; an `io::Error` when
//! it cannot be read or written. `store.rs` adds the directory, the keys and the locks.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The version of the state files this recover writes. A file with a higher version is ignored
/// (with a warning) rather than misread.
pub const VERSION: u64 = 1;

/// The largest state file recover reads: 1 MiB. A circuit's or the budget's file is a few
/// hundred bytes; a larger one is not recover's (a 200 MB file took 397 MB of memory to parse),
/// so it is a warning and a fresh state, and it is never read whole.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// A state file that could not be used, replaced by a fresh state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damaged {
    /// The file.
    pub path: PathBuf,
    /// What was wrong with it.
    pub problem: String,
}

impl Damaged {
    /// Whether the file has a version newer than this recover's [`VERSION`].
    #[must_use]
    pub fn is_newer(&self) -> bool {
        self.problem.starts_with(NEWER)
    }
}

/// How [`Damaged::problem`] starts for a file of a newer version.
const NEWER: &str = "has version ";

impl fmt::Display for Damaged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "state file {} {}; starting from a fresh state",
            self.path.display(),
            self.problem
        )
    }
}

/// The file's layout: the version beside the state's own fields.
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    version: u64,
    #[serde(flatten)]
    state: T,
}

/// Opens files without blocking: opening a FIFO put where a state file belongs would otherwise
/// wait for a writer forever. Reads and writes of regular files are not affected.
pub(super) fn nonblocking(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits());
    }
    #[cfg(not(unix))]
    let _ = options;
}

/// Reads a state file: `None` when it is missing; an error when it is not a regular file (a
/// directory, a FIFO, a device: not recover's, and never replaced); `Err(Ok(size))` when it is
/// larger than [`MAX_FILE_BYTES`], without reading it.
fn read_capped(path: &Path) -> Result<Option<Result<Vec<u8>, u64>>, io::Error> {
    use std::io::Read as _;
    let mut options = OpenOptions::new();
    options.read(true);
    nonblocking(&mut options);
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Ok(Some(Err(meta.len())));
    }
    // The file may grow between the check and the read: read one byte more than allowed.
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Ok(Some(Err(bytes.len() as u64)));
    }
    Ok(Some(Ok(bytes)))
}

/// Reads and decodes a state file; a missing file is the fresh state, a bad one is the fresh
/// state and a [`Damaged`].
///
/// # Errors
/// When the file exists but cannot be read, or is not a regular file.
pub(super) fn load<T>(path: &Path) -> io::Result<(T, Option<Damaged>)>
where
    T: Default + DeserializeOwned,
{
    let bytes = match read_capped(path)? {
        Some(Ok(bytes)) => bytes,
        Some(Err(size)) => {
            return Ok((
                T::default(),
                Some(Damaged {
                    path: path.to_owned(),
                    problem: format!(
                        "is {size} bytes, larger than the {MAX_FILE_BYTES} bytes a state file may have"
                    ),
                }),
            ));
        }
        None => return Ok((T::default(), None)),
    };
    match decode(&bytes) {
        Ok(state) => Ok((state, None)),
        Err(problem) => Ok((
            T::default(),
            Some(Damaged {
                path: path.to_owned(),
                problem,
            }),
        )),
    }
}

/// Decodes a state file's bytes, or says what is wrong with them.
fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("is not valid JSON ({e})"))?;
    let version = value
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| "has no version".to_owned())?;
    if version > VERSION {
        return Err(format!(
            "{NEWER}{version}, newer than this recover understands ({VERSION})"
        ));
    }
    let envelope: Envelope<T> =
        serde_json::from_value(value).map_err(|e| format!("is malformed ({e})"))?;
    Ok(envelope.state)
}

/// Writes `state` to a temporary file in `dir`, then renames it over `path`: readers see the old
/// file or the new one, never a part.
///
/// # Errors
/// When the temporary file cannot be created, written or renamed.
pub(super) fn write_atomic<T: Serialize>(dir: &Path, path: &Path, state: &T) -> io::Result<()> {
    let envelope = Envelope {
        version: VERSION,
        state,
    };
    let mut text = serde_json::to_vec_pretty(&envelope)?;
    text.push(b'\n');
    let mut temp = tempfile::Builder::new()
        .prefix(".state-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(&text)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
