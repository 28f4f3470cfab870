//! The content store: content-addressed blobs on the local file system.
//!
//! See `docs/architecture.md` for where this crate sits in hoist.
