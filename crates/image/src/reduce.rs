//! Reduce: a new index holding only the platforms a matcher accepts, with the
//! attestations about them and the original annotations.

use std::fmt::Display;

use hoist_content::{Digest, Ingester, Manager, Provider};
use hoist_platform::Matcher;
use serde_json::Value;

use crate::Descriptor;
use crate::document::Document;
use crate::error::{Error, ErrorKind, MissingBlobs, Result};
use crate::image::{self, Entry, EntryKind, Image};
use crate::report::{LocalState, local_state};
use crate::select;
use crate::store_io::{canonical_json, store_document};

/// Options of [`reduce`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReduceOptions {
    /// When exactly one platform is kept, return its manifest instead of a
    /// one-entry index. Off by default: a tag that stays an index keeps
    /// `verify` (which expects an index with every required platform) and
    /// multi-platform consumers working, and keeps the attestations, which a
    /// bare manifest cannot carry.
    pub bare_manifest: bool,
    /// A name the caller wants the result to have. None by default: a reduced
    /// image is written under the caller's lease and pushed from there; it
    /// gets a user-visible name only when asked.
    pub name: Option<String>,
}

/// What [`reduce`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reduced {
    /// The reduced image: a new index, the original target when every entry
    /// was kept, or the kept manifest when a bare manifest was asked for.
    pub target: Descriptor,
    /// The platforms' manifests kept, in index order.
    pub kept: Vec<Entry>,
    /// The attestations kept (those about kept manifests, complete locally).
    pub attestations: Vec<Entry>,
    /// Attestations about kept manifests that were left out: incomplete
    /// locally, or a bare manifest was asked for.
    pub dropped_attestations: Vec<Entry>,
    /// True when a new index was written to the store.
    pub written: bool,
    /// The name to give the result ([`ReduceOptions::name`]), for the caller
    /// to create once everything else is done.
    pub name: Option<String>,
}

/// The outcome of planning a reduction, before anything is written.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub target: Descriptor,
    pub new_index: Option<Document>,
    pub kept: Vec<Entry>,
    pub attestations: Vec<Entry>,
    pub dropped_attestations: Vec<Entry>,
}

/// Reduces `image` to the platforms `matcher` accepts (every accepted entry
/// is kept: pass `hoist_platform::any` or `only_strict` to keep exactly the
/// named platforms, since `only` also accepts what a platform can run, e.g.
/// `linux/arm/v7` for `linux/arm64`).
///
/// The new index keeps the original's fields and annotations, the kept
/// entries as they were listed, and the attestations whose
/// `vnd.docker.reference.digest` names a kept manifest. It is serialized once
/// with sorted keys, stored through `store` (so under the caller's lease) with
/// its `gc.ref.content.m.<i>` labels, and returned as a descriptor; it gets no
/// name unless [`ReduceOptions::name`] asks for one. Indexes nested in the
/// index are followed: the new index lists their kept manifests directly.
/// If every entry is kept, at every depth, the original target is returned
/// (nested indexes and all) and nothing is written.
///
/// # Errors
/// - not-found, with the available platforms, when nothing matches; not-found
///   for an empty index;
/// - failed-precondition, listing the missing blobs by platform, when a kept
///   platform is incomplete locally;
/// - invalid-argument when a bare manifest is asked for but several platforms match;
/// - read and store errors.
pub fn reduce<S, M>(
    store: &S,
    image: &Image,
    matcher: &M,
    options: &ReduceOptions,
) -> Result<Reduced>
where
    S: Provider + Manager + Ingester + ?Sized,
    M: Matcher + Display + ?Sized,
{
    let plan = plan(store, image, matcher, options.bare_manifest)?;
    let written = if let Some(document) = &plan.new_index {
        store_document(store, document)?;
        true
    } else {
        false
    };
    Ok(Reduced {
        target: plan.target,
        kept: plan.kept,
        attestations: plan.attestations,
        dropped_attestations: plan.dropped_attestations,
        written,
        name: options.name.clone(),
    })
}

/// Decides what a reduction keeps and builds the new index, writing nothing.
pub(crate) fn plan<S, M>(store: &S, image: &Image, matcher: &M, bare_manifest: bool) -> Result<Plan>
where
    S: Provider + Manager + ?Sized,
    M: Matcher + Display + ?Sized,
{
    let resolved = image::resolve(store, image)?;
    let index = match &resolved.root {
        Document::Index(index) => index,
        Document::Manifest(_) => {
            // A lone manifest: it is kept whole if it matches.
            let entry = select::select_from(image, &resolved.root, &resolved.entries, matcher)?;
            ensure_complete(store, image, matcher, std::slice::from_ref(entry))?;
            return Ok(Plan {
                target: image.target.clone(),
                new_index: None,
                kept: vec![entry.clone()],
                attestations: Vec::new(),
                dropped_attestations: Vec::new(),
            });
        }
    };
    if index.manifests().is_empty() {
        return Err(select::empty_index(image));
    }
    let kept: Vec<Entry> = resolved
        .entries
        .iter()
        .filter(|e| e.platform().is_some_and(|p| matcher.matches(p)))
        .cloned()
        .collect();
    if kept.is_empty() {
        return Err(select::no_match(
            image,
            &resolved.root,
            matcher,
            image::platforms_of(&resolved.entries),
        ));
    }
    ensure_complete(store, image, matcher, &kept)?;

    let kept_digests: Vec<&Digest> = kept.iter().map(|e| &e.descriptor.digest).collect();
    let mut attestations = Vec::new();
    let mut dropped_attestations = Vec::new();
    for entry in &resolved.entries {
        let EntryKind::Attestation {
            subject: Some(subject),
        } = &entry.kind
        else {
            continue;
        };
        if !kept_digests.contains(&subject) {
            continue;
        }
        if !bare_manifest && local_state(store, &entry.descriptor)?.is_complete() {
            attestations.push(entry.clone());
        } else {
            dropped_attestations.push(entry.clone());
        }
    }

    if bare_manifest {
        if let [only] = kept.as_slice() {
            let mut target = only.descriptor.clone();
            target.annotations.clear();
            return Ok(Plan {
                target,
                new_index: None,
                kept,
                attestations,
                dropped_attestations,
            });
        }
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "a bare manifest needs exactly one platform, but {matcher} selects {} in {}: {}",
                kept.len(),
                image.name,
                kept.iter()
                    .map(|e| e.kind.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }

    let listed: Vec<&Entry> = resolved
        .entries
        .iter()
        .filter(|e| kept.contains(e) || attestations.contains(e))
        .collect();
    // Nothing dropped, at any depth: the original, byte for byte (a nested
    // index included), so pushing or copying all of it keeps its digest.
    if listed.len() == resolved.entries.len() {
        return Ok(Plan {
            target: image.target.clone(),
            new_index: None,
            kept,
            attestations,
            dropped_attestations,
        });
    }
    let mut body = index.body().clone();
    body.insert(
        "manifests".to_string(),
        Value::Array(listed.iter().map(|e| e.descriptor.to_json()).collect()),
    );
    let raw = canonical_json(&Value::Object(body));
    let document = Document::from_bytes(raw, Some(&index.descriptor().media_type))?;
    Ok(Plan {
        target: document.descriptor().clone(),
        new_index: Some(document),
        kept,
        attestations,
        dropped_attestations,
    })
}

/// Fails, listing the missing blobs by platform, unless every entry is complete.
fn ensure_complete<S, M>(store: &S, image: &Image, matcher: &M, entries: &[Entry]) -> Result<()>
where
    S: Provider + Manager + ?Sized,
    M: Display + ?Sized,
{
    let mut missing = Vec::new();
    for entry in entries {
        let digests = match local_state(store, &entry.descriptor)? {
            LocalState::Complete => continue,
            LocalState::Absent => vec![entry.descriptor.digest.clone()],
            LocalState::Missing(blobs) => blobs.into_iter().map(|b| b.digest).collect(),
        };
        missing.push(MissingBlobs {
            owner: entry.kind.to_string(),
            manifest: entry.descriptor.digest.clone(),
            digests,
        });
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::missing(
        format!("cannot reduce {} to {matcher}", image.name),
        missing,
    )
    .with_digest(&image.target.digest))
}
