//! Finding a program on the command's own `PATH` before it starts (Unix).
//!
//! recover gives every attempt an environment of its own. When that environment sets `PATH`
//! and the program is a bare name, the standard library must search the new `PATH` inside the
//! child, so it forks and calls `execvp` there. Resolving the name here first lets it start the
//! command with `posix_spawn` instead, which costs a fraction of a fork: this is most of what
//! recover adds to a command's start-up.
//!
//! The search is `execvp`'s: the first directory in `PATH` order holding an executable regular
//! file of that name. Whenever the answer is not certain here (a relative or empty `PATH`
//! entry, which depends on the child's working directory, or no match at all), nothing is
//! resolved and the standard library searches as before, so errors stay exactly the same.
//! (The `which` crate, used to find shells, resolves relative entries against a directory of
//! its choosing, and so is not used here.)

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The full path `program` would be started from, when it can be told for certain.
#[must_use]
pub fn resolve(program: &OsStr, env: &[(OsString, OsString)]) -> Option<PathBuf> {
    if program.is_empty() || program.as_bytes().contains(&b'/') {
        return None;
    }
    let path = env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v)?;
    for dir in std::env::split_paths(path) {
        if !dir.is_absolute() {
            return None;
        }
        let candidate = dir.join(program);
        if is_executable_file(&candidate) {
            return Some(candidate);
        }
    }
    None
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn env(path: &str) -> Vec<(OsString, OsString)> {
        vec![("HOME".into(), "/h".into()), ("PATH".into(), path.into())]
    }

    fn file(dir: &Path, name: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn finds_the_first_executable_in_path_order() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        file(a.path(), "tool", 0o644);
        let wanted = file(b.path(), "tool", 0o755);
        file(b.path(), "other", 0o755);
        fs::create_dir(a.path().join("dir")).unwrap();
        let path = format!("{}:{}", a.path().display(), b.path().display());
        assert_eq!(resolve("tool".as_ref(), &env(&path)), Some(wanted));
        assert_eq!(resolve("dir".as_ref(), &env(&path)), None);
        assert_eq!(resolve("missing".as_ref(), &env(&path)), None);
    }

    #[test]
    fn leaves_uncertain_cases_to_the_standard_search() {
        let a = tempfile::tempdir().unwrap();
        file(a.path(), "tool", 0o755);
        let absolute = a.path().display().to_string();
        // A relative or empty entry before the match depends on the child's directory.
        for path in [format!("rel:{absolute}"), format!(":{absolute}")] {
            assert_eq!(resolve("tool".as_ref(), &env(&path)), None, "{path}");
        }
        assert_eq!(resolve("./tool".as_ref(), &env(&absolute)), None);
        assert_eq!(resolve("".as_ref(), &env(&absolute)), None);
        assert_eq!(resolve("tool".as_ref(), &[]), None);
    }
}
