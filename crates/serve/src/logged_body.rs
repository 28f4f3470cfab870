//! The access log: one `tracing` line per request, written when its
//! response body is finished or dropped, so `bytes` is what was sent and
//! `ms` covers the whole transfer.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body, Frame, SizeHint};

/// The client's address, put in each request's extensions by the server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RemoteAddr(pub SocketAddr);

/// A response body that logs its request when it ends.
pub(crate) struct LoggedBody {
    inner: UnsyncBoxBody<Bytes, io::Error>,
    method: String,
    path: String,
    status: u16,
    started: Instant,
    sent: u64,
    peer: Option<SocketAddr>,
}

impl LoggedBody {
    pub(crate) fn new(
        inner: UnsyncBoxBody<Bytes, io::Error>,
        method: String,
        path: String,
        status: u16,
        started: Instant,
    ) -> LoggedBody {
        LoggedBody {
            inner,
            method,
            path,
            status,
            started,
            sent: 0,
            peer: None,
        }
    }

    /// Logs `peer` as the client's address.
    pub(crate) fn peer(mut self, peer: Option<SocketAddr>) -> LoggedBody {
        self.peer = peer;
        self
    }
}

impl Body for LoggedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.sent += data.len() as u64;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        let remote = self.peer.map(|p| p.to_string()).unwrap_or_default();
        tracing::info!(
            target: "hoist_serve::access",
            remote = %remote,
            method = %self.method,
            path = %self.path,
            status = self.status,
            bytes = self.sent,
            ms = self.started.elapsed().as_millis() as u64,
            "request"
        );
    }
}
