//! A store that records the labels every commit carries (the local store
//! ignores them; the meta store keeps them), delegating everything else.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

use hoist_content::{
    BlobReader, ContentWriter, Digest, Filter, Info, Ingester, Labels, LocalStore, LocalWriter,
    Manager, Provider, Result, Status, WriterOptions,
};

/// Labels by committed digest.
pub type Recorded = Arc<Mutex<BTreeMap<Digest, Labels>>>;

pub struct RecordingStore {
    pub inner: LocalStore,
    pub labels: Recorded,
}

impl RecordingStore {
    pub fn new(inner: LocalStore) -> RecordingStore {
        RecordingStore {
            inner,
            labels: Arc::default(),
        }
    }

    pub fn labels_of(&self, digest: &Digest) -> Labels {
        self.labels
            .lock()
            .unwrap()
            .get(digest)
            .cloned()
            .unwrap_or_default()
    }
}

impl Provider for RecordingStore {
    fn reader(&self, digest: &Digest) -> Result<BlobReader> {
        self.inner.reader(digest)
    }
}

impl Manager for RecordingStore {
    fn info(&self, digest: &Digest) -> Result<Info> {
        self.inner.info(digest)
    }
    fn walk(&self, filter: &Filter, visit: &mut dyn FnMut(Info) -> Result<()>) -> Result<()> {
        self.inner.walk(filter, visit)
    }
    fn delete(&self, digest: &Digest) -> Result<()> {
        self.inner.delete(digest)
    }
}

impl Ingester for RecordingStore {
    type Writer = RecordingWriter;
    fn writer(&self, options: WriterOptions) -> Result<RecordingWriter> {
        Ok(RecordingWriter {
            inner: self.inner.writer(options)?,
            labels: self.labels.clone(),
        })
    }
}

pub struct RecordingWriter {
    inner: LocalWriter,
    labels: Recorded,
}

impl io::Write for RecordingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl ContentWriter for RecordingWriter {
    fn status(&self) -> Result<Status> {
        self.inner.status()
    }
    fn offset(&self) -> u64 {
        self.inner.offset()
    }
    fn digest(&self) -> Digest {
        self.inner.digest()
    }
    fn truncate(&mut self, size: u64) -> Result<()> {
        self.inner.truncate(size)
    }
    fn commit(self, size: u64, expected: Option<&Digest>, labels: Labels) -> Result<Digest> {
        let digest = self.inner.commit(size, expected, labels.clone())?;
        self.labels.lock().unwrap().insert(digest.clone(), labels);
        Ok(digest)
    }
    fn close(self) -> Result<()> {
        self.inner.close()
    }
    fn abort(self) -> Result<()> {
        self.inner.abort()
    }
}
