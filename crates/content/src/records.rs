//! The plain records the store hands out and takes in.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::digest::Digest;

/// Labels on a blob (`containerd.io/gc.ref.content.*` and the like). Only stores
/// that keep metadata (the meta store) record them; the local store ignores them.
pub type Labels = BTreeMap<String, String>;

/// What the store knows about a committed blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    /// The blob's digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// When it was committed (the file's birth time where the file system keeps one).
    pub created_at: SystemTime,
    /// When its record last changed (for the local store: the data's modification time).
    pub updated_at: SystemTime,
    /// Its labels (always empty in the local store).
    pub labels: Labels,
}

/// The state of an ingest (a write in progress), live or left for resume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The reference the ingest was opened under.
    pub reference: String,
    /// How many bytes it holds; a resumed writer continues here.
    pub offset: u64,
    /// The total size announced when it was opened, if any.
    pub total: Option<u64>,
    /// The digest announced when it was opened, if any.
    pub expected: Option<Digest>,
    /// When the ingest was first opened.
    pub started_at: SystemTime,
    /// When its data last changed.
    pub updated_at: SystemTime,
}

/// How to open a writer: the reference (the resumable name of the ingest) and
/// what the content is expected to be.
///
/// ```
/// use hoist_content::{Digest, WriterOptions};
/// let digest = Digest::sha256_of(b"hello");
/// let options = WriterOptions::new("pull-layer-1").expected(digest.clone()).total(5);
/// assert_eq!(options.expected, Some(digest));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriterOptions {
    /// The ingest's name. Reopening the same reference resumes it.
    pub reference: String,
    /// The digest the content must have. When set, opening fails with
    /// already-exists if the blob is committed, and only one writer at a time
    /// (in any process) may write this digest.
    pub expected: Option<Digest>,
    /// The size the content will have, if known.
    pub total: Option<u64>,
}

impl WriterOptions {
    /// Options for `reference` with nothing expected.
    pub fn new(reference: impl Into<String>) -> WriterOptions {
        WriterOptions {
            reference: reference.into(),
            expected: None,
            total: None,
        }
    }

    /// Sets the expected digest.
    pub fn expected(mut self, digest: Digest) -> WriterOptions {
        self.expected = Some(digest);
        self
    }

    /// Sets the expected total size.
    pub fn total(mut self, total: u64) -> WriterOptions {
        self.total = Some(total);
        self
    }
}
