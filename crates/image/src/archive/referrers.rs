//! Referrers in archives: which stored referrers a save writes, and how an
//! `index.json` entry is recognized as a referrer on load.
//!
//! The layout is the one `oras copy -r --to-oci-layout` writes (oras-go's
//! OCI store): every referrer manifest is a blob under `blobs/<alg>/<hex>`
//! and has its own `index.json` entry, a descriptor without a name
//! annotation carrying the referrer's `artifactType` and annotations, as
//! the referrers API lists it. A reader finds a referrer's subject in the
//! manifest's own `subject` field.
//!
//! A load also reads regclient's layout (`regctl image copy --referrers …
//! ocidir://…`): there the referrers are the children of an index tagged
//! with the referrers API's fallback tag, `sha256-<hex>`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use hoist_content::{Digest, Filter, Manager, Provider};

use crate::Descriptor;
use crate::annotations::{GC_BREF_CONTENT_SUBJECT, IMAGE_NAME, REF_NAME};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::media_type::{self, MediaKind};
use crate::store_io::read_document;

/// Which referrers [`save`](crate::save) writes with the images.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferrerSelection {
    /// Only referrers of these artifact types, at every level (all when
    /// empty): a signature of an SBOM is written only if SBOMs are chosen
    /// too, since it is found through the SBOM.
    pub artifact_types: Vec<String>,
}

impl ReferrerSelection {
    /// Every referrer.
    pub fn all() -> ReferrerSelection {
        ReferrerSelection::default()
    }

    /// Only referrers of `artifact_types` (every one when empty).
    pub fn of_types(artifact_types: Vec<String>) -> ReferrerSelection {
        ReferrerSelection { artifact_types }
    }

    pub(crate) fn accepts(&self, descriptor: &Descriptor) -> bool {
        self.artifact_types.is_empty()
            || descriptor
                .artifact_type
                .as_deref()
                .is_some_and(|t| self.artifact_types.iter().any(|w| w == t))
    }
}

/// A referrer's subject and its listing ([`Manifest::referrer_listing`]);
/// `None` for an index or a manifest without a `subject`.
///
/// [`Manifest::referrer_listing`]: crate::Manifest::referrer_listing
pub(crate) fn listing(document: &Document) -> Option<(Digest, Descriptor)> {
    document.as_manifest()?.referrer_listing()
}

/// Every stored referrer by subject, each list ordered by digest: the
/// content records carrying `containerd.io/gc.bref.content.subject`.
pub(crate) fn stored<S: Provider + Manager + ?Sized>(
    store: &S,
) -> Result<BTreeMap<Digest, Vec<Descriptor>>> {
    let mut found = Vec::new();
    store
        .walk(
            &Filter::all().label(GC_BREF_CONTENT_SUBJECT, None),
            &mut |info| {
                found.push(info);
                Ok(())
            },
        )
        .map_err(|e| Error::content("listing the stored referrers", e))?;
    let mut by_subject: BTreeMap<Digest, Vec<Descriptor>> = BTreeMap::new();
    for info in found {
        let document = read_document(store, &Descriptor::new("", info.digest, info.size))?;
        if let Some((subject, descriptor)) = listing(&document) {
            by_subject.entry(subject).or_default().push(descriptor);
        }
    }
    for list in by_subject.values_mut() {
        list.sort_by(|a, b| a.digest.cmp(&b.digest));
    }
    Ok(by_subject)
}

/// The referrers of `subjects`, recursively, that `selection` accepts, in
/// breadth-first order (subjects in the order given, each one's referrers
/// by digest), skipping `already` and each referrer after its first time.
pub(crate) fn closure(
    by_subject: &BTreeMap<Digest, Vec<Descriptor>>,
    subjects: &[Digest],
    selection: &ReferrerSelection,
    already: &BTreeSet<Digest>,
) -> Vec<(Digest, Descriptor)> {
    let mut seen: BTreeSet<Digest> = subjects.iter().cloned().collect();
    seen.extend(already.iter().cloned());
    let mut queue: VecDeque<Digest> = subjects.iter().cloned().collect();
    let mut found = Vec::new();
    while let Some(subject) = queue.pop_front() {
        for referrer in by_subject.get(&subject).into_iter().flatten() {
            if !selection.accepts(referrer) || !seen.insert(referrer.digest.clone()) {
                continue;
            }
            queue.push_back(referrer.digest.clone());
            found.push((subject.clone(), referrer.clone()));
        }
    }
    found
}

/// True if an `index.json` entry names an image (containerd's name, or an
/// OCI `ref.name`): such an entry is an image even when its manifest has a
/// `subject`.
pub(crate) fn is_named(entry: &Descriptor) -> bool {
    [IMAGE_NAME, REF_NAME]
        .iter()
        .any(|key| entry.annotation(key).is_some_and(|n| !n.is_empty()))
}

/// True if an `index.json` entry is the referrers API's fallback tag: an
/// index whose only name is `<alg>-<hex>` of a valid digest, listing the
/// referrers of that digest (regclient's `ocidir` keeps referrers so).
pub(crate) fn is_fallback_tag(entry: &Descriptor) -> bool {
    if entry.annotation(IMAGE_NAME).is_some_and(|n| !n.is_empty())
        || media_type::classify(&entry.media_type) != MediaKind::Index
    {
        return false;
    }
    entry
        .annotation(REF_NAME)
        .and_then(|tag| tag.split_once('-'))
        .is_some_and(|(algorithm, hex)| format!("{algorithm}:{hex}").parse::<Digest>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(seed: &str, artifact_type: &str) -> Descriptor {
        let mut d = Descriptor::new(
            crate::media_type::OCI_MANIFEST,
            Digest::sha256_of(seed.as_bytes()),
            1,
        );
        d.artifact_type = Some(artifact_type.to_owned());
        d
    }

    #[test]
    fn fallback_tags_are_recognized_by_their_name_and_kind() {
        let digest = Digest::sha256_of(b"subject");
        let mut entry = Descriptor::new(crate::media_type::OCI_INDEX, digest.clone(), 1);
        let tagged = |entry: &Descriptor, tag: &str| {
            let mut entry = entry.clone();
            entry
                .annotations
                .insert(REF_NAME.to_owned(), tag.to_owned());
            entry
        };
        assert!(is_fallback_tag(&tagged(
            &entry,
            &format!("sha256-{}", digest.hex())
        )));
        assert!(!is_fallback_tag(&tagged(&entry, "sha256-abc")));
        assert!(!is_fallback_tag(&tagged(&entry, "v1")));
        assert!(!is_fallback_tag(&entry));
        entry.media_type = crate::media_type::OCI_MANIFEST.to_owned();
        assert!(!is_fallback_tag(&tagged(
            &entry,
            &format!("sha256-{}", digest.hex())
        )));
    }

    #[test]
    fn closure_follows_referrers_of_referrers_and_filters_at_every_level() {
        let image = Digest::sha256_of(b"image");
        let sbom = descriptor("sbom", "sbom");
        let signature = descriptor("sig", "sig");
        let sbom_signature = descriptor("sbom-sig", "sig");
        let mut by_subject = BTreeMap::new();
        by_subject.insert(image.clone(), vec![sbom.clone(), signature.clone()]);
        by_subject.insert(sbom.digest.clone(), vec![sbom_signature.clone()]);

        let all = closure(
            &by_subject,
            std::slice::from_ref(&image),
            &ReferrerSelection::all(),
            &BTreeSet::new(),
        );
        let digests: BTreeSet<_> = all.iter().map(|(_, d)| d.digest.clone()).collect();
        assert_eq!(digests.len(), 3);
        assert!(all.contains(&(sbom.digest.clone(), sbom_signature.clone())));

        // Signatures only: the SBOM's signature is found through the SBOM,
        // which is not chosen.
        let signatures = closure(
            &by_subject,
            std::slice::from_ref(&image),
            &ReferrerSelection::of_types(vec!["sig".to_owned()]),
            &BTreeSet::new(),
        );
        assert_eq!(signatures, vec![(image.clone(), signature.clone())]);

        // What was taken already is not taken again.
        let again = closure(
            &by_subject,
            std::slice::from_ref(&image),
            &ReferrerSelection::all(),
            &[sbom.digest.clone(), signature.digest.clone()].into(),
        );
        assert!(again.is_empty(), "{again:?}");
    }
}
