//! End-to-end tests: the recover binary run as a real process, with real shells and real
//! process trees, one module per feature.

#![cfg(unix)]

mod support;

mod attempts;
mod cancel;
mod deadline;
mod environment;
mod inputs;
mod output;
mod side_files;
mod signals;
mod timeout;
mod waits;
