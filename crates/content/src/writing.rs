//! Helpers over the role traits: write a whole blob, wait for a busy writer,
//! copy with resume. They take the narrowest trait they need, so they work on
//! the local store and on the meta store alike.

use std::io::{self, Read, Seek, SeekFrom};
use std::thread;
use std::time::{Duration, Instant};

use crate::digest::Digest;
use crate::error::{Error, ErrorKind, Result};
use crate::records::{Labels, WriterOptions};
use crate::store::{ContentWriter, Ingester};

/// Size of the buffer through which the helpers stream; memory use is flat in
/// the blob size.
const COPY_BUFFER: usize = 1 << 20;

/// First and longest pause between attempts while a writer is busy elsewhere.
const FIRST_BACKOFF: Duration = Duration::from_millis(1);
const MAX_BACKOFF: Duration = Duration::from_millis(100);

/// How long a wait lasts before it is logged (and then logged again).
const REPORT_WAIT_EVERY: Duration = Duration::from_secs(10);

/// What [`write_blob`] did with a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The bytes were read and committed.
    Stored,
    /// The blob was there already (or another writer committed it while this
    /// one waited): nothing was read or written.
    AlreadyPresent,
}

/// Writes `reader` as the blob `expected` of `size` bytes under `reference`,
/// resuming the ingest if one is left, and commits it. Already-exists counts as
/// success ([`Written::AlreadyPresent`]), and while another writer (in any process) holds the reference or
/// is writing the same digest under another reference, this waits for it with
/// backoff; when that writer commits, this returns Ok without reading a byte.
/// This is what makes a layer shared by several platforms download once.
///
/// A resumed ingest skips the first `offset` bytes of `reader` (reading and
/// discarding them: a plain `Read` cannot seek).
///
/// ```
/// use hoist_content::{Digest, LocalStore, Provider, write_blob};
/// let dir = tempfile::tempdir()?;
/// let store = LocalStore::open(dir.path())?;
/// let digest = Digest::sha256_of(b"layer");
/// write_blob(&store, "pull-1", &b"layer"[..], &digest, 5, Default::default())?;
/// // A second write of the same content is a no-op success.
/// write_blob(&store, "pull-2", &b"layer"[..], &digest, 5, Default::default())?;
/// assert_eq!(store.reader(&digest)?.size(), 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// Failed-precondition on a size or digest mismatch; I/O errors of the reader
/// or the store.
pub fn write_blob<I: Ingester + ?Sized>(
    ingester: &I,
    reference: &str,
    mut reader: impl Read,
    expected: &Digest,
    size: u64,
    labels: Labels,
) -> Result<Written> {
    let options = WriterOptions::new(reference)
        .expected(expected.clone())
        .total(size);
    let mut writer = match open_writer_waiting(ingester, options, Duration::MAX) {
        Ok(writer) => writer,
        Err(e) if e.is_already_exists() => return Ok(Written::AlreadyPresent),
        Err(e) => return Err(e),
    };
    let offset = writer.offset();
    let skipped = if offset > size {
        // More than the blob holds: those bytes cannot be right.
        writer.truncate(0)?;
        0
    } else {
        io::copy(&mut (&mut reader).take(offset), &mut io::sink())
            .map_err(|e| source_error(reference, e))?
    };
    if skipped < writer.offset() {
        return Err(short_source(reference, skipped, size));
    }
    match finish_copy(writer, &mut reader, size, expected, labels, reference) {
        Ok(_) => Ok(Written::Stored),
        Err(e) if e.is_already_exists() => Ok(Written::AlreadyPresent),
        Err(e) => Err(e),
    }
}

/// Opens a writer, waiting with exponential backoff (1 ms up to 100 ms) for up
/// to `patience` while the reference or the expected digest is held by another
/// writer; a wait longer than 10 s is logged with the holder. A holder that
/// dies releases its locks (the kernel drops them), so only a live, stuck
/// holder can make this wait long. Pass `Duration::MAX` to wait as long as it takes.
///
/// # Errors
/// The last unavailable error once `patience` is spent; any other error
/// (already-exists included) at once.
pub fn open_writer_waiting<I: Ingester + ?Sized>(
    ingester: &I,
    options: WriterOptions,
    patience: Duration,
) -> Result<I::Writer> {
    let started = Instant::now();
    let mut backoff = FIRST_BACKOFF;
    let mut next_report = REPORT_WAIT_EVERY;
    loop {
        match ingester.writer(options.clone()) {
            Err(e) if e.is_unavailable() => {
                let waited = started.elapsed();
                if waited >= patience {
                    return Err(e.context(format!(
                        "gave up after waiting {:.1}s",
                        waited.as_secs_f64()
                    )));
                }
                if waited >= next_report {
                    tracing::info!(
                        reference = %options.reference,
                        waited_s = waited.as_secs(),
                        "waiting for another writer: {e}"
                    );
                    next_report += REPORT_WAIT_EVERY;
                }
                thread::sleep(backoff.min(patience - waited));
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            other => return other,
        }
    }
}

/// Copies `source` into `writer`, resuming from `writer.offset()` (the source
/// is sought there), and commits it as `expected` of `size` bytes.
/// Already-exists counts as success and returns `expected`.
///
/// # Errors
/// Failed-precondition on a short source, a size or a digest mismatch; I/O errors.
pub fn copy<W: ContentWriter>(
    mut writer: W,
    mut source: impl Read + Seek,
    size: u64,
    expected: &Digest,
    labels: Labels,
) -> Result<Digest> {
    let reference = writer.status()?.reference;
    if writer.offset() > size {
        writer.truncate(0)?;
    }
    source
        .seek(SeekFrom::Start(writer.offset()))
        .map_err(|e| source_error(&reference, e))?;
    match finish_copy(writer, &mut source, size, expected, labels, &reference) {
        Err(e) if e.is_already_exists() => Ok(expected.clone()),
        other => other,
    }
}

/// Streams the rest of `source` (up to `size`) into `writer` through a fixed
/// buffer, then commits.
fn finish_copy<W: ContentWriter>(
    mut writer: W,
    source: &mut impl Read,
    size: u64,
    expected: &Digest,
    labels: Labels,
    reference: &str,
) -> Result<Digest> {
    let mut buffer = vec![0; COPY_BUFFER];
    while writer.offset() < size {
        let want = buffer
            .len()
            .min(usize::try_from(size - writer.offset()).unwrap_or(usize::MAX));
        let n = match source.read(&mut buffer[..want]) {
            Ok(0) => {
                let offset = writer.offset();
                // Keep what was written: a later attempt resumes from here.
                writer.close()?;
                return Err(short_source(reference, offset, size));
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(source_error(reference, e)),
        };
        writer.write_all(&buffer[..n]).map_err(|e| {
            Error::new(ErrorKind::Io, format!("write to ingest {reference:?}: {e}")).with_source(e)
        })?;
    }
    writer.commit(size, Some(expected), labels)
}

fn source_error(reference: &str, e: io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("read the source of ingest {reference:?}: {e}"),
    )
    .with_source(e)
}

fn short_source(reference: &str, got: u64, size: u64) -> Error {
    Error::new(
        ErrorKind::FailedPrecondition,
        format!("the source of ingest {reference:?} ended after {got} bytes, expected {size}"),
    )
}
