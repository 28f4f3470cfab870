//! The store on the local file system: the layout is in `layout.rs`, the
//! commit protocol and its crash analysis in `writer.rs`, the locking protocol
//! in `lock.rs`.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::digest::{Algorithm, Digest};
use crate::error::{Error, ErrorKind, Result};
use crate::filter::Filter;
use crate::reader::BlobReader;
use crate::records::{Info, Labels, Status, WriterOptions};
use crate::store::{IngestManager, Ingester, Manager, Provider};

mod durable;
mod flusher;
mod ingest;
mod layout;
mod lock;
mod publish;
mod writer;

use ingest::IngestState;
use layout::{IngestPaths, Layout, TRASH_PREFIX};
use lock::{Attempt, HeldLock};
pub use writer::LocalWriter;

/// The content store on the local file system, rooted at one directory.
///
/// Any number of `LocalStore`s, in any number of processes, may share a root:
/// writers exclude each other through file locks, and everything else reads
/// only what commits publish atomically.
///
/// ```
/// use hoist_content::{ContentWriter, Digest, Ingester, LocalStore, Manager, WriterOptions};
/// use std::io::Write;
///
/// let dir = tempfile::tempdir()?;
/// let store = LocalStore::open(dir.path())?;
/// let mut writer = store.writer(WriterOptions::new("greeting"))?;
/// writer.write_all(b"hello")?;
/// let digest = writer.commit(5, Some(&Digest::sha256_of(b"hello")), Default::default())?;
/// assert_eq!(store.info(&digest)?.size, 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct LocalStore {
    layout: Layout,
}

impl LocalStore {
    /// Opens (creating if needed) the store at `root`, and sweeps what a crash
    /// may have left of removed ingests.
    ///
    /// # Errors
    /// I/O errors creating the layout.
    pub fn open(root: impl AsRef<Path>) -> Result<LocalStore> {
        let layout = Layout::new(root.as_ref().to_owned());
        if let Some(parent) = layout.root().parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| Error::io("create directory", parent, e))?;
        }
        for dir in layout.directories() {
            durable::ensure_dir(&dir)?;
        }
        let store = LocalStore { layout };
        store.sweep_trash();
        Ok(store)
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        self.layout.root()
    }

    /// The path of a blob's file (whether or not it exists), for tools that
    /// hand files to other programs. Never write to it.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.layout.blob(digest)
    }

    fn not_found(digest: &Digest) -> Error {
        Error::new(ErrorKind::NotFound, format!("content {digest} not found"))
    }

    fn info_at(&self, digest: &Digest, path: &Path) -> Result<Info> {
        let meta = fs::metadata(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Self::not_found(digest),
            _ => Error::io("stat", path, e),
        })?;
        let updated_at = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        Ok(Info {
            digest: digest.clone(),
            size: meta.len(),
            created_at: meta.created().unwrap_or(updated_at),
            updated_at,
            labels: Labels::new(),
        })
    }

    /// Removes ingest directories whose removal a crash interrupted. Best
    /// effort: a failure here must not stop the store from opening.
    fn sweep_trash(&self) {
        let root = self.layout.ingest_root();
        let Ok(entries) = fs::read_dir(&root) else {
            return;
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(TRASH_PREFIX)
                && let Err(e) = ingest::remove_trash(&entry.path())
            {
                tracing::warn!(error = %e, "could not sweep ingest trash");
            }
        }
    }

    /// Every ingest directory, with its state if it has one.
    fn ingests(&self) -> Result<Vec<(IngestPaths, Option<IngestState>)>> {
        let root = self.layout.ingest_root();
        let entries = fs::read_dir(&root).map_err(|e| Error::io("list", &root, e))?;
        let mut ingests = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", &root, e))?;
            let name = entry.file_name();
            if !name.to_str().is_some_and(layout::is_ingest_key) {
                continue;
            }
            let paths = IngestPaths::in_dir(entry.path());
            match IngestState::read(&paths) {
                Ok(state) => ingests.push((paths, state)),
                Err(e) if e.is_not_found() => {}
                Err(e) if e.is_data_loss() => ingests.push((paths, None)),
                Err(e) => return Err(e),
            }
        }
        Ok(ingests)
    }

    /// Removes digest lock files nobody holds (left by killed writers).
    fn sweep_digest_locks(&self) -> Result<()> {
        for algorithm in Algorithm::ALL {
            let dir = self.layout.locks_dir(algorithm);
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("list", &dir, e)),
            };
            for entry in entries.flatten() {
                if let Attempt::Acquired(lock) = HeldLock::try_acquire(&entry.path(), None)? {
                    lock.remove()?;
                }
            }
        }
        Ok(())
    }
}

impl Provider for LocalStore {
    fn reader(&self, digest: &Digest) -> Result<BlobReader> {
        let path = self.layout.blob(digest);
        let file = File::open(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Self::not_found(digest),
            _ => Error::io("open", &path, e),
        })?;
        // The size comes from the open file, so a concurrent delete cannot
        // make it disagree with what this reader reads.
        let size = file
            .metadata()
            .map_err(|e| Error::io("stat", &path, e))?
            .len();
        Ok(BlobReader::new(file, path, digest.clone(), size))
    }
}

impl Manager for LocalStore {
    fn info(&self, digest: &Digest) -> Result<Info> {
        self.info_at(digest, &self.layout.blob(digest))
    }

    fn walk(&self, filter: &Filter, visit: &mut dyn FnMut(Info) -> Result<()>) -> Result<()> {
        for algorithm in Algorithm::ALL {
            if filter.algorithm_condition().is_some_and(|a| a != algorithm) {
                continue;
            }
            let dir = self.layout.blobs_dir(algorithm);
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("list", &dir, e)),
            };
            let mut names: Vec<_> = entries
                .map(|entry| entry.map(|e| e.file_name()))
                .collect::<io::Result<_>>()
                .map_err(|e| Error::io("list", &dir, e))?;
            // A stable order makes walks reproducible (and listings diffable).
            names.sort();
            for name in names {
                // Anything that is not a valid digest name is not a blob
                // (nothing of ours writes such a name into blobs/).
                let Some(digest) = name.to_str().and_then(|n| Digest::new(algorithm, n).ok())
                else {
                    continue;
                };
                if !filter.matches_digest(&digest) {
                    continue;
                }
                let info = match self.info_at(&digest, &dir.join(&name)) {
                    Ok(info) => info,
                    // Deleted while walking.
                    Err(e) if e.is_not_found() => continue,
                    Err(e) => return Err(e),
                };
                if filter.matches(&info) {
                    visit(info)?;
                }
            }
        }
        Ok(())
    }

    fn delete(&self, digest: &Digest) -> Result<()> {
        let path = self.layout.blob(digest);
        // No directory fsync: a delete a crash undoes leaves an unreferenced
        // blob, which the next GC removes again; nothing is lost.
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &path, e)),
        }
    }
}

impl IngestManager for LocalStore {
    fn status(&self, reference: &str) -> Result<Status> {
        let paths = self.layout.ingest(reference);
        match IngestState::read(&paths)? {
            Some(state) if state.reference == reference => state.status(&paths),
            _ => Err(Error::new(
                ErrorKind::NotFound,
                format!("ingest {reference:?} not found"),
            )),
        }
    }

    fn list_statuses(&self) -> Result<Vec<Status>> {
        let mut statuses = Vec::new();
        for (paths, state) in self.ingests()? {
            if let Some(state) = state {
                match state.status(&paths) {
                    Ok(status) => statuses.push(status),
                    // Removed while listing.
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e),
                }
            }
        }
        statuses.sort_by(|a, b| a.reference.cmp(&b.reference));
        Ok(statuses)
    }

    fn abort(&self, reference: &str) -> Result<()> {
        let paths = self.layout.ingest(reference);
        let missing = || {
            Error::new(
                ErrorKind::NotFound,
                format!("ingest {reference:?} not found"),
            )
        };
        if !paths.dir.exists() {
            return Err(missing());
        }
        match HeldLock::try_acquire(&paths.lock, None)? {
            Attempt::Acquired(lock) => {
                ingest::remove_ingest_dir(&paths)?;
                drop(lock);
                Ok(())
            }
            Attempt::Busy(holder) => {
                let message = match &holder {
                    Some(holder) => format!("ingest {reference:?} is being written by {holder}"),
                    None => format!("ingest {reference:?} is being written by another writer"),
                };
                Err(Error::new(ErrorKind::Unavailable, message).with_holder(holder))
            }
            Attempt::Gone => Err(missing()),
        }
    }

    fn abort_idle(&self, older_than: Duration) -> Result<Vec<String>> {
        let now = SystemTime::now();
        let idle =
            |last: SystemTime| now.duration_since(last).unwrap_or(Duration::ZERO) >= older_than;
        let mut aborted = Vec::new();
        for (paths, state) in self.ingests()? {
            let last = match &state {
                Some(state) => state.status(&paths).map(|s| s.updated_at).ok(),
                None => Some(ingest::last_change(&paths.dir)),
            };
            if !last.is_some_and(idle) {
                continue;
            }
            // A live writer holds the lock: skip it, whatever its age.
            let Attempt::Acquired(lock) = HeldLock::try_acquire(&paths.lock, None)? else {
                continue;
            };
            // Under the lock, look again: a writer may have closed it just now.
            let state = IngestState::read(&paths).ok().flatten();
            if let Some(state) = &state
                && !state.status(&paths).is_ok_and(|s| idle(s.updated_at))
            {
                continue;
            }
            ingest::remove_ingest_dir(&paths)?;
            drop(lock);
            if let Some(state) = state {
                aborted.push(state.reference);
            }
        }
        self.sweep_digest_locks()?;
        self.sweep_trash();
        aborted.sort();
        Ok(aborted)
    }
}

impl Ingester for LocalStore {
    type Writer = LocalWriter;

    fn writer(&self, options: WriterOptions) -> Result<LocalWriter> {
        LocalWriter::open(&self.layout, options)
    }
}

#[cfg(test)]
mod tests;
