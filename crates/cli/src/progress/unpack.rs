//! Progress of `hoist unpack`, one line per layer: on a terminal a bar
//! that redraws (compressed bytes read of the layer's size, files
//! written); otherwise one plain line per finished layer; nothing with `-q`.

use std::io::IsTerminal as _;

use hoist::LayerReport;
use hoist::image::Descriptor;
use hoist::unpacking::{LayerStats, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::{short_digest, size};

/// Renders an unpack's layers.
pub struct UnpackProgress {
    bars: Option<(MultiProgress, std::cell::RefCell<Option<ProgressBar>>)>,
    plain: bool,
}

impl UnpackProgress {
    /// Bars on a terminal, plain lines otherwise, nothing when `quiet`.
    pub fn new(quiet: bool) -> UnpackProgress {
        if quiet {
            return UnpackProgress {
                bars: None,
                plain: false,
            };
        }
        if std::io::stderr().is_terminal() {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            return UnpackProgress {
                bars: Some((multi, std::cell::RefCell::new(None))),
                plain: false,
            };
        }
        UnpackProgress {
            bars: None,
            plain: true,
        }
    }
}

fn describe(index: usize, count: usize, digest: &str) -> String {
    format!(
        "layer {}/{count} {}",
        index + 1,
        short_digest(digest, false)
    )
}

impl Progress for UnpackProgress {
    fn layer_started(&self, index: usize, count: usize, layer: &Descriptor) {
        if let Some((multi, current)) = &self.bars {
            let bar = multi.add(ProgressBar::new(layer.size));
            bar.set_style(
                ProgressStyle::with_template("{prefix} {bytes}/{total_bytes} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix(describe(index, count, layer.digest.as_str()));
            *current.borrow_mut() = Some(bar);
        }
    }

    fn layer_progress(&self, _index: usize, read: u64, stats: &LayerStats) {
        if let Some((_, current)) = &self.bars
            && let Some(bar) = current.borrow().as_ref()
        {
            bar.set_position(read);
            bar.set_message(format!("{} files", stats.files));
        }
    }

    fn layer_done(&self, index: usize, report: &LayerReport) {
        let line = format!(
            "unpacked {} ({}): {} files, {} directories, {}, {} whiteouts",
            short_digest(report.digest.as_str(), false),
            size(report.size),
            report.stats.files,
            report.stats.directories,
            size(report.stats.bytes),
            report.stats.whiteouts
        );
        if let Some((_, current)) = &self.bars
            && let Some(bar) = current.borrow_mut().take()
        {
            bar.set_position(report.size);
            bar.finish_with_message(format!(
                "{} files, {}",
                report.stats.files,
                size(report.stats.bytes)
            ));
        } else if self.plain {
            eprintln!("layer {}: {line}", index + 1);
        }
    }
}
