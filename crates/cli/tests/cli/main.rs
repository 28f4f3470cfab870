//! End-to-end tests of the `hoist` binary: each test has its own store
//! (`--root` in a temp dir), its own Docker config folder, and, where it
//! talks to a registry, its own `docker-registry` from hoist-testkit.

// Test helpers outside `#[test]` functions unwrap too: a failure is the
// test's failure.
#![allow(clippy::unwrap_used)]

mod archive_referrers;
mod completion;
mod defaults;
mod fsck;
mod load_names;
mod local;
mod login;
mod referrers;
mod remote;
mod scenarios;
mod serve;
mod serve_edge;
mod serve_upstream;
mod support;
mod terminal;
mod tls;
mod unpack;
mod usage;
