//! [`Store::login`] and [`Store::logout`]: credentials checked by the
//! registry, then kept in (or removed from) the Docker `config.json` the
//! store takes its credentials from, through `hoist_remote`'s
//! [`DockerConfig`] (which keeps unknown keys, honours credential helpers
//! and replaces the file atomically).

use std::path::PathBuf;

use hoist_remote::{CredentialStore, Credentials, DockerConfig};

use crate::error::{Error, ErrorKind, Result};
use crate::options::CredentialsSource;
use crate::store::Store;
use crate::transfer::blocking;

/// Options of [`Store::login`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoginOptions {
    /// Ask the registry to accept the credentials before keeping them (the
    /// default, as `docker login` does). Off, they are kept unchecked: for
    /// a registry that cannot be reached now.
    pub check: bool,
}

impl Default for LoginOptions {
    fn default() -> Self {
        LoginOptions { check: true }
    }
}

impl LoginOptions {
    /// Keeps the credentials without asking the registry.
    #[must_use]
    pub fn unchecked(mut self) -> Self {
        self.check = false;
        self
    }
}

/// What [`Store::login`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoginReport {
    /// The registry host the credentials are for (`docker.io`, `host:port`).
    pub host: String,
    /// Where they were kept: the file's `auths`, or a credential helper.
    pub stored_in: CredentialStore,
    /// The `config.json` that decided where (and holds them, for
    /// [`CredentialStore::ConfigFile`]).
    pub config: PathBuf,
}

impl Store {
    /// Logs in to `host` (`docker.io`, `host:port`; a URL is reduced to its
    /// host): checks `username`/`password` against the registry (unless
    /// [`LoginOptions::check`] is off), then keeps them where the store's
    /// Docker `config.json` says (`credHelpers`, `credsStore`, else its
    /// `auths`). Refused credentials leave the file as it was. Later
    /// registry calls of this store use them.
    ///
    /// # Errors
    /// [`ErrorKind::Unauthenticated`] when the registry refuses them;
    /// [`ErrorKind::InvalidArgument`] for an empty user name or password or
    /// a host that is not one; [`ErrorKind::FailedPrecondition`] when the
    /// store's credentials do not come from a `config.json`
    /// ([`CredentialsSource`]); [`ErrorKind::Unavailable`] for an
    /// unreachable registry; [`ErrorKind::Io`] when the file or the helper
    /// cannot keep them.
    pub async fn login(
        &self,
        host: &str,
        username: &str,
        password: &str,
        options: &LoginOptions,
    ) -> Result<LoginReport> {
        if username.is_empty() || password.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("logging in to {host}: the user name and the password must not be empty"),
            ));
        }
        let path = self.docker_config_path()?;
        let credentials = Credentials::basic(username, password);
        let host = if options.check {
            self.client()?.login(host, credentials.clone()).await?
        } else {
            DockerConfig::registry_host(host)
        };
        let store = self.clone();
        let report = blocking(move || {
            let mut config = DockerConfig::load(&path)?;
            let stored_in = config.store(&host, &credentials)?;
            // The cached client holds the old credentials; the next call
            // builds one that reads the new ones.
            store.forget_client();
            Ok(LoginReport {
                host,
                stored_in,
                config: path,
            })
        })
        .await?;
        Ok(report)
    }

    /// Logs out of `host`: removes its credentials from the store's Docker
    /// `config.json` (every `auths` entry for the host, others kept) and
    /// from the credential helper that holds them. Returns whether there
    /// were any. Synchronous: it may run a helper program.
    ///
    /// # Errors
    /// [`ErrorKind::FailedPrecondition`] when the store's credentials do
    /// not come from a `config.json`; [`ErrorKind::InvalidArgument`] for an
    /// unreadable file or an empty host; [`ErrorKind::Io`] when the file
    /// or the helper cannot be changed.
    pub fn logout(&self, host: &str) -> Result<bool> {
        let path = self.docker_config_path()?;
        let removed = DockerConfig::load(&path)?.erase(host)?;
        self.forget_client();
        Ok(removed)
    }

    /// The `config.json` of the store's [`CredentialsSource`].
    fn docker_config_path(&self) -> Result<PathBuf> {
        match &self.options().credentials {
            CredentialsSource::DockerConfig => DockerConfig::default_path().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    "cannot find Docker's config.json: set DOCKER_CONFIG or HOME",
                )
            }),
            CredentialsSource::DockerConfigAt(path) => Ok(path.clone()),
            other => Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "the store's credentials come from {other:?}, not a Docker config.json: there is nowhere to keep a login"
                ),
            )),
        }
    }
}
