//! The metadata store: namespaces, images, content records, leases and
//! garbage collection, kept in RocksDB over the content store.
//!
//! See `docs/architecture.md` for where this crate sits in hoist.
