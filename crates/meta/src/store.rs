//! [`MetaStore`]: one root on disk, its shared blob store and its database.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hoist_content::{Digest, LocalStore};

use crate::clock;
use crate::database::{Database, DatabaseConfig, Session};
use crate::error::{Error, Result};
use crate::fsck::{self, FsckOptions, FsckReport};
use crate::gc::{self, GcOptions, GcReport};
use crate::keys::{self, Table};
use crate::kv::{Batch, Durability};
use crate::namespace::Namespace;
use crate::records::{self, NamespaceRecord};

/// The folder under the root holding the blobs (a [`LocalStore`]).
pub const CONTENT_DIR: &str = "content";
/// The folder under the root holding the lock files and RocksDB (`meta/db`).
pub const META_DIR: &str = "meta";

/// How a [`MetaStore`] behaves; [`MetaOptions::default`] suits real use.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MetaOptions {
    /// Run a garbage collection after this many deletions (of content
    /// records, images or leases) since the last one; `None`: only when asked.
    pub gc_after_deletions: Option<u64>,
    /// How long an ingest opened without a lease stays a GC root.
    pub ingest_expiry: Duration,
    /// How long this process keeps the database open while idle, unless
    /// another process asks for it sooner.
    pub linger: Duration,
    /// How often the owning process checks whether another process waits.
    pub handover_poll: Duration,
    /// Waiting longer than this for another process is logged (`tracing`),
    /// naming the holder's pid.
    pub log_wait_after: Duration,
    /// When false, database writes reach the OS but are not fsynced: they
    /// survive a killed process, not a power loss. For bulk loads in
    /// benchmarks only.
    pub sync_writes: bool,
}

impl Default for MetaOptions {
    fn default() -> Self {
        MetaOptions {
            gc_after_deletions: Some(100),
            ingest_expiry: Duration::from_secs(24 * 3600),
            linger: Duration::from_secs(1),
            handover_poll: Duration::from_millis(5),
            log_wait_after: Duration::from_secs(1),
            sync_writes: true,
        }
    }
}

/// The metadata store of one root: namespaces of images, content records,
/// ingests and leases in RocksDB, over one [`LocalStore`] of blobs shared by
/// every namespace. Cheap to clone; safe to use from many threads and, on
/// one root, from many processes at once.
///
/// ```text
/// <root>/content/   the LocalStore: blobs/<alg>/<hex>, ingests
/// <root>/meta/lock  which process owns the database (flock, pid inside)
/// <root>/meta/want  processes waiting for it (shared flock)
/// <root>/meta/db/   RocksDB
/// ```
#[derive(Clone)]
pub struct MetaStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) root: PathBuf,
    pub(crate) local: LocalStore,
    pub(crate) db: Database,
    pub(crate) options: MetaOptions,
    /// Blobs this process is publishing right now (`<ns>\0<digest>`): between
    /// the rename and the record, a writer for the same digest must wait
    /// rather than find the file and write it again.
    committing: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for MetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaStore")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

impl MetaStore {
    /// Opens (creating if needed) the store at `root` with default options.
    ///
    /// # Errors
    /// I/O errors creating the layout; data loss if the database was written
    /// by a newer schema.
    pub fn open(root: impl AsRef<Path>) -> Result<MetaStore> {
        MetaStore::open_with(root, MetaOptions::default())
    }

    /// Opens (creating if needed) the store at `root`.
    ///
    /// Options are per process and root: a second store opened on the same
    /// root in this process shares the first one's database handle and its
    /// hand-over tuning.
    ///
    /// # Errors
    /// As [`MetaStore::open`].
    pub fn open_with(root: impl AsRef<Path>, options: MetaOptions) -> Result<MetaStore> {
        let root = root.as_ref().to_path_buf();
        let meta_dir = root.join(META_DIR);
        std::fs::create_dir_all(&meta_dir)
            .map_err(|error| Error::io("create", &meta_dir, error))?;
        let local = LocalStore::open(root.join(CONTENT_DIR)).map_err(Error::from)?;
        let config = DatabaseConfig {
            durability: if options.sync_writes {
                Durability::Sync
            } else {
                Durability::Buffered
            },
            linger: options.linger,
            poll: options.handover_poll,
            log_after: options.log_wait_after,
            foreign_lock_patience: Duration::from_secs(10),
        };
        let db = Database::open(&meta_dir, config)?;
        let store = MetaStore {
            inner: Arc::new(Inner {
                root,
                local,
                db,
                options,
                committing: Mutex::new(HashSet::new()),
            }),
        };
        store.check_schema()?;
        Ok(store)
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The blob store shared by every namespace. Writing or deleting through
    /// it bypasses namespaces, leases and GC's protection; it is here for
    /// tools (fsck-like checks, benchmarks' bulk loads).
    pub fn local_store(&self) -> &LocalStore {
        &self.inner.local
    }

    /// A handle on namespace `name` (created on its first write).
    ///
    /// # Errors
    /// Invalid argument if `name` is not an identifier (letters, digits, `.`,
    /// `_`, `-`; at most 76 characters).
    pub fn namespace(&self, name: &str) -> Result<Namespace> {
        keys::check_identifier("namespace", name)?;
        Ok(Namespace::new(self.clone(), name.to_owned()))
    }

    /// The namespaces that hold or held anything, in name order.
    ///
    /// # Errors
    /// Database errors.
    pub fn namespaces(&self) -> Result<Vec<String>> {
        let session = self.session()?;
        let mut names = Vec::new();
        session
            .kv()
            .scan(&keys::key(Table::Namespace, &[]), &mut |key, _| {
                names.push(keys::last_part(key)?.to_owned());
                Ok(true)
            })?;
        Ok(names)
    }

    /// Removes the namespace `name`, which must be empty (no image, content
    /// record, ingest or lease).
    ///
    /// # Errors
    /// Not found if there is no such namespace; failed precondition if it
    /// still holds something.
    pub fn delete_namespace(&self, name: &str) -> Result<()> {
        keys::check_identifier("namespace", name)?;
        let session = self.session()?;
        let _mutation = session.mutation();
        let kv = session.kv();
        if kv.get(&keys::namespace(name))?.is_none() {
            return Err(Error::not_found(format!("namespace {name:?} not found")));
        }
        for table in [Table::Image, Table::Blob, Table::Ingest, Table::Lease] {
            let mut found = None;
            kv.scan(&keys::key(table, &[name]), &mut |key, _| {
                found = Some(keys::last_part(key)?.to_owned());
                Ok(false)
            })?;
            if let Some(object) = found {
                return Err(Error::precondition(format!(
                    "namespace {name:?} is not empty: it still holds {object:?}"
                )));
            }
        }
        let mut batch = Batch::default();
        batch.delete(keys::namespace(name));
        kv.write(batch)
    }

    /// Marks and sweeps every namespace; see [`GcOptions`] and the crate docs.
    ///
    /// # Errors
    /// Database and file-system errors; failed precondition when called from
    /// inside another operation of this store on the same thread.
    pub fn gc(&self, options: GcOptions) -> Result<GcReport> {
        gc::collect(self, options)
    }

    /// Checks the store's invariants with the default checks (every record
    /// decodes, every recorded blob is present with its size, every image's
    /// target is present), and lists damage and debris apart; see
    /// [`FsckReport`].
    ///
    /// # Errors
    /// Database and file-system errors (damage found is reported, not an error).
    pub fn fsck(&self) -> Result<FsckReport> {
        self.fsck_with(&FsckOptions::new())
    }

    /// [`MetaStore::fsck`], with the checks `options` adds (hashing every
    /// blob file).
    ///
    /// # Errors
    /// Database and file-system errors (damage found is reported, not an error).
    pub fn fsck_with(&self, options: &FsckOptions) -> Result<FsckReport> {
        fsck::check(self, options)
    }

    pub(crate) fn session(&self) -> Result<Session> {
        self.inner.db.session()
    }

    pub(crate) fn exclusive(&self) -> Result<Session> {
        self.inner.db.exclusive()
    }

    pub(crate) fn local(&self) -> &LocalStore {
        &self.inner.local
    }

    pub(crate) fn options(&self) -> &MetaOptions {
        &self.inner.options
    }

    /// True while this process publishes `digest` in `ns`.
    pub(crate) fn is_committing(&self, ns: &str, digest: &Digest) -> bool {
        self.committing().contains(&committing_key(ns, digest))
    }

    /// Marks `digest` in `ns` as being published until the guard drops.
    /// Call it holding the mutation lock (writers check under it).
    pub(crate) fn begin_commit(&self, ns: &str, digest: &Digest) -> CommitGuard {
        let key = committing_key(ns, digest);
        self.committing().insert(key.clone());
        CommitGuard {
            store: self.clone(),
            key,
        }
    }

    fn committing(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.inner
            .committing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn check_schema(&self) -> Result<()> {
        let session = self.session()?;
        let _mutation = session.mutation();
        let kv = session.kv();
        match kv.get(keys::VERSION)? {
            Some(version) if version == keys::SCHEMA_VERSION.as_bytes() => Ok(()),
            Some(version) => Err(Error::data_loss(format!(
                "metadata database {} has schema version {:?}; this hoist reads version {}",
                self.inner.db.dir().display(),
                String::from_utf8_lossy(&version),
                keys::SCHEMA_VERSION
            ))),
            None => {
                let mut batch = Batch::default();
                batch.put(
                    keys::VERSION.to_vec(),
                    keys::SCHEMA_VERSION.as_bytes().to_vec(),
                );
                kv.write(batch)
            }
        }
    }

    /// After a deletion: runs a GC if enough deletions have accumulated.
    /// Called with no session held, never from tag or rename.
    pub(crate) fn maybe_collect(&self, deletions: u64) {
        let Some(threshold) = self.inner.options.gc_after_deletions else {
            return;
        };
        if deletions < threshold {
            return;
        }
        match self.gc(GcOptions::default()) {
            Ok(report) => tracing::debug!(
                "gc after {deletions} deletions freed {} bytes",
                report.bytes_freed
            ),
            Err(error) => tracing::warn!("gc after {deletions} deletions failed: {error}"),
        }
    }
}

fn committing_key(ns: &str, digest: &Digest) -> String {
    format!("{ns}\0{digest}")
}

/// Ends a publication marked by [`MetaStore::begin_commit`].
pub(crate) struct CommitGuard {
    store: MetaStore,
    key: String,
}

impl Drop for CommitGuard {
    fn drop(&mut self) {
        self.store.committing().remove(&self.key);
    }
}

/// Adds the namespace record to `batch` unless it exists.
pub(crate) fn ensure_namespace(session: &Session, ns: &str, batch: &mut Batch) -> Result<()> {
    let key = keys::namespace(ns);
    if session.kv().get(&key)?.is_none() {
        let record = NamespaceRecord {
            created: clock::to_nanos(SystemTime::now()),
            labels: Default::default(),
        };
        batch.put(key, records::encode(&record)?);
    }
    Ok(())
}

/// Counts one more deletion in `batch`; returns the new count.
pub(crate) fn count_deletion(session: &Session, batch: &mut Batch) -> Result<u64> {
    let key = keys::gc_deletions();
    let count = session
        .kv()
        .get(&key)?
        .and_then(|bytes| std::str::from_utf8(&bytes).ok()?.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    batch.put(key, count.to_string().into_bytes());
    Ok(count)
}
