//! Live progress of pulls, pushes, copies and loads, on stderr only: a line
//! per blob that redraws on a terminal (indicatif), plain lines on state
//! changes when stderr is not a terminal (CI logs, pipes), nothing with
//! `-q`. Results go to stdout and never mix with it.

mod facade;
mod plain;
mod terminal;
mod unpack;

pub use unpack::UnpackProgress;

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::output::size;

/// Where a blob is in its transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobState {
    /// Its manifest is being resolved or read.
    Resolving,
    /// Another writer (this process or another) holds it; waiting.
    Waiting,
    /// Bytes are arriving.
    Downloading,
    /// Bytes are leaving.
    Uploading,
    /// Already there; nothing to move.
    Exists,
    /// The registry mounted it from another repository.
    Mounted,
    /// Moved and verified.
    Done,
}

impl BlobState {
    /// The word shown for the state.
    pub fn word(self) -> &'static str {
        match self {
            BlobState::Resolving => "resolving",
            BlobState::Waiting => "waiting",
            BlobState::Downloading => "downloading",
            BlobState::Uploading => "uploading",
            BlobState::Exists => "exists",
            BlobState::Mounted => "mounted",
            BlobState::Done => "done",
        }
    }

    /// Whether the blob is finished in this state.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            BlobState::Exists | BlobState::Mounted | BlobState::Done
        )
    }
}

/// One blob's progress report.
#[derive(Debug, Clone)]
pub struct BlobUpdate {
    /// What identifies the blob (its digest, or a reference while resolving).
    pub id: String,
    /// Its state.
    pub state: BlobState,
    /// Bytes moved so far (including any resumed offset).
    pub done: u64,
    /// Its size, when known.
    pub total: Option<u64>,
}

enum Mode {
    Quiet,
    Plain(plain::PlainLines),
    Terminal(terminal::LiveLines),
}

/// The progress renderer of one command.
pub struct Progress {
    mode: Mode,
    started: Instant,
    /// Each blob's size, once an event told it (later events may not).
    sizes: Mutex<HashMap<String, u64>>,
}

impl Progress {
    /// Live lines when stderr is a terminal, plain lines otherwise, nothing
    /// when `quiet`.
    pub fn new(quiet: bool) -> Progress {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Terminal(terminal::LiveLines::new())
        } else {
            Mode::Plain(plain::PlainLines::new())
        };
        Progress {
            mode,
            started: Instant::now(),
            sizes: Mutex::new(HashMap::new()),
        }
    }

    /// Reports a blob's state and bytes.
    pub fn blob_update(&self, update: &BlobUpdate) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Plain(lines) => lines.update(update),
            Mode::Terminal(lines) => lines.update(update),
        }
    }

    /// A note for the user (`pulling for the host's platform linux/amd64`),
    /// on stderr, above any live lines.
    pub fn note(&self, text: &str) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Plain(_) => eprintln!("{text}"),
            Mode::Terminal(lines) => lines.println(text),
        }
    }

    /// Ends the display with `total_bytes` and the rate.
    pub fn finish(&self, total_bytes: u64) {
        let elapsed = self.started.elapsed();
        let line = total_line(total_bytes, elapsed);
        match &self.mode {
            Mode::Quiet => {}
            Mode::Plain(_) => eprintln!("{line}"),
            Mode::Terminal(lines) => lines.finish(&line),
        }
    }
}

/// `total: 12.3 MB in 1.4s (8.8 MB/s)`; under a second in milliseconds
/// (`in 45ms`), which a `0.0s` would hide.
pub fn total_line(total_bytes: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64().max(0.001);
    let rate = (total_bytes as f64 / seconds) as u64;
    let took = if elapsed < Duration::from_secs(1) {
        format!("{}ms", elapsed.as_millis())
    } else {
        format!("{:.1}s", elapsed.as_secs_f64())
    };
    format!("total: {} in {took} ({}/s)", size(total_bytes), size(rate))
}

/// `downloading 1.2 MB / 3.4 MB`, or the state alone when no bytes apply.
pub fn describe(update: &BlobUpdate) -> String {
    match (update.state, update.total) {
        (BlobState::Downloading | BlobState::Uploading, Some(total)) => {
            format!(
                "{} {} / {}",
                update.state.word(),
                size(update.done),
                size(total)
            )
        }
        (BlobState::Downloading | BlobState::Uploading, None) => {
            format!("{} {}", update.state.word(), size(update.done))
        }
        (BlobState::Done | BlobState::Exists | BlobState::Mounted, Some(total)) => {
            format!("{} {}", update.state.word(), size(total))
        }
        (state, _) => state.word().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_name_state_and_bytes() {
        let update = BlobUpdate {
            id: "sha256:x".into(),
            state: BlobState::Downloading,
            done: 1500,
            total: Some(3000),
        };
        assert_eq!(describe(&update), "downloading 1.5 kB / 3.0 kB");
        let done = BlobUpdate {
            state: BlobState::Done,
            ..update
        };
        assert_eq!(describe(&done), "done 3.0 kB");
        assert_eq!(
            total_line(10_000_000, Duration::from_secs(2)),
            "total: 10.0 MB in 2.0s (5.0 MB/s)"
        );
        assert_eq!(
            total_line(3_200_000, Duration::from_millis(45)),
            "total: 3.2 MB in 45ms (71.1 MB/s)"
        );
    }
}
