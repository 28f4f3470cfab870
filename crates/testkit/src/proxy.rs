//! A fault-injecting loopback HTTP forwarder for pull tests: it sits between
//! a client and a registry and, for a chosen blob, truncates, corrupts,
//! stalls or resets the body mid-transfer, or redirects the download
//! elsewhere. Every exchange is recorded so a test can look at what the
//! client sent (a `Range` header, an `Authorization` header).
//!
//! Each connection carries one request: the proxy forces `Connection: close`
//! on both sides, so the response body ends where the upstream closes and
//! byte offsets are exact.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::background::Background;
use crate::error::{Error, Result};
use crate::http1;

/// What happens to a matching blob download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Send the first `after` body bytes, then close the connection cleanly
    /// although the headers promised more.
    Truncate {
        /// Body bytes delivered before the close.
        after: u64,
    },
    /// Deliver the whole body with the byte at offset `at` (of this
    /// response's body) flipped.
    Corrupt {
        /// The offset of the flipped byte.
        at: u64,
    },
    /// Send the first `after` body bytes, then send nothing more while
    /// keeping the connection open (until the proxy is dropped). On an
    /// upload commit: read none of the request body and never answer.
    Stall {
        /// Body bytes delivered before the stall.
        after: u64,
    },
    /// Send the first `after` body bytes, then reset the connection (RST).
    Drop {
        /// Body bytes delivered before the reset.
        after: u64,
    },
    /// Reset the connection (RST) without answering at all.
    Reset,
    /// Answer with this status and an empty body, without asking the
    /// upstream (a registry's passing 503).
    Status {
        /// The HTTP status code.
        code: u16,
    },
    /// Answer `307` with `Location: <to><request path>` without asking the
    /// upstream (as a registry does when its storage redirects to a CDN).
    Redirect {
        /// Scheme, host and port of the redirect target.
        to: String,
    },
    /// Answer with this status, content type and body without asking the
    /// upstream: a registry feature the upstream lacks, such as the
    /// referrers API docker-registry 2.8 does not have.
    Respond {
        /// The HTTP status code.
        code: u16,
        /// The `Content-Type`.
        content_type: String,
        /// The body.
        body: Vec<u8>,
    },
    /// Answer with this status, these headers and this body without asking
    /// the upstream: a page of a paged referrers list (`Link`), or a
    /// manifest `PUT` that is acknowledged but never stored (a lost update).
    Reply {
        /// The HTTP status code.
        code: u16,
        /// Headers, in order.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// Forward to the upstream and add this header to its answer (an
    /// `OCI-Subject` a registry with the referrers API sends).
    AddHeader {
        /// The header's name.
        name: String,
        /// Its value.
        value: String,
    },
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultOn {
    /// `GET` of `/blobs/<digest>` or `/manifests/<digest>`: downloads.
    Download,
    /// `PUT` of an upload session with `digest=<digest>` in its query: the
    /// request that completes an upload (monolithic or chunked).
    UploadCommit,
    /// `GET` of `/referrers/<digest>` (any query): the referrers API.
    Referrers,
    /// `PUT` of `/manifests/<digest or tag>`: a manifest push (the fault's
    /// `digest` is the selector, a tag such as `sha256-<hex>` included).
    ManifestPut,
    /// `POST` of `/blobs/uploads/` with `mount=<digest>`: a mount (with a
    /// [`FaultKind::Reply`] of 202, a registry that ignores mounts).
    Mount,
}

/// A fault for the requests of one digest, applied to the next `times` of
/// them.
#[derive(Debug, Clone)]
pub struct Fault {
    /// The digest the requests concern.
    pub digest: String,
    /// What to do.
    pub kind: FaultKind,
    /// How many matching requests get it; later ones pass untouched.
    pub times: usize,
    /// Which requests match.
    pub on: FaultOn,
}

impl Fault {
    /// A fault for the next download of `digest`.
    pub fn new(digest: impl std::fmt::Display, kind: FaultKind) -> Fault {
        Fault {
            digest: digest.to_string(),
            kind,
            times: 1,
            on: FaultOn::Download,
        }
    }

    /// Applies it to the next `times` matching requests.
    pub fn times(mut self, times: usize) -> Fault {
        self.times = times;
        self
    }

    /// Applies it to upload commits instead of downloads.
    pub fn on_upload_commit(mut self) -> Fault {
        self.on = FaultOn::UploadCommit;
        self
    }

    /// Applies it to referrers-API requests about the digest instead.
    pub fn on_referrers(mut self) -> Fault {
        self.on = FaultOn::Referrers;
        self
    }

    /// Applies it to manifest pushes to the digest or tag instead.
    pub fn on_manifest_put(mut self) -> Fault {
        self.on = FaultOn::ManifestPut;
        self
    }

    /// Applies it to mounts of the digest instead.
    pub fn on_mount(mut self) -> Fault {
        self.on = FaultOn::Mount;
        self
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The method.
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// The fault applied, if any.
    pub fault: Option<FaultKind>,
    /// Every header as sent.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct ProxyState {
    faults: Mutex<Vec<Fault>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// A running proxy; stops (releasing any stalled connection) when dropped.
pub struct FaultProxy {
    _background: Background,
    address: SocketAddr,
    state: Arc<ProxyState>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port forwarding to `upstream`
    /// (`host:port` of a plain-HTTP server).
    ///
    /// # Errors
    /// When no port can be bound.
    pub fn start(upstream: &str) -> Result<FaultProxy> {
        let background = Background::new("proxy")?;
        let listener = background.bind_loopback("fault proxy")?;
        let address = listener
            .local_addr()
            .map_err(|e| Error::net("reading the proxy's address", e))?;
        let state = Arc::new(ProxyState::default());
        let upstream = upstream.to_owned();
        let handle = background
            .handle()
            .ok_or_else(|| Error::Other("the proxy runtime is gone".to_owned()))?;
        let serving = Arc::clone(&state);
        handle.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&serving);
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    // A failed exchange is the client's to notice.
                    let _ = forward(stream, &upstream, &state).await;
                });
            }
        });
        Ok(FaultProxy {
            _background: background,
            address,
            state,
        })
    }

    /// Arms a fault.
    pub fn add_fault(&self, fault: Fault) {
        if let Ok(mut faults) = self.state.faults.lock() {
            faults.push(fault);
        }
    }

    /// `127.0.0.1:<port>`: use it as the registry host.
    pub fn host(&self) -> String {
        self.address.to_string()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every request seen so far, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

/// Takes one use of the first armed fault matching this request.
fn take_fault(state: &ProxyState, method: &str, target: &str) -> Option<FaultKind> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut faults = state.faults.lock().ok()?;
    let fault = faults.iter_mut().find(|f| {
        f.times > 0
            && match f.on {
                FaultOn::Download => {
                    method == "GET"
                        && (path.ends_with(&format!("/blobs/{}", f.digest))
                            || path.ends_with(&format!("/manifests/{}", f.digest)))
                }
                FaultOn::UploadCommit => {
                    method == "PUT"
                        && path.contains("/blobs/uploads/")
                        && query.iter().any(|(k, v)| k == "digest" && *v == f.digest)
                }
                FaultOn::Referrers => {
                    method == "GET" && path.ends_with(&format!("/referrers/{}", f.digest))
                }
                FaultOn::ManifestPut => {
                    method == "PUT" && path.ends_with(&format!("/manifests/{}", f.digest))
                }
                FaultOn::Mount => {
                    method == "POST"
                        && path.ends_with("/blobs/uploads/")
                        && query.iter().any(|(k, v)| k == "mount" && *v == f.digest)
                }
            }
    })?;
    fault.times -= 1;
    Some(fault.kind.clone())
}

async fn forward(mut client: TcpStream, upstream: &str, state: &ProxyState) -> std::io::Result<()> {
    let Some((head, body_start)) = http1::read_request(&mut client).await? else {
        return Ok(());
    };
    let fault = take_fault(state, &head.method, &head.path);
    if matches!(fault, Some(FaultKind::Drop { .. } | FaultKind::Reset)) {
        // Zero linger turns the eventual close into a reset.
        client.set_zero_linger()?;
    }
    if let Ok(mut requests) = state.requests.lock() {
        requests.push(RecordedRequest {
            method: head.method.clone(),
            path: head.path.clone(),
            authorization: head.header("authorization").map(str::to_owned),
            range: head.header("range").map(str::to_owned),
            fault: fault.clone(),
            headers: head.headers.clone(),
        });
    }
    if matches!(fault, Some(FaultKind::Reset)) {
        // The zero linger set above makes this close a reset.
        drop(client);
        return Ok(());
    }
    if head.method == "PUT" && matches!(fault, Some(FaultKind::Stall { .. })) {
        // A stalled upload: the body is never read, nothing is answered.
        let _keep = client;
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
    if let Some(FaultKind::Status { code }) = &fault {
        // Take the request body first, so the client reads the answer
        // instead of a reset from unread data.
        let _ = http1::drain_body(&mut client, &head, body_start.len()).await;
        return http1::write_response(&mut client, *code, &[], b"").await;
    }
    if let Some(FaultKind::Respond {
        code,
        content_type,
        body,
    }) = &fault
    {
        let _ = http1::drain_body(&mut client, &head, body_start.len()).await;
        return http1::write_response(
            &mut client,
            *code,
            &[("Content-Type", content_type.clone())],
            body,
        )
        .await;
    }
    if let Some(FaultKind::Reply {
        code,
        headers,
        body,
    }) = &fault
    {
        let _ = http1::drain_body(&mut client, &head, body_start.len()).await;
        let headers: Vec<(&str, String)> = headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone()))
            .collect();
        return http1::write_response(&mut client, *code, &headers, body).await;
    }
    if let Some(FaultKind::Redirect { to }) = &fault {
        return http1::write_response(
            &mut client,
            307,
            &[("Location", format!("{to}{}", head.path))],
            b"",
        )
        .await;
    }
    let mut server = TcpStream::connect(upstream).await?;
    let first_line = format!("{} {} HTTP/1.1", head.method, head.path);
    server
        .write_all(&http1::encode_head(&first_line, &head.headers))
        .await?;
    server.write_all(&body_start).await?;
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    // The request body (uploads) flows through untouched.
    let upload = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
        client_read
    });
    let Some((response, mut body)) = http1::read_response(&mut server_read).await? else {
        upload.abort();
        return Ok(());
    };
    let status_line = format!("HTTP/1.1 {} Proxied", response.status);
    let mut response_headers = response.headers.clone();
    if let Some(FaultKind::AddHeader { name, value }) = &fault {
        response_headers.push((name.clone(), value.clone()));
    }
    client_write
        .write_all(&http1::encode_head(&status_line, &response_headers))
        .await?;
    let fault = fault.filter(|_| matches!(response.status, 200 | 206));
    let mut sent: u64 = 0;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if body.is_empty() {
            let n = server_read.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        let limit = match &fault {
            Some(
                FaultKind::Truncate { after }
                | FaultKind::Stall { after }
                | FaultKind::Drop { after },
            ) => Some(*after),
            _ => None,
        };
        if let Some(limit) = limit {
            let allowed = usize::try_from(limit.saturating_sub(sent)).unwrap_or(usize::MAX);
            if allowed < body.len() {
                body.truncate(allowed);
                client_write.write_all(&body).await?;
                client_write.flush().await?;
                return finish_fault(fault, client_write, upload).await;
            }
        }
        if let Some(FaultKind::Corrupt { at }) = &fault
            && *at >= sent
            && *at < sent + body.len() as u64
        {
            let index = usize::try_from(*at - sent).unwrap_or(0);
            body[index] ^= 0xff;
        }
        client_write.write_all(&body).await?;
        sent += body.len() as u64;
        body.clear();
    }
    client_write.flush().await?;
    let _ = client_write.shutdown().await;
    Ok(())
}

async fn finish_fault(
    fault: Option<FaultKind>,
    client_write: tokio::net::tcp::OwnedWriteHalf,
    upload: tokio::task::JoinHandle<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<()> {
    match fault {
        Some(FaultKind::Stall { .. }) => {
            // Hold the connection open, silent, until the proxy is dropped
            // (its runtime shutting down ends this task).
            let _keep = client_write;
            loop {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        }
        Some(FaultKind::Drop { .. }) => {
            // Both halves gone: the socket closes with the zero linger set
            // when the request was read, i.e. with a reset.
            upload.abort();
            let _ = upload.await;
            drop(client_write);
            Ok(())
        }
        _ => {
            let mut client_write = client_write;
            let _ = client_write.shutdown().await;
            upload.abort();
            Ok(())
        }
    }
}
