//! The metadata store: namespaces of images, content records, ingests and
//! leases, kept in RocksDB over one shared `hoist-content` blob store, and a
//! mark-and-sweep garbage collector that never removes what anything still
//! references.
//!
//! A [`MetaStore`] is one root on disk. [`MetaStore::namespace`] hands out a
//! [`Namespace`], through which [`Images`], [`Leases`] and [`Content`] (the
//! namespace's view of the blobs, implementing `hoist-content`'s
//! [`Store`](hoist_content::Store) roles) are reached. Writes made under a
//! [`Lease`] are recorded on it in the same atomic batch, so they survive any
//! GC until the lease is deleted or expires. Several processes may use one
//! root at once: the database is handed between them (see
//! `docs/architecture.md`), and no RocksDB lock error reaches a caller.
//!
//! It is not an image model: it stores names and labels and follows
//! `containerd.io/gc.ref.content.*` labels, but never parses a manifest
//! (`hoist-image` does, and writes the labels).
//!
//! ```
//! use hoist_content::{Digest, Labels, write_blob};
//! use hoist_meta::{Descriptor, GcOptions, Image, LeaseOptions, MetaStore};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let store = MetaStore::open(dir.path())?;
//! let ns = store.namespace("default")?;
//!
//! // Write a blob under a lease, then name it.
//! let lease = ns.leases().create(LeaseOptions::new().expires_in(std::time::Duration::from_secs(3600)))?;
//! let manifest = br#"{"schemaVersion":2}"#;
//! let digest = Digest::sha256_of(manifest);
//! let content = ns.content(Some(&lease));
//! write_blob(&content, "manifest", &manifest[..], &digest, manifest.len() as u64, Labels::new())?;
//! let target = Descriptor::new("application/vnd.oci.image.manifest.v1+json", digest.clone(), manifest.len() as u64);
//! ns.images().create(Image::new("example.com/app:1", target))?;
//! ns.leases().delete(&lease.id)?;
//!
//! // The image keeps the manifest through a collection.
//! let report = store.gc(GcOptions::new())?;
//! assert!(report.blobs.is_empty());
//! assert_eq!(ns.images().get("example.com/app:1")?.target.digest, digest);
//! # Ok(())
//! # }
//! ```
//!
//! The on-disk layout, the key schema, the hand-over protocol and the crash
//! analysis are in `docs/architecture.md`.

#[cfg(feature = "bulk-load")]
pub mod bulk;
mod clock;
mod compact_digest;
mod content;
mod crash;
mod database;
mod error;
mod fasthash;
mod fsck;
mod gc;
mod images;
mod keys;
mod kv;
mod labels;
mod leases;
mod namespace;
mod owner;
mod records;
mod store;
mod writer;

pub use clock::{format_rfc3339, parse_rfc3339};
pub use content::Content;
#[cfg(feature = "crash-points")]
pub use crash::PAUSE_AT;
pub use error::{Error, ErrorKind, Result};
pub use fsck::{Damage, Debris, FsckCounts, FsckOptions, FsckReport};
pub use gc::{GcOptions, GcReport, ObjectRef};
pub use hoist_oci::Descriptor;
pub use images::{Image, ImageFilter, ImageUpdate, Images};
pub use labels::{
    GC_BREF_CONTENT, GC_EXPIRE, GC_FLAT, GC_REF_CONTENT, GC_ROOT, content_backrefs, content_refs,
    is_content_backref, is_content_ref,
};
pub use leases::{Lease, LeaseOptions, Leases, Resource};
pub use namespace::Namespace;
pub use store::{CONTENT_DIR, META_DIR, MetaOptions, MetaStore};
pub use writer::MetaWriter;
