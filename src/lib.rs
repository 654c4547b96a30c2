//! recover makes a flaky CI step recover on its own.
//!
//! ```text
//! flags | INPUT_* ─> inputs ─> Plan          bad input: ::error:: naming it, exit 2
//! loop:  exec::run ─> Attempt { exit, duration, tails }
//!        classify ─> Classification { category, rule, wait hint }
//!        policy::decide ─> Decision: succeed | retry after a wait | give up
//!        a GitHub rate limit with no wait in the output: github ─> GET /rate_limit ─> the reset
//! state: the circuit (skip while open) and the retry budget, shared through state_dir files
//! Outcome ─> report (summary, annotations, outputs, JSON) ─> exit code
//! ```
//!
//! # Layers
//!
//! Read bottom-up: each module imports only modules of the layers below its own
//! (`tests/layering.rs` keeps it so, and docs/design.md says why the seams are where they are).
//!
//! ```text
//! cli                                   the command line: clap types, subcommands, exit codes
//! task   insights                       recover.yml tasks; flakiness across runs
//! step                                  one plan as a step: loop, fallback, report sinks
//! report                                the finished run as summary, annotations, outputs, JSON
//! run                                   the attempt loop (the only code that sleeps)
//! log                                   the live log of a run
//! outcome                               the record of a run
//! plan                                  inputs checked into settings
//! policy                                the retry decision
//! exec   classify   state   github   trace      mechanisms, each on its own
//! error  exit_code  inputs  output  signals  workflow  yaml      vocabulary: imports nothing
//! ```
//!
//! `main.rs` only parses the command line and exits with the code [`cli::main`] returns.

// Classification of a failed attempt from its exit and its output (rules, matcher, verdict).
pub mod classify;
// The command line: every clap type and subcommand, and what an error exits with.
pub mod cli;
// Errors as one line of text with their causes.
pub mod error;
// Running one attempt: process groups and job objects, timeouts, the output relay.
pub mod exec;
// recover's exit codes, one table.
pub mod exit_code;
// The GitHub API: the rate limit's reset, and the token.
pub mod github;
// The input table (flags, `INPUT_*`, action.yml, README) and the raw values given.
pub mod inputs;
// `recover insights`: flaky steps and what retries cost, from the runs' history.
pub mod insights;
// The live log of a run: a group per attempt and a line per decision.
pub mod log;
// The record of a run: attempts, outcome, why retrying stopped.
pub mod outcome;
// The vocabulary of an attempt's output: `Stream`, `Observer`, `Tail`.
pub mod output;
// Inputs checked into a [`plan::Plan`], every problem named at once.
pub mod plan;
// The retry decision: backoff, jitter, hints, the deadline; pure.
pub mod policy;
// The report of a finished run: summary, annotations, outputs, JSON, the result notice.
pub mod report;
// The attempt loop with its circuit and budget hooks and the runner files it commits.
pub mod run;
// Signals by name and number, one table.
pub mod signals;
// The circuit breaker and the retry budget: their files and their decisions.
pub mod state;
// One run of a plan as a step: the loop, then every sink of the report.
pub mod step;
// `recover.yml`: tasks with their inputs, checked and ordered.
pub mod task;
// recover's own diagnostics (`tracing`) as `::debug::` lines or to a file.
pub mod trace;
// Workflow commands (`::warning::`, `::group::`) and their escaping.
pub mod workflow;
// YAML reading with a size cap and positions in errors.
pub mod yaml;
