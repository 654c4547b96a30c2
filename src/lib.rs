//! recover makes a flaky CI step recover on its own.
//!
//! ```text
//! flags | INPUT_* ─> inputs ─> Plan          bad input: ::error:: naming it, exit 2
//! loop:  exec::attempt ─> Attempt { exit, duration, tail }
//!        classify ─> Classification { category, rule, wait hint }
//!        policy::decide ─> Decision: succeed | retry after a wait | give up
//! Outcome ─> report (log, annotations, outputs) ─> exit code
//! ```

pub mod classify;
pub mod cli;
pub mod exec;
