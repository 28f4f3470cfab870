//! The reader every store hands out: an open file of a committed blob.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use crate::digest::Digest;
use crate::error::{Error, Result};

/// A committed blob, open for streaming ([`Read`] + [`Seek`]) and random access
/// ([`BlobReader::read_at`]).
///
/// It holds the open file, so it keeps working after the blob is deleted: the
/// file system frees the data only when the last reader closes.
#[derive(Debug)]
pub struct BlobReader {
    file: File,
    path: PathBuf,
    digest: Digest,
    size: u64,
    position: u64,
}

impl BlobReader {
    /// A reader over `file`, which holds the blob `digest` of `size` bytes and was
    /// opened at `path` (kept for error messages).
    pub fn new(file: File, path: PathBuf, digest: Digest, size: u64) -> BlobReader {
        BlobReader {
            file,
            path,
            digest,
            size,
            position: 0,
        }
    }

    /// The blob's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The blob's digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Reads up to `buf.len()` bytes at `offset` without moving the stream
    /// position; returns 0 at or past the end.
    ///
    /// # Errors
    /// An I/O error naming the blob's path.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        if offset >= self.size {
            return Ok(0);
        }
        let limit = usize::try_from(self.size - offset).unwrap_or(usize::MAX);
        let len = buf.len().min(limit);
        loop {
            match self.file.read_at(&mut buf[..len], offset) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("read", &self.path, e)),
            }
        }
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read_at(buf, self.position).map_err(io::Error::other)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for BlobReader {
    fn seek(&mut self, target: SeekFrom) -> io::Result<u64> {
        let base = match target {
            SeekFrom::Start(to) => {
                self.position = to;
                return Ok(to);
            }
            SeekFrom::End(delta) => self.size.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        match base {
            Some(to) => {
                self.position = to;
                Ok(to)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("seek before the start of blob {}", self.digest),
            )),
        }
    }
}
