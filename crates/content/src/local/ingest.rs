//! An ingest directory's persistent state and its removal.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::digest::Digest;
use crate::error::{Error, ErrorKind, Result};
use crate::local::durable;
use crate::local::layout::{IngestPaths, TRASH_PREFIX};
use crate::records::Status;
use crate::timestamp;

/// What `state.json` records. Written once when the ingest starts (and again
/// only if a resume adds an expected digest or total); the offset is not in it:
/// the data file's length is the offset, so there is nothing to keep in sync.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct IngestState {
    pub(crate) version: u32,
    pub(crate) reference: String,
    pub(crate) expected: Option<Digest>,
    pub(crate) total: Option<u64>,
    pub(crate) started_at_unix_ns: u128,
}

pub(crate) const STATE_VERSION: u32 = 1;

impl IngestState {
    pub(crate) fn new(
        reference: &str,
        expected: Option<Digest>,
        total: Option<u64>,
    ) -> IngestState {
        IngestState {
            version: STATE_VERSION,
            reference: reference.to_owned(),
            expected,
            total,
            started_at_unix_ns: timestamp::to_unix_nanos(SystemTime::now()),
        }
    }

    pub(crate) fn started_at(&self) -> SystemTime {
        timestamp::from_unix_nanos(self.started_at_unix_ns)
    }

    /// Reads the state; `None` if the ingest has none (absent, or a crash
    /// interrupted its creation, which `replace_atomically` makes the same
    /// thing). A state a power cut garbled is data loss, which the writer
    /// takes as "start over".
    pub(crate) fn read(paths: &IngestPaths) -> Result<Option<IngestState>> {
        let bytes = match fs::read(&paths.state) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read ingest state", &paths.state, e)),
        };
        let state: IngestState = serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(
                ErrorKind::DataLoss,
                format!("ingest state {} is unreadable: {e}", paths.state.display()),
            )
            .with_source(e)
        })?;
        if state.version != STATE_VERSION {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "ingest state {} has version {}, this build reads version {STATE_VERSION}",
                    paths.state.display(),
                    state.version
                ),
            ));
        }
        Ok(Some(state))
    }

    /// Writes the state atomically (temp file, rename) but not durably: an
    /// ingest's bookkeeping is made durable only when the writer is closed
    /// for a later resume ([`make_durable`]). Until then a power cut loses at
    /// most the ingest (its state, or all of it), which is re-downloaded;
    /// never a blob, whose commit fsyncs its data and its name.
    pub(crate) fn write(&self, paths: &IngestPaths) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| {
            Error::io(
                "encode ingest state",
                &paths.state,
                std::io::Error::other(e),
            )
        })?;
        durable::replace_atomically(&paths.state, &bytes)
    }

    /// The status of the ingest at `paths` described by this state, read from
    /// the data file's length and modification time.
    pub(crate) fn status(&self, paths: &IngestPaths) -> Result<Status> {
        let (offset, updated_at) = match fs::metadata(&paths.data) {
            Ok(meta) => (
                meta.len(),
                meta.modified().unwrap_or_else(|_| self.started_at()),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (0, self.started_at()),
            Err(e) => return Err(Error::io("stat ingest data", &paths.data, e)),
        };
        Ok(Status {
            reference: self.reference.clone(),
            offset,
            total: self.total,
            expected: self.expected.clone(),
            started_at: self.started_at(),
            updated_at: updated_at.max(self.started_at()),
        })
    }
}

/// Makes an ingest's state and names durable (its data is the writer's to
/// sync), so that it can be resumed after a power cut too.
pub(crate) fn make_durable(paths: &IngestPaths) -> Result<()> {
    durable::sync_file(&paths.state)?;
    durable::sync_dir(&paths.dir)?;
    match paths.dir.parent() {
        Some(parent) => durable::sync_dir(parent),
        None => Ok(()),
    }
}

/// The last time anything in an ingest directory changed (for orphans without a state).
pub(crate) fn last_change(dir: &Path) -> SystemTime {
    let mut latest = SystemTime::UNIX_EPOCH;
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                latest = latest.max(modified);
            }
        }
    }
    if let Ok(modified) = fs::metadata(dir).and_then(|m| m.modified()) {
        latest = latest.max(modified);
    }
    latest
}

static TRASH_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Removes an ingest directory. The caller holds its lock.
///
/// The directory is first renamed to a trash name, atomically: from that
/// instant a new writer for the same reference creates a fresh directory, and
/// anyone who opened the old lock file finds the path no longer names it (see
/// `lock.rs`). Removing the files in place instead could race with a writer
/// creating a new lock file in the half-removed directory. A crash leaves only
/// trash, which `LocalStore::open` and `abort_idle` sweep.
pub(crate) fn remove_ingest_dir(paths: &IngestPaths) -> Result<()> {
    let Some(parent) = paths.dir.parent() else {
        return Ok(());
    };
    let trash = parent.join(format!(
        "{TRASH_PREFIX}{}-{}-{}",
        paths
            .dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("ingest"),
        std::process::id(),
        TRASH_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    match fs::rename(&paths.dir, &trash) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Error::io(
                &format!("rename {} to", paths.dir.display()),
                &trash,
                e,
            ));
        }
    }
    remove_trash(&trash)
}

/// Removes one trash directory; a concurrent sweeper removing it too is fine.
pub(crate) fn remove_trash(trash: &Path) -> Result<()> {
    match fs::remove_dir_all(trash) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", trash, e)),
    }
}

/// Whether a data file also has another name (a blob published by the
/// hard-link fallback whose ingest removal a crash interrupted). Such a file
/// must never be written to again.
pub(crate) fn is_shared_inode(meta: &fs::Metadata) -> bool {
    meta.nlink() > 1
}
