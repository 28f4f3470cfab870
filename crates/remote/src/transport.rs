//! HTTP plumbing: one `reqwest` client per distinct TLS setting, no
//! automatic redirects (the client follows them itself so credentials never
//! leave their host), an idle watchdog that a stalled server cannot outwait,
//! retry decisions, and turning transport errors into [`Error`]s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;
use tokio::io::AsyncReadExt as _;

use crate::error::{Error, ErrorKind, Result, parse_registry_errors};
use crate::hosts::TlsSettings;
use crate::source::BlobRead;

/// How long to keep trying, and how to space the attempts.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub attempts: u32,
    /// The wait before the second attempt; doubled each time.
    pub initial_backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (attempt counts from 1), with
    /// up to 25% jitter so parallel downloads do not retry in lockstep.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(16);
        let base = self
            .initial_backoff
            .saturating_mul(1 << exponent)
            .min(self.max_backoff);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
    }
}

/// Whether an HTTP status is worth retrying.
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// The HTTP/2 receive window of one stream (one blob): hyper's default
/// (2 MiB) lets a single blob through at 25 MB/s from a registry 80 ms
/// away, since nothing more may be in flight; 16 MiB allows 200 MB/s.
const H2_STREAM_WINDOW: u32 = 16 * 1024 * 1024;

/// The HTTP/2 receive window of a whole connection, shared by all its
/// streams: parallel downloads over one connection need room for each.
const H2_CONNECTION_WINDOW: u32 = 64 * 1024 * 1024;

/// `reqwest` clients by TLS setting and HTTP/2 offer, built on first use.
#[derive(Debug)]
pub(crate) struct HttpClients {
    connect_timeout: Duration,
    user_agent: String,
    clients: Mutex<HashMap<(TlsSettings, bool), reqwest::Client>>,
}

impl HttpClients {
    pub(crate) fn new(connect_timeout: Duration, user_agent: String) -> HttpClients {
        HttpClients {
            connect_timeout,
            user_agent,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The client for `tls`, offering HTTP/2 by ALPN with `http2`.
    pub(crate) fn get(&self, tls: &TlsSettings, http2: bool) -> Result<reqwest::Client> {
        let key = (tls.clone(), http2);
        if let Ok(clients) = self.clients.lock()
            && let Some(client) = clients.get(&key)
        {
            return Ok(client.clone());
        }
        let mut config = crate::tls::client_config(tls)?;
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .pool_idle_timeout(Duration::from_secs(30));
        // HTTP/2 only by ALPN, over TLS: plain HTTP stays HTTP/1.1 (no h2c,
        // which registries do not speak). A preconfigured TLS setup is
        // used as is by reqwest, so the offer is made here.
        let builder = if http2 {
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            builder
                .http2_initial_stream_window_size(H2_STREAM_WINDOW)
                .http2_initial_connection_window_size(H2_CONNECTION_WINDOW)
        } else {
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            builder.http1_only()
        };
        let client = builder
            .tls_backend_preconfigured(config)
            .build()
            .map_err(|e| {
                Error::new(ErrorKind::InvalidArgument, "building the HTTP client").with_source(e)
            })?;
        if let Ok(mut clients) = self.clients.lock() {
            clients.insert(key, client.clone());
        }
        Ok(client)
    }
}

/// Time of the last sign of life of an exchange, for the idle watchdog.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    start: Instant,
    last_millis: Arc<AtomicU64>,
}

impl Progress {
    pub(crate) fn new() -> Progress {
        Progress {
            start: Instant::now(),
            last_millis: Arc::new(AtomicU64::new(0)),
        }
    }

    pub(crate) fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.store(now, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_millis.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Sends a request, failing with a timeout once nothing has moved for
/// `idle_timeout`: neither a byte of the request body taken by the
/// connection (`progress` is touched by the body stream) nor the response
/// head. A slow but moving upload is never cut; a silent server always is.
pub(crate) async fn send_watched(
    request: reqwest::RequestBuilder,
    progress: &Progress,
    idle_timeout: Duration,
) -> std::result::Result<reqwest::Response, SendError> {
    progress.touch();
    let sending = request.send();
    tokio::pin!(sending);
    let tick = (idle_timeout / 4).max(Duration::from_millis(10));
    loop {
        tokio::select! {
            result = &mut sending => return result.map_err(SendError::Transport),
            () = tokio::time::sleep(tick) => {
                if progress.idle() >= idle_timeout {
                    return Err(SendError::Idle(idle_timeout));
                }
            }
        }
    }
}

/// Why a request got no response.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The transport failed (connect, TLS, reset, protocol).
    Transport(reqwest::Error),
    /// Nothing moved for this long.
    Idle(Duration),
}

impl SendError {
    /// Whether the request may be tried again.
    pub(crate) fn retryable(&self) -> bool {
        match self {
            SendError::Idle(_) => true,
            // Builder errors (a bad URL, a bad header) will fail again.
            SendError::Transport(e) => !e.is_builder() && !e.is_redirect(),
        }
    }

    /// Whether the connection could not be made at all (including a TLS
    /// handshake with a server that does not speak TLS).
    pub(crate) fn is_connect(&self) -> bool {
        matches!(self, SendError::Transport(e) if e.is_connect())
    }

    /// The deepest cause, the one that says what went wrong ("Connection
    /// refused", a TLS alert), for a message that has room for one.
    pub(crate) fn root_cause(&self) -> String {
        match self {
            SendError::Transport(e) => {
                let mut cause: &dyn std::error::Error = e;
                while let Some(inner) = cause.source() {
                    cause = inner;
                }
                cause.to_string()
            }
            SendError::Idle(limit) => {
                format!("no response for {}s (idle timeout)", limit.as_secs_f32())
            }
        }
    }

    pub(crate) fn into_error(self, context: String) -> Error {
        match self {
            SendError::Transport(e) => Error::new(ErrorKind::Unavailable, context).with_source(e),
            SendError::Idle(limit) => Error::new(
                ErrorKind::Unavailable,
                format!(
                    "{context}: no response for {}s (idle timeout)",
                    limit.as_secs_f32()
                ),
            ),
        }
    }
}

/// Turns a response with an unexpected status into an [`Error`], reading
/// (a bounded part of) the registry's error body.
pub(crate) async fn status_error(response: reqwest::Response, context: String) -> Error {
    let status = response.status().as_u16();
    let body = read_limited(response, 64 * 1024).await.unwrap_or_default();
    let registry_errors = parse_registry_errors(&body);
    let codes: Vec<&str> = registry_errors.iter().map(|e| e.code.as_str()).collect();
    let kind = match status {
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::Denied,
        404 => ErrorKind::NotFound,
        405 | 501 => ErrorKind::Unsupported,
        413 => ErrorKind::TooLarge,
        416 => ErrorKind::FailedPrecondition,
        s if retryable_status(s) => ErrorKind::Unavailable,
        400 if codes.contains(&"DIGEST_INVALID") => ErrorKind::DigestMismatch,
        400 if codes.iter().any(|c| c.ends_with("_UNKNOWN")) => ErrorKind::FailedPrecondition,
        400 | 409 | 422 => ErrorKind::InvalidArgument,
        _ => ErrorKind::Protocol,
    };
    let context = if registry_errors.is_empty() {
        format!("{context}: HTTP {status}")
    } else {
        context
    };
    Error::new(kind, context)
        .with_status(status)
        .with_registry_errors(registry_errors)
}

/// Reads a body of at most `limit` bytes; `None` when it is longer.
pub(crate) async fn read_limited(response: reqwest::Response, limit: u64) -> Option<Bytes> {
    let mut body = BytesMut::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.ok()?;
        if body.len() as u64 + chunk.len() as u64 > limit {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body.freeze())
}

/// A request body streamed from a reader: at most `length` bytes, touching
/// `progress` each time the connection takes a chunk.
pub(crate) fn streaming_body(reader: BlobRead, length: u64, progress: Progress) -> reqwest::Body {
    const CHUNK: usize = 256 * 1024;
    let stream = futures_util::stream::unfold(
        (reader, length, progress),
        |(mut reader, remaining, progress)| async move {
            if remaining == 0 {
                return None;
            }
            let want = usize::try_from(remaining).unwrap_or(CHUNK).min(CHUNK);
            let mut buffer = BytesMut::with_capacity(want);
            let mut limited = (&mut reader).take(want as u64);
            match limited.read_buf(&mut buffer).await {
                Ok(0) => Some((
                    Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("the blob source ended {remaining} bytes early"),
                    )),
                    (reader, 0, progress),
                )),
                Ok(n) => {
                    progress.touch();
                    Some((
                        Ok(buffer.freeze()),
                        (reader, remaining - n as u64, progress),
                    ))
                }
                Err(e) => Some((Err(e), (reader, 0, progress))),
            }
        },
    );
    reqwest::Body::wrap_stream(stream)
}
