//! What an upload reads from: anything that can be opened again at an
//! offset, so a failed upload can be retried or resumed without holding the
//! blob in memory.

use std::future::Future;
use std::io::SeekFrom;
use std::path::PathBuf;
use std::pin::Pin;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncSeekExt};

/// A reader positioned somewhere in a blob.
pub type BlobRead = Pin<Box<dyn AsyncRead + Send + 'static>>;

/// A blob's bytes, readable from any offset any number of times.
pub trait BlobSource: Send + Sync {
    /// A reader starting at byte `offset`.
    fn open(&self, offset: u64) -> impl Future<Output = std::io::Result<BlobRead>> + Send;
}

/// A blob in memory (manifests, configs, tests).
#[derive(Debug, Clone)]
pub struct BytesSource(pub Bytes);

impl BlobSource for BytesSource {
    async fn open(&self, offset: u64) -> std::io::Result<BlobRead> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.0.len());
        Ok(Box::pin(std::io::Cursor::new(self.0.slice(start..))))
    }
}

/// A blob in a file, e.g. in the content store.
#[derive(Debug, Clone)]
pub struct FileSource(pub PathBuf);

impl BlobSource for FileSource {
    async fn open(&self, offset: u64) -> std::io::Result<BlobRead> {
        let mut file = tokio::fs::File::open(&self.0).await.map_err(|e| {
            std::io::Error::new(e.kind(), format!("opening {}: {e}", self.0.display()))
        })?;
        file.seek(SeekFrom::Start(offset)).await.map_err(|e| {
            std::io::Error::new(e.kind(), format!("seeking in {}: {e}", self.0.display()))
        })?;
        Ok(Box::pin(file))
    }
}
