//! `cargo xtask bench`: hoist beside skopeo, ctr and the floor (curl), on a
//! generated 200 MB, 4-platform image served by a local docker-registry.
//!
//! The work lives in the root package's `peers` bench (`benches/peers/`),
//! which links the hoist library; this task only builds and runs it with
//! the bench profile, so xtask itself keeps depending on nothing outside
//! the standard library. Arguments are passed on: `--runs N`,
//! `--size-mb M`, `--out FILE` (the markdown table).

use std::env;
use std::process::Command;

/// Runs the peers bench with `args`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    crate::deps::ensure_all()?;
    let mut command = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(crate::workspace_root())
        .env("CARGO_TARGET_DIR", crate::target_dir())
        .args(["bench", "--package", "hoist", "--bench", "peers", "--"])
        .args(args);
    crate::run(&mut command)
}
