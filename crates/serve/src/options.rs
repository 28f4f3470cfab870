//! [`ServeOptions`]: where to listen and the limits that keep one client
//! from exhausting the server.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

use crate::tls::TlsFiles;
use crate::upstream::Upstream;

/// Loopback, port 5000: the port registries conventionally use, reachable
/// only from this machine until the caller says otherwise.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5000));

/// Connections served at once; further ones wait in the kernel's accept
/// queue until one closes. A pulling client opens a handful (containerd
/// three per image by default, skopeo up to six).
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// The most bytes a request head (request line and headers) may take;
/// larger heads are answered 431 by hyper. Registry clients send under
/// 2 KiB; hyper's floor for this limit is 8 KiB.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;

/// How long a client may take to send a request head before the
/// connection is closed (slow-loris protection).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long an upstream's answer about a tag is trusted
/// ([`ServeOptions::upstream_tag_ttl`]): long enough that the clients of a
/// rollout pulling one tag together cost the upstream one `HEAD`, short
/// enough that a tag pushed upstream is served within half a minute.
pub const DEFAULT_UPSTREAM_TAG_TTL: Duration = Duration::from_secs(30);

/// How a server listens and what it bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// The address to listen on; port 0 picks a free port
    /// ([`crate::ServerHandle::local_addr`] tells which).
    pub listen: SocketAddr,
    /// Connections served at once.
    pub max_connections: usize,
    /// Largest request head, in bytes (at least 8192).
    pub max_header_bytes: usize,
    /// Longest wait for a request head.
    pub header_read_timeout: Duration,
    /// Serve HTTPS with this certificate and key (plain HTTP when `None`).
    pub tls: Option<TlsFiles>,
    /// Require Basic credentials of a user of this htpasswd file (bcrypt
    /// entries); refused without `tls` unless listening on loopback.
    pub htpasswd: Option<PathBuf>,
    /// Registries to pull through what the store lacks (none by default):
    /// a request with `?ns=HOST` uses the upstream for HOST, one without
    /// uses the first. See [`Upstream`].
    pub upstreams: Vec<Upstream>,
    /// How long a tag checked against its upstream is served without
    /// asking again (zero: every request by tag asks; concurrent requests
    /// still share one check). Requests by digest never ask.
    pub upstream_tag_ttl: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            listen: DEFAULT_LISTEN,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            tls: None,
            htpasswd: None,
            upstreams: Vec::new(),
            upstream_tag_ttl: DEFAULT_UPSTREAM_TAG_TTL,
        }
    }
}

impl ServeOptions {
    /// Listens on `address` instead of [`DEFAULT_LISTEN`].
    pub fn listen(mut self, address: SocketAddr) -> ServeOptions {
        self.listen = address;
        self
    }

    /// Also pulls through `upstream` what the store lacks (repeatable; the
    /// first is the one for requests without `ns`).
    pub fn upstream(mut self, upstream: Upstream) -> ServeOptions {
        self.upstreams.push(upstream);
        self
    }

    /// Trusts an upstream's answer about a tag for `ttl` instead of
    /// [`DEFAULT_UPSTREAM_TAG_TTL`].
    pub fn upstream_tag_ttl(mut self, ttl: Duration) -> ServeOptions {
        self.upstream_tag_ttl = ttl;
        self
    }

    /// Serves at most `count` connections at once.
    pub fn max_connections(mut self, count: usize) -> ServeOptions {
        self.max_connections = count;
        self
    }

    /// Serves HTTPS with the certificate and key of `files`.
    pub fn tls(mut self, files: TlsFiles) -> ServeOptions {
        self.tls = Some(files);
        self
    }

    /// Requires the Basic credentials of a user of the htpasswd file at
    /// `path`.
    pub fn htpasswd(mut self, path: impl Into<PathBuf>) -> ServeOptions {
        self.htpasswd = Some(path.into());
        self
    }
}
