//! [`Namespace`]: the handle through which images, leases and content of one
//! namespace are reached.

use crate::content::Content;
use crate::images::Images;
use crate::leases::{Lease, Leases};
use crate::store::MetaStore;

/// One namespace of a [`MetaStore`]. Namespaces share blob files on disk but
/// nothing else: a blob is visible in a namespace only once that namespace
/// has a record of it.
#[derive(Clone, Debug)]
pub struct Namespace {
    store: MetaStore,
    name: String,
}

impl Namespace {
    pub(crate) fn new(store: MetaStore, name: String) -> Namespace {
        Namespace { store, name }
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store it belongs to.
    pub fn store(&self) -> &MetaStore {
        &self.store
    }

    /// The images of this namespace. Use [`Images::with_lease`] to record
    /// created images on a lease.
    pub fn images(&self) -> Images {
        Images::new(self.clone(), None)
    }

    /// The leases of this namespace.
    pub fn leases(&self) -> Leases {
        Leases::new(self.clone())
    }

    /// The content of this namespace, as a content store
    /// ([`hoist_content::Store`]). With a lease, every blob and ingest written
    /// through it (and every blob a writer finds already present) is recorded
    /// on the lease in the same batch, so it stays until the lease goes.
    pub fn content(&self, lease: Option<&Lease>) -> Content {
        Content::new(self.clone(), lease.cloned())
    }
}
