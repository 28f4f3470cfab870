//! Load from an OCI layout directory (what `skopeo copy … oci:DIR` writes).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use hoist_content::{Digest, Ingester, Labels, Manager, Provider};

use super::layout::{self, INDEX_FILE, LAYOUT_FILE};
use super::load::{ArchiveFormat, LoadOptions, Loaded, finish_oci};
use super::referrers;
use crate::Descriptor;
use crate::document::{Document, MAX_DOCUMENT_SIZE};
use crate::error::{Detail, Error, ErrorKind, Result};
use crate::media_type::{self, MediaKind};
use crate::store_io::{exists, read_document};

/// How deep documents may nest before the copy stops: the one limit every
/// walker in hoist uses.
const MAX_DEPTH: usize = hoist_oci::MAX_NESTING;

/// Loads the OCI image layout in the directory `path` into `store`.
///
/// Every blob `index.json` reaches is copied from `blobs/<alg>/<hex>`,
/// verified against its digest and its descriptor's size as it streams.
/// Files are opened only by paths built from validated digests, and a file
/// (or a directory on the way) that is a link leading outside the layout is
/// refused. As with [`load`](crate::load), names are returned only after
/// everything reachable is stored.
///
/// # Errors
/// Invalid-argument if the directory is not an OCI layout, a link leaves it,
/// or `index.json` reaches blobs it does not hold; data-loss for a blob whose
/// content or size is not its descriptor's; store and I/O errors.
pub fn load_dir<S>(store: &S, path: &Path, options: &LoadOptions) -> Result<Loaded>
where
    S: Provider + Manager + Ingester + ?Sized,
{
    let root = fs::canonicalize(path).map_err(|e| Error::io("opening the layout", path, e))?;
    let layout_file = read_small_file(&root, LAYOUT_FILE)?.ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{} is not an OCI layout: it has no {LAYOUT_FILE}",
                path.display()
            ),
        )
        .with_path(path)
    })?;
    layout::check_layout(&layout_file)?;
    let index = read_small_file(&root, INDEX_FILE)?.ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{} is not an OCI layout: it has no {INDEX_FILE}",
                path.display()
            ),
        )
        .with_path(path)
    })?;
    let parsed = Document::from_bytes(index.clone(), Some(media_type::OCI_INDEX)).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{INDEX_FILE} in {} is not a valid index: {e}",
                path.display()
            ),
        )
        .with_path(path)
        .with_source(e)
    })?;
    let mut counts = Counts::default();
    // Referrer manifests are read but not stored: finish_oci stores those
    // the load keeps (their config and layers are copied only when it may).
    let mut held: BTreeMap<Digest, Document> = BTreeMap::new();
    if let Document::Index(parsed) = &parsed {
        for descriptor in parsed.manifests() {
            if referrers::is_fallback_tag(descriptor)
                && let Some(Document::Index(listing)) =
                    layout_or_stored_document(store, &root, descriptor)?
                && all_referrers(store, &root, &listing)?
            {
                // regclient's layout: the referrers are the tag's children;
                // the tag's index is only read.
                for child in listing.manifests() {
                    hold_referrer(store, &root, child, options, &mut held, &mut counts)?;
                }
                held.insert(descriptor.digest.clone(), Document::Index(listing));
                continue;
            }
            if !hold_referrer(store, &root, descriptor, options, &mut held, &mut counts)? {
                copy_tree(store, &root, descriptor, 0, &mut counts)?;
            }
        }
    }
    let finished = finish_oci(store, index, &held, options)?;
    Ok(Loaded {
        format: ArchiveFormat::OciLayout,
        images: finished.images,
        blobs: counts.copied + finished.stored,
        blobs_present: counts.present,
        referrers: finished.referrers,
        referrers_skipped: finished.referrers_skipped,
        referrers_without_subject: finished.referrers_without_subject,
    })
}

/// If `descriptor` is an unstored referrer, holds its manifest (unstored)
/// and, with `referrers`, copies its config and layers; false otherwise.
fn hold_referrer<S>(
    store: &S,
    root: &Path,
    descriptor: &Descriptor,
    options: &LoadOptions,
    held: &mut BTreeMap<Digest, Document>,
    counts: &mut Counts,
) -> Result<bool>
where
    S: Provider + Manager + Ingester + ?Sized,
{
    let Some(document) = unstored_referrer(store, root, descriptor)? else {
        return Ok(false);
    };
    if options.referrers {
        for child in document.children() {
            copy_tree(store, root, child, 1, counts)?;
        }
    }
    held.insert(document.digest().clone(), document);
    Ok(true)
}

/// True if every child of `listing` is a manifest with a `subject` (an
/// index tagged like a fallback tag that lists anything else is an image).
fn all_referrers<S>(store: &S, root: &Path, listing: &crate::Index) -> Result<bool>
where
    S: Provider + Manager + ?Sized,
{
    for child in listing.manifests() {
        let is_referrer = media_type::classify(&child.media_type) == MediaKind::Manifest
            && layout_or_stored_document(store, root, child)?
                .is_some_and(|d| d.as_manifest().is_some_and(|m| m.subject().is_some()));
        if !is_referrer {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The document `descriptor` names, from the store or else the layout.
fn layout_or_stored_document<S>(
    store: &S,
    root: &Path,
    descriptor: &Descriptor,
) -> Result<Option<Document>>
where
    S: Provider + Manager + ?Sized,
{
    if exists(store, &descriptor.digest)? {
        return read_document(store, descriptor).map(Some);
    }
    read_layout_document(root, descriptor)
}

/// The manifest of an unnamed `index.json` entry if it has a `subject` and
/// is not stored yet, read and verified from the layout.
fn unstored_referrer<S>(store: &S, root: &Path, descriptor: &Descriptor) -> Result<Option<Document>>
where
    S: Manager + ?Sized,
{
    if referrers::is_named(descriptor)
        || media_type::classify(&descriptor.media_type) != MediaKind::Manifest
        || exists(store, &descriptor.digest)?
    {
        return Ok(None);
    }
    let Some(document) = read_layout_document(root, descriptor)? else {
        return Ok(None);
    };
    Ok(document
        .as_manifest()
        .is_some_and(|m| m.subject().is_some())
        .then_some(document))
}

/// Reads and verifies the document `descriptor` names from the layout;
/// `None` if the layout lacks it.
fn read_layout_document(root: &Path, descriptor: &Descriptor) -> Result<Option<Document>> {
    let Some((path, file)) = open_blob(root, descriptor)? else {
        return Ok(None);
    };
    read_opened_document(&path, file, descriptor).map(Some)
}

/// Reads and verifies the document `descriptor` names from its open file.
fn read_opened_document(path: &Path, file: File, descriptor: &Descriptor) -> Result<Document> {
    if descriptor.size > MAX_DOCUMENT_SIZE {
        return Err(crate::document::too_big(
            &descriptor.digest,
            descriptor.size,
        ));
    }
    let mut raw = Vec::new();
    file.take(MAX_DOCUMENT_SIZE + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Error::io("reading", path, e))?;
    Document::parse(raw, descriptor).map_err(|e| e.with_path(path))
}

/// What a copy of the layout's blobs found.
#[derive(Debug, Default)]
struct Counts {
    /// Blobs copied into the store.
    copied: usize,
    /// Blobs the store held already.
    present: usize,
}

/// Copies `descriptor`'s blob and, for a document, its children.
fn copy_tree<S>(
    store: &S,
    root: &Path,
    descriptor: &Descriptor,
    depth: usize,
    counts: &mut Counts,
) -> Result<()>
where
    S: Provider + Manager + Ingester + ?Sized,
{
    if depth > MAX_DEPTH {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{} nests documents more than {MAX_DEPTH} deep",
                descriptor.digest
            ),
        ));
    }
    let is_document = matches!(
        media_type::classify(&descriptor.media_type),
        MediaKind::Index | MediaKind::Manifest
    );
    let document = if exists(store, &descriptor.digest)? {
        counts.present += 1;
        if !is_document {
            return Ok(());
        }
        read_document(store, descriptor)?
    } else {
        let Some((path, file)) = open_blob(root, descriptor)? else {
            // Missing: the final walk reports it with the others.
            return Ok(());
        };
        counts.copied += 1;
        if !is_document {
            let digest = &descriptor.digest;
            return hoist_content::write_blob(
                store,
                &format!("hoist-load-{}-{}", digest.algorithm(), digest.hex()),
                BufReader::with_capacity(256 * 1024, file),
                digest,
                descriptor.size,
                Labels::new(),
            )
            .map(drop)
            .map_err(|e| {
                if e.is_failed_precondition() {
                    Error::new(
                        ErrorKind::DataLoss,
                        format!(
                            "{} does not hold the blob its name says: {e}",
                            path.display()
                        ),
                    )
                    .with_path(&path)
                    .with_digest(digest)
                    .with_source(e)
                } else {
                    Error::content(format!("storing {}", path.display()), e).with_digest(digest)
                }
            });
        }
        let document = read_opened_document(&path, file, descriptor)?;
        crate::store_io::store_document(store, &document)?;
        document
    };
    for child in document.children() {
        copy_tree(store, root, child, depth + 1, counts)?;
    }
    Ok(())
}

/// Opens `blobs/<alg>/<hex>` under `root`, refusing links that leave it and
/// files whose size is not the descriptor's; `None` if there is no such file.
fn open_blob(root: &Path, descriptor: &Descriptor) -> Result<Option<(PathBuf, File)>> {
    let path = root.join(layout::blob_path(&descriptor.digest));
    let Some(real) = inside(root, &path)? else {
        return Ok(None);
    };
    let file = File::open(&real).map_err(|e| Error::io("opening", &path, e))?;
    let metadata = file
        .metadata()
        .map_err(|e| Error::io("reading the size of", &path, e))?;
    if !metadata.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{} is not a regular file", path.display()),
        )
        .with_path(&path));
    }
    if metadata.len() != descriptor.size {
        return Err(Error::new(
            ErrorKind::DataLoss,
            format!(
                "{} is {} bytes, but its descriptor says {}",
                path.display(),
                metadata.len(),
                descriptor.size
            ),
        )
        .with_path(&path)
        .with_digest(&descriptor.digest)
        .with_detail(Detail::SizeMismatch {
            expected: descriptor.size,
            actual: metadata.len(),
        }));
    }
    Ok(Some((path, file)))
}

/// The real path of `path` if it exists and lies inside `root`; `None` if it
/// does not exist.
fn inside(root: &Path, path: &Path) -> Result<Option<PathBuf>> {
    let real = match fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("resolving", path, e)),
    };
    if !real.starts_with(root) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{} leads to {}, outside the layout; refusing it",
                path.display(),
                real.display()
            ),
        )
        .with_path(path));
    }
    Ok(Some(real))
}

/// Reads a small file of the layout, or `None` if it does not exist.
fn read_small_file(root: &Path, name: &str) -> Result<Option<Vec<u8>>> {
    let path = root.join(name);
    let Some(real) = inside(root, &path)? else {
        return Ok(None);
    };
    let file = File::open(&real).map_err(|e| Error::io("opening", &path, e))?;
    let mut raw = Vec::new();
    file.take(MAX_DOCUMENT_SIZE + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Error::io("reading", &path, e))?;
    if raw.len() as u64 > MAX_DOCUMENT_SIZE {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!("{} is over hoist's 4 MiB limit for it", path.display()),
        )
        .with_path(&path));
    }
    Ok(Some(raw))
}
