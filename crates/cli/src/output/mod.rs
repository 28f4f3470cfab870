//! Results on stdout: aligned tables for people, JSON for scripts, and the
//! small formatters they share (sizes, ages, short IDs). Progress and
//! errors never come here; they go to stderr.

mod human;
mod table;
mod timestamp;

pub use human::{age, short_digest, size};
pub use table::Table;
pub use timestamp::rfc3339;

use std::io::Write as _;

use anyhow::Context as _;

/// Prints `value` as pretty JSON followed by a newline.
///
/// # Errors
/// When stdout is closed or the value cannot be serialized.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)
        .map_err(std::io::Error::from)
        .context("writing JSON to stdout")?;
    writeln!(stdout).context("writing to stdout")?;
    Ok(())
}

/// Prints one line to stdout.
///
/// # Errors
/// When stdout is closed.
pub fn print_line(line: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").context("writing to stdout")
}
