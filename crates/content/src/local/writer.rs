//! The local store's writer: hash while writing, verify, fsync, publish.
//!
//! # Resume: re-hash, not a checkpointed hasher
//!
//! A reopened ingest re-hashes its data file from the start. The file *is* the
//! truth after a crash: a hasher checkpoint could disagree with it (the kernel
//! may have persisted more or fewer data bytes than the checkpoint covered, or
//! a SIGKILL may land between the two writes), and then a resume would commit
//! a digest over bytes it never saw. Re-hashing is also what sha2 0.10 allows
//! (its state is not serializable). The cost is a sequential read at ~1.3 GiB/s,
//! paid once per resume, which is small beside re-downloading.
//!
//! # Commit protocol and crash analysis
//!
//! 1. Verify the size, then the digest. A size mismatch keeps the ingest (it may
//!    be resumed); a digest mismatch removes it (its bytes are wrong, and a
//!    resume would only fail again).
//! 2. `chmod 0444` the data file, then `fsync` it: the content is durable
//!    before any name points at it. (After a [`sync`](ContentWriter::sync)
//!    with nothing written since, the content is durable already and the
//!    fsync is skipped; a power cut may then leave the blob's mode writable.)
//!    Crash here: the ingest is intact; a resume makes the file writable
//!    again and re-hashes it.
//! 3. Publish with `renameat2(RENAME_NOREPLACE)` into `blobs/<alg>/<hex>`: one
//!    atomic step that never replaces an existing blob (`publish.rs`). Crash
//!    here: the rename is in the journal or not; either the blob exists and
//!    the ingest has no data, or the ingest still holds the verified data.
//! 4. `fsync` the `blobs/<alg>` directory: from here the blob survives a crash.
//! 5. Remove the ingest directory (renamed to trash first, `ingest.rs`) and the
//!    digest lock file. Crash here: a leftover ingest without data, which a
//!    reopen starts from zero and `abort_idle` removes.
//!
//! A blob therefore appears under `blobs/` only verified and durable, and a
//! committed blob is never lost or replaced.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::time::SystemTime;

use crate::digest::{Algorithm, Digest, Digester};
use crate::error::{Error, ErrorKind, LockHolder, Result};
use crate::local::durable;
use crate::local::flusher::Flusher;
use crate::local::ingest::{self, IngestState};
use crate::local::layout::{IngestPaths, Layout};
use crate::local::lock::{Attempt, HeldLock};
use crate::local::publish::{Published, publish};
use crate::records::{Labels, Status, WriterOptions};
use crate::store::ContentWriter;

/// How often to retry a lock whose file was removed under us before giving up.
/// Each retry means another writer committed or aborted meanwhile, so this is
/// only reached under pathological churn.
const LOCK_ATTEMPTS: usize = 64;

/// Size of the buffer used to re-hash partial data.
const REHASH_BUFFER: usize = 1 << 20;

/// Every this many bytes, the writer asks its flusher thread to write the
/// bytes so far back to disk (see `flusher.rs`).
///
/// Small, so that the disk keeps pace with bytes arriving from a network
/// and little is left for the commit's fsync. Measured on this project's
/// machines (five files fed together at 900 MB/s in all, 0.222 s of
/// arrival): fdatasynced every 512 KiB they were durable at 0.225 s, every
/// 16 MiB at 0.29–0.35 s. A 1 GiB ingest from memory runs at the same speed
/// either way (docs/crates/content.md).
const WRITEBACK_WINDOW: u64 = 512 << 10;

/// A write in progress in a [`LocalStore`](super::LocalStore).
///
/// It holds the ingest's lock (and, if an expected digest was given, that
/// digest's lock) until it is committed, closed, aborted or dropped. Dropping
/// it is like [`close`](ContentWriter::close) without the final fsync.
#[derive(Debug)]
pub struct LocalWriter {
    layout: Layout,
    paths: IngestPaths,
    state: IngestState,
    data: File,
    digester: Digester,
    offset: u64,
    /// Up to where background writeback was last requested.
    writeback_started: u64,
    /// The offset at the last [`sync`](ContentWriter::sync), while nothing
    /// was written or truncated since.
    synced_through: Option<u64>,
    flusher: Option<Flusher>,
    updated_at: SystemTime,
    ref_lock: HeldLock,
    digest_lock: Option<HeldLock>,
}

impl LocalWriter {
    /// Opens or resumes the ingest `options.reference` (see [`Ingester::writer`](crate::Ingester::writer)).
    pub(crate) fn open(layout: &Layout, options: WriterOptions) -> Result<LocalWriter> {
        let WriterOptions {
            reference,
            expected,
            total,
        } = options;
        if reference.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "an ingest reference must not be empty",
            ));
        }
        // Cheap early answer, before touching any ingest or lock.
        if let Some(digest) = &expected {
            ensure_not_committed(layout, digest, &reference)?;
        }
        let paths = layout.ingest(&reference);
        let ref_lock = acquire_ref_lock(&paths, &reference)?;

        let stored = match IngestState::read(&paths) {
            Ok(stored) => stored,
            // An unreadable state cannot be trusted to describe the data: start over.
            Err(e) if e.is_data_loss() => {
                tracing::warn!(error = %e, "discarding ingest with unreadable state");
                None
            }
            Err(e) => return Err(e),
        };
        let fresh = stored.is_none();
        let (state, changed) = match stored {
            None => (IngestState::new(&reference, expected, total), true),
            Some(stored) => reconcile(stored, &reference, expected, total, &paths)?,
        };

        let digest_lock = match &state.expected {
            Some(digest) => {
                // The stored expected digest may be committed by now.
                if let Err(e) = ensure_not_committed(layout, digest, &reference) {
                    ingest::remove_ingest_dir(&paths)?;
                    return Err(e);
                }
                match acquire_digest_lock(layout, digest, &reference) {
                    Ok(lock) => Some(lock),
                    Err(e) => {
                        if fresh {
                            // Leave no empty ingest behind for a writer that never started.
                            ingest::remove_ingest_dir(&paths)?;
                        }
                        return Err(e);
                    }
                }
            }
            None => None,
        };
        // Whoever held the digest lock before us may have committed it just now.
        if let Some(digest) = &state.expected
            && let Err(e) = ensure_not_committed(layout, digest, &reference)
        {
            ingest::remove_ingest_dir(&paths)?;
            if let Some(lock) = digest_lock {
                lock.remove()?;
            }
            return Err(e);
        }
        if changed {
            state.write(&paths)?;
        }

        let mut data = open_data(&paths, fresh)?;
        let algorithm = state
            .expected
            .as_ref()
            .map_or(Algorithm::Sha256, Digest::algorithm);
        let offset = data
            .metadata()
            .map_err(|e| Error::io("stat", &paths.data, e))?
            .len();
        let digester = rehash(&data, &paths, offset, algorithm)?;
        data.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io("seek", &paths.data, e))?;
        let updated_at = state.status(&paths)?.updated_at;
        Ok(LocalWriter {
            layout: layout.clone(),
            paths,
            state,
            data,
            digester,
            offset,
            writeback_started: offset,
            synced_through: None,
            flusher: None,
            updated_at,
            ref_lock,
            digest_lock,
        })
    }

    /// Opens the ingest's data file again, read-only, for a reader that
    /// follows the bytes as they are written (a registry serving a blob
    /// while it downloads). Only bytes below [`offset`](ContentWriter::offset)
    /// are meaningful, and they are not verified until the commit; the
    /// descriptor stays valid after the commit renames the file into
    /// `blobs/`, or after an abort removes it.
    ///
    /// # Errors
    /// I/O errors opening the file, naming its path.
    pub fn data_reader(&self) -> Result<File> {
        File::open(&self.paths.data).map_err(|e| Error::io("open", &self.paths.data, e))
    }

    /// Releases the locks; removes the ingest first if `remove_ingest`.
    fn finish(self, remove_ingest: bool) -> Result<()> {
        let LocalWriter {
            paths,
            data,
            ref_lock,
            digest_lock,
            ..
        } = self;
        drop(data);
        let removed = if remove_ingest {
            ingest::remove_ingest_dir(&paths)
        } else {
            Ok(())
        };
        let released = match digest_lock {
            Some(lock) => lock.remove(),
            None => Ok(()),
        };
        // The ingest lock goes last: until here nobody else may touch the ingest.
        drop(ref_lock);
        removed.and(released)
    }

    /// Once a window of bytes has accumulated since the last time, nudges
    /// the background flusher (started on the first window, so small blobs
    /// never spawn a thread). See `flusher.rs` for why.
    fn start_writeback(&mut self) {
        if self.offset.saturating_sub(self.writeback_started) < WRITEBACK_WINDOW {
            return;
        }
        if self.flusher.is_none() {
            match Flusher::start(&self.data, &self.paths.data) {
                Ok(flusher) => self.flusher = Some(flusher),
                // Only speed is lost: the commit's fsync covers everything.
                Err(e) => tracing::debug!(error = %e, "no background writeback"),
            }
        }
        if let Some(flusher) = &self.flusher {
            flusher.nudge();
        }
        self.writeback_started = self.offset;
    }

    fn precondition(&self, message: String) -> Error {
        Error::new(
            ErrorKind::FailedPrecondition,
            format!("commit of ingest {:?}: {message}", self.state.reference),
        )
    }
}

/// Checks a stored state against what the caller asks for now; returns the
/// state to use and whether it changed (and must be written).
fn reconcile(
    mut stored: IngestState,
    reference: &str,
    expected: Option<Digest>,
    total: Option<u64>,
    paths: &IngestPaths,
) -> Result<(IngestState, bool)> {
    if stored.reference != reference {
        return Err(Error::new(
            ErrorKind::FailedPrecondition,
            format!(
                "ingest {} belongs to reference {:?}, not {reference:?}",
                paths.dir.display(),
                stored.reference
            ),
        ));
    }
    let mut changed = false;
    match (&stored.expected, expected) {
        (Some(have), Some(want)) if *have != want => {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "ingest {reference:?} was started for {have}, not {want}; abort it to start over"
                ),
            ));
        }
        (None, Some(want)) => {
            stored.expected = Some(want);
            changed = true;
        }
        _ => {}
    }
    match (stored.total, total) {
        (Some(have), Some(want)) if have != want => {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "ingest {reference:?} was started with total {have}, not {want}; abort it to start over"
                ),
            ));
        }
        (None, Some(want)) => {
            stored.total = Some(want);
            changed = true;
        }
        _ => {}
    }
    Ok((stored, changed))
}

fn ensure_not_committed(layout: &Layout, digest: &Digest, reference: &str) -> Result<()> {
    let blob = layout.blob(digest);
    match fs::symlink_metadata(&blob) {
        Ok(_) => Err(Error::new(
            ErrorKind::AlreadyExists,
            format!("content {digest} already exists (writer {reference:?} not needed)"),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("stat", &blob, e)),
    }
}

fn acquire_ref_lock(paths: &IngestPaths, reference: &str) -> Result<HeldLock> {
    for _ in 0..LOCK_ATTEMPTS {
        // Not durable until `close` (see `IngestState::write`).
        durable::create_dir(&paths.dir)?;
        match HeldLock::try_acquire(&paths.lock, Some(reference))? {
            Attempt::Acquired(lock) => return Ok(lock),
            Attempt::Busy(holder) => {
                return Err(unavailable(format!("ingest {reference:?}"), holder));
            }
            Attempt::Gone => continue,
        }
    }
    Err(churn(&paths.lock))
}

fn acquire_digest_lock(layout: &Layout, digest: &Digest, reference: &str) -> Result<HeldLock> {
    let path = layout.digest_lock(digest);
    for _ in 0..LOCK_ATTEMPTS {
        match HeldLock::try_acquire(&path, Some(reference))? {
            Attempt::Acquired(lock) => return Ok(lock),
            Attempt::Busy(holder) => {
                return Err(unavailable(format!("content {digest}"), holder));
            }
            // The locks directory is created by `LocalStore::open`; recreate it
            // if someone removed it.
            Attempt::Gone => {
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
                }
            }
        }
    }
    Err(churn(&path))
}

fn unavailable(what: String, holder: Option<LockHolder>) -> Error {
    let message = match &holder {
        Some(holder) => format!("{what} is being written by {holder}"),
        None => format!("{what} is being written by another writer (holder not yet recorded)"),
    };
    Error::new(ErrorKind::Unavailable, message).with_holder(holder)
}

fn churn(path: &std::path::Path) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        format!(
            "lock {} was removed and recreated {LOCK_ATTEMPTS} times while acquiring it",
            path.display()
        ),
    )
}

/// Opens the data file for writing. A fresh ingest starts empty. A resumed one
/// may carry traces of an interrupted commit, repaired here: a read-only mode
/// (crash after step 2) is reset; a second name (crash inside the hard-link
/// fallback, the data is already a blob) means the file must not be written,
/// so the ingest starts over with a new file.
fn open_data(paths: &IngestPaths, fresh: bool) -> Result<File> {
    if !fresh {
        match fs::metadata(&paths.data) {
            Ok(meta) if ingest::is_shared_inode(&meta) => {
                fs::remove_file(&paths.data).map_err(|e| Error::io("remove", &paths.data, e))?;
            }
            Ok(meta) if meta.permissions().readonly() => {
                fs::set_permissions(&paths.data, Permissions::from_mode(0o644))
                    .map_err(|e| Error::io("make writable", &paths.data, e))?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("stat", &paths.data, e)),
        }
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(fresh)
        .open(&paths.data)
        .map_err(|e| Error::io("open", &paths.data, e))
}

/// Hashes the first `len` bytes of `data` through a fixed buffer.
fn rehash(data: &File, paths: &IngestPaths, len: u64, algorithm: Algorithm) -> Result<Digester> {
    let mut digester = Digester::new(algorithm);
    let mut buffer = vec![0; REHASH_BUFFER.min(usize::try_from(len).unwrap_or(REHASH_BUFFER))];
    let mut position = 0;
    while position < len {
        let want = buffer
            .len()
            .min(usize::try_from(len - position).unwrap_or(usize::MAX));
        let n = data
            .read_at(&mut buffer[..want], position)
            .map_err(|e| Error::io("read", &paths.data, e))?;
        if n == 0 {
            return Err(Error::new(
                ErrorKind::DataLoss,
                format!(
                    "ingest data {} ended at {position} bytes, expected {len}",
                    paths.data.display()
                ),
            ));
        }
        digester.update(&buffer[..n]);
        position += n as u64;
    }
    Ok(digester)
}

impl Write for LocalWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.data.write(buf).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("write {}: {e}", self.paths.data.display()),
            )
        })?;
        self.digester.update(&buf[..n]);
        self.offset += n as u64;
        self.synced_through = None;
        self.updated_at = SystemTime::now();
        self.start_writeback();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Nothing is buffered in user space: every write went to the file.
        Ok(())
    }
}

impl ContentWriter for LocalWriter {
    fn status(&self) -> Result<Status> {
        Ok(Status {
            reference: self.state.reference.clone(),
            offset: self.offset,
            total: self.state.total,
            expected: self.state.expected.clone(),
            started_at: self.state.started_at(),
            updated_at: self.updated_at,
        })
    }

    fn offset(&self) -> u64 {
        self.offset
    }

    fn digest(&self) -> Digest {
        self.digester.clone().finish()
    }

    fn truncate(&mut self, size: u64) -> Result<()> {
        if size > self.offset {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "cannot truncate ingest {:?} to {size} bytes: it holds {}",
                    self.state.reference, self.offset
                ),
            ));
        }
        self.data
            .set_len(size)
            .and_then(|()| self.data.seek(SeekFrom::Start(size)).map(drop))
            .map_err(|e| Error::io("truncate", &self.paths.data, e))?;
        self.digester = rehash(&self.data, &self.paths, size, self.digester.algorithm())?;
        self.offset = size;
        self.synced_through = None;
        self.writeback_started = self.writeback_started.min(size);
        self.updated_at = SystemTime::now();
        Ok(())
    }

    fn sync(&mut self) -> Result<()> {
        // The background flusher goes first: an error it saw would not be
        // reported to our fsync again (see flusher.rs). Later writes start
        // a new one.
        if let Some(flusher) = self.flusher.take() {
            flusher.finish()?;
        }
        self.data
            .sync_data()
            .map_err(|e| Error::io("fsync", &self.paths.data, e))?;
        self.synced_through = Some(self.offset);
        Ok(())
    }

    fn commit(mut self, size: u64, expected: Option<&Digest>, _labels: Labels) -> Result<Digest> {
        // Step 1: verify. A size mismatch keeps the ingest for resume.
        if size != self.offset {
            let err = self.precondition(format!(
                "{} bytes were written, the commit says {size}",
                self.offset
            ));
            self.finish(false)?;
            return Err(err);
        }
        if let Some(total) = self.state.total.filter(|total| *total != size) {
            let err = self.precondition(format!(
                "{size} bytes were written, the ingest was opened for {total}"
            ));
            self.finish(false)?;
            return Err(err);
        }
        let expected = expected.or(self.state.expected.as_ref()).cloned();
        let actual = match &expected {
            Some(want) if want.algorithm() != self.digester.algorithm() => {
                rehash(&self.data, &self.paths, size, want.algorithm())?.finish()
            }
            _ => self.digester.clone().finish(),
        };
        if let Some(want) = expected.filter(|want| *want != actual) {
            // A digest mismatch removes the ingest: its bytes are wrong.
            let err = self.precondition(format!(
                "the content has digest {actual}, expected {want}; the ingest was removed"
            ));
            self.finish(true)?;
            return Err(err);
        }

        // Step 2: read-only, then fsync: content and mode durable before the name.
        // The background flusher goes first: an error it saw would not be
        // reported to our fsync again (see flusher.rs).
        if let Some(flusher) = self.flusher.take() {
            flusher.finish()?;
        }
        self.data
            .set_permissions(Permissions::from_mode(0o444))
            .map_err(|e| Error::io("make read-only", &self.paths.data, e))?;
        // After `sync` with nothing written since, the bytes and the size are
        // durable already; the mode alone is not worth another wait for the
        // disk (a power cut may leave a committed blob writable, never
        // wrong). Otherwise this fsync is what makes the bytes durable.
        if self.synced_through != Some(self.offset) {
            #[cfg(test)]
            durable::tests::record(&self.paths.data);
            self.data
                .sync_all()
                .map_err(|e| Error::io("fsync", &self.paths.data, e))?;
        }

        // Step 3: publish without ever replacing a blob.
        let blob = self.layout.blob(&actual);
        if publish(&self.paths.data, &blob)? == Published::AlreadyThere {
            let reference = self.state.reference.clone();
            self.finish(true)?;
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("content {actual} already exists (ingest {reference:?} removed)"),
            ));
        }

        // Step 4: make the new name durable.
        durable::sync_dir(&self.layout.blobs_dir(actual.algorithm()))?;

        // Step 5: the ingest is done.
        self.finish(true)?;
        Ok(actual)
    }

    fn close(mut self) -> Result<()> {
        // Kept for a resume: from here it survives a power cut too.
        self.sync()?;
        ingest::make_durable(&self.paths)?;
        self.finish(false)
    }

    fn abort(self) -> Result<()> {
        self.finish(true)
    }
}
