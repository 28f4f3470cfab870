//! Progress on a terminal: one redrawn line per blob (indicatif), then the
//! total.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{BlobUpdate, describe};
use crate::output::short_digest;

/// The live lines of one command.
pub struct LiveLines {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    style: ProgressStyle,
    /// Set once the lines are final: later text is printed below them.
    finished: AtomicBool,
}

impl LiveLines {
    pub fn new() -> LiveLines {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let style = ProgressStyle::with_template("{prefix:.bold} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        LiveLines {
            multi,
            bars: Mutex::new(HashMap::new()),
            style,
            finished: AtomicBool::new(false),
        }
    }

    pub fn update(&self, update: &BlobUpdate) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        let bar = bars.entry(update.id.clone()).or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::new_spinner());
            bar.set_style(self.style.clone());
            bar.set_prefix(label(&update.id));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        bar.set_message(describe(update));
        if update.state.is_final() {
            bar.disable_steady_tick();
            bar.tick();
        }
    }

    pub fn println(&self, text: &str) {
        if self.finished.load(Ordering::SeqCst) || self.multi.println(text).is_err() {
            eprintln!("{text}");
        }
    }

    /// Leaves every line as it last read (finished bars are not redrawn or
    /// cleared), then prints the total below them.
    pub fn finish(&self, total: &str) {
        if let Ok(bars) = self.bars.lock() {
            for bar in bars.values() {
                bar.disable_steady_tick();
                bar.finish();
            }
        }
        self.finished.store(true, Ordering::SeqCst);
        eprintln!("{total}");
    }
}

fn label(id: &str) -> String {
    if id.starts_with("sha256:") || id.starts_with("sha512:") {
        short_digest(id, false)
    } else {
        id.to_owned()
    }
}
