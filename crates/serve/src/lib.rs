//! hoist-serve: a hoist store served as a read-only OCI registry.
//!
//! The read side of the OCI distribution API (spec 1.1) over HTTP/1.1 on
//! tokio: `GET /v2/`, manifests by tag and by digest, blobs streamed from
//! their files with `Range` support, tag lists, the catalog and the
//! referrers API, so skopeo, containerd (as a `hosts.toml` mirror), Docker
//! and hoist itself can pull what a store already holds. Optionally over
//! TLS ([`ServeOptions::tls`]) and behind basic auth from a bcrypt htpasswd
//! file ([`ServeOptions::htpasswd`]). Every write method is refused with
//! the spec's `UNSUPPORTED` error.
//!
//! With [`ServeOptions::upstream`] it is also a caching mirror: what the
//! store lacks is pulled through from an upstream registry, stored (under
//! a lease, tags named as `hoist pull` names them) and streamed to the
//! client while it arrives, one upstream download per blob however many
//! clients ask ([`Upstream`] says how requests choose an upstream). A tag
//! it holds from an upstream is checked against the upstream (one `HEAD`
//! per tag per [`ServeOptions::upstream_tag_ttl`]) and follows it when it
//! moved; while the upstream cannot answer, the stored tag is served.
//!
//! It is not a registry to push to or a token-auth server: it listens on
//! loopback by default. How stored names map to the names clients ask for
//! is in [`names`].
//!
//! ```no_run
//! use hoist::{Store, StoreOptions};
//! use hoist_serve::{ServeOptions, serve};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::open("/var/lib/hoist", StoreOptions::default())?;
//! let server = serve(store, ServeOptions::default().listen("127.0.0.1:0".parse()?)).await?;
//! println!("serving on {}", server.local_addr());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/architecture.md` for the crate map and `docs/crates/serve.md`
//! for the protocol facts and limits.

mod api_error;
mod basic_auth;
mod blob_body;
mod blob_flight;
mod chunk_pool;
mod error;
mod handlers;
mod logged_body;
pub mod names;
mod options;
mod referrers;
mod routes;
mod server;
mod single_flight;
mod tag_freshness;
mod tls;
mod upstream;

pub use error::{Error, ErrorKind, Result};
pub use options::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_LISTEN, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_UPSTREAM_TAG_TTL, ServeOptions,
};
pub use server::{ServerHandle, serve};
pub use tls::TlsFiles;
pub use upstream::Upstream;
