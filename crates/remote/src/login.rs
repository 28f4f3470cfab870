//! Checking credentials against a registry before they are saved, as
//! `docker login` does. Saving them is [`crate::DockerConfig::store`]'s job.

use std::sync::Arc;

use crate::DockerConfig;
use crate::auth::credentials::{Credentials, StaticCredentials};
use crate::client::{Client, ClientOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::reference::{DOCKER_HUB, Reference};

/// The repository the check resolves: it need not exist.
const PROBE_REPOSITORY: &str = "hoist-login-check";

impl Client {
    /// Asks `registry` (a host as references name it: `docker.io`,
    /// `host:port`; a URL or a `config.json` key is reduced to its host)
    /// whether it accepts `credentials`, with this client's transport
    /// settings (hosts dir, insecure hosts, timeouts) and without its
    /// credential provider. Returns the host checked.
    ///
    /// How: a fresh client holding only these credentials resolves a probe
    /// name (`<host>/hoist-login-check:latest`) once, without retries. The
    /// registry challenges; the client answers with the credentials (a Basic
    /// header, or a token request to the token service). Refused
    /// credentials come back as `Unauthenticated`; "not found" or "denied"
    /// mean they were accepted (the probe repository need not exist, nor be
    /// readable by this user).
    ///
    /// # Errors
    /// [`ErrorKind::Unauthenticated`] when the registry (or its token
    /// service) refuses them; [`ErrorKind::InvalidArgument`] for a registry
    /// that is not a host; transport errors as for every call
    /// ([`ErrorKind::Unavailable`] for an unreachable registry).
    pub async fn login(&self, registry: &str, credentials: Credentials) -> Result<String> {
        let host = DockerConfig::registry_host(registry);
        let probe = probe_reference(registry, &host)?;
        let who = match &credentials {
            Credentials::Basic { username, .. } => format!(" as {username}"),
            Credentials::IdentityToken(_) => " with an identity token".to_owned(),
            Credentials::Anonymous => String::new(),
        };
        let mut options = ClientOptions {
            credentials: Arc::new(StaticCredentials::new().with(&host, credentials)),
            ..self.options().clone()
        };
        options.retry.attempts = 1;
        let checker = Client::new(options)?;
        match checker.resolve(&probe).await {
            Ok(_) => Ok(host),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Denied) => Ok(host),
            Err(e) if e.kind() == ErrorKind::Unauthenticated => Err(Error::new(
                ErrorKind::Unauthenticated,
                format!(
                    "logging in to {host}{who}: the registry refused the user name or password"
                ),
            )
            .with_source(e)),
            Err(e) => Err(e.within(&format!(
                "logging in to {host}{who}: checking the credentials"
            ))),
        }
    }
}

/// `<host>/hoist-login-check:latest` (`docker.io/library/…` on Docker Hub).
fn probe_reference(registry: &str, host: &str) -> Result<Reference> {
    let text = if host == DOCKER_HUB {
        format!("{DOCKER_HUB}/library/{PROBE_REPOSITORY}:latest")
    } else {
        format!("{host}/{PROBE_REPOSITORY}:latest")
    };
    let invalid = |detail: &str| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("invalid registry {registry:?}{detail}"),
        )
    };
    if host.is_empty() {
        return Err(invalid(": it names no host"));
    }
    let probe: Reference = text
        .parse()
        .map_err(|e: Error| invalid("").with_source(e))?;
    // A name without a dot or port would parse as a Docker Hub repository.
    if probe.registry() != host {
        return Err(invalid(
            ": it is not a registry host (add its port, or a domain)",
        ));
    }
    Ok(probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_names_the_host_and_bad_hosts_are_refused() {
        let probe = probe_reference("https://localhost:5000/v2/", "localhost:5000").unwrap();
        assert_eq!(probe.to_string(), "localhost:5000/hoist-login-check:latest");
        let hub = probe_reference("index.docker.io", "docker.io").unwrap();
        assert_eq!(
            hub.to_string(),
            "docker.io/library/hoist-login-check:latest"
        );
        for bad in ["", "Bad Host:5000", "myregistry"] {
            let error = probe_reference(bad, &DockerConfig::registry_host(bad)).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{bad}: {error}");
            assert!(error.to_string().contains("invalid registry"), "{error}");
        }
    }
}
