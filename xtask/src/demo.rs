//! `cargo xtask demo`: the README's main job, as a walkthrough that prints
//! every `hoist` command before running it.
//!
//! On a fresh machine with nothing running it builds hoist, makes a fresh
//! store under `<target>/demo`, generates a 4-platform image (the test
//! fixtures, written as an OCI layout tar), loads it, shows its platforms,
//! reduces it to two, saves that, removes the original name, collects
//! garbage and shows what stayed. Then, with `docker-registry` available
//! (installed with apt-get when running as root and missing), it starts one
//! on a free loopback port, pushes the reduced image, verifies the remote
//! tag, and pulls it back into a second store.

mod registry;
mod system;

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{target_dir, workspace_root};

/// The image the demo generates and works on.
const IMAGE: &str = "example.com/demo/app:1.0";
/// The reduced image's name.
const SLIM: &str = "example.com/demo/app:1.0-slim";
/// The two platforms the image is reduced to.
const KEEP: &str = "linux/amd64,linux/arm64";

/// Runs the demo.
pub fn run() -> Result<(), String> {
    let root = workspace_root();
    let target = target_dir();
    system::ensure_build_packages()?;

    section("Build hoist");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    crate::run(
        Command::new(cargo)
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", &target)
            .args([
                "build",
                "-p",
                "hoist-cli",
                "--bin",
                "hoist",
                "--example",
                "demo_fixture",
            ]),
    )?;
    let hoist_bin = target.join("debug").join("hoist");
    let fixture_bin = target.join("debug").join("examples").join("demo_fixture");

    let demo_dir = target.join("demo");
    if demo_dir.exists() {
        std::fs::remove_dir_all(&demo_dir)
            .map_err(|e| format!("removing the last demo's {}: {e}", demo_dir.display()))?;
    }
    std::fs::create_dir_all(&demo_dir)
        .map_err(|e| format!("creating {}: {e}", demo_dir.display()))?;
    let store = demo_dir.join("store");
    let hoist = Hoist {
        bin: hoist_bin,
        root: store.clone(),
        dir: demo_dir.clone(),
    };

    section("A fresh store, and a generated 4-platform image");
    println!("export HOIST_ROOT={}", store.display());
    let archive = demo_dir.join("app-4-platforms.tar");
    shell(
        Command::new(&fixture_bin)
            .arg(&archive)
            .arg(IMAGE)
            .current_dir(&demo_dir),
        &format!("demo_fixture {} {IMAGE}", file_name(&archive)),
    )?;

    section("Load it and look at its platforms");
    hoist.run(&["load", "-i", &file_name(&archive)])?;
    hoist.run(&["images"])?;
    hoist.run(&["image", "platforms", IMAGE])?;

    section("Reduce it to two platforms, and save that");
    hoist.run(&["image", "convert", IMAGE, SLIM, "--platform", KEEP])?;
    hoist.run(&["image", "platforms", SLIM])?;
    hoist.run(&["save", "-o", "app-slim.tar", SLIM, "--all-platforms"])?;
    shell(
        Command::new("tar")
            .args(["tf", "app-slim.tar"])
            .current_dir(&demo_dir),
        "tar tf app-slim.tar",
    )?;

    section("Drop the 4-platform name and collect garbage: what the slim image needs stays");
    hoist.run(&["rmi", IMAGE])?;
    hoist.run(&["gc"])?;
    hoist.run(&["images"])?;
    hoist.run(&["content", "ls"])?;
    hoist.run(&["fsck"])?;

    section("Push to a local registry, verify the tag, pull it back");
    let Some(registry_bin) = system::docker_registry()? else {
        println!(
            "skipped: docker-registry is not installed and this is not root \
             (install it with: sudo apt-get install docker-registry)"
        );
        return finish(&demo_dir);
    };
    let registry = registry::Registry::start(&registry_bin, &demo_dir.join("registry"))?;
    let remote = format!("{}/demo/app:1.0", registry.host());
    hoist.run(&["tag", SLIM, &remote])?;
    hoist.run(&["push", &remote, "--platform", KEEP])?;
    hoist.run(&["verify", &remote, "--remote", "--platform", KEEP])?;
    hoist.run(&["manifest", "inspect", &remote])?;
    let second = Hoist {
        root: demo_dir.join("store-2"),
        ..hoist.clone()
    };
    println!("export HOIST_ROOT={}", second.root.display());
    second.run(&["pull", &remote, "--all-platforms"])?;
    second.run(&["images"])?;
    second.run(&["verify", &remote, "--platform", KEEP])?;
    drop(registry);
    finish(&demo_dir)
}

fn finish(demo_dir: &Path) -> Result<(), String> {
    section("Done");
    println!("everything the demo made is in {}", demo_dir.display());
    Ok(())
}

/// The built `hoist` and the store it works on.
#[derive(Clone)]
struct Hoist {
    bin: PathBuf,
    root: PathBuf,
    dir: PathBuf,
}

impl Hoist {
    /// Prints `$ hoist <args>`, runs it with `HOIST_ROOT` set, and fails if
    /// it fails.
    fn run(&self, args: &[&str]) -> Result<(), String> {
        let line = format!("hoist {}", args.join(" "));
        shell(
            Command::new(&self.bin)
                .args(args)
                .env("HOIST_ROOT", &self.root)
                .env_remove("HOIST_NAMESPACE")
                .current_dir(&self.dir),
            &line,
        )
    }
}

/// Prints `$ <line>`, runs the command with inherited output, and fails
/// with the line if it fails.
fn shell(command: &mut Command, line: &str) -> Result<(), String> {
    println!("\n$ {line}");
    let status = command
        .status()
        .map_err(|e| format!("could not start `{line}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{line}` failed with {status}"))
    }
}

fn section(title: &str) {
    println!("\n== {title}");
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
