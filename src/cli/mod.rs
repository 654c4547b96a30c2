//! The command line: `recover run` (the default) and its flags, one per input of [`INPUTS`],
//! each falling back to `INPUT_<NAME>` as the runner sets it for the action.
//!
//! In: the process arguments and environment. Out: an exit code. This is the only place that
//! turns library results into process-level behaviour (messages on misuse, exit statuses).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches, Parser, Subcommand};

use classify::{ClassifyArgs, CommandError, RulesArgs, run_classify, run_rules};
mod classify;
pub mod error;
mod insights;
mod task;

use crate::error::with_causes;
use crate::exec::Cancel;
use crate::exit_code;
use crate::inputs::{EnvValue, INPUTS, RawInputs};
use crate::log::Log;
use crate::output::{self, Patient, eprint_line};
use crate::plan::Plan;
use crate::state::store::{self, Store};
use crate::state::{self, inspect};
use crate::step;
use error::Error;
use task::{TaskArgs, run_tasks};

/// recover runs a command and makes a flaky CI step recover on its own: it retries failed
/// attempts with backoff, stops the attempt's whole process tree on timeout, and says clearly
/// what happened.
#[derive(Debug, Parser)]
#[command(name = "recover", version, args_conflicts_with_subcommands = true)]
#[command(
    after_help = "Every flag of `run` also reads INPUT_<NAME> (e.g. INPUT_MAX_ATTEMPTS) when absent."
)]
pub struct Cli {
    /// What to do; `run` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The flags of `run`, accepted without the subcommand too.
    #[command(flatten)]
    pub run: RunArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command with attempts, timeouts and waits (the default).
    ///
    /// `recover run [FLAGS] --command 'script'` runs a script with `--shell`;
    /// `recover run [FLAGS] -- program args...` starts a program directly.
    Run(RunArgs),
    /// Explain how a failed command's log is classified: category, retryable, rule, line, wait.
    Classify(ClassifyArgs),
    /// Check a rules file or list the effective rules.
    Rules(RulesArgs),
    /// Show or reset the circuits and the retry budget kept in a state directory.
    #[command(subcommand)]
    State(StateCommand),
    /// Run tasks of recover.yml (commands with their retry policies), or list them.
    Task(TaskArgs),
    /// Which steps are flaky and what retries cost, read from the GitHub API's run history.
    Insights(insights::InsightsArgs),
}

/// `recover state show` and `recover state reset`.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Print every circuit and the retry budget (timestamps in RFC 3339, UTC).
    Show {
        /// The state directory. Default: as for `run` (recover in the runner's temporary
        /// directory, else in the user cache directory).
        #[arg(long, value_name = "DIR", env = "INPUT_STATE_DIR")]
        state_dir: Option<PathBuf>,
        /// Print JSON: `{"circuits": {NAME: {...}}, "budget": {"limit": N, "spent": N}}`.
        #[arg(long)]
        json: bool,
    },
    /// Forget the circuit NAME, or every circuit and the retry budget when NAME is omitted.
    Reset {
        /// The circuit to forget.
        name: Option<String>,
        /// The state directory. Default: as for `run`.
        #[arg(long, value_name = "DIR", env = "INPUT_STATE_DIR")]
        state_dir: Option<PathBuf>,
    },
}

/// The flags of `run`, made from [`INPUTS`], and the program after `--`.
#[derive(Debug, Clone, Default)]
pub struct RunArgs {
    /// The values of the flags given, by input name.
    pub flags: BTreeMap<&'static str, String>,
    /// `--github-token-env NAME`: the variable that holds the GitHub token.
    pub github_token_env: Option<String>,
    /// Flags given a value that is not UTF-8, by input name: refused, each named.
    pub not_utf8: Vec<&'static str>,
    /// The program and arguments after `--`.
    pub argv: Vec<OsString>,
}

const ARGV: &str = "program";
const TOKEN_ENV: &str = "github_token_env";

impl FromArgMatches for RunArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut args = RunArgs::default();
        args.update_from_arg_matches(matches)?;
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for spec in INPUTS {
            if let Some(value) = matches.get_one::<OsString>(spec.name) {
                match value.to_str() {
                    Some(text) => {
                        self.flags.insert(spec.name, text.to_owned());
                    }
                    None => self.not_utf8.push(spec.name),
                }
            }
        }
        if let Some(name) = matches.get_one::<String>(TOKEN_ENV) {
            self.github_token_env = Some(name.clone());
        }
        if let Some(argv) = matches.get_many::<OsString>(ARGV) {
            self.argv = argv.cloned().collect();
        }
        Ok(())
    }
}

impl Args for RunArgs {
    fn augment_args(mut cmd: clap::Command) -> clap::Command {
        for spec in INPUTS {
            let help = match spec.default {
                Some(default) => format!("{} [default: {default}]", spec.description),
                None => spec.description.to_owned(),
            };
            cmd = cmd.arg(
                Arg::new(spec.name)
                    .long(spec.flag())
                    .value_name(spec.value_name)
                    .action(ArgAction::Set)
                    .value_parser(clap::value_parser!(OsString))
                    .allow_hyphen_values(true)
                    // Kept only to refuse it with a clear message: see `token_on_command_line`.
                    .hide(spec.name == "github_token")
                    .help(help),
            );
        }
        cmd.arg(
            Arg::new(TOKEN_ENV)
                .long("github-token-env")
                .value_name("NAME")
                .action(ArgAction::Set)
                .help("Read github_token from the environment variable NAME (default: INPUT_GITHUB_TOKEN); a token on the command line would show in `ps`"),
        )
        .arg(
            Arg::new(ARGV)
                .num_args(1..)
                .last(true)
                .value_parser(clap::value_parser!(OsString))
                .value_name("PROGRAM")
                .help("A program and its arguments to start directly, without a shell (after --)"),
        )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// Runs recover with the process's arguments and environment; returns the exit code.
#[must_use]
pub fn main() -> i32 {
    crate::trace::init(&crate::trace::Sink::from_env(|name| {
        std::env::var(name).ok()
    }));
    protect_process();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return error.exit_code();
        }
    };
    let result = match cli.command {
        Some(Command::Run(args)) => return run_command(args),
        None => return run_command(cli.run),
        Some(Command::Classify(args)) => run_classify(
            &args,
            std::io::stdin().lock(),
            Patient(std::io::stdout().lock()),
        ),
        Some(Command::Rules(args)) => run_rules(&args, Patient(std::io::stdout().lock())),
        Some(Command::State(command)) => return state_command(command),
        Some(Command::Task(args)) => return run_tasks(&args),
        Some(Command::Insights(args)) => return insights::run(&args),
    };
    result.unwrap_or_else(|error| {
        eprint_line(&format!("error: {}", with_causes(&error)));
        match error {
            // Nothing the user gave was wrong: the report could not be passed on.
            CommandError::Output(_) => exit_code::FAILURE,
            _ => exit_code::USAGE,
        }
    })
}

/// Prints a subcommand's report whole, waiting out a full non-blocking pipe; returns the exit
/// code: 0, or 1 with a message when stdout cannot take it (closed, full disk).
pub(crate) fn print_report(text: &str) -> i32 {
    match output::print(text) {
        Ok(()) => exit_code::SUCCESS,
        Err(error) => {
            eprint_line(&format!(
                "error: standard output: cannot be written: {error}"
            ));
            exit_code::FAILURE
        }
    }
}

/// `recover state show|reset`: prints to stdout; problems go to stderr with exit 2.
fn state_command(command: StateCommand) -> i32 {
    let mut log = Log::new(is_actions());
    let default = || state::default_dir(|name| std::env::var(name).ok());
    let result = match command {
        StateCommand::Show { state_dir, json } => {
            let store = Store::existing(&state_dir.unwrap_or_else(default));
            inspect::view(&store, state::wall_clock()).map(|(view, damaged)| {
                for bad in damaged {
                    log.warning(&bad.to_string());
                }
                if json {
                    serde_json::to_string_pretty(&view).unwrap_or_default() + "\n"
                } else {
                    inspect::render_text(&store, &view)
                }
            })
        }
        StateCommand::Reset { name, state_dir } => {
            if let Some(bad) = name.as_deref().filter(|n| !store::is_valid_name(n)) {
                return refuse(&Error::CircuitName(bad.to_owned()), false);
            }
            let store = Store::existing(&state_dir.unwrap_or_else(default));
            inspect::reset(&store, name.as_deref()).map(|removed| {
                if removed.is_empty() {
                    "nothing to reset\n".to_owned()
                } else {
                    removed
                        .iter()
                        .map(|r| format!("reset {r}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                        + "\n"
                }
            })
        }
    };
    match result {
        Ok(text) => print_report(&text),
        Err(error) => {
            // The cause (permission denied, a lock held too long) is what the user can act on.
            eprint_line(&format!("error: {}", with_causes(&error)));
            Error::State(error).exit_code()
        }
    }
}

pub(crate) fn is_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// Makes recover's `/proc/<pid>` entries (environ, cmdline, mem) readable only by root, before
/// anything is spawned: the command runs as the same user, and would otherwise read
/// `github_token` from `/proc/$PPID/environ`. The children's own entries stay as they were:
/// `execve` resets the flag. Elsewhere (macOS, Windows) other users cannot read a process's
/// environment and the same user's debugger rules apply.
fn protect_process() {
    #[cfg(target_os = "linux")]
    if let Err(error) = nix::sys::prctl::set_dumpable(false) {
        tracing::warn!(%error, "cannot make recover's /proc entries private");
    }
}

/// The flag that must not be used: a token in argv shows in `ps` to every user of the machine.
fn token_on_command_line() -> crate::plan::PlanError {
    crate::plan::PlanError {
        input: "github_token",
        problem: "the token was given on the command line (--github-token), where every user of the machine sees it in `ps`; set it in the environment variable INPUT_GITHUB_TOKEN instead, or name the variable that holds it with --github-token-env NAME".to_owned(),
    }
}

/// The token from `--github-token-env NAME`, or an error naming the variable.
fn token_from_env(name: &str) -> Result<Option<String>, crate::plan::PlanError> {
    match std::env::var(name) {
        Ok(token) if !token.trim().is_empty() => Ok(Some(token)),
        _ => Err(crate::plan::PlanError {
            input: "github_token",
            problem: format!(
                "--github-token-env names {name:?}, which is not set, empty or not UTF-8; export the token in it, or leave the flag out to read INPUT_GITHUB_TOKEN"
            ),
        }),
    }
}

/// `recover run`: plan, run, report.
fn run_command(args: RunArgs) -> i32 {
    let actions = is_actions();
    if !args.not_utf8.is_empty() {
        let errors = args
            .not_utf8
            .iter()
            .map(|&input| crate::plan::PlanError {
                input,
                problem: "is not valid UTF-8; give the value as UTF-8 text".to_owned(),
            })
            .collect();
        return refuse(&Error::Plan(errors), actions);
    }
    if args.flags.contains_key("github_token") {
        return refuse(&Error::Plan(vec![token_on_command_line()]), actions);
    }
    let token = match args.github_token_env.as_deref().map(token_from_env) {
        Some(Err(error)) => return refuse(&Error::Plan(vec![error]), actions),
        Some(Ok(token)) => token,
        None => None,
    };
    let raw = RawInputs::collect_env(
        |spec| {
            if spec.name == "github_token" && token.is_some() {
                return token.clone();
            }
            args.flags.get(spec.name).cloned()
        },
        EnvValue::var,
    );
    let plan = match Plan::from_inputs(&raw, args.argv) {
        Ok(plan) => plan,
        Err(errors) => return refuse(&Error::Plan(errors), actions),
    };
    tracing::debug!(
        max_attempts = plan.policy.max_attempts,
        attempt_timeout = ?plan.attempt_timeout,
        total_timeout = ?plan.total_timeout,
        waits = ?plan.policy.waits,
        "plan checked"
    );
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => return refuse(&Error::Runtime(error), actions),
    };
    runtime.block_on(async {
        match Cancel::listen() {
            Ok(mut cancel) => step::execute(&plan, actions, &mut cancel).await.exit_code,
            Err(error) => refuse(&Error::Runtime(error), actions),
        }
    })
}

/// The runtime recover runs a plan on: one thread is enough, the relays have their own.
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Reports misuse: one `::error::` per problem, `exit_error` and `exit_code=2` as outputs.
pub(crate) fn refuse(error: &Error, actions: bool) -> i32 {
    let mut log = Log::new(actions);
    match error {
        Error::Plan(problems) => {
            for problem in problems {
                log.error(&problem.to_string());
            }
        }
        other => log.error(&other.to_string()),
    }
    let code = error.exit_code();
    step::write_outputs(
        &mut log,
        &[
            ("exit_code", code.to_string()),
            ("exit_error", error.to_string()),
        ],
    );
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_is_the_default_subcommand() {
        let cli = Cli::try_parse_from(["recover", "--max-attempts", "4", "--", "echo", "-n", "hi"])
            .unwrap();
        assert!(cli.command.is_none());
        assert_eq!(
            cli.run.flags.get("max_attempts").map(String::as_str),
            Some("4")
        );
        assert_eq!(
            cli.run.argv,
            vec![OsString::from("echo"), "-n".into(), "hi".into()]
        );
        let cli = Cli::try_parse_from(["recover", "run", "--command", "true"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Run(ref a)) if a.flags["command"] == "true"));
    }

    #[test]
    fn state_subcommands_parse() {
        let cli = Cli::try_parse_from(["recover", "state", "show", "--state-dir", "/s", "--json"])
            .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::State(StateCommand::Show { json: true, state_dir: Some(ref d) })) if d == &PathBuf::from("/s")
        ));
        let cli = Cli::try_parse_from(["recover", "state", "reset", "db"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::State(StateCommand::Reset { name: Some(ref n), .. })) if n == "db"
        ));
    }
}
