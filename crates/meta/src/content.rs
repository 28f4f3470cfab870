//! [`Content`]: the content store of one namespace (optionally under a lease),
//! implementing `hoist-content`'s role traits over the shared local store.
//!
//! A blob is visible in a namespace only when the namespace has a content
//! record of it (`blob\0<ns>\0<digest>\0`); the files are shared. A
//! namespace that lacks the record must write the bytes itself (they are
//! verified, then only the record is added), so no namespace can claim a
//! blob it does not have.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use hoist_content::{
    BlobReader, Digest, Filter, Info, IngestManager, Ingester, Labels, Manager, Provider, Status,
    WriterOptions,
};

use crate::clock;
use crate::database::Session;
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{self, ResourceKind, Table};
use crate::kv::Batch;
use crate::labels;
use crate::leases::{self, Lease};
use crate::namespace::Namespace;
use crate::records::{self, ContentRecord, IngestRecord};
use crate::store;
use crate::writer::MetaWriter;

/// The content of one namespace, as a [`hoist_content::Store`]; see the
/// module docs. Obtained from [`Namespace::content`].
#[derive(Debug, Clone)]
pub struct Content {
    ns: Namespace,
    lease: Option<Lease>,
}

impl Content {
    pub(crate) fn new(ns: Namespace, lease: Option<Lease>) -> Content {
        Content { ns, lease }
    }

    /// The namespace.
    pub fn namespace(&self) -> &Namespace {
        &self.ns
    }

    /// The lease everything written here is recorded on, if any.
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// Changes the labels of the blob `digest` in this namespace: `update`
    /// gets the current labels and edits them in place. Returns the new info.
    ///
    /// # Errors
    /// Not found if the namespace has no record of the blob; invalid argument
    /// for labels that are too large.
    pub fn update_labels(&self, digest: &Digest, update: impl FnOnce(&mut Labels)) -> Result<Info> {
        let session = self.ns.store().session()?;
        let _mutation = session.mutation();
        let ns = self.ns.name();
        let key = keys::blob(ns, digest.as_str());
        let mut record = self.record(&session, digest)?;
        update(&mut record.labels);
        labels::validate(&record.labels)?;
        record.updated = clock::to_nanos(SystemTime::now());
        let mut batch = Batch::default();
        batch.put(key, records::encode(&record)?);
        session.kv().write(batch)?;
        Ok(info(digest.clone(), record))
    }

    /// Replaces all labels of the blob `digest`.
    ///
    /// # Errors
    /// As [`Content::update_labels`].
    pub fn set_labels(&self, digest: &Digest, new_labels: Labels) -> Result<Info> {
        self.update_labels(digest, |labels| *labels = new_labels)
    }

    fn record(&self, session: &Session, digest: &Digest) -> Result<ContentRecord> {
        let key = keys::blob(self.ns.name(), digest.as_str());
        match session.kv().get(&key)? {
            Some(bytes) => records::decode(&key, &bytes),
            None => Err(self.not_found(digest)),
        }
    }

    fn not_found(&self, digest: &Digest) -> Error {
        Error::not_found(format!(
            "content {digest} not found in namespace {:?}",
            self.ns.name()
        ))
    }

    fn ingest_not_found(&self, reference: &str) -> Error {
        Error::not_found(format!(
            "ingest {reference:?} not found in namespace {:?}",
            self.ns.name()
        ))
    }

    fn ingest_record(&self, session: &Session, reference: &str) -> Result<Option<IngestRecord>> {
        let key = keys::ingest(self.ns.name(), reference);
        match session.kv().get(&key)? {
            Some(bytes) => Ok(Some(records::decode(&key, &bytes)?)),
            None => Ok(None),
        }
    }

    fn status_of(&self, reference: &str, record: &IngestRecord) -> Result<Status> {
        let mut status = self.ns.store().local().status(&record.backend)?;
        status.reference = reference.to_owned();
        if status.expected.is_none() {
            status.expected = record.expected.clone();
        }
        if status.total.is_none() {
            status.total = record.total;
        }
        Ok(status)
    }

    fn ingest_records(&self, session: &Session) -> Result<Vec<(String, IngestRecord)>> {
        let mut found = Vec::new();
        session.kv().scan(
            &keys::key(Table::Ingest, &[self.ns.name()]),
            &mut |key, value| {
                found.push((
                    keys::last_part(key)?.to_owned(),
                    records::decode(key, value)?,
                ));
                Ok(true)
            },
        )?;
        Ok(found)
    }

    /// Opens the writer; see [`Ingester::writer`].
    fn open_writer(&self, options: WriterOptions) -> Result<MetaWriter> {
        let reference = options.reference.clone();
        keys::check_part("ingest reference", &reference)?;
        let store = self.ns.store();
        let ns = self.ns.name();
        let session = store.session()?;
        let _mutation = session.mutation();
        if let Some(lease) = &self.lease {
            leases::require_live(&session, ns, &lease.id)?;
        }
        if let Some(expected) = &options.expected {
            if store.is_committing(ns, expected) {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "content {expected} is being committed in namespace {ns:?} by this \
                         process; retry"
                    ),
                ));
            }
            if session
                .kv()
                .get(&keys::blob(ns, expected.as_str()))?
                .is_some()
            {
                // Present already. Under a lease it still gets recorded on
                // the lease, so a caller that found it here keeps it.
                if let Some(lease) = &self.lease {
                    let mut batch = Batch::default();
                    batch.put(
                        keys::lease_resource(
                            ns,
                            &lease.id,
                            ResourceKind::Content,
                            expected.as_str(),
                        ),
                        Vec::new(),
                    );
                    session.kv().write(batch)?;
                }
                return Err(Error::already_exists(format!(
                    "content {expected} already exists in namespace {ns:?}"
                )));
            }
        }
        let now = SystemTime::now();
        let existing = self.ingest_record(&session, &reference)?;
        let fresh = existing.is_none();
        let record = match existing {
            Some(mut record) => {
                // A resumed ingest keeps what it was opened for; what it was
                // opened without may be added now (as in the local store).
                match (&record.expected, &options.expected) {
                    (Some(have), Some(want)) if have != want => {
                        return Err(Error::precondition(format!(
                            "ingest {reference:?} in namespace {ns:?} was started for {have}, \
                             not {want}; abort it to start over"
                        )));
                    }
                    (None, Some(want)) => record.expected = Some(want.clone()),
                    _ => {}
                }
                match (record.total, options.total) {
                    (Some(have), Some(want)) if have != want => {
                        return Err(Error::precondition(format!(
                            "ingest {reference:?} in namespace {ns:?} was started with total \
                             {have}, not {want}; abort it to start over"
                        )));
                    }
                    (None, Some(want)) => record.total = Some(want),
                    _ => {}
                }
                record
            }
            None => IngestRecord {
                backend: backend_reference(ns, &reference),
                expected: options.expected.clone(),
                total: options.total,
                lease: self.lease.as_ref().map(|lease| lease.id.clone()),
                expires: None,
                created: clock::to_nanos(now),
            },
        };
        let mut record = record;
        // Opened (or resumed) without a lease: a root for a while, then not.
        record.expires = match &record.lease {
            Some(_) => None,
            None => Some(clock::to_nanos(now + store.options().ingest_expiry)),
        };
        // Record first, then open the local ingest: a local ingest without a
        // record can then only be debris of a crash, which GC aborts. The
        // record is not fsynced (nor is the local ingest's creation): a power
        // cut that loses it loses only the ingest, which the next attempt
        // starts over, and the commit's synced batch persists it before any
        // blob depends on it. Not waiting here keeps a blob's download from
        // queueing behind the disk's other writes before its first byte.
        let mut holders = ingest_leases(&record);
        if let Some(lease) = &self.lease
            && !holders.contains(&lease.id)
        {
            holders.push(lease.id.clone());
        }
        let mut batch = Batch::unsynced();
        store::ensure_namespace(&session, ns, &mut batch)?;
        batch.put(keys::ingest(ns, &reference), records::encode(&record)?);
        for lease in &holders {
            batch.put(
                keys::lease_resource(ns, lease, ResourceKind::Ingest, &reference),
                Vec::new(),
            );
        }
        session.kv().write(batch)?;

        let local = store.local();
        let backend_options = |expected: Option<Digest>| WriterOptions {
            reference: record.backend.clone(),
            expected,
            total: record.total,
        };
        // If the blob is on disk already (another namespace has it), this
        // namespace must still prove it has the bytes: write without telling
        // the local store what to expect (it would answer already-exists),
        // and verify at commit.
        let on_disk = match &record.expected {
            Some(expected) => local.info(expected).is_ok(),
            None => false,
        };
        let mut opened = if on_disk {
            local.writer(backend_options(None))
        } else {
            local.writer(backend_options(record.expected.clone()))
        };
        if opened
            .as_ref()
            .is_err_and(|error| error.is_already_exists())
        {
            // The blob was published (by another namespace) since this
            // ingest began, and the local store will not resume an ingest
            // whose expected blob exists. This namespace must still write
            // the bytes: start the ingest over, without telling the local
            // store what to expect (the commit still verifies it).
            match local.abort(&record.backend) {
                Ok(()) => {}
                Err(error) if error.is_not_found() => {}
                Err(error) => return Err(error.into()),
            }
            opened = local.writer(backend_options(None));
        }
        match opened {
            Ok(inner) => Ok(MetaWriter::new(
                self.ns.clone(),
                self.lease.clone(),
                holders,
                reference,
                record.backend,
                record.expected,
                inner,
            )),
            Err(error) => {
                // Leave no record behind for an ingest that never opened;
                // a resumed one keeps its record (its data is still there).
                if fresh {
                    let mut batch = Batch::default();
                    remove_ingest_for(ns, &reference, &holders, &mut batch);
                    session.kv().write(batch)?;
                }
                Err(Error::from(error))
            }
        }
    }

    fn delete_record(&self, digest: &Digest) -> Result<u64> {
        let session = self.ns.store().session()?;
        let _mutation = session.mutation();
        let key = keys::blob(self.ns.name(), digest.as_str());
        if session.kv().get(&key)?.is_none() {
            return Ok(0);
        }
        let mut batch = Batch::default();
        batch.delete(key);
        let deletions = store::count_deletion(&session, &mut batch)?;
        session.kv().write(batch)?;
        Ok(deletions)
    }

    fn abort_ingest(
        &self,
        reference: &str,
        record: &IngestRecord,
        session: &Session,
    ) -> Result<()> {
        match self.ns.store().local().abort(&record.backend) {
            Ok(()) => {}
            Err(error) if error.is_not_found() => {}
            Err(error) => return Err(error.into()),
        }
        let mut batch = Batch::default();
        remove_ingest_for(
            self.ns.name(),
            reference,
            &ingest_leases(record),
            &mut batch,
        );
        session.kv().write(batch)
    }
}

/// Adds the removal of an ingest record, and of the holds of `leases` on
/// it, to `batch`.
pub(crate) fn remove_ingest_for(ns: &str, reference: &str, leases: &[String], batch: &mut Batch) {
    batch.delete(keys::ingest(ns, reference));
    for lease in leases {
        batch.delete(keys::lease_resource(
            ns,
            lease,
            ResourceKind::Ingest,
            reference,
        ));
    }
}

/// The leases holding the ingest of `record` (its own).
pub(crate) fn ingest_leases(record: &IngestRecord) -> Vec<String> {
    record.lease.iter().cloned().collect()
}

pub(crate) fn info(digest: Digest, record: ContentRecord) -> Info {
    Info {
        digest,
        size: record.size,
        created_at: clock::from_nanos(record.created),
        updated_at: clock::from_nanos(record.updated),
        labels: record.labels,
    }
}

/// The name of a namespace's ingest in the shared local store. A fresh
/// token per ingest record means a stale local ingest left by a crash is
/// never resumed by a new, unrelated write under the same reference.
fn backend_reference(ns: &str, reference: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{ns}/{:x}-{:x}-{:x}/{reference}",
        clock::to_nanos(SystemTime::now()),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl Provider for Content {
    fn reader(&self, digest: &Digest) -> hoist_content::Result<BlobReader> {
        // The record check and the open happen in one session, so no GC can
        // delete the file in between; once open, the reader outlives deletes.
        let session = self.ns.store().session()?;
        self.record(&session, digest)?;
        let reader = self.ns.store().local().reader(digest).map_err(|error| {
            if error.is_not_found() {
                Error::data_loss(format!(
                    "content {digest} is recorded in namespace {:?} but its blob is missing \
                     (run fsck)",
                    self.ns.name()
                ))
                .with_source(error)
                .into()
            } else {
                error
            }
        })?;
        Ok(reader)
    }
}

impl Manager for Content {
    fn info(&self, digest: &Digest) -> hoist_content::Result<Info> {
        let session = self.ns.store().session()?;
        let record = self.record(&session, digest)?;
        Ok(info(digest.clone(), record))
    }

    fn walk(
        &self,
        filter: &Filter,
        visit: &mut dyn FnMut(Info) -> hoist_content::Result<()>,
    ) -> hoist_content::Result<()> {
        // Collect first, visit after: `visit` may take long or call back into
        // the store, and other processes should not wait for it.
        let mut found = Vec::new();
        {
            let session = self.ns.store().session()?;
            let mut prefix = keys::key(Table::Blob, &[self.ns.name()]);
            if let Some(digest_prefix) = filter.digest_prefix_condition() {
                prefix.extend_from_slice(digest_prefix.as_bytes());
            }
            session.kv().scan(&prefix, &mut |key, value| {
                let digest: Digest = keys::last_part(key)?.parse().map_err(Error::from)?;
                if filter.matches_digest(&digest) {
                    let record: ContentRecord = records::decode(key, value)?;
                    let info = info(digest, record);
                    if filter.matches(&info) {
                        found.push(info);
                    }
                }
                Ok(true)
            })?;
        }
        for info in found {
            visit(info)?;
        }
        Ok(())
    }

    fn delete(&self, digest: &Digest) -> hoist_content::Result<()> {
        let deletions = self.delete_record(digest)?;
        if deletions > 0 {
            self.ns.store().maybe_collect(deletions);
        }
        Ok(())
    }
}

impl IngestManager for Content {
    fn status(&self, reference: &str) -> hoist_content::Result<Status> {
        let session = self.ns.store().session()?;
        let record = self
            .ingest_record(&session, reference)?
            .ok_or_else(|| self.ingest_not_found(reference))?;
        drop(session);
        self.status_of(reference, &record).map_err(|error| {
            if error.is_not_found() {
                self.ingest_not_found(reference).into()
            } else {
                error.into()
            }
        })
    }

    fn list_statuses(&self) -> hoist_content::Result<Vec<Status>> {
        let records = {
            let session = self.ns.store().session()?;
            self.ingest_records(&session)?
        };
        let mut statuses = Vec::new();
        for (reference, record) in records {
            match self.status_of(&reference, &record) {
                Ok(status) => statuses.push(status),
                // Recorded but not (yet, or any more) on disk: nothing to show.
                Err(error) if error.is_not_found() => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(statuses)
    }

    fn abort(&self, reference: &str) -> hoist_content::Result<()> {
        let session = self.ns.store().session()?;
        let _mutation = session.mutation();
        let record = self
            .ingest_record(&session, reference)?
            .ok_or_else(|| self.ingest_not_found(reference))?;
        self.abort_ingest(reference, &record, &session)?;
        Ok(())
    }

    fn abort_idle(&self, older_than: Duration) -> hoist_content::Result<Vec<String>> {
        let session = self.ns.store().session()?;
        let _mutation = session.mutation();
        let now = SystemTime::now();
        let mut aborted = Vec::new();
        for (reference, record) in self.ingest_records(&session)? {
            let idle = match self.status_of(&reference, &record) {
                Ok(status) => now
                    .duration_since(status.updated_at)
                    .is_ok_and(|idle| idle >= older_than),
                Err(error) if error.is_not_found() => now
                    .duration_since(clock::from_nanos(record.created))
                    .is_ok_and(|idle| idle >= older_than),
                Err(error) => return Err(error.into()),
            };
            if !idle {
                continue;
            }
            match self.abort_ingest(&reference, &record, &session) {
                Ok(()) => aborted.push(reference),
                // A live writer holds it: not idle after all.
                Err(error) if error.is_unavailable() => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(aborted)
    }
}

impl Ingester for Content {
    type Writer = MetaWriter;

    fn writer(&self, options: WriterOptions) -> hoist_content::Result<MetaWriter> {
        Ok(self.open_writer(options)?)
    }
}
