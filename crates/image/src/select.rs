//! Platform selection: the best manifest of an image for a matcher, or an
//! error that says what is there instead.

use std::fmt::Display;

use hoist_content::{Manager, Provider};
use hoist_platform::{Matcher, Platform};

use crate::document::Document;
use crate::error::{Detail, Error, ErrorKind, Result};
use crate::image::{self, Entry, EntryKind, Image};

/// The manifest of `image` that `matcher` prefers, as containerd would pick
/// it: among the index's entries whose platform matches, the one the matcher
/// ranks first (ties go to the earlier entry). Attestations never match. A
/// lone manifest is returned if its config's platform matches (or if its
/// config is not stored, so its platform cannot be told).
///
/// # Errors
/// - not-found, with [`Detail::NoMatchingPlatform`], when nothing matches:
///   `no manifest for linux/arm64 in example.com/app:1.0 (index sha256:…); available: linux/amd64, linux/s390x`;
/// - not-found, with [`Detail::EmptyIndex`], for an index without entries:
///   `index sha256:… of example.com/app:1.0 lists no manifests`;
/// - not-found if the image's index or manifest is not stored; read errors.
pub fn select_manifest<S, M>(store: &S, image: &Image, matcher: &M) -> Result<Entry>
where
    S: Provider + Manager + ?Sized,
    M: Matcher + Display + ?Sized,
{
    let resolved = image::resolve(store, image)?;
    select_from(image, &resolved.root, &resolved.entries, matcher).cloned()
}

/// [`select_manifest`] over already resolved entries.
pub(crate) fn select_from<'a, M>(
    image: &Image,
    root: &Document,
    entries: &'a [Entry],
    matcher: &M,
) -> Result<&'a Entry>
where
    M: Matcher + Display + ?Sized,
{
    if let Document::Index(index) = root
        && index.manifests().is_empty()
    {
        return Err(empty_index(image));
    }
    if let (Document::Manifest(_), [entry]) = (root, entries)
        && entry.kind == EntryKind::Unknown
    {
        return Ok(entry);
    }
    let candidates: Vec<&Entry> = entries.iter().filter(|e| e.platform().is_some()).collect();
    hoist_platform::best(matcher, candidates.iter().copied(), |e: &Entry| {
        e.platform().cloned()
    })
    .ok_or_else(|| no_match(image, root, matcher, image::platforms_of(entries)))
}

/// The error for an index without entries.
pub(crate) fn empty_index(image: &Image) -> Error {
    let index = image.target.digest.clone();
    Error::new(
        ErrorKind::NotFound,
        format!("index {index} of {} lists no manifests", image.name),
    )
    .with_digest(&index)
    .with_detail(Detail::EmptyIndex {
        reference: image.name.clone(),
        index,
    })
}

/// The error for a matcher that nothing fits.
pub(crate) fn no_match<M: Display + ?Sized>(
    image: &Image,
    root: &Document,
    matcher: &M,
    available: Vec<Platform>,
) -> Error {
    let index = image.target.digest.clone();
    let what = match root {
        Document::Index(_) => "index",
        Document::Manifest(_) => "manifest",
    };
    let listed = if available.is_empty() {
        "none".to_string()
    } else {
        available
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    Error::new(
        ErrorKind::NotFound,
        format!(
            "no manifest for {matcher} in {} ({what} {index}); available: {listed}",
            image.name
        ),
    )
    .with_digest(&index)
    .with_detail(Detail::NoMatchingPlatform {
        wanted: matcher.to_string(),
        reference: image.name.clone(),
        index,
        available,
    })
}
