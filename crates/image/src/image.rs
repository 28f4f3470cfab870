//! [`Image`]: a name and the descriptor it points at; and its entries — the
//! manifests it holds, each with what it is for (a platform, an attestation).

use std::fmt;

use hoist_content::{Digest, Manager, Provider};
use hoist_platform::Platform;

use crate::Descriptor;
use crate::document::Document;
use crate::error::{Error, ErrorKind, Result};
use crate::media_type::{self, MediaKind};
use crate::store_io::{self, read_document};

/// How deep indexes may nest inside indexes before hoist stops following
/// them: the one limit every walker in hoist uses.
const MAX_INDEX_DEPTH: usize = hoist_oci::MAX_NESTING;

/// An image as hoist-image sees it: the name it is known by (used in
/// messages) and the descriptor of its index or manifest.
///
/// Image records live in the meta crate; callers build this from one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The image's name, e.g. `example.com/app:1.0`.
    pub name: String,
    /// What the name points at: an index or a manifest.
    pub target: Descriptor,
}

impl Image {
    /// An image named `name` pointing at `target`.
    pub fn new(name: impl Into<String>, target: Descriptor) -> Self {
        Image {
            name: name.into(),
            target,
        }
    }
}

/// What a manifest of an image is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A manifest for this platform (normalized).
    Platform(Platform),
    /// A buildx attestation manifest (`unknown/unknown`) about the manifest
    /// `subject` (`vnd.docker.reference.digest`), when it names one.
    Attestation {
        /// The manifest the attestation is about.
        subject: Option<Digest>,
    },
    /// A manifest whose platform is not known: the index gives none and the
    /// config is not stored locally, or the index says `unknown/unknown`
    /// without marking an attestation; also a nested index that is absent.
    Unknown,
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryKind::Platform(platform) => write!(f, "{platform}"),
            EntryKind::Attestation { .. } => f.write_str("attestation"),
            EntryKind::Unknown => f.write_str("unknown"),
        }
    }
}

/// One manifest of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The manifest's descriptor, as the index lists it (or the image's target
    /// for a lone manifest).
    pub descriptor: Descriptor,
    /// What the manifest is for.
    pub kind: EntryKind,
    /// The index that lists it; `None` when the image is a lone manifest.
    pub index: Option<Digest>,
}

impl Entry {
    /// The platform, if this entry is a platform's manifest.
    pub fn platform(&self) -> Option<&Platform> {
        match &self.kind {
            EntryKind::Platform(platform) => Some(platform),
            _ => None,
        }
    }

    /// True for an attestation manifest.
    pub fn is_attestation(&self) -> bool {
        matches!(self.kind, EntryKind::Attestation { .. })
    }
}

/// What [`tree`] found: the documents of a stored image as the one local
/// walker sees them.
#[derive(Debug, Clone)]
pub struct Tree {
    /// The image's index or manifest.
    pub root: Document,
    /// Every entry that is not an index, in document order (depth first
    /// through nested indexes); a lone manifest is its own one entry.
    pub entries: Vec<Entry>,
    /// The nested indexes followed, each before the indexes it nests.
    pub nested: Vec<Descriptor>,
}

/// Walks a stored image with the walker every local operation uses
/// (selection, reduce, check, reports, push), at most
/// [`hoist_oci::MAX_NESTING`] deep.
///
/// # Errors
/// Not found when the top document is not stored; unsupported for indexes
/// nested too deep; read errors.
pub fn tree<S: Provider + Manager + ?Sized>(store: &S, image: &Image) -> Result<Tree> {
    let resolved = resolve(store, image)?;
    Ok(Tree {
        root: resolved.root,
        entries: resolved.entries,
        nested: resolved.nested,
    })
}

/// An image's top document and its entries, nested indexes flattened.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// The image's index or manifest.
    pub root: Document,
    /// Every manifest, in document order (depth first through nested indexes).
    pub entries: Vec<Entry>,
    /// Nested indexes that were followed.
    pub nested: Vec<Descriptor>,
}

/// Reads an image's top document and classifies every manifest it holds.
pub(crate) fn resolve<S: Provider + Manager + ?Sized>(
    store: &S,
    image: &Image,
) -> Result<Resolved> {
    let root = read_document(store, &image.target).map_err(|e| about_image(e, image))?;
    let mut entries = Vec::new();
    let mut nested = Vec::new();
    match &root {
        Document::Manifest(manifest) => {
            let kind = match store_io::read_config_platform(store, manifest.config()) {
                Ok(platform) if platform.os.is_empty() || platform.os == "unknown" => {
                    EntryKind::Unknown
                }
                Ok(platform) => EntryKind::Platform(platform),
                Err(e) if e.is_not_found() => EntryKind::Unknown,
                Err(e) => return Err(e),
            };
            entries.push(Entry {
                descriptor: image.target.clone(),
                kind,
                index: None,
            });
        }
        Document::Index(index) => {
            collect_entries(
                store,
                index.descriptor(),
                index.manifests(),
                0,
                &mut entries,
                &mut nested,
            )?;
        }
    }
    Ok(Resolved {
        root,
        entries,
        nested,
    })
}

fn collect_entries<S: Provider + Manager + ?Sized>(
    store: &S,
    index: &Descriptor,
    children: &[Descriptor],
    depth: usize,
    entries: &mut Vec<Entry>,
    nested: &mut Vec<Descriptor>,
) -> Result<()> {
    for child in children {
        if media_type::classify(&child.media_type) == MediaKind::Index {
            if depth + 1 >= MAX_INDEX_DEPTH {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "index {} nests indexes more than {MAX_INDEX_DEPTH} deep",
                        index.digest
                    ),
                )
                .with_digest(&index.digest));
            }
            match read_document(store, child) {
                Ok(Document::Index(inner)) => {
                    nested.push(child.clone());
                    collect_entries(store, child, inner.manifests(), depth + 1, entries, nested)?;
                }
                Ok(Document::Manifest(_)) => {
                    // Described as an index but is a manifest: `read_document`
                    // already refuses that, so this arm is never taken.
                }
                Err(e) if e.is_not_found() => entries.push(Entry {
                    descriptor: child.clone(),
                    kind: EntryKind::Unknown,
                    index: Some(index.digest.clone()),
                }),
                Err(e) => return Err(e),
            }
            continue;
        }
        let kind = classify_entry(store, child)?;
        entries.push(Entry {
            descriptor: child.clone(),
            kind,
            index: Some(index.digest.clone()),
        });
    }
    Ok(())
}

/// What an index entry is for: an attestation by its annotation, a platform
/// by the index's word, or else by the manifest's config when stored.
fn classify_entry<S: Provider + Manager + ?Sized>(
    store: &S,
    child: &Descriptor,
) -> Result<EntryKind> {
    if child.is_attestation() {
        return Ok(EntryKind::Attestation {
            subject: child.attestation_subject(),
        });
    }
    if let Some(platform) = &child.platform {
        let platform = platform.normalized();
        if platform.os.is_empty() || platform.os == "unknown" {
            return Ok(EntryKind::Unknown);
        }
        return Ok(EntryKind::Platform(platform));
    }
    // No platform in the index: containerd reads the config; do the same when
    // the manifest and its config are here, and call it unknown otherwise.
    let manifest = match read_document(store, child) {
        Ok(Document::Manifest(manifest)) => manifest,
        Ok(Document::Index(_)) => return Ok(EntryKind::Unknown),
        Err(e) if e.is_not_found() => return Ok(EntryKind::Unknown),
        Err(e) => return Err(e),
    };
    if !manifest.is_image() {
        return Ok(EntryKind::Unknown);
    }
    match store_io::read_config_platform(store, manifest.config()) {
        Ok(platform) if platform.os.is_empty() || platform.os == "unknown" => {
            Ok(EntryKind::Unknown)
        }
        Ok(platform) => Ok(EntryKind::Platform(platform)),
        Err(e) if e.is_not_found() => Ok(EntryKind::Unknown),
        Err(e) => Err(e),
    }
}

/// `error`, with the image's name in front when the target itself is at fault.
fn about_image(error: Error, image: &Image) -> Error {
    if error.is_not_found() {
        return Error::new(
            ErrorKind::NotFound,
            format!(
                "{} of {} is not stored locally",
                image.target.digest, image.name
            ),
        )
        .with_digest(&image.target.digest)
        .with_source(error);
    }
    error
}

/// The distinct platforms of `entries`, in order, attestations and unknowns left out.
pub(crate) fn platforms_of(entries: &[Entry]) -> Vec<Platform> {
    let mut platforms: Vec<Platform> = Vec::new();
    for platform in entries.iter().filter_map(Entry::platform) {
        if !platforms.contains(platform) {
            platforms.push(platform.clone());
        }
    }
    platforms
}
