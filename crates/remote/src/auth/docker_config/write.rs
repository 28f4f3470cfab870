//! Storing and erasing one registry's credentials, for `login` and
//! `logout`: in the credential helper the file names for the registry, or
//! in the file's `auths` map.
//!
//! The file is edited as a JSON object and written back whole with only
//! that registry's entries changed, so keys hoist does not know
//! (`proxies`, `HttpHeaders`, `credsStore`, other registries' entries, …)
//! stay. Every `auths` key that names the registry (`http://host`,
//! `https://host/v1/`, …) is removed first, so the new entry is the only
//! one and no stale alias shadows it.
//!
//! # Crash safety
//!
//! The file holds passwords and other tools read it at any moment, so it is
//! never written in place. [`DockerConfig::save`]:
//!
//! 1. creates a temporary file in the same folder (so the rename below
//!    stays in one file system), mode 0600 from the start, so no other
//!    user can read it at any point;
//! 2. writes the whole document and fsyncs the file: its bytes are durable
//!    before any name points at them;
//! 3. renames it over `config.json` (`rename(2)` is atomic: a reader, or a
//!    crash, sees the old file or the new one, never half of either);
//! 4. fsyncs the folder, so the rename itself survives a crash.
//!
//! A crash before 3 leaves the old file and a stray `.config.json.*`
//! temporary file; after 3, the new file. A `config.json` that is a
//! symbolic link is followed (as Docker does), so the link stays and its
//! target is replaced. Two logins racing in two processes may lose one of
//! the two changes (the last rename wins), as with Docker; neither leaves a
//! damaged file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::helper::TOKEN_USER;
use super::{CredentialStore, DockerConfig, config_key};
use crate::auth::credentials::Credentials;
use crate::error::{Error, ErrorKind, Result};

impl DockerConfig {
    /// Stores `credentials` for `registry` (a host as references name it,
    /// or a `config.json` key): in the helper [`DockerConfig::storage_for`]
    /// names, else in `auths`, replacing every entry for that host and
    /// writing the file atomically. Returns where they went.
    ///
    /// Basic credentials are kept as Docker keeps them (`auth`: base64 of
    /// `user:password`), an identity token as `identitytoken` (with a
    /// helper: user name `<token>`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for an empty registry, anonymous
    /// credentials, or an `auths` that is not an object;
    /// [`ErrorKind::Io`] when the file cannot be written or the helper
    /// fails. On error the file is as it was.
    pub fn store(&mut self, registry: &str, credentials: &Credentials) -> Result<CredentialStore> {
        let host = host_of(registry)?;
        let (username, secret) = match credentials {
            Credentials::Basic { username, password } => (username.as_str(), password.expose()),
            Credentials::IdentityToken(token) => (TOKEN_USER, token.expose()),
            Credentials::Anonymous => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("no credentials to store for {host}: they are anonymous"),
                ));
            }
        };
        let storage = self.storage_for(&host);
        match &storage {
            CredentialStore::Helper(name) => {
                self.helper(name)
                    .store(&config_key(&host), &host, username, secret)?;
            }
            CredentialStore::ConfigFile => {
                let mut document = self.document.clone();
                remove_entries(&mut document, &host);
                let entry = match credentials {
                    Credentials::IdentityToken(token) => {
                        serde_json::json!({ "identitytoken": token.expose() })
                    }
                    _ => serde_json::json!({
                        "auth": STANDARD.encode(format!("{username}:{secret}"))
                    }),
                };
                self.auths_of(&mut document)?
                    .insert(config_key(&host), entry);
                self.replace(document)?;
            }
        }
        Ok(storage)
    }

    /// Removes `registry`'s credentials: from the helper that holds them,
    /// and every `auths` entry for that host (writing the file atomically
    /// when one was there). Returns whether there were any.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for an empty registry;
    /// [`ErrorKind::Io`] when the file cannot be written or the helper
    /// fails.
    pub fn erase(&mut self, registry: &str) -> Result<bool> {
        let host = host_of(registry)?;
        let mut found = false;
        if let CredentialStore::Helper(name) = self.storage_for(&host) {
            found |= self.helper(&name).erase(&config_key(&host), &host)?;
        }
        let mut document = self.document.clone();
        if remove_entries(&mut document, &host) {
            self.replace(document)?;
            found = true;
        }
        Ok(found)
    }

    /// `document`'s `auths` object, created when absent.
    fn auths_of<'d>(
        &self,
        document: &'d mut Map<String, Value>,
    ) -> Result<&'d mut Map<String, Value>> {
        let auths = document
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        match auths {
            Value::Object(map) => Ok(map),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "invalid Docker config {}: \"auths\" is not an object",
                    self.origin.display()
                ),
            )),
        }
    }

    /// Saves `document` and makes it this configuration (only once it is
    /// on disk, so a failed save changes nothing here either).
    fn replace(&mut self, document: Map<String, Value>) -> Result<()> {
        let updated = DockerConfig {
            helper_dir: self.helper_dir.clone(),
            ..DockerConfig::from_document(self.origin.clone(), document)?
        };
        updated.save()?;
        *self = updated;
        Ok(())
    }

    /// Writes the document to its path; see the module's crash-safety
    /// argument for the order.
    fn save(&self) -> Result<()> {
        if self.origin.as_os_str().is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "cannot find Docker's config.json to write: set DOCKER_CONFIG or HOME",
            ));
        }
        let target = follow_link(&self.origin)?;
        let dir = target
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let mut bytes = serde_json::to_vec_pretty(&Value::Object(self.document.clone()))
            .map_err(|e| io_error("serializing", &target, e))?;
        bytes.push(b'\n');
        // tempfile creates the file with mode 0600 (O_EXCL, in `dir`).
        let mut temp = tempfile::Builder::new()
            .prefix(".config.json.")
            .tempfile_in(dir)
            .map_err(|e| io_error("creating a temporary file in", dir, e))?;
        set_private(temp.path())?;
        temp.write_all(&bytes)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| io_error("writing", temp.path(), e))?;
        temp.persist(&target)
            .map_err(|e| io_error("replacing", &target, e.error))?;
        fs_err::File::open(dir)
            .and_then(|handle| handle.sync_all())
            .map_err(|e| io_error("syncing the folder", dir, e))?;
        Ok(())
    }
}

/// The host `registry` names; an empty one is refused.
fn host_of(registry: &str) -> Result<String> {
    let host = DockerConfig::registry_host(registry);
    if host.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("invalid registry {registry:?}: it names no host"),
        ));
    }
    Ok(host)
}

/// Drops every `auths` key of `document` that names `host`; returns
/// whether there was one.
fn remove_entries(document: &mut Map<String, Value>, host: &str) -> bool {
    let Some(Value::Object(auths)) = document.get_mut("auths") else {
        return false;
    };
    let before = auths.len();
    auths.retain(|key, _| DockerConfig::registry_host(key) != host);
    auths.len() != before
}

/// Where `path` points when it is a symbolic link (one level, relative to
/// its folder, as Docker follows it); `path` itself otherwise.
fn follow_link(path: &Path) -> Result<PathBuf> {
    match fs_err::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            let link =
                fs_err::read_link(path).map_err(|e| io_error("reading the link", path, e))?;
            Ok(match path.parent() {
                Some(parent) if link.is_relative() => parent.join(link),
                _ => link,
            })
        }
        _ => Ok(path.to_owned()),
    }
}

/// Creates `dir` (mode 0700: it holds credentials) when it is missing.
fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs_err::create_dir_all(dir).map_err(|e| io_error("creating", dir, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| io_error("restricting", dir, e))?;
    }
    Ok(())
}

/// Mode 0600, whatever the umask made of it.
fn set_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io_error("restricting", path, e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn io_error(
    what: &str,
    path: &Path,
    cause: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::new(ErrorKind::Io, format!("{what} {}", path.display())).with_source(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::credentials::{CredentialProvider, Secret};
    use crate::auth::docker_config::test_support::write_helper;

    fn read_json(path: &Path) -> Value {
        serde_json::from_slice(&fs_err::read(path).unwrap()).unwrap()
    }

    #[test]
    fn store_keeps_unknown_keys_and_replaces_aliases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker/config.json");
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(
            &path,
            r#"{"auths":{"http://localhost:5000":{"auth":"b2xkOm9sZA=="},"other.io":{"auth":"eDp5"}},"proxies":{"default":{"httpProxy":"x"}},"HttpHeaders":{"A":"b"}}"#,
        )
        .unwrap();
        let mut file = DockerConfig::load(&path).unwrap();
        assert_eq!(
            file.store("localhost:5000", &Credentials::basic("alice", "s3cret"))
                .unwrap(),
            CredentialStore::ConfigFile
        );
        // The loaded configuration sees what it wrote.
        assert_eq!(
            file.credentials("localhost:5000").unwrap(),
            Credentials::basic("alice", "s3cret")
        );

        let saved = read_json(&path);
        assert_eq!(saved["proxies"]["default"]["httpProxy"], "x");
        assert_eq!(saved["HttpHeaders"]["A"], "b");
        assert_eq!(saved["auths"]["other.io"]["auth"], "eDp5");
        assert!(saved["auths"].get("http://localhost:5000").is_none());
        assert_eq!(
            saved["auths"]["localhost:5000"]["auth"],
            STANDARD.encode("alice:s3cret")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs_err::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temporary file is left beside it.
        let names: Vec<_> = fs_err::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("config.json")]);

        let config = DockerConfig::load(&path).unwrap();
        assert_eq!(
            config.credentials("localhost:5000").unwrap(),
            Credentials::basic("alice", "s3cret")
        );

        let mut file = DockerConfig::load(&path).unwrap();
        assert!(file.erase("localhost:5000").unwrap());
        assert!(!file.erase("localhost:5000").unwrap());
        let saved = read_json(&path);
        assert!(saved["auths"].get("localhost:5000").is_none());
        assert_eq!(saved["auths"]["other.io"]["auth"], "eDp5");
        assert_eq!(saved["proxies"]["default"]["httpProxy"], "x");
        assert_eq!(
            file.credentials("localhost:5000").unwrap(),
            Credentials::Anonymous
        );
    }

    #[test]
    fn a_missing_file_is_created_and_garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/config.json");
        let mut file = DockerConfig::load(&path).unwrap();
        file.store("docker.io", &Credentials::basic("bob", "pw"))
            .unwrap();
        let saved = read_json(&path);
        assert!(saved["auths"][super::super::DOCKER_HUB_KEY]["auth"].is_string());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs_err::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }

        fs_err::write(&path, "[1]").unwrap();
        let error = DockerConfig::load(&path).unwrap_err();
        assert!(error.to_string().contains("not a JSON object"), "{error}");
    }

    #[test]
    fn identity_tokens_and_anonymous() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let mut file = DockerConfig::load(&path).unwrap();
        file.store(
            "https://ghcr.io",
            &Credentials::IdentityToken(Secret::new("refresh")),
        )
        .unwrap();
        assert_eq!(
            read_json(&path)["auths"]["ghcr.io"]["identitytoken"],
            "refresh"
        );
        assert_eq!(
            DockerConfig::load(&path)
                .unwrap()
                .credentials("ghcr.io")
                .unwrap(),
            Credentials::IdentityToken(Secret::new("refresh"))
        );
        let before = fs_err::read(&path).unwrap();
        let error = file.store("ghcr.io", &Credentials::Anonymous).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        let error = file.store("", &Credentials::basic("a", "b")).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert_eq!(fs_err::read(&path).unwrap(), before);
    }

    #[test]
    fn a_symbolic_link_is_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/docker.json");
        fs_err::create_dir_all(real.parent().unwrap()).unwrap();
        fs_err::write(&real, r#"{"detachKeys":"ctrl-x"}"#).unwrap();
        let link = dir.path().join("config.json");
        std::os::unix::fs::symlink("dotfiles/docker.json", &link).unwrap();
        let mut file = DockerConfig::load(&link).unwrap();
        file.store("h.example", &Credentials::basic("u", "p"))
            .unwrap();
        assert!(
            fs_err::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let saved = read_json(&real);
        assert_eq!(saved["detachKeys"], "ctrl-x");
        assert!(saved["auths"]["h.example"]["auth"].is_string());
    }

    #[test]
    fn a_file_that_cannot_be_replaced_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be: the rename fails.
        let path = dir.path().join("config.json");
        fs_err::create_dir(&path).unwrap();
        let mut file = DockerConfig::parse(b"{}", &path).unwrap();
        let error = file
            .store("h.example", &Credentials::basic("u", "p"))
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Io);
        assert!(error.to_string().contains("config.json"), "{error}");
        assert_eq!(
            file.credentials("h.example").unwrap(),
            Credentials::Anonymous
        );
    }

    #[test]
    fn helpers_store_and_erase_and_their_failures_name_them() {
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("kept");
        // A helper that keeps one login in a file: store writes its input,
        // get prints it back, erase removes it.
        write_helper(
            dir.path(),
            "file",
            &format!(
                "#!/bin/sh\nkept={kept}\ncase \"$1\" in\n\
                 store) cat > \"$kept\";;\n\
                 get) if [ -f \"$kept\" ]; then cat \"$kept\"; else echo 'credentials not found in native keychain'; exit 1; fi;;\n\
                 erase) if [ -f \"$kept\" ]; then rm \"$kept\"; else echo 'credentials not found in native keychain'; exit 1; fi;;\n\
                 esac\n",
                kept = kept.display()
            ),
        );
        write_helper(dir.path(), "broken", "#!/bin/sh\necho boom >&2\nexit 3\n");
        let path = dir.path().join("config.json");
        let original = br#"{"credsStore":"file","credHelpers":{"bad.example":"broken"}}"#;
        fs_err::write(&path, original).unwrap();
        let mut config = DockerConfig::load(&path)
            .unwrap()
            .with_helper_dir(dir.path());

        assert_eq!(
            config
                .store("docker.io", &Credentials::basic("hub", "pw"))
                .unwrap(),
            CredentialStore::Helper("file".into())
        );
        let given = read_json(&kept);
        assert_eq!(given["ServerURL"], super::super::DOCKER_HUB_KEY);
        assert_eq!(given["Username"], "hub");
        assert_eq!(
            config.credentials("docker.io").unwrap(),
            Credentials::basic("hub", "pw")
        );
        // The file itself was not touched.
        assert_eq!(fs_err::read(&path).unwrap(), original);

        assert!(config.erase("docker.io").unwrap());
        assert!(!kept.exists());
        assert!(!config.erase("docker.io").unwrap());

        let error = config
            .store("bad.example", &Credentials::basic("u", "p"))
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Io);
        let text = error.to_string();
        assert!(text.contains("docker-credential-broken store"), "{text}");
        assert!(
            text.contains("bad.example") && text.contains("boom"),
            "{text}"
        );
        let error = config.erase("bad.example").unwrap_err();
        assert!(
            error.to_string().contains("docker-credential-broken erase"),
            "{error}"
        );
    }
}
