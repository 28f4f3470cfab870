//! `config.json` as a JSON object: read, change one registry, write back.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::{config_key, helper, registry_host};

/// Where a registry's credentials are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// In the file's `auths` map.
    File,
    /// In a credential helper (`docker-credential-<name>`).
    Helper(String),
}

/// Docker's `config.json`, loaded for editing.
#[derive(Debug)]
pub struct ConfigFile {
    path: PathBuf,
    root: Map<String, Value>,
}

impl ConfigFile {
    /// Docker's file: `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`.
    ///
    /// # Errors
    /// When neither variable is set, or as [`ConfigFile::load`].
    pub fn load_default() -> anyhow::Result<ConfigFile> {
        let Some(path) = hoist::remote::DockerConfig::default_path() else {
            bail!("cannot find Docker's config.json: set DOCKER_CONFIG or HOME");
        };
        ConfigFile::load(&path)
    }

    /// Loads `path`; an absent file is an empty object.
    ///
    /// # Errors
    /// When the file cannot be read or is not a JSON object.
    pub fn load(path: &Path) -> anyhow::Result<ConfigFile> {
        let root = match fs_err::read(path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Map::new(),
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => map,
                Ok(_) => bail!("{} is not a JSON object", path.display()),
                Err(e) => {
                    return Err(e).with_context(|| format!("{} is not valid JSON", path.display()));
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(ConfigFile {
            path: path.to_owned(),
            root,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where `host`'s credentials go: its `credHelpers` entry, else
    /// `credsStore`, else the file.
    pub fn storage_for(&self, host: &str) -> Storage {
        let helpers = self.root.get("credHelpers").and_then(Value::as_object);
        if let Some(helpers) = helpers {
            for (key, value) in helpers {
                if registry_host(key) == host
                    && let Some(name) = value.as_str().filter(|n| !n.is_empty())
                {
                    return Storage::Helper(name.to_owned());
                }
            }
        }
        match self.root.get("credsStore").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => Storage::Helper(name.to_owned()),
            _ => Storage::File,
        }
    }

    /// Stores `username`/`password` for `host` (in the helper the file
    /// names, else in `auths`) and writes the file when it changed.
    ///
    /// # Errors
    /// When the helper fails or the file cannot be written.
    pub fn store(&mut self, host: &str, username: &str, password: &str) -> anyhow::Result<Storage> {
        let storage = self.storage_for(host);
        match &storage {
            Storage::Helper(name) => helper::store(name, &config_key(host), username, password)?,
            Storage::File => {
                self.remove_entries(host);
                let encoded = STANDARD.encode(format!("{username}:{password}"));
                let mut entry = Map::new();
                entry.insert("auth".to_owned(), Value::String(encoded));
                self.auths_mut()?
                    .insert(config_key(host), Value::Object(entry));
                self.save()?;
            }
        }
        Ok(storage)
    }

    /// Removes `host`'s credentials; returns whether there were any.
    ///
    /// # Errors
    /// When the helper fails or the file cannot be written.
    pub fn erase(&mut self, host: &str) -> anyhow::Result<bool> {
        let mut found = false;
        if let Storage::Helper(name) = self.storage_for(host) {
            found |= helper::erase(&name, &config_key(host))?;
        }
        if self.remove_entries(host) {
            found = true;
            self.save()?;
        }
        Ok(found)
    }

    /// Drops every `auths` key that names `host` (`http://host`,
    /// `https://host/v1/`, …), so the new entry is the only one.
    fn remove_entries(&mut self, host: &str) -> bool {
        let Some(Value::Object(auths)) = self.root.get_mut("auths") else {
            return false;
        };
        let before = auths.len();
        auths.retain(|key, _| registry_host(key) != host);
        auths.len() != before
    }

    fn auths_mut(&mut self) -> anyhow::Result<&mut Map<String, Value>> {
        let auths = self
            .root
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        match auths {
            Value::Object(map) => Ok(map),
            _ => bail!("{}: \"auths\" is not an object", self.path.display()),
        }
    }

    /// Writes the file: a temporary file in the same folder, mode 0600,
    /// fsynced, renamed over the old one (so a crash leaves the old file or
    /// the new one, never half of either), then the folder fsynced so the
    /// rename itself survives a crash.
    fn save(&self) -> anyhow::Result<()> {
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let mut temp = tempfile::Builder::new()
            .prefix(".config.json.")
            .tempfile_in(dir)
            .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
        set_private(temp.path())?;
        let mut bytes = serde_json::to_vec_pretty(&Value::Object(self.root.clone()))
            .context("serializing config.json")?;
        bytes.push(b'\n');
        temp.write_all(&bytes)
            .and_then(|()| temp.as_file().sync_all())
            .with_context(|| format!("writing {}", temp.path().display()))?;
        temp.persist(&self.path)
            .with_context(|| format!("replacing {}", self.path.display()))?;
        if let Ok(handle) = fs_err::File::open(dir) {
            handle
                .sync_all()
                .with_context(|| format!("syncing {}", dir.display()))?;
        }
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs_err::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn set_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut file = ConfigFile::load(&path).unwrap();
        assert_eq!(
            file.store("localhost:5000", "alice", "s3cret").unwrap(),
            Storage::File
        );

        let saved: Value = serde_json::from_slice(&fs_err::read(&path).unwrap()).unwrap();
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

        let config = hoist::remote::DockerConfig::load(&path).unwrap();
        let credentials =
            hoist::remote::CredentialProvider::credentials(&config, "localhost:5000").unwrap();
        assert!(
            matches!(credentials, hoist::remote::Credentials::Basic { ref username, .. } if username == "alice")
        );

        let mut file = ConfigFile::load(&path).unwrap();
        assert!(file.erase("localhost:5000").unwrap());
        assert!(!file.erase("localhost:5000").unwrap());
        let saved: Value = serde_json::from_slice(&fs_err::read(&path).unwrap()).unwrap();
        assert!(saved["auths"].get("localhost:5000").is_none());
        assert_eq!(saved["proxies"]["default"]["httpProxy"], "x");
    }

    #[test]
    fn a_missing_file_is_created_and_garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/config.json");
        let mut file = ConfigFile::load(&path).unwrap();
        file.store("docker.io", "bob", "pw").unwrap();
        let saved: Value = serde_json::from_slice(&fs_err::read(&path).unwrap()).unwrap();
        assert!(saved["auths"][super::super::DOCKER_HUB_KEY]["auth"].is_string());

        fs_err::write(&path, "[1]").unwrap();
        let error = ConfigFile::load(&path).unwrap_err();
        assert!(error.to_string().contains("not a JSON object"), "{error}");
    }

    #[test]
    fn helpers_named_by_the_file_take_the_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs_err::write(
            &path,
            r#"{"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"}}"#,
        )
        .unwrap();
        let file = ConfigFile::load(&path).unwrap();
        assert_eq!(file.storage_for("gcr.io"), Storage::Helper("gcloud".into()));
        assert_eq!(
            file.storage_for("ghcr.io"),
            Storage::Helper("desktop".into())
        );
    }
}
