//! The `recover` binary: parse the command line, call the library, exit with its code.

use std::fmt::Write as _;
use std::io;
use std::process::ExitCode;

use clap::Parser;
use recover::classify::command::{run_classify, run_rules};
use recover::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Classify(args) => run_classify(args, io::stdin().lock(), io::stdout().lock()),
        Command::Rules(args) => run_rules(args, io::stdout().lock()),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(error) => {
            let mut message = format!("error: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                write!(message, ": {cause}").expect("writing to a String cannot fail");
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}
