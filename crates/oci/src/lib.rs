//! The OCI and Docker vocabulary every hoist crate shares: one
//! [`Descriptor`] type, one table of [`media_type`]s, the [`annotations`]
//! hoist reads and writes, and the one limit on how deep documents nest
//! ([`MAX_NESTING`]).
//!
//! The metadata store records a descriptor as an image's target, the image
//! crate reads and writes documents full of them, and the registry client
//! resolves references to them: one type for all three means nothing is
//! converted, and nothing is lost on the way (a [`Descriptor`] keeps the
//! platform's `os.version` and `os.features` and every field it does not
//! know). Docker and OCI media types are equivalent for traversal
//! ([`media_type::classify`]).
//!
//! It is not a document reader (manifests and indexes are the image crate's)
//! and does no I/O.
//!
//! ```
//! use hoist_oci::{Descriptor, media_type::{self, MediaKind}};
//!
//! let json = r#"{"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
//!     "digest":"sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b",
//!     "size":7,"x-vendor":true}"#;
//! let descriptor: Descriptor = serde_json::from_str(json)?;
//! assert_eq!(media_type::classify(&descriptor.media_type), MediaKind::Index);
//! // Fields hoist does not know survive a round trip.
//! assert_eq!(descriptor.to_json()["x-vendor"], true);
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! See `docs/architecture.md` for where this crate sits in hoist.

pub mod annotations;
mod descriptor;
pub mod media_type;

pub use descriptor::Descriptor;

/// How deep documents may nest (an index in an index in …) before every
/// walker in hoist, pull, push, save, load and verify alike, refuses to go
/// further: containerd's limit. Deeper trees are refused with an error
/// naming the digest where the walk stopped.
pub const MAX_NESTING: usize = 8;
