//! `hoist serve` against real clients (skopeo, containerd's ctr, hoist's
//! own pull) and against raw HTTP for what clients never send: write
//! methods, traversal attempts, ranges, a blob collected mid-transfer.

// Test code: helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod clients;
mod edge;
mod referrers;
mod support;
mod upstream;
