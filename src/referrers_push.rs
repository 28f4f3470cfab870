//! Pushing referrers: after an image's blobs, manifests and tag are pushed,
//! the stored referrers of every manifest pushed (and of the pushed index),
//! recursively (a signature of an SBOM), go to the same repository: their
//! blobs first, then each referrer manifest by digest, byte for byte, so a
//! signature still verifies. Then, per subject, the registry's listing: a
//! registry with the referrers API lists them itself (it says so with the
//! `OCI-Subject` header, or its API answers); on one without it the
//! fallback tag `sha256-<hex>` is merged into (`Client::add_to_fallback_tag`:
//! read, merge, write, read back).
//!
//! A reduced push writes a new index, with a new digest: referrers whose
//! subject is the original index do not describe it, and a signature's bytes
//! cannot be rewritten without breaking it. They are left behind and
//! reported (`PushReport::referrers_left_behind`).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt as _;
use hoist_content::Digest;
use hoist_image::Document;
use hoist_meta::Content;
use hoist_remote::{BlobPushed, Client, ManifestTarget, Repository};

use crate::error::Result;
use crate::progress::{BlobEvent, Progress};
use crate::push::push_blob;
use crate::referrers::{Referrer, ReferrersOptions, stored_referrers};
use crate::transfer::blocking;

/// What pushing referrers did.
#[derive(Default)]
pub(crate) struct PushedReferrers {
    /// The referrers pushed, subjects before their referrers.
    pub(crate) referrers: Vec<Referrer>,
    /// Referrers of the original index that a reduced push did not push.
    pub(crate) left_behind: Vec<Referrer>,
    /// The fallback tags written or found complete (none on a registry
    /// with the referrers API).
    pub(crate) fallback_tags: Vec<String>,
    pub(crate) blobs_uploaded: usize,
    pub(crate) blobs_mounted: usize,
    pub(crate) blobs_present: usize,
    pub(crate) bytes_uploaded: u64,
}

/// What to push referrers of.
pub(crate) struct Subjects {
    /// The digests pushed: the top document, its manifests, nested indexes.
    pub(crate) pushed: Vec<Digest>,
    /// The image's own top document when the push sent another one in its
    /// place (a reduced index): its referrers are left behind.
    pub(crate) replaced: Option<Digest>,
}

/// Pushes the stored referrers of `subjects` that `options` accepts (at
/// every level, as a pull filters) to `repository`.
pub(crate) async fn push_referrers(
    client: &Client,
    content: &Content,
    repository: &Repository,
    subjects: Subjects,
    options: &ReferrersOptions,
    concurrency: usize,
    progress: &Arc<dyn Progress>,
) -> Result<PushedReferrers> {
    let by_subject = {
        let content = content.clone();
        blocking(move || stored_referrers(&content)).await?
    };
    let mut pushed = PushedReferrers {
        referrers: closure(&by_subject, &subjects.pushed, options),
        ..PushedReferrers::default()
    };
    if let Some(replaced) = &subjects.replaced {
        pushed.left_behind = closure(&by_subject, std::slice::from_ref(replaced), options);
        for referrer in &pushed.left_behind {
            tracing::warn!(
                "{} ({}) refers to the image's index {replaced}, which a reduced push replaces \
                 with a new one: not pushed",
                referrer.descriptor.digest,
                referrer.artifact_type().unwrap_or("no artifact type"),
            );
        }
    }
    if pushed.referrers.is_empty() {
        return Ok(pushed);
    }

    // Read every referrer as stored: its bytes are what goes, unchanged.
    let documents = {
        let content = content.clone();
        let descriptors: Vec<_> = pushed
            .referrers
            .iter()
            .map(|r| r.descriptor.clone())
            .collect();
        blocking(move || {
            descriptors
                .iter()
                .map(|d| Ok(hoist_image::read_document(&content, d)?))
                .collect::<Result<Vec<Document>>>()
        })
        .await?
    };

    // Blobs first, each once, then the manifests by digest.
    let mut seen = HashSet::new();
    let blobs: Vec<_> = documents
        .iter()
        .filter_map(Document::as_manifest)
        .flat_map(|m| m.blobs().cloned().collect::<Vec<_>>())
        .filter(|b| seen.insert(b.digest.clone()))
        .collect();
    let outcomes: Vec<Result<(BlobPushed, u64)>> = futures_util::stream::iter(blobs)
        .map(|blob| push_blob(client, content, repository, blob, progress.clone()))
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for outcome in outcomes {
        match outcome? {
            (BlobPushed::Uploaded, bytes) => {
                pushed.blobs_uploaded += 1;
                pushed.bytes_uploaded += bytes;
            }
            (BlobPushed::Mounted, _) => pushed.blobs_mounted += 1,
            (_, _) => pushed.blobs_present += 1,
        }
    }
    // Whether the registry keeps the referrers list itself: known once one
    // answer says so (an `OCI-Subject` header, or the API answering).
    let mut api: Option<bool> = None;
    let mut by_pushed_subject: BTreeMap<&Digest, Vec<&Referrer>> = BTreeMap::new();
    let mut order = Vec::new();
    for (referrer, document) in pushed.referrers.iter().zip(&documents) {
        let descriptor = document.descriptor();
        let answer = client
            .put_manifest_answered(
                repository,
                ManifestTarget::Digest,
                &descriptor.media_type,
                Bytes::copy_from_slice(document.raw()),
            )
            .await?;
        progress.blob(&descriptor.digest, &descriptor.media_type, BlobEvent::Done);
        if answer.oci_subject.as_ref() == Some(&referrer.subject) {
            api = Some(true);
        }
        let list = by_pushed_subject.entry(&referrer.subject).or_default();
        if list.is_empty() {
            order.push(&referrer.subject);
        }
        list.push(referrer);
    }

    for subject in order {
        let api_answers = match api {
            Some(known) => known,
            None => {
                let answers = client
                    .referrers_api(repository, subject, None)
                    .await?
                    .is_some();
                api = Some(answers);
                answers
            }
        };
        if api_answers {
            continue;
        }
        let entries: Vec<_> = by_pushed_subject
            .get(subject)
            .into_iter()
            .flatten()
            .map(|r| r.descriptor.clone())
            .collect();
        let update = client
            .add_to_fallback_tag(repository, subject, &entries)
            .await?;
        tracing::debug!(
            tag = %update.tag,
            added = update.added,
            kept = update.kept,
            attempts = update.attempts,
            "referrers tag updated"
        );
        pushed.fallback_tags.push(update.tag);
    }
    Ok(pushed)
}

/// The referrers of `subjects`, recursively, in breadth-first order (a
/// subject before its referrers), each once, filtered at every level.
fn closure(
    by_subject: &BTreeMap<Digest, Vec<Referrer>>,
    subjects: &[Digest],
    options: &ReferrersOptions,
) -> Vec<Referrer> {
    let mut seen: HashSet<Digest> = subjects.iter().cloned().collect();
    let mut queue: VecDeque<&Digest> = subjects.iter().collect();
    let mut found = Vec::new();
    while let Some(subject) = queue.pop_front() {
        for referrer in by_subject.get(subject).into_iter().flatten() {
            if !options.accepts(referrer.artifact_type())
                || !seen.insert(referrer.descriptor.digest.clone())
            {
                continue;
            }
            queue.push_back(&referrer.descriptor.digest);
            found.push(referrer.clone());
        }
    }
    found
}
