//! The job object of an attempt on Windows: every process the command starts belongs to it, and
//! terminating the job ends them all.
//!
//! Windows has no SIGTERM for console programs in another job, so a timeout or a cancellation
//! ends the job at once; the grace period does not apply.

/// The job of an attempt. Termination goes through the child, which owns the job handle.
#[derive(Debug, Clone, Copy)]
pub struct Group;

impl Group {
    /// The job of the attempt whose first process has id `pid`.
    #[must_use]
    pub fn led_by(_pid: u32) -> Group {
        Group
    }

    /// The job is ended together with its first process.
    #[must_use]
    pub fn is_empty(self) -> bool {
        true
    }
}

/// The job object ends its processes when its last handle closes, which recover's death does:
/// nothing to watch.
pub struct Watcher;

impl Watcher {
    /// Nothing to start.
    #[must_use]
    pub fn watch(_group: Group, _grace: std::time::Duration) -> Watcher {
        Watcher
    }

    /// Nothing to release.
    pub async fn release(self) {}
}

/// The exit code of a Windows process.
#[must_use]
pub fn exit_code(status: std::process::ExitStatus) -> (i32, Option<i32>) {
    (status.code().unwrap_or(1), None)
}
