//! `hoist completion SHELL`: a completion script on stdout.

use clap::CommandFactory as _;

use crate::args::{Cli, CompletionArgs};

/// Prints the script for the shell.
///
/// # Errors
/// Never in practice (stdout errors are ignored by clap_complete).
pub fn run(args: &CompletionArgs) -> anyhow::Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "hoist", &mut std::io::stdout());
    Ok(())
}
