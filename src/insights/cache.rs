//! The on-disk cache of API answers: each URL's last body with its `ETag`, so that the next call
//! asks conditionally (`If-None-Match`) and a `304 Not Modified`, which costs no rate limit,
//! replays the body.
//!
//! In: a directory (created on first write). Out: [`Entry`]s by URL. An entry may also carry a
//! `stamp`: the `updated_at` of the run the answer belongs to. A completed run whose stamp has
//! not changed has the same jobs and annotations, so its entries are used without asking at all.
//!
//! The cache is a side channel: a directory that cannot be made, or a file that cannot be read
//! or written, loses only the saving (one warning), never the result.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// One cached answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The URL asked.
    pub url: String,
    /// The answer's `ETag`, if it had one.
    pub etag: Option<String>,
    /// The `updated_at` of the run the answer belongs to, for answers that do not change while
    /// it does not.
    pub stamp: Option<String>,
    /// The next page's URL (from the `Link` header), if any.
    pub next: Option<String>,
    /// The body.
    pub body: String,
}

/// The cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// A cache in `dir`.
    #[must_use]
    pub fn new(dir: PathBuf) -> Cache {
        Cache { dir }
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry for `url`, if one was stored and reads back whole.
    #[must_use]
    pub fn get(&self, url: &str) -> Option<Entry> {
        let text = fs::read_to_string(self.path(url)).ok()?;
        serde_json::from_str::<Entry>(&text)
            .ok()
            .filter(|e| e.url == url)
    }

    /// Stores `entry`, replacing the old one whole (a temporary file renamed over it), so that a
    /// reader never sees half an entry.
    ///
    /// # Errors
    /// When the directory or the file cannot be written.
    pub fn put(&self, entry: &Entry) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(serde_json::to_string(entry).unwrap_or_default().as_bytes())?;
        file.persist(self.path(&entry.url))
            .map(|_| ())
            .map_err(|e| e.error)
    }

    /// Removes the entry for `url`, if any.
    pub fn remove(&self, url: &str) {
        let _ = fs::remove_file(self.path(url));
    }

    /// Removes entries not written for `age`: answers for runs that left the period.
    pub fn prune(&self, age: Duration) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|a| a > age);
            let ours = entry.file_name().to_string_lossy().ends_with(".json");
            if old && ours {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    fn path(&self, url: &str) -> PathBuf {
        self.dir
            .join(format!("{:016x}.json", fnv1a(url.as_bytes())))
    }
}

/// FNV-1a, 64 bits: a file name per URL that stays the same across builds (std's hasher may
/// change between Rust releases); a collision is caught by the URL stored in the entry.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_reads_back_and_a_damaged_one_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"));
        let entry = Entry {
            url: "http://x/runs?page=2".to_owned(),
            etag: Some("W/\"abc\"".to_owned()),
            stamp: None,
            next: Some("http://x/runs?page=3".to_owned()),
            body: "{}".to_owned(),
        };
        assert_eq!(cache.get(&entry.url), None);
        cache.put(&entry).unwrap();
        assert_eq!(cache.get(&entry.url), Some(entry.clone()));
        fs::write(cache.path(&entry.url), "{\"url\":").unwrap();
        assert_eq!(cache.get(&entry.url), None);
    }

    #[test]
    fn file_names_are_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
