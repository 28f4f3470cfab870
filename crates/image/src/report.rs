//! The platform report of an image: each manifest it holds, what it is for,
//! and whether it is complete locally.

use std::fmt;

use hoist_content::{Manager, Provider};

use crate::Descriptor;
use crate::document::Document;
use crate::error::Result;
use crate::image::{self, Entry, Image};
use crate::store_io::{exists, read_document};

/// Whether a manifest and everything it lists are stored locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalState {
    /// The manifest, its config and all its layers are stored.
    Complete,
    /// The manifest is stored but these blobs it lists are not.
    Missing(Vec<Descriptor>),
    /// The manifest itself is not stored.
    Absent,
}

impl LocalState {
    /// True for [`LocalState::Complete`].
    pub fn is_complete(&self) -> bool {
        *self == LocalState::Complete
    }
}

impl fmt::Display for LocalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalState::Complete => f.write_str("complete"),
            LocalState::Missing(blobs) if blobs.len() == 1 => f.write_str("missing 1 blob"),
            LocalState::Missing(blobs) => write!(f, "missing {} blobs", blobs.len()),
            LocalState::Absent => f.write_str("absent"),
        }
    }
}

/// One row of a [`PlatformReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEntry {
    /// The manifest and what it is for.
    pub entry: Entry,
    /// Whether it is complete locally.
    pub state: LocalState,
}

/// Every manifest of an image with its local state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformReport {
    /// The image reported on.
    pub image: Image,
    /// True if the image is an index (false for a lone manifest).
    pub is_index: bool,
    /// One row per manifest, in index order (nested indexes flattened).
    pub entries: Vec<ReportEntry>,
}

impl PlatformReport {
    /// The rows for platforms (attestations and unknowns left out).
    pub fn platforms(&self) -> impl Iterator<Item = &ReportEntry> {
        self.entries.iter().filter(|e| e.entry.platform().is_some())
    }

    /// The attestation rows.
    pub fn attestations(&self) -> impl Iterator<Item = &ReportEntry> {
        self.entries.iter().filter(|e| e.entry.is_attestation())
    }
}

/// Reports each manifest of `image` with its platform (or attestation) and
/// its local state: complete, missing N blobs, or absent.
///
/// # Errors
/// Not-found if the image's index or manifest itself is not stored; read errors.
pub fn platform_report<S: Provider + Manager + ?Sized>(
    store: &S,
    image: &Image,
) -> Result<PlatformReport> {
    let resolved = image::resolve(store, image)?;
    let mut entries = Vec::with_capacity(resolved.entries.len());
    for entry in resolved.entries {
        let state = local_state(store, &entry.descriptor)?;
        entries.push(ReportEntry { entry, state });
    }
    Ok(PlatformReport {
        image: image.clone(),
        is_index: matches!(resolved.root, Document::Index(_)),
        entries,
    })
}

/// Whether the manifest `descriptor` and what it lists are stored.
pub(crate) fn local_state<S: Provider + Manager + ?Sized>(
    store: &S,
    descriptor: &Descriptor,
) -> Result<LocalState> {
    if !exists(store, &descriptor.digest)? {
        return Ok(LocalState::Absent);
    }
    let Document::Manifest(manifest) = read_document(store, descriptor)? else {
        return Ok(LocalState::Complete);
    };
    let mut missing = Vec::new();
    for blob in manifest.blobs() {
        if !exists(store, &blob.digest)? && !missing.contains(blob) {
            missing.push(blob.clone());
        }
    }
    Ok(if missing.is_empty() {
        LocalState::Complete
    } else {
        LocalState::Missing(missing)
    })
}
