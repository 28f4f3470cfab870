//! hoist-remote against a real `docker-registry` (distribution 2.8), started
//! per test by hoist-testkit: plain, htpasswd Basic auth and token auth,
//! over HTTP and HTTPS, directly and through a fault-injecting proxy.

// Test code: helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used)]

mod auth;
mod faults;
mod http2;
mod interop;
mod login;
mod plain;
mod support;
mod tls;
mod upload;
