//! Images: OCI and Docker manifests and indexes, platform reports, check,
//! platform reduction, index assembly and archives.
//!
//! See `docs/architecture.md` for where this crate sits in hoist.
