//! Authentication: anonymous, Basic, and bearer tokens fetched as the
//! registry's challenge asks, cached per registry and scope until they
//! expire. Credentials come from a [`CredentialProvider`], asked once per
//! host.

pub(crate) mod challenge;
pub(crate) mod credentials;
pub(crate) mod docker_config;
pub(crate) mod scope;
pub(crate) mod token;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::auth::challenge::Challenge;
use crate::auth::credentials::{CredentialProvider, Credentials, Secret};
use crate::auth::scope::Scopes;
use crate::auth::token::{TokenMethod, TokenRequest, fetch_token};
use crate::error::{Error, ErrorKind, Result};

/// A token kept for reuse.
struct CachedToken {
    scopes: Scopes,
    token: Secret,
    expires_at: Instant,
}

/// What is known about one host's auth.
#[derive(Default)]
struct HostAuth {
    challenge: Mutex<Option<Challenge>>,
    tokens: Mutex<Vec<CachedToken>>,
    /// Serializes token fetches, so parallel requests for one scope fetch
    /// one token and share it.
    fetching: tokio::sync::Mutex<()>,
}

/// The credentials cache, challenge memory and token cache of a client.
pub(crate) struct Authenticator {
    provider: Arc<dyn CredentialProvider>,
    method: TokenMethod,
    idle_timeout: Duration,
    credentials: Mutex<HashMap<String, Credentials>>,
    hosts: Mutex<HashMap<String, Arc<HostAuth>>>,
}

/// The `Authorization` value used for a request, remembered so a 401 can
/// drop exactly that token.
#[derive(Debug, Clone, Default)]
pub(crate) struct Attempt {
    pub header: Option<String>,
}

impl Authenticator {
    pub(crate) fn new(
        provider: Arc<dyn CredentialProvider>,
        method: TokenMethod,
        idle_timeout: Duration,
    ) -> Authenticator {
        Authenticator {
            provider,
            method,
            idle_timeout,
            credentials: Mutex::new(HashMap::new()),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn host(&self, authority: &str) -> Arc<HostAuth> {
        let Ok(mut hosts) = self.hosts.lock() else {
            return Arc::new(HostAuth::default());
        };
        Arc::clone(hosts.entry(authority.to_owned()).or_default())
    }

    /// The credentials for `authority`, asking the provider (off the
    /// executor: it may run a helper program) the first time.
    pub(crate) async fn credentials(&self, authority: &str) -> Result<Credentials> {
        if let Ok(cache) = self.credentials.lock()
            && let Some(found) = cache.get(authority)
        {
            return Ok(found.clone());
        }
        let provider = Arc::clone(&self.provider);
        let host = authority.to_owned();
        let found = tokio::task::spawn_blocking(move || provider.credentials(&host))
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Unauthenticated,
                    format!("looking up credentials for {authority}"),
                )
                .with_source(e)
            })??;
        if let Ok(mut cache) = self.credentials.lock() {
            cache.insert(authority.to_owned(), found.clone());
        }
        Ok(found)
    }

    /// Records the challenge of a 401 (or of the version check).
    pub(crate) fn learn(&self, authority: &str, challenge: Challenge) {
        if let Ok(mut known) = self.host(authority).challenge.lock() {
            *known = Some(challenge);
        }
    }

    /// Forgets a token the registry refused.
    pub(crate) fn forget(&self, authority: &str, attempt: &Attempt) {
        let Some(header) = &attempt.header else {
            return;
        };
        if let Ok(mut tokens) = self.host(authority).tokens.lock() {
            tokens.retain(|t| format!("Bearer {}", t.token.expose()) != *header);
        }
    }

    /// The `Authorization` header for a request needing `scopes` on
    /// `authority`, as far as the challenge seen so far tells: nothing
    /// before any challenge, Basic credentials, or a (cached or new) token.
    pub(crate) async fn authorize(
        &self,
        http: &reqwest::Client,
        authority: &str,
        registry: &str,
        scopes: &Scopes,
    ) -> Result<Attempt> {
        let host = self.host(authority);
        let challenge = host.challenge.lock().ok().and_then(|c| c.clone());
        match challenge {
            None => Ok(Attempt::default()),
            Some(Challenge::Basic { .. }) => match self.credentials(authority).await? {
                Credentials::Basic { username, password } => {
                    let pair = format!("{username}:{}", password.expose());
                    Ok(Attempt {
                        header: Some(format!("Basic {}", STANDARD.encode(pair))),
                    })
                }
                Credentials::IdentityToken(_) => Err(Error::new(
                    ErrorKind::Unauthenticated,
                    format!(
                        "{registry} wants Basic auth, and only an identity token is configured for {authority}"
                    ),
                )),
                Credentials::Anonymous => Err(Error::new(
                    ErrorKind::Unauthenticated,
                    format!(
                        "{registry} wants a user name and password, and no credentials are configured for {authority} (log in first)"
                    ),
                )),
            },
            Some(Challenge::Bearer {
                realm,
                service,
                scopes: asked,
                ..
            }) => {
                if let Some(token) = cached(&host, scopes) {
                    return Ok(bearer(&token));
                }
                let _one_fetch_at_a_time = host.fetching.lock().await;
                if let Some(token) = cached(&host, scopes) {
                    return Ok(bearer(&token));
                }
                // The registry's own scope list may add to what the
                // operation needs (e.g. a mount's source repository).
                let mut wanted = scopes.clone();
                for scope in &asked {
                    wanted = wanted.with_str(scope);
                }
                let credentials = self.credentials(authority).await?;
                let issued = fetch_token(
                    http,
                    &TokenRequest {
                        realm: &realm,
                        service: service.as_deref(),
                        scopes: &wanted,
                        credentials: &credentials,
                        method: self.method,
                        registry,
                        idle_timeout: self.idle_timeout,
                    },
                )
                .await?;
                // Renew a little before the service's deadline so a token
                // does not expire between being picked and being checked.
                let margin = (issued.lifetime / 10).min(Duration::from_secs(10));
                if let Ok(mut tokens) = host.tokens.lock() {
                    tokens.retain(|t| t.expires_at > Instant::now());
                    tokens.push(CachedToken {
                        scopes: wanted,
                        token: issued.token.clone(),
                        expires_at: Instant::now() + issued.lifetime - margin,
                    });
                }
                Ok(bearer(&issued.token))
            }
        }
    }
}

fn cached(host: &HostAuth, scopes: &Scopes) -> Option<Secret> {
    let tokens = host.tokens.lock().ok()?;
    let now = Instant::now();
    tokens
        .iter()
        .find(|t| t.expires_at > now && t.scopes.covers(scopes))
        .map(|t| t.token.clone())
}

fn bearer(token: &Secret) -> Attempt {
    Attempt {
        header: Some(format!("Bearer {}", token.expose())),
    }
}
