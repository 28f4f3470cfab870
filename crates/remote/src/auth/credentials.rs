//! Credentials, kept in a type that never prints its secret, and where they
//! come from: a fixed map, or Docker's `config.json`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::error::Result;

/// A secret string that prints as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What to authenticate to a registry with.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Credentials {
    /// No credentials: anonymous access (a token service may still grant a
    /// token for public pulls).
    #[default]
    Anonymous,
    /// A user name and password (or personal access token).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// An OAuth2 refresh token (Docker's `identitytoken`), exchanged for
    /// access tokens by `POST` with `grant_type=refresh_token`.
    IdentityToken(Secret),
}

impl Credentials {
    /// Basic credentials.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials::Basic {
            username: username.into(),
            password: Secret::new(password),
        }
    }

    /// Whether these are [`Credentials::Anonymous`].
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Credentials::Anonymous)
    }
}

/// Supplies credentials for a registry host (as written in references:
/// `docker.io`, `host:port`).
///
/// Called at most once per host per [`crate::Client`], off the async
/// executor (it may run a credential helper program).
pub trait CredentialProvider: Send + Sync + 'static {
    /// The credentials for `registry`; [`Credentials::Anonymous`] when none
    /// are configured.
    ///
    /// # Errors
    /// When a configured source (a helper program) fails.
    fn credentials(&self, registry: &str) -> Result<Credentials>;
}

/// A fixed map from registry host to credentials; anonymous elsewhere.
#[derive(Clone, Debug, Default)]
pub struct StaticCredentials {
    by_host: HashMap<String, Credentials>,
}

impl StaticCredentials {
    /// An empty map: anonymous everywhere.
    pub fn new() -> StaticCredentials {
        StaticCredentials::default()
    }

    /// Adds credentials for `registry`.
    pub fn with(mut self, registry: &str, credentials: Credentials) -> StaticCredentials {
        self.by_host.insert(registry.to_owned(), credentials);
        self
    }
}

impl CredentialProvider for StaticCredentials {
    fn credentials(&self, registry: &str) -> Result<Credentials> {
        Ok(self.by_host.get(registry).cloned().unwrap_or_default())
    }
}

impl<T: CredentialProvider> CredentialProvider for Arc<T> {
    fn credentials(&self, registry: &str) -> Result<Credentials> {
        self.as_ref().credentials(registry)
    }
}
