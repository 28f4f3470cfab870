//! Local image operations: list with a platform summary, inspect, platform
//! report, check, tag, remove.

use hoist_content::Digest;
use hoist_image::{CheckReport, Document, PlatformReport};
use hoist_meta::ImageFilter;
use hoist_platform::Platform;

use crate::error::Result;
use crate::platforms::{self, Platforms};
use crate::store::Store;

/// An image record: a name, its target, labels and times, as the metadata
/// store keeps it (one type for that meaning, from `hoist-meta`).
pub use hoist_meta::Image as ImageRecord;

/// The image crate's view of a record: what an operation on the image's
/// documents needs (its name, for messages, and its target).
pub(crate) fn documents_of(record: &ImageRecord) -> hoist_image::Image {
    hoist_image::Image::new(record.name.clone(), record.target.clone())
}

/// Which platforms an image lists and how many of them are here whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformSummary {
    /// True when the image is an index (or manifest list).
    pub is_index: bool,
    /// Each platform manifest, with whether it is complete locally.
    pub platforms: Vec<(Platform, bool)>,
    /// How many attestation manifests the index lists.
    pub attestations: usize,
    /// Manifests whose platform is not known here.
    pub unknown: usize,
    /// False when the image's own top document is not stored (its report
    /// could not be made).
    pub readable: bool,
}

impl PlatformSummary {
    /// How many platform manifests are complete locally.
    pub fn complete(&self) -> usize {
        self.platforms
            .iter()
            .filter(|(_, complete)| *complete)
            .count()
    }

    fn of(report: &PlatformReport) -> PlatformSummary {
        let mut summary = PlatformSummary {
            is_index: report.is_index,
            readable: true,
            ..PlatformSummary::default()
        };
        for row in &report.entries {
            match &row.entry.kind {
                hoist_image::EntryKind::Platform(platform) => summary
                    .platforms
                    .push((platform.clone(), row.state.is_complete())),
                hoist_image::EntryKind::Attestation { .. } => summary.attestations += 1,
                _ => summary.unknown += 1,
            }
        }
        summary
    }
}

/// One row of [`Store::list_images`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    /// The record.
    pub record: ImageRecord,
    /// Its platforms and how many are complete locally.
    pub platforms: PlatformSummary,
}

/// What [`Store::inspect`] tells about an image.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The record.
    pub record: ImageRecord,
    /// The top document (index or manifest), raw bytes kept.
    pub document: Document,
    /// Its platforms and their local state.
    pub report: PlatformReport,
}

impl Store {
    /// The images whose name starts with `prefix` (all with `None`), in name
    /// order, each with a summary of its platforms.
    ///
    /// # Errors
    /// Database errors; read errors other than a missing document (an image
    /// whose top document is gone is listed with `readable: false`).
    pub fn list_images(&self, prefix: Option<&str>) -> Result<Vec<ImageSummary>> {
        let mut filter = ImageFilter::all();
        if let Some(prefix) = prefix {
            filter = filter.name_prefix(prefix);
        }
        let content = self.content();
        let mut rows = Vec::new();
        for record in self.namespace_handle().images().list(&filter)? {
            let platforms = match hoist_image::platform_report(&content, &documents_of(&record)) {
                Ok(report) => PlatformSummary::of(&report),
                Err(error) if error.is_not_found() || error.is_data_loss() => {
                    PlatformSummary::default()
                }
                Err(error) => return Err(error.into()),
            };
            rows.push(ImageSummary { record, platforms });
        }
        Ok(rows)
    }

    /// The image `name`.
    ///
    /// # Errors
    /// Not found if there is no such image.
    pub fn image(&self, name: &str) -> Result<ImageRecord> {
        Ok(self.namespace_handle().images().get(name)?)
    }

    /// The image `name` with its top document and platform report.
    ///
    /// # Errors
    /// Not found if there is no such image or its document is not stored.
    pub fn inspect(&self, name: &str) -> Result<Inspection> {
        let record = self.image(name)?;
        let content = self.content();
        let document = hoist_image::read_document(&content, &record.target)?;
        let report = hoist_image::platform_report(&content, &documents_of(&record))?;
        Ok(Inspection {
            record,
            document,
            report,
        })
    }

    /// Which platforms `name` lists and whether each is complete locally.
    ///
    /// # Errors
    /// Not found if there is no such image or its document is not stored.
    pub fn platform_report(&self, name: &str) -> Result<PlatformReport> {
        let record = self.image(name)?;
        Ok(hoist_image::platform_report(
            &self.content(),
            &documents_of(&record),
        )?)
    }

    /// Which blobs `name` needs for `platforms`, and which are missing.
    ///
    /// # Errors
    /// Not found if there is no such image, or a chosen platform is absent
    /// from its index (the error lists the available ones).
    pub fn check(&self, name: &str, platforms: &Platforms) -> Result<CheckReport> {
        let record = self.image(name)?;
        let image = documents_of(&record);
        let content = self.content();
        if platforms.is_all() {
            return Ok(hoist_image::check_all(&content, &image)?);
        }
        // Each chosen platform must be listed; then check exactly those.
        let selection = platforms::resolve(&content, &image, platforms)?;
        Ok(hoist_image::check_platform(
            &content,
            &image,
            &selection.matcher,
        )?)
    }

    /// Gives `source`'s target the name `new_name` too (the new name is
    /// written in one atomic step; what `new_name` pointed at before is
    /// replaced).
    ///
    /// # Errors
    /// Not found if `source` does not exist.
    pub fn tag(&self, source: &str, new_name: &str) -> Result<ImageRecord> {
        let record = self.namespace_handle().images().tag(source, new_name)?;
        Ok(record)
    }

    /// Renames `old` to `new` (the new name exists before the old one goes).
    ///
    /// # Errors
    /// Not found if `old` does not exist; already exists if `new` does.
    pub fn rename(&self, old: &str, new: &str) -> Result<ImageRecord> {
        let record = self.namespace_handle().images().rename(old, new)?;
        Ok(record)
    }

    /// Removes the name `name`; with `if_target`, only while it still points
    /// there. Its content stays until a collection finds it unreferenced.
    ///
    /// # Errors
    /// Not found if there is no such image; failed precondition if it points
    /// elsewhere than `if_target`.
    pub fn remove(&self, name: &str, if_target: Option<&Digest>) -> Result<()> {
        let images = self.namespace_handle().images();
        match if_target {
            Some(digest) => images.delete_if_target(name, digest)?,
            None => images.delete(name)?,
        }
        Ok(())
    }
}
