//! recover makes a flaky CI step recover on its own.
//!
//! ```text
//! flags | INPUT_* ─> inputs ─> Plan          bad input: ::error:: naming it, exit 2
//! loop:  exec::run ─> Attempt { exit, duration, tails }
//!        classify ─> Classification { category, rule, wait hint }
//!        policy::decide ─> Decision: succeed | retry after a wait | give up
//! Outcome ─> report (log, annotations, outputs) ─> exit code
//! ```
//!
//! `main.rs` only parses the command line and exits with the code [`cli::main`] returns.

pub mod classify;
pub mod cli;
pub mod error;
pub mod exec;
pub mod plan;
pub mod policy;
pub mod report;
pub mod run;
