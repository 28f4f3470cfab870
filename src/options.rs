//! How a [`Store`](crate::Store) is opened: namespace, registry settings,
//! credentials, lease expiry, transfer concurrency.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hoist_remote::CredentialProvider;

/// The namespace used when none is given.
pub const DEFAULT_NAMESPACE: &str = "default";

/// How many blobs a pull or push moves at once unless told otherwise.
/// Measured on the 200 MB, 9-blob bench image (2 cores, registry on the
/// same machine): 8 pulls it in about 0.65-0.8 s where 4 took 1.15-1.3 s,
/// because 4 leaves the last large layer to download alone. From a far
/// registry each request of a wave waits a round trip, so images of many
/// small layers want more in flight: 16 moves the 8-platform, 62-blob
/// bench image in half the waves of 8. Memory stays under 64 MiB (each
/// download holds at most a few chunks in flight).
pub const DEFAULT_CONCURRENCY: usize = 16;

/// How long the lease of a writing operation lives unless told otherwise:
/// long enough for any real pull, short enough that a killed process pins
/// nothing for more than a day (containerd's pull leases use the same).
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(24 * 3600);

/// Where registry credentials come from.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum CredentialsSource {
    /// Docker's `config.json` (`$DOCKER_CONFIG`, else `~/.docker`), with its
    /// credential helpers. The default.
    #[default]
    DockerConfig,
    /// A Docker-style `config.json` at this path.
    DockerConfigAt(PathBuf),
    /// Anonymous everywhere.
    Anonymous,
    /// A caller-supplied provider.
    Provider(Arc<dyn CredentialProvider>),
}

impl std::fmt::Debug for CredentialsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialsSource::DockerConfig => f.write_str("DockerConfig"),
            CredentialsSource::DockerConfigAt(path) => {
                f.debug_tuple("DockerConfigAt").field(path).finish()
            }
            CredentialsSource::Anonymous => f.write_str("Anonymous"),
            CredentialsSource::Provider(_) => f.write_str("Provider(..)"),
        }
    }
}

/// Options of [`Store::open`](crate::Store::open); the default suits real use.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreOptions {
    /// The namespace to work in.
    pub namespace: String,
    /// A `certs.d` directory of per-host `hosts.toml` files.
    pub hosts_dir: Option<PathBuf>,
    /// Registries (`host[:port]`) where plain HTTP or unverified TLS is fine.
    pub insecure: Vec<String>,
    /// Where credentials come from.
    pub credentials: CredentialsSource,
    /// How long the lease of a writing operation lives.
    pub lease_ttl: Duration,
    /// How many blobs a pull or push moves at once.
    pub concurrency: usize,
    /// How long a registry exchange may go without progress before it is
    /// abandoned (and a download resumed); the client's default when `None`.
    pub idle_timeout: Option<Duration>,
    /// Never offer HTTP/2 to a registry (see
    /// [`hoist_remote::ClientOptions::http1_only`]); off by default.
    pub http1_only: bool,
    /// Options of the metadata store.
    pub meta: hoist_meta::MetaOptions,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            namespace: DEFAULT_NAMESPACE.to_owned(),
            hosts_dir: None,
            insecure: Vec::new(),
            credentials: CredentialsSource::default(),
            lease_ttl: DEFAULT_LEASE_TTL,
            concurrency: DEFAULT_CONCURRENCY,
            idle_timeout: None,
            http1_only: false,
            meta: hoist_meta::MetaOptions::default(),
        }
    }
}

impl StoreOptions {
    /// Works in namespace `namespace`.
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Reads per-host registry settings from `dir`.
    #[must_use]
    pub fn hosts_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.hosts_dir = Some(dir.into());
        self
    }

    /// Allows plain HTTP (or unverified TLS) to `host`.
    #[must_use]
    pub fn insecure(mut self, host: impl Into<String>) -> Self {
        self.insecure.push(host.into());
        self
    }

    /// Takes credentials from `source`.
    #[must_use]
    pub fn credentials(mut self, source: CredentialsSource) -> Self {
        self.credentials = source;
        self
    }

    /// Moves up to `concurrency` blobs at once (at least 1).
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Abandons a registry exchange after `timeout` without progress.
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Speaks only HTTP/1.1 to registries, even to a TLS registry that
    /// offers HTTP/2 (an escape for a registry or proxy whose HTTP/2 is
    /// broken).
    #[must_use]
    pub fn http1_only(mut self, http1_only: bool) -> Self {
        self.http1_only = http1_only;
        self
    }

    /// Gives writing operations' leases this lifetime.
    #[must_use]
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }
}
