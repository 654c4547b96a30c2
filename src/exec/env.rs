//! The environment of an attempt and the files it writes for the runner.
//!
//! In: recover's own environment. Out: each attempt's environment — recover's inputs removed,
//! `RECOVER_ATTEMPT`, `RECOVER_MAX_ATTEMPTS`, `RECOVER_PREVIOUS_EXIT_CODE` and (on a runner)
//! `RECOVER_STEP_ID` added, and
//! `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH` and `GITHUB_STEP_SUMMARY` pointed at fresh files
//! of the attempt's own. Only the final attempt's files are appended to the real ones, so a failed
//! attempt's half-written outputs, variables or summary never reach later steps.

use std::ffi::{OsStr, OsString};
#[cfg(test)]
use std::fs;
use std::fs::File;
use std::io;
use std::path::PathBuf;

use super::runner_file;
use super::work_dir::WorkDir;

use crate::inputs::{ACTION_ONLY, INPUTS};

/// The runner's files a step writes to, with the name each attempt's copy gets.
pub const SIDE_FILES: [(&str, &str); 4] = [
    ("GITHUB_OUTPUT", "output"),
    ("GITHUB_ENV", "env"),
    ("GITHUB_PATH", "path"),
    ("GITHUB_STEP_SUMMARY", "step_summary"),
];

/// recover's environment without its own inputs: what every attempt starts from.
#[derive(Debug, Clone, Default)]
pub struct BaseEnv {
    vars: Vec<(OsString, OsString)>,
}

impl BaseEnv {
    /// Takes the given variables, dropping recover's `INPUT_*` ones.
    #[must_use]
    pub fn new(vars: impl IntoIterator<Item = (OsString, OsString)>) -> BaseEnv {
        let vars = vars
            .into_iter()
            .filter(|(name, _)| !is_own_input(name))
            .collect();
        BaseEnv { vars }
    }

    /// recover's current environment.
    #[must_use]
    pub fn current() -> BaseEnv {
        BaseEnv::new(std::env::vars_os())
    }

    /// The value of a variable.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_os_str())
    }

    /// The environment of attempt `attempt`, with `overrides` set last.
    #[must_use]
    pub fn for_attempt(
        &self,
        attempt: u32,
        max_attempts: u32,
        previous_exit_code: Option<i32>,
        overrides: &[(OsString, OsString)],
    ) -> Vec<(OsString, OsString)> {
        let mut added: Vec<(OsString, OsString)> = vec![
            ("RECOVER_ATTEMPT".into(), attempt.to_string().into()),
            (
                "RECOVER_MAX_ATTEMPTS".into(),
                max_attempts.to_string().into(),
            ),
        ];
        if let Some(code) = previous_exit_code {
            added.push(("RECOVER_PREVIOUS_EXIT_CODE".into(), code.to_string().into()));
        }
        if let Some(id) = step_id(|name| self.get(name)?.to_str().map(str::to_owned)) {
            added.push(("RECOVER_STEP_ID".into(), id.into()));
        }
        added.extend(overrides.iter().cloned());
        let mut vars: Vec<_> = self
            .vars
            .iter()
            .filter(|(k, _)| {
                k != "RECOVER_PREVIOUS_EXIT_CODE" && !added.iter().any(|(a, _)| a == k)
            })
            .cloned()
            .collect();
        vars.extend(added);
        vars
    }
}

/// The correlation id of one run of a step, `RUN_ID:RUN_ATTEMPT:JOB:ACTION` from the runner's
/// `GITHUB_RUN_ID`, `GITHUB_RUN_ATTEMPT`, `GITHUB_JOB` and `GITHUB_ACTION` (the step's id);
/// `None` off a runner (no `GITHUB_RUN_ID`). The command gets it as `RECOVER_STEP_ID` and the
/// step's result annotation carries it, so the two can be joined (`recover insights`).
#[must_use]
pub fn step_id(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let get = |name: &str| var(name).map(|v| v.trim().to_owned()).unwrap_or_default();
    let run = get("GITHUB_RUN_ID");
    if run.is_empty() {
        return None;
    }
    let attempt = Some(get("GITHUB_RUN_ATTEMPT"))
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "1".to_owned());
    Some(format!(
        "{run}:{attempt}:{}:{}",
        get("GITHUB_JOB"),
        get("GITHUB_ACTION")
    ))
}

fn is_own_input(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    let Some(input) = name.strip_prefix("INPUT_") else {
        return false;
    };
    INPUTS
        .iter()
        .map(|spec| spec.name)
        .chain(ACTION_ONLY)
        .any(|own| own.eq_ignore_ascii_case(input))
}

/// One attempt's copies of the runner's files.
#[derive(Debug, Clone)]
pub struct SideFiles {
    /// (variable, the attempt's file, the real file).
    files: Vec<(&'static str, PathBuf, PathBuf)>,
}

impl SideFiles {
    /// Creates empty copies in `work`'s sub-directory `name` for each runner file that `env`
    /// names (nothing at all, not even the directory, when it names none).
    ///
    /// # Errors
    /// When the directory or a file cannot be created.
    pub fn create(work: &WorkDir, name: &str, env: &BaseEnv) -> io::Result<SideFiles> {
        let mut files = Vec::new();
        let mut dir = None;
        for (var, file_name) in SIDE_FILES {
            let Some(real) = env.get(var).filter(|v| !v.is_empty()) else {
                continue;
            };
            let dir = match &dir {
                Some(dir) => dir,
                None => dir.insert(work.subdir(name)?),
            };
            let copy = dir.join(file_name);
            File::create(&copy)?;
            files.push((var, copy, PathBuf::from(real)));
        }
        Ok(SideFiles { files })
    }

    /// The variables that point the command at the copies.
    #[must_use]
    pub fn overrides(&self) -> Vec<(OsString, OsString)> {
        self.files
            .iter()
            .map(|(var, copy, _)| ((*var).into(), copy.clone().into()))
            .collect()
    }

    /// Appends each copy to its real file, never truncating what is there, on a line of its
    /// own and all or nothing ([`runner_file::append_file`]). Empty copies are skipped: an
    /// attempt that wrote nothing leaves the real file untouched.
    ///
    /// Returns the variable and error of each file that could not be appended; the others
    /// still are.
    #[must_use]
    pub fn commit(&self) -> Vec<(&'static str, io::Error)> {
        let mut errors = Vec::new();
        for (var, copy, real) in &self.files {
            if let Err(error) = runner_file::append_file(copy, real) {
                errors.push((*var, error));
            }
        }
        errors
    }

    /// The attempt's copy of the runner file `var`, if it has one.
    #[must_use]
    pub fn copy_of(&self, var: &str) -> Option<&std::path::Path> {
        self.files
            .iter()
            .find(|(v, _, _)| *v == var)
            .map(|(_, copy, _)| copy.as_path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(vars: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        vars.iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn own_inputs_never_reach_the_command() {
        let base = BaseEnv::new(pairs(&[
            ("INPUT_COMMAND", "x"),
            ("INPUT_MAX_ATTEMPTS", "3"),
            ("INPUT_GITHUB_TOKEN", "secret"),
            ("INPUT_INSTALL", "build"),
            ("INPUT_SOMETHING_ELSE", "kept"),
            ("PATH", "/bin"),
            ("RECOVER_PREVIOUS_EXIT_CODE", "9"),
        ]));
        let env = base.for_attempt(1, 3, None, &[]);
        let names: Vec<_> = env
            .iter()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "INPUT_SOMETHING_ELSE",
                "PATH",
                "RECOVER_ATTEMPT",
                "RECOVER_MAX_ATTEMPTS"
            ]
        );
        let env = base.for_attempt(2, 3, Some(7), &pairs(&[("PATH", "/x")]));
        assert!(env.contains(&("RECOVER_PREVIOUS_EXIT_CODE".into(), "7".into())));
        assert!(env.contains(&("PATH".into(), "/x".into())));
        assert!(!env.contains(&("PATH".into(), "/bin".into())));
    }

    #[test]
    fn the_step_id_joins_run_attempt_job_and_step() {
        let base = BaseEnv::new(pairs(&[
            ("GITHUB_RUN_ID", "7301"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_JOB", "build"),
            ("GITHUB_ACTION", "npm-ci"),
        ]));
        let env = base.for_attempt(1, 3, None, &[]);
        assert!(env.contains(&("RECOVER_STEP_ID".into(), "7301:2:build:npm-ci".into())));
        let off_runner = BaseEnv::new(pairs(&[("GITHUB_JOB", "build")]));
        let env = off_runner.for_attempt(1, 3, None, &[]);
        assert!(!env.iter().any(|(k, _)| k == "RECOVER_STEP_ID"));
    }

    #[test]
    fn only_committed_copies_reach_the_real_files() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real_output");
        fs::write(&real, "before=1\n").unwrap();
        let base = BaseEnv::new(pairs(&[("GITHUB_OUTPUT", real.to_str().unwrap())]));
        let work = WorkDir::new(dir.path().to_path_buf());
        let first = SideFiles::create(&work, "a1", &base).unwrap();
        let second = SideFiles::create(&work, "a2", &base).unwrap();
        for (side, text) in [(&first, "half=1\n"), (&second, "final=1\n")] {
            let (_, copy) = &side.overrides()[0];
            fs::write(copy, text).unwrap();
        }
        assert!(second.commit().is_empty());
        assert_eq!(fs::read_to_string(&real).unwrap(), "before=1\nfinal=1\n");
    }
}
