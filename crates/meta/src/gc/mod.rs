//! Garbage collection: mark from the roots, sweep the rest.
//!
//! Runs in an exclusive session: no other operation of this process and no
//! other process touches the database meanwhile (writers, and the commits
//! that rename blobs into place, wait), so the graph cannot change under it.
//!
//! - **Roots**: images (unless `containerd.io/gc.expire` is past), unexpired
//!   leases and what they hold, content labelled `containerd.io/gc.root`,
//!   live ingests (a lease's, or an unleased one before its expiry).
//! - **Edges**: an image to its target (and to its own
//!   `containerd.io/gc.ref.content.*` labels), content to the digests named
//!   by its `containerd.io/gc.ref.content.*` labels, an ingest to its
//!   expected digest. An edge to a digest the namespace has no record of is
//!   dead and allowed.
//! - **Flat leases** (`containerd.io/gc.flat`) keep what they name, and an
//!   image's target, without following labels further.
//! - **Sweep**: one atomic batch removes unreachable content records,
//!   expired images, expired leases (with their resource lists) and dead
//!   ingest records; then blob files that no namespace records any more are
//!   deleted, and local ingests that no record owns are aborted.
//!
//! Crash analysis: a crash before the batch changes nothing; the batch is
//! atomic; a crash after it leaves only files and local ingests that nothing
//! records, which the next GC removes (fsck reports them until then).

mod graph;
mod mark;

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use hoist_content::{Algorithm, Digest, IngestManager, Manager};

use crate::compact_digest::CompactDigest;
use crate::crash;
use crate::error::{Error, Result};
use crate::fasthash::FastSet;
use crate::keys;
use crate::kv::Batch;
use crate::labels;
use crate::records::{ImageRecord, LeaseRecord};
use crate::store::MetaStore;

pub(crate) use graph::{Detail, NsGraph, Unreadable, load, printable_key};
use graph::{join, load_blobs, load_others};
use mark::{Marked, mark};

/// How to collect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GcOptions {
    /// Report what would be removed, and the bytes that would be freed,
    /// without removing anything.
    pub dry_run: bool,
}

impl GcOptions {
    /// A real collection.
    pub fn new() -> GcOptions {
        GcOptions::default()
    }

    /// Only report.
    pub fn dry_run() -> GcOptions {
        GcOptions { dry_run: true }
    }
}

/// An object of a namespace: a content record (by digest), an image (by
/// name), a lease (by id) or an ingest (by reference).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// The namespace.
    pub namespace: String,
    /// The digest, image name, lease id or ingest reference.
    pub name: String,
}

/// What a collection removed (or, for a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GcReport {
    /// True when nothing was actually removed.
    pub dry_run: bool,
    /// Content records no root reaches.
    pub content: Vec<ObjectRef>,
    /// Images whose `containerd.io/gc.expire` has passed (and that no live
    /// lease holds).
    pub images: Vec<ObjectRef>,
    /// Expired leases.
    pub leases: Vec<ObjectRef>,
    /// Ingest records that are no longer live.
    pub ingests: Vec<ObjectRef>,
    /// Blob files no namespace records any more.
    pub blobs: Vec<Digest>,
    /// Ingests of the local store that no record owns (crash debris).
    pub local_ingests: Vec<String>,
    /// The bytes the removed blob files held.
    pub bytes_freed: u64,
    /// Blob files kept.
    pub blobs_kept: u64,
    /// Time spent loading the graph and marking.
    pub mark_time: Duration,
    /// Time spent writing the batch and deleting files.
    pub sweep_time: Duration,
}

/// Runs a collection; see the module docs.
pub(crate) fn collect(store: &MetaStore, options: GcOptions) -> Result<GcReport> {
    let started = Instant::now();
    let session = store.exclusive()?;
    let now = SystemTime::now();
    let report = std::thread::scope(|scope| {
        // The blob directory is listed, and the records other than content
        // read, on another thread while the content records are read: the
        // listing and the content records are the bulk of a collection's
        // time. Nothing can commit meanwhile (the session is exclusive), so
        // the listing stays true.
        let kv = session.kv();
        let helper = scope.spawn(|| {
            Ok::<_, Error>((
                list_blob_files(store)?,
                load_others(kv, &mut Unreadable::Fail)?,
            ))
        });
        let blobs = load_blobs(kv, Detail::Marking, &mut Unreadable::Fail)?;
        let (files, others) = helper
            .join()
            .unwrap_or_else(|_| Err(Error::data_loss("listing the blob files panicked")))?;
        let graph = join(blobs, others);
        let marked: Vec<Marked<'_>> = graph.iter().map(|(ns, g)| mark(ns, g, now)).collect();
        let mut report = GcReport {
            dry_run: options.dry_run,
            ..GcReport::default()
        };
        let mut batch = Batch::default();
        let surviving_ingests = plan_metadata(&graph, &marked, now, &mut batch, &mut report);
        report.mark_time = started.elapsed();
        crash::point("gc:after-mark");

        let sweep_started = Instant::now();
        if !options.dry_run {
            batch.put(keys::gc_deletions(), b"0".to_vec());
            // Metadata first, in one atomic batch; files only after it is durable.
            session.kv().write(batch)?;
            crash::point("gc:after-batch");
        }
        sweep_files(store, files, &graph, &marked, &options, &mut report)?;
        sweep_local_ingests(store, &surviving_ingests, &options, &mut report)?;
        report.sweep_time = sweep_started.elapsed();
        Ok::<GcReport, Error>(report)
    })?;
    drop(session);
    tracing::debug!(
        "gc{}: {} content records, {} images, {} leases, {} ingests, {} blobs ({} bytes) in {:?}",
        if options.dry_run { " (dry run)" } else { "" },
        report.content.len(),
        report.images.len(),
        report.leases.len(),
        report.ingests.len(),
        report.blobs.len(),
        report.bytes_freed,
        started.elapsed()
    );
    Ok(report)
}

/// Puts the deletion of every unmarked record into `batch` and lists it in
/// `report`; returns the local ingests that surviving ingest records own.
fn plan_metadata<'g>(
    graph: &'g [(String, NsGraph)],
    marked: &[Marked<'_>],
    now: SystemTime,
    batch: &mut Batch,
    report: &mut GcReport,
) -> FastSet<&'g str> {
    let mut surviving_ingests: FastSet<&str> = FastSet::default();
    for ((ns, g), marked) in graph.iter().zip(marked) {
        for (node, digest) in g.blobs.iter() {
            if !marked.kept(node) {
                let digest = digest.to_string();
                batch.delete(keys::blob(ns, &digest));
                report.content.push(object_ref(ns, &digest));
            }
        }
        for (name, record) in &g.images {
            if !marked.images.contains(name.as_str()) && image_expired(ns, name, record, now) {
                batch.delete(keys::image(ns, name));
                report.images.push(object_ref(ns, name));
            }
        }
        for (id, _) in &g.leases {
            if !marked.leases.contains(id.as_str()) {
                batch.delete(keys::lease(ns, id));
                for (kind, name) in g.resources.get(id).into_iter().flatten() {
                    batch.delete(keys::lease_resource(ns, id, *kind, name));
                }
                report.leases.push(object_ref(ns, id));
            }
        }
        for (reference, record) in &g.ingests {
            if marked.ingests.contains(reference.as_str()) {
                surviving_ingests.insert(&record.backend);
            } else {
                batch.delete(keys::ingest(ns, reference));
                report.ingests.push(object_ref(ns, reference));
            }
        }
        // Lease resources left by a lease whose record is gone (cannot
        // happen through this crate: a lease and its list go in one batch).
        let lease_ids: HashSet<&str> = g.leases.iter().map(|(id, _)| id.as_str()).collect();
        for (id, resources) in &g.resources {
            if !lease_ids.contains(id.as_str()) {
                for (kind, name) in resources {
                    batch.delete(keys::lease_resource(ns, id, *kind, name));
                }
            }
        }
    }
    report.content.sort();
    report.images.sort();
    report.leases.sort();
    report.ingests.sort();
    surviving_ingests
}

pub(crate) fn object_ref(ns: &str, name: &str) -> ObjectRef {
    ObjectRef {
        namespace: ns.to_owned(),
        name: name.to_owned(),
    }
}

fn image_expired(ns: &str, name: &str, record: &ImageRecord, now: SystemTime) -> bool {
    labels::is_expired(
        &record.labels,
        now,
        &format_args!("image {name:?} in namespace {ns:?}"),
    )
}

pub(crate) fn lease_expired(ns: &str, id: &str, record: &LeaseRecord, now: SystemTime) -> bool {
    labels::is_expired(
        &record.labels,
        now,
        &format_args!("lease {id:?} in namespace {ns:?}"),
    )
}

/// The blob files found: their digests as [`CompactDigest`]s, by algorithm.
type Listing = Vec<(Algorithm, Vec<CompactDigest>)>;

/// Lists the blob directories, decoding each name on the way (this runs on
/// the listing thread, in parallel with the database scan, so the main
/// thread only looks the keys up).
///
/// Listed directly rather than through `Manager::walk`, which stats every
/// file: only the files to remove are stat'ed later (for the bytes freed).
/// The layout, `blobs/<alg>/<hex>`, is hoist-content's documented one,
/// reached through `LocalStore::blob_path`. Names that are not UTF-8 are not
/// blobs and are left alone.
fn list_blob_files(store: &MetaStore) -> Result<Listing> {
    let local = store.local();
    let mut listing = Vec::new();
    for algorithm in Algorithm::ALL {
        let probe =
            Digest::new(algorithm, &"0".repeat(algorithm.hex_len())).map_err(Error::from)?;
        let path = local.blob_path(&probe);
        let Some(dir) = path.parent() else { continue };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(Error::io("list", dir, error)),
        };
        let mut keys = Vec::new();
        for entry in entries {
            let name = entry
                .map_err(|error| Error::io("list", dir, error))?
                .file_name();
            if let Some(hex) = name.to_str() {
                keys.push(CompactDigest::from_file_name(algorithm.as_str(), hex));
            }
        }
        listing.push((algorithm, keys));
    }
    Ok(listing)
}

/// Deletes the listed blob files that no namespace keeps a record of (or,
/// dry, counts them).
fn sweep_files(
    store: &MetaStore,
    files: Listing,
    graph: &[(String, NsGraph)],
    marked: &[Marked<'_>],
    options: &GcOptions,
    report: &mut GcReport,
) -> Result<()> {
    let local = store.local();
    let mut doomed = Vec::new();
    for (_, keys) in files {
        for key in keys {
            let mut kept = false;
            let mut size = None;
            for ((_, g), marked) in graph.iter().zip(marked) {
                if let Some(node) = g.blobs.find(&key) {
                    kept |= marked.kept(node);
                    size = size.or(g.blobs.size(node));
                }
            }
            if kept {
                report.blobs_kept += 1;
            } else if let Ok(digest) = key.to_string().parse::<Digest>() {
                // Anything else in there (a temporary name) is not a blob.
                doomed.push((digest, size));
            }
        }
    }
    for (digest, recorded_size) in doomed {
        // The bytes freed: a record's size (a blob's size never changes),
        // else the file's.
        let size = match recorded_size {
            Some(size) => size,
            None => match local.info(&digest) {
                Ok(info) => info.size,
                Err(error) if error.is_not_found() => continue,
                Err(error) => return Err(error.into()),
            },
        };
        if !options.dry_run {
            local.delete(&digest).map_err(Error::from)?;
            crash::point("gc:after-first-file");
        }
        report.bytes_freed += size;
        report.blobs.push(digest);
    }
    report.blobs.sort();
    Ok(())
}

/// Aborts local ingests no surviving record owns; live ones are skipped.
fn sweep_local_ingests(
    store: &MetaStore,
    surviving: &FastSet<&str>,
    options: &GcOptions,
    report: &mut GcReport,
) -> Result<()> {
    let local = store.local();
    for status in local.list_statuses().map_err(Error::from)? {
        if surviving.contains(status.reference.as_str()) {
            continue;
        }
        if options.dry_run {
            report.local_ingests.push(status.reference);
            continue;
        }
        match local.abort(&status.reference) {
            Ok(()) => report.local_ingests.push(status.reference),
            Err(error) if error.is_not_found() || error.is_unavailable() => {
                tracing::debug!("gc left ingest {:?}: {error}", status.reference);
            }
            Err(error) => return Err(error.into()),
        }
    }
    report.local_ingests.sort();
    Ok(())
}
