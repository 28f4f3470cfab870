//! One blob pulled through: downloaded once into the store's ingest, and
//! streamed to every client that asks while it arrives.
//!
//! The fetch task writes the upstream's bytes into a content writer (the
//! ingest `hoist pull` uses for the digest, so a pull of the same blob in
//! another process waits for this one, and the other way round) and
//! publishes how far it got on a watch channel. Each client reads the
//! ingest's data file through a descriptor of its own, at its own pace,
//! up to what was written: a slow client slows nobody, holds no lock, and
//! needs no memory beyond one chunk. The descriptor stays valid when the
//! commit renames the file into `blobs/` (or a mismatch removes it).
//!
//! What arrives is unverified until the commit checks the digest, so a
//! response never delivers its last byte before the commit succeeded: if
//! the digest does not match, every client's connection is cut short (a
//! body shorter than its `Content-Length`, or a chunked body without its
//! end), never finished with wrong bytes, and nothing is committed.
//! Interrupted downloads resume at the writer's offset within the client's
//! retry policy, as `hoist pull` does; the clients see one unbroken body.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use hoist::Store;
use hoist::content::{ContentWriter, Digest, Labels, WriterOptions};
use hoist::meta::{Content, MetaWriter};
use hoist::remote::{Client, Repository};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header;
use hyper::{Response, StatusCode};
use tokio::sync::watch;

use crate::api_error::ApiError;
use crate::handlers::{self, Body, blocking};
use crate::upstream::{source_label, upstream_error};

/// Bytes read per step of a client's body.
const CHUNK: usize = 256 * 1024;

/// How many downloaded chunks may wait for the writer thread.
const CHUNKS_IN_FLIGHT: usize = 4;

/// How far one fetch got.
#[derive(Clone, Default)]
pub(crate) struct BlobState {
    /// Set once the upstream answered: the ingest's data file, and the
    /// blob's size when the upstream said.
    pub stream: Option<Streaming>,
    /// Bytes in the ingest (unverified until `end` is `Committed`).
    pub written: u64,
    /// How it ended.
    pub end: Option<End>,
}

/// A download under way.
#[derive(Clone)]
pub(crate) struct Streaming {
    pub file: Arc<File>,
    pub total: Option<u64>,
}

/// How a fetch ended.
#[derive(Clone)]
pub(crate) enum End {
    /// The blob is committed (by this fetch, or by another writer first).
    Committed,
    /// Nothing was committed; the answer for every client.
    Failed(ApiError),
}

type Sender = Arc<watch::Sender<BlobState>>;

/// Ends a fetch with `error`.
pub(crate) fn fail(sender: &Sender, error: ApiError) {
    sender.send_modify(|state| state.end = Some(End::Failed(error)));
}

/// Fetches `digest` from `repository` into `content`, publishing progress
/// on `sender` until it ends.
pub(crate) async fn fetch(
    client: Client,
    content: Content,
    repository: Repository,
    digest: Digest,
    sender: Sender,
) {
    let end = match run(&client, content, &repository, &digest, &sender).await {
        Ok(()) => End::Committed,
        Err(error) => {
            tracing::warn!(target: "hoist_serve", %digest, %repository, error = %error.message, "pull-through failed");
            End::Failed(error)
        }
    };
    sender.send_modify(|state| state.end = Some(end));
}

async fn run(
    client: &Client,
    content: Content,
    repository: &Repository,
    digest: &Digest,
    sender: &Sender,
) -> Result<(), ApiError> {
    // The reference `hoist pull` uses: one ingest per digest, shared with
    // every pull of it in any process.
    let options =
        WriterOptions::new(format!("hoist-pull-{}", digest.hex())).expected(digest.clone());
    let wanted = digest.clone();
    let writer = blocking(move || {
        match hoist::content::open_writer_waiting(&content, options, Duration::MAX) {
            Ok(writer) => Ok(Some(writer)),
            // Committed meanwhile (by another process, say): serve it.
            Err(error) if error.is_already_exists() => Ok(None),
            Err(error) => Err(ApiError::internal(format!(
                "opening the ingest of {wanted}: {error}"
            ))),
        }
    })
    .await?;
    let Some(mut writer) = writer else {
        return Ok(());
    };
    let file = match writer.data_reader() {
        Ok(file) => Arc::new(file),
        Err(error) => {
            let _ = blocking(move || Ok(writer.close().ok())).await;
            return Err(ApiError::internal(format!(
                "reading the ingest of {digest}: {error}"
            )));
        }
    };
    let policy = client.retry_policy().clone();
    let mut last_error = None;
    for attempt in 1..=policy.attempts.max(1) {
        if attempt > 1 {
            tokio::time::sleep(policy.backoff(attempt - 1)).await;
        }
        let (returned, outcome) =
            attempt_download(client, repository, digest, writer, &file, sender).await;
        let Some(returned) = returned else {
            return Err(outcome.err().map_or_else(
                || ApiError::internal(format!("lost the writer of {digest}")),
                Retry::into_error,
            ));
        };
        writer = returned;
        match outcome {
            Ok(()) => return commit(writer, repository, digest).await,
            Err(Retry::No(error)) => {
                // Nothing arrived (a 404, refused credentials): leave no
                // empty ingest behind; otherwise keep it for a resume.
                let _ = blocking(move || {
                    Ok(if writer.offset() == 0 {
                        writer.abort().ok()
                    } else {
                        writer.close().ok()
                    })
                })
                .await;
                return Err(error);
            }
            Err(Retry::Yes(error)) => {
                tracing::debug!(target: "hoist_serve", %digest, attempt, "download interrupted: {}", error.message);
                last_error = Some(error);
            }
        }
    }
    // Keep what arrived: the next request (or `hoist pull`) resumes it.
    let _ = blocking(move || Ok(writer.close().ok())).await;
    Err(last_error.unwrap_or_else(|| ApiError::internal(format!("no attempt to fetch {digest}"))))
}

/// Why an attempt failed, and whether another may resume it.
enum Retry {
    Yes(ApiError),
    No(ApiError),
}

impl Retry {
    fn into_error(self) -> ApiError {
        match self {
            Retry::Yes(error) | Retry::No(error) => error,
        }
    }
}

/// One request to the upstream, from the writer's offset: its chunks go
/// to a writer thread that publishes each write. Returns the writer
/// (unless writing itself failed) and how the attempt ended.
async fn attempt_download(
    client: &Client,
    repository: &Repository,
    digest: &Digest,
    mut writer: MetaWriter,
    file: &Arc<File>,
    sender: &Sender,
) -> (Option<MetaWriter>, Result<(), Retry>) {
    let offset = writer.offset();
    let mut stream = match client.fetch_blob_attempt(repository, digest, offset).await {
        Ok(stream) => stream,
        Err(error) => {
            let retry = if resumable(&error) {
                Retry::Yes(upstream_error(&error, digest.as_str(), true))
            } else {
                Retry::No(upstream_error(&error, digest.as_str(), true))
            };
            return (Some(writer), Err(retry));
        }
    };
    if stream.offset() != offset
        && let Err(error) = writer.truncate(stream.offset())
    {
        // The registry ignored the Range request and sends it all again.
        return (
            Some(writer),
            Err(Retry::No(ApiError::internal(format!(
                "restarting the ingest of {digest}: {error}"
            )))),
        );
    }
    let total = stream.total_size();
    let start = writer.offset();
    sender.send_modify(|state| {
        if state.stream.is_none() {
            state.stream = Some(Streaming {
                file: Arc::clone(file),
                total,
            });
        }
        state.written = start;
    });
    let (chunks, mut received) = tokio::sync::mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let publish = Arc::clone(sender);
    let name = digest.to_string();
    let write_task = tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        while let Some(chunk) = received.blocking_recv() {
            writer
                .write_all(&chunk)
                .map_err(|e| ApiError::internal(format!("writing the ingest of {name}: {e}")))?;
            let written = writer.offset();
            publish.send_modify(|state| state.written = written);
        }
        Ok::<MetaWriter, ApiError>(writer)
    });
    let mut position = start;
    let mut failure = None;
    loop {
        match stream.next_chunk().await {
            Ok(Some(chunk)) => {
                position += chunk.len() as u64;
                if total.is_some_and(|total| position > total) {
                    failure = Some(Retry::No(ApiError::upstream(format!(
                        "{digest} from {repository}: more bytes than its announced size arrived"
                    ))));
                    break;
                }
                if chunks.send(chunk).await.is_err() {
                    break; // the writer stopped; its error comes below
                }
            }
            Ok(None) => break,
            Err(error) => {
                let answer = upstream_error(&error, digest.as_str(), true);
                failure = Some(if resumable(&error) {
                    Retry::Yes(answer)
                } else {
                    Retry::No(answer)
                });
                break;
            }
        }
    }
    drop(chunks);
    let writer = match write_task.await {
        Ok(Ok(writer)) => writer,
        Ok(Err(error)) => return (None, Err(Retry::No(error))),
        Err(join) => {
            return (
                None,
                Err(Retry::No(ApiError::internal(format!(
                    "the writer of {digest} failed: {join}"
                )))),
            );
        }
    };
    match failure {
        Some(retry) => (Some(writer), Err(retry)),
        None => (Some(writer), Ok(())),
    }
}

/// Verifies and commits: the digest check happens here, once every byte
/// is in; a mismatch removes the ingest and fails every client.
async fn commit(
    writer: MetaWriter,
    repository: &Repository,
    digest: &Digest,
) -> Result<(), ApiError> {
    let size = writer.offset();
    let expected = digest.clone();
    let (key, value) = source_label(repository);
    let labels = Labels::from([(key, value)]);
    let source = repository.to_string();
    blocking(move || match writer.commit(size, Some(&expected), labels) {
        Ok(_) => Ok(()),
        Err(error) if error.is_already_exists() => Ok(()),
        Err(error) if error.is_failed_precondition() => Err(ApiError::upstream(format!(
            "{expected} from {source} failed verification, nothing was stored: {error}"
        ))),
        Err(error) => Err(ApiError::internal(format!(
            "committing {expected}: {error}"
        ))),
    })
    .await
}

/// Whether another attempt may resume a failed download.
fn resumable(error: &hoist::remote::Error) -> bool {
    error.is_retryable() || error.bytes_received().is_some()
}

/// Answers a client from a fetch's state: once the upstream answered, a
/// body that follows the download; once committed without a download of
/// this fetch's own, the stored blob; once failed, the failure.
pub(crate) async fn answer(
    store: &Store,
    mut state: watch::Receiver<BlobState>,
    digest: &Digest,
    range: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let snapshot = match state
        .wait_for(|s| s.stream.is_some() || s.end.is_some())
        .await
    {
        Ok(snapshot) => snapshot.clone(),
        Err(_) => {
            return Err(ApiError::internal(format!(
                "the fetch of {digest} vanished"
            )));
        }
    };
    if let Some(End::Failed(error)) = snapshot.end {
        return Err(error);
    }
    let Some(streaming) = snapshot.stream else {
        // Committed by another writer: the stored blob, as any other.
        let store = store.clone();
        let wanted = digest.clone();
        let reader = blocking(move || {
            handlers::open(&store, &wanted)?.ok_or_else(|| ApiError::blob_unknown(wanted.as_str()))
        })
        .await?;
        return handlers::blob_response(reader, digest, range);
    };
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::ACCEPT_RANGES, "bytes")
        .header(handlers::DIGEST_HEADER, digest.as_str())
        .header(header::ETAG, handlers::etag(digest));
    let span = match (streaming.total, range.and_then(handlers::parse_range)) {
        (Some(total), Some((first, last))) => {
            let Some((start, end)) = handlers::satisfiable(first, last, total) else {
                return Err(ApiError::range_not_satisfiable(total));
            };
            Some((start, end, total))
        }
        _ => None,
    };
    let response = match (span, streaming.total) {
        (Some((start, end, total)), _) => builder
            .status(StatusCode::PARTIAL_CONTENT)
            .header(header::CONTENT_LENGTH, end - start)
            .header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{}/{total}", end - 1),
            )
            .body(follow(state, streaming.file, start, Some(end), digest)),
        (None, Some(total)) => builder
            .status(StatusCode::OK)
            .header(header::CONTENT_LENGTH, total)
            .body(follow(state, streaming.file, 0, Some(total), digest)),
        // No size from the upstream: chunked, ended only after the commit.
        (None, None) => {
            builder
                .status(StatusCode::OK)
                .body(follow(state, streaming.file, 0, None, digest))
        }
    };
    response.map_err(|e| ApiError::internal(e.to_string()))
}

/// What a follower does next.
enum Step {
    Read { offset: u64, want: usize },
    Wait,
    Done,
    Fail(String),
}

/// The next step of a follower at `offset` wanting bytes up to `end` (the
/// blob's end when `None`): the last byte of the response is held back
/// until the blob is committed, so no response ends before the digest was
/// checked.
fn next_step(state: &BlobState, offset: u64, end: Option<u64>) -> Step {
    let committed = match &state.end {
        Some(End::Failed(error)) => return Step::Fail(error.message.clone()),
        Some(End::Committed) => true,
        None => false,
    };
    let stop = match end {
        Some(end) => end,
        None if committed => state.written,
        None => u64::MAX,
    };
    if committed && offset >= stop {
        return Step::Done;
    }
    let hold = u64::from(!committed);
    let limit = state
        .written
        .saturating_sub(hold)
        .min(stop.saturating_sub(hold));
    if offset < limit {
        let want = usize::try_from(limit - offset).unwrap_or(CHUNK).min(CHUNK);
        Step::Read { offset, want }
    } else if committed {
        Step::Fail(format!(
            "the blob ended at {} bytes, before {stop}",
            state.written
        ))
    } else {
        Step::Wait
    }
}

/// Bytes `start..end` of a blob being downloaded, read from the ingest's
/// file as they arrive.
fn follow(
    state: watch::Receiver<BlobState>,
    file: Arc<File>,
    start: u64,
    end: Option<u64>,
    digest: &Digest,
) -> Body {
    let digest = digest.to_string();
    let stream = futures_util::stream::unfold(Some((state, start)), move |position| {
        let file = Arc::clone(&file);
        let digest = digest.clone();
        async move {
            let (mut state, offset) = position?;
            loop {
                let step = next_step(&state.borrow_and_update(), offset, end);
                match step {
                    Step::Done => return None,
                    Step::Fail(message) => {
                        return Some((
                            Err(io::Error::other(format!(
                                "pulling {digest} through: {message}"
                            ))),
                            None,
                        ));
                    }
                    Step::Wait => {
                        if state.changed().await.is_err() {
                            // The fetch ended; its last state is read above once more.
                            let last = next_step(&state.borrow(), offset, end);
                            if matches!(last, Step::Wait) {
                                return Some((
                                    Err(io::Error::other(format!(
                                        "the fetch of {digest} ended unfinished"
                                    ))),
                                    None,
                                ));
                            }
                        }
                    }
                    Step::Read { offset, want } => {
                        let file = Arc::clone(&file);
                        let read = tokio::task::spawn_blocking(move || {
                            let mut buf = vec![0; want];
                            let n = file.read_at(&mut buf, offset)?;
                            buf.truncate(n);
                            Ok::<_, io::Error>(buf)
                        })
                        .await
                        .unwrap_or_else(|join| Err(io::Error::other(join)));
                        return match read {
                            Ok(buf) if !buf.is_empty() => {
                                let next = offset + buf.len() as u64;
                                Some((Ok(Frame::data(Bytes::from(buf))), Some((state, next))))
                            }
                            Ok(_) => Some((
                                Err(io::Error::new(
                                    io::ErrorKind::UnexpectedEof,
                                    format!("the ingest of {digest} ended at {offset}"),
                                )),
                                None,
                            )),
                            Err(error) => Some((Err(error), None)),
                        };
                    }
                }
            }
        }
    });
    BodyExt::boxed_unsync(StreamBody::new(StreamExt::boxed(stream)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(written: u64, end: Option<End>) -> BlobState {
        BlobState {
            stream: None,
            written,
            end,
        }
    }

    #[test]
    fn the_last_byte_waits_for_the_commit() {
        // In flight: everything but the last byte of what was written.
        assert!(matches!(
            next_step(&state(10, None), 0, Some(10)),
            Step::Read { offset: 0, want: 9 }
        ));
        assert!(matches!(
            next_step(&state(10, None), 9, Some(10)),
            Step::Wait
        ));
        assert!(matches!(
            next_step(&state(5, None), 4, Some(10)),
            Step::Wait
        ));
        // A range ending early holds its own last byte too.
        assert!(matches!(
            next_step(&state(8, None), 0, Some(4)),
            Step::Read { offset: 0, want: 3 }
        ));
        // Unknown size: one byte held back of what was written.
        assert!(matches!(
            next_step(&state(10, None), 0, None),
            Step::Read { want: 9, .. }
        ));
        // Committed: the rest, then the end.
        let committed = state(10, Some(End::Committed));
        assert!(matches!(
            next_step(&committed, 9, Some(10)),
            Step::Read { offset: 9, want: 1 }
        ));
        assert!(matches!(next_step(&committed, 10, Some(10)), Step::Done));
        assert!(matches!(next_step(&committed, 10, None), Step::Done));
        // Failed: nothing more, whatever was written.
        let failed = state(10, Some(End::Failed(ApiError::upstream("bad".into()))));
        assert!(matches!(next_step(&failed, 0, Some(10)), Step::Fail(_)));
    }
}
