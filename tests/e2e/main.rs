//! End-to-end tests of the `hoist` facade: local operations on a real
//! store, and pull, push, copy and verify against a real `docker-registry`
//! (started per test by `hoist-testkit`), with interop checks against
//! skopeo and containerd. One binary, a module per area.

// Test code: helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod archive_referrers;
mod auth;
mod faults;
mod interop;
mod local;
mod login;
mod processes;
mod referrers;
mod referrers_push;
mod registry;
mod support;
mod unpack;
