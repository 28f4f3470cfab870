//! Blob uploads, streamed from a [`BlobSource`] (never whole in memory):
//! the existence check and the upload session in one round trip (for a
//! small blob a mount from its own repository, which answers 201 when the
//! repository has it and otherwise opens the session; for a larger one
//! that and a `HEAD` at once), a cross-repository mount when the blob's
//! source repository is on the same registry, then a monolithic upload
//! (one `PUT`), falling back to a chunked one (`PATCH`es, `PUT`) that
//! resumes from what the registry confirms it holds.

use hoist_content::Digest;
use reqwest::Method;

use crate::auth::scope::Scopes;
use crate::client::{Call, CallBody, Client, Need, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::reference::Repository;
use crate::source::BlobSource;
use crate::transport::{status_error, streaming_body};

/// The largest blob whose presence is asked for by a mount from its own
/// repository rather than by `HEAD` (see [`Client::push_blob`]): about what
/// a link of 100 Mbit/s carries in one 80 ms round trip.
const SMALL_BLOB: u64 = 1 << 20;

/// How a blob's bytes are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UploadMode {
    /// Monolithic first; chunked when the registry refuses it or the
    /// connection breaks (chunked uploads resume).
    #[default]
    Auto,
    /// One `PUT` with the whole body (retried from the start on failure).
    Monolithic,
    /// `PATCH`es of [`crate::ClientOptions::chunk_size`] bytes.
    Chunked,
}

/// Options of [`Client::push_blob`].
#[derive(Debug, Clone)]
pub struct PushBlobOptions {
    /// Ask first (`HEAD`, or for a small blob a mount from the repository
    /// itself) and do nothing when the registry has the blob.
    pub skip_existing: bool,
    /// A repository on the same registry that holds the blob (from its
    /// `containerd.io/distribution.source` label): mount it from there.
    pub mount_from: Option<Repository>,
    /// How to send the bytes.
    pub mode: UploadMode,
}

impl Default for PushBlobOptions {
    fn default() -> Self {
        PushBlobOptions {
            skip_existing: true,
            mount_from: None,
            mode: UploadMode::Auto,
        }
    }
}

/// What [`Client::push_blob`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobPushed {
    /// The registry had it already; nothing was sent.
    AlreadyPresent,
    /// The registry linked it from the mount source; nothing was sent.
    Mounted,
    /// The bytes were uploaded.
    Uploaded,
}

/// An upload session: where to send the next request.
struct Session {
    location: url::Url,
}

/// What asking for a blob found: nothing to send, or where to send it.
enum Opened {
    Nothing(BlobPushed),
    Session(Session),
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The end (exclusive) of what the registry holds, from `Range: 0-<last>`.
fn confirmed_end(response: &reqwest::Response) -> Option<u64> {
    let range = header(response, "range")?;
    let (_, last) = range.trim().trim_start_matches("bytes=").split_once('-')?;
    last.parse::<u64>().ok().map(|last| last + 1)
}

impl Client {
    /// Mounts blob `digest` into `target` from `from` on the same registry.
    /// `Ok(false)` when the registry declined (the upload session it opened
    /// instead is cancelled) or the repositories are on different registries.
    ///
    /// # Errors
    /// Auth and transport errors.
    pub async fn mount_blob(
        &self,
        target: &Repository,
        digest: &Digest,
        from: &Repository,
    ) -> Result<bool> {
        if from.registry() != target.registry() {
            return Ok(false);
        }
        let endpoint = self.push_target(target).await?;
        match self
            .start_session(&endpoint, target, digest, Some(from))
            .await?
        {
            None => Ok(true),
            Some(session) => {
                self.cancel_session(&endpoint, target, digest, session)
                    .await;
                Ok(false)
            }
        }
    }

    /// Cancels an upload session nothing will be sent into. Best effort:
    /// an abandoned session expires on its own.
    async fn cancel_session(
        &self,
        endpoint: &Target,
        target: &Repository,
        digest: &Digest,
        session: Session,
    ) {
        let cancel = Call::new(
            Method::DELETE,
            session.location,
            Scopes::push(target.name()),
            format!("cancelling an upload of {digest} to {target}"),
        );
        let _ = self.execute(endpoint, cancel).await;
    }

    /// Asks whether `repository` has blob `digest` and opens the session to
    /// upload it, in one round trip: `None` when nothing needs sending.
    ///
    /// A small blob is asked for by mounting it from its own repository:
    /// one `POST` that answers 201 when the repository has it and otherwise
    /// opens the session. A registry that mounts nothing opens a session
    /// every time, and a small blob it had is sent again: cheap, and never
    /// wrong. A larger blob would cost more to send again than a request, so
    /// a `HEAD` goes with that `POST`, at the same time (one round trip, not
    /// `HEAD` then `POST`); when only the `HEAD` finds it, the session is
    /// cancelled. With `mount_from` (a repository of the same registry that
    /// holds the blob) the `POST` mounts from there.
    async fn ask_and_open(
        &self,
        endpoint: &Target,
        repository: &Repository,
        digest: &Digest,
        size: u64,
        mount_from: Option<&Repository>,
        scopes: Scopes,
    ) -> Result<Opened> {
        let mount = mount_from.unwrap_or(repository);
        let found = if mount_from.is_none() {
            BlobPushed::AlreadyPresent
        } else {
            BlobPushed::Mounted
        };
        if size <= SMALL_BLOB && mount_from.is_none() {
            return Ok(
                match self
                    .start_session(endpoint, repository, digest, Some(mount))
                    .await?
                {
                    Some(session) => Opened::Session(session),
                    None => Opened::Nothing(found),
                },
            );
        }
        let (there, session) = tokio::join!(
            self.blob_exists_at(endpoint, repository, digest, scopes),
            self.start_session(endpoint, repository, digest, Some(mount)),
        );
        let there = there?.is_some();
        match session? {
            // Mounted: the HEAD may have run after the mount and seen its
            // result, so only the mount's answer says what happened.
            None => Ok(Opened::Nothing(found)),
            Some(session) if there => {
                self.cancel_session(endpoint, repository, digest, session)
                    .await;
                Ok(Opened::Nothing(BlobPushed::AlreadyPresent))
            }
            Some(session) => Ok(Opened::Session(session)),
        }
    }

    /// Pushes blob `digest` of `size` bytes, read from `source`, to
    /// `repository`.
    ///
    /// # Errors
    /// [`ErrorKind::DigestMismatch`] when the registry computed another
    /// digest (the source does not hold that blob); auth and transport
    /// errors once retries are spent; [`ErrorKind::Io`] when the source
    /// cannot be read.
    pub async fn push_blob<S: BlobSource>(
        &self,
        repository: &Repository,
        digest: &Digest,
        size: u64,
        source: &S,
        options: &PushBlobOptions,
    ) -> Result<BlobPushed> {
        let endpoint = self.push_target(repository).await?;
        let mount_from = options
            .mount_from
            .as_ref()
            .filter(|from| from.registry() == repository.registry() && *from != repository);
        let mut scopes = Scopes::push(repository.name());
        if let Some(from) = mount_from {
            scopes = scopes.union(&Scopes::pull(from.name()));
        }
        // The first session comes with the question whether anything needs
        // sending (`ask_and_open`); a retry opens a plain one.
        let mut first = if options.skip_existing {
            match self
                .ask_and_open(&endpoint, repository, digest, size, mount_from, scopes)
                .await?
            {
                Opened::Session(session) => Some(session),
                Opened::Nothing(outcome) => return Ok(outcome),
            }
        } else {
            match self
                .start_session(&endpoint, repository, digest, mount_from)
                .await?
            {
                Some(session) => Some(session),
                None => return Ok(BlobPushed::Mounted),
            }
        };
        let retry = &self.inner.options.retry;
        let mut chunked = options.mode == UploadMode::Chunked;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let session = match first.take() {
                Some(session) => session,
                None => match self
                    .start_session(&endpoint, repository, digest, None)
                    .await?
                {
                    Some(session) => session,
                    // Only a mount answers 201, and this asked for none.
                    None => return Ok(BlobPushed::Uploaded),
                },
            };
            let result = if chunked {
                self.upload_chunked(&endpoint, repository, digest, size, source, session)
                    .await
            } else {
                self.upload_monolithic(&endpoint, repository, digest, size, source, session)
                    .await
            };
            match result {
                Ok(()) => return Ok(BlobPushed::Uploaded),
                Err(e)
                    if options.mode == UploadMode::Auto
                        && !chunked
                        && matches!(
                            e.kind(),
                            ErrorKind::Unsupported
                                | ErrorKind::TooLarge
                                | ErrorKind::Unavailable
                                | ErrorKind::DataLoss
                        ) =>
                {
                    tracing::debug!(%digest, error = %e, "monolithic upload failed; switching to chunked");
                    chunked = true;
                }
                Err(e) if e.is_retryable() && attempt < retry.attempts => {
                    tracing::debug!(%digest, error = %e, attempt, "upload failed; retrying");
                }
                Err(e) => return Err(e),
            }
            tokio::time::sleep(retry.backoff(attempt)).await;
        }
    }

    pub(crate) async fn push_target(&self, repository: &Repository) -> Result<Target> {
        self.targets(repository.registry(), Need::Push)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("no endpoint of {} accepts pushes", repository.registry()),
                )
            })
    }

    /// `POST /v2/<name>/blobs/uploads/`, with `mount` and `from` when
    /// mounting. `None`: mounted (201). `Some`: a session to upload into.
    async fn start_session(
        &self,
        endpoint: &Target,
        repository: &Repository,
        digest: &Digest,
        mount_from: Option<&Repository>,
    ) -> Result<Option<Session>> {
        let mut url = endpoint.url(&format!("/{}/blobs/uploads/", repository.name()))?;
        let mut scopes = Scopes::push(repository.name());
        if let Some(from) = mount_from {
            url.query_pairs_mut()
                .append_pair("mount", digest.as_str())
                .append_pair("from", from.name());
            scopes = scopes.union(&Scopes::pull(from.name()));
        }
        let context = match mount_from {
            Some(from) => format!("mounting blob {digest} into {repository} from {from}"),
            None => format!("starting an upload of blob {digest} to {repository}"),
        };
        let response = self
            .execute(
                endpoint,
                Call::new(Method::POST, url.clone(), scopes, context.clone())
                    .header("Content-Length", "0"),
            )
            .await?;
        match response.status().as_u16() {
            201 if mount_from.is_some() => Ok(None),
            202 => Ok(Some(Session {
                location: location_of(&url, &response, &context)?,
            })),
            _ => Err(status_error(response, context).await),
        }
    }

    async fn upload_monolithic<S: BlobSource>(
        &self,
        endpoint: &Target,
        repository: &Repository,
        digest: &Digest,
        size: u64,
        source: &S,
        session: Session,
    ) -> Result<()> {
        let context = format!("uploading blob {digest} ({size} bytes) to {repository}");
        let mut url = session.location;
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let reader = open(source, 0, &context).await?;
        let call = Call::new(
            Method::PUT,
            url,
            Scopes::push(repository.name()),
            context.clone(),
        )
        .header("Content-Type", "application/octet-stream")
        .header("Content-Length", size.to_string());
        let body = streaming_body(reader, size, call.progress.clone());
        let response = self
            .execute(endpoint, call.body(CallBody::Stream(Some(body))))
            .await?;
        finish(response, digest, context).await
    }

    async fn upload_chunked<S: BlobSource>(
        &self,
        endpoint: &Target,
        repository: &Repository,
        digest: &Digest,
        size: u64,
        source: &S,
        session: Session,
    ) -> Result<()> {
        let context = format!("uploading blob {digest} ({size} bytes, chunked) to {repository}");
        let scopes = Scopes::push(repository.name());
        let chunk_size = self.inner.options.chunk_size.max(1);
        let retry = &self.inner.options.retry;
        let mut location = session.location;
        let mut offset = 0u64;
        let mut failures = 0;
        while offset < size {
            let length = chunk_size.min(size - offset);
            let reader = open(source, offset, &context).await?;
            let call = Call::new(
                Method::PATCH,
                location.clone(),
                scopes.clone(),
                context.clone(),
            )
            .header("Content-Type", "application/octet-stream")
            .header("Content-Range", format!("{offset}-{}", offset + length - 1))
            .header("Content-Length", length.to_string());
            let body = streaming_body(reader, length, call.progress.clone());
            let sent = self
                .execute(endpoint, call.body(CallBody::Stream(Some(body))))
                .await;
            let failure = match sent {
                Ok(response) if response.status().as_u16() == 202 => {
                    let next = location_of(&location, &response, &context)?;
                    let end = confirmed_end(&response).unwrap_or(offset + length);
                    location = next;
                    offset = end;
                    continue;
                }
                Ok(response) if response.status().as_u16() == 416 => {
                    status_error(response, context.clone()).await
                }
                Ok(response) => return Err(status_error(response, context).await),
                Err(e) if e.is_retryable() => e,
                Err(e) => return Err(e),
            };
            failures += 1;
            if failures >= retry.attempts {
                return Err(failure);
            }
            tokio::time::sleep(retry.backoff(failures)).await;
            // Ask the session what arrived, and go on from there.
            let status = self
                .execute(
                    endpoint,
                    Call::new(
                        Method::GET,
                        location.clone(),
                        scopes.clone(),
                        context.clone(),
                    ),
                )
                .await?;
            if status.status().as_u16() != 204 {
                return Err(
                    status_error(status, format!("{context}: asking the upload's status")).await,
                );
            }
            let next = location_of(&location, &status, &context)?;
            offset = confirmed_end(&status).unwrap_or(0);
            location = next;
            tracing::debug!(%digest, offset, "resuming a chunked upload");
        }
        let mut url = location;
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let call = Call::new(Method::PUT, url, scopes, context.clone())
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", "0");
        let response = self.execute(endpoint, call).await?;
        finish(response, digest, context).await
    }
}

async fn open<S: BlobSource>(
    source: &S,
    offset: u64,
    context: &str,
) -> Result<crate::source::BlobRead> {
    source.open(offset).await.map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("{context}: reading the blob at offset {offset}"),
        )
        .with_source(e)
    })
}

/// Checks the final answer of an upload: 201 and the same digest.
async fn finish(response: reqwest::Response, digest: &Digest, context: String) -> Result<()> {
    if response.status().as_u16() != 201 {
        return Err(status_error(response, context).await);
    }
    if let Some(stored) =
        header(&response, "docker-content-digest").and_then(|d| d.parse::<Digest>().ok())
        && stored != *digest
    {
        return Err(Error::new(
            ErrorKind::DigestMismatch,
            format!("{context}: the registry stored it as {stored}"),
        ));
    }
    Ok(())
}

/// The session URL of a 202 (or 204), resolved against the request URL.
fn location_of(
    current: &url::Url,
    response: &reqwest::Response,
    context: &str,
) -> Result<url::Url> {
    let value = header(response, "location").ok_or_else(|| {
        Error::new(
            ErrorKind::Protocol,
            format!("{context}: the registry sent no upload Location"),
        )
    })?;
    current.join(value).map_err(|e| {
        Error::new(
            ErrorKind::Protocol,
            format!("{context}: invalid upload Location {value:?}"),
        )
        .with_source(e)
    })
}
