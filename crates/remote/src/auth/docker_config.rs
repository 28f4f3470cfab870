//! Docker's `config.json`: `auths` (base64 `user:password`, or an
//! `identitytoken`), `credHelpers` (per host) and `credsStore` (for all
//! hosts), the last two through `docker-credential-<name> get` programs.
//!
//! Read only: hoist never writes this file here. The `docker_credential`
//! crate does the same reading but takes the file's location from the
//! environment alone, which neither tests nor an embedding program can
//! redirect safely, so this small reader takes a path.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::auth::credentials::{CredentialProvider, Credentials, Secret};
use crate::error::{Error, ErrorKind, Result};
use crate::reference::DOCKER_HUB;

/// The key Docker uses for Docker Hub in `config.json` and with helpers.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// The parsed `config.json`.
#[derive(Debug, Clone, Default)]
pub struct DockerConfig {
    origin: PathBuf,
    auths: HashMap<String, AuthEntry>,
    cred_helpers: HashMap<String, String>,
    creds_store: Option<String>,
    helper_dir: Option<PathBuf>,
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

#[derive(Debug, Default, serde::Deserialize)]
struct File {
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

    /// Loads `path`; an absent file is an empty configuration.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when it cannot be read, [`ErrorKind::InvalidArgument`]
    /// when it is not valid JSON of that shape.
    pub fn load(path: &Path) -> Result<DockerConfig> {
        match fs_err::read(path) {
            Ok(bytes) => DockerConfig::parse(&bytes, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DockerConfig {
                origin: path.to_owned(),
                ..DockerConfig::default()
            }),
            Err(e) => Err(Error::new(ErrorKind::Io, "reading Docker's config").with_source(e)),
        }
    }

    /// Parses the file's bytes; `origin` names it in errors.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] when it is not valid JSON of that shape.
    pub fn parse(bytes: &[u8], origin: &Path) -> Result<DockerConfig> {
        let file: File = serde_json::from_slice(bytes).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("invalid Docker config {}", origin.display()),
            )
            .with_source(e)
        })?;
        Ok(DockerConfig {
            origin: origin.to_owned(),
            auths: file
                .auths
                .into_iter()
                .map(|(key, entry)| (normalize_key(&key), entry))
                .collect(),
            cred_helpers: file
                .cred_helpers
                .into_iter()
                .map(|(key, helper)| (normalize_key(&key), helper))
                .collect(),
            creds_store: file.creds_store.filter(|s| !s.is_empty()),
            helper_dir: None,
        })
    }

    /// Looks for `docker-credential-*` programs in `dir` instead of `PATH`.
    pub fn with_helper_dir(mut self, dir: impl Into<PathBuf>) -> DockerConfig {
        self.helper_dir = Some(dir.into());
        self
    }

    fn lookup_auths(&self, host: &str) -> Result<Credentials> {
        let Some(entry) = self.auths.get(host) else {
            return Ok(Credentials::Anonymous);
        };
        if let Some(token) = entry.identity_token.as_deref().filter(|t| !t.is_empty()) {
            return Ok(Credentials::IdentityToken(Secret::new(token)));
        }
        if let Some(encoded) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            let invalid = || {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "invalid Docker config {}: auths.{host}.auth is not base64 of \"user:password\"",
                        self.origin.display()
                    ),
                )
            };
            let decoded = STANDARD.decode(encoded.trim()).map_err(|_| invalid())?;
            let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
            let (username, password) = decoded.split_once(':').ok_or_else(invalid)?;
            return Ok(Credentials::basic(username, password));
        }
        match (&entry.username, &entry.password) {
            (Some(username), Some(password)) if !username.is_empty() => {
                Ok(Credentials::basic(username.as_str(), password.as_str()))
            }
            _ => Ok(Credentials::Anonymous),
        }
    }

    fn ask_helper(&self, helper: &str, host: &str) -> Result<Option<Credentials>> {
        let program_name = format!("docker-credential-{helper}");
        let program = match &self.helper_dir {
            Some(dir) => dir.join(&program_name),
            None => PathBuf::from(&program_name),
        };
        let server_url = if host == DOCKER_HUB {
            DOCKER_HUB_KEY
        } else {
            host
        };
        let failed = |detail: String| {
            Error::new(
                ErrorKind::Unauthenticated,
                format!(
                    "credential helper {program_name} (from {}) for {host}: {detail}",
                    self.origin.display()
                ),
            )
        };
        let mut child = Command::new(&program)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(format!("cannot run it: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            match stdin.write_all(server_url.as_bytes()) {
                // A helper may exit without reading; its status says why.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(failed(format!("writing its input: {e}")));
                }
                _ => {}
            }
        }
        let output = child
            .wait_with_output()
            .map_err(|e| failed(format!("waiting for it: {e}")))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            // The helpers' protocol: this message means "nothing stored".
            if stdout.contains("credentials not found") {
                return Ok(None);
            }
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(failed(format!(
                "{}: {} {}",
                output.status,
                stdout.trim(),
                stderr.trim()
            )));
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(rename = "Username", default)]
            username: String,
            #[serde(rename = "Secret", default)]
            secret: String,
        }
        let answer: Answer = serde_json::from_slice(&output.stdout)
            .map_err(|e| failed(format!("its answer is not the expected JSON: {e}")))?;
        Ok(Some(if answer.username == "<token>" {
            Credentials::IdentityToken(Secret::new(answer.secret))
        } else {
            Credentials::Basic {
                username: answer.username,
                password: Secret::new(answer.secret),
            }
        }))
    }
}

impl CredentialProvider for DockerConfig {
    /// Docker's order: the host's `credHelpers` entry, else `credsStore`,
    /// else `auths`.
    fn credentials(&self, registry: &str) -> Result<Credentials> {
        let host = normalize_key(registry);
        if let Some(helper) = self.cred_helpers.get(&host) {
            return Ok(self.ask_helper(helper, &host)?.unwrap_or_default());
        }
        if let Some(store) = &self.creds_store
            && let Some(found) = self.ask_helper(store, &host)?
        {
            return Ok(found);
        }
        self.lookup_auths(&host)
    }
}

/// `https://index.docker.io/v1/` and `docker.io` are one key; so are
/// `https://host:5000` and `host:5000`.
fn normalize_key(key: &str) -> String {
    let without_scheme = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = without_scheme.split('/').next().unwrap_or(without_scheme);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => DOCKER_HUB.to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> DockerConfig {
        DockerConfig::parse(json.as_bytes(), Path::new("/test/config.json")).unwrap()
    }

    #[test]
    fn auths_entries_decode_and_keys_normalize() {
        let c = config(
            r#"{"auths":{
                "https://index.docker.io/v1/":{"auth":"YWxpY2U6czNjcjN0"},
                "http://127.0.0.1:5000":{"username":"bob","password":"pw"},
                "ghcr.io":{"identitytoken":"refresh-me"},
                "empty.example":{}
            }}"#,
        );
        assert_eq!(
            c.credentials("docker.io").unwrap(),
            Credentials::basic("alice", "s3cr3t")
        );
        assert_eq!(
            c.credentials("127.0.0.1:5000").unwrap(),
            Credentials::basic("bob", "pw")
        );
        assert_eq!(
            c.credentials("ghcr.io").unwrap(),
            Credentials::IdentityToken(Secret::new("refresh-me"))
        );
        assert_eq!(
            c.credentials("empty.example").unwrap(),
            Credentials::Anonymous
        );
        assert_eq!(
            c.credentials("elsewhere.example").unwrap(),
            Credentials::Anonymous
        );
    }

    #[test]
    fn bad_auth_values_name_the_file_and_host() {
        let c = config(r#"{"auths":{"h.example":{"auth":"bm9jb2xvbg=="}}}"#);
        let error = c.credentials("h.example").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert!(error.to_string().contains("/test/config.json"), "{error}");
        assert!(error.to_string().contains("h.example"), "{error}");
        let error = DockerConfig::parse(b"{not json", Path::new("/x.json")).unwrap_err();
        assert!(error.to_string().contains("/x.json"));
    }

    #[test]
    fn a_missing_file_is_an_empty_config() {
        let dir = tempfile::tempdir().unwrap();
        let c = DockerConfig::load(&dir.path().join("absent.json")).unwrap();
        assert_eq!(c.credentials("docker.io").unwrap(), Credentials::Anonymous);
    }

    #[test]
    fn secrets_do_not_print() {
        let text = format!("{:?}", Credentials::basic("alice", "hunter2"));
        assert!(!text.contains("hunter2"), "{text}");
    }

    fn write_helper(dir: &Path, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn helpers_are_asked_in_dockers_order() {
        let dir = tempfile::tempdir().unwrap();
        // Answers for the server URL it is given; "not found" otherwise.
        write_helper(
            dir.path(),
            "fake",
            "#!/bin/sh\nread url\ncase \"$url\" in\n\
             https://index.docker.io/v1/) echo '{\"ServerURL\":\"x\",\"Username\":\"hub\",\"Secret\":\"hubpw\"}';;\n\
             tok.example) echo '{\"ServerURL\":\"x\",\"Username\":\"<token>\",\"Secret\":\"rt\"}';;\n\
             *) echo 'credentials not found in native keychain'; exit 1;;\nesac\n",
        );
        write_helper(dir.path(), "broken", "#!/bin/sh\necho boom >&2\nexit 3\n");
        let c = config(
            r#"{"auths":{"plain.example":{"auth":"dTpw"}},
                "credHelpers":{"docker.io":"fake","tok.example":"fake","bad.example":"broken"},
                "credsStore":"fake"}"#,
        )
        .with_helper_dir(dir.path());
        assert_eq!(
            c.credentials("docker.io").unwrap(),
            Credentials::basic("hub", "hubpw")
        );
        assert_eq!(
            c.credentials("tok.example").unwrap(),
            Credentials::IdentityToken(Secret::new("rt"))
        );
        // The store knows nothing of it: auths is the fallback.
        assert_eq!(
            c.credentials("plain.example").unwrap(),
            Credentials::basic("u", "p")
        );
        let error = c.credentials("bad.example").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unauthenticated);
        assert!(error.to_string().contains("boom"), "{error}");
        let missing =
            config(r#"{"credHelpers":{"x.example":"absent"}}"#).with_helper_dir(dir.path());
        assert!(
            missing
                .credentials("x.example")
                .unwrap_err()
                .to_string()
                .contains("docker-credential-absent")
        );
    }
}
