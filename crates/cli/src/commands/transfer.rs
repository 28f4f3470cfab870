//! `hoist pull`, `hoist push` and `hoist copy`: live progress on stderr,
//! the result on stdout.

use std::sync::Arc;

use anyhow::Context as _;
use hoist::{PullOptions, PushOptions, PushReport, ReferrersOptions};

use crate::args::{CopyArgs, PullArgs, PushArgs, ReferrersArgs};
use crate::context::Context;
use crate::diagnostic::{note_image, note_registry};
use crate::exit::UsageError;
use crate::inputs::{parse_reference, platform_choice};
use crate::output::{print_line, size};
use crate::progress::Progress;

/// The referrers a transfer takes along: the flags, else the config file's
/// `[transfer] referrers`; `--no-referrers` wins over both.
///
/// # Errors
/// A bad config file, or `--artifact-type` with referrers off (exit 2).
fn referrers_choice(
    context: &Context,
    args: &ReferrersArgs,
) -> anyhow::Result<Option<ReferrersOptions>> {
    // Read even when the flags decide: a broken config file is reported by
    // every transfer, not only by those that happen to need it.
    let config = context.config()?;
    if args.no_referrers {
        return Ok(None);
    }
    if args.referrers || config.transfer.referrers {
        return Ok(Some(ReferrersOptions::of_types(
            args.artifact_types.clone(),
        )));
    }
    if !args.artifact_types.is_empty() {
        return Err(UsageError(
            "--artifact-type needs --referrers (or `referrers = true` under [transfer] in the \
             config file)"
                .to_owned(),
        )
        .into());
    }
    Ok(None)
}

/// `hoist pull REF [--platform P]... [--all-platforms] [-q]`.
///
/// # Errors
/// Bad input (exit 2), a platform the image lacks (the hint lists those it
/// has), registry and store errors.
pub fn pull(context: &Context, args: &PullArgs) -> anyhow::Result<()> {
    let reference = parse_reference(&args.reference)?;
    let choice = platform_choice(&args.platforms)?;
    let referrers = referrers_choice(context, &args.referrers)?;
    note_registry(reference.registry());
    let progress = Arc::new(Progress::new(args.quiet));
    let platforms = choice.or_host("pulling", |text| progress.note(text));
    let store = context.open_remote_store()?;
    let runtime = context.runtime()?;
    let mut options = PullOptions::new(platforms);
    options.referrers = referrers;
    let name = reference.to_string();
    let report = runtime
        .block_on(store.pull(&name, &options, progress.clone()))
        .with_context(|| format!("pulling {name}"))?;
    progress.finish(report.bytes_downloaded);
    let platforms: Vec<String> = report.platforms.iter().map(ToString::to_string).collect();
    progress.note(&format!(
        "{}: {} ({}); {} blobs downloaded ({}), {} already here",
        report.name,
        report.target.digest,
        platforms.join(", "),
        report.blobs_downloaded,
        size(report.bytes_downloaded),
        report.blobs_present
    ));
    if options.referrers.is_some() {
        progress.note(&format!("{} referrers fetched", report.referrers.len()));
    }
    print_line(&report.name)
}

/// `hoist push REF [--platform P]... [--all-platforms] [-q] [--no-verify]`.
///
/// # Errors
/// Bad input (exit 2), an unknown image or platform, blobs missing locally,
/// registry errors, and (unless `--no-verify`) a tag that does not read
/// back as an index of the pushed platforms.
pub fn push(context: &Context, args: &PushArgs) -> anyhow::Result<()> {
    let reference = parse_reference(&args.reference)?;
    let choice = platform_choice(&args.platforms)?;
    let referrers = referrers_choice(context, &args.referrers)?;
    note_registry(reference.registry());
    let progress = Arc::new(Progress::new(args.quiet));
    let platforms = choice.or_host("pushing", |text| progress.note(text));
    let store = context.open_remote_store()?;
    let runtime = context.runtime()?;
    let name = reference.to_string();
    note_image(&name);
    // The facade reads the tag back once: it must resolve to the pushed
    // digest and, for an index, list exactly the pushed platforms.
    let mut options = PushOptions::new(platforms);
    options.no_read_back = args.no_verify;
    options.referrers = referrers;
    let with_referrers = options.referrers.is_some();
    let report = runtime
        .block_on(store.push(&name, None, &options, progress.clone()))
        .with_context(|| format!("pushing {name}"))?;
    finish_push(&progress, &report, with_referrers);
    print_line(&format!("{}@{}", report.reference, report.digest))
}

/// `hoist copy SRC DST [--platform P]... [--all-platforms]`.
///
/// # Errors
/// Bad input (exit 2), and the errors of pull and push.
pub fn copy(context: &Context, args: &CopyArgs) -> anyhow::Result<()> {
    let source = parse_reference(&args.source)?;
    let destination = parse_reference(&args.destination)?;
    let choice = platform_choice(&args.platforms)?;
    let referrers = referrers_choice(context, &args.referrers)?;
    note_registry(destination.registry());
    let progress = Arc::new(Progress::new(args.quiet));
    let platforms = choice.or_host("copying", |text| progress.note(text));
    let store = context.open_remote_store()?;
    let runtime = context.runtime()?;
    let mut options = PushOptions::new(platforms);
    options.referrers = referrers;
    let with_referrers = options.referrers.is_some();
    let report = runtime
        .block_on(store.copy(
            &source.to_string(),
            &destination.to_string(),
            &options,
            progress.clone(),
        ))
        .with_context(|| format!("copying {source} to {destination}"))?;
    finish_push(&progress, &report, with_referrers);
    print_line(&format!("{}@{}", report.reference, report.digest))
}

fn finish_push(progress: &Progress, report: &PushReport, with_referrers: bool) {
    progress.finish(report.bytes_uploaded);
    let pushed: Vec<String> = report.pushed.iter().map(ToString::to_string).collect();
    let mut line = format!(
        "{}: {} ({}); {} blobs uploaded ({}), {} mounted, {} already there",
        report.reference,
        report.digest,
        pushed.join(", "),
        report.blobs_uploaded,
        size(report.bytes_uploaded),
        report.blobs_mounted,
        report.blobs_present
    );
    if !report.left_out.is_empty() {
        let left: Vec<String> = report.left_out.iter().map(ToString::to_string).collect();
        line.push_str(&format!("; left out: {}", left.join(", ")));
    }
    if report.tag_unchanged {
        line.push_str("; the tag named it already, nothing written");
    }
    progress.note(&line);
    if with_referrers {
        let mut line = format!("{} referrers pushed", report.referrers.len());
        if !report.fallback_tags.is_empty() {
            line.push_str(&format!(
                "; the registry has no referrers API, so they are listed in the tags {}",
                report.fallback_tags.join(", ")
            ));
        }
        progress.note(&line);
    }
    // A warning, even with -q: signatures the user may count on stayed behind.
    if !report.referrers_left_behind.is_empty() {
        let left: Vec<String> = report
            .referrers_left_behind
            .iter()
            .map(|r| {
                format!(
                    "{} ({})",
                    r.descriptor.digest,
                    r.artifact_type().unwrap_or("no artifact type")
                )
            })
            .collect();
        eprintln!(
            "hoist: warning: {} referrers of the image's index were not pushed: the reduced \
             push wrote a new index ({}), which they do not describe, and hoist does not \
             re-sign: {}",
            left.len(),
            report.digest,
            left.join(", ")
        );
    }
}
