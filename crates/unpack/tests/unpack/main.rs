//! The unpacker's tests: conformance cases as small generated layer stacks,
//! escape attempts (each asserting a sentinel outside `dest` is untouched),
//! failures, and bundles.

// Helpers outside #[test] functions unwrap too: a failure is the test's.
#![allow(clippy::unwrap_used)]

mod bundle;
mod conformance;
mod escapes;
mod failures;
mod support;
