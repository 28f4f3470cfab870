//! The one walker of indexes nested in an index on a registry: pull uses it
//! to fetch and store them, `verify --remote`, `remote_platforms` and the
//! push read-back use it to list what a remote index holds. Depth first, in
//! document order, at most [`hoist_oci::MAX_NESTING`] deep, every nested
//! index checked against its descriptor (size, digest, media type) before
//! anything reads it.

use hoist_image::media_type::{self, MediaKind};
use hoist_image::{Descriptor, Document, Index};
use hoist_remote::{Client, Repository};

use crate::error::{Error, ErrorKind, Result};
use crate::progress::{BlobEvent, Progress};

/// What an index on a registry holds, nested indexes followed.
#[derive(Debug, Default)]
pub(crate) struct RemoteTree {
    /// Every entry that is not itself an index (platform manifests,
    /// attestations, unknown), depth first in document order.
    pub entries: Vec<Descriptor>,
    /// The nested indexes, verified, each before the indexes it nests.
    pub nested: Vec<Document>,
}

/// Walks `index` (fetched from `repository`): fetches every nested index
/// and lists every other entry. `progress` sees each nested index resolving.
///
/// # Errors
/// Registry errors; the parse and verification errors of a nested index;
/// unsupported for an index nested more than [`hoist_oci::MAX_NESTING`] deep.
pub(crate) async fn walk(
    client: &Client,
    repository: &Repository,
    index: &Index,
    progress: &dyn Progress,
) -> Result<RemoteTree> {
    let mut tree = RemoteTree::default();
    // A stack of the entries still to visit, last first, each with its depth.
    let mut pending: Vec<(Descriptor, usize)> = index
        .manifests()
        .iter()
        .rev()
        .map(|d| (d.clone(), 1))
        .collect();
    while let Some((descriptor, depth)) = pending.pop() {
        if media_type::classify(&descriptor.media_type) != MediaKind::Index {
            tree.entries.push(descriptor);
            continue;
        }
        if depth >= hoist_oci::MAX_NESTING {
            return Err(too_deep(repository, &descriptor.digest));
        }
        progress.blob(
            &descriptor.digest,
            &descriptor.media_type,
            BlobEvent::Resolving,
        );
        let fetched = client
            .fetch_manifest(repository, &descriptor.digest)
            .await?;
        let document = Document::parse(fetched.bytes.to_vec(), &descriptor)?;
        if let Some(nested) = document.as_index() {
            pending.extend(
                nested
                    .manifests()
                    .iter()
                    .rev()
                    .map(|d| (d.clone(), depth + 1)),
            );
        }
        tree.nested.push(document);
    }
    Ok(tree)
}

/// The error for an index found nested [`hoist_oci::MAX_NESTING`] deep in
/// `repository`.
pub(crate) fn too_deep(repository: &Repository, digest: &hoist_content::Digest) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "{repository}: indexes nest more than {} deep (at {digest})",
            hoist_oci::MAX_NESTING
        ),
    )
}
