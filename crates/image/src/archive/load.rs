//! Load: OCI layout tars (also gzip-compressed) and `docker save` archives,
//! streamed into the content store, verified, and only then named.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hoist_content::{
    ContentWriter, Digest, Digester, Ingester, Labels, Manager, Provider, WriterOptions, Written,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::entry_path;
use super::layout::{self, DOCKER_MANIFEST_FILE, INDEX_FILE, LAYOUT_FILE};
use super::names;
use super::referrers;
use crate::Descriptor;
use crate::annotations::{IMAGE_NAME, REF_NAME};
use crate::document::{Document, MAX_DOCUMENT_SIZE};
use crate::error::{Error, ErrorKind, MissingBlobs, Result};
use crate::graph;
use crate::media_type::{self, MediaKind};
use crate::store_io::{self, canonical_json, exists, read_document, store_document};

/// Entries other than blobs that are at most this big are held in memory
/// until the archive's end tells whether they are needed (a `docker save`
/// config, a small layer); larger ones go to the store as they stream by.
const SMALL_ENTRY: u64 = MAX_DOCUMENT_SIZE;
/// The most all such held entries may take together.
const MEMORY_BUDGET: u64 = 64 * 1024 * 1024;
/// How many symbolic links one lookup may follow.
const MAX_LINK_HOPS: usize = 16;
/// How long to wait for another writer of the same blob before giving up.
const WRITER_PATIENCE: Duration = Duration::from_secs(600);
/// Copy buffer for streaming entries into the store.
const COPY_BUFFER: usize = 256 * 1024;

/// Options of [`load`] and [`load_dir`](crate::load_dir).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Names entries whose only name is a bare tag
    /// (`org.opencontainers.image.ref.name` = `1.0`, as containerd writes it
    /// beside `io.containerd.image.name`): `<prefix>:<tag>`. Without it such
    /// entries come back unnamed.
    pub name_prefix: Option<String>,
    /// Also store the referrers the archive lists: unnamed `index.json`
    /// entries whose manifest has a `subject` (as `hoist save --referrers`
    /// and `oras copy -r --to-oci-layout` write them). Without it they are
    /// recognized, left out of the store and counted in
    /// [`Loaded::referrers_skipped`]; either way they are never images.
    pub referrers: bool,
}

/// The kind of archive that was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArchiveFormat {
    /// An OCI image layout (hoist, containerd, skopeo, Docker 25+).
    OciLayout,
    /// A `docker save` archive without an OCI layout (`manifest.json` only).
    DockerSave,
}

/// One image found in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedImage {
    /// Its name (`io.containerd.image.name`, a full `ref.name`, a Docker
    /// `RepoTags` entry made fully qualified, or the prefix plus a bare tag);
    /// `None` when the archive gives none.
    pub name: Option<String>,
    /// The archive's `org.opencontainers.image.ref.name` for it (a bare tag
    /// such as `v1` for skopeo's and containerd's archives), so a caller can
    /// say which entry it could not name.
    pub ref_name: Option<String>,
    /// What the name should point at (name annotations removed).
    pub target: Descriptor,
}

/// What [`load`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The archive's format.
    pub format: ArchiveFormat,
    /// The images, in archive order; the caller creates the names.
    pub images: Vec<LoadedImage>,
    /// How many blobs were written to the store.
    pub blobs: usize,
    /// How many of the archive's blobs the store held already: found by
    /// digest, neither read nor written again. (Only blobs stored under
    /// `blobs/<alg>/<hex>` are recognized before reading them.)
    pub blobs_present: usize,
    /// The referrers stored (with [`LoadOptions::referrers`]), as the
    /// referrers API lists them, in archive order.
    pub referrers: Vec<Descriptor>,
    /// How many referrer entries were left out because
    /// [`LoadOptions::referrers`] was off.
    pub referrers_skipped: usize,
    /// Referrers left out because their subject is neither in the archive
    /// nor in the store: nothing would hold them, and the next GC would take
    /// them.
    pub referrers_without_subject: Vec<Descriptor>,
}

/// An archive entry once read: held in memory, or already in the store.
#[derive(Debug, Clone)]
enum Held {
    Memory { bytes: Vec<u8>, digest: Digest },
    Stored { digest: Digest, size: u64 },
}

impl Held {
    fn digest(&self) -> &Digest {
        match self {
            Held::Memory { digest, .. } | Held::Stored { digest, .. } => digest,
        }
    }
}

/// Everything read from the tar, by clean path.
#[derive(Default)]
struct Contents {
    files: BTreeMap<String, Held>,
    symlinks: BTreeMap<String, String>,
    memory: u64,
    blobs_written: usize,
    blobs_present: usize,
}

impl Contents {
    /// The entry at `path`, following symbolic links inside the archive.
    fn lookup(&self, path: &str) -> Result<Option<&Held>> {
        let mut path = path.to_string();
        for _ in 0..MAX_LINK_HOPS {
            if let Some(held) = self.files.get(&path) {
                return Ok(Some(held));
            }
            match self.symlinks.get(&path) {
                Some(target) => path = target.clone(),
                None => return Ok(None),
            }
        }
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("archive entry {path:?} is behind more than {MAX_LINK_HOPS} symbolic links"),
        ))
    }
}

/// Loads an archive from `reader` into `store`: an OCI layout tar (as hoist,
/// containerd, skopeo and Docker 25+ write them) or a `docker save` archive,
/// plain or gzip-compressed.
///
/// Entries stream into the store as they are read; no blob is held whole
/// (entries up to 4 MiB that may be configs or small layers are held until
/// the end). `blobs/<alg>/<hex>` entries are verified against their names as
/// they are written. At the end, every blob the index reaches must be
/// stored with the size its descriptor gives. Only then are the images and
/// their names returned: a failed load names nothing, and what it stored is
/// held by the caller's lease alone, for the garbage collector to take.
///
/// A `docker save` archive's manifest is synthesized (a new Docker schema 2
/// manifest over its config and layers, whose digests are computed as they
/// are stored).
///
/// # Errors
/// Invalid-argument for an entry named with `..` or an absolute path, a link
/// that leaves the archive, a path given twice with different content, an
/// index that points at blobs the archive does not hold, or an archive that
/// is neither format; data-loss for a blob whose content or size is not the
/// one that names it; store and I/O errors.
pub fn load<S, R>(store: &S, reader: R, options: &LoadOptions) -> Result<Loaded>
where
    S: Provider + Manager + Ingester + ?Sized,
    R: Read,
{
    let mut buffered = BufReader::with_capacity(1 << 20, reader);
    // Peek at the magic number; a pipe may deliver it over several reads.
    let mut head = Vec::with_capacity(4);
    while head.len() < 4 {
        let chunk = buffered
            .fill_buf()
            .map_err(|e| read_error("the archive", e))?;
        if chunk.is_empty() {
            break;
        }
        let take = chunk.len().min(4 - head.len());
        head.extend_from_slice(&chunk[..take]);
        buffered.consume(take);
    }
    let stream = io::Cursor::new(head.clone()).chain(buffered);
    let decompressed: Box<dyn Read> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(stream))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "the archive is zstd-compressed; decompress it first (zstd -d)",
        ));
    } else {
        Box::new(stream)
    };
    let mut archive = tar::Archive::new(decompressed);
    let mut contents = Contents::default();
    let entries = archive
        .entries()
        .map_err(|e| read_error("the archive", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| read_error("an archive entry", e))?;
        read_entry(store, entry, &mut contents)?;
    }
    finish(store, contents, options)
}

fn read_entry<S, R>(store: &S, mut entry: tar::Entry<'_, R>, contents: &mut Contents) -> Result<()>
where
    S: Provider + Manager + Ingester + ?Sized,
    R: Read,
{
    use tar::EntryType;
    let entry_type = entry.header().entry_type();
    if matches!(entry_type, EntryType::XGlobalHeader | EntryType::XHeader) {
        return Ok(());
    }
    let raw_path = entry.path_bytes().into_owned();
    let Some(path) = entry_path::clean(&raw_path)? else {
        return Ok(());
    };
    match entry_type {
        EntryType::Directory => Ok(()),
        EntryType::Symlink => {
            let target = entry.link_name_bytes().unwrap_or_default().into_owned();
            let target = entry_path::symlink_target(&path, &target)?;
            if contents.files.contains_key(&path)
                || contents.symlinks.get(&path).is_some_and(|t| *t != target)
            {
                return Err(duplicate(&path));
            }
            contents.symlinks.insert(path, target);
            Ok(())
        }
        EntryType::Link => {
            let target = entry.link_name_bytes().unwrap_or_default().into_owned();
            let target = entry_path::hardlink_target(&path, &target)?;
            let Some(held) = contents.lookup(&target)?.cloned() else {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "archive entry {path:?} is a hard link to {target:?}, which comes nowhere before it"
                    ),
                ));
            };
            match contents.files.get(&path) {
                Some(existing) if existing.digest() != held.digest() => Err(duplicate(&path)),
                Some(_) => Ok(()),
                None => {
                    contents.files.insert(path, held);
                    Ok(())
                }
            }
        }
        EntryType::Regular | EntryType::Continuous => read_file(store, &path, &mut entry, contents),
        other => Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "archive entry {path:?} is a {other:?} entry, which image archives do not hold"
            ),
        )),
    }
}

fn read_file<S, R>(store: &S, path: &str, entry: &mut R, contents: &mut Contents) -> Result<()>
where
    S: Provider + Manager + Ingester + ?Sized,
    R: Read + HasSize,
{
    let size = entry.entry_size();
    if contents.symlinks.contains_key(path) {
        return Err(duplicate(path));
    }
    if let Some(existing) = contents.files.get(path) {
        // The same path again: it must hold the same bytes.
        let digest = hash_stream(entry, existing.digest(), path)?;
        if &digest != existing.digest() {
            return Err(duplicate(path));
        }
        return Ok(());
    }
    let special = [
        LAYOUT_FILE,
        INDEX_FILE,
        DOCKER_MANIFEST_FILE,
        "repositories",
    ]
    .contains(&path);
    let held = if special {
        let bytes = read_capped(entry, size, MAX_DOCUMENT_SIZE, path)?;
        let digest = Digest::sha256_of(&bytes);
        Held::Memory { bytes, digest }
    } else if let Some(digest) = layout::digest_of_blob_path(path) {
        match store_named_blob(store, path, entry, &digest, size)? {
            Named::Written(Written::Stored) => contents.blobs_written += 1,
            Named::Written(Written::AlreadyPresent) => contents.blobs_present += 1,
            Named::Referrer(bytes) => {
                if contents.memory + size > MEMORY_BUDGET {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        format!(
                            "the archive's referrer manifests take more than hoist's {} MiB for them (at {path})",
                            MEMORY_BUDGET / (1024 * 1024)
                        ),
                    ));
                }
                contents.memory += size;
                contents
                    .files
                    .insert(path.to_string(), Held::Memory { bytes, digest });
                return Ok(());
            }
        }
        Held::Stored { digest, size }
    } else if size <= SMALL_ENTRY && contents.memory + size <= MEMORY_BUDGET {
        let bytes = read_capped(entry, size, SMALL_ENTRY, path)?;
        contents.memory += size;
        let digest = Digest::sha256_of(&bytes);
        Held::Memory { bytes, digest }
    } else {
        let digest = store_unnamed_blob(store, path, entry, size)?;
        contents.blobs_written += 1;
        Held::Stored { digest, size }
    };
    contents.files.insert(path.to_string(), held);
    Ok(())
}

/// The size of what a reader will yield (a tar entry's).
trait HasSize {
    fn entry_size(&self) -> u64;
}

impl<R: Read> HasSize for tar::Entry<'_, R> {
    fn entry_size(&self) -> u64 {
        self.size()
    }
}

/// What became of a `blobs/<alg>/<hex>` entry.
enum Named {
    /// Written to the store (or found there).
    Written(Written),
    /// A manifest with a `subject`: verified and held in memory, stored at
    /// the end only if the load keeps it (a referrer written to the store
    /// would be held by its subject whether the load wanted it or not).
    Referrer(Vec<u8>),
}

/// Writes a `blobs/<alg>/<hex>` entry to the store, verified against its
/// name; a referrer manifest is verified and handed back instead.
fn store_named_blob<S, R>(
    store: &S,
    path: &str,
    entry: &mut R,
    digest: &Digest,
    size: u64,
) -> Result<Named>
where
    S: Ingester + ?Sized,
    R: Read,
{
    if size <= MAX_DOCUMENT_SIZE {
        // Small enough to be a manifest or an index: read it whole, check it,
        // and give it the GC labels of its children when it is one.
        let bytes = read_capped(entry, size, MAX_DOCUMENT_SIZE, path)?;
        let actual = Digest::of(digest.algorithm(), &bytes);
        if &actual != digest {
            return Err(lying_blob(path, digest, &actual));
        }
        let document = sniff_document(&bytes);
        if document
            .as_ref()
            .and_then(Document::as_manifest)
            .is_some_and(|m| m.subject().is_some())
        {
            return Ok(Named::Referrer(bytes));
        }
        let labels = document.map(|d| d.gc_labels()).unwrap_or_default();
        return hoist_content::write_blob(
            store,
            &ingest_ref(digest),
            bytes.as_slice(),
            digest,
            size,
            labels,
        )
        .map(Named::Written)
        .map_err(|e| {
            Error::content(format!("storing archive entry {path}"), e).with_digest(digest)
        });
    }
    hoist_content::write_blob(
        store,
        &ingest_ref(digest),
        entry,
        digest,
        size,
        Labels::new(),
    )
    .map(Named::Written)
    .map_err(|e| {
        if e.is_failed_precondition() {
            Error::new(
                ErrorKind::DataLoss,
                format!("archive entry {path} does not hold the blob its name says: {e}"),
            )
            .with_digest(digest)
            .with_source(e)
        } else {
            Error::content(format!("storing archive entry {path}"), e).with_digest(digest)
        }
    })
}

/// Writes an entry whose digest is not known in advance, computing it on the way.
fn store_unnamed_blob<S, R>(store: &S, path: &str, entry: &mut R, size: u64) -> Result<Digest>
where
    S: Ingester + ?Sized,
    R: Read,
{
    let options = WriterOptions::new(unique_ref()).total(size);
    let mut writer = hoist_content::open_writer_waiting(store, options, WRITER_PATIENCE)
        .map_err(|e| Error::content(format!("storing archive entry {path}"), e))?;
    let mut buffer = vec![0; COPY_BUFFER];
    let mut written = 0u64;
    loop {
        let n = match entry.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = writer.abort();
                return Err(read_error(path, e));
            }
        };
        if let Err(e) = io::Write::write_all(&mut writer, &buffer[..n]) {
            let _ = writer.abort();
            return Err(
                Error::new(ErrorKind::Io, format!("storing archive entry {path}: {e}"))
                    .with_source(e),
            );
        }
        written += n as u64;
    }
    let digest = writer.digest();
    if written != size {
        let _ = writer.abort();
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("archive entry {path} ended after {written} of its {size} bytes"),
        ));
    }
    match writer.commit(size, None, Labels::new()) {
        Ok(digest) => Ok(digest),
        Err(e) if e.is_already_exists() => Ok(digest),
        Err(e) => Err(Error::content(format!("storing archive entry {path}"), e)),
    }
}

/// Stores an entry held in memory (a config or small layer of a `docker save`).
fn store_held<S: Ingester + ?Sized>(store: &S, path: &str, held: &Held) -> Result<Descriptor> {
    match held {
        Held::Stored { digest, size } => Ok(Descriptor::new("", digest.clone(), *size)),
        Held::Memory { bytes, digest } => {
            hoist_content::write_blob(
                store,
                &ingest_ref(digest),
                bytes.as_slice(),
                digest,
                bytes.len() as u64,
                Labels::new(),
            )
            .map_err(|e| {
                Error::content(format!("storing archive entry {path}"), e).with_digest(digest)
            })?;
            Ok(Descriptor::new("", digest.clone(), bytes.len() as u64))
        }
    }
}

fn finish<S>(store: &S, mut contents: Contents, options: &LoadOptions) -> Result<Loaded>
where
    S: Provider + Manager + Ingester + ?Sized,
{
    if let Some(Held::Memory { bytes, .. }) = contents.lookup(LAYOUT_FILE)? {
        layout::check_layout(bytes)?;
        let Some(Held::Memory { bytes: index, .. }) = contents.lookup(INDEX_FILE)?.cloned() else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("the archive has an {LAYOUT_FILE} but no {INDEX_FILE}"),
            ));
        };
        let mut held = BTreeMap::new();
        for (path, file) in &contents.files {
            if let (Some(_), Held::Memory { bytes, .. }) = (layout::digest_of_blob_path(path), file)
            {
                let document = Document::from_bytes(bytes.clone(), None)?;
                held.insert(document.digest().clone(), document);
            }
        }
        let finished = finish_oci(store, index, &held, options)?;
        return Ok(Loaded {
            format: ArchiveFormat::OciLayout,
            images: finished.images,
            blobs: contents.blobs_written + finished.stored,
            blobs_present: contents.blobs_present,
            referrers: finished.referrers,
            referrers_skipped: finished.referrers_skipped,
            referrers_without_subject: finished.referrers_without_subject,
        });
    }
    if let Some(Held::Memory { bytes, .. }) = contents.lookup(DOCKER_MANIFEST_FILE)?.cloned() {
        let images = finish_docker(store, &mut contents, &bytes)?;
        return Ok(Loaded {
            format: ArchiveFormat::DockerSave,
            images,
            blobs: contents.blobs_written,
            blobs_present: contents.blobs_present,
            referrers: Vec::new(),
            referrers_skipped: 0,
            referrers_without_subject: Vec::new(),
        });
    }
    Err(Error::new(
        ErrorKind::InvalidArgument,
        format!(
            "not an image archive: it has neither {LAYOUT_FILE} and {INDEX_FILE} (OCI layout) nor {DOCKER_MANIFEST_FILE} (docker save)"
        ),
    ))
}

/// What [`finish_oci`] found and stored.
pub(crate) struct FinishedOci {
    pub(crate) images: Vec<LoadedImage>,
    pub(crate) referrers: Vec<Descriptor>,
    pub(crate) referrers_skipped: usize,
    pub(crate) referrers_without_subject: Vec<Descriptor>,
    /// How many of the held documents it wrote to the store.
    pub(crate) stored: usize,
}

/// Checks what an OCI layout's index reaches, names its image entries and
/// stores the referrers it keeps.
///
/// `held` holds the archive's manifests with a `subject`, verified but not
/// stored: each is written only when an image reaches it or, with
/// [`LoadOptions::referrers`], when it is a referrer entry whose subject is
/// in the archive or the store.
pub(crate) fn finish_oci<S>(
    store: &S,
    index: Vec<u8>,
    held: &BTreeMap<Digest, Document>,
    options: &LoadOptions,
) -> Result<FinishedOci>
where
    S: Provider + Manager + Ingester + ?Sized,
{
    let index = match Document::from_bytes(index, Some(media_type::OCI_INDEX)) {
        Ok(Document::Index(index)) => index,
        Ok(Document::Manifest(_)) => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{INDEX_FILE} is not an index"),
            ));
        }
        Err(e) => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{INDEX_FILE} is not a valid index: {e}"),
            )
            .with_source(e));
        }
    };
    let mut missing: Vec<MissingBlobs> = Vec::new();
    let mut images = Vec::new();
    let mut referrer_entries = Vec::new();
    let mut reached: BTreeSet<Digest> = BTreeSet::new();
    let mut to_store: BTreeSet<Digest> = BTreeSet::new();
    let push = |entries: &mut Vec<ReferrerEntry>, referrer: ReferrerEntry| {
        if !entries
            .iter()
            .any(|e| e.descriptor.digest == referrer.descriptor.digest)
        {
            entries.push(referrer);
        }
    };
    for descriptor in index.manifests() {
        if referrers::is_fallback_tag(descriptor)
            && let Some(Document::Index(listing)) = held_or_stored(store, held, descriptor)?
        {
            // regclient's layout: the referrers are the tag's children. An
            // index so tagged whose children are not all referrers is an
            // image like any other.
            let children = listing
                .manifests()
                .iter()
                .map(|child| referrer_entry(store, held, child))
                .collect::<Result<Option<Vec<_>>>>()?;
            if let Some(children) = children {
                for referrer in children {
                    push(&mut referrer_entries, referrer);
                }
                continue;
            }
        }
        if let Some(referrer) = referrer_entry(store, held, descriptor)? {
            push(&mut referrer_entries, referrer);
            continue;
        }
        let name = image_name(descriptor, options);
        let owner = name
            .clone()
            .unwrap_or_else(|| descriptor.digest.to_string());
        let walk = graph::walk(store, descriptor, &owner, held)?;
        missing.extend(walk.missing);
        note_reached(&walk.blobs, held, &mut reached, &mut to_store);
        let ref_name = descriptor
            .annotation(REF_NAME)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let mut target = descriptor.clone();
        target.annotations.remove(IMAGE_NAME);
        target.annotations.remove(REF_NAME);
        images.push(LoadedImage {
            name,
            ref_name,
            target,
        });
    }

    let mut kept = Vec::new();
    let mut without_subject = Vec::new();
    let referrers_skipped = if options.referrers {
        // A referrer is kept once its subject is: in an image of the
        // archive, a referrer kept before it (a signature of an SBOM), or
        // the store. Rounds until nothing more is kept, so the order of
        // the entries does not matter.
        let mut pending = referrer_entries;
        loop {
            let mut progress = false;
            let mut waiting = Vec::new();
            for entry in pending {
                let keep = match &entry.subject {
                    // Its manifest is missing: the walk reports it.
                    None => true,
                    Some(subject) => reached.contains(subject) || exists(store, subject)?,
                };
                if !keep {
                    waiting.push(entry);
                    continue;
                }
                progress = true;
                let owner = format!("referrer {}", entry.descriptor.digest);
                let walk = graph::walk(store, &entry.descriptor, &owner, held)?;
                missing.extend(walk.missing);
                note_reached(&walk.blobs, held, &mut reached, &mut to_store);
                kept.push(entry.listing);
            }
            pending = waiting;
            if !progress || pending.is_empty() {
                break;
            }
        }
        without_subject.extend(pending.into_iter().map(|entry| entry.listing));
        0
    } else {
        referrer_entries.len()
    };
    if !missing.is_empty() {
        return Err(Error::missing(
            format!("{INDEX_FILE} points at blobs the archive does not hold"),
            missing,
        )
        .with_kind(ErrorKind::InvalidArgument));
    }
    // Children before the documents naming them were stored as they
    // streamed by; the held documents go last, each once.
    let mut stored = 0;
    for digest in &to_store {
        if let Some(document) = held.get(digest) {
            store_document(store, document)?;
            stored += 1;
        }
    }
    Ok(FinishedOci {
        images,
        referrers: kept,
        referrers_skipped,
        referrers_without_subject: without_subject,
        stored,
    })
}

/// An `index.json` entry recognized as a referrer.
struct ReferrerEntry {
    /// The entry, name annotations and all.
    descriptor: Descriptor,
    /// Its subject, when its manifest is at hand.
    subject: Option<Digest>,
    /// Its descriptor as the referrers API lists it (the entry itself when
    /// the manifest is not at hand).
    listing: Descriptor,
}

/// The entry as a referrer if it is one: unnamed, and a manifest with a
/// `subject` (held, or stored already); or, when its manifest is nowhere,
/// a manifest entry with an `artifactType`.
fn referrer_entry<S>(
    store: &S,
    held: &BTreeMap<Digest, Document>,
    descriptor: &Descriptor,
) -> Result<Option<ReferrerEntry>>
where
    S: Provider + Manager + ?Sized,
{
    if referrers::is_named(descriptor)
        || media_type::classify(&descriptor.media_type) != MediaKind::Manifest
    {
        return Ok(None);
    }
    Ok(match held_or_stored(store, held, descriptor)? {
        Some(document) => referrers::listing(&document).map(|(subject, listing)| ReferrerEntry {
            descriptor: descriptor.clone(),
            subject: Some(subject),
            listing,
        }),
        None => descriptor.artifact_type.is_some().then(|| ReferrerEntry {
            descriptor: descriptor.clone(),
            subject: None,
            listing: descriptor.clone(),
        }),
    })
}

/// The document `descriptor` names: held, or stored; `None` if neither.
fn held_or_stored<S>(
    store: &S,
    held: &BTreeMap<Digest, Document>,
    descriptor: &Descriptor,
) -> Result<Option<Document>>
where
    S: Provider + Manager + ?Sized,
{
    match held.get(&descriptor.digest) {
        Some(document) => Ok(Some(document.clone())),
        None if exists(store, &descriptor.digest)? => read_document(store, descriptor).map(Some),
        None => Ok(None),
    }
}

/// Records what a walk reached, and which of it is held, waiting to be stored.
fn note_reached(
    blobs: &[Descriptor],
    held: &BTreeMap<Digest, Document>,
    reached: &mut BTreeSet<Digest>,
    to_store: &mut BTreeSet<Digest>,
) {
    for blob in blobs {
        reached.insert(blob.digest.clone());
        if held.contains_key(&blob.digest) {
            to_store.insert(blob.digest.clone());
        }
    }
}

/// The name an `index.json` entry gives its image.
fn image_name(descriptor: &Descriptor, options: &LoadOptions) -> Option<String> {
    if let Some(name) = descriptor.annotation(IMAGE_NAME).filter(|n| !n.is_empty()) {
        return Some(name.to_string());
    }
    let reference = descriptor.annotation(REF_NAME).filter(|n| !n.is_empty())?;
    if names::is_full_reference(reference) {
        return Some(reference.to_string());
    }
    options
        .name_prefix
        .as_ref()
        .map(|prefix| format!("{prefix}:{reference}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerItem {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

/// Synthesizes a Docker schema 2 manifest for each `manifest.json` item.
fn finish_docker<S>(
    store: &S,
    contents: &mut Contents,
    manifest_json: &[u8],
) -> Result<Vec<LoadedImage>>
where
    S: Provider + Manager + Ingester + ?Sized,
{
    let items: Vec<DockerItem> = serde_json::from_slice(manifest_json).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{DOCKER_MANIFEST_FILE} is not valid: {e}"),
        )
        .with_source(e)
    })?;
    let mut images = Vec::new();
    for item in items {
        let config_path = clean_reference(&item.config)?;
        let mut config = store_item_file(store, contents, &config_path)?;
        config.media_type = media_type::DOCKER_CONFIG.to_string();
        let mut layers = Vec::with_capacity(item.layers.len());
        for layer in &item.layers {
            let layer_path = clean_reference(layer)?;
            let mut descriptor = store_item_file(store, contents, &layer_path)?;
            descriptor.media_type = layer_media_type(store, &descriptor)?.to_string();
            layers.push(descriptor);
        }
        let mut manifest = Map::new();
        manifest.insert("schemaVersion".to_string(), Value::from(2));
        manifest.insert(
            "mediaType".to_string(),
            Value::from(media_type::DOCKER_MANIFEST),
        );
        manifest.insert("config".to_string(), config.to_json());
        manifest.insert(
            "layers".to_string(),
            Value::Array(layers.iter().map(Descriptor::to_json).collect()),
        );
        let document = Document::from_bytes(
            canonical_json(&Value::Object(manifest)),
            Some(media_type::DOCKER_MANIFEST),
        )?;
        store_document(store, &document)?;
        contents.blobs_written += 1;
        let mut target = document.descriptor().clone();
        if let Ok(platform) = store_io::read_config_platform(store, &config)
            && !platform.os.is_empty()
        {
            target.platform = Some(platform);
        }
        let tags = item.repo_tags.unwrap_or_default();
        if tags.is_empty() {
            images.push(LoadedImage {
                name: None,
                ref_name: None,
                target,
            });
        } else {
            for tag in tags {
                images.push(LoadedImage {
                    name: Some(names::normalize_docker(&tag)),
                    ref_name: Some(tag.clone()),
                    target: target.clone(),
                });
            }
        }
    }
    Ok(images)
}

/// A path named by `manifest.json`, cleaned like an entry name.
fn clean_reference(path: &str) -> Result<String> {
    entry_path::clean(path.as_bytes())?.ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{DOCKER_MANIFEST_FILE} names an empty path"),
        )
    })
}

/// Stores the file `manifest.json` names and returns its descriptor (no media type yet).
fn store_item_file<S: Ingester + ?Sized>(
    store: &S,
    contents: &mut Contents,
    path: &str,
) -> Result<Descriptor> {
    let Some(held) = contents.lookup(path)?.cloned() else {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{DOCKER_MANIFEST_FILE} names {path}, which the archive does not hold"),
        ));
    };
    let descriptor = store_held(store, path, &held)?;
    if matches!(held, Held::Memory { .. }) {
        contents.blobs_written += 1;
        // Stored now: later items naming the same file find it in the store.
        contents.files.insert(
            path.to_string(),
            Held::Stored {
                digest: descriptor.digest.clone(),
                size: descriptor.size,
            },
        );
    }
    Ok(descriptor)
}

/// A Docker layer's media type from its first bytes: gzip, zstd or a plain tar.
fn layer_media_type<S: Provider + ?Sized>(store: &S, layer: &Descriptor) -> Result<&'static str> {
    let digest = &layer.digest;
    let mut reader = store
        .reader(digest)
        .map_err(|e| Error::content(format!("reading layer {digest}"), e).with_digest(digest))?;
    let mut magic = [0u8; 4];
    let mut filled = 0;
    while filled < magic.len() {
        match reader.read(&mut magic[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(&format!("layer {digest}"), e)),
        }
    }
    let magic = &magic[..filled];
    Ok(if magic.starts_with(&[0x1f, 0x8b]) {
        media_type::DOCKER_LAYER_GZIP
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        media_type::DOCKER_LAYER_ZSTD
    } else {
        media_type::DOCKER_LAYER
    })
}

/// The blob parsed, if it is a manifest or an index.
fn sniff_document(bytes: &[u8]) -> Option<Document> {
    if bytes.first() != Some(&b'{') {
        return None;
    }
    Document::from_bytes(bytes.to_vec(), None).ok()
}

/// Reads a whole entry of `size` bytes, refusing more than `cap`.
fn read_capped<R: Read>(entry: &mut R, size: u64, cap: u64, path: &str) -> Result<Vec<u8>> {
    if size > cap {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "archive entry {path} is {size} bytes, over hoist's {} MiB limit for it",
                cap / (1024 * 1024)
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    entry
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| read_error(path, e))?;
    if bytes.len() as u64 != size {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "archive entry {path} ended after {} of its {size} bytes",
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

/// The digest of a stream, with the algorithm of `like`.
fn hash_stream<R: Read>(entry: &mut R, like: &Digest, path: &str) -> Result<Digest> {
    let mut digester = Digester::new(like.algorithm());
    let mut buffer = vec![0; COPY_BUFFER];
    loop {
        match entry.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => digester.update(&buffer[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(path, e)),
        }
    }
    Ok(digester.finish())
}

/// An ingest reference for a known blob: the same blob loaded twice at once
/// shares it, and the store makes the second writer wait.
fn ingest_ref(digest: &Digest) -> String {
    format!("hoist-load-{}-{}", digest.algorithm(), digest.hex())
}

/// An ingest reference no other writer uses.
fn unique_ref() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "hoist-load-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn duplicate(path: &str) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!("archive entry {path} appears twice with different content; refusing the archive"),
    )
}

fn lying_blob(path: &str, expected: &Digest, actual: &Digest) -> Error {
    Error::new(
        ErrorKind::DataLoss,
        format!(
            "archive entry {path} does not hold the blob its name says ({expected}): its bytes hash to {actual}"
        ),
    )
    .with_digest(expected)
}

fn read_error(what: &str, e: io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("reading {what}: {e}")).with_source(e)
}
