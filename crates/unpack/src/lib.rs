//! Unpacking: an image's layers become a root filesystem, or an OCI runtime
//! bundle that runc, crun or youki can start.
//!
//! [`unpack`] reads a manifest's config and layers from any content store
//! (a [`Provider`](hoist_content::Provider): the plain local store or the
//! meta store's namespaced handle) and applies the layers in order: OCI and
//! Docker layer types, plain, gzip or zstd; whiteouts (`.wh.NAME`) and
//! opaque directories (`.wh..wh..opq`) as the image spec says; regular
//! files (sparse ones stay sparse), directories, symlinks, hard links,
//! FIFOs, and device nodes when not rootless; modes, times and extended
//! attributes. It streams: a layer is never held in memory, and each
//! layer's uncompressed digest is computed on the way and checked against
//! the config's `rootfs.diff_ids`.
//!
//! Safety is the point of the design. Every path a layer names is resolved
//! by the kernel beneath the tree's root (`openat2` with `RESOLVE_IN_ROOT`),
//! so no `..`, absolute path, symlink planted by an earlier entry, hard
//! link or whiteout can reach outside it; the tree is built beside `dest`
//! and renamed into place, so `dest` holds the whole result or nothing.
//! Rootless (the default when not root), files belong to the unpacking
//! user and the image's owners are kept in the `user.rootlesscontainers`
//! attribute exactly as `umoci unpack --rootless` writes it.
//!
//! It is not a snapshotter (no overlay mounts, no sharing between unpacks),
//! does not choose platforms (give it the manifest) and does not run
//! anything.
//!
//! ```
//! use hoist_content::{Digest, LocalStore, write_blob};
//! use hoist_image::{Document, media_type};
//! use hoist_unpack::{NoProgress, UnpackOptions, unpack};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = LocalStore::open(dir.path().join("store"))?;
//! let put = |bytes: &[u8]| -> Result<Digest, Box<dyn std::error::Error>> {
//!     let digest = Digest::sha256_of(bytes);
//!     write_blob(&store, "example", bytes, &digest, bytes.len() as u64, Default::default())?;
//!     Ok(digest)
//! };
//! // A one-layer image: hello.txt.
//! let mut tar = tar::Builder::new(Vec::new());
//! let mut header = tar::Header::new_gnu();
//! header.set_size(6);
//! header.set_mode(0o644);
//! tar.append_data(&mut header, "hello.txt", &b"hello\n"[..])?;
//! let layer = tar.into_inner()?;
//! let config = serde_json::json!({"os": "linux", "architecture": "amd64",
//!     "rootfs": {"type": "layers", "diff_ids": [Digest::sha256_of(&layer)]}});
//! let config = serde_json::to_vec(&config)?;
//! let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": media_type::OCI_MANIFEST,
//!     "config": {"mediaType": media_type::OCI_CONFIG, "digest": put(&config)?, "size": config.len()},
//!     "layers": [{"mediaType": media_type::OCI_LAYER, "digest": put(&layer)?, "size": layer.len()}]});
//! let manifest = Document::from_bytes(serde_json::to_vec(&manifest)?, None)?;
//! let manifest = manifest.as_manifest().ok_or("not a manifest")?;
//!
//! let dest = dir.path().join("rootfs");
//! let unpacked = unpack(&store, manifest, &dest, &UnpackOptions::new().rootless(true), &NoProgress)?;
//! assert_eq!(std::fs::read(dest.join("hello.txt"))?, b"hello\n");
//! assert_eq!((unpacked.layers.len(), unpacked.totals.files, unpacked.totals.bytes), (1, 1, 6));
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/architecture.md` for where this crate sits in hoist, and
//! `docs/crates/unpack.md` for the rules it applies and how they were checked
//! against umoci.

mod apply;
mod bundle;
mod config;
mod error;
mod metadata;
mod tree;
mod unpack;
mod user;

pub use apply::LayerStats;
pub use bundle::runtime_config;
pub use config::{ImageConfig, RootFs, RunConfig};
pub use error::{Error, ErrorKind, Result};
pub use metadata::{ROOTLESS_XATTR, rootless_payload};
pub use unpack::{LayerReport, NoProgress, Progress, UnpackOptions, Unpacked, unpack};
pub use user::{ExecUser, resolve_user};
