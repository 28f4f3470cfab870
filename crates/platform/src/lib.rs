//! Parse, normalize, format, match and order OCI platforms the way containerd does.
//!
//! A [`Platform`] is the `platform` object of an OCI index entry: OS,
//! architecture, optional variant, OS version and OS features. This crate turns
//! user input such as `linux/arm64/v8`, `aarch64` or `windows(10.0.17763)/amd64`
//! into platforms ([`parse`], [`parse_all`]), gives every alias one spelling
//! ([`normalize`]), prints them back ([`format()`], [`format_all`]), and decides
//! which index entries a request accepts and which it prefers ([`only`],
//! [`only_strict`], [`ordered`], [`any`], [`all`], [`host`], then [`best`] or
//! [`ranked`]). The rules are containerd's `platforms` package, so hoist picks
//! the manifest containerd, nerdctl and Docker would pick.
//!
//! It is not an image or index reader: it never sees digests or media types,
//! and it does no I/O (except reading `/proc/cpuinfo` once on 32-bit ARM Linux
//! to learn the host's ARM variant).
//!
//! ```
//! use hoist_platform::{Matcher, Platform, best, only, parse};
//!
//! // Aliases and case collapse: these are all the same platform.
//! let wanted = parse("linux/aarch64")?;
//! assert_eq!(wanted, parse("Linux/ARM64/v8")?);
//! assert_eq!(wanted.to_string(), "linux/arm64");
//!
//! // An arm64 machine runs 32-bit ARM images too, but prefers arm64 ones.
//! let matcher = only(wanted);
//! assert!(matcher.matches(&parse("linux/arm/v7")?));
//! assert!(!matcher.matches(&parse("linux/amd64")?));
//!
//! // Pick the best entry of an index; buildx's attestation entries
//! // (`unknown/unknown`) never match a real platform.
//! let index = [
//!     Platform::new("unknown", "unknown"),
//!     Platform::new("linux", "arm").with_variant("v7"),
//!     Platform::new("linux", "arm64").with_variant("v8"),
//! ];
//! let chosen = best(&matcher, &index, |p| Some(p.clone()));
//! assert_eq!(chosen, Some(&index[2]));
//!
//! // Bad input says what was wrong and what would have been accepted.
//! let error = parse("linux/").unwrap_err();
//! assert!(error.is_invalid_argument());
//! assert!(error.to_string().contains("\"linux/\""));
//! assert!(error.to_string().contains("os/arch/variant"));
//! # Ok::<(), hoist_platform::Error>(())
//! ```
//!
//! See `docs/architecture.md` for where this crate sits in hoist.

mod error;
mod fallback;
mod format;
mod host;
mod known;
mod matcher;
mod normalize;
mod oci;
mod parse;
mod platform;
mod select;
mod target;
mod windows;

pub use error::{ACCEPTED_FORMS, Error, ErrorKind, Result};
pub use format::{format, format_all};
pub use host::{HOST_PLATFORM_ENV, host_override};
pub use matcher::{Matcher, PlatformMatcher, all, any, host, only, only_strict, ordered};
pub use normalize::normalize;
pub use parse::{parse, parse_all};
pub use platform::Platform;
pub use select::{best, ranked};
