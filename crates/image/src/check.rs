//! Check: which blobs an image (one platform, or all) needs, and which of
//! them are stored locally.

use std::collections::BTreeSet;
use std::fmt::Display;

use hoist_content::{Digest, Manager, Provider};
use hoist_platform::Matcher;

use crate::Descriptor;
use crate::document::Document;
use crate::error::Result;
use crate::image::{self, Entry, Image};
use crate::select;
use crate::store_io::{exists, read_document};

/// The blobs an image needs and whether each is stored.
///
/// `required` lists every blob that is known to be needed, in traversal
/// order (index, manifest, config, layers), each once. A manifest that is
/// absent hides what it would list, so a report with missing manifests is
/// incomplete by construction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Every blob known to be needed.
    pub required: Vec<Descriptor>,
    /// The required blobs that are stored.
    pub present: Vec<Descriptor>,
    /// The required blobs that are not.
    pub missing: Vec<Descriptor>,
}

impl CheckReport {
    /// True when nothing required is missing.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    fn add<M: Manager + ?Sized>(
        &mut self,
        store: &M,
        seen: &mut BTreeSet<Digest>,
        descriptor: &Descriptor,
    ) -> Result<bool> {
        if !seen.insert(descriptor.digest.clone()) {
            return Ok(self.present.iter().any(|d| d.digest == descriptor.digest));
        }
        self.required.push(descriptor.clone());
        let stored = exists(store, &descriptor.digest)?;
        if stored {
            self.present.push(descriptor.clone());
        } else {
            self.missing.push(descriptor.clone());
        }
        Ok(stored)
    }
}

/// Checks the manifest of `image` that `matcher` selects (see
/// [`select_manifest`](crate::select_manifest)): the index, the manifest, its
/// config and its layers. If the index itself is absent, the report says so
/// (the index is missing) rather than failing.
///
/// # Errors
/// The selection errors (no matching platform, empty index); read errors.
pub fn check_platform<S, M>(store: &S, image: &Image, matcher: &M) -> Result<CheckReport>
where
    S: Provider + Manager + ?Sized,
    M: Matcher + Display + ?Sized,
{
    let mut report = CheckReport::default();
    let mut seen = BTreeSet::new();
    if !report.add(store, &mut seen, &image.target)? {
        return Ok(report);
    }
    let resolved = image::resolve(store, image)?;
    for nested in &resolved.nested {
        report.add(store, &mut seen, nested)?;
    }
    let entry = select::select_from(image, &resolved.root, &resolved.entries, matcher)?;
    add_manifest(store, &mut report, &mut seen, entry)?;
    Ok(report)
}

/// Checks every manifest of `image`: each platform's, attestations and
/// entries of unknown platform included.
///
/// # Errors
/// Read errors (an absent target is reported as missing, not an error).
pub fn check_all<S>(store: &S, image: &Image) -> Result<CheckReport>
where
    S: Provider + Manager + ?Sized,
{
    let mut report = CheckReport::default();
    let mut seen = BTreeSet::new();
    if !report.add(store, &mut seen, &image.target)? {
        return Ok(report);
    }
    let resolved = image::resolve(store, image)?;
    for nested in &resolved.nested {
        report.add(store, &mut seen, nested)?;
    }
    for entry in &resolved.entries {
        add_manifest(store, &mut report, &mut seen, entry)?;
    }
    Ok(report)
}

fn add_manifest<S: Provider + Manager + ?Sized>(
    store: &S,
    report: &mut CheckReport,
    seen: &mut BTreeSet<Digest>,
    entry: &Entry,
) -> Result<()> {
    if !report.add(store, seen, &entry.descriptor)? {
        return Ok(());
    }
    if let Document::Manifest(manifest) = read_document(store, &entry.descriptor)? {
        for blob in manifest.blobs() {
            report.add(store, seen, blob)?;
        }
    }
    Ok(())
}
