//! fsck: checks the invariants that crash safety promises.
//!
//! Runs in an exclusive session, so what it sees is one consistent state of
//! the database and the files.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::SystemTime;

use hoist_content::{Digest, Filter, IngestManager, Manager};

use crate::blobkey::BlobKey;
use crate::clock;
use crate::error::{Error, Result};
use crate::gc::{self, ObjectRef, object_ref};
use crate::keys::ResourceKind;
use crate::store::MetaStore;

/// An image whose target is missing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MissingTarget {
    /// The namespace and image name.
    pub image: ObjectRef,
    /// The target digest that has no record in the namespace, or no blob.
    pub target: Digest,
}

/// A content record whose blob file has another size.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SizeMismatch {
    /// The namespace and digest.
    pub record: ObjectRef,
    /// The size the record says.
    pub recorded: u64,
    /// The size of the file.
    pub on_disk: u64,
}

/// What [`MetaStore::fsck`] found. [`FsckReport::is_clean`] is true when
/// every list is empty; [`fmt::Display`] prints one line per finding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FsckReport {
    /// Images whose target the namespace has no record of, or whose blob
    /// file is missing.
    pub missing_targets: Vec<MissingTarget>,
    /// Content records without their blob file.
    pub records_without_blob: Vec<ObjectRef>,
    /// Content records whose blob file has another size.
    pub size_mismatches: Vec<SizeMismatch>,
    /// Blob files no namespace records: crash debris, removed by the next GC.
    pub unrecorded_blobs: Vec<Digest>,
    /// Ingest records past their expiry with no live lease holding them.
    pub expired_ingests: Vec<ObjectRef>,
    /// Ingests of the local store no record owns: crash debris, removed by
    /// the next GC.
    pub unowned_local_ingests: Vec<String>,
    /// Lease resources of leases that do not exist.
    pub orphan_lease_resources: Vec<ObjectRef>,
    /// How many images, content records and blob files were checked.
    pub checked: (u64, u64, u64),
}

impl FsckReport {
    /// True when nothing was found.
    pub fn is_clean(&self) -> bool {
        self.missing_targets.is_empty()
            && self.records_without_blob.is_empty()
            && self.size_mismatches.is_empty()
            && self.unrecorded_blobs.is_empty()
            && self.expired_ingests.is_empty()
            && self.unowned_local_ingests.is_empty()
            && self.orphan_lease_resources.is_empty()
    }
}

impl fmt::Display for FsckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (images, records, blobs) = self.checked;
        writeln!(
            f,
            "checked {images} images, {records} content records, {blobs} blob files"
        )?;
        for m in &self.missing_targets {
            writeln!(
                f,
                "image {:?} in namespace {:?}: target {} is missing",
                m.image.name, m.image.namespace, m.target
            )?;
        }
        for r in &self.records_without_blob {
            writeln!(
                f,
                "content {} in namespace {:?}: recorded, but its blob file is missing",
                r.name, r.namespace
            )?;
        }
        for m in &self.size_mismatches {
            writeln!(
                f,
                "content {} in namespace {:?}: recorded as {} bytes, the file has {}",
                m.record.name, m.record.namespace, m.recorded, m.on_disk
            )?;
        }
        for d in &self.unrecorded_blobs {
            writeln!(
                f,
                "blob {d}: no namespace records it (the next gc removes it)"
            )?;
        }
        for i in &self.expired_ingests {
            writeln!(
                f,
                "ingest {:?} in namespace {:?}: expired and held by no live lease",
                i.name, i.namespace
            )?;
        }
        for r in &self.unowned_local_ingests {
            writeln!(
                f,
                "local ingest {r:?}: no record owns it (the next gc aborts it)"
            )?;
        }
        for r in &self.orphan_lease_resources {
            writeln!(
                f,
                "lease {:?} in namespace {:?}: resources listed without the lease",
                r.name, r.namespace
            )?;
        }
        if self.is_clean() {
            writeln!(f, "clean")?;
        }
        Ok(())
    }
}

/// Runs the checks; see [`FsckReport`].
pub(crate) fn check(store: &MetaStore) -> Result<FsckReport> {
    let session = store.exclusive()?;
    let now = SystemTime::now();
    let now_nanos = clock::to_nanos(now);
    let graph = gc::load(session.kv(), gc::Detail::Full)?;
    let local = store.local();
    let mut on_disk: HashMap<Digest, u64> = HashMap::new();
    local
        .walk(&Filter::all(), &mut |info| {
            on_disk.insert(info.digest, info.size);
            Ok(())
        })
        .map_err(Error::from)?;
    let mut report = FsckReport::default();
    let mut recorded: HashSet<String> = HashSet::new();
    let mut owned_local_ingests: HashSet<&str> = HashSet::new();
    let mut counts = (0, 0, on_disk.len() as u64);
    for (ns, g) in &graph {
        for (node, key) in g.blobs.iter() {
            counts.1 += 1;
            let digest = key.to_string();
            let parsed: Digest = digest.parse().map_err(Error::from)?;
            recorded.insert(digest.clone());
            match on_disk.get(&parsed) {
                None => report.records_without_blob.push(object_ref(ns, &digest)),
                Some(&size) if Some(size) != g.blobs.size(node) => {
                    report.size_mismatches.push(SizeMismatch {
                        record: object_ref(ns, &digest),
                        recorded: g.blobs.size(node).unwrap_or(0),
                        on_disk: size,
                    })
                }
                Some(_) => {}
            }
        }
        for (name, record) in &g.images {
            counts.0 += 1;
            let target = &record.target.digest;
            if g.blobs.find(&BlobKey::parse(target.as_str())).is_none()
                || !on_disk.contains_key(target)
            {
                report.missing_targets.push(MissingTarget {
                    image: object_ref(ns, name),
                    target: target.clone(),
                });
            }
        }
        let live_leases: HashSet<&str> = g
            .leases
            .iter()
            .filter(|(id, record)| !gc::lease_expired(ns, id, record, now))
            .map(|(id, _)| id.as_str())
            .collect();
        let lease_ids: HashSet<&str> = g.leases.iter().map(|(id, _)| id.as_str()).collect();
        let mut leased_ingests: HashSet<&str> = HashSet::new();
        for (id, resources) in &g.resources {
            if !lease_ids.contains(id.as_str()) {
                report.orphan_lease_resources.push(object_ref(ns, id));
                continue;
            }
            if live_leases.contains(id.as_str()) {
                leased_ingests.extend(
                    resources
                        .iter()
                        .filter(|(kind, _)| *kind == ResourceKind::Ingest)
                        .map(|(_, reference)| reference.as_str()),
                );
            }
        }
        for (reference, record) in &g.ingests {
            owned_local_ingests.insert(&record.backend);
            let unexpired = record.lease.is_none() && record.expires.is_some_and(|e| e > now_nanos);
            if !unexpired && !leased_ingests.contains(reference.as_str()) {
                report.expired_ingests.push(object_ref(ns, reference));
            }
        }
    }
    for digest in on_disk.keys() {
        if !recorded.contains(digest.as_str()) {
            report.unrecorded_blobs.push(digest.clone());
        }
    }
    for status in local.list_statuses().map_err(Error::from)? {
        if !owned_local_ingests.contains(status.reference.as_str()) {
            report.unowned_local_ingests.push(status.reference);
        }
    }
    report.checked = counts;
    report.missing_targets.sort();
    report.records_without_blob.sort();
    report.size_mismatches.sort();
    report.unrecorded_blobs.sort();
    report.expired_ingests.sort();
    report.unowned_local_ingests.sort();
    report.orphan_lease_resources.sort();
    report.orphan_lease_resources.dedup();
    Ok(report)
}
