//! Reading credentials in Docker's order: the host's `credHelpers` entry,
//! else `credsStore`, else `auths` (base64 `user:password`, separate
//! `username`/`password`, or an `identitytoken`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{DockerConfig, config_key};
use crate::auth::credentials::{CredentialProvider, Credentials, Secret};
use crate::error::{Error, ErrorKind, Result};

impl DockerConfig {
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

    /// Asks helper `name` for `host`, under Docker's key for it.
    fn ask_helper(&self, name: &str, host: &str) -> Result<Option<Credentials>> {
        self.helper(name).get(&config_key(host), host)
    }
}

impl CredentialProvider for DockerConfig {
    /// Docker's order: the host's `credHelpers` entry, else `credsStore`,
    /// else `auths`.
    fn credentials(&self, registry: &str) -> Result<Credentials> {
        let host = DockerConfig::registry_host(registry);
        if let Some(helper) = self.cred_helpers.get(&host).filter(|h| !h.is_empty()) {
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::auth::docker_config::test_support::write_helper;

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
