//! The private directory that holds the attempts' scripts and runner files.
//!
//! It is made on first use: a bare program run outside GitHub Actions writes neither a script
//! nor runner files, and creating and removing a directory was a good part of what recover
//! added to such a command's start-up.

use std::cell::OnceCell;
use std::io;
use std::path::{Path, PathBuf};

/// A directory of recover's own, removed with everything in it when this value is dropped.
#[derive(Debug)]
pub struct WorkDir {
    parent: PathBuf,
    made: OnceCell<tempfile::TempDir>,
}

impl WorkDir {
    /// A work directory to be made in `parent` when first needed.
    #[must_use]
    pub fn new(parent: PathBuf) -> WorkDir {
        WorkDir {
            parent,
            made: OnceCell::new(),
        }
    }

    /// The sub-directory `name`, made (with the work directory itself) if need be.
    ///
    /// # Errors
    /// When either directory cannot be made; the message names the parent directory.
    pub fn subdir(&self, name: &str) -> io::Result<PathBuf> {
        let root = if let Some(dir) = self.made.get() {
            dir.path()
        } else {
            let dir = tempfile::Builder::new()
                .prefix("recover-")
                .tempdir_in(&self.parent)
                .map_err(|e| {
                    let parent = self.parent.display();
                    io::Error::new(
                        e.kind(),
                        format!("cannot create a work directory in {parent}: {e}"),
                    )
                })?;
            self.made.get_or_init(|| dir).path()
        };
        let dir = root.join(name);
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// The work directory, if it has been made.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.made.get().map(tempfile::TempDir::path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_made_on_first_use_and_removed_on_drop() {
        let parent = tempfile::tempdir().unwrap();
        let work = WorkDir::new(parent.path().to_path_buf());
        assert!(work.path().is_none());
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
        let first = work.subdir("primary-1").unwrap();
        let second = work.subdir("primary-2").unwrap();
        assert!(first.is_dir() && second.is_dir());
        let root = work.path().unwrap().to_path_buf();
        assert_eq!(first.parent(), Some(root.as_path()));
        assert_eq!(second.parent(), Some(root.as_path()));
        drop(work);
        assert!(!root.exists());
    }

    #[test]
    fn a_parent_that_cannot_hold_it_is_named() {
        let work = WorkDir::new(PathBuf::from("/nonexistent/recover-parent"));
        let error = work.subdir("primary-1").unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/recover-parent"),
            "{error}"
        );
    }
}
