//! Writing credentials where Docker (and every tool that reads Docker's
//! `config.json`, hoist included) finds them: the `auths` map of
//! `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`), or the
//! credential helper that file names for the registry.
//!
//! The file is read as a JSON object and written back whole with only the
//! registry's entry changed, so keys hoist does not know (`credsStore`,
//! `proxies`, `HttpHeaders`, …) stay. It is replaced atomically (temporary
//! file in the same folder, fsync, rename) with mode 0600, since it holds
//! passwords.

mod config_file;
mod helper;

pub use config_file::{ConfigFile, Storage};

/// The key Docker uses for Docker Hub in `config.json` and with helpers.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// The host a registry argument names: scheme and path dropped, Docker
/// Hub's aliases folded into `docker.io`.
pub fn registry_host(input: &str) -> String {
    let trimmed = input.trim();
    let without_scheme = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .unwrap_or(trimmed);
    let host = without_scheme.split('/').next().unwrap_or(without_scheme);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_owned(),
        other => other.to_owned(),
    }
}

/// The key under which Docker stores `host`'s credentials.
pub fn config_key(host: &str) -> String {
    if host == "docker.io" {
        DOCKER_HUB_KEY.to_owned()
    } else {
        host.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_fold_like_dockers_keys() {
        assert_eq!(
            registry_host("https://localhost:5000/v2/"),
            "localhost:5000"
        );
        assert_eq!(registry_host("index.docker.io"), "docker.io");
        assert_eq!(config_key("docker.io"), DOCKER_HUB_KEY);
        assert_eq!(config_key("ghcr.io"), "ghcr.io");
    }
}
