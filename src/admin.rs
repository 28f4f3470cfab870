//! Housekeeping: content records, leases, garbage collection, fsck,
//! namespaces.

use std::time::Duration;

use hoist_content::{BlobReader, Digest, Filter, Info, Manager, Provider};
use hoist_meta::{FsckOptions, FsckReport, GcOptions, GcReport, Lease, LeaseOptions, Resource};

use crate::error::Result;
use crate::store::Store;

impl Store {
    /// Every blob recorded in the namespace, with its labels.
    ///
    /// # Errors
    /// Database errors.
    pub fn content_list(&self) -> Result<Vec<Info>> {
        let mut blobs = Vec::new();
        self.content().walk(&Filter::all(), &mut |info| {
            blobs.push(info);
            Ok(())
        })?;
        Ok(blobs)
    }

    /// What the namespace knows of blob `digest`.
    ///
    /// # Errors
    /// Not found if the namespace has no record of it.
    pub fn content_info(&self, digest: &Digest) -> Result<Info> {
        Ok(self.content().info(digest)?)
    }

    /// Opens blob `digest` for reading.
    ///
    /// # Errors
    /// Not found if the namespace has no record of it.
    pub fn content_get(&self, digest: &Digest) -> Result<BlobReader> {
        Ok(self.content().reader(digest)?)
    }

    /// Removes the namespace's record of blob `digest` (the file goes at the
    /// next collection if no namespace records it). Idempotent.
    ///
    /// # Errors
    /// Database errors.
    pub fn content_remove(&self, digest: &Digest) -> Result<()> {
        Ok(self.content().delete(digest)?)
    }

    /// The namespace's leases.
    ///
    /// # Errors
    /// Database errors.
    pub fn leases(&self) -> Result<Vec<Lease>> {
        Ok(self.namespace_handle().leases().list()?)
    }

    /// What lease `id` holds.
    ///
    /// # Errors
    /// Not found if there is no such lease.
    pub fn lease_resources(&self, id: &str) -> Result<Vec<Resource>> {
        Ok(self.namespace_handle().leases().resources(id)?)
    }

    /// Creates a lease (`id` generated when `None`) that expires after `ttl`
    /// (never with `None`).
    ///
    /// # Errors
    /// Already exists if `id` is taken.
    pub fn lease_create(&self, id: Option<&str>, ttl: Option<Duration>) -> Result<Lease> {
        let mut options = LeaseOptions::new();
        if let Some(id) = id {
            options = options.id(id);
        }
        if let Some(ttl) = ttl {
            options = options.expires_in(ttl);
        }
        Ok(self.namespace_handle().leases().create(options)?)
    }

    /// Deletes lease `id`; what only it held goes at the next collection.
    ///
    /// # Errors
    /// Not found if there is no such lease.
    pub fn lease_remove(&self, id: &str) -> Result<()> {
        Ok(self.namespace_handle().leases().delete(id)?)
    }

    /// Collects garbage in every namespace of the root (`dry_run`: only
    /// reports what would go).
    ///
    /// # Errors
    /// Database and file-system errors.
    pub fn gc(&self, dry_run: bool) -> Result<GcReport> {
        let options = if dry_run {
            GcOptions::dry_run()
        } else {
            GcOptions::new()
        };
        Ok(self.meta().gc(options)?)
    }

    /// Checks the root's invariants with the default checks (records
    /// decode, recorded blobs are present with their sizes, images' targets
    /// are present). The report lists damage (what no crash leaves: the
    /// store needs repair) apart from debris (what an interrupted operation
    /// leaves: [`Store::gc`] removes it); see [`FsckReport`].
    ///
    /// # Errors
    /// Database and file-system errors (damage found is reported, not an
    /// error).
    pub fn fsck(&self) -> Result<FsckReport> {
        Ok(self.meta().fsck()?)
    }

    /// [`Store::fsck`] with the checks `options` adds
    /// ([`FsckOptions::verify_digests`] hashes every blob file).
    ///
    /// # Errors
    /// Database and file-system errors (damage found is reported, not an
    /// error).
    pub fn fsck_with(&self, options: &FsckOptions) -> Result<FsckReport> {
        Ok(self.meta().fsck_with(options)?)
    }

    /// The root's namespaces, in name order.
    ///
    /// # Errors
    /// Database errors.
    pub fn namespaces(&self) -> Result<Vec<String>> {
        Ok(self.meta().namespaces()?)
    }

    /// Removes the empty namespace `name`.
    ///
    /// # Errors
    /// Not found, or failed precondition if it still holds something.
    pub fn namespace_remove(&self, name: &str) -> Result<()> {
        Ok(self.meta().delete_namespace(name)?)
    }
}
