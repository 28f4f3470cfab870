//! Walking the blobs an index or manifest reaches, noting which are missing
//! and refusing stored blobs whose size is not their descriptor's.

use std::collections::{BTreeMap, BTreeSet};

use hoist_content::{Digest, Manager, Provider};

use crate::Descriptor;
use crate::document::Document;
use crate::error::{Detail, Error, ErrorKind, MissingBlobs, Result};
use crate::media_type::{self, MediaKind};
use crate::store_io::{read_document, stored_size};

/// What a walk found.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    /// Every blob reached and stored (or held in memory), each once, parents first.
    pub blobs: Vec<Descriptor>,
    /// Blobs reached but not stored, by the manifest that lists them.
    pub missing: Vec<MissingBlobs>,
    /// The image manifests reached (not attestations, not artifacts), with their owner.
    pub image_manifests: Vec<(String, Document)>,
}

/// Walks from `root`: indexes to their manifests, manifests to their config
/// and layers. `in_memory` holds documents not (yet) in the store, such as a
/// reduced index that only goes into an archive. `owner` names the root in
/// reports of missing blobs (an image name).
pub(crate) fn walk<S: Provider + Manager + ?Sized>(
    store: &S,
    root: &Descriptor,
    owner: &str,
    in_memory: &BTreeMap<Digest, Document>,
) -> Result<Walk> {
    let mut walk = Walk::default();
    let mut seen = BTreeSet::new();
    visit(store, root, owner, None, in_memory, &mut walk, &mut seen, 0)?;
    Ok(walk)
}

/// How deep documents may nest before the walk stops: the one limit every
/// walker in hoist uses.
const MAX_DEPTH: usize = hoist_oci::MAX_NESTING;

#[allow(clippy::too_many_arguments)]
fn visit<S: Provider + Manager + ?Sized>(
    store: &S,
    descriptor: &Descriptor,
    owner: &str,
    parent: Option<&Digest>,
    in_memory: &BTreeMap<Digest, Document>,
    walk: &mut Walk,
    seen: &mut BTreeSet<Digest>,
    depth: usize,
) -> Result<()> {
    if !seen.insert(descriptor.digest.clone()) {
        return Ok(());
    }
    let document = match in_memory.get(&descriptor.digest) {
        Some(document) => Some(document.clone()),
        None => {
            let Some(size) = stored_size(store, &descriptor.digest)? else {
                // A missing manifest is reported as its own: the index that
                // lists it is not the manifest the user must fetch.
                let manifest = match media_type::classify(&descriptor.media_type) {
                    MediaKind::Index
                    | MediaKind::Manifest
                    | MediaKind::Schema1
                    | MediaKind::ArtifactManifest => &descriptor.digest,
                    _ => parent.unwrap_or(&descriptor.digest),
                };
                note_missing(walk, owner, manifest, &descriptor.digest);
                return Ok(());
            };
            if size != descriptor.size {
                return Err(Error::new(
                    ErrorKind::DataLoss,
                    format!(
                        "blob {} of {owner} is {size} bytes, but its descriptor says {}",
                        descriptor.digest, descriptor.size
                    ),
                )
                .with_digest(&descriptor.digest)
                .with_detail(Detail::SizeMismatch {
                    expected: descriptor.size,
                    actual: size,
                }));
            }
            match media_type::classify(&descriptor.media_type) {
                MediaKind::Index
                | MediaKind::Manifest
                | MediaKind::Schema1
                | MediaKind::ArtifactManifest => Some(read_document(store, descriptor)?),
                _ => None,
            }
        }
    };
    walk.blobs.push(descriptor.clone());
    let Some(document) = document else {
        return Ok(());
    };
    if depth >= MAX_DEPTH {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{} nests documents more than {MAX_DEPTH} deep",
                descriptor.digest
            ),
        )
        .with_digest(&descriptor.digest));
    }
    match &document {
        Document::Index(index) => {
            for child in index.manifests() {
                let child_owner = if child.is_attestation() {
                    "attestation".to_string()
                } else if let Some(platform) = &child.platform {
                    platform.normalized().to_string()
                } else {
                    owner.to_string()
                };
                visit(
                    store,
                    child,
                    &child_owner,
                    Some(&descriptor.digest),
                    in_memory,
                    walk,
                    seen,
                    depth + 1,
                )?;
            }
        }
        Document::Manifest(manifest) => {
            let attestation = owner == "attestation";
            if manifest.is_image() && !attestation {
                walk.image_manifests
                    .push((owner.to_string(), document.clone()));
            }
            for blob in manifest.blobs() {
                visit(
                    store,
                    blob,
                    owner,
                    Some(&descriptor.digest),
                    in_memory,
                    walk,
                    seen,
                    depth + 1,
                )?;
            }
        }
    }
    Ok(())
}

fn note_missing(walk: &mut Walk, owner: &str, manifest: &Digest, digest: &Digest) {
    match walk
        .missing
        .iter_mut()
        .find(|m| m.owner == owner && &m.manifest == manifest)
    {
        Some(entry) => entry.digests.push(digest.clone()),
        None => walk.missing.push(MissingBlobs {
            owner: owner.to_string(),
            manifest: manifest.clone(),
            digests: vec![digest.clone()],
        }),
    }
}
