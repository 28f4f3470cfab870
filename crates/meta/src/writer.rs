//! [`MetaWriter`]: a write into one namespace, committed together with its
//! content record under the database's lock.

use std::io::Write;
use std::time::SystemTime;

use hoist_content::{ContentWriter, Digest, IngestManager, Labels, LocalWriter, Status};

use crate::clock;
use crate::content::remove_ingest_for;
use crate::crash;
use crate::error::{Error, Result};
use crate::keys::{self, ResourceKind};
use crate::kv::Batch;
use crate::labels;
use crate::leases::{self, Lease};
use crate::namespace::Namespace;
use crate::records::{self, ContentRecord};
use crate::store;

/// A write in progress in a namespace (see [`Content`](crate::Content)).
///
/// Bytes go to an ingest of the shared local store. [`ContentWriter::commit`]
/// publishes the blob and writes its content record (and, under a lease, the
/// lease's hold on it) while holding the database, so a garbage collection —
/// which holds it exclusively — sees either neither or both.
#[derive(Debug)]
pub struct MetaWriter {
    ns: Namespace,
    lease: Option<Lease>,
    /// The leases the ingest record is held by (its own, and this writer's).
    ingest_leases: Vec<String>,
    reference: String,
    backend: String,
    expected: Option<Digest>,
    inner: LocalWriter,
}

impl MetaWriter {
    pub(crate) fn new(
        ns: Namespace,
        lease: Option<Lease>,
        ingest_leases: Vec<String>,
        reference: String,
        backend: String,
        expected: Option<Digest>,
        inner: LocalWriter,
    ) -> MetaWriter {
        MetaWriter {
            ns,
            lease,
            ingest_leases,
            reference,
            backend,
            expected,
            inner,
        }
    }

    /// The ingest's data file opened read-only, for a reader that follows
    /// the download (see [`LocalWriter::data_reader`]): unverified bytes
    /// until the commit.
    ///
    /// # Errors
    /// I/O errors opening the file.
    pub fn data_reader(&self) -> Result<std::fs::File> {
        Ok(self.inner.data_reader()?)
    }

    fn commit_inner(
        mut self,
        size: u64,
        expected: Option<&Digest>,
        labels: Labels,
    ) -> Result<Digest> {
        labels::validate(&labels)?;
        // The data's fsync, the slow part of a commit, happens before the
        // database is taken: other processes wait only for the rename and
        // the record (the commit's own fsync below then finds little to do).
        #[cfg(test)]
        tests::SYNCED_IN_SESSION
            .with(|seen| seen.set(Some(crate::database::this_thread_holds_a_session())));
        self.inner.sync()?;
        let expected = expected.cloned().or_else(|| self.expected.clone());
        let written = self.inner.offset();
        // The local store verifies size and digest before it looks for an
        // existing blob, so already-exists below means our bytes matched.
        let actual = match &expected {
            Some(expected) => expected.clone(),
            None => self.inner.digest(),
        };
        let store = self.ns.store().clone();
        let ns = self.ns.name().to_owned();
        let session = store.session()?;
        if let Some(lease) = &self.lease
            && let Err(error) = leases::require_live(&session, &ns, &lease.id)
        {
            // Keep the ingest: the caller may resume under a live lease.
            if let Err(close_error) = self.inner.close() {
                tracing::debug!("close after a lost lease: {close_error}");
            }
            return Err(error);
        }
        let committing = {
            let _mutation = session.mutation();
            store.begin_commit(&ns, &actual)
        };
        crash::point("commit:before-publish");
        // Publish the blob (fsync, rename) while holding the database: GC
        // cannot run between the rename and the record below. A crash in
        // between leaves a blob without a record, which the next GC removes.
        let MetaWriter {
            inner,
            reference,
            backend,
            ingest_leases,
            lease,
            ..
        } = self;
        let digest = match inner.commit(size, expected.as_ref(), Labels::new()) {
            Ok(digest) => digest,
            // Someone published the same bytes first; ours were verified.
            Err(error) if error.is_already_exists() => actual,
            Err(error) => {
                // A rejected commit may have removed the local ingest (a digest
                // mismatch does); then its record goes too.
                if store
                    .local()
                    .status(&backend)
                    .is_err_and(|e| e.is_not_found())
                {
                    let _mutation = session.mutation();
                    let mut batch = Batch::default();
                    remove_ingest_for(&ns, &reference, &ingest_leases, &mut batch);
                    session.kv().write(batch)?;
                }
                return Err(error.into());
            }
        };
        crash::point("commit:after-publish");
        let _mutation = session.mutation();
        let key = keys::blob(&ns, digest.as_str());
        let exists = session.kv().get(&key)?.is_some();
        let mut batch = Batch::default();
        if !exists {
            let now = clock::to_nanos(SystemTime::now());
            let record = ContentRecord {
                size: written,
                created: now,
                updated: now,
                labels,
            };
            store::ensure_namespace(&session, &ns, &mut batch)?;
            batch.put(key, records::encode(&record)?);
        }
        remove_ingest_for(&ns, &reference, &ingest_leases, &mut batch);
        if let Some(lease) = &lease {
            // Same batch as the record: content written under a lease is
            // never, even for an instant, recorded but unprotected.
            batch.put(
                keys::lease_resource(&ns, &lease.id, ResourceKind::Content, digest.as_str()),
                Vec::new(),
            );
        }
        session.kv().write(batch)?;
        drop(committing);
        crash::point("commit:after-record");
        if exists {
            return Err(Error::already_exists(format!(
                "content {digest} already exists in namespace {ns:?}"
            )));
        }
        Ok(digest)
    }
}

impl Write for MetaWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl ContentWriter for MetaWriter {
    fn status(&self) -> hoist_content::Result<Status> {
        let mut status = self.inner.status()?;
        status.reference = self.reference.clone();
        if status.expected.is_none() {
            status.expected = self.expected.clone();
        }
        Ok(status)
    }

    fn offset(&self) -> u64 {
        self.inner.offset()
    }

    fn digest(&self) -> Digest {
        self.inner.digest()
    }

    fn truncate(&mut self, size: u64) -> hoist_content::Result<()> {
        self.inner.truncate(size)
    }

    fn commit(
        self,
        size: u64,
        expected: Option<&Digest>,
        labels: Labels,
    ) -> hoist_content::Result<Digest> {
        Ok(self.commit_inner(size, expected, labels)?)
    }

    fn sync(&mut self) -> hoist_content::Result<()> {
        self.inner.sync()
    }

    fn close(self) -> hoist_content::Result<()> {
        let store = self.ns.store().clone();
        self.inner.close()?;
        // The ingest's record was written unsynced (see `open_writer`); a
        // closed ingest is kept for a resume, after a power cut too.
        let session = store.session()?;
        session.kv().sync_wal()?;
        Ok(())
    }

    fn abort(self) -> hoist_content::Result<()> {
        let MetaWriter {
            ns,
            reference,
            ingest_leases,
            inner,
            ..
        } = self;
        inner.abort()?;
        forget_ingest(&ns, &reference, &ingest_leases)?;
        Ok(())
    }
}

/// Removes an ingest record (and the leases' holds on it).
fn forget_ingest(ns: &Namespace, reference: &str, ingest_leases: &[String]) -> Result<()> {
    let session = ns.store().session()?;
    let _mutation = session.mutation();
    let mut batch = Batch::default();
    remove_ingest_for(ns.name(), reference, ingest_leases, &mut batch);
    session.kv().write(batch)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::io::Write as _;

    use hoist_content::{ContentWriter as _, Digest, Ingester as _, WriterOptions};

    use crate::{LeaseOptions, MetaStore};

    thread_local! {
        /// Whether this thread held a database session when a commit synced
        /// its data (`None`: no commit synced yet).
        pub(super) static SYNCED_IN_SESSION: Cell<Option<bool>> = const { Cell::new(None) };
    }

    #[test]
    fn a_commit_syncs_the_data_before_it_takes_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::open(dir.path()).unwrap();
        let ns = store.namespace("default").unwrap();
        let lease = ns.leases().create(LeaseOptions::new()).unwrap();
        for lease in [None, Some(&lease)] {
            SYNCED_IN_SESSION.with(|seen| seen.set(None));
            let bytes = format!("synced first, under {lease:?}").into_bytes();
            let digest = Digest::sha256_of(&bytes);
            let mut writer = ns
                .content(lease)
                .writer(WriterOptions::new(format!("w-{}", digest.hex())).expected(digest.clone()))
                .unwrap();
            writer.write_all(&bytes).unwrap();
            let committed = writer
                .commit(bytes.len() as u64, None, Default::default())
                .unwrap();
            assert_eq!(committed, digest);
            assert_eq!(SYNCED_IN_SESSION.with(Cell::get), Some(false), "{lease:?}");
        }
    }
}
