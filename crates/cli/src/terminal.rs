//! Reading a secret from the terminal without echoing it.

use std::io::{BufRead as _, Write as _};

use anyhow::Context as _;
use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};

/// Turns echo off, prints `label` on stderr and reads one line from stdin;
/// echo is restored before returning, whatever happens.
///
/// Echo goes off before the label is shown: whoever answers the prompt as
/// soon as it appears (a fast typist, a paste, a script) would otherwise
/// have the first keys echoed.
///
/// # Errors
/// When stdin cannot be read.
pub fn read_hidden_line(label: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let mut stderr = std::io::stderr();
    let saved = tcgetattr(&stdin).ok();
    if let Some(saved) = &saved {
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        let _ = tcsetattr(&stdin, OptionalActions::Now, &quiet);
    }
    let shown = write!(stderr, "{label}").and_then(|()| stderr.flush());
    let mut line = String::new();
    let read = shown.and_then(|()| stdin.lock().read_line(&mut line));
    if let Some(saved) = &saved {
        let _ = tcsetattr(&stdin, OptionalActions::Now, saved);
    }
    let _ = writeln!(stderr);
    read.context("reading from the terminal")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
