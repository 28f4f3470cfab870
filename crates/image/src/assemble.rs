//! Assemble: one index from several single-platform images (or indexes), the
//! fix for a CI where one architecture's push overwrote another's tag.

use std::collections::BTreeMap;

use hoist_content::{Ingester, Manager, Provider};
use serde_json::{Map, Value};

use crate::Descriptor;
use crate::document::Document;
use crate::error::{Detail, Error, ErrorKind, Result};
use crate::image::{self, Entry, EntryKind, Image};
use crate::media_type;
use crate::store_io::{canonical_json, store_document};

/// Options of [`assemble`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssembleOptions {
    /// When two sources hold the same platform, keep the later one (and its
    /// attestations) instead of failing.
    pub replace: bool,
    /// Annotations of the new index.
    pub annotations: BTreeMap<String, String>,
    /// A name the caller wants the new index to have; none by default.
    pub name: Option<String>,
}

/// What [`assemble`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled {
    /// The new index.
    pub target: Descriptor,
    /// Its entries, in order: platforms and attestations.
    pub entries: Vec<Entry>,
    /// Entries dropped because a later source replaced their platform.
    pub replaced: Vec<Entry>,
    /// The name to give the index ([`AssembleOptions::name`]), for the caller
    /// to create once everything else is done.
    pub name: Option<String>,
}

/// Assembles one index from `sources`, each a single-platform image (a lone
/// manifest, whose platform is read from its config) or an index (whose
/// entries, attestations included, are taken as listed).
///
/// The index is an OCI index, or a Docker manifest list when every entry is
/// a Docker manifest. It is serialized once with sorted keys and stored
/// through `store` (under the caller's lease) with its
/// `gc.ref.content.m.<i>` labels. The same manifest reached twice is listed
/// once.
///
/// # Errors
/// - already-exists, with [`Detail::DuplicatePlatform`], when two sources
///   hold different manifests for one platform and `replace` is off;
/// - failed-precondition when the result would be empty, or a lone
///   manifest's platform cannot be told (its config is not stored, or names
///   none);
/// - read and store errors.
pub fn assemble<S>(store: &S, sources: &[Image], options: &AssembleOptions) -> Result<Assembled>
where
    S: Provider + Manager + Ingester + ?Sized,
{
    // Entries with the source that brought them, for messages.
    let mut entries: Vec<(Entry, &str)> = Vec::new();
    let mut replaced = Vec::new();
    for source in sources {
        for entry in source_entries(store, source)? {
            if entries
                .iter()
                .any(|(e, _)| e.descriptor.digest == entry.descriptor.digest)
            {
                continue;
            }
            if let Some(platform) = entry.platform() {
                let clash = entries
                    .iter()
                    .position(|(e, _)| e.platform() == Some(platform));
                if let Some(position) = clash {
                    if !options.replace {
                        let (existing, existing_source) = &entries[position];
                        return Err(duplicate(existing, existing_source, &entry, &source.name));
                    }
                    let (old, _) = entries.remove(position);
                    let old_digest = old.descriptor.digest.clone();
                    replaced.push(old);
                    entries.retain(|(e, _)| {
                        let about_old = matches!(&e.kind, EntryKind::Attestation { subject: Some(s) } if *s == old_digest);
                        if about_old {
                            replaced.push(e.clone());
                        }
                        !about_old
                    });
                }
            }
            entries.push((entry, &source.name));
        }
    }
    let entries: Vec<Entry> = entries.into_iter().map(|(e, _)| e).collect();
    if !entries.iter().any(|e| !e.is_attestation()) {
        return Err(Error::new(
            ErrorKind::FailedPrecondition,
            format!(
                "cannot assemble an index from {}: no manifests to list",
                if sources.is_empty() {
                    "no images".to_string()
                } else {
                    sources
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        ));
    }

    let all_docker = entries
        .iter()
        .all(|e| media_type::is_docker(&e.descriptor.media_type));
    let index_type = if all_docker {
        media_type::DOCKER_MANIFEST_LIST
    } else {
        media_type::OCI_INDEX
    };
    let mut body = Map::new();
    body.insert("schemaVersion".to_string(), Value::from(2));
    body.insert("mediaType".to_string(), Value::from(index_type));
    body.insert(
        "manifests".to_string(),
        Value::Array(entries.iter().map(|e| e.descriptor.to_json()).collect()),
    );
    if !options.annotations.is_empty() {
        let annotations = options
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        body.insert("annotations".to_string(), Value::Object(annotations));
    }
    let document = Document::from_bytes(canonical_json(&Value::Object(body)), Some(index_type))?;
    store_document(store, &document)?;
    Ok(Assembled {
        target: document.descriptor().clone(),
        entries,
        replaced,
        name: options.name.clone(),
    })
}

/// The entries one source contributes.
fn source_entries<S: Provider + Manager + ?Sized>(store: &S, source: &Image) -> Result<Vec<Entry>> {
    let resolved = image::resolve(store, source)?;
    match resolved.root {
        Document::Index(_) => Ok(resolved.entries),
        Document::Manifest(manifest) => {
            let entry = resolved.entries.into_iter().next();
            let Some(platform) = entry.as_ref().and_then(Entry::platform).cloned() else {
                return Err(Error::new(
                    ErrorKind::FailedPrecondition,
                    format!(
                        "cannot tell the platform of {} (manifest {}): its config {} is not stored or names none",
                        source.name,
                        source.target.digest,
                        manifest.config().digest
                    ),
                )
                .with_digest(&source.target.digest));
            };
            let descriptor = Descriptor::new(
                manifest.descriptor().media_type.clone(),
                source.target.digest.clone(),
                source.target.size,
            )
            .with_platform(platform.clone());
            Ok(vec![Entry {
                descriptor,
                kind: EntryKind::Platform(platform),
                index: None,
            }])
        }
    }
}

fn duplicate(
    existing: &Entry,
    existing_source: &str,
    incoming: &Entry,
    incoming_source: &str,
) -> Error {
    let platform = existing.platform().cloned().unwrap_or_default();
    Error::new(
        ErrorKind::AlreadyExists,
        format!(
            "{platform} is in both {existing_source} (manifest {}) and {incoming_source} (manifest {}); \
             ask to replace to keep the later one",
            existing.descriptor.digest, incoming.descriptor.digest
        ),
    )
    .with_digest(&incoming.descriptor.digest)
    .with_detail(Detail::DuplicatePlatform {
        platform,
        existing: existing.descriptor.digest.clone(),
        incoming: incoming.descriptor.digest.clone(),
    })
}
