//! Images: what the blobs of an OCI or Docker image mean.
//!
//! `hoist-image` reads OCI indexes and manifests and Docker manifest lists
//! and schema 2 manifests (treated alike), keeping their raw bytes as the
//! truth; tells which platforms an image holds and which are complete
//! locally ([`platform_report`], [`check_platform`], [`check_all`]); picks
//! the manifest for a platform the way containerd does, with an error that
//! lists what is available ([`select_manifest`]); [`reduce`]s an image to
//! some platforms and [`assemble`]s an index from per-platform images, each
//! a new document serialized once with sorted keys and stored with the
//! `containerd.io/gc.ref.content.*` labels the garbage collector follows;
//! and [`save`]s and [`load`]s archives the ecosystem's tools read (OCI
//! layout tars with Docker's `manifest.json`, layout directories, `docker
//! save` archives), streaming, and refusing hostile input.
//!
//! It works over `hoist-content`'s role traits ([`Provider`], [`Manager`],
//! [`Ingester`]), so it runs on a plain `LocalStore` as on the meta crate's
//! namespaced, leased handle: "written under a lease" means written through
//! the handle the caller passes. It is not where names live: functions that
//! end in naming something (load, assemble, reduce with a name) return the
//! descriptors and the names to create, and the caller writes the image
//! records last. It is not a registry client and does not unpack layers.
//!
//! [`Provider`]: hoist_content::Provider
//! [`Manager`]: hoist_content::Manager
//! [`Ingester`]: hoist_content::Ingester
//!
//! ```
//! use hoist_content::{Digest, Labels, LocalStore, write_blob};
//! use hoist_image::{Descriptor, Image, media_type, platform_report, select_manifest, write_document};
//! use hoist_platform::{only, parse};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = LocalStore::open(dir.path())?;
//! let put = |bytes: &[u8]| -> Result<Descriptor, Box<dyn std::error::Error>> {
//!     let digest = Digest::sha256_of(bytes);
//!     write_blob(&store, "example", bytes, &digest, bytes.len() as u64, Labels::new())?;
//!     Ok(Descriptor::new(media_type::OCI_CONFIG, digest, bytes.len() as u64))
//! };
//! // A one-platform image: a config, a manifest, an index.
//! let config = put(br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#)?;
//! let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": media_type::OCI_MANIFEST,
//!                                   "config": config, "layers": []});
//! let manifest = write_document(&store, serde_json::to_vec(&manifest)?, media_type::OCI_MANIFEST)?;
//! let entry = manifest.descriptor().clone().with_platform(parse("linux/amd64")?);
//! let index = serde_json::json!({"schemaVersion": 2, "mediaType": media_type::OCI_INDEX, "manifests": [entry]});
//! let index = write_document(&store, serde_json::to_vec(&index)?, media_type::OCI_INDEX)?;
//! let image = Image::new("example.com/app:1.0", index.descriptor().clone());
//!
//! // Which platforms it has, and whether each is complete here.
//! let report = platform_report(&store, &image)?;
//! assert_eq!(report.entries[0].entry.kind.to_string(), "linux/amd64");
//! assert!(report.entries[0].state.is_complete());
//!
//! // A platform it lacks: the error says what there is.
//! let error = select_manifest(&store, &image, &only(parse("linux/arm64/v8")?)).unwrap_err();
//! assert!(error.to_string().starts_with("no manifest for linux/arm64 in example.com/app:1.0 (index sha256:"));
//! assert!(error.to_string().ends_with("; available: linux/amd64"));
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/architecture.md` for where this crate sits in hoist.

mod archive;
mod assemble;
mod check;
mod document;
mod error;
mod graph;
mod image;
mod reduce;
mod report;
mod select;
mod store_io;

pub use archive::{
    ArchiveFormat, LoadOptions, Loaded, LoadedImage, ReferrerSelection, SaveOptions, SaveSummary,
    SavedImage, load, load_dir, save,
};
pub use assemble::{AssembleOptions, Assembled, assemble};
pub use check::{CheckReport, check_all, check_platform};
pub use document::{Document, Index, MAX_DOCUMENT_SIZE, Manifest};
pub use error::{Detail, Error, ErrorKind, MissingBlobs, Result};
pub use hoist_oci::annotations::{self, *};
pub use hoist_oci::{Descriptor, MAX_NESTING, media_type};
pub use image::{Entry, EntryKind, Image, Tree, tree};
pub use reduce::{ReduceOptions, Reduced, reduce};
pub use report::{LocalState, PlatformReport, ReportEntry, platform_report};
pub use select::select_manifest;
pub use store_io::{
    MAX_CONFIG_SIZE, canonical_json, exists, read_config_platform, read_document, write_document,
};
