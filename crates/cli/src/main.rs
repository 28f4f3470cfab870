//! The `hoist` command: nerdctl's image commands over a daemonless local
//! store, with progress on stderr, results (tables or JSON) on stdout, and
//! one-line errors with documented exit codes.
//!
//! It is a thin layer: every operation is a call into the `hoist` library
//! (the facade crate); this binary parses arguments, renders output and
//! progress, and maps failures to exit codes. See `docs/architecture.md`.

mod args;
mod commands;
mod config;
mod context;
mod diagnostic;
mod exit;
mod inputs;
mod output;
mod progress;
mod root;
mod terminal;

use std::process::ExitCode;

use clap::Parser as _;
use clap::error::ErrorKind as ClapErrorKind;

use crate::args::Cli;
use crate::context::Context;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_exit(&error),
    };
    let debug = cli.global.debug;
    let result =
        Context::from_args(&cli.global).and_then(|context| commands::run(&context, cli.command));
    match result {
        Ok(()) => exit::exit_code(exit::OK),
        // A reader that went away (`hoist images | head`) is not a failure.
        Err(error) if is_broken_pipe(&error) => exit::exit_code(exit::OK),
        Err(error) => {
            if debug {
                eprintln!("{}", diagnostic::render_debug(&error));
            }
            eprintln!("{}", diagnostic::render(&error));
            exit::exit_code(exit::code_for(&error))
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Help and version go to stdout with code 0; real usage errors are printed
/// as `hoist: error: …` with clap's usage line, code 2.
fn usage_exit(error: &clap::Error) -> ExitCode {
    match error.kind() {
        ClapErrorKind::DisplayHelp
        | ClapErrorKind::DisplayVersion
        | ClapErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            if error.kind() == ClapErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                exit::exit_code(exit::USAGE)
            } else {
                exit::exit_code(exit::OK)
            }
        }
        _ => {
            let rendered = error.render().to_string();
            let mut lines = rendered.lines();
            let first = lines.next().unwrap_or("invalid usage");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("hoist: error: {first}");
            for line in lines.filter(|line| !line.trim().is_empty()) {
                eprintln!("{line}");
            }
            exit::exit_code(exit::USAGE)
        }
    }
}
