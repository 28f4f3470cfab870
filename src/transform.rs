//! New documents from stored images: reduce (convert) an image to some
//! platforms, assemble an index from several images. Each runs under its
//! own lease and names the result last.

use std::collections::BTreeMap;

use hoist_image::{AssembleOptions, Assembled, ReduceOptions, Reduced};

use crate::error::{Error, ErrorKind, Result};
use crate::platforms::Platforms;
use crate::store::Store;

/// Options of [`Store::assemble`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssembleRequest {
    /// When two sources hold one platform, keep the later instead of failing.
    pub replace: bool,
    /// Start from the index `name` already points at (`manifest create
    /// --amend`): its entries come first, and a source's platform replaces
    /// the same platform there. Without it an existing name is refused.
    pub amend: bool,
    /// Annotations of the new index.
    pub annotations: BTreeMap<String, String>,
}

impl AssembleRequest {
    /// No replacing, no amending, no annotations.
    pub fn new() -> AssembleRequest {
        AssembleRequest::default()
    }

    /// Sets [`AssembleRequest::amend`].
    #[must_use]
    pub fn amend(mut self, amend: bool) -> Self {
        self.amend = amend;
        self
    }

    /// Sets [`AssembleRequest::replace`].
    #[must_use]
    pub fn replace(mut self, replace: bool) -> Self {
        self.replace = replace;
        self
    }
}

impl Store {
    /// Writes `source` reduced to `platforms` as a new document and names it
    /// `new_name` (created, or moved if it exists). With `bare_manifest` and
    /// one platform, the name points at that platform's manifest instead of
    /// a one-entry index.
    ///
    /// # Errors
    /// Not found if `source` does not exist or lacks a chosen platform;
    /// failed precondition if a chosen platform is incomplete locally.
    pub fn reduce(
        &self,
        source: &str,
        platforms: &Platforms,
        new_name: &str,
        bare_manifest: bool,
    ) -> Result<Reduced> {
        let record = self.image(source)?;
        let lease = self.begin("reduce")?;
        let content = lease.content();
        let selection =
            crate::platforms::resolve(&content, &crate::images::documents_of(&record), platforms)?;
        let options = ReduceOptions {
            bare_manifest,
            name: Some(new_name.to_owned()),
        };
        let reduced = hoist_image::reduce(
            &content,
            &crate::images::documents_of(&record),
            &selection.matcher,
            &options,
        )?;
        // The new index is held by the lease until the name reaches it.
        self.set_image(new_name, &reduced.target)?;
        lease.finish()?;
        Ok(reduced)
    }

    /// Assembles one index named `name` from the images `sources` (each a
    /// single-platform image or an index).
    ///
    /// # Errors
    /// Already exists if `name` exists and `amend` is off, or two sources
    /// hold one platform and `replace` is off; not found for a missing source.
    pub fn assemble(
        &self,
        name: &str,
        sources: &[&str],
        request: &AssembleRequest,
    ) -> Result<Assembled> {
        let existing = match self.image(name) {
            Ok(record) => Some(record),
            Err(error) if error.is_not_found() => None,
            Err(error) => return Err(error),
        };
        let mut images = Vec::new();
        match existing {
            Some(record) if request.amend => images.push(crate::images::documents_of(&record)),
            Some(_) => {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("image {name:?} already exists; use amend to add to it"),
                ));
            }
            None => {}
        }
        for source in sources {
            images.push(crate::images::documents_of(&self.image(source)?));
        }
        let lease = self.begin("assemble")?;
        let content = lease.content();
        let options = AssembleOptions {
            replace: request.replace || request.amend,
            annotations: request.annotations.clone(),
            name: Some(name.to_owned()),
        };
        let assembled = hoist_image::assemble(&content, &images, &options)?;
        self.set_image(name, &assembled.target)?;
        lease.finish()?;
        Ok(assembled)
    }
}
