//! Installs what hoist's tests need on a fresh machine: Debian packages (the
//! real peers the tests talk to, and the libraries the build links) and cargo
//! tools. Everything here is idempotent: what is present is left alone.

use std::process::Command;

use crate::run;

/// Debian packages the build and the tests need, with why.
const DEBIAN_PACKAGES: &[(&str, &str)] = &[
    ("librocksdb-dev", "RocksDB, linked by hoist-meta"),
    ("libclang-dev", "bindgen, for librocksdb-sys"),
    ("pkg-config", "finding system libraries"),
    (
        "docker-registry",
        "the real registry the tests push to and pull from",
    ),
    ("apache2-utils", "htpasswd -B, for the basic-auth registry"),
    ("openssl", "certificates for the token-auth registry"),
    ("skopeo", "interop peer"),
    ("umoci", "interop peer"),
    ("containerd", "interop peer (ctr)"),
    ("curl", "the floor of the pull benchmark"),
    (
        "g++",
        "libFuzzer's C++ runtime, built for `cargo xtask fuzz`",
    ),
];

/// Installs every missing Debian package and cargo tool.
pub fn ensure_all() -> Result<(), String> {
    ensure_debian_packages()?;
    ensure_cargo_tool("cargo-nextest", "nextest")?;
    Ok(())
}

fn ensure_debian_packages() -> Result<(), String> {
    let missing: Vec<&str> = DEBIAN_PACKAGES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !debian_package_installed(name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing Debian packages: {}", missing.join(" "));
    if !is_root() {
        return Err(format!(
            "these Debian packages are missing and installing them needs root: {}\n\
             run: sudo apt-get update && sudo apt-get install -y {}",
            missing.join(", "),
            missing.join(" ")
        ));
    }
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    Ok(())
}

fn debian_package_installed(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}", name])
        .output()
        .map(|output| {
            output.status.success()
                && String::from_utf8_lossy(&output.stdout).ends_with("install ok installed")
        })
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Installs `crate_name` with `cargo install` unless `cargo <subcommand>` runs.
fn ensure_cargo_tool(crate_name: &str, subcommand: &str) -> Result<(), String> {
    let present = Command::new("cargo")
        .args([subcommand, "--version"])
        .output()
        .map(|output| output.status.success())
        .unwrap_or(false);
    if present {
        return Ok(());
    }
    eprintln!("xtask: installing {crate_name}");
    run(Command::new("cargo").args(["install", "--locked", crate_name]))
}
