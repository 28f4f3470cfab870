//! The content store: verified, durable, content-addressed blobs on the local
//! file system, written through resumable ingests that are safe across
//! processes.
//!
//! A blob is published under its digest only after its size and digest were
//! verified and its data fsynced, by one atomic rename that never replaces an
//! existing blob; a write in progress lives in an *ingest*, named by a
//! reference, that survives its process and is resumed by reopening the same
//! reference. Writers exclude each other through file locks that the kernel
//! drops when a process dies, and two writers of one digest under different
//! references serialize so the content is downloaded once. The roles are small
//! traits ([`Provider`], [`Manager`], [`IngestManager`], [`Ingester`], together
//! [`Store`]) modelled on containerd's `core/content`, implemented here by
//! [`LocalStore`]; the `testsuite` feature exports the conformance suite every
//! implementation runs.
//!
//! This crate knows nothing of namespaces, image names, leases or garbage
//! collection (the meta store, `hoist-meta`, wraps it for those), and nothing
//! of what a blob means. It is synchronous (`std::fs`); async callers use
//! `spawn_blocking`.
//!
//! ```
//! use hoist_content::{Digest, LocalStore, Manager, Provider, write_blob};
//! use std::io::Read;
//!
//! let dir = tempfile::tempdir()?;
//! let store = LocalStore::open(dir.path())?;
//! let layer = b"a layer's bytes";
//! let digest = Digest::sha256_of(layer);
//! write_blob(&store, "pull/layer", &layer[..], &digest, layer.len() as u64, Default::default())?;
//!
//! let mut content = Vec::new();
//! store.reader(&digest)?.read_to_end(&mut content)?;
//! assert_eq!(content, layer);
//! assert_eq!(store.info(&digest)?.size, layer.len() as u64);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The on-disk layout, the commit protocol and its crash analysis, and the
//! locking protocol are described in `docs/architecture.md` (section "Content
//! store") and, next to the code that relies on them, in the `local` module.

mod digest;
mod error;
mod filter;
mod local;
mod reader;
mod records;
mod store;
mod timestamp;
mod writing;

pub use digest::{Algorithm, Digest, Digester};
pub use error::{Error, ErrorKind, LockHolder, Result};
pub use filter::Filter;
pub use local::{LocalStore, LocalWriter};
pub use reader::BlobReader;
pub use records::{Info, Labels, Status, WriterOptions};
pub use store::{ContentWriter, IngestManager, Ingester, Manager, Provider, Store};
pub use writing::{Written, copy, open_writer_waiting, write_blob};

#[cfg(feature = "testsuite")]
pub mod testsuite;
