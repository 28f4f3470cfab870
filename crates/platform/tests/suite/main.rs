//! Integration tests of hoist-platform, one module per area (one test binary
//! links faster than many).

mod conversions;
mod format;
mod matchers;
mod normalize;
mod parse;
mod properties;
mod select;

use hoist_platform::{Platform, parse};

/// Parses a specifier the test knows to be valid.
pub fn p(specifier: &str) -> Platform {
    parse(specifier).unwrap_or_else(|error| panic!("{specifier:?} should parse: {error}"))
}

/// A platform built field by field, not normalized.
pub fn raw(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
    let platform = Platform::new(os, architecture);
    match variant {
        Some(variant) => platform.with_variant(variant),
        None => platform,
    }
}
