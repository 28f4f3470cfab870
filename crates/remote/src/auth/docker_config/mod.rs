//! Docker's `config.json`, read and written by this one module:
//!
//! - `auths` (base64 `user:password`, or an `identitytoken`), `credHelpers`
//!   (per host) and `credsStore` (for all hosts), the last two through
//!   `docker-credential-<name>` programs (`helper.rs`);
//! - reading credentials in Docker's order (`read.rs`);
//! - storing and erasing one registry's credentials for `login`/`logout`,
//!   keeping every key hoist does not know and replacing the file
//!   atomically with a private mode (`write.rs`, where the crash-safety
//!   argument is written).
//!
//! The `docker_credential` crate reads the same file but takes its location
//! from the environment alone (which neither tests nor an embedding program
//! can redirect safely) and never writes it, so this small module takes a
//! path.

mod helper;
mod read;
mod write;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize as _;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::reference::DOCKER_HUB;

/// The key Docker uses for Docker Hub in `config.json` and with helpers.
pub(crate) const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// Docker's `config.json`: the whole document (so writing it back keeps
/// what hoist does not know) and the parts that say where credentials are.
#[derive(Debug, Clone, Default)]
pub struct DockerConfig {
    origin: PathBuf,
    /// The file's JSON object, as read; what `write.rs` edits and saves.
    document: Map<String, Value>,
    /// `auths`, keyed by [`DockerConfig::registry_host`].
    auths: HashMap<String, AuthEntry>,
    /// `credHelpers`, keyed by [`DockerConfig::registry_host`].
    cred_helpers: HashMap<String, String>,
    creds_store: Option<String>,
    helper_dir: Option<PathBuf>,
}

/// Where a registry's credentials are kept, as `config.json` decides.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialStore {
    /// In the file's own `auths` map.
    ConfigFile,
    /// In a credential helper, `docker-credential-<name>`.
    Helper(String),
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

/// The keys hoist reads; the rest of the object is kept, untouched.
#[derive(Debug, Default, serde::Deserialize)]
struct KnownKeys {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

impl DockerConfig {
    /// Where Docker looks: `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
            return Some(PathBuf::from(dir).join("config.json"));
        }
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker/config.json"))
    }

    /// Loads Docker's own file ([`DockerConfig::default_path`]); an absent
    /// file is an empty configuration.
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn load_default() -> Result<DockerConfig> {
        match DockerConfig::default_path() {
            Some(path) => DockerConfig::load(&path),
            None => Ok(DockerConfig::default()),
        }
    }

    /// Loads `path`; an absent file is an empty configuration (which
    /// [`DockerConfig::store`] creates).
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when it cannot be read, [`ErrorKind::InvalidArgument`]
    /// when it is not a JSON object of that shape; both name the path.
    pub fn load(path: &Path) -> Result<DockerConfig> {
        match fs_err::read(path) {
            Ok(bytes) => DockerConfig::parse(&bytes, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DockerConfig {
                origin: path.to_owned(),
                ..DockerConfig::default()
            }),
            Err(e) => Err(Error::new(
                ErrorKind::Io,
                format!("reading Docker's config {}", path.display()),
            )
            .with_source(e)),
        }
    }

    /// Parses the file's bytes; `origin` names it in errors (and is where
    /// [`DockerConfig::store`] writes). An empty file is an empty
    /// configuration, as Docker takes it.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] when it is not a JSON object of that
    /// shape.
    pub fn parse(bytes: &[u8], origin: &Path) -> Result<DockerConfig> {
        let invalid = |detail: &str| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("invalid Docker config {}{detail}", origin.display()),
            )
        };
        let document = if bytes.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(bytes) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err(invalid(": not a JSON object")),
                Err(e) => return Err(invalid("").with_source(e)),
            }
        };
        DockerConfig::from_document(origin.to_owned(), document)
    }

    /// The typed view of `document`.
    fn from_document(origin: PathBuf, document: Map<String, Value>) -> Result<DockerConfig> {
        let known = KnownKeys::deserialize(&Value::Object(document.clone())).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("invalid Docker config {}", origin.display()),
            )
            .with_source(e)
        })?;
        Ok(DockerConfig {
            origin,
            document,
            auths: known
                .auths
                .into_iter()
                .map(|(key, entry)| (DockerConfig::registry_host(&key), entry))
                .collect(),
            cred_helpers: known
                .cred_helpers
                .into_iter()
                .map(|(key, helper)| (DockerConfig::registry_host(&key), helper))
                .collect(),
            creds_store: known.creds_store.filter(|s| !s.is_empty()),
            helper_dir: None,
        })
    }

    /// Looks for `docker-credential-*` programs in `dir` instead of `PATH`.
    #[must_use]
    pub fn with_helper_dir(mut self, dir: impl Into<PathBuf>) -> DockerConfig {
        self.helper_dir = Some(dir.into());
        self
    }

    /// The file this configuration was read from, and is written to.
    pub fn path(&self) -> &Path {
        &self.origin
    }

    /// The host a `config.json` key or a registry argument names: scheme
    /// and path dropped, Docker Hub's aliases (`https://index.docker.io/v1/`,
    /// `index.docker.io`, `registry-1.docker.io`) folded into `docker.io`.
    /// `https://host:5000/v2/` and `host:5000` are one host.
    pub fn registry_host(key: &str) -> String {
        let trimmed = key.trim();
        let without_scheme = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"))
            .unwrap_or(trimmed);
        let host = without_scheme.split('/').next().unwrap_or(without_scheme);
        match host {
            "index.docker.io" | "registry-1.docker.io" | "docker.io" => DOCKER_HUB.to_owned(),
            other => other.to_owned(),
        }
    }

    /// Where `registry`'s credentials are kept: its `credHelpers` entry,
    /// else `credsStore`, else the file itself.
    pub fn storage_for(&self, registry: &str) -> CredentialStore {
        let host = DockerConfig::registry_host(registry);
        if let Some(helper) = self.cred_helpers.get(&host).filter(|h| !h.is_empty()) {
            return CredentialStore::Helper(helper.clone());
        }
        match &self.creds_store {
            Some(store) => CredentialStore::Helper(store.clone()),
            None => CredentialStore::ConfigFile,
        }
    }

    fn helper(&self, name: &str) -> helper::Helper<'_> {
        helper::Helper::new(name, self.helper_dir.as_deref(), &self.origin)
    }
}

/// The key under which Docker keeps `host`'s credentials, in the file and
/// with helpers.
fn config_key(host: &str) -> String {
    if host == DOCKER_HUB {
        DOCKER_HUB_KEY.to_owned()
    } else {
        host.to_owned()
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::path::Path;

    /// Writes an executable `docker-credential-<name>` shell script in `dir`.
    pub(crate) fn write_helper(dir: &Path, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_fold_like_dockers_keys() {
        assert_eq!(
            DockerConfig::registry_host("https://localhost:5000/v2/"),
            "localhost:5000"
        );
        assert_eq!(
            DockerConfig::registry_host(" http://h.example "),
            "h.example"
        );
        assert_eq!(DockerConfig::registry_host("index.docker.io"), "docker.io");
        assert_eq!(DockerConfig::registry_host(DOCKER_HUB_KEY), "docker.io");
        assert_eq!(config_key("docker.io"), DOCKER_HUB_KEY);
        assert_eq!(config_key("ghcr.io"), "ghcr.io");
    }

    #[test]
    fn helpers_named_by_the_file_take_the_credentials() {
        let config = DockerConfig::parse(
            br#"{"credsStore":"desktop","credHelpers":{"https://gcr.io":"gcloud"}}"#,
            Path::new("/test/config.json"),
        )
        .unwrap();
        assert_eq!(
            config.storage_for("gcr.io"),
            CredentialStore::Helper("gcloud".into())
        );
        assert_eq!(
            config.storage_for("ghcr.io"),
            CredentialStore::Helper("desktop".into())
        );
        let plain = DockerConfig::parse(br#"{"credsStore":""}"#, Path::new("/c.json")).unwrap();
        assert_eq!(plain.storage_for("ghcr.io"), CredentialStore::ConfigFile);
    }

    #[test]
    fn what_is_not_an_object_of_that_shape_is_refused_naming_the_file() {
        for bad in [&b"[1]"[..], b"{not json", br#"{"auths":"x"}"#] {
            let error = DockerConfig::parse(bad, Path::new("/x/config.json")).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidArgument);
            assert!(error.to_string().contains("/x/config.json"), "{error}");
        }
        let error = DockerConfig::parse(b"[1]", Path::new("/x.json")).unwrap_err();
        assert!(error.to_string().contains("not a JSON object"), "{error}");
        let empty = DockerConfig::parse(b" \n", Path::new("/x.json")).unwrap();
        assert_eq!(empty.storage_for("ghcr.io"), CredentialStore::ConfigFile);
    }
}
