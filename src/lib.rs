//! hoist: a daemonless, embeddable local container-image store.
//!
//! This crate is the embedding API. It re-exports the crates hoist is built
//! from; the `Store` facade with pull, push, load, save and reduce arrives
//! with the issues that build those crates.
//!
//! See `docs/architecture.md` for the crate map.

pub use hoist_content as content;
pub use hoist_image as image;
pub use hoist_meta as meta;
pub use hoist_platform as platform;
pub use hoist_remote as remote;
