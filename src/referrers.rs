//! Referrers: OCI 1.1 manifests whose `subject` names another manifest
//! (cosign and notation signatures, SBOMs, attestations).
//!
//! Locally a referrer is a stored manifest carrying containerd's back
//! reference `containerd.io/gc.bref.content.subject` (written with it by
//! every path that stores a document, from [`Document::gc_labels`]): the
//! collector holds it while its subject is held, and listing walks the
//! content records carrying that label. No table of its own.
//!
//! A pull with referrers lists each pulled manifest's referrers (and the
//! index's) through the registry's referrers API or its fallback tag,
//! fetches each by digest (verified: a referrer whose bytes do not match is
//! an error and is never stored), its blobs, then its own referrers, under
//! the pull's lease. The push side is `referrers_push`.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;

use hoist_content::{Digest, Filter, Manager};
use hoist_image::{Descriptor, Document, GC_BREF_CONTENT_SUBJECT};
use hoist_meta::Content;
use hoist_remote::{Client, Repository};

use crate::error::{Error, ErrorKind, Result};
use crate::images::documents_of;
use crate::platforms::{self, Platforms};
use crate::progress::Progress;
use crate::pull::{self, BlobOutcome};
use crate::store::Store;

/// A referrer stored (or fetched): the manifest it refers to, and its own
/// descriptor, with its artifact type and annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// The manifest (or index) the referrer's `subject` names.
    pub subject: Digest,
    /// The referrer: media type, digest, size, `artifactType` (the
    /// manifest's, or else its config's media type, as the OCI spec lists
    /// referrers) and the manifest's annotations.
    pub descriptor: Descriptor,
}

impl Referrer {
    /// The artifact type, if the referrer has one.
    pub fn artifact_type(&self) -> Option<&str> {
        self.descriptor.artifact_type.as_deref()
    }

    fn of(document: &Document) -> Option<Referrer> {
        let (subject, descriptor) = document.as_manifest()?.referrer_listing()?;
        Some(Referrer {
            subject,
            descriptor,
        })
    }
}

/// Which referrers a pull fetches, or a push or copy sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReferrersOptions {
    /// Only referrers of these artifact types, at every level (all when
    /// empty): a signature of an SBOM comes only if signatures are asked for
    /// too.
    pub artifact_types: Vec<String>,
}

impl ReferrersOptions {
    /// Every referrer.
    pub fn all() -> ReferrersOptions {
        ReferrersOptions::default()
    }

    /// Only referrers of `artifact_types` (every one when empty).
    pub fn of_types(artifact_types: Vec<String>) -> ReferrersOptions {
        ReferrersOptions { artifact_types }
    }

    pub(crate) fn accepts(&self, artifact_type: Option<&str>) -> bool {
        self.artifact_types.is_empty()
            || artifact_type.is_some_and(|t| self.artifact_types.iter().any(|w| w == t))
    }
}

impl Store {
    /// The stored referrers of `subject` (direct ones only), of
    /// `artifact_type` when given, ordered by digest.
    ///
    /// # Errors
    /// The store's errors; a referrer whose bytes do not parse.
    pub fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Referrer>> {
        let by_subject = stored_referrers(&self.content())?;
        let mut found = Vec::new();
        for referrer in by_subject.get(subject).into_iter().flatten() {
            if artifact_type.is_none_or(|t| referrer.artifact_type() == Some(t)) {
                found.push(referrer.clone());
            }
        }
        Ok(found)
    }

    /// The stored referrers of image `name`, recursively (a signature of an
    /// SBOM too): of its target and of the manifests `platforms` chooses
    /// (every stored one for [`Platforms::All`]), of `artifact_type` when
    /// given, subjects in image order.
    ///
    /// # Errors
    /// Not found for an unknown image or a platform it lacks; the store's
    /// errors.
    pub fn image_referrers(
        &self,
        name: &str,
        platforms: &Platforms,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Referrer>> {
        let record = self.image(name)?;
        let content = self.content();
        let image = documents_of(&record);
        let mut subjects = Vec::new();
        if platforms.is_all() {
            subjects.push(record.target.digest.clone());
            let report = hoist_image::platform_report(&content, &image)?;
            subjects.extend(
                report
                    .entries
                    .into_iter()
                    .map(|r| r.entry.descriptor.digest),
            );
        } else {
            subjects.extend(
                platforms::resolve(&content, &image, platforms)?
                    .entries
                    .into_iter()
                    .map(|e| e.descriptor.digest),
            );
        }
        let by_subject = stored_referrers(&content)?;
        let mut seen: HashSet<Digest> = subjects.iter().cloned().collect();
        let mut queue: VecDeque<Digest> = subjects.into();
        let mut found = Vec::new();
        while let Some(subject) = queue.pop_front() {
            for referrer in by_subject.get(&subject).into_iter().flatten() {
                if !seen.insert(referrer.descriptor.digest.clone()) {
                    continue;
                }
                queue.push_back(referrer.descriptor.digest.clone());
                if artifact_type.is_none_or(|t| referrer.artifact_type() == Some(t)) {
                    found.push(referrer.clone());
                }
            }
        }
        Ok(found)
    }
}

/// Every stored referrer, by subject, each list ordered by digest.
pub(crate) fn stored_referrers(content: &Content) -> Result<BTreeMap<Digest, Vec<Referrer>>> {
    let mut digests = Vec::new();
    content.walk(
        &Filter::all().label(GC_BREF_CONTENT_SUBJECT, None),
        &mut |info| {
            digests.push(info);
            Ok(())
        },
    )?;
    let mut by_subject: BTreeMap<Digest, Vec<Referrer>> = BTreeMap::new();
    for info in digests {
        let descriptor = Descriptor::new("", info.digest.clone(), info.size);
        let document = hoist_image::read_document(content, &descriptor)?;
        if let Some(referrer) = Referrer::of(&document) {
            by_subject
                .entry(referrer.subject.clone())
                .or_default()
                .push(referrer);
        }
    }
    for list in by_subject.values_mut() {
        list.sort_by(|a, b| a.descriptor.digest.cmp(&b.descriptor.digest));
    }
    Ok(by_subject)
}

/// What fetching referrers did.
#[derive(Default)]
pub(crate) struct FetchedReferrers {
    pub(crate) referrers: Vec<Referrer>,
    pub(crate) blobs_downloaded: usize,
    pub(crate) blobs_present: usize,
    pub(crate) bytes_downloaded: u64,
}

/// Fetches the referrers of `subjects` from `repository`, recursively,
/// with their blobs, into `content` (the pull's lease).
pub(crate) async fn fetch_referrers(
    client: &Client,
    content: &Content,
    repository: &Repository,
    subjects: Vec<Digest>,
    options: &ReferrersOptions,
    progress: &Arc<dyn Progress>,
) -> Result<FetchedReferrers> {
    // The registry filters when asked for one type; more are filtered here.
    let api_filter = match options.artifact_types.as_slice() {
        [only] => Some(only.as_str()),
        _ => None,
    };
    let mut fetched = FetchedReferrers::default();
    let mut seen: HashSet<Digest> = subjects.iter().cloned().collect();
    let mut queue: VecDeque<(Digest, usize)> = subjects.into_iter().map(|s| (s, 0)).collect();
    while let Some((subject, depth)) = queue.pop_front() {
        let listed = client
            .referrers(repository, &subject, api_filter)
            .await
            .map_err(|e| Error::from(e).context(format!("listing the referrers of {subject}")))?;
        for descriptor in listed.descriptors {
            if !options.accepts(descriptor.artifact_type.as_deref())
                || !seen.insert(descriptor.digest.clone())
            {
                continue;
            }
            if hoist_image::media_type::classify(&descriptor.media_type)
                != hoist_image::media_type::MediaKind::Manifest
            {
                // An index as a referrer is legal but rare; hoist's
                // documents model a subject on manifests only.
                tracing::warn!(
                    "skipping referrer {} of {subject}: a {}, not a manifest",
                    descriptor.digest,
                    descriptor.media_type
                );
                continue;
            }
            if depth + 1 >= hoist_oci::MAX_NESTING {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "{repository}: referrers of referrers nest more than {} deep (at {})",
                        hoist_oci::MAX_NESTING,
                        descriptor.digest
                    ),
                ));
            }
            // Parsing checks size and digest: a referrer that does not match
            // what the registry listed is an error and is never stored.
            let document =
                pull::fetch_verified(client, repository, &descriptor, progress.as_ref()).await?;
            let referrer = Referrer::of(&document)
                .filter(|r| r.subject == subject)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Protocol,
                        format!(
                            "{repository} lists {} as a referrer of {subject}, but its subject is not {subject}",
                            descriptor.digest
                        ),
                    )
                })?;
            if let Some(manifest) = document.as_manifest() {
                for blob in manifest.blobs() {
                    let outcome = pull::fetch_blob(
                        client,
                        content,
                        repository,
                        blob.clone(),
                        progress.clone(),
                    )
                    .await?;
                    match outcome {
                        BlobOutcome::Present => fetched.blobs_present += 1,
                        BlobOutcome::Downloaded(bytes) => {
                            fetched.blobs_downloaded += 1;
                            fetched.bytes_downloaded += bytes;
                        }
                    }
                }
            }
            pull::store_parsed(content, &document, repository).await?;
            queue.push_back((descriptor.digest.clone(), depth + 1));
            fetched.referrers.push(referrer);
        }
    }
    Ok(fetched)
}
