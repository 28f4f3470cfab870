//! The objects of every namespace as a collection (or fsck) reads them.
//!
//! A collection holds every content record of every namespace at once
//! (100,000 in the benchmark), so the content records of a namespace live in
//! an arena ([`BlobGraph`]): node `i` is the `i`-th record in key order, its
//! digest, size and outgoing references sit in flat vectors, and one map
//! finds a node by digest. Marking then works on `u32` node numbers and a
//! byte per node.

use std::collections::{BTreeMap, HashMap};

use crate::compact_digest::CompactDigest;
use crate::error::{Error, Result};
use crate::fasthash::FastMap;
use crate::keys::{self, ResourceKind, Table};
use crate::kv::Kv;
use crate::labels::{self, GC_ROOT};
use crate::records::{self, ContentRecord, ImageRecord, IngestRecord, LeaseRecord};

/// A node of a [`BlobGraph`].
pub(crate) type NodeId = u32;

/// One namespace's objects, as loaded for marking.
#[derive(Default)]
pub(crate) struct NsGraph {
    pub(crate) blobs: BlobGraph,
    pub(crate) images: Vec<(String, ImageRecord)>,
    pub(crate) leases: Vec<(String, LeaseRecord)>,
    pub(crate) resources: HashMap<String, Vec<(ResourceKind, String)>>,
    pub(crate) ingests: Vec<(String, IngestRecord)>,
}

/// The content records of one namespace; see the module docs.
#[derive(Default)]
pub(crate) struct BlobGraph {
    digests: Vec<CompactDigest>,
    /// The recorded size (always known with [`Detail::Full`]).
    sizes: Vec<Option<u64>>,
    /// The references of node `i` are `refs[ref_ends[i - 1]..ref_ends[i]]`
    /// (from 0 for node 0).
    ref_ends: Vec<u32>,
    refs: Vec<CompactDigest>,
    /// Nodes labelled `containerd.io/gc.root`.
    roots: Vec<NodeId>,
    /// Back references (`containerd.io/gc.bref.content*`): the digest that
    /// holds a node, and the node.
    back_refs: Vec<(CompactDigest, NodeId)>,
    /// The back references whose holder is recorded, as (holder, held),
    /// sorted; built by [`BlobGraph::seal`].
    held_by: Vec<(NodeId, NodeId)>,
    /// Built by [`BlobGraph::seal`] once every node is in.
    index: DigestIndex,
}

/// Finds a node by digest: open addressing over node numbers, probed
/// linearly from [`CompactDigest::spread`]. At 4 bytes a slot and at most half
/// full, the table for 100,000 records is 1 MiB, so a lookup costs about
/// one cache miss in it and one in the digests (a general-purpose map
/// holding the 40-byte keys themselves was a fifth of a collection).
#[derive(Default)]
struct DigestIndex {
    slots: Vec<NodeId>,
}

/// A slot no node occupies.
const EMPTY: NodeId = NodeId::MAX;

impl DigestIndex {
    /// Indexes every digest of `digests`.
    fn build(digests: &[CompactDigest]) -> DigestIndex {
        let size = (digests.len() * 2).next_power_of_two().max(8);
        let mut slots = vec![EMPTY; size];
        let mask = size - 1;
        for (node, digest) in (0..).zip(digests) {
            // Truncation is the point: the low bits pick the slot.
            let mut slot = digest.spread() as usize & mask;
            while slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            slots[slot] = node;
        }
        DigestIndex { slots }
    }

    fn find(&self, digests: &[CompactDigest], digest: &CompactDigest) -> Option<NodeId> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut slot = digest.spread() as usize & mask;
        loop {
            let node = self.slots[slot];
            if node == EMPTY {
                return None;
            }
            if digests[node as usize] == *digest {
                return Some(node);
            }
            slot = (slot + 1) & mask;
        }
    }
}

impl BlobGraph {
    /// Adds a record; its references must have been pushed to `refs` (see
    /// [`BlobGraph::push_ref`]) just before.
    fn push_node(&mut self, digest: CompactDigest, size: Option<u64>, root: bool) -> Result<()> {
        let id = NodeId::try_from(self.digests.len())
            .map_err(|_| Error::invalid("more than 4 billion content records in a namespace"))?;
        let ends = u32::try_from(self.refs.len())
            .map_err(|_| Error::invalid("more than 4 billion references in a namespace"))?;
        self.digests.push(digest);
        self.sizes.push(size);
        self.ref_ends.push(ends);
        if root {
            self.roots.push(id);
        }
        Ok(())
    }

    /// Indexes the nodes by digest; [`BlobGraph::find`] finds nothing before.
    fn seal(&mut self) {
        self.index = DigestIndex::build(&self.digests);
        let mut held_by: Vec<(NodeId, NodeId)> = self
            .back_refs
            .iter()
            .filter_map(|(holder, held)| Some((self.find(holder)?, *held)))
            .collect();
        held_by.sort_unstable();
        self.held_by = held_by;
    }

    /// Adds a back reference of the record about to be pushed: it is held
    /// while `holder` is.
    fn push_back_ref(&mut self, holder: CompactDigest) {
        // Truncation cannot happen: `push_node` refuses the 2^32-th node.
        let node = self.digests.len() as NodeId;
        self.back_refs.push((holder, node));
    }

    /// The nodes held by `node` through their back references.
    pub(crate) fn held_by(&self, node: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let start = self.held_by.partition_point(|(holder, _)| *holder < node);
        self.held_by[start..]
            .iter()
            .take_while(move |(holder, _)| *holder == node)
            .map(|(_, held)| *held)
    }

    /// The back references whose holder has no record here: (node, holder).
    pub(crate) fn dangling_back_refs(&self) -> impl Iterator<Item = (NodeId, &CompactDigest)> {
        self.back_refs
            .iter()
            .filter(|(holder, _)| self.find(holder).is_none())
            .map(|(holder, node)| (*node, holder))
    }

    /// Adds a reference of the record about to be pushed.
    fn push_ref(&mut self, digest: CompactDigest) {
        self.refs.push(digest);
    }

    /// Adds a record named `digest` referencing `refs`.
    #[cfg(test)]
    pub(crate) fn add_for_test(&mut self, digest: &str, refs: &[&str], root: bool) {
        self.add_with_back_refs_for_test(digest, refs, &[], root);
    }

    /// Adds a record named `digest` referencing `refs`, held by `holders`.
    #[cfg(test)]
    pub(crate) fn add_with_back_refs_for_test(
        &mut self,
        digest: &str,
        refs: &[&str],
        holders: &[&str],
        root: bool,
    ) {
        for reference in refs {
            self.push_ref(CompactDigest::parse(reference));
        }
        for holder in holders {
            self.push_back_ref(CompactDigest::parse(holder));
        }
        self.push_node(CompactDigest::parse(digest), Some(1), root)
            .expect("a small graph");
        self.seal();
    }

    /// How many records.
    pub(crate) fn len(&self) -> usize {
        self.digests.len()
    }

    /// The node recording `digest`, if any.
    pub(crate) fn find(&self, digest: &CompactDigest) -> Option<NodeId> {
        self.index.find(&self.digests, digest)
    }

    /// The recorded size of `node`, if read.
    pub(crate) fn size(&self, node: NodeId) -> Option<u64> {
        self.sizes[node as usize]
    }

    /// The digests `node` references.
    pub(crate) fn refs(&self, node: NodeId) -> &[CompactDigest] {
        let i = node as usize;
        let start = if i == 0 { 0 } else { self.ref_ends[i - 1] };
        &self.refs[start as usize..self.ref_ends[i] as usize]
    }

    /// The nodes labelled `containerd.io/gc.root`.
    pub(crate) fn roots(&self) -> &[NodeId] {
        &self.roots
    }

    /// Every node with its digest, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (NodeId, &CompactDigest)> {
        (0..).zip(self.digests.iter())
    }
}

/// What [`load`] must read of each content record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    /// Only what marking needs (GC).
    Marking,
    /// Sizes too (fsck).
    Full,
}

/// What loading does with a record (or key) it cannot read.
pub(crate) enum Unreadable<'a> {
    /// Stop with the error. A collection must: the record may be a root (an
    /// image, a lease) or carry edges, and sweeping past it could delete
    /// what it keeps.
    Fail,
    /// Skip the record and list its key (printable, NUL shown as `/`) with
    /// the reason: fsck reports it as damage and goes on.
    Collect(&'a mut Vec<(String, String)>),
}

impl Unreadable<'_> {
    /// `Ok(Some(value))` when `result` holds one, `Ok(None)` when the
    /// record is skipped (and listed), the error when loading must stop.
    fn judge<T>(&mut self, key: &[u8], result: Result<T>) -> Result<Option<T>> {
        match (result, self) {
            (Ok(value), _) => Ok(Some(value)),
            (Err(error), Unreadable::Fail) => Err(error),
            (Err(error), Unreadable::Collect(list)) => {
                list.push((printable_key(key), error.to_string()));
                Ok(None)
            }
        }
    }
}

/// A key as text, its NUL separators shown as `/`.
pub(crate) fn printable_key(key: &[u8]) -> String {
    String::from_utf8_lossy(key).replace('\0', "/")
}

/// Reads every namespace's objects.
pub(crate) fn load(
    kv: &dyn Kv,
    detail: Detail,
    unreadable: &mut Unreadable<'_>,
) -> Result<Vec<(String, NsGraph)>> {
    let blobs = load_blobs(kv, detail, unreadable)?;
    let others = load_others(kv, unreadable)?;
    Ok(join(blobs, others))
}

/// The objects of a namespace other than its content records.
#[derive(Default)]
pub(crate) struct Others {
    images: Vec<(String, ImageRecord)>,
    leases: Vec<(String, LeaseRecord)>,
    resources: HashMap<String, Vec<(ResourceKind, String)>>,
    ingests: Vec<(String, IngestRecord)>,
}

/// Puts what [`load_blobs`] and [`load_others`] read together.
pub(crate) fn join(
    blobs: ByNamespace<BlobGraph>,
    others: ByNamespace<Others>,
) -> Vec<(String, NsGraph)> {
    let mut graphs: ByNamespace<NsGraph> = ByNamespace::default();
    for (ns, blobs) in blobs.items {
        graphs.get_mut(&ns).blobs = blobs;
    }
    for (ns, others) in others.items {
        let graph = graphs.get_mut(&ns);
        graph.images = others.images;
        graph.leases = others.leases;
        graph.resources = others.resources;
        graph.ingests = others.ingests;
    }
    graphs.items
}

/// One `T` per namespace, in the order namespaces were first seen.
pub(crate) struct ByNamespace<T> {
    items: Vec<(String, T)>,
    index: FastMap<String, usize>,
    /// Keys come sorted by namespace within a table: the last one is the
    /// likely next one.
    last: Option<usize>,
}

impl<T> Default for ByNamespace<T> {
    fn default() -> Self {
        ByNamespace {
            items: Vec::new(),
            index: FastMap::default(),
            last: None,
        }
    }
}

impl<T: Default> ByNamespace<T> {
    /// The `T` of `ns`, made on first use.
    fn get_mut(&mut self, ns: &str) -> &mut T {
        let i = match self.last {
            Some(i) if self.items[i].0 == ns => i,
            _ => match self.index.get(ns) {
                Some(&i) => i,
                None => {
                    self.items.push((ns.to_owned(), T::default()));
                    self.index.insert(ns.to_owned(), self.items.len() - 1);
                    self.items.len() - 1
                }
            },
        };
        self.last = Some(i);
        &mut self.items[i].1
    }
}

/// Reads every content record.
pub(crate) fn load_blobs(
    kv: &dyn Kv,
    detail: Detail,
    unreadable: &mut Unreadable<'_>,
) -> Result<ByNamespace<BlobGraph>> {
    let mut graphs: ByNamespace<BlobGraph> = ByNamespace::default();
    let gc_label = memchr::memmem::Finder::new(GC_LABEL_PREFIX);
    let blob_prefix = keys::key(Table::Blob, &[]);
    kv.scan(&blob_prefix, &mut |key, value| {
        let Some((ns, digest)) = unreadable.judge(key, split_key(key, &blob_prefix))? else {
            return Ok(true);
        };
        // No sizing ahead: the vectors grow by doubling, and the digest
        // index is built once, at its final size, by `seal`.
        let blobs = graphs.get_mut(ns);
        let (size, root) = match detail {
            Detail::Full => {
                // Decoded before anything is pushed, so a skipped record
                // leaves no stray references behind.
                let decoded = records::decode::<ContentRecord>(key, value);
                let Some(record) = unreadable.judge(key, decoded)? else {
                    return Ok(true);
                };
                for reference in labels::content_refs(&record.labels) {
                    blobs.push_ref(CompactDigest::parse(reference));
                }
                for holder in labels::content_backrefs(&record.labels) {
                    blobs.push_back_ref(CompactDigest::parse(holder));
                }
                (Some(record.size), record.labels.contains_key(GC_ROOT))
            }
            // Only collections read this way, and they fail on what they
            // cannot read.
            Detail::Marking => marking_view(key, value, &gc_label, blobs)?,
        };
        blobs.push_node(CompactDigest::parse(digest), size, root)?;
        Ok(true)
    })?;
    for (_, blobs) in &mut graphs.items {
        blobs.seal();
    }
    Ok(graphs)
}

/// Reads every image, lease, lease resource and ingest record.
pub(crate) fn load_others(
    kv: &dyn Kv,
    unreadable: &mut Unreadable<'_>,
) -> Result<ByNamespace<Others>> {
    let mut others: ByNamespace<Others> = ByNamespace::default();
    scan_records(kv, Table::Image, &mut others, |o| &mut o.images, unreadable)?;
    scan_records(kv, Table::Lease, &mut others, |o| &mut o.leases, unreadable)?;
    kv.scan(&keys::key(Table::LeaseResource, &[]), &mut |key, _| {
        let Some((ns, id, kind, name)) = unreadable.judge(key, lease_resource_parts(key))? else {
            return Ok(true);
        };
        others
            .get_mut(ns)
            .resources
            .entry((*id).to_owned())
            .or_default()
            .push((kind, (*name).to_owned()));
        Ok(true)
    })?;
    scan_records(
        kv,
        Table::Ingest,
        &mut others,
        |o| &mut o.ingests,
        unreadable,
    )?;
    Ok(others)
}

/// The namespace, lease id, kind and name of a lease-resource key.
fn lease_resource_parts(key: &[u8]) -> Result<(&str, &str, ResourceKind, &str)> {
    let parts = keys::parts(key)?;
    let [_, ns, id, kind, name] = parts.as_slice() else {
        return Err(malformed(key));
    };
    let kind = ResourceKind::from_tag(kind).ok_or_else(|| malformed(key))?;
    Ok((ns, id, kind, name))
}

/// Reads every record of `table` (keys `<table>\0<ns>\0<name>\0`) into the
/// list `list` picks out of its namespace's [`Others`].
fn scan_records<T: serde::de::DeserializeOwned>(
    kv: &dyn Kv,
    table: Table,
    others: &mut ByNamespace<Others>,
    list: fn(&mut Others) -> &mut Vec<(String, T)>,
    unreadable: &mut Unreadable<'_>,
) -> Result<()> {
    let prefix = keys::key(table, &[]);
    kv.scan(&prefix, &mut |key, value| {
        let read = split_key(key, &prefix)
            .and_then(|(ns, name)| Ok((ns, name, records::decode::<T>(key, value)?)));
        let Some((ns, name, record)) = unreadable.judge(key, read)? else {
            return Ok(true);
        };
        list(others.get_mut(ns)).push((name.to_owned(), record));
        Ok(true)
    })
}

/// Every GC label starts with this.
const GC_LABEL_PREFIX: &[u8] = b"containerd.io/gc.";

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
fn leading_size(value: &[u8]) -> Option<u64> {
    let rest = value.strip_prefix(br#"{"size":"#)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// The labels of a content record, borrowed from its bytes.
#[derive(serde::Deserialize)]
struct BorrowedLabels<'a> {
    #[serde(borrow, default)]
    labels: BTreeMap<&'a str, &'a str>,
}

/// What marking needs of a content record: its size (when cheap), whether
/// it is a root, and its references, pushed onto `blobs`. Most records
/// (layers, configs) carry no GC label and are not decoded at all; the
/// others are decoded borrowing their strings (owned only if they hold JSON
/// escapes).
fn marking_view(
    key: &[u8],
    value: &[u8],
    gc_label: &memchr::memmem::Finder<'_>,
    blobs: &mut BlobGraph,
) -> Result<(Option<u64>, bool)> {
    let size = leading_size(value);
    if gc_label.find(value).is_none() {
        if size.is_none() {
            // Not a record this crate wrote: let the decoder judge it.
            let record: ContentRecord = records::decode(key, value)?;
            return Ok((Some(record.size), false));
        }
        return Ok((size, false));
    }
    let borrowed = std::str::from_utf8(value)
        .ok()
        .and_then(|text| serde_json::from_str::<BorrowedLabels<'_>>(text).ok());
    match borrowed {
        Some(view) => {
            for (_, reference) in view
                .labels
                .iter()
                .filter(|(k, _)| labels::is_content_ref(k))
            {
                blobs.push_ref(CompactDigest::parse(reference));
            }
            for (_, holder) in view
                .labels
                .iter()
                .filter(|(k, _)| labels::is_content_backref(k))
            {
                blobs.push_back_ref(CompactDigest::parse(holder));
            }
            Ok((size, view.labels.contains_key(GC_ROOT)))
        }
        None => {
            let record: ContentRecord = records::decode(key, value)?;
            for reference in labels::content_refs(&record.labels) {
                blobs.push_ref(CompactDigest::parse(reference));
            }
            for holder in labels::content_backrefs(&record.labels) {
                blobs.push_back_ref(CompactDigest::parse(holder));
            }
            Ok((Some(record.size), record.labels.contains_key(GC_ROOT)))
        }
    }
}

pub(crate) fn malformed(key: &[u8]) -> Error {
    Error::data_loss(format!(
        "malformed metadata key {}",
        String::from_utf8_lossy(key).replace('\0', "/")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256(first: u8, last: u8) -> String {
        let mut hex = format!("{first:02x}");
        hex.push_str(&"0".repeat(60));
        hex.push_str(&format!("{last:02x}"));
        format!("sha256:{hex}")
    }

    #[test]
    fn the_index_finds_every_node_even_when_hashes_collide() {
        let mut graph = BlobGraph::default();
        // The same first 8 bytes (one hash) for 40 digests, plus odd keys.
        let digests: Vec<String> = (0..40)
            .map(|i| sha256(7, i))
            .chain(["sha512:ab".to_owned(), "junk".to_owned()])
            .collect();
        for digest in &digests {
            graph
                .push_node(CompactDigest::parse(digest), Some(1), false)
                .unwrap();
        }
        assert_eq!(
            graph.find(&CompactDigest::parse(&digests[0])),
            None,
            "not sealed yet"
        );
        graph.seal();
        for (node, digest) in (0..).zip(&digests) {
            assert_eq!(
                graph.find(&CompactDigest::parse(digest)),
                Some(node),
                "{digest}"
            );
        }
        for absent in [sha256(7, 200), sha256(8, 0), "sha512:cd".to_owned()] {
            assert_eq!(graph.find(&CompactDigest::parse(&absent)), None, "{absent}");
        }
        assert_eq!(BlobGraph::default().find(&CompactDigest::parse("x")), None);
    }

    #[test]
    fn references_belong_to_the_node_pushed_after_them() {
        let mut graph = BlobGraph::default();
        graph.add_for_test("a", &["x", "y"], false);
        graph.add_for_test("b", &[], true);
        graph.add_for_test("c", &["z"], false);
        let refs =
            |node| -> Vec<String> { graph.refs(node).iter().map(ToString::to_string).collect() };
        assert_eq!(refs(0), ["x", "y"]);
        assert!(refs(1).is_empty());
        assert_eq!(refs(2), ["z"]);
        assert_eq!(graph.roots(), [1]);
    }

    #[test]
    fn marking_reads_sizes_roots_and_references_without_decoding_leaves() {
        let finder = memchr::memmem::Finder::new(GC_LABEL_PREFIX);
        let mut graph = BlobGraph::default();
        let leaf = br#"{"size":42,"created":1,"updated":2}"#;
        assert_eq!(
            marking_view(b"k", leaf, &finder, &mut graph).unwrap(),
            (Some(42), false)
        );
        let labelled = br#"{"size":7,"created":1,"updated":2,"labels":{"containerd.io/gc.ref.content.l.0":"sha256:aa","containerd.io/gc.root":"x","other":"containerd.io/gc.ref.content.fake"}}"#;
        assert_eq!(
            marking_view(b"k", labelled, &finder, &mut graph).unwrap(),
            (Some(7), true)
        );
        graph
            .push_node(CompactDigest::parse("n"), Some(7), true)
            .unwrap();
        let refs: Vec<String> = graph.refs(0).iter().map(ToString::to_string).collect();
        assert_eq!(refs, ["sha256:aa"]);
        // Not JSON at all: an error naming the key.
        let error = marking_view(b"blob\0ns\0d\0", b"garbage", &finder, &mut graph).unwrap_err();
        assert!(error.to_string().contains("does not decode"), "{error}");
    }
}
