//! `hoist unpack REF DIR`: an image of the store becomes a root filesystem,
//! or with `--bundle` an OCI runtime bundle.

use anyhow::Context as _;
use hoist::platform::Platform;
use hoist::{Platforms, UnpackOptions};

use crate::args::{Format, UnpackArgs};
use crate::context::Context;
use crate::inputs::{image_name, parse_platform};
use crate::output::{print_json, print_line, size};
use crate::progress::UnpackProgress;

/// `hoist unpack REF DIR [--platform P] [--bundle] [--force] [--rootless]
/// [--format json] [-q]`: progress per layer on stderr, the result on
/// stdout.
///
/// # Errors
/// Bad input (exit 2), an unknown image or platform, a non-empty DIR
/// without `--force`, a layer that does not match its config, I/O errors.
pub fn run(context: &Context, args: &UnpackArgs) -> anyhow::Result<()> {
    let name = image_name(&args.reference)?;
    let platforms = match &args.platform {
        Some(text) => Platforms::Only(vec![parse_platform(text)?]),
        None => Platforms::Host,
    };
    let mut options = UnpackOptions::new().bundle(args.bundle).replace(args.force);
    if args.rootless {
        options = options.rootless(true);
    }
    let store = context.open_store()?;
    if args.platform.is_none() && !args.quiet {
        eprintln!(
            "unpacking for this machine's platform {} (use --platform P for another)",
            Platform::host()
        );
    }
    let progress = UnpackProgress::new(args.quiet);
    let unpacked = store
        .unpack_with_progress(&name, &platforms, &args.dir, &options, &progress)
        .with_context(|| format!("unpacking {name} into {}", args.dir.display()))?;
    if args.format == Format::Json {
        return print_json(&unpacked);
    }
    let totals = &unpacked.totals;
    let mut line = format!(
        "{}: {} layers, {} files, {} directories, {} into {}{}",
        name,
        unpacked.layers.len(),
        totals.files,
        totals.directories,
        size(totals.bytes),
        unpacked.dest.display(),
        if unpacked.bundle {
            " (runtime bundle)"
        } else {
            ""
        },
    );
    if totals.skipped_devices > 0 {
        line.push_str(&format!(
            "; {} device nodes skipped (rootless)",
            totals.skipped_devices
        ));
    }
    print_line(&line)
}
