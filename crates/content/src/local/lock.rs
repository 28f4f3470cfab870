//! Cross-process locks on files: `flock(2)` through `std::fs::File::try_lock`.
//!
//! Why flock: it belongs to the open file description, so a second `open` of
//! the same file in the *same* process conflicts too (one rule for threads and
//! processes), and the kernel drops it when the holder's process dies, so a
//! SIGKILLed writer never blocks anyone (no stale-lock heuristics needed).
//!
//! Lock files may be removed (an ingest is aborted, a digest lock released).
//! That is safe only with this protocol:
//! - a file is removed (or its directory renamed away) only by the holder of its lock;
//! - after locking, the acquirer checks that the path still names the inode it
//!   locked; if not (it locked a file already unlinked), it starts over.
//!
//! The holder writes its pid, the time and the reference into the file, so
//! someone who finds it locked can say who holds it and since when.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Read;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, LockHolder, Result};
use crate::timestamp;

/// A lock this process holds. Dropping it releases the lock (the file stays).
#[derive(Debug)]
pub(crate) struct HeldLock {
    /// Held open for its lock, which lives as long as this file description.
    _file: File,
    path: PathBuf,
}

/// The outcome of one attempt to take a lock.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// Taken.
    Acquired(HeldLock),
    /// Someone holds it; who, if the file says.
    Busy(Option<LockHolder>),
    /// The file (or its directory) was removed or replaced meanwhile; try again
    /// from the start (recreating the directory if needed).
    Gone,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct HolderRecord {
    pid: u32,
    since_unix_ns: u128,
    reference: Option<String>,
}

impl HeldLock {
    /// One attempt to lock `path` (created if missing) without blocking.
    /// `reference` is recorded for whoever finds it busy.
    pub(crate) fn try_acquire(path: &Path, reference: Option<&str>) -> Result<Attempt> {
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Attempt::Gone),
            Err(e) => return Err(Error::io("open lock file", path, e)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(Attempt::Busy(read_holder(&file))),
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
        }
        // We hold a lock on the inode we opened; it counts only if the path still
        // names that inode (a holder may have removed it between our open and lock).
        let held = file
            .metadata()
            .map_err(|e| Error::io("stat lock file", path, e))?;
        match std::fs::metadata(path) {
            Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => {}
            Ok(_) => return Ok(Attempt::Gone),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Attempt::Gone),
            Err(e) => return Err(Error::io("stat lock file", path, e)),
        }
        let record = HolderRecord {
            pid: std::process::id(),
            since_unix_ns: timestamp::to_unix_nanos(SystemTime::now()),
            reference: reference.map(str::to_owned),
        };
        let mut line = serde_json::to_vec(&record)
            .map_err(|e| Error::io("encode lock holder for", path, std::io::Error::other(e)))?;
        line.push(b'\n');
        // One positioned write, then cut any longer previous record: a reader
        // sees a whole line or fails to parse it (and reports "holder unknown").
        file.write_all_at(&line, 0)
            .and_then(|()| file.set_len(line.len() as u64))
            .map_err(|e| Error::io("write lock holder to", path, e))?;
        Ok(Attempt::Acquired(HeldLock {
            _file: file,
            path: path.to_owned(),
        }))
    }

    /// Removes the lock file, then releases the lock. Only the holder may remove
    /// it (see the module doc).
    pub(crate) fn remove(self) -> Result<()> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove lock file", &self.path, e)),
        }
    }
}

fn read_holder(file: &File) -> Option<LockHolder> {
    let mut text = String::new();
    let mut reader = file;
    reader.read_to_string(&mut text).ok()?;
    let line = text.lines().next()?;
    let record: HolderRecord = serde_json::from_str(line).ok()?;
    Some(LockHolder {
        pid: record.pid,
        since: timestamp::from_unix_nanos(record.since_unix_ns),
        reference: record.reference,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_open_in_the_same_process_is_busy_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let Attempt::Acquired(held) = HeldLock::try_acquire(&path, Some("ref-a")).unwrap() else {
            panic!("first attempt must acquire");
        };
        let busy = HeldLock::try_acquire(&path, Some("ref-b")).unwrap();
        let Attempt::Busy(Some(holder)) = busy else {
            panic!("expected busy with a holder, got {busy:?}");
        };
        assert_eq!(holder.pid, std::process::id());
        assert_eq!(holder.reference.as_deref(), Some("ref-a"));
        drop(held);
        assert!(matches!(
            HeldLock::try_acquire(&path, None).unwrap(),
            Attempt::Acquired(_)
        ));
    }

    #[test]
    fn a_removed_lock_file_is_gone_for_whoever_opened_it_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let Attempt::Acquired(held) = HeldLock::try_acquire(&path, None).unwrap() else {
            panic!("first attempt must acquire");
        };
        // Someone opened the old inode before the holder removed it.
        let stale = File::open(&path).unwrap();
        held.remove().unwrap();
        stale.try_lock().unwrap();
        // The protocol sees the inode is no longer at the path.
        let fresh = HeldLock::try_acquire(&path, None).unwrap();
        assert!(matches!(fresh, Attempt::Acquired(_)), "{fresh:?}");
        assert!(matches!(
            HeldLock::try_acquire(&dir.path().join("missing/lock"), None).unwrap(),
            Attempt::Gone
        ));
    }
}
