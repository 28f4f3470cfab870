//! Parse, normalize, format and match OCI platforms the way containerd does.
//!
//! See `docs/architecture.md` for where this crate sits in hoist.
