//! Where everything lives under the store's root.
//!
//! ```text
//! <root>/
//!   blobs/<alg>/<hex>        committed blobs, read-only (0444), published by one rename
//!   ingest/<key>/            one write in progress; <key> = hex sha256 of the reference
//!     state.json             reference, expected digest, total, started-at (temp + rename)
//!     data                   the bytes written so far; its length is the offset
//!     lock                   flock()ed by the live writer; holds its pid and start time
//!   ingest/.trash-*          an ingest being removed (renamed away first, see `remove_ingest_dir`)
//!   locks/<alg>/<hex>        flock()ed by the writer that announced this expected digest
//! ```

use std::path::{Path, PathBuf};

use crate::digest::{Algorithm, Digest};

/// The paths of one store root.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    root: PathBuf,
}

/// The paths of one ingest directory.
#[derive(Clone, Debug)]
pub(crate) struct IngestPaths {
    pub(crate) dir: PathBuf,
    pub(crate) state: PathBuf,
    pub(crate) data: PathBuf,
    pub(crate) lock: PathBuf,
}

impl IngestPaths {
    pub(crate) fn in_dir(dir: PathBuf) -> IngestPaths {
        IngestPaths {
            state: dir.join("state.json"),
            data: dir.join("data"),
            lock: dir.join("lock"),
            dir,
        }
    }
}

/// Prefix of ingest directories being removed; never a valid key (keys are hex).
pub(crate) const TRASH_PREFIX: &str = ".trash-";

impl Layout {
    pub(crate) fn new(root: PathBuf) -> Layout {
        Layout { root }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn blobs_dir(&self, algorithm: Algorithm) -> PathBuf {
        self.root.join("blobs").join(algorithm.as_str())
    }

    pub(crate) fn blob(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir(digest.algorithm()).join(digest.hex())
    }

    pub(crate) fn ingest_root(&self) -> PathBuf {
        self.root.join("ingest")
    }

    /// The ingest of `reference`. The key is a hash, so any reference string
    /// (slashes, dots, any length) maps to one safe directory name.
    pub(crate) fn ingest(&self, reference: &str) -> IngestPaths {
        let key = Digest::sha256_of(reference.as_bytes());
        IngestPaths::in_dir(self.ingest_root().join(key.hex()))
    }

    pub(crate) fn locks_dir(&self, algorithm: Algorithm) -> PathBuf {
        self.root.join("locks").join(algorithm.as_str())
    }

    pub(crate) fn digest_lock(&self, digest: &Digest) -> PathBuf {
        self.locks_dir(digest.algorithm()).join(digest.hex())
    }

    /// Every directory `open` creates, parents first.
    pub(crate) fn directories(&self) -> Vec<PathBuf> {
        let mut dirs = vec![
            self.root.clone(),
            self.root.join("blobs"),
            self.ingest_root(),
            self.root.join("locks"),
        ];
        for algorithm in Algorithm::ALL {
            dirs.push(self.blobs_dir(algorithm));
            dirs.push(self.locks_dir(algorithm));
        }
        dirs
    }
}

/// Whether `name` is an ingest key (hex sha256), as opposed to trash or junk.
pub(crate) fn is_ingest_key(name: &str) -> bool {
    Digest::new(Algorithm::Sha256, name).is_ok()
}
