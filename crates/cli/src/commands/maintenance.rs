//! `hoist gc`, `hoist fsck`, `hoist namespace ls`.

use hoist::meta::FsckOptions;
use serde_json::json;

use crate::args::{Format, FsckArgs, GcArgs};
use crate::context::Context;
use crate::exit::StoreDamaged;
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

/// `hoist fsck [--verify]`: lists damage and debris apart. Exit 0 when the
/// store is clean or holds only debris (which `hoist gc` removes), 4 when it
/// is damaged.
///
/// # Errors
/// Damage found ([`StoreDamaged`]), store errors.
pub fn fsck(context: &Context, args: &FsckArgs) -> anyhow::Result<()> {
    let store = context.open_store()?;
    let options = if args.verify {
        FsckOptions::verify_digests()
    } else {
        FsckOptions::new()
    };
    let report = store.fsck_with(&options)?;
    let counts = report.checked;
    match args.format {
        Format::Json => print_json(&json!({
            "clean": report.is_clean(),
            "damaged": report.is_damaged(),
            "damage": findings(&report.damage)?,
            "debris": findings(&report.debris)?,
            "checked": counts,
        }))?,
        Format::Table => {
            if report.is_damaged() {
                print_line("damage:")?;
                for finding in &report.damage {
                    print_line(&format!("  {finding}"))?;
                }
            }
            if !report.debris.is_empty() {
                print_line("debris (removed by `hoist gc`):")?;
                for finding in &report.debris {
                    print_line(&format!("  {finding}"))?;
                }
            }
            if report.is_clean() {
                print_line("clean")?;
            }
        }
    }
    if report.is_damaged() {
        return Err(StoreDamaged(format!(
            "the store at {} is damaged ({} findings listed above); `hoist gc` removes \
             debris, not damage: remove the images that use damaged content (`hoist rmi`), \
             run `hoist gc`, then pull or load them again",
            context.root.display(),
            report.damage.len()
        ))
        .into());
    }
    Ok(())
}

/// Each finding as its JSON object (`kind` and its fields) plus `message`,
/// the line the table shows.
fn findings<T: serde::Serialize + std::fmt::Display>(
    list: &[T],
) -> anyhow::Result<Vec<serde_json::Value>> {
    list.iter()
        .map(|finding| {
            let mut value = serde_json::to_value(finding)?;
            if let Some(object) = value.as_object_mut() {
                object.insert("message".into(), finding.to_string().into());
            }
            Ok(value)
        })
        .collect()
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
