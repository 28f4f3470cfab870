//! What the demo needs from the machine: the libraries hoist links, and
//! `docker-registry`, installed with apt-get when running as root.

use std::path::PathBuf;
use std::process::Command;

/// Debian packages the build of hoist needs.
const BUILD_PACKAGES: &[&str] = &["librocksdb-dev", "libclang-dev", "pkg-config"];

/// Installs the build's packages when missing (as root), or says how.
pub fn ensure_build_packages() -> Result<(), String> {
    if !has_dpkg() {
        return Ok(());
    }
    let missing: Vec<&str> = BUILD_PACKAGES
        .iter()
        .copied()
        .filter(|name| !installed(name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "building hoist needs these Debian packages: {}\nrun: sudo apt-get install -y {}",
            missing.join(", "),
            missing.join(" ")
        ));
    }
    apt_install(&missing)
}

/// `docker-registry`'s path; installed first when missing and root;
/// `None` when missing and not root.
pub fn docker_registry() -> Result<Option<PathBuf>, String> {
    if let Some(path) = find("docker-registry") {
        return Ok(Some(path));
    }
    if !is_root() || !has_dpkg() {
        return Ok(None);
    }
    apt_install(&["docker-registry"])?;
    find("docker-registry")
        .map(Some)
        .ok_or_else(|| "docker-registry was installed but is not on PATH".to_owned())
}

fn apt_install(packages: &[&str]) -> Result<(), String> {
    crate::run(Command::new("apt-get").args(["update", "-q"]))?;
    crate::run(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn has_dpkg() -> bool {
    find("dpkg-query").is_some()
}

fn installed(name: &str) -> bool {
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
