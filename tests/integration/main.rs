//! End-to-end tests: the recover binary run as a real process, with real shells and real
//! process trees, one module per feature.
//!
//! Linux only: the tests read `/proc`, make the test process a child subreaper (`prctl`) and
//! measure memory with GNU time.

#![cfg(target_os = "linux")]

mod support;

mod attempts;
mod cancel;
mod classify;
mod deadline;
mod environment;
mod github;
mod inputs;
mod insights;
mod output;
mod report;
mod side_files;
mod signals;
mod state;
mod tasks;
mod timeout;
mod waits;
