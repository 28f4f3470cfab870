//! The library's progress events, rendered.

use hoist::content::Digest;
use hoist::{BlobEvent, Totals};

use super::{BlobState, BlobUpdate, Progress};
use crate::output::size;

impl hoist::Progress for Progress {
    fn blob(&self, digest: &Digest, _media_type: &str, event: BlobEvent) {
        let id = digest.to_string();
        let (state, done, total) = match event {
            BlobEvent::Resolving => (BlobState::Resolving, 0, None),
            BlobEvent::Waiting => (BlobState::Waiting, 0, None),
            BlobEvent::Downloading { done, total } => (BlobState::Downloading, done, Some(total)),
            BlobEvent::Uploading { done, total } => (BlobState::Uploading, done, Some(total)),
            BlobEvent::Exists => (BlobState::Exists, 0, None),
            BlobEvent::Mounted => (BlobState::Mounted, 0, None),
            _ => (BlobState::Done, 0, None),
        };
        let total = match (total, self.sizes.lock()) {
            (Some(total), Ok(mut sizes)) => {
                sizes.insert(id.clone(), total);
                Some(total)
            }
            (None, Ok(sizes)) => sizes.get(&id).copied(),
            (total, Err(_)) => total,
        };
        let done = if state == BlobState::Done {
            total.unwrap_or(done)
        } else {
            done
        };
        self.blob_update(&BlobUpdate {
            id,
            state,
            done,
            total,
        });
    }

    fn totals(&self, totals: Totals) {
        self.note(&format!("{} blobs, {}", totals.blobs, size(totals.bytes)));
    }
}
