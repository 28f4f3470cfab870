//! Progress of transfers, reported as events the caller renders (the CLI
//! draws lines; library users pass [`NoProgress`]).

use hoist_content::Digest;

/// Where one blob (or manifest) is in a pull or a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlobEvent {
    /// Its manifest is being resolved or read.
    Resolving,
    /// Another writer (in this process or another) holds it; waiting for it.
    Waiting,
    /// Bytes are arriving: `done` of `total` (a resumed download starts at
    /// the offset it resumed from).
    Downloading {
        /// Bytes stored so far.
        done: u64,
        /// The blob's size.
        total: u64,
    },
    /// Bytes are leaving: `done` of `total`.
    Uploading {
        /// Bytes sent so far.
        done: u64,
        /// The blob's size.
        total: u64,
    },
    /// Already there (locally for a pull, on the registry for a push).
    Exists,
    /// The registry linked it from another repository; nothing was sent.
    Mounted,
    /// Moved and verified.
    Done,
}

/// What a transfer will move, reported once it is known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// How many blobs (configs and layers; manifests are not counted).
    pub blobs: usize,
    /// Their total size in bytes.
    pub bytes: u64,
}

/// Receives progress events. Called from worker tasks: implementations must
/// be cheap and thread-safe.
pub trait Progress: Send + Sync {
    /// Blob `digest` of `kind` (a media type) reached `event`.
    fn blob(&self, digest: &Digest, media_type: &str, event: BlobEvent);

    /// The transfer's totals, once known.
    fn totals(&self, totals: Totals) {
        let _ = totals;
    }
}

/// Ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn blob(&self, _digest: &Digest, _media_type: &str, _event: BlobEvent) {}
}
