//! A client for the OCI distribution API: resolve, fetch and push, with auth.
//!
//! See `docs/architecture.md` for where this crate sits in hoist.
