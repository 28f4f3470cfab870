//! hoist-image's tests: one binary, a module per area.

// clippy.toml allows unwrap/expect inside #[test] functions only; the
// fixture and helper functions of this test binary panic on setup failures
// by design.
#![allow(clippy::unwrap_used)]

mod archives;
mod documents;
mod fixture;
mod interop;
mod recording;
mod reduce_assemble;
mod select_report_check;
mod tarkit;
