//! hoist: a daemonless, embeddable local container-image store.
//!
//! This crate is the embedding API. A [`Store`] is one root on disk seen
//! through one namespace; it lists, inspects, checks, tags, reduces,
//! assembles, saves, loads and unpacks images, manages content, leases and garbage
//! collection, and pulls, pushes, copies and verifies images against
//! registries (and logs in to them, keeping credentials where Docker does). Every writing operation runs under a lease that expires on
//! its own, and names what it wrote last, so a collection running beside it
//! (in this process or another) never takes what it still needs.
//!
//! It is thin by design: the image model, the store, the metadata and the
//! registry protocol live in the crates it re-exports ([`image`],
//! [`content`], [`meta`], [`remote`], [`platform`]); the facade composes
//! them. It does not render anything: progress arrives as events
//! ([`Progress`]) for the caller to draw.
//!
//! ```
//! use hoist::{Platforms, Store, StoreOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path(), StoreOptions::default().namespace("demo"))?;
//! assert!(store.list_images(None)?.is_empty());
//!
//! // A missing image is a not-found error naming it.
//! let error = store.check("example.com/app:1", &Platforms::All).unwrap_err();
//! assert!(error.is_not_found());
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/architecture.md` for the crate map.

mod admin;
mod archive;
mod copy;
mod error;
mod images;
mod login;
mod nested;
mod options;
mod platforms;
mod present;
mod progress;
mod pull;
mod push;
mod referrers;
mod referrers_push;
mod store;
mod transfer;
mod transform;
mod unpack;
mod verify;

pub use archive::{ArchiveLoadOptions, HeldContent, LoadReport};
pub use error::{Error, ErrorKind, Result};
pub use images::{ImageRecord, ImageSummary, Inspection, PlatformSummary};
pub use login::{LoginOptions, LoginReport};
pub use options::{
    CredentialsSource, DEFAULT_CONCURRENCY, DEFAULT_LEASE_TTL, DEFAULT_NAMESPACE, StoreOptions,
};
pub use platforms::Platforms;
pub use progress::{BlobEvent, NoProgress, Progress, Totals};
pub use pull::{PullOptions, PullReport};
pub use push::{PushOptions, PushReport};
pub use referrers::{Referrer, ReferrersOptions};
pub use store::Store;
pub use transform::AssembleRequest;
pub use unpack::UNCOMPRESSED_LABEL;
pub use verify::{RemoteEntry, RemoteReport, VerifyReport};

pub use hoist_content as content;
pub use hoist_image as image;
pub use hoist_meta as meta;
pub use hoist_oci as oci;
pub use hoist_platform as platform;
pub use hoist_remote as remote;
/// The unpacker: layers into a root filesystem or a runtime bundle.
pub use hoist_unpack as unpacking;
pub use hoist_unpack::{LayerReport, LayerStats, UnpackOptions, Unpacked};
