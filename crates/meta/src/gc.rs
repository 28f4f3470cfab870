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

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use hoist_content::{Algorithm, Digest, IngestManager, Manager};

use crate::blobkey::BlobKey;
use crate::clock;
use crate::crash;
use crate::database::Session;
use crate::error::{Error, Result};
use crate::fasthash::{FastMap, FastSet};
use crate::keys::{self, ResourceKind, Table};
use crate::kv::Batch;
use crate::labels::{self, GC_FLAT, GC_ROOT};
use crate::records::{self, ContentRecord, ImageRecord, IngestRecord, LeaseRecord};
use crate::store::MetaStore;

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

/// One namespace's objects, as loaded for marking.
#[derive(Default)]
pub(crate) struct NsGraph {
    pub(crate) blobs: FastMap<BlobKey, BlobNode>,
    pub(crate) images: Vec<(String, ImageRecord)>,
    pub(crate) leases: Vec<(String, LeaseRecord)>,
    pub(crate) resources: HashMap<String, Vec<(ResourceKind, String)>>,
    pub(crate) ingests: Vec<(String, IngestRecord)>,
}

pub(crate) struct BlobNode {
    /// The recorded size (always known with [`Detail::Full`]).
    pub(crate) size: Option<u64>,
    refs: Vec<BlobKey>,
    root: bool,
    /// Marking state: [`UNMARKED`], [`KEPT`] or [`FOLLOWED`].
    mark: Cell<u8>,
}

/// Not reached (yet).
const UNMARKED: u8 = 0;
/// Reached, by a flat hold at least: kept.
const KEPT: u8 = 1;
/// Reached and its references followed.
const FOLLOWED: u8 = 2;

impl BlobNode {
    fn new(size: Option<u64>, refs: Vec<BlobKey>, root: bool) -> BlobNode {
        BlobNode {
            size,
            refs,
            root,
            mark: Cell::new(UNMARKED),
        }
    }

    pub(crate) fn kept(&self) -> bool {
        self.mark.get() != UNMARKED
    }
}

/// Runs a collection; see the module docs.
pub(crate) fn collect(store: &MetaStore, options: GcOptions) -> Result<GcReport> {
    let started = Instant::now();
    let session = store.exclusive()?;
    let now = SystemTime::now();
    // The blob directory is listed on another thread while the database is
    // read: the two are the bulk of a collection's time. Nothing can commit
    // meanwhile (the session is exclusive), so the listing stays true.
    let (graph, files) = std::thread::scope(|scope| {
        let lister = scope.spawn(|| list_blob_files(store));
        let graph = load(&session, Detail::Marking);
        let files = lister
            .join()
            .unwrap_or_else(|_| Err(Error::data_loss("listing the blob files panicked")));
        (graph, files)
    });
    let (graph, files) = (graph?, files?);
    let mut report = GcReport {
        dry_run: options.dry_run,
        ..GcReport::default()
    };
    let mut batch = Batch::default();
    let mut surviving_ingests: FastSet<&str> = FastSet::default();
    for (ns, g) in &graph {
        let marked = mark(ns, g, now);
        for (digest, node) in g.blobs.iter() {
            if !node.kept() {
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
    }
    // Lease resources left by a lease whose record is gone (cannot happen
    // through this crate: a lease and its list go in one batch).
    for (ns, g) in &graph {
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
    report.mark_time = started.elapsed();
    crash::point("gc:after-mark");

    let sweep_started = Instant::now();
    if !options.dry_run {
        batch.put(keys::gc_deletions(), b"0".to_vec());
        // Metadata first, in one atomic batch; files only after it is durable.
        session.kv().write(batch)?;
        crash::point("gc:after-batch");
    }
    sweep_files(store, files, &graph, &options, &mut report)?;
    sweep_local_ingests(store, &surviving_ingests, &options, &mut report)?;
    report.sweep_time = sweep_started.elapsed();
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

/// Reads every namespace's objects.
pub(crate) fn load(session: &Session, detail: Detail) -> Result<Vec<(String, NsGraph)>> {
    let kv = session.kv();
    let mut graphs: Vec<(String, NsGraph)> = Vec::new();
    let mut index: FastMap<String, usize> = FastMap::default();
    // Keys are sorted by namespace within a table: remember the last one.
    let mut last: Option<(String, usize)> = None;
    let mut graph_of = |ns: &str, graphs: &mut Vec<(String, NsGraph)>| -> usize {
        if let Some((name, i)) = &last
            && name == ns
        {
            return *i;
        }
        let i = match index.get(ns) {
            Some(&i) => i,
            None => {
                graphs.push((ns.to_owned(), NsGraph::default()));
                index.insert(ns.to_owned(), graphs.len() - 1);
                graphs.len() - 1
            }
        };
        last = Some((ns.to_owned(), i));
        i
    };
    let expected_keys = kv.estimated_keys();
    let blob_prefix = keys::key(Table::Blob, &[]);
    kv.scan(&blob_prefix, &mut |key, value| {
        let (ns, digest) = split_key(key, &blob_prefix)?;
        let node = match detail {
            Detail::Full => {
                let record: ContentRecord = records::decode(key, value)?;
                BlobNode::new(
                    Some(record.size),
                    labels::content_refs(&record.labels)
                        .map(BlobKey::parse)
                        .collect(),
                    record.labels.contains_key(GC_ROOT),
                )
            }
            Detail::Marking => marking_node(key, value)?,
        };
        let i = graph_of(ns, &mut graphs);
        let blobs = &mut graphs[i].1.blobs;
        if blobs.is_empty() {
            // Growing a map of 100,000 entries step by step rehashes it many
            // times; most keys are content records, so size it up front.
            blobs.reserve(usize::try_from(expected_keys).unwrap_or(0).min(1 << 24));
        }
        blobs.insert(BlobKey::parse(digest), node);
        Ok(true)
    })?;
    let prefix = keys::key(Table::Image, &[]);
    kv.scan(&prefix, &mut |key, value| {
        let (ns, name) = split_key(key, &prefix)?;
        let record: ImageRecord = records::decode(key, value)?;
        let i = graph_of(ns, &mut graphs);
        graphs[i].1.images.push((name.to_owned(), record));
        Ok(true)
    })?;
    let prefix = keys::key(Table::Lease, &[]);
    kv.scan(&prefix, &mut |key, value| {
        let (ns, id) = split_key(key, &prefix)?;
        let record: LeaseRecord = records::decode(key, value)?;
        let i = graph_of(ns, &mut graphs);
        graphs[i].1.leases.push((id.to_owned(), record));
        Ok(true)
    })?;
    kv.scan(&keys::key(Table::LeaseResource, &[]), &mut |key, _| {
        let parts = keys::parts(key)?;
        let [_, ns, id, kind, name] = parts.as_slice() else {
            return Err(malformed(key));
        };
        let kind = ResourceKind::from_tag(kind).ok_or_else(|| malformed(key))?;
        let i = graph_of(ns, &mut graphs);
        graphs[i]
            .1
            .resources
            .entry((*id).to_owned())
            .or_default()
            .push((kind, (*name).to_owned()));
        Ok(true)
    })?;
    let prefix = keys::key(Table::Ingest, &[]);
    kv.scan(&prefix, &mut |key, value| {
        let (ns, reference) = split_key(key, &prefix)?;
        let record: IngestRecord = records::decode(key, value)?;
        let i = graph_of(ns, &mut graphs);
        graphs[i].1.ingests.push((reference.to_owned(), record));
        Ok(true)
    })?;
    Ok(graphs)
}

/// What [`load`] must read of each content record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    /// Only what marking needs (GC).
    Marking,
    /// Sizes too (fsck).
    Full,
}

/// Every GC label starts with this.
const GC_LABEL_PREFIX: &str = "containerd.io/gc.";

/// Splits `<table>\0<ns>\0<name>\0` (the table given as its `prefix`)
/// without allocating.
fn split_key<'k>(key: &'k [u8], prefix: &[u8]) -> Result<(&'k str, &'k str)> {
    let body = key
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(&[0]))
        .ok_or_else(|| malformed(key))?;
    let at = body
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| malformed(key))?;
    let ns = std::str::from_utf8(&body[..at]).map_err(|_| malformed(key))?;
    let name = std::str::from_utf8(&body[at + 1..]).map_err(|_| malformed(key))?;
    if name.contains('\0') {
        return Err(malformed(key));
    }
    Ok((ns, name))
}

/// The size at the start of a content record (`{"size":123,...`, the order
/// serde writes `ContentRecord` in), without decoding the rest; `None` if
/// the record does not start that way.
fn leading_size(text: &str) -> Option<u64> {
    let rest = text.strip_prefix(r#"{"size":"#)?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

/// The labels of a content record, borrowed from its bytes.
#[derive(serde::Deserialize)]
struct BorrowedLabels<'a> {
    #[serde(borrow, default)]
    labels: BTreeMap<&'a str, &'a str>,
}

/// What marking needs of a content record: its references and root label.
/// Most blobs (layers, configs) carry no GC label, and a record without
/// `containerd.io/gc.` is not decoded at all; the others are decoded
/// borrowing their strings (owned only if they hold JSON escapes).
fn marking_node(key: &[u8], value: &[u8]) -> Result<BlobNode> {
    let Ok(text) = std::str::from_utf8(value) else {
        // Not JSON at all: the decoder says so, naming the key.
        records::decode::<ContentRecord>(key, value)?;
        return Err(malformed(key));
    };
    let size = leading_size(text);
    if !text.contains(GC_LABEL_PREFIX) {
        return Ok(BlobNode::new(size, Vec::new(), false));
    }
    match serde_json::from_str::<BorrowedLabels<'_>>(text) {
        Ok(view) => Ok(BlobNode::new(
            size,
            view.labels
                .iter()
                .filter(|(k, _)| labels::is_content_ref(k))
                .map(|(_, v)| BlobKey::parse(v))
                .collect(),
            view.labels.contains_key(GC_ROOT),
        )),
        Err(_) => {
            let record: ContentRecord = records::decode(key, value)?;
            Ok(BlobNode::new(
                Some(record.size),
                labels::content_refs(&record.labels)
                    .map(BlobKey::parse)
                    .collect(),
                record.labels.contains_key(GC_ROOT),
            ))
        }
    }
}

fn malformed(key: &[u8]) -> Error {
    Error::data_loss(format!(
        "malformed metadata key {}",
        String::from_utf8_lossy(key).replace('\0', "/")
    ))
}

/// What survives in one namespace besides content (which is marked in the
/// nodes themselves).
struct Marked<'g> {
    images: HashSet<&'g str>,
    leases: HashSet<&'g str>,
    ingests: HashSet<&'g str>,
}

/// Marks one namespace: roots, then edges, depth first.
fn mark<'g>(ns: &str, g: &'g NsGraph, now: SystemTime) -> Marked<'g> {
    let mut marked = Marked {
        images: HashSet::new(),
        leases: HashSet::new(),
        ingests: HashSet::new(),
    };
    // (digest, follow its labels?)
    let mut stack: Vec<(BlobKey, bool)> = Vec::new();
    let images: HashMap<&str, &ImageRecord> = g
        .images
        .iter()
        .map(|(name, r)| (name.as_str(), r))
        .collect();
    let ingests: HashMap<&str, &IngestRecord> =
        g.ingests.iter().map(|(r, rec)| (r.as_str(), rec)).collect();

    let push_image = |stack: &mut Vec<(BlobKey, bool)>, record: &ImageRecord, flat: bool| {
        stack.push((BlobKey::parse(record.target.digest.as_str()), !flat));
        if !flat {
            stack.extend(labels::content_refs(&record.labels).map(|d| (BlobKey::parse(d), true)));
        }
    };
    let push_ingest = |stack: &mut Vec<(BlobKey, bool)>, record: &IngestRecord| {
        if let Some(expected) = &record.expected {
            stack.push((BlobKey::parse(expected.as_str()), true));
        }
    };

    for (id, record) in &g.leases {
        if lease_expired(ns, id, record, now) {
            continue;
        }
        marked.leases.insert(id);
        let flat = record.labels.contains_key(GC_FLAT);
        for (kind, name) in g.resources.get(id).into_iter().flatten() {
            match kind {
                ResourceKind::Content => stack.push((BlobKey::parse(name), !flat)),
                ResourceKind::Ingest => {
                    if let Some((reference, record)) = ingests.get_key_value(name.as_str()) {
                        marked.ingests.insert(reference);
                        push_ingest(&mut stack, record);
                    }
                }
                ResourceKind::Image => {
                    if let Some((image, record)) = images.get_key_value(name.as_str()) {
                        marked.images.insert(image);
                        push_image(&mut stack, record, flat);
                    }
                }
            }
        }
    }
    for (name, record) in &g.images {
        if !image_expired(ns, name, record, now) {
            marked.images.insert(name);
            push_image(&mut stack, record, false);
        }
    }
    let now_nanos = clock::to_nanos(now);
    for (reference, record) in &g.ingests {
        let live = match (&record.lease, record.expires) {
            // Its lease's resource list marked it above if the lease lives.
            (Some(_), _) => false,
            (None, Some(expires)) => expires > now_nanos,
            (None, None) => false,
        };
        if live {
            marked.ingests.insert(reference);
            push_ingest(&mut stack, record);
        }
    }
    for (digest, node) in &g.blobs {
        if node.root {
            stack.push((digest.clone(), true));
        }
    }
    while let Some((digest, follow)) = stack.pop() {
        let Some(node) = g.blobs.get(&digest) else {
            continue; // a dead edge
        };
        match (node.mark.get(), follow) {
            (FOLLOWED, _) | (KEPT, false) => {}
            (_, false) => node.mark.set(KEPT),
            (_, true) => {
                node.mark.set(FOLLOWED);
                stack.extend(node.refs.iter().map(|d| (d.clone(), true)));
            }
        }
    }
    marked
}

/// The names in the blob directories, by algorithm.
///
/// Listed directly rather than through `Manager::walk`, which stats every
/// file: only the files to remove are stat'ed later (for the bytes freed).
/// The layout, `blobs/<alg>/<hex>`, is hoist-content's documented one,
/// reached through `LocalStore::blob_path`.
fn list_blob_files(store: &MetaStore) -> Result<Vec<(Algorithm, Vec<std::ffi::OsString>)>> {
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
        let mut names = Vec::new();
        for entry in entries {
            names.push(
                entry
                    .map_err(|error| Error::io("list", dir, error))?
                    .file_name(),
            );
        }
        listing.push((algorithm, names));
    }
    Ok(listing)
}

/// Deletes the listed blob files that no namespace keeps a record of (or,
/// dry, counts them).
fn sweep_files(
    store: &MetaStore,
    files: Vec<(Algorithm, Vec<std::ffi::OsString>)>,
    graph: &[(String, NsGraph)],
    options: &GcOptions,
    report: &mut GcReport,
) -> Result<()> {
    let local = store.local();
    let mut doomed = Vec::new();
    for (algorithm, names) in files {
        for name in names {
            let Some(hex) = name.to_str() else { continue };
            let key = BlobKey::from_file_name(algorithm.as_str(), hex);
            let mut kept = false;
            let mut size = None;
            for (_, g) in graph {
                if let Some(node) = g.blobs.get(&key) {
                    kept |= node.kept();
                    size = size.or(node.size);
                }
            }
            if kept {
                report.blobs_kept += 1;
            } else if let Ok(digest) = Digest::new(algorithm, hex) {
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

/// The labels of a content record, for tests of the marking rules.
#[cfg(test)]
fn labels_of(pairs: &[(&str, &str)]) -> hoist_content::Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(refs: &[&str], root: bool) -> BlobNode {
        BlobNode::new(
            Some(1),
            refs.iter().map(|s| BlobKey::parse(s)).collect(),
            root,
        )
    }

    #[test]
    fn flat_roots_do_not_follow_labels_and_dead_edges_are_fine() {
        let mut g = NsGraph::default();
        g.blobs
            .insert(BlobKey::parse("a"), blob(&["b", "missing"], false));
        g.blobs.insert(BlobKey::parse("b"), blob(&["c"], false));
        g.blobs.insert(BlobKey::parse("c"), blob(&[], false));
        g.blobs.insert(BlobKey::parse("r"), blob(&["c"], true));
        g.leases.push((
            "flat".into(),
            LeaseRecord {
                created: 0,
                labels: labels_of(&[(GC_FLAT, "1")]),
            },
        ));
        g.resources
            .insert("flat".into(), vec![(ResourceKind::Content, "a".into())]);
        mark("ns", &g, SystemTime::now());
        let mut content: Vec<String> = g
            .blobs
            .iter()
            .filter(|(_, node)| node.kept())
            .map(|(digest, _)| digest.to_string())
            .collect();
        content.sort();
        assert_eq!(content, ["a", "c", "r"]);
    }
}
