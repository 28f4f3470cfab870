//! `hoist content ls | get | rm`.

use std::io::Write as _;

use anyhow::Context as _;
use serde::Serialize;

use crate::args::{ContentGetArgs, ContentLsArgs, ContentRmArgs, Format};
use crate::context::Context;
use crate::inputs::parse_digest;
use crate::output::{Table, print_json, print_line, rfc3339, size};

/// One blob in `content ls --format json`.
#[derive(Debug, Serialize)]
pub struct BlobJson {
    /// Its digest.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was committed (RFC 3339).
    pub created: String,
    /// Its labels (GC references among them).
    pub labels: std::collections::BTreeMap<String, String>,
}

/// `hoist content ls`.
///
/// # Errors
/// Store errors.
pub fn ls(context: &Context, args: &ContentLsArgs) -> anyhow::Result<()> {
    let store = context.open_store()?;
    let blobs: Vec<BlobJson> = store
        .content_list()?
        .into_iter()
        .map(|info| BlobJson {
            digest: info.digest.to_string(),
            size: info.size,
            created: rfc3339(info.created_at),
            labels: info.labels.into_iter().collect(),
        })
        .collect();
    if args.quiet {
        for blob in &blobs {
            print_line(&blob.digest)?;
        }
        return Ok(());
    }
    match args.format {
        Format::Json => print_json(&blobs),
        Format::Table => {
            let mut table = Table::new(&["DIGEST", "SIZE", "LABELS"]);
            for blob in &blobs {
                let labels: Vec<String> = blob
                    .labels
                    .iter()
                    .map(|(key, value)| format!("{key}={value}"))
                    .collect();
                table.row(vec![blob.digest.clone(), size(blob.size), labels.join(",")]);
            }
            table.print()
        }
    }
}

/// `hoist content get DIGEST`: the blob's bytes on stdout.
///
/// # Errors
/// Bad input (exit 2), an unknown blob, I/O errors.
pub fn get(context: &Context, args: &ContentGetArgs) -> anyhow::Result<()> {
    let digest = parse_digest(&args.digest)?;
    let store = context.open_store()?;
    let mut reader = store.content_get(&digest)?;
    let mut stdout = std::io::stdout().lock();
    std::io::copy(&mut reader, &mut stdout)
        .and_then(|_| stdout.flush())
        .with_context(|| format!("writing blob {digest} to stdout"))?;
    Ok(())
}

/// `hoist content rm DIGEST...`: every digest is parsed before any record
/// is removed.
///
/// # Errors
/// Bad input (exit 2), store errors.
pub fn rm(context: &Context, args: &ContentRmArgs) -> anyhow::Result<()> {
    let digests = args
        .digests
        .iter()
        .map(|d| parse_digest(d))
        .collect::<Result<Vec<_>, _>>()?;
    let store = context.open_store()?;
    for digest in &digests {
        store.content_remove(digest)?;
        print_line(digest.as_ref())?;
    }
    Ok(())
}
