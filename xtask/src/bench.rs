//! `cargo xtask bench`: hoist beside skopeo, ctr and the floor (curl), on a
//! generated 200 MB, 4-platform image served by a local docker-registry.
//!
//! The work lives in the root package's `peers` bench (`benches/peers/`),
//! which links the hoist library; this task only builds and runs it with
//! the bench profile, so xtask itself keeps depending on nothing outside
//! the standard library. Arguments are passed on: `--runs N`,
//! `--size-mb M`, `--out FILE` (the markdown table).
//!
//! Then the unpack bench (`crates/unpack/benches/unpack.rs`: hoist beside
//! `umoci unpack --rootless` and the `gzip -dc | tar -x` floor) prints its
//! own table, unpacking under the target directory unless
//! `HOIST_BENCH_DIR` says where (not /tmp by default: on some VMs creating
//! a file there costs a millisecond).
//!
//! Then the serve bench (`crates/serve/benches/serve/`: skopeo pulling from
//! `hoist serve` and from docker-registry, 1 and 8 clients at once).

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
    crate::run(&mut command)?;

    let scratch = env::var_os("HOIST_BENCH_DIR")
        .map_or_else(|| crate::target_dir().join("bench-unpack"), Into::into);
    let mut unpack = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    unpack
        .current_dir(crate::workspace_root())
        .env("CARGO_TARGET_DIR", crate::target_dir())
        .env("HOIST_BENCH_DIR", scratch)
        .args(["bench", "--package", "hoist-unpack", "--bench", "unpack"]);
    crate::run(&mut unpack)?;

    // `hoist serve` beside docker-registry, served to skopeo
    // (`crates/serve/benches/serve/`).
    let serve_scratch = env::var_os("HOIST_BENCH_DIR")
        .map_or_else(|| crate::target_dir().join("bench-serve"), Into::into);
    let mut serve = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    serve
        .current_dir(crate::workspace_root())
        .env("CARGO_TARGET_DIR", crate::target_dir())
        .env("HOIST_BENCH_DIR", serve_scratch)
        .args(["bench", "--package", "hoist-serve", "--bench", "serve"]);
    crate::run(&mut serve)
}
