//! End-to-end tests: the recover binary run as a real process, with real shells and real
//! process trees, one module per feature.
//!
//! The feature modules are Linux only: the tests read `/proc`, make the test process a child
//! subreaper (`prctl`) and measure memory with GNU time. On Windows only `windows` runs: the
//! same features through cmd, job objects and Windows paths (scripts/wine-test.sh runs it
//! under Wine).

#![cfg(any(target_os = "linux", windows))]

#[cfg_attr(
    windows,
    expect(dead_code, reason = "the bash helpers serve the Linux modules only")
)]
mod support;
#[cfg(windows)]
mod windows;

#[cfg(target_os = "linux")]
mod attempts;
#[cfg(target_os = "linux")]
mod cancel;
#[cfg(target_os = "linux")]
mod classify;
#[cfg(target_os = "linux")]
mod deadline;
#[cfg(target_os = "linux")]
mod debug_log;
#[cfg(target_os = "linux")]
mod environment;
#[cfg(target_os = "linux")]
mod github;
#[cfg(target_os = "linux")]
mod hostile_files;
#[cfg(target_os = "linux")]
mod hostile_output;
#[cfg(target_os = "linux")]
mod hostile_state;
#[cfg(target_os = "linux")]
mod inputs;
#[cfg(target_os = "linux")]
mod insights;
#[cfg(target_os = "linux")]
mod install_platforms;
#[cfg(target_os = "linux")]
mod install_script;
#[cfg(target_os = "linux")]
mod log_lines;
#[cfg(target_os = "linux")]
mod output;
#[cfg(target_os = "linux")]
mod report;
#[cfg(target_os = "linux")]
mod runner_files;
#[cfg(target_os = "linux")]
mod side_files;
#[cfg(target_os = "linux")]
mod signals;
#[cfg(target_os = "linux")]
mod state;
#[cfg(target_os = "linux")]
mod subcommand_output;
#[cfg(target_os = "linux")]
mod tasks;
#[cfg(target_os = "linux")]
mod timeout;
#[cfg(target_os = "linux")]
mod waits;
