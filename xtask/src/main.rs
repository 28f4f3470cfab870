//! Project automation for hoist, run as `cargo xtask <task>`.
//!
//! - `cargo xtask ci`: install what the tests need, then check formatting,
//!   run clippy, the whole test suite, the doc tests and the docs build. It is
//!   the README's test command, and `.ci/run` runs exactly it.
//! - `cargo xtask deps`: only install what the tests need.
//! - `cargo xtask demo`: the README's main-job walkthrough on a fresh store.
//! - `cargo xtask bench`: pull/push against skopeo, ctr and the curl floor;
//!   unpack against umoci and the gzip|tar floor.
//! - `cargo xtask fuzz [SECONDS] [--merge] [TARGET...]`: coverage-guided
//!   fuzzing of every parser of untrusted input (docs/fuzzing.md).
//!
//! The xtask binary itself depends on nothing outside the standard library,
//! so it builds in seconds on a fresh machine before anything is installed.

mod architecture_doc;
mod bench;
mod demo;
mod deps;
mod fuzz;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let result = match task {
        "ci" => ci(),
        "deps" => deps::ensure_all(),
        "bench" => bench::run(&args[1..]),
        "demo" => demo::run(),
        "fuzz" => fuzz::run_fuzz(&args[1..]),
        "help" | "-h" | "--help" => {
            print_help();
            Ok(())
        }
        other => Err(format!("unknown task {other:?}; run `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "usage: cargo xtask <task>\n\n\
         tasks:\n  \
           ci     install test dependencies, then fmt, clippy, tests, doc tests, docs\n  \
           deps   install test dependencies only (Debian packages, cargo tools)\n  \
           demo   walk through hoist's main job on a fresh store and a local registry\n  \
           bench  time pull and push against skopeo, ctr and the curl floor,\n         \
                  and unpack against umoci and the gzip|tar floor\n  \
           fuzz   [SECONDS] [--merge] [TARGET...] fuzz every parser of untrusted input"
    );
}

/// The whole check that CI runs: every step must pass. The tests include a
/// replay of the kept fuzz corpus (`fuzz/tests/corpus.rs`); fuzzing for new
/// inputs is `cargo xtask fuzz`, too slow to build for every run (docs/fuzzing.md).
fn ci() -> Result<(), String> {
    deps::ensure_all()?;
    let root = workspace_root();
    let target_dir = target_dir();
    eprintln!("xtask: building in {}", target_dir.display());
    let cargo = || {
        let mut command = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", &target_dir);
        command
    };
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    // CI=true for the suite wherever it runs: a peer tool (docker-registry,
    // skopeo, umoci, containerd) that is missing fails its tests instead of
    // skipping them, so a green `cargo xtask ci` always ran every test.
    run(cargo()
        .args([
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--profile",
            "ci",
        ])
        .env("CI", "true"))?;
    run(cargo()
        .args(["test", "--workspace", "--doc", "--locked"])
        .env("CI", "true"))?;
    run(cargo()
        .args(["doc", "--workspace", "--no-deps", "--locked"])
        .env("RUSTDOCFLAGS", "-D warnings"))?;
    eprintln!("xtask: ci passed");
    Ok(())
}

/// The folder holding the workspace's `Cargo.toml`.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

/// Where the workspace builds: the caller's `CARGO_TARGET_DIR` when set, else a
/// cache outside the clone, so that a fresh clone on a machine that built
/// hoist before (CI runs on the submitting machine) reuses that build.
fn target_dir() -> PathBuf {
    if let Some(dir) = env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let home = env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(env::temp_dir);
    home.join(".cache").join("hoist").join("target")
}

/// Runs a command with inherited output, failing with its command line.
pub(crate) fn run(command: &mut Command) -> Result<(), String> {
    let line = format!("{command:?}");
    eprintln!("xtask: running {line}");
    let status = command
        .status()
        .map_err(|error| format!("could not start {line}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{line} failed with {status}"))
    }
}
