//! [`Store`]: one root and namespace, the registry client, and the lease
//! every writing operation runs under.

use std::path::Path;
use std::sync::{Arc, Mutex};

use hoist_meta::{Content, Lease, LeaseOptions, MetaStore, Namespace};
use hoist_remote::{Client, ClientOptions, DockerConfig, StaticCredentials};

use crate::error::{Error, Result};
use crate::options::{CredentialsSource, StoreOptions};

/// A hoist store: one root on disk, seen through one namespace. Cheap to
/// clone; usable from many threads, and, on one root, from many processes
/// at once.
///
/// Local operations are synchronous (they touch files and RocksDB; call them
/// from `spawn_blocking` in async code); pull, push and copy are async.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    meta: MetaStore,
    namespace: Namespace,
    options: StoreOptions,
    /// Built on first use; dropped by a login or logout, whose credentials
    /// the next one reads.
    client: Mutex<Option<Client>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("root", &self.root())
            .field("namespace", &self.namespace())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `root`.
    ///
    /// # Errors
    /// Invalid argument for a bad namespace name; I/O and database errors.
    pub fn open(root: impl AsRef<Path>, options: StoreOptions) -> Result<Store> {
        let meta = MetaStore::open_with(root, options.meta.clone())?;
        let namespace = meta.namespace(&options.namespace)?;
        Ok(Store {
            inner: Arc::new(Inner {
                meta,
                namespace,
                options,
                client: Mutex::new(None),
            }),
        })
    }

    /// The same root seen through namespace `name` (sharing the database).
    ///
    /// # Errors
    /// Invalid argument for a bad namespace name.
    pub fn with_namespace(&self, name: &str) -> Result<Store> {
        let namespace = self.inner.meta.namespace(name)?;
        let mut options = self.inner.options.clone();
        options.namespace = name.to_owned();
        Ok(Store {
            inner: Arc::new(Inner {
                meta: self.inner.meta.clone(),
                namespace,
                options,
                client: Mutex::new(None),
            }),
        })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        self.inner.meta.root()
    }

    /// The namespace's name.
    pub fn namespace(&self) -> &str {
        self.inner.namespace.name()
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.inner.options
    }

    /// The metadata store underneath, for what the facade does not cover.
    pub fn meta(&self) -> &MetaStore {
        &self.inner.meta
    }

    /// The namespace handle underneath.
    pub fn namespace_handle(&self) -> &Namespace {
        &self.inner.namespace
    }

    /// The namespace's content without a lease: for reading.
    pub(crate) fn content(&self) -> Content {
        self.inner.namespace.content(None)
    }

    /// The registry client, built on first use from the options.
    ///
    /// # Errors
    /// When the credentials file cannot be read or the client cannot be built.
    pub fn client(&self) -> Result<Client> {
        if let Ok(cached) = self.inner.client.lock()
            && let Some(client) = cached.as_ref()
        {
            return Ok(client.clone());
        }
        let options = &self.inner.options;
        let mut client_options = ClientOptions::default();
        client_options = match &options.credentials {
            CredentialsSource::DockerConfig => {
                client_options.with_credentials(DockerConfig::load_default()?)
            }
            CredentialsSource::DockerConfigAt(path) => {
                client_options.with_credentials(DockerConfig::load(path)?)
            }
            CredentialsSource::Anonymous => {
                client_options.with_credentials(StaticCredentials::new())
            }
            CredentialsSource::Provider(provider) => {
                client_options.credentials = provider.clone();
                client_options
            }
        };
        client_options.hosts_dir = options.hosts_dir.clone();
        client_options.insecure = options.insecure.clone();
        client_options.http1_only = options.http1_only;
        if let Some(timeout) = options.idle_timeout {
            client_options.idle_timeout = timeout;
        }
        let client = Client::new(client_options)?;
        if let Ok(mut cached) = self.inner.client.lock() {
            // Two threads may both build one; the first kept wins, so every
            // caller shares one token cache.
            return Ok(cached.get_or_insert(client).clone());
        }
        Ok(client)
    }

    /// Drops the cached client: the next [`Store::client`] reads the
    /// credentials again (after a login or logout changed them).
    pub(crate) fn forget_client(&self) {
        if let Ok(mut cached) = self.inner.client.lock() {
            *cached = None;
        }
    }

    /// Starts a writing operation: a lease that expires on its own (so a
    /// killed process pins nothing forever), labelled with what it is for.
    pub(crate) fn begin(&self, purpose: &str) -> Result<WriteLease> {
        let lease = self.inner.namespace.leases().create(
            LeaseOptions::new()
                .label("hoist.operation", purpose)
                .label("hoist.pid", std::process::id().to_string())
                .expires_in(self.inner.options.lease_ttl),
        )?;
        Ok(WriteLease {
            namespace: self.inner.namespace.clone(),
            lease: Some(lease),
        })
    }

    /// Points `name` at `target`, creating it or moving it.
    pub(crate) fn set_image(
        &self,
        name: &str,
        target: &hoist_image::Descriptor,
    ) -> Result<hoist_meta::Image> {
        let images = self.inner.namespace.images();
        // The record keeps what names a document (media type, digest, size,
        // annotations); an index entry's platform stays the index's.
        let target = target.clone();
        match images.create(hoist_meta::Image::new(name, target.clone())) {
            Ok(image) => Ok(image),
            Err(error) if error.is_already_exists() => {
                Ok(images.update(name, hoist_meta::ImageUpdate::new().target(target))?)
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// The lease of one writing operation. What is written through
/// [`WriteLease::content`] stays until the lease goes, so it survives any
/// collection until an image record (or a `gc.ref` label) reaches it. Dropped
/// without [`WriteLease::finish`], it is deleted too (best effort); a killed
/// process leaves it to expire.
pub(crate) struct WriteLease {
    namespace: Namespace,
    lease: Option<Lease>,
}

impl WriteLease {
    /// The namespace's content, recording every write on this lease.
    pub(crate) fn content(&self) -> Content {
        self.namespace.content(self.lease.as_ref())
    }

    /// Deletes the lease: call it once what was written is reachable from an
    /// image record or a `gc.ref` label, or is meant to be collected.
    pub(crate) fn finish(mut self) -> Result<()> {
        match self.lease.take() {
            Some(lease) => match self.namespace.leases().delete(&lease.id) {
                Ok(()) => Ok(()),
                Err(error) if error.is_not_found() => Ok(()),
                Err(error) => Err(Error::from(error)),
            },
            None => Ok(()),
        }
    }

    /// Leaves the lease in place, to expire on its own, and returns it: what
    /// it holds stays until then (a load's unnamed images, for instance).
    pub(crate) fn keep(mut self) -> Option<Lease> {
        self.lease.take()
    }
}

impl Drop for WriteLease {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take()
            && let Err(error) = self.namespace.leases().delete(&lease.id)
        {
            tracing::warn!(
                "could not delete lease {}: {error}; it will expire",
                lease.id
            );
        }
    }
}
