//! fsck: checks the invariants that crash safety promises, and tells
//! **damage** from **debris**.
//!
//! Debris is what an interrupted operation leaves by design: a blob file
//! renamed into place before its record was written, a local ingest whose
//! record was never made durable, ingests and leases whose owner died and
//! whose time ran out. Nothing refers to it, nothing is wrong with it, and
//! the next GC removes it.
//!
//! Damage is what no crash of hoist can produce, because the commit
//! protocol orders its steps against it (see `docs/crates/meta.md`,
//! "fsck"): a blob file whose bytes do not match its name, a content record
//! whose file is missing or of another size, a record that does not decode,
//! an image whose target is missing. It means a disk fault, a hand that
//! edited the root, or a bug; GC does not repair it.
//!
//! The checks run in an exclusive session, so what they see is one
//! consistent state of the database and the files. Hashing every blob
//! ([`FsckOptions::verify_digests`]) runs after the session ends: a
//! published blob is never rewritten (mode 0444, published by a rename that
//! never replaces), so its bytes cannot change under the hash, and a file
//! that a collection removes meanwhile is skipped.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use hoist_content::{Digest, Digester, Filter, IngestManager, LocalStore, Manager, Provider};
use serde::Serialize;

use crate::clock;
use crate::compact_digest::CompactDigest;
use crate::error::{Error, Result};
use crate::gc::{self, Unreadable, printable_key};
use crate::keys::{self, ResourceKind, Table};
use crate::kv::Kv;
use crate::records::{self, NamespaceRecord};
use crate::store::MetaStore;

/// What [`MetaStore::fsck_with`] checks beyond the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FsckOptions {
    /// Hash every blob file and compare it with its name. Off by default:
    /// it reads every byte of the store (about 1.3 GB/s on one core here),
    /// while the default checks only what the file system and the database
    /// say: presence and size of every recorded blob.
    pub verify_digests: bool,
}

impl FsckOptions {
    /// The default checks: records, names, presence and sizes.
    pub fn new() -> FsckOptions {
        FsckOptions::default()
    }

    /// The default checks plus hashing every blob file.
    pub fn verify_digests() -> FsckOptions {
        FsckOptions {
            verify_digests: true,
        }
    }
}

/// Something no crash of hoist leaves behind: a disk fault, an edit behind
/// the store's back, or a bug. GC does not repair it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Damage {
    /// A blob file whose bytes do not hash to the digest it is named by
    /// (found only with [`FsckOptions::verify_digests`]).
    WrongDigest {
        /// The digest the file is named by.
        digest: Digest,
        /// The digest of its bytes.
        actual: Digest,
        /// The file.
        path: PathBuf,
    },
    /// A content record whose blob file has another size.
    WrongSize {
        /// The namespace holding the record.
        namespace: String,
        /// The blob.
        digest: Digest,
        /// The file.
        path: PathBuf,
        /// The size the record says.
        recorded: u64,
        /// The size of the file.
        on_disk: u64,
    },
    /// A content record whose blob file is missing.
    MissingBlob {
        /// The namespace holding the record.
        namespace: String,
        /// The blob.
        digest: Digest,
        /// Where its file should be.
        path: PathBuf,
    },
    /// A record (or key) of the database that does not decode.
    UndecodableRecord {
        /// The key, its NUL separators shown as `/`.
        key: String,
        /// Why it does not decode.
        reason: String,
    },
    /// An image whose target the namespace has no record of, or whose blob
    /// file is missing.
    MissingTarget {
        /// The namespace holding the image.
        namespace: String,
        /// The image's name.
        image: String,
        /// The digest of its target manifest or index.
        target: Digest,
    },
}

/// What an interrupted operation leaves by design: nothing refers to it,
/// and the next GC removes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Debris {
    /// A blob file no namespace records: a commit killed between its rename
    /// and its record, or a collection killed between its batch and its
    /// file deletions.
    UnrecordedBlob {
        /// The blob.
        digest: Digest,
        /// The file.
        path: PathBuf,
    },
    /// An ingest of the shared local store that no ingest record owns: its
    /// record was written without waiting for the disk and a power cut lost
    /// it, or a collection removed the record and was killed before the
    /// ingest.
    UnownedIngest {
        /// The ingest's reference in the local store.
        reference: String,
    },
    /// An ingest record past its expiry that no live lease holds: a write
    /// abandoned by a killed process.
    ExpiredIngest {
        /// The namespace.
        namespace: String,
        /// The ingest's reference in the namespace.
        reference: String,
    },
    /// A lease past its `containerd.io/gc.expire`: its owner is gone or
    /// forgot it, and it protects nothing any more.
    ExpiredLease {
        /// The namespace.
        namespace: String,
        /// The lease's id.
        id: String,
        /// How many resources it lists.
        resources: usize,
    },
    /// Content held only through a back reference
    /// (`containerd.io/gc.bref.content*`, a referrer's `subject`) whose
    /// holder has no record: a referrer stored under a lease before its
    /// subject by an operation that did not finish, or one whose subject
    /// was removed with it while an image or a lease of its own still held
    /// it. The next GC removes it unless such a name or lease holds it.
    ReferrerWithoutSubject {
        /// The namespace.
        namespace: String,
        /// The referrer.
        digest: String,
        /// The missing subject.
        subject: String,
    },
    /// Resources listed under a lease that does not exist.
    OrphanLeaseResources {
        /// The namespace.
        namespace: String,
        /// The missing lease's id.
        id: String,
        /// How many resources are listed.
        resources: usize,
    },
}

/// How much [`MetaStore::fsck_with`] looked at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FsckCounts {
    /// Image records.
    pub images: u64,
    /// Content records, across namespaces.
    pub content_records: u64,
    /// Blob files.
    pub blob_files: u64,
    /// Blob files hashed ([`FsckOptions::verify_digests`]; 0 otherwise).
    pub digests_verified: u64,
}

/// What [`MetaStore::fsck`] found, as damage and debris, each sorted.
/// [`fmt::Display`] prints one line per finding under a heading per group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FsckReport {
    /// What no crash leaves: the store is damaged when this is not empty.
    pub damage: Vec<Damage>,
    /// What interrupted operations leave; the next GC removes it.
    pub debris: Vec<Debris>,
    /// How much was checked.
    pub checked: FsckCounts,
}

impl FsckReport {
    /// True when nothing was found, neither damage nor debris.
    pub fn is_clean(&self) -> bool {
        self.damage.is_empty() && self.debris.is_empty()
    }

    /// True when damage was found.
    pub fn is_damaged(&self) -> bool {
        !self.damage.is_empty()
    }
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Damage::WrongDigest {
                digest,
                actual,
                path,
            } => write!(
                f,
                "blob {digest}: its file {} hashes to {actual}",
                path.display()
            ),
            Damage::WrongSize {
                namespace,
                digest,
                path,
                recorded,
                on_disk,
            } => write!(
                f,
                "content {digest} in namespace {namespace:?}: recorded as {recorded} bytes, \
                 its file {} has {on_disk}",
                path.display()
            ),
            Damage::MissingBlob {
                namespace,
                digest,
                path,
            } => write!(
                f,
                "content {digest} in namespace {namespace:?}: recorded, but its file {} is missing",
                path.display()
            ),
            Damage::UndecodableRecord { key, reason } => {
                write!(f, "record {key:?} does not decode: {reason}")
            }
            Damage::MissingTarget {
                namespace,
                image,
                target,
            } => write!(
                f,
                "image {image:?} in namespace {namespace:?}: its target {target} is missing"
            ),
        }
    }
}

impl fmt::Display for Debris {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Debris::UnrecordedBlob { digest, path } => write!(
                f,
                "blob {digest}: no namespace records its file {}",
                path.display()
            ),
            Debris::UnownedIngest { reference } => {
                write!(f, "local ingest {reference:?}: no ingest record owns it")
            }
            Debris::ExpiredIngest {
                namespace,
                reference,
            } => write!(
                f,
                "ingest {reference:?} in namespace {namespace:?}: expired, held by no live lease"
            ),
            Debris::ExpiredLease {
                namespace,
                id,
                resources,
            } => write!(
                f,
                "lease {id:?} in namespace {namespace:?}: expired ({resources} resources)"
            ),
            Debris::ReferrerWithoutSubject {
                namespace,
                digest,
                subject,
            } => write!(
                f,
                "referrer {digest} in namespace {namespace:?}: its subject {subject} is not recorded"
            ),
            Debris::OrphanLeaseResources {
                namespace,
                id,
                resources,
            } => write!(
                f,
                "lease {id:?} in namespace {namespace:?}: {resources} resources listed without the lease"
            ),
        }
    }
}

impl fmt::Display for FsckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let FsckCounts {
            images,
            content_records,
            blob_files,
            digests_verified,
        } = self.checked;
        write!(
            f,
            "checked {images} images, {content_records} content records, {blob_files} blob files"
        )?;
        if digests_verified > 0 {
            write!(f, " ({digests_verified} hashed)")?;
        }
        writeln!(f)?;
        if !self.damage.is_empty() {
            writeln!(f, "damage:")?;
            for finding in &self.damage {
                writeln!(f, "  {finding}")?;
            }
        }
        if !self.debris.is_empty() {
            writeln!(f, "debris (the next GC removes it):")?;
            for finding in &self.debris {
                writeln!(f, "  {finding}")?;
            }
        }
        if self.is_clean() {
            writeln!(f, "clean")?;
        }
        Ok(())
    }
}

/// Runs the checks; see [`FsckReport`].
pub(crate) fn check(store: &MetaStore, options: &FsckOptions) -> Result<FsckReport> {
    let local = store.local();
    let mut report = FsckReport::default();
    let on_disk = {
        let session = store.exclusive()?;
        check_records(session.kv(), local, &mut report)?
    };
    if options.verify_digests {
        verify_digests(local, on_disk, &mut report)?;
    }
    report.damage.sort();
    report.debris.sort();
    Ok(report)
}

/// Every check that needs one consistent state of database and files;
/// returns the blob files to hash, with the sizes they should have.
fn check_records(
    kv: &dyn Kv,
    local: &LocalStore,
    report: &mut FsckReport,
) -> Result<Vec<(Digest, u64)>> {
    let now = SystemTime::now();
    let now_nanos = clock::to_nanos(now);
    let mut unreadable = Vec::new();
    let graph = gc::load(
        kv,
        gc::Detail::Full,
        &mut Unreadable::Collect(&mut unreadable),
    )?;
    check_namespace_records(kv, &mut unreadable)?;
    let mut on_disk: HashMap<Digest, u64> = HashMap::new();
    local
        .walk(&Filter::all(), &mut |info| {
            on_disk.insert(info.digest, info.size);
            Ok(())
        })
        .map_err(Error::from)?;
    report.checked.blob_files = on_disk.len() as u64;
    let mut recorded: HashSet<Digest> = HashSet::new();
    let mut wrong_size: HashSet<Digest> = HashSet::new();
    let mut owned_local_ingests: HashSet<&str> = HashSet::new();
    for (ns, g) in &graph {
        for (node, key) in g.blobs.iter() {
            report.checked.content_records += 1;
            let digest: Digest = match key.to_string().parse() {
                Ok(digest) => digest,
                Err(error) => {
                    let error = Error::from(error);
                    unreadable.push((
                        printable_key(&keys::blob(ns, &key.to_string())),
                        error.to_string(),
                    ));
                    continue;
                }
            };
            let recorded_size = g.blobs.size(node).unwrap_or(0);
            match on_disk.get(&digest) {
                None => report.damage.push(Damage::MissingBlob {
                    namespace: ns.clone(),
                    path: local.blob_path(&digest),
                    digest: digest.clone(),
                }),
                Some(&size) if size != recorded_size => {
                    wrong_size.insert(digest.clone());
                    report.damage.push(Damage::WrongSize {
                        namespace: ns.clone(),
                        path: local.blob_path(&digest),
                        digest: digest.clone(),
                        recorded: recorded_size,
                        on_disk: size,
                    });
                }
                Some(_) => {}
            }
            recorded.insert(digest);
        }
        let keys: Vec<&CompactDigest> = g.blobs.iter().map(|(_, key)| key).collect();
        for (node, subject) in g.blobs.dangling_back_refs() {
            report.debris.push(Debris::ReferrerWithoutSubject {
                namespace: ns.clone(),
                digest: keys[node as usize].to_string(),
                subject: subject.to_string(),
            });
        }
        for (name, record) in &g.images {
            report.checked.images += 1;
            let target = &record.target.digest;
            if g.blobs
                .find(&CompactDigest::parse(target.as_str()))
                .is_none()
                || !on_disk.contains_key(target)
            {
                report.damage.push(Damage::MissingTarget {
                    namespace: ns.clone(),
                    image: name.clone(),
                    target: target.clone(),
                });
            }
        }
        let mut live_leases: HashSet<&str> = HashSet::new();
        for (id, record) in &g.leases {
            if gc::lease_expired(ns, id, record, now) {
                report.debris.push(Debris::ExpiredLease {
                    namespace: ns.clone(),
                    id: id.clone(),
                    resources: g.resources.get(id).map_or(0, Vec::len),
                });
            } else {
                live_leases.insert(id);
            }
        }
        let lease_ids: HashSet<&str> = g.leases.iter().map(|(id, _)| id.as_str()).collect();
        let mut leased_ingests: HashSet<&str> = HashSet::new();
        for (id, resources) in &g.resources {
            if !lease_ids.contains(id.as_str()) {
                report.debris.push(Debris::OrphanLeaseResources {
                    namespace: ns.clone(),
                    id: id.clone(),
                    resources: resources.len(),
                });
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
                report.debris.push(Debris::ExpiredIngest {
                    namespace: ns.clone(),
                    reference: reference.clone(),
                });
            }
        }
    }
    for digest in on_disk.keys() {
        if !recorded.contains(digest) {
            report.debris.push(Debris::UnrecordedBlob {
                path: local.blob_path(digest),
                digest: digest.clone(),
            });
        }
    }
    for status in local.list_statuses().map_err(Error::from)? {
        if !owned_local_ingests.contains(status.reference.as_str()) {
            report.debris.push(Debris::UnownedIngest {
                reference: status.reference,
            });
        }
    }
    report.damage.extend(
        unreadable
            .into_iter()
            .map(|(key, reason)| Damage::UndecodableRecord { key, reason }),
    );
    // A file of the wrong size would also hash wrong: one finding is enough.
    Ok(on_disk
        .into_iter()
        .filter(|(digest, _)| !wrong_size.contains(digest))
        .collect())
}

/// Lists the namespace records that do not decode (the collection's loader
/// does not read them).
fn check_namespace_records(kv: &dyn Kv, unreadable: &mut Vec<(String, String)>) -> Result<()> {
    kv.scan(&keys::key(Table::Namespace, &[]), &mut |key, value| {
        let read =
            keys::last_part(key).and_then(|_| records::decode::<NamespaceRecord>(key, value));
        if let Err(error) = read {
            unreadable.push((printable_key(key), error.to_string()));
        }
        Ok(true)
    })
}

/// Hashes every file of `blobs` and reports those whose bytes do not match
/// their name. Runs outside any session; see the module docs.
fn verify_digests(
    local: &LocalStore,
    blobs: Vec<(Digest, u64)>,
    report: &mut FsckReport,
) -> Result<()> {
    let mut buffer = vec![0u8; 1 << 20];
    for (digest, _) in blobs {
        let reader = match local.reader(&digest) {
            Ok(reader) => reader,
            // Collected since the listing.
            Err(error) if error.is_not_found() => continue,
            Err(error) => return Err(error.into()),
        };
        let mut digester = Digester::new(digest.algorithm());
        let mut offset = 0;
        loop {
            let read = reader.read_at(&mut buffer, offset).map_err(Error::from)?;
            if read == 0 {
                break;
            }
            digester.update(&buffer[..read]);
            offset += read as u64;
        }
        report.checked.digests_verified += 1;
        let actual = digester.finish();
        if actual != digest {
            report.damage.push(Damage::WrongDigest {
                path: local.blob_path(&digest),
                digest,
                actual,
            });
        }
    }
    Ok(())
}
