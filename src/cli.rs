//! The command line: clap derive for the subcommands the binary offers.

use clap::{Parser, Subcommand};

use crate::classify::command::{ClassifyArgs, RulesArgs};

/// Make a flaky CI step recover on its own.
#[derive(Debug, Parser)]
#[command(name = "recover", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explain how a failed command's log is classified: category, retryable, rule, line, wait.
    Classify(ClassifyArgs),
    /// Check a rules file or list the effective rules.
    Rules(RulesArgs),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
