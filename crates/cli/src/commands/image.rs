//! `hoist image inspect | platforms | convert | prune`.

use std::io::{IsTerminal as _, Read as _};

use anyhow::{Context as _, bail};
use hoist::Store;
use hoist::image::{EntryKind, LocalState, PlatformReport, ReportEntry};
use hoist::platform::Matcher as _;
use serde::Serialize;
use serde_json::{Value, json};

use crate::args::{Format, ImageConvertArgs, ImageInspectArgs, ImagePlatformsArgs, ImagePruneArgs};
use crate::context::Context;
use crate::diagnostic::note_image;
use crate::exit::UsageError;
use crate::inputs::{image_name, parse_platform, platform_choice};
use crate::output::{Table, print_json, print_line, rfc3339, size};

/// One manifest of an image, as `image platforms --format json` prints it.
#[derive(Debug, Serialize)]
pub struct ManifestJson {
    /// `os/arch[/variant]`, `attestation` or `unknown`.
    pub platform: String,
    /// `platform`, `attestation` or `unknown`.
    pub kind: &'static str,
    /// The manifest's digest.
    pub digest: String,
    /// The manifest's media type.
    pub media_type: String,
    /// The manifest's size.
    pub size: u64,
    /// `complete`, `missing` or `absent`.
    pub state: &'static str,
    /// The blobs it lists that are not stored here.
    pub missing: Vec<String>,
    /// How many attestation manifests about it (buildx's provenance and
    /// SBOMs, listed in the index) are complete here.
    pub attestations: usize,
    /// How many referrers of it (signatures, SBOMs: manifests whose
    /// `subject` is this one) are stored here.
    pub referrers: usize,
}

/// `hoist image platforms REF`.
///
/// # Errors
/// Bad input (exit 2), an unknown image, store errors.
pub fn platforms(context: &Context, args: &ImagePlatformsArgs) -> anyhow::Result<()> {
    if args.remote {
        return remote_platforms(context, args);
    }
    let name = image_name(&args.reference)?;
    let store = context.open_store()?;
    let report = store.platform_report(&name)?;
    let mut rows: Vec<ManifestJson> = report.entries.iter().map(manifest_json).collect();
    for (row, entry) in rows.iter_mut().zip(&report.entries) {
        let digest = &entry.entry.descriptor.digest;
        row.attestations = report
            .entries
            .iter()
            .filter(|other| {
                matches!(&other.entry.kind, EntryKind::Attestation { subject: Some(s) } if s == digest)
                    && other.state == LocalState::Complete
            })
            .count();
        row.referrers = store.referrers(digest, None)?.len();
    }
    match args.format {
        Format::Json => print_json(&rows),
        Format::Table => {
            let mut table = Table::new(&[
                "PLATFORM",
                "DIGEST",
                "SIZE",
                "STATE",
                "ATTESTATIONS",
                "REFERRERS",
            ]);
            for row in &rows {
                let state = match row.missing.len() {
                    0 => row.state.to_owned(),
                    1 => "missing 1 blob".to_owned(),
                    n => format!("missing {n} blobs"),
                };
                table.row(vec![
                    row.platform.clone(),
                    row.digest.clone(),
                    size(row.size),
                    state,
                    row.attestations.to_string(),
                    row.referrers.to_string(),
                ]);
            }
            table.print()
        }
    }
}

/// `hoist image platforms --remote`: what the registry's index lists.
fn remote_platforms(context: &Context, args: &ImagePlatformsArgs) -> anyhow::Result<()> {
    let reference = crate::inputs::parse_reference(&args.reference)?;
    crate::diagnostic::note_registry(reference.registry());
    let store = context.open_remote_store()?;
    let report = context
        .runtime()?
        .block_on(store.remote_platforms(&reference.to_string()))?;
    let rows: Vec<Value> = if report.is_index {
        report
            .entries
            .iter()
            .map(|entry| {
                let platform = match (&entry.platform, entry.attestation) {
                    (_, true) => "attestation".to_owned(),
                    (Some(platform), false) => platform.to_string(),
                    (None, false) => "unknown".to_owned(),
                };
                json!({
                    "platform": platform,
                    "digest": entry.descriptor.digest.to_string(),
                    "media_type": entry.descriptor.media_type,
                    "size": entry.descriptor.size,
                })
            })
            .collect()
    } else {
        vec![json!({
            "platform": "(single manifest)",
            "digest": report.target.digest.to_string(),
            "media_type": report.target.media_type,
            "size": report.target.size,
        })]
    };
    match args.format {
        Format::Json => print_json(&json!({
            "reference": report.reference,
            "digest": report.target.digest.to_string(),
            "media_type": report.target.media_type,
            "is_index": report.is_index,
            "manifests": rows,
        })),
        Format::Table => {
            if report.is_index && rows.is_empty() {
                eprintln!("{}: the index lists no manifests", report.reference);
            }
            let mut table = Table::new(&["PLATFORM", "DIGEST", "SIZE"]);
            for row in &rows {
                table.row(vec![
                    row["platform"].as_str().unwrap_or_default().to_owned(),
                    row["digest"].as_str().unwrap_or_default().to_owned(),
                    size(row["size"].as_u64().unwrap_or(0)),
                ]);
            }
            table.print()
        }
    }
}

fn manifest_json(row: &ReportEntry) -> ManifestJson {
    let (platform, kind) = match &row.entry.kind {
        EntryKind::Platform(platform) => (platform.to_string(), "platform"),
        EntryKind::Attestation { .. } => ("attestation".to_owned(), "attestation"),
        _ => ("unknown".to_owned(), "unknown"),
    };
    let (state, missing) = match &row.state {
        LocalState::Complete => ("complete", Vec::new()),
        LocalState::Missing(blobs) => (
            "missing",
            blobs.iter().map(|d| d.digest.to_string()).collect(),
        ),
        _ => ("absent", Vec::new()),
    };
    ManifestJson {
        platform,
        kind,
        digest: row.entry.descriptor.digest.to_string(),
        media_type: row.entry.descriptor.media_type.clone(),
        size: row.entry.descriptor.size,
        state,
        missing,
        attestations: 0,
        referrers: 0,
    }
}

/// `hoist image inspect REF [--platform P]`.
///
/// # Errors
/// Bad input (exit 2), an unknown image or platform, store errors.
pub fn inspect(context: &Context, args: &ImageInspectArgs) -> anyhow::Result<()> {
    let name = image_name(&args.reference)?;
    let wanted = args.platform.as_deref().map(parse_platform).transpose()?;
    let store = context.open_store()?;
    let inspection = store.inspect(&name)?;
    let record = &inspection.record;
    let manifests: Vec<ManifestJson> = inspection
        .report
        .entries
        .iter()
        .map(manifest_json)
        .collect();
    let mut out = json!({
        "name": record.name,
        "target": record.target,
        "created": rfc3339(record.created_at),
        "updated": rfc3339(record.updated_at),
        "labels": record.labels,
        "manifests": manifests,
    });
    match wanted {
        None => {
            out["document"] = parse_json(inspection.document.raw());
        }
        Some(platform) => {
            let entry = choose(&inspection.report, &platform)?;
            let manifest = read_json(&store, &entry.entry.descriptor.digest)?;
            out["platform"] = json!(platform.to_string());
            out["manifest_descriptor"] = json!(entry.entry.descriptor);
            let config = manifest
                .get("config")
                .and_then(|c| c.get("digest"))
                .and_then(Value::as_str)
                .and_then(|d| d.parse::<hoist::content::Digest>().ok())
                .and_then(|d| read_json(&store, &d).ok());
            out["manifest"] = manifest;
            if let Some(config) = config {
                out["config"] = config;
            }
        }
    }
    print_json(&out)
}

/// The report row for `platform`: an exact match first, else the best the
/// platform runs (containerd's rules).
fn choose<'a>(
    report: &'a PlatformReport,
    platform: &hoist::platform::Platform,
) -> anyhow::Result<&'a ReportEntry> {
    let strict = hoist::platform::only_strict(platform.clone());
    let rows: Vec<&ReportEntry> = report.platforms().collect();
    if let Some(row) = rows
        .iter()
        .find(|row| row.entry.platform().is_some_and(|p| strict.matches(p)))
    {
        return Ok(row);
    }
    let loose = hoist::platform::only(platform.clone());
    let candidates: Vec<&hoist::platform::Platform> =
        rows.iter().filter_map(|row| row.entry.platform()).collect();
    if let Some(best) = hoist::platform::best(&loose, &candidates, |p| Some((*p).clone()))
        && let Some(row) = rows.iter().find(|row| row.entry.platform() == Some(*best))
    {
        return Ok(row);
    }
    let available: Vec<String> = candidates.iter().map(ToString::to_string).collect();
    bail!(
        "no manifest for {platform} in {}; available platforms: {}",
        report.image.name,
        if available.is_empty() {
            "none".to_owned()
        } else {
            available.join(", ")
        }
    )
}

fn read_json(store: &Store, digest: &hoist::content::Digest) -> anyhow::Result<Value> {
    let mut reader = store.content_get(digest)?;
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading blob {digest}"))?;
    Ok(parse_json(&bytes))
}

/// The document as JSON, or its text when it is not JSON.
fn parse_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// `hoist image convert SRC DST (--platform P... | --all-platforms)`.
///
/// # Errors
/// Bad input (exit 2), an unknown image or platform, an incomplete platform.
pub fn convert(context: &Context, args: &ImageConvertArgs) -> anyhow::Result<()> {
    let source = image_name(&args.source)?;
    let destination = image_name(&args.destination)?;
    let platforms =
        platform_choice(&args.platforms)?.or_host("converting", |text| eprintln!("{text}"));
    note_image(&source);
    let store = context.open_store()?;
    let reduced = store
        .reduce(&source, &platforms, &destination, false)
        .with_context(|| format!("reducing {source} to {platforms}"))?;
    let kept: Vec<String> = reduced
        .kept
        .iter()
        .filter_map(|entry| entry.platform().map(ToString::to_string))
        .collect();
    eprintln!(
        "{destination}: {} ({}){}",
        reduced.target.digest,
        kept.join(", "),
        if reduced.attestations.is_empty() {
            String::new()
        } else {
            format!(", {} attestations", reduced.attestations.len())
        }
    );
    print_line(reduced.target.digest.as_ref())
}

/// `hoist image prune [-a] [-f]`: removes names that hold nothing usable
/// (no tag, or a top document that is not stored), or every name with
/// `-a`; then collects garbage.
///
/// # Errors
/// Without `-f` on a non-terminal (nothing to confirm with): exit 2.
pub fn prune(context: &Context, args: &ImagePruneArgs) -> anyhow::Result<()> {
    if !args.force {
        let what = if args.all {
            "every image"
        } else {
            "dangling images"
        };
        if !std::io::stdin().is_terminal() {
            return Err(
                UsageError(format!("image prune removes {what}: pass -f to confirm")).into(),
            );
        }
        eprint!("This removes {what} and the content only they hold. Continue? [y/N] ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            bail!("cancelled");
        }
    }
    let store = context.open_store()?;
    let mut removed = Vec::new();
    for row in store.list_images(None)? {
        let dangling = row.record.name.contains('@') || !row.platforms.readable;
        if args.all || dangling {
            match store.remove(&row.record.name, Some(&row.record.target.digest)) {
                Ok(()) => removed.push(row.record.name.clone()),
                // Moved or removed meanwhile by another process: not ours to remove.
                Err(e) if e.is_not_found() || e.is_failed_precondition() => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    for name in &removed {
        print_line(&format!("Untagged: {name}"))?;
    }
    let report = store.gc(false)?;
    print_line(&format!(
        "Total reclaimed space: {} ({} blobs)",
        size(report.bytes_freed),
        report.blobs.len()
    ))
}
