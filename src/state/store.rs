//! The state directory: one small versioned JSON file per circuit and one for the budget, each
//! changed under a file lock with an atomic replace.
//!
//! In: a directory and a [`Key`]. Out: the stored value, or a fresh one with a [`Damaged`]
//! warning when the file is corrupt, truncated or from a newer recover. `file.rs` reads and
//! writes one file; this module names the files and locks them.
//!
//! Why a separate lock file: the data file is replaced by `rename`, so a lock held on it would
//! be held on a file no longer in the directory, and a second process could lock the new one at
//! the same time. `NAME.lock` is never replaced, so an exclusive lock on it serialises every
//! read-modify-write of `NAME.json` across processes, and the rename means a reader never sees a
//! half-written file even without the lock.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use super::file::{Damaged, MAX_FILE_BYTES, VERSION};
use super::file::{load, nonblocking, write_atomic};

/// How long [`Store::update`] and [`Store::remove`] wait for another process's lock.
pub const BLOCKING_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// An exclusive lock on one key's lock file, held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Which file of the state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// The file of one circuit, by name.
    Circuit(String),
    /// The retry budget's file.
    Budget,
}

impl Key {
    fn stem(&self) -> String {
        match self {
            Key::Circuit(name) => format!("circuit-{name}"),
            Key::Budget => "budget".to_owned(),
        }
    }
}

/// A state file operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The state directory cannot be created.
    #[error("cannot create the state directory {}", .dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The lock file cannot be opened or locked.
    #[error("cannot lock state file {}", .path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The state file cannot be read.
    #[error("cannot read state file {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The state file cannot be written or replaced.
    #[error("cannot write state file {}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The state file was written by a newer recover: it is left alone rather than replaced by
    /// a fresh state this recover understands, which would destroy the newer one's state.
    #[error("state file {} {problem}; leaving it to the newer recover", .path.display())]
    Newer {
        /// The file.
        path: PathBuf,
        /// Its version, as in [`Damaged::problem`].
        problem: String,
    },
    /// The state directory cannot be listed.
    #[error("cannot list the state directory {}", .dir.display())]
    List {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// What an update found and returned.
#[derive(Debug)]
pub struct Updated<R> {
    /// What the update function returned.
    pub value: R,
    /// The file that had to be replaced by a fresh state, if any.
    pub damaged: Option<Damaged>,
}

/// A state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store in `dir`, created if missing.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn create(dir: &Path) -> Result<Store, StoreError> {
        fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            dir: dir.to_owned(),
            source,
        })?;
        Ok(Store::existing(dir))
    }

    /// The store in `dir`, which is not created (for reading and resetting).
    #[must_use]
    pub fn existing(dir: &Path) -> Store {
        Store {
            dir: dir.to_owned(),
        }
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The data file of `key`.
    #[must_use]
    pub fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(format!("{}.json", key.stem()))
    }

    /// The lock file of `key`, opened (and created) but not locked.
    fn lock_file(&self, key: &Key) -> Result<(File, PathBuf), StoreError> {
        let path = self.dir.join(format!("{}.lock", key.stem()));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        nonblocking(&mut options);
        match options.open(&path) {
            Ok(file) => Ok((file, path)),
            Err(source) => Err(StoreError::Lock { path, source }),
        }
    }

    /// Waits for the lock of `key` for at most [`BLOCKING_LOCK_WAIT`] (for `recover state
    /// reset`, which a person runs and waits for): a lock held longer belongs to a stuck process.
    fn lock(&self, key: &Key) -> Result<Lock, StoreError> {
        let started = std::time::Instant::now();
        loop {
            if let Some(lock) = self.try_lock(key)? {
                return Ok(lock);
            }
            if started.elapsed() >= BLOCKING_LOCK_WAIT {
                return Err(StoreError::Lock {
                    path: self.dir.join(format!("{}.lock", key.stem())),
                    source: io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "held by another process for more than {} s",
                            BLOCKING_LOCK_WAIT.as_secs()
                        ),
                    ),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Takes the lock of `key` if no other process holds it; `None` if one does. The caller
    /// decides how long to keep trying, and can give up on cancellation.
    ///
    /// # Errors
    /// When the lock file cannot be opened or locking fails for another reason.
    pub fn try_lock(&self, key: &Key) -> Result<Option<Lock>, StoreError> {
        let (file, path) = self.lock_file(key)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Lock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Lock { path, source }),
        }
    }

    /// Reads `key`'s state, changes it with `change` and writes it back, all under the key's
    /// exclusive lock, so concurrent updates from other processes are never lost. The file is
    /// only rewritten when the state changed.
    ///
    /// # Errors
    /// When the lock cannot be taken or the file cannot be read or written.
    pub fn update<T, R>(
        &self,
        key: &Key,
        change: impl FnOnce(T) -> (T, R),
    ) -> Result<Updated<R>, StoreError>
    where
        T: Default + Clone + PartialEq + Serialize + DeserializeOwned,
    {
        let lock = self.lock(key)?;
        self.update_locked(&lock, key, change)
    }

    /// [`Store::update`] under a lock the caller took with [`Store::try_lock`].
    ///
    /// # Errors
    /// When the file cannot be read or written.
    pub fn update_locked<T, R>(
        &self,
        _lock: &Lock,
        key: &Key,
        change: impl FnOnce(T) -> (T, R),
    ) -> Result<Updated<R>, StoreError>
    where
        T: Default + Clone + PartialEq + Serialize + DeserializeOwned,
    {
        let path = self.path(key);
        let (old, damaged) = load::<T>(&path).map_err(|source| StoreError::Read {
            path: path.clone(),
            source,
        })?;
        if let Some(newer) = damaged.as_ref().filter(|d| d.is_newer()) {
            return Err(StoreError::Newer {
                path,
                problem: newer.problem.clone(),
            });
        }
        let (new, value) = change(old.clone());
        if new != old || damaged.is_some() {
            write_atomic(&self.dir, &path, &new)
                .map_err(|source| StoreError::Write { path, source })?;
        }
        Ok(Updated { value, damaged })
    }

    /// Reads `key`'s state under its lock; a missing file is the fresh state.
    ///
    /// # Errors
    /// When the file exists but cannot be read.
    pub fn read<T>(&self, key: &Key) -> Result<(T, Option<Damaged>), StoreError>
    where
        T: Default + DeserializeOwned,
    {
        // Reading needs no lock for consistency (files are replaced whole), so a read-only
        // directory can still be shown.
        let path = self.path(key);
        load(&path).map_err(|source| StoreError::Read { path, source })
    }

    /// Removes `key`'s file under its lock; returns whether there was one.
    ///
    /// # Errors
    /// When the lock cannot be taken or the file cannot be removed.
    pub fn remove(&self, key: &Key) -> Result<bool, StoreError> {
        let path = self.path(key);
        if !path.exists() {
            return Ok(false);
        }
        let _lock = self.lock(key)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(StoreError::Write { path, source }),
        }
    }

    /// The names of the circuits with a file in the directory, sorted; none when the directory
    /// does not exist.
    ///
    /// # Errors
    /// When the directory exists but cannot be listed.
    pub fn circuits(&self) -> Result<Vec<String>, StoreError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(StoreError::List {
                    dir: self.dir.clone(),
                    source,
                });
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let circuit = name.strip_prefix("circuit-")?.strip_suffix(".json")?;
                is_valid_name(circuit).then(|| circuit.to_owned())
            })
            .collect();
        names.sort();
        Ok(names)
    }
}

/// The circuit-name rule as messages state it (after "expected"); [`is_valid_name`] checks it.
pub const NAME_RULE: &str = "1 to 100 letters, digits, `.`, `_` or `-`, not starting with `.`";

/// Whether `name` may name a circuit ([`NAME_RULE`]): 1 to 100 of `A-Z a-z 0-9 . _ -`, not
/// starting with a dot, so that it is a safe file name on every platform.
#[must_use]
pub fn is_valid_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
