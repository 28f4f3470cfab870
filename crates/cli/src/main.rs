//! The `hoist` command-line tool.

use clap::Parser;

/// A daemonless local container-image store.
#[derive(Debug, Parser)]
#[command(name = "hoist", version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
