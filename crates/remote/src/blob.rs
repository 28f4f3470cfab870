//! Blob downloads: `HEAD` to ask whether a blob is there, `GET` as a stream
//! from any offset (HTTP Range, so an interrupted download resumes where it
//! stopped). Nothing is verified here: the content store hashes what it
//! ingests. Redirects are followed by hand, and a redirect to another host
//! carries none of this host's credentials.

use std::time::Duration;

use bytes::Bytes;
use hoist_content::Digest;
use reqwest::Method;

use crate::auth::scope::Scopes;
use crate::client::{Call, Client, Need, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::hosts::{authority, is_loopback};
use crate::reference::Repository;
use crate::transport::status_error;

/// How many redirects a blob download follows.
const MAX_REDIRECTS: usize = 5;

/// A blob download in progress: its body, chunk by chunk.
#[derive(Debug)]
pub struct BlobStream {
    response: reqwest::Response,
    context: String,
    offset: u64,
    total: Option<u64>,
    body_length: Option<u64>,
    received: u64,
    idle_timeout: Duration,
}

impl BlobStream {
    /// Where in the blob this stream's first byte is: the offset asked for,
    /// or 0 when the registry ignored the Range request and sends it all.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The blob's total size, when the registry said.
    pub fn total_size(&self) -> Option<u64> {
        self.total
    }

    /// Bytes of this stream delivered so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The next chunk, or `None` at the end of the body.
    ///
    /// # Errors
    /// [`ErrorKind::DataLoss`] when the body ends or breaks before its
    /// announced length; [`ErrorKind::Unavailable`] when nothing arrives for
    /// the idle timeout. Either way [`Error::bytes_received`] tells the blob
    /// offset reached, where a new [`Client::fetch_blob`] can resume.
    ///
    /// # Cancel safety
    /// Dropping the future loses at most the chunk being read.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        let position = self.offset + self.received;
        match tokio::time::timeout(self.idle_timeout, self.response.chunk()).await {
            Err(_) => Err(Error::new(
                ErrorKind::Unavailable,
                format!(
                    "{}: stalled at byte {position}: nothing arrived for {}s",
                    self.context,
                    self.idle_timeout.as_secs_f32()
                ),
            )
            .with_bytes_received(position)),
            Ok(Err(e)) => Err(Error::new(
                ErrorKind::DataLoss,
                format!("{}: the body broke off at byte {position}", self.context),
            )
            .with_source(e)
            .with_bytes_received(position)),
            Ok(Ok(Some(chunk))) => {
                self.received += chunk.len() as u64;
                if let Some(length) = self.body_length
                    && self.received > length
                {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!(
                            "{}: more than the announced {length} bytes arrived",
                            self.context
                        ),
                    ));
                }
                Ok(Some(chunk))
            }
            Ok(Ok(None)) => match self.body_length {
                Some(length) if self.received < length => Err(Error::new(
                    ErrorKind::DataLoss,
                    format!(
                        "{}: the body ended after {} of {length} bytes",
                        self.context, self.received
                    ),
                )
                .with_bytes_received(position)),
                _ => Ok(None),
            },
        }
    }

    /// Writes the rest of the body to `writer`; returns the bytes written.
    ///
    /// # Errors
    /// As [`BlobStream::next_chunk`], and [`ErrorKind::Io`] when writing fails.
    pub async fn copy_to<W: tokio::io::AsyncWrite + Unpin>(
        &mut self,
        writer: &mut W,
    ) -> Result<u64> {
        use tokio::io::AsyncWriteExt as _;
        let mut written = 0;
        while let Some(chunk) = self.next_chunk().await? {
            writer.write_all(&chunk).await.map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("{}: writing the download", self.context),
                )
                .with_source(e)
            })?;
            written += chunk.len() as u64;
        }
        Ok(written)
    }
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `bytes <first>-<last>/<total or *>`.
fn parse_content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    Some((first.parse().ok()?, last.parse().ok()?, total.parse().ok()))
}

impl Client {
    /// Whether `repository` has blob `digest`: its size, or `None`.
    ///
    /// # Errors
    /// Auth and transport errors; never [`ErrorKind::NotFound`].
    pub async fn blob_exists(
        &self,
        repository: &Repository,
        digest: &Digest,
    ) -> Result<Option<u64>> {
        self.on_targets(
            repository.registry(),
            Need::Pull,
            move |target| async move {
                self.blob_exists_at(&target, repository, digest, Scopes::pull(repository.name()))
                    .await
            },
        )
        .await
    }

    /// `HEAD` on the push endpoint, with push scope (one token for a push).
    pub(crate) async fn blob_exists_at(
        &self,
        target: &Target,
        repository: &Repository,
        digest: &Digest,
        scopes: Scopes,
    ) -> Result<Option<u64>> {
        let context = format!("checking for blob {digest} in {repository}");
        let url = target.url(&format!("/{}/blobs/{digest}", repository.name()))?;
        let mut response = self
            .execute(
                target,
                Call::new(Method::HEAD, url.clone(), scopes.clone(), context.clone()),
            )
            .await?;
        let mut current = url;
        for _ in 0..MAX_REDIRECTS {
            if !response.status().is_redirection() {
                break;
            }
            let (next, redirected) = self
                .follow(
                    target,
                    &current,
                    &response,
                    Method::HEAD,
                    None,
                    &scopes,
                    &context,
                )
                .await?;
            current = next;
            response = redirected;
        }
        match response.status().as_u16() {
            200 => Ok(Some(
                header(&response, "content-length")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or_default(),
            )),
            404 => Ok(None),
            _ => Err(status_error(response, context).await),
        }
    }

    /// Starts downloading blob `digest` of `repository` at byte `offset`.
    ///
    /// Nothing is verified: the caller hashes what it stores. With
    /// `offset > 0` the request carries `Range: bytes=<offset>-`; check
    /// [`BlobStream::offset`], which is 0 when the registry ignored it.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when the repository has no such blob;
    /// [`ErrorKind::FailedPrecondition`] when `offset` is past its end.
    pub async fn fetch_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        offset: u64,
    ) -> Result<BlobStream> {
        self.fetch_blob_on_targets(repository, digest, offset, true)
            .await
    }

    /// [`Client::fetch_blob`] with one request per host tried and no retry
    /// of its own: for a caller that resumes an interrupted download itself
    /// (at the offset its writer reached) and so counts every attempt, of
    /// the request and of the resumption alike, against one
    /// [`RetryPolicy`](crate::RetryPolicy) ([`Client::retry_policy`]).
    ///
    /// # Errors
    /// As [`Client::fetch_blob`]; a server error or a broken connection is
    /// returned at once, retryable ([`Error::is_retryable`]).
    pub async fn fetch_blob_attempt(
        &self,
        repository: &Repository,
        digest: &Digest,
        offset: u64,
    ) -> Result<BlobStream> {
        self.fetch_blob_on_targets(repository, digest, offset, false)
            .await
    }

    /// Tries the registry's hosts (mirrors first) for the download; `retry`
    /// says whether each request is retried within the client's policy.
    async fn fetch_blob_on_targets(
        &self,
        repository: &Repository,
        digest: &Digest,
        offset: u64,
        retry: bool,
    ) -> Result<BlobStream> {
        self.on_targets(
            repository.registry(),
            Need::Pull,
            move |target| async move {
                self.fetch_blob_at(&target, repository, digest, offset, retry)
                    .await
            },
        )
        .await
    }

    async fn fetch_blob_at(
        &self,
        target: &Target,
        repository: &Repository,
        digest: &Digest,
        offset: u64,
        retry: bool,
    ) -> Result<BlobStream> {
        let context = format!("downloading blob {digest} from {repository}");
        let scopes = Scopes::pull(repository.name());
        let range = (offset > 0).then(|| format!("bytes={offset}-"));
        let url = target.url(&format!("/{}/blobs/{digest}", repository.name()))?;
        let mut call = Call::new(Method::GET, url.clone(), scopes.clone(), context.clone());
        if !retry {
            call = call.once();
        }
        if let Some(range) = &range {
            call = call.header("Range", range.clone());
        }
        let mut response = self.execute(target, call).await?;
        let mut current = url;
        for _ in 0..MAX_REDIRECTS {
            if !response.status().is_redirection() {
                break;
            }
            let (next, redirected) = self
                .follow(
                    target,
                    &current,
                    &response,
                    Method::GET,
                    range.as_deref(),
                    &scopes,
                    &context,
                )
                .await?;
            current = next;
            response = redirected;
        }
        let length = header(&response, "content-length").and_then(|l| l.parse::<u64>().ok());
        let (start, total) = match response.status().as_u16() {
            200 => (0, length),
            206 => {
                let (first, _, total) = header(&response, "content-range")
                    .and_then(parse_content_range)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::Protocol,
                            format!("{context}: 206 without a valid Content-Range"),
                        )
                    })?;
                if first != offset {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("{context}: asked for bytes from {offset}, got them from {first}"),
                    ));
                }
                (first, total)
            }
            404 => {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!("blob {digest} not found in {repository}"),
                )
                .with_status(404));
            }
            416 => {
                return Err(Error::new(
                    ErrorKind::FailedPrecondition,
                    format!("{context}: offset {offset} is past the end of the blob"),
                )
                .with_status(416));
            }
            _ => return Err(status_error(response, context).await),
        };
        Ok(BlobStream {
            response,
            context,
            offset: start,
            total,
            body_length: length,
            received: 0,
            idle_timeout: self.inner.options.idle_timeout,
        })
    }

    /// Follows one redirect. The new request goes to the `Location` with
    /// the new host's own auth state: this host's token or password is never
    /// sent to another host.
    #[allow(clippy::too_many_arguments)]
    async fn follow(
        &self,
        target: &Target,
        current: &url::Url,
        response: &reqwest::Response,
        method: Method,
        range: Option<&str>,
        scopes: &Scopes,
        context: &str,
    ) -> Result<(url::Url, reqwest::Response)> {
        let location = header(response, "location").ok_or_else(|| {
            Error::new(
                ErrorKind::Protocol,
                format!("{context}: redirect without a Location"),
            )
        })?;
        let next = current.join(location).map_err(|e| {
            Error::new(
                ErrorKind::Protocol,
                format!("{context}: invalid redirect Location {location:?}"),
            )
            .with_source(e)
        })?;
        let next_authority = authority(&next);
        match next.scheme() {
            "https" => {}
            "http"
                if is_loopback(&next_authority)
                    || self.inner.options.insecure.contains(&next_authority) => {}
            _ => {
                return Err(Error::new(
                    ErrorKind::Denied,
                    format!(
                        "{context}: refusing a redirect to {next} (plain HTTP to a host not named insecure)"
                    ),
                ));
            }
        }
        let hop = if next_authority == target.authority {
            target.clone()
        } else {
            Target {
                registry: target.registry.clone(),
                authority: next_authority,
                base: next.clone(),
                http: self.inner.http_for_default_tls()?,
                headers: Vec::new(),
                is_mirror: target.is_mirror,
            }
        };
        tracing::debug!(from = %current, to = %next, "following a redirect");
        let mut call = Call::new(method, next.clone(), scopes.clone(), context.to_owned());
        if let Some(range) = range {
            call = call.header("Range", range.to_owned());
        }
        let response = self.execute(&hop, call).await?;
        Ok((next, response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_parse() {
        assert_eq!(
            parse_content_range("bytes 10-99/100"),
            Some((10, 99, Some(100)))
        );
        assert_eq!(parse_content_range("bytes 0-9/*"), Some((0, 9, None)));
        assert_eq!(parse_content_range("items 0-9/10"), None);
    }
}
