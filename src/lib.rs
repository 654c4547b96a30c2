//! recover makes a flaky CI step recover on its own.
//!
//! ```text
//! flags | INPUT_* ─> inputs ─> Plan          bad input: ::error:: naming it, exit 2
//! loop:  exec::run ─> Attempt { exit, duration, tails }
//!        classify ─> Classification { category, rule, wait hint }
//!        policy::decide ─> Decision: succeed | retry after a wait | give up
//!        a GitHub rate limit with no wait in the output: github ─> GET /rate_limit ─> the reset
//! state: the circuit (skip while open) and the retry budget, shared through state_dir files
//! Outcome ─> report (log, annotations, outputs) ─> exit code
//! ```
//!
//! `recover task` runs the tasks of `recover.yml` through the same loop, one plan each.
//! `recover insights` reads the runs' history back from the GitHub API (each step's result
//! annotation among it) and says which steps are flaky and what retries cost.
//!
//! `main.rs` only parses the command line and exits with the code [`cli::main`] returns.

pub mod classify;
pub mod cli;
pub mod error;
pub mod exec;
pub mod exit_code;
pub mod github;
pub mod inputs;
pub mod insights;
pub mod log;
pub mod outcome;
pub mod output;
pub mod plan;
pub mod policy;
pub mod report;
pub mod run;
pub mod signals;
pub mod state;
pub mod step;
pub mod task;
pub mod trace;
pub mod workflow;
pub mod yaml;
