//! The role traits, composed into [`Store`] like containerd's `core/content`.
//!
//! Helpers take the narrowest role they need; the local store and the meta
//! store implement all of them, and one conformance suite
//! ([`testsuite`](crate::testsuite), feature `testsuite`) checks both.

use std::io::Write;
use std::time::Duration;

use crate::digest::Digest;
use crate::error::Result;
use crate::filter::Filter;
use crate::reader::BlobReader;
use crate::records::{Info, Labels, Status, WriterOptions};

/// Reads committed blobs.
pub trait Provider: Send + Sync {
    /// Opens the blob `digest` for reading.
    ///
    /// # Errors
    /// Not found if the blob is not committed.
    fn reader(&self, digest: &Digest) -> Result<BlobReader>;
}

/// Inspects and removes committed blobs.
pub trait Manager: Send + Sync {
    /// Size and times (and labels, where kept) of the blob `digest`.
    ///
    /// # Errors
    /// Not found if the blob is not committed.
    fn info(&self, digest: &Digest) -> Result<Info>;

    /// Calls `visit` for every committed blob matching `filter`, stopping at the
    /// first error `visit` returns.
    ///
    /// # Errors
    /// The first error of `visit`, or of the listing itself.
    fn walk(&self, filter: &Filter, visit: &mut dyn FnMut(Info) -> Result<()>) -> Result<()>;

    /// Removes the blob `digest`. Idempotent: deleting a missing blob is Ok.
    /// Readers opened before keep working.
    ///
    /// # Errors
    /// An I/O error from the file system.
    fn delete(&self, digest: &Digest) -> Result<()>;
}

/// Inspects and removes ingests (writes in progress or left for resume).
pub trait IngestManager: Send + Sync {
    /// The status of the ingest `reference`.
    ///
    /// # Errors
    /// Not found if there is no such ingest.
    fn status(&self, reference: &str) -> Result<Status>;

    /// Every ingest, live or left for resume.
    ///
    /// # Errors
    /// An I/O error from the listing.
    fn list_statuses(&self) -> Result<Vec<Status>>;

    /// Removes the ingest `reference`.
    ///
    /// # Errors
    /// Not found if there is no such ingest; unavailable if a live writer holds it.
    fn abort(&self, reference: &str) -> Result<()>;

    /// Removes every ingest not written to for longer than `older_than`, and
    /// returns their references. Ingests held by a live writer are skipped.
    ///
    /// # Errors
    /// An I/O error from the listing or the removal.
    fn abort_idle(&self, older_than: Duration) -> Result<Vec<String>>;
}

/// Opens writers.
pub trait Ingester: Send + Sync {
    /// The writer type.
    type Writer: ContentWriter;

    /// Opens (or resumes) the ingest `options.reference`.
    ///
    /// # Errors
    /// - already-exists if `options.expected` is already committed (checked
    ///   before any byte is written);
    /// - unavailable if the reference is held by another writer (in this or
    ///   another process), or the expected digest is being written under another
    ///   reference; [`Error::holder`](crate::Error::holder) says who (pid) and since when;
    /// - failed-precondition if a resumed ingest was opened with another
    ///   expected digest or total;
    /// - invalid-argument for an empty reference.
    fn writer(&self, options: WriterOptions) -> Result<Self::Writer>;
}

/// A write in progress. Bytes go in through [`Write`]; they are hashed as they
/// are written.
pub trait ContentWriter: Write + Send {
    /// The ingest's status as this writer sees it.
    ///
    /// # Errors
    /// Stores that keep status elsewhere may fail to read it.
    fn status(&self) -> Result<Status>;

    /// How many bytes the ingest holds.
    fn offset(&self) -> u64;

    /// The digest of the bytes written so far.
    fn digest(&self) -> Digest;

    /// Cuts the ingest back to `size` bytes (at least 0 is supported).
    ///
    /// # Errors
    /// Invalid-argument if `size` is beyond the offset; I/O errors.
    fn truncate(&mut self, size: u64) -> Result<()>;

    /// Makes the bytes written so far durable, without committing: a
    /// commit right after has (almost) nothing left to flush. Commit does
    /// this itself; calling it first moves the wait for the disk out of
    /// whatever the caller holds during the commit (hoist-meta holds its
    /// database, so other processes wait less). A writer with nothing
    /// cheaper to do ahead of its commit may keep the default, which does
    /// nothing; commit makes the data durable either way.
    ///
    /// # Errors
    /// I/O errors from the flush; the ingest stays and may be resumed.
    fn sync(&mut self) -> Result<()> {
        Ok(())
    }

    /// Verifies the size and the digest (`expected`, or the writer's expected
    /// digest), makes the data durable and publishes it by one atomic step.
    /// Labels are recorded by stores that keep labels (the meta store); the
    /// local store ignores them. Returns the digest.
    ///
    /// # Errors
    /// - already-exists if the blob was committed meanwhile (the ingest is removed);
    /// - failed-precondition on a size mismatch (the ingest is kept, it may be
    ///   resumed) or a digest mismatch (the ingest is removed: its bytes are wrong);
    /// - I/O errors.
    fn commit(self, size: u64, expected: Option<&Digest>, labels: Labels) -> Result<Digest>;

    /// Releases the writer and keeps the ingest for resume.
    ///
    /// # Errors
    /// I/O errors while making the partial data durable.
    fn close(self) -> Result<()>;

    /// Releases the writer and removes the ingest.
    ///
    /// # Errors
    /// I/O errors while removing it.
    fn abort(self) -> Result<()>;
}

/// Every role at once.
pub trait Store: Provider + Manager + IngestManager + Ingester {}

impl<T: Provider + Manager + IngestManager + Ingester> Store for T {}
