//! Bulk loading for benchmarks only (feature `bulk-load`): records many blobs
//! and images in large batches, skipping the checks and the per-operation
//! fsyncs of the normal paths.
//!
//! [`record_blobs`] records blobs that are already files of the shared local
//! store in a namespace *without reading them*: it bypasses the rule that a
//! namespace must write a blob's bytes to see it. Never use it outside a
//! benchmark or a test fixture.

use std::time::SystemTime;

use hoist_content::{Digest, Labels};

use crate::clock;
use crate::error::{Error, Result};
use crate::images::Image;
use crate::keys;
use crate::kv::Batch;
use crate::records::{self, ContentRecord, ImageRecord, TargetRecord};
use crate::store::{self, MetaStore};

/// How many records go into one write batch.
const BATCH: usize = 10_000;

/// Records each `(digest, size, labels)` in namespace `ns`. The blob files
/// must exist (only their presence is checked, not their bytes).
///
/// # Errors
/// Not found for a blob that has no file; database errors.
pub fn record_blobs(store: &MetaStore, ns: &str, blobs: &[(Digest, u64, Labels)]) -> Result<()> {
    keys::check_identifier("namespace", ns)?;
    let now = clock::to_nanos(SystemTime::now());
    for chunk in blobs.chunks(BATCH) {
        let session = store.session()?;
        let _mutation = session.mutation();
        let mut batch = Batch::default();
        store::ensure_namespace(&session, ns, &mut batch)?;
        for (digest, size, labels) in chunk {
            if !store.local_store().blob_path(digest).exists() {
                return Err(Error::not_found(format!("blob {digest} has no file")));
            }
            let record = ContentRecord {
                size: *size,
                created: now,
                updated: now,
                labels: labels.clone(),
            };
            batch.put(keys::blob(ns, digest.as_str()), records::encode(&record)?);
        }
        session.kv().write(batch)?;
    }
    Ok(())
}

/// Creates `images` in namespace `ns`, replacing any of the same name.
///
/// # Errors
/// Database errors.
pub fn create_images(store: &MetaStore, ns: &str, images: &[Image]) -> Result<()> {
    keys::check_identifier("namespace", ns)?;
    let now = clock::to_nanos(SystemTime::now());
    for chunk in images.chunks(BATCH) {
        let session = store.session()?;
        let _mutation = session.mutation();
        let mut batch = Batch::default();
        store::ensure_namespace(&session, ns, &mut batch)?;
        for image in chunk {
            let record = ImageRecord {
                target: TargetRecord::from(&image.target),
                labels: image.labels.clone(),
                created: now,
                updated: now,
            };
            batch.put(keys::image(ns, &image.name), records::encode(&record)?);
        }
        session.kv().write(batch)?;
    }
    Ok(())
}

/// Compacts the database, as RocksDB's background compaction eventually
/// would after a bulk load, so measurements see a settled database.
///
/// # Errors
/// Database errors.
pub fn compact(store: &MetaStore) -> Result<()> {
    let session = store.session()?;
    session.kv().compact();
    Ok(())
}
