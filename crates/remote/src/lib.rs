//! A client for the OCI distribution API: resolve references, fetch and push
//! manifests and blobs, with the auth registries really use (Basic, bearer
//! tokens by `GET` or OAuth2 `POST`, Docker's `config.json` and credential
//! helpers, read for credentials and written by `login`), per-host TLS and
//! mirrors (`certs.d/<host>/hosts.toml`), retries and idle timeouts.
//!
//! It moves bytes and checks what the protocol lets it check (manifest
//! digests and sizes); it is not a store. Blob downloads are streams the
//! caller hashes as it stores them (the content store verifies), and
//! uploads read from a [`BlobSource`] that can be reopened at an offset, so
//! no blob is ever held whole in memory. Pull, push and copy of whole
//! images are built on it by the `hoist` facade.
//!
//! ```
//! use hoist_remote::{Client, ClientOptions, Credentials, Reference, StaticCredentials};
//!
//! // References normalize as Docker's do, and bad ones say why.
//! let reference: Reference = "alpine".parse()?;
//! assert_eq!(reference.to_string(), "docker.io/library/alpine:latest");
//! let error = "alpine:".parse::<Reference>().unwrap_err();
//! assert_eq!(error.to_string(), r#"invalid reference "alpine:": the tag after ':' is empty"#);
//!
//! // A client with a password for one registry, anonymous elsewhere.
//! let credentials = StaticCredentials::new().with("localhost:5000", Credentials::basic("ci", "secret"));
//! let client = Client::new(ClientOptions::default().with_credentials(credentials))?;
//! # drop(client);
//! # Ok::<(), hoist_remote::Error>(())
//! ```
//!
//! Then, against a registry:
//!
//! ```no_run
//! # use hoist_remote::{Client, ClientOptions, Digest, DockerConfig, Reference};
//! # async fn demo() -> hoist_remote::Result<()> {
//! let client = Client::new(ClientOptions::default().with_credentials(DockerConfig::load_default()?))?;
//! let reference: Reference = "localhost:5000/team/app:v1".parse()?;
//! let index = client.get_manifest(&reference).await?;
//! println!("{reference} is {} ({} bytes)", index.descriptor.digest, index.descriptor.size);
//! let layer_digest: Digest = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b".parse()?;
//! let mut layer = client.fetch_blob(&reference.repo(), &layer_digest, 0).await?;
//! while let Some(chunk) = layer.next_chunk().await? {
//!     // hash and store `chunk`; on a retryable error, fetch again from
//!     // `error.bytes_received()`
//!     # drop(chunk);
//! }
//! # Ok(()) }
//! ```
//!
//! See `docs/architecture.md` for where this crate sits in hoist and why it
//! is a thin client of its own on `reqwest`.

mod auth;
mod blob;
mod client;
mod error;
mod hosts;
mod login;
mod manifest;
pub mod media_type;
mod reference;
mod referrers;
mod referrers_tag;
mod source;
mod tls;
mod transport;
mod upload;

pub use auth::challenge::Challenge;
pub use auth::credentials::{CredentialProvider, Credentials, Secret, StaticCredentials};
pub use auth::docker_config::{CredentialStore, DockerConfig};
pub use auth::scope::Scopes;
pub use auth::token::TokenMethod;
pub use blob::BlobStream;
pub use client::{Client, ClientOptions, DEFAULT_MAX_MANIFEST_SIZE, Preconnect};
pub use error::{Error, ErrorKind, RegistryError, Result};
/// The digest type, shared with the content store.
pub use hoist_content::Digest;
pub use hoist_oci::Descriptor;
pub use hosts::{
    Capabilities, Endpoint, HostConfig, SchemePolicy, TlsSettings, host_config, is_loopback,
    parse_hosts_toml,
};
pub use manifest::{Manifest, ManifestTarget, PushedManifest};
pub use reference::{DOCKER_HUB, DOCKER_HUB_API_HOST, Reference, Repository};
pub use referrers::{MAX_REFERRERS_PAGES, Referrers, ReferrersSource, fallback_tag};
pub use referrers_tag::{FALLBACK_TAG_ATTEMPTS, FallbackTagUpdate};
pub use source::{BlobRead, BlobSource, BytesSource, FileSource};
pub use transport::RetryPolicy;
pub use upload::{BlobPushed, PushBlobOptions, UploadMode};
