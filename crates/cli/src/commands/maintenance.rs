//! `hoist gc`, `hoist fsck`, `hoist namespace ls`.

use anyhow::bail;
use serde_json::json;

use crate::args::{Format, FsckArgs, GcArgs};
use crate::context::Context;
use crate::output::{print_json, print_line, size};

/// `hoist gc [--dry-run]`: lists what it removed (or would).
///
/// # Errors
/// Store errors.
pub fn gc(context: &Context, args: &GcArgs) -> anyhow::Result<()> {
    let store = context.open_store()?;
    let report = store.gc(args.dry_run)?;
    let blobs: Vec<String> = report.blobs.iter().map(ToString::to_string).collect();
    let names = |list: &[hoist::meta::ObjectRef]| -> Vec<String> {
        list.iter()
            .map(|o| format!("{}/{}", o.namespace, o.name))
            .collect()
    };
    match args.format {
        Format::Json => print_json(&json!({
            "dry_run": report.dry_run,
            "blobs": blobs,
            "bytes_freed": report.bytes_freed,
            "blobs_kept": report.blobs_kept,
            "content_records": names(&report.content),
            "images": names(&report.images),
            "leases": names(&report.leases),
            "ingests": names(&report.ingests),
        })),
        Format::Table => {
            let verb = if report.dry_run {
                "would remove"
            } else {
                "removed"
            };
            for blob in &blobs {
                print_line(&format!("{verb} {blob}"))?;
            }
            for lease in names(&report.leases) {
                print_line(&format!("{verb} expired lease {lease}"))?;
            }
            for image in names(&report.images) {
                print_line(&format!("{verb} expired image {image}"))?;
            }
            eprintln!(
                "{verb} {} blobs ({}), kept {}",
                blobs.len(),
                size(report.bytes_freed),
                report.blobs_kept
            );
            Ok(())
        }
    }
}

/// `hoist fsck`: exit 0 when clean, 1 with what is wrong otherwise.
///
/// # Errors
/// Damage found, store errors.
pub fn fsck(context: &Context, args: &FsckArgs) -> anyhow::Result<()> {
    let store = context.open_store()?;
    let report = store.fsck()?;
    let refs = |list: &[hoist::meta::ObjectRef]| -> Vec<String> {
        list.iter()
            .map(|o| format!("{}/{}", o.namespace, o.name))
            .collect()
    };
    let problems = json!({
        "missing_targets": report.missing_targets.iter()
            .map(|m| json!({"image": format!("{}/{}", m.image.namespace, m.image.name), "target": m.target.to_string()}))
            .collect::<Vec<_>>(),
        "records_without_blob": refs(&report.records_without_blob),
        "size_mismatches": report.size_mismatches.iter()
            .map(|m| json!({"record": format!("{}/{}", m.record.namespace, m.record.name), "recorded": m.recorded, "on_disk": m.on_disk}))
            .collect::<Vec<_>>(),
        "unrecorded_blobs": report.unrecorded_blobs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "expired_ingests": refs(&report.expired_ingests),
        "unowned_local_ingests": report.unowned_local_ingests,
        "orphan_lease_resources": refs(&report.orphan_lease_resources),
    });
    let clean = report.is_clean();
    match args.format {
        Format::Json => print_json(&json!({ "clean": clean, "problems": problems }))?,
        Format::Table => {
            if let Some(map) = problems.as_object() {
                for (kind, list) in map {
                    for item in list.as_array().into_iter().flatten() {
                        print_line(&format!("{kind}: {item}"))?;
                    }
                }
            }
            if clean {
                print_line("clean")?;
            }
        }
    }
    if !clean {
        bail!(
            "the store at {} has problems (listed above)",
            context.root.display()
        );
    }
    Ok(())
}

/// `hoist namespace ls`.
///
/// # Errors
/// Store errors.
pub fn namespaces(context: &Context) -> anyhow::Result<()> {
    let store = context.open_store()?;
    for name in store.namespaces()? {
        print_line(&name)?;
    }
    Ok(())
}
