//! What pull, push and copy share: running store calls off the async
//! reactor, the `distribution.source` label, storing fetched documents.

use hoist_content::{Digest, Labels, Manager};
use hoist_image::Document;
use hoist_meta::Content;
use hoist_remote::{Reference, Repository};

use crate::error::{Error, Result};

/// The label prefix naming where a blob came from:
/// `containerd.io/distribution.source.<host>=<repository>[,<repository>...]`.
pub(crate) const SOURCE_LABEL_PREFIX: &str = "containerd.io/distribution.source.";

/// Runs a store call on the blocking pool: content and metadata writes are
/// synchronous (`std::fs`, RocksDB, and waits for other processes).
pub(crate) async fn blocking<T, F>(work: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::internal(format!("a store task failed: {e}")))?
}

/// The source label of a blob fetched from `repository`.
pub(crate) fn source_label(repository: &Repository) -> (String, String) {
    (
        format!("{SOURCE_LABEL_PREFIX}{}", repository.registry()),
        repository.name().to_owned(),
    )
}

/// A repository on `registry` that the blob's source label names, for a
/// cross-repository mount.
pub(crate) fn mount_source(labels: &Labels, registry: &str) -> Option<Repository> {
    let value = labels.get(&format!("{SOURCE_LABEL_PREFIX}{registry}"))?;
    let name = value.split(',').next()?.trim();
    Repository::new(registry, name).ok()
}

/// Adds `repository` to the source label of blob `digest` (containerd keeps
/// a comma-separated list), unless it is there already.
pub(crate) fn add_source_label(
    content: &Content,
    digest: &Digest,
    repository: &Repository,
) -> Result<()> {
    let (key, name) = source_label(repository);
    let info = content.info(digest)?;
    let present = info
        .labels
        .get(&key)
        .is_some_and(|value| value.split(',').any(|v| v == name));
    if present {
        return Ok(());
    }
    content.update_labels(digest, |labels| {
        let value = match labels.get(&key) {
            Some(existing) if !existing.is_empty() => format!("{existing},{name}"),
            _ => name.clone(),
        };
        labels.insert(key.clone(), value);
    })?;
    Ok(())
}

/// Stores a fetched manifest or index (parsed, and so verified against its
/// descriptor) byte for byte, with its `gc.ref.content.*` labels and the
/// source label in the same commit.
pub(crate) fn store_document(
    content: &Content,
    document: &Document,
    repository: &Repository,
) -> Result<()> {
    let mut labels = document.gc_labels();
    let (key, value) = source_label(repository);
    labels.insert(key, value);
    let digest = document.digest().clone();
    // The labels travel with the commit: the document is never visible
    // without the edges that keep its children alive.
    hoist_content::write_blob(
        content,
        &format!("hoist-document-{}", digest.hex()),
        document.raw(),
        &digest,
        document.raw().len() as u64,
        labels,
    )?;
    // Already stored before (perhaps from elsewhere): record this source too.
    add_source_label(content, &digest, repository)
}

/// Parses `text` as a registry reference.
pub(crate) fn parse_reference(text: &str) -> Result<Reference> {
    Ok(text.parse::<Reference>()?)
}
