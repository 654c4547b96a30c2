//! Committing the runner files of the step's final commands to the runner's own, and reading
//! back the outputs they set (`command_outputs`).

use crate::exec::env::SideFiles;
use crate::exec::runner_file;
use crate::log::Log;

/// The most of a `GITHUB_OUTPUT` copy read for `command_outputs`: GitHub takes at most 1 MiB
/// per output, so more could never be carried.
const MAX_COMMAND_OUTPUTS: u64 = 1024 * 1024;

/// The `name=value` pairs a command's copy of `GITHUB_OUTPUT` holds. A copy the runner would
/// refuse, or one too large to carry, is a warning and no pairs.
pub(super) fn outputs_of(side: &SideFiles, whose: &str, log: &mut Log) -> Vec<(String, String)> {
    use std::io::Read as _;
    let Some(copy) = side.copy_of("GITHUB_OUTPUT") else {
        return Vec::new();
    };
    let mut text = String::new();
    let read = runner_file::open_to_read(copy).and_then(|file| {
        file.take(MAX_COMMAND_OUTPUTS + 1)
            .read_to_string(&mut text)
            .map(|_| ())
    });
    if read.is_err() {
        // Committing the copy meets the same error and warns about it.
        return Vec::new();
    }
    if text.len() as u64 > MAX_COMMAND_OUTPUTS {
        log.warning(&format!(
            "{whose} GITHUB_OUTPUT holds over 1 MiB: too much to carry in command_outputs"
        ));
        return Vec::new();
    }
    match runner_file::parse(&text) {
        Ok(pairs) => pairs,
        Err(error) => {
            log.warning(&format!(
                "{whose} GITHUB_OUTPUT is malformed ({error}): the runner will refuse it"
            ));
            Vec::new()
        }
    }
}

pub(super) fn commit(side: &SideFiles, whose: &str, log: &mut Log) {
    for (var, error) in side.commit() {
        log.warning(&format!("cannot append {whose} {var} file: {error}"));
    }
}
