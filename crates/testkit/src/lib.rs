//! Test support for hoist: a real `docker-registry` per test (plain, htpasswd
//! Basic auth, or token auth through a small token issuer), a fault-injecting
//! proxy for blob downloads, deterministic multi-platform image fixtures,
//! layer stacks for unpacking tests ([`layers`]), and the tools those need.
//!
//! It is a dev-dependency only: nothing here is fit for production use, and
//! no error path is tuned beyond telling a test author what went wrong. A
//! missing `docker-registry` skips a test loudly, except under `CI=true`,
//! where it fails.
//!
//! ```no_run
//! use hoist_testkit::{Registry, RegistryOptions};
//!
//! let Some(registry) = Registry::start(RegistryOptions::basic("alice", "secret"))? else {
//!     return Ok(()); // not installed here, and not CI: skipped, loudly
//! };
//! println!("push to {}/demo:latest", registry.host());
//! # Ok::<(), hoist_testkit::Error>(())
//! ```
//!
//! Fixtures need no external tool:
//!
//! ```
//! use hoist_testkit::{Fixture, FixtureSpec};
//!
//! let fixture = Fixture::generate(&FixtureSpec::four_platforms(42, 64 * 1024, 4096))?;
//! assert_eq!(fixture.images.len(), 4);
//! // One layer is shared by every platform, so it is stored once.
//! assert_eq!(fixture.blobs().len(), 1 + 4 * 3 + 1);
//! # Ok::<(), hoist_testkit::Error>(())
//! ```
//!
//! See `docs/architecture.md` for how hoist's tests use it.

mod background;
mod containerd;
mod error;
mod fixtures;
mod http1;
mod issuer;
mod jwt;
mod latency;
pub mod layers;
mod pki;
mod proxy;
pub mod referrers;
mod registry;
mod tools;

pub use containerd::Containerd;
pub use error::{Error, Result};
pub use fixtures::{
    Fixture, FixtureAttestation, FixtureBlob, FixtureImage, FixturePlatform, FixtureSpec, docker,
    oci,
};
pub use issuer::{ISSUER, IssuerOptions, IssuerStats, SERVICE, TestUser, TokenIssuer};
pub use latency::LatencyProxy;
pub use pki::{
    ServerCertificates, SigningIdentity, make_server_certificates, make_signing_identity,
};
pub use proxy::{Fault, FaultKind, FaultOn, FaultProxy, RecordedRequest};
pub use registry::{Registry, RegistryAuth, RegistryOptions};
pub use tools::{find_tool, is_ci, require_tool};
