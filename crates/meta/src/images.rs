//! Images: names pointing at a target descriptor, with labels.

use std::time::SystemTime;

use hoist_content::{Digest, Labels};
use hoist_oci::Descriptor;

use crate::clock;
use crate::crash;
use crate::database::Session;
use crate::error::{Error, Result};
use crate::keys::{self, ResourceKind, Table};
use crate::kv::Batch;
use crate::labels;
use crate::leases::{self, Lease};
use crate::namespace::Namespace;
use crate::records::{self, ImageRecord, TargetRecord};
use crate::store;

/// A named image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The name, e.g. `docker.io/library/alpine:3.20`.
    pub name: String,
    /// What the name points at.
    pub target: Descriptor,
    /// Labels; `containerd.io/gc.expire` makes the image collectable after
    /// that time, `containerd.io/gc.ref.content.*` add GC edges.
    pub labels: Labels,
    /// When the name was created (set by the store).
    pub created_at: SystemTime,
    /// When the record last changed (set by the store).
    pub updated_at: SystemTime,
}

impl Image {
    /// An image to create: `name` pointing at `target`, without labels.
    pub fn new(name: impl Into<String>, target: Descriptor) -> Image {
        let now = SystemTime::now();
        Image {
            name: name.into(),
            target,
            labels: Labels::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// The same image with label `key` set to `value`.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Image {
        self.labels.insert(key.into(), value.into());
        self
    }

    fn from_record(name: String, record: ImageRecord) -> Image {
        Image {
            name,
            target: record.target.into(),
            labels: record.labels,
            created_at: clock::from_nanos(record.created),
            updated_at: clock::from_nanos(record.updated),
        }
    }
}

/// Which images [`Images::list`] returns: all conditions must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFilter {
    names: Vec<String>,
    name_prefix: Option<String>,
    labels: Vec<(String, Option<String>)>,
    target: Option<Digest>,
}

impl ImageFilter {
    /// Every image.
    pub fn all() -> ImageFilter {
        ImageFilter::default()
    }

    /// Only the image named exactly `name` (several calls: any of them).
    pub fn name(mut self, name: impl Into<String>) -> ImageFilter {
        self.names.push(name.into());
        self
    }

    /// Only images whose name starts with `prefix` (e.g. a repository).
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> ImageFilter {
        self.name_prefix = Some(prefix.into());
        self
    }

    /// Only images with label `key`, and `value` if given.
    pub fn label(mut self, key: impl Into<String>, value: Option<&str>) -> ImageFilter {
        self.labels.push((key.into(), value.map(str::to_owned)));
        self
    }

    /// Only images whose target is `digest`.
    pub fn target(mut self, digest: Digest) -> ImageFilter {
        self.target = Some(digest);
        self
    }

    fn matches(&self, image: &Image) -> bool {
        (self.names.is_empty() || self.names.contains(&image.name))
            && self
                .name_prefix
                .as_deref()
                .is_none_or(|p| image.name.starts_with(p))
            && self
                .target
                .as_ref()
                .is_none_or(|d| *d == image.target.digest)
            && self.labels.iter().all(|(key, value)| {
                image
                    .labels
                    .get(key)
                    .is_some_and(|have| value.as_deref().is_none_or(|want| want == have))
            })
    }
}

/// Changes for [`Images::update`]; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageUpdate {
    /// A new target.
    pub target: Option<Descriptor>,
    /// New labels, replacing all the old ones.
    pub labels: Option<Labels>,
}

impl ImageUpdate {
    /// No change yet.
    pub fn new() -> ImageUpdate {
        ImageUpdate::default()
    }

    /// Points the image at `target`.
    pub fn target(mut self, target: Descriptor) -> ImageUpdate {
        self.target = Some(target);
        self
    }

    /// Replaces the labels.
    pub fn labels(mut self, labels: Labels) -> ImageUpdate {
        self.labels = Some(labels);
        self
    }
}

/// The images of one namespace, optionally recording what it creates on a
/// lease.
#[derive(Debug, Clone)]
pub struct Images {
    ns: Namespace,
    lease: Option<Lease>,
}

impl Images {
    pub(crate) fn new(ns: Namespace, lease: Option<Lease>) -> Images {
        Images { ns, lease }
    }

    /// The same handle, recording the images it creates, updates or tags on
    /// `lease` (which keeps them, and what they reference, while it lives,
    /// even if they carry an expiry).
    pub fn with_lease(self, lease: &Lease) -> Images {
        Images {
            ns: self.ns,
            lease: Some(lease.clone()),
        }
    }

    /// Creates `image` (its times are set by the store).
    ///
    /// # Errors
    /// Invalid argument for an empty name, an empty media type or a zero
    /// size; already exists if the name is taken; failed precondition if the
    /// lease is gone or expired.
    pub fn create(&self, image: Image) -> Result<Image> {
        validate(
            &image.name,
            &image.target.media_type,
            image.target.size,
            &image.labels,
        )?;
        let session = self.ns.store().session()?;
        let _mutation = session.mutation();
        let ns = self.ns.name();
        let key = keys::image(ns, &image.name);
        if session.kv().get(&key)?.is_some() {
            return Err(Error::already_exists(format!(
                "image {:?} already exists in namespace {ns:?}",
                image.name
            )));
        }
        let now = clock::to_nanos(SystemTime::now());
        let record = ImageRecord {
            target: TargetRecord::from(&image.target),
            labels: image.labels,
            created: now,
            updated: now,
        };
        let mut batch = Batch::default();
        store::ensure_namespace(&session, ns, &mut batch)?;
        self.hold_on_lease(&session, &image.name, &mut batch)?;
        batch.put(key, records::encode(&record)?);
        crash::point("image-create:before-batch");
        session.kv().write(batch)?;
        crash::point("image-create:after-batch");
        Ok(Image::from_record(image.name, record))
    }

    /// The image `name`.
    ///
    /// # Errors
    /// Not found if there is no such image.
    pub fn get(&self, name: &str) -> Result<Image> {
        keys::check_part("image name", name)?;
        let session = self.ns.store().session()?;
        self.read(&session, name)?
            .ok_or_else(|| self.not_found(name))
    }

    /// The images matching `filter`, in name order.
    ///
    /// # Errors
    /// Database errors; data loss for a record that does not decode.
    pub fn list(&self, filter: &ImageFilter) -> Result<Vec<Image>> {
        let session = self.ns.store().session()?;
        let mut images = Vec::new();
        let mut visit = |key: &[u8], value: &[u8]| -> Result<bool> {
            let name = keys::last_part(key)?;
            if filter.names.is_empty() || filter.names.iter().any(|n| n == name) {
                let record: ImageRecord = records::decode(key, value)?;
                let image = Image::from_record(name.to_owned(), record);
                if filter.matches(&image) {
                    images.push(image);
                }
            }
            Ok(true)
        };
        let prefix = match &filter.name_prefix {
            // Names are the last key part, so a name prefix is a key prefix.
            Some(name_prefix) => {
                let mut prefix = keys::key(Table::Image, &[self.ns.name()]);
                prefix.extend_from_slice(name_prefix.as_bytes());
                prefix
            }
            None => keys::key(Table::Image, &[self.ns.name()]),
        };
        session.kv().scan(&prefix, &mut visit)?;
        Ok(images)
    }

    /// Applies `update` to the image `name`.
    ///
    /// # Errors
    /// Not found if there is no such image; invalid argument for an invalid
    /// target or labels.
    pub fn update(&self, name: &str, update: ImageUpdate) -> Result<Image> {
        keys::check_part("image name", name)?;
        let session = self.ns.store().session()?;
        let _mutation = session.mutation();
        let key = keys::image(self.ns.name(), name);
        let mut record = self.read_record(&session, name)?;
        if let Some(target) = &update.target {
            record.target = TargetRecord::from(target);
        }
        if let Some(labels) = update.labels {
            record.labels = labels;
        }
        validate(
            name,
            &record.target.media_type,
            record.target.size,
            &record.labels,
        )?;
        record.updated = clock::to_nanos(SystemTime::now());
        let mut batch = Batch::default();
        self.hold_on_lease(&session, name, &mut batch)?;
        batch.put(key, records::encode(&record)?);
        session.kv().write(batch)?;
        Ok(Image::from_record(name.to_owned(), record))
    }

    /// Deletes the image `name`. Its content stays until a GC finds it
    /// unreferenced.
    ///
    /// # Errors
    /// Not found if there is no such image.
    pub fn delete(&self, name: &str) -> Result<()> {
        self.delete_checked(name, None)
    }

    /// Deletes the image `name` only if it still points at `target`.
    ///
    /// # Errors
    /// Not found if there is no such image; failed precondition if it points
    /// elsewhere (then it is left alone).
    pub fn delete_if_target(&self, name: &str, target: &Digest) -> Result<()> {
        self.delete_checked(name, Some(target))
    }

    fn delete_checked(&self, name: &str, target: Option<&Digest>) -> Result<()> {
        keys::check_part("image name", name)?;
        let deletions = {
            let session = self.ns.store().session()?;
            let _mutation = session.mutation();
            let record = self.read_record(&session, name)?;
            if let Some(expected) = target
                && record.target.digest != *expected
            {
                return Err(Error::precondition(format!(
                    "image {name:?} points at {}, not {expected}; not deleted",
                    record.target.digest
                )));
            }
            let mut batch = Batch::default();
            batch.delete(keys::image(self.ns.name(), name));
            let deletions = store::count_deletion(&session, &mut batch)?;
            session.kv().write(batch)?;
            deletions
        };
        self.ns.store().maybe_collect(deletions);
        Ok(())
    }

    /// Gives `source`'s target (and labels) the name `new_name` too,
    /// replacing what `new_name` pointed at, in one atomic write.
    ///
    /// # Errors
    /// Not found if `source` does not exist.
    pub fn tag(&self, source: &str, new_name: &str) -> Result<Image> {
        self.copy_name(source, new_name, false)
    }

    /// Renames `old` to `new`: the new name is written before (in the same
    /// atomic batch as) the removal of the old one, so at no instant is the
    /// target unnamed. Never triggers a GC.
    ///
    /// # Errors
    /// Not found if `old` does not exist; already exists if `new` does.
    pub fn rename(&self, old: &str, new: &str) -> Result<Image> {
        self.copy_name(old, new, true)
    }

    fn copy_name(&self, source: &str, new_name: &str, remove_source: bool) -> Result<Image> {
        keys::check_part("image name", source)?;
        keys::check_part("image name", new_name)?;
        let session = self.ns.store().session()?;
        let _mutation = session.mutation();
        let ns = self.ns.name();
        let record = self.read_record(&session, source)?;
        if source == new_name {
            return Ok(Image::from_record(new_name.to_owned(), record));
        }
        let new_key = keys::image(ns, new_name);
        let existing: Option<ImageRecord> = match session.kv().get(&new_key)? {
            Some(bytes) => Some(records::decode(&new_key, &bytes)?),
            None => None,
        };
        if remove_source && existing.is_some() {
            return Err(Error::already_exists(format!(
                "image {new_name:?} already exists in namespace {ns:?}; not renamed"
            )));
        }
        let now = clock::to_nanos(SystemTime::now());
        let renamed = ImageRecord {
            target: record.target,
            labels: record.labels,
            created: existing.as_ref().map_or(now, |e| e.created),
            updated: now,
        };
        let mut batch = Batch::default();
        self.hold_on_lease(&session, new_name, &mut batch)?;
        // New name first, old name after, in one batch: the batch is atomic,
        // and even read in order there is no moment without a name.
        batch.put(new_key, records::encode(&renamed)?);
        if remove_source {
            batch.delete(keys::image(ns, source));
        }
        session.kv().write(batch)?;
        Ok(Image::from_record(new_name.to_owned(), renamed))
    }

    fn hold_on_lease(&self, session: &Session, name: &str, batch: &mut Batch) -> Result<()> {
        if let Some(lease) = &self.lease {
            leases::require_live(session, self.ns.name(), &lease.id)?;
            batch.put(
                keys::lease_resource(self.ns.name(), &lease.id, ResourceKind::Image, name),
                Vec::new(),
            );
        }
        Ok(())
    }

    fn read(&self, session: &Session, name: &str) -> Result<Option<Image>> {
        let key = keys::image(self.ns.name(), name);
        match session.kv().get(&key)? {
            Some(bytes) => Ok(Some(Image::from_record(
                name.to_owned(),
                records::decode(&key, &bytes)?,
            ))),
            None => Ok(None),
        }
    }

    fn read_record(&self, session: &Session, name: &str) -> Result<ImageRecord> {
        let key = keys::image(self.ns.name(), name);
        match session.kv().get(&key)? {
            Some(bytes) => records::decode(&key, &bytes),
            None => Err(self.not_found(name)),
        }
    }

    fn not_found(&self, name: &str) -> Error {
        Error::not_found(format!(
            "image {name:?} not found in namespace {:?}",
            self.ns.name()
        ))
    }
}

fn validate(name: &str, media_type: &str, size: u64, image_labels: &Labels) -> Result<()> {
    keys::check_part("image name", name)?;
    if media_type.trim().is_empty() {
        return Err(Error::invalid(format!(
            "image {name:?}: the target's media type must be set"
        )));
    }
    if size == 0 {
        return Err(Error::invalid(format!(
            "image {name:?}: the target's size must be greater than 0"
        )));
    }
    labels::validate(image_labels)
        .map_err(|error| Error::invalid(format!("image {name:?}: {}", error.message())))
}
