//! Which process owns the RocksDB database of a root, and how ownership is
//! handed over between processes.
//!
//! RocksDB admits one read-write opener at a time, and opening it costs tens
//! of milliseconds (it fsyncs a new MANIFEST and flushes the previous owner's
//! write-ahead log). So a process keeps the database open while it works and
//! hands it over when another process asks, using two files in `meta/`:
//!
//! - `lock`: whoever holds an exclusive `flock` on it owns the database. The
//!   owner writes its pid and the time it took ownership into the file, so a
//!   waiter can say who it waits for.
//! - `want`: a process that needs the database holds a *shared* `flock` on it
//!   while it waits for `lock`. The owner polls `want` with a non-blocking
//!   exclusive `try_lock`: when that fails, somebody is waiting, and the owner
//!   closes the database as soon as its operations in flight finish.
//!
//! Both locks are released by the kernel when a process dies, however it
//! dies, so a killed owner never blocks the others.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// The name of the ownership lock file in `meta/`.
pub(crate) const LOCK_FILE: &str = "lock";
/// The name of the "somebody waits" file in `meta/`.
pub(crate) const WANT_FILE: &str = "want";

/// Ownership of a root's database: the exclusive lock on `meta/lock`.
/// Dropping it releases the lock; the database must be closed first.
#[derive(Debug)]
pub(crate) struct Ownership {
    _lock: File,
}

/// Waits until this process owns the database in `dir`.
///
/// Announces the wait on `want` so that the current owner lets go, polls
/// `lock` for `log_after` (so a quick hand-over is noticed within
/// milliseconds), then logs who holds it and blocks in the kernel.
///
/// `courtesy`: this process just handed the database over; until then, or
/// until no process waits any more (a waiter stops waiting only once it owns
/// the database), it does not try to take it back. Without this the process
/// that lets go could re-take the lock before the waiter's next poll, again
/// and again, and starve it.
pub(crate) fn acquire(
    dir: &Path,
    log_after: Duration,
    signal: &WaitSignal,
    courtesy: Option<Instant>,
) -> Result<Ownership> {
    if let Some(until) = courtesy {
        while Instant::now() < until && signal.someone_waits() {
            std::thread::sleep(Duration::from_micros(250));
        }
    }
    let lock_path = dir.join(LOCK_FILE);
    let lock = open_rw(&lock_path)?;
    match lock.try_lock() {
        Ok(()) => return take(lock, &lock_path),
        Err(TryLockError::WouldBlock) => {}
        Err(TryLockError::Error(error)) => return Err(Error::io("lock", &lock_path, error)),
    }
    let want_path = dir.join(WANT_FILE);
    let want = open_rw(&want_path)?;
    want.lock_shared()
        .map_err(|error| Error::io("lock (shared)", &want_path, error))?;
    let started = Instant::now();
    let mut pause = Duration::from_micros(200);
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(error)) => return Err(Error::io("lock", &lock_path, error)),
        }
        if started.elapsed() >= log_after {
            tracing::info!(
                "waiting for the metadata database in {}: {}",
                dir.display(),
                describe_holder(&lock_path)
            );
            lock.lock()
                .map_err(|error| Error::io("lock", &lock_path, error))?;
            tracing::info!(
                "got the metadata database in {} after {:.1}s",
                dir.display(),
                started.elapsed().as_secs_f64()
            );
            break;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(2));
    }
    // Stop asking only once we own it, so the owner cannot miss the request.
    drop(want);
    take(lock, &lock_path)
}

/// Records this process as the owner in the lock file (for waiters' logs).
fn take(mut lock: File, path: &Path) -> Result<Ownership> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let note = format!("pid {} since unix time {since}\n", std::process::id());
    // The note is advisory: a torn or stale note only makes a log line vague.
    let written = lock
        .set_len(0)
        .and_then(|()| lock.seek(SeekFrom::Start(0)))
        .and_then(|_| lock.write_all(note.as_bytes()));
    if let Err(error) = written {
        tracing::debug!("could not note the owner in {}: {error}", path.display());
    }
    Ok(Ownership { _lock: lock })
}

/// Who holds the lock, as the holder wrote it.
fn describe_holder(lock_path: &Path) -> String {
    let mut note = String::new();
    match File::open(lock_path).and_then(|mut file| file.read_to_string(&mut note)) {
        Ok(_) if !note.trim().is_empty() => format!("held by {}", note.trim()),
        _ => "held by another process".to_owned(),
    }
}

fn open_rw(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|error| Error::io("open", path, error))
}

/// The owner's view of `want`: is another process waiting for the database?
#[derive(Debug)]
pub(crate) struct WaitSignal {
    file: File,
    path: PathBuf,
}

impl WaitSignal {
    /// Opens `want` in `dir`.
    pub(crate) fn open(dir: &Path) -> Result<WaitSignal> {
        let path = dir.join(WANT_FILE);
        Ok(WaitSignal {
            file: open_rw(&path)?,
            path,
        })
    }

    /// True when another process holds `want` shared, i.e. waits for `lock`.
    pub(crate) fn someone_waits(&self) -> bool {
        match self.file.try_lock() {
            Ok(()) => {
                if let Err(error) = self.file.unlock() {
                    tracing::debug!("unlock {}: {error}", self.path.display());
                }
                false
            }
            Err(TryLockError::WouldBlock) => true,
            Err(TryLockError::Error(error)) => {
                tracing::debug!("try_lock {}: {error}", self.path.display());
                false
            }
        }
    }
}
