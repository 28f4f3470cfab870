//! Push: an image (all platforms, or some through the image crate's
//! `reduce`, under the push's own lease and never named) goes to a registry
//! blobs first, then child manifests by digest, then the tag exactly once,
//! last; then the tag is read back and checked.

use std::collections::{BTreeSet, HashSet};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::StreamExt as _;
use hoist_content::{Digest, Manager, Provider};
use hoist_image::{Document, Image, ReduceOptions};
use hoist_meta::Content;
use hoist_platform::Platform;
use hoist_remote::{
    BlobPushed, BlobRead, BlobSource, Client, FileSource, ManifestTarget, PushBlobOptions,
    Reference, Repository,
};
use tokio::io::{AsyncRead, ReadBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::platforms::{self, Platforms};
use crate::present;
use crate::progress::{BlobEvent, Progress, Totals};
use crate::referrers::{Referrer, ReferrersOptions};
use crate::referrers_push::{self, Subjects};
use crate::store::{Store, WriteLease};
use crate::transfer::{self, blocking};
use crate::verify::remote_entries;

/// Options of [`Store::push`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushOptions {
    /// Which platforms to push: all, or a subset (a reduced index).
    pub platforms: Platforms,
    /// How many blobs to upload at once; the store's default when `None`.
    pub concurrency: Option<usize>,
    /// Skip reading the destination back after the push (on by default:
    /// the tag must resolve to what was pushed and, for an index, list
    /// exactly the pushed platforms).
    pub no_read_back: bool,
    /// Also push the stored referrers (signatures, SBOMs) of every manifest
    /// pushed and of the pushed index, recursively, after them; off
    /// (`None`) by default. On a registry without the referrers API the
    /// fallback tag `sha256-<hex>` of each subject is merged into.
    pub referrers: Option<ReferrersOptions>,
}

impl PushOptions {
    /// Pushes `platforms`, reading the destination back once at the end.
    pub fn new(platforms: Platforms) -> PushOptions {
        PushOptions {
            platforms,
            ..PushOptions::default()
        }
    }

    /// Also pushes the referrers `options` chooses.
    #[must_use]
    pub fn with_referrers(mut self, options: ReferrersOptions) -> Self {
        self.referrers = Some(options);
        self
    }
}

/// What [`Store::push`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReport {
    /// Where it went, as given (`registry/repository:tag`, `@digest` or both).
    pub reference: String,
    /// The digest the tag resolves to on the registry (read back).
    pub digest: Digest,
    /// The pushed document's media type.
    pub media_type: String,
    /// The platforms pushed.
    pub pushed: Vec<Platform>,
    /// The platforms the image lists that were left out.
    pub left_out: Vec<Platform>,
    /// Blobs sent.
    pub blobs_uploaded: usize,
    /// Blobs the registry linked from another repository.
    pub blobs_mounted: usize,
    /// Blobs the registry had already.
    pub blobs_present: usize,
    /// Bytes sent (referrers' blobs included).
    pub bytes_uploaded: u64,
    /// The tag named the pushed document already (asked before anything
    /// was sent): nothing was written, neither blobs, manifests nor tag.
    pub tag_unchanged: bool,
    /// The referrers pushed (with [`PushOptions::referrers`]), subjects
    /// before their referrers, byte for byte as stored.
    pub referrers: Vec<Referrer>,
    /// Referrers of the image's own index that a reduced push left behind:
    /// they describe the original index, not the new reduced one, and a
    /// signature cannot be moved to another subject without re-signing.
    pub referrers_left_behind: Vec<Referrer>,
    /// The fallback tags (`sha256-<hex>`) written or found complete on a
    /// registry without the referrers API; empty on one with it.
    pub fallback_tags: Vec<String>,
}

impl Store {
    /// Pushes the local image `name` to `destination` (`None`: to `name`
    /// itself). A destination with a tag gets the tag, once, last; one
    /// pinned by digest alone gets the document by digest and no tag.
    ///
    /// # Errors
    /// Failed precondition for an empty index (refused before anything is
    /// sent) or blobs missing locally (listed by platform); not found (with
    /// the available platforms) for a chosen platform the image lacks;
    /// invalid argument, before anything is sent, when the destination's
    /// digest is not that of what would be pushed; registry errors; data
    /// loss when the destination does not read back as pushed.
    pub async fn push(
        &self,
        name: &str,
        destination: Option<&str>,
        options: &PushOptions,
        progress: Arc<dyn Progress>,
    ) -> Result<PushReport> {
        let record = {
            let store = self.clone();
            let name = name.to_owned();
            blocking(move || store.image(&name)).await?
        };
        let destination = transfer::parse_reference(destination.unwrap_or(name))?;
        let lease = self.begin("push")?;
        let report = self
            .push_image(
                &lease,
                crate::images::documents_of(&record),
                &destination,
                options,
                progress,
            )
            .await?;
        // A reduced index was never named: the lease alone held it, and the
        // collector may take it now.
        lease.finish()?;
        Ok(report)
    }

    /// Pushes `image` (stored, readable through `lease`) to `destination`.
    pub(crate) async fn push_image(
        &self,
        lease: &WriteLease,
        image: Image,
        destination: &Reference,
        options: &PushOptions,
        progress: Arc<dyn Progress>,
    ) -> Result<PushReport> {
        // Every read of the push (what is there, the read-back, referrer
        // listings) goes where the push writes, never to a pull-only mirror.
        let client = self.client()?.pushing();
        let content = lease.content();
        let repository = destination.repo();
        let concurrency = options.concurrency.unwrap_or(self.options().concurrency);
        let image_target = image.target.digest.clone();

        // Decide what goes, before anything is sent: an empty index, a
        // missing platform or a missing blob fails here.
        let plan = {
            let content = content.clone();
            let platforms = options.platforms.clone();
            blocking(move || plan(&content, &image, &platforms)).await?
        };
        // A destination pinned by digest names what must arrive: anything
        // else (a reduced index, another image) is refused before sending.
        if let Some(pinned) = destination.digest()
            && pinned != plan.top.digest()
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "push to {destination}: the image to push has digest {}, not {pinned}; \
                     nothing was sent",
                    plan.top.digest()
                ),
            ));
        }

        // The questions below open a few connections; the blobs after them
        // want `concurrency` more at once (a HEAD and a POST each): opened
        // now, while the questions travel, they are warm when the blobs go.
        let _warm = client.preconnect(repository.registry(), concurrency.saturating_sub(1));
        // What the destination has already needs no blob sent (present.rs).
        let present = present::ask(
            &client,
            &repository,
            destination.tag(),
            &plan.top,
            &plan.manifests,
            concurrency,
        )
        .await?;

        // Blobs first, each once.
        let mut seen = HashSet::new();
        let mut blobs = Vec::new();
        for document in &plan.manifests {
            if let Document::Manifest(manifest) = document {
                for blob in manifest.blobs() {
                    if seen.insert(blob.digest.clone()) {
                        blobs.push(blob.clone());
                    }
                }
            }
        }
        // The largest first: the small ones fill the gaps at the end instead
        // of the largest starting last and uploading alone.
        blobs.sort_by_key(|blob| std::cmp::Reverse(blob.size));
        progress.totals(Totals {
            blobs: blobs.len(),
            bytes: blobs.iter().map(|b| b.size).sum(),
        });
        let outcomes: Vec<Result<(BlobPushed, u64)>> = futures_util::stream::iter(blobs)
            .map(|blob| {
                let known = present.has_blob(&blob.digest);
                let (client, content, repository) = (&client, &content, &repository);
                let progress = progress.clone();
                async move {
                    if known {
                        progress.blob(&blob.digest, &blob.media_type, BlobEvent::Exists);
                        return Ok((BlobPushed::AlreadyPresent, 0));
                    }
                    push_blob(client, content, repository, blob, progress).await
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut report = PushReport {
            reference: destination.to_string(),
            digest: plan.top.digest().clone(),
            media_type: plan.top.descriptor().media_type.clone(),
            pushed: plan.pushed.clone(),
            left_out: plan.left_out.clone(),
            blobs_uploaded: 0,
            blobs_mounted: 0,
            blobs_present: 0,
            bytes_uploaded: 0,
            tag_unchanged: false,
            referrers: Vec::new(),
            referrers_left_behind: Vec::new(),
            fallback_tags: Vec::new(),
        };
        for outcome in outcomes {
            match outcome? {
                (BlobPushed::Uploaded, bytes) => {
                    report.blobs_uploaded += 1;
                    report.bytes_uploaded += bytes;
                }
                (BlobPushed::Mounted, _) => report.blobs_mounted += 1,
                (_, _) => report.blobs_present += 1,
            }
        }

        // Child manifests by digest, then nested indexes by digest, children
        // before parents (a registry checks that an index's children exist),
        // then the tag, once, last.
        if let Document::Index(_) = &plan.top {
            // The manifests need only their blobs: all at once, one round
            // trip to a far registry rather than one each.
            let put = |document: &Document| {
                let descriptor = document.descriptor().clone();
                let bytes = Bytes::copy_from_slice(document.raw());
                let (client, repository, progress) = (&client, &repository, &progress);
                let there = present.has_manifest(&descriptor.digest);
                async move {
                    if there {
                        progress.blob(
                            &descriptor.digest,
                            &descriptor.media_type,
                            BlobEvent::Exists,
                        );
                        return Ok::<(), Error>(());
                    }
                    client
                        .put_manifest(
                            repository,
                            ManifestTarget::Digest,
                            &descriptor.media_type,
                            bytes,
                        )
                        .await?;
                    progress.blob(&descriptor.digest, &descriptor.media_type, BlobEvent::Done);
                    Ok::<(), Error>(())
                }
            };
            futures_util::stream::iter(plan.manifests.iter().map(put))
                .buffer_unordered(concurrency.max(1))
                .collect::<Vec<Result<()>>>()
                .await
                .into_iter()
                .collect::<Result<()>>()?;
            for document in &plan.nested {
                put(document).await?;
            }
        }
        // A tag that already names the document is left as it is: the
        // registry's answer to the question asked before any blob is the
        // read-back (same digest, so the same bytes and platforms).
        report.tag_unchanged = present.tag_current();
        if !report.tag_unchanged {
            let top = plan.top.descriptor();
            let target = match destination.tag() {
                Some(tag) => ManifestTarget::Tag(tag),
                None => ManifestTarget::Digest,
            };
            let pushed = client
                .put_manifest(
                    &repository,
                    target,
                    &top.media_type,
                    Bytes::copy_from_slice(plan.top.raw()),
                )
                .await?;
            if pushed.digest != top.digest {
                return Err(Error::new(
                    ErrorKind::DataLoss,
                    format!(
                        "the registry stored {destination} as {}, but hoist pushed {}",
                        pushed.digest, top.digest
                    ),
                ));
            }
            if !options.no_read_back {
                read_back(&client, destination, &plan).await?;
            }
        }

        // Referrers after everything they describe is there.
        if let Some(referrer_options) = &options.referrers {
            let mut unique = HashSet::new();
            let pushed = std::iter::once(plan.top.digest())
                .chain(plan.manifests.iter().map(Document::digest))
                .chain(plan.nested.iter().map(Document::digest))
                .filter(|d| unique.insert((*d).clone()))
                .cloned()
                .collect();
            let replaced = Some(image_target.clone()).filter(|d| d != plan.top.digest());
            let sent = referrers_push::push_referrers(
                &client,
                &content,
                &repository,
                Subjects { pushed, replaced },
                referrer_options,
                concurrency,
                &progress,
            )
            .await?;
            report.blobs_uploaded += sent.blobs_uploaded;
            report.blobs_mounted += sent.blobs_mounted;
            report.blobs_present += sent.blobs_present;
            report.bytes_uploaded += sent.bytes_uploaded;
            report.referrers = sent.referrers;
            report.referrers_left_behind = sent.left_behind;
            report.fallback_tags = sent.fallback_tags;
        }
        Ok(report)
    }
}

/// What a push sends.
struct Plan {
    /// The document the tag points at.
    top: Document,
    /// The manifests it reaches (itself for a lone manifest).
    manifests: Vec<Document>,
    /// The indexes nested in the top one, each after the indexes it nests.
    nested: Vec<Document>,
    pushed: Vec<Platform>,
    left_out: Vec<Platform>,
}

/// Reduces the image to the chosen platforms (refusing an empty index and
/// incomplete platforms) and reads the documents to send.
fn plan(content: &Content, image: &Image, platforms: &Platforms) -> Result<Plan> {
    // Selection first: it refuses an empty index and names absent platforms.
    let selection = platforms::resolve(content, image, platforms)?;
    let reduced = hoist_image::reduce(
        content,
        image,
        &selection.matcher,
        &ReduceOptions::default(),
    )?;
    let report = hoist_image::platform_report(content, image)?;
    let pushed: Vec<Platform> = reduced
        .kept
        .iter()
        .filter_map(|e| e.platform().cloned())
        .collect();
    let mut left_out = Vec::new();
    for platform in report.platforms().filter_map(|row| row.entry.platform()) {
        if !pushed.contains(platform) && !left_out.contains(platform) {
            left_out.push(platform.clone());
        }
    }
    let top = hoist_image::read_document(content, &reduced.target)?;
    let mut manifests = Vec::new();
    let mut nested = Vec::new();
    match &top {
        Document::Manifest(_) => manifests.push(top.clone()),
        Document::Index(_) => {
            // The one local walker; `reduce` walked the same tree and
            // refuses one nested too deep. A nested index is pushed after
            // its children: the reverse of the walk's parents-first order.
            let tree = hoist_image::tree(
                content,
                &Image::new(image.name.clone(), reduced.target.clone()),
            )?;
            for entry in &tree.entries {
                manifests.push(hoist_image::read_document(content, &entry.descriptor)?);
            }
            for descriptor in tree.nested.iter().rev() {
                nested.push(hoist_image::read_document(content, descriptor)?);
            }
        }
    }
    Ok(Plan {
        top,
        manifests,
        nested,
        pushed,
        left_out,
    })
}

/// Reads the destination back: it must resolve to what was pushed and, for
/// an index, list exactly the intended platforms (through nested indexes).
async fn read_back(client: &Client, destination: &Reference, plan: &Plan) -> Result<()> {
    // A tag is what a push publishes; a digest-only destination is checked
    // by digest.
    let name = match destination.tag() {
        Some(tag) => destination.repo().tagged(tag)?,
        None => destination.clone(),
    };
    // One GET: the digest of what the tag names, and its bytes.
    let manifest = client.get_manifest(&name).await?;
    let resolved = manifest.descriptor.clone();
    let expected = plan.top.digest();
    if &resolved.digest != expected {
        return Err(Error::new(
            ErrorKind::DataLoss,
            format!(
                "after the push, {destination} resolves to {}, not the pushed {expected}",
                resolved.digest
            ),
        ));
    }
    if let Document::Index(_) = &plan.top {
        let repository = destination.repo();
        let document = Document::parse(manifest.bytes.to_vec(), &resolved)?;
        let listed: BTreeSet<String> = remote_entries(client, &repository, &document)
            .await?
            .into_iter()
            .filter(|e| !e.attestation)
            .filter_map(|e| e.platform.map(|p| p.to_string()))
            .collect();
        let intended: BTreeSet<String> = plan.pushed.iter().map(ToString::to_string).collect();
        if listed != intended {
            return Err(Error::new(
                ErrorKind::DataLoss,
                format!(
                    "after the push, {destination} lists {listed:?}, not the intended {intended:?}"
                ),
            ));
        }
    }
    Ok(())
}

/// Uploads one blob unless the registry has it, mounting it from the
/// repository its source label names when that is on the same registry.
pub(crate) async fn push_blob(
    client: &Client,
    content: &Content,
    repository: &Repository,
    blob: hoist_image::Descriptor,
    progress: Arc<dyn Progress>,
) -> Result<(BlobPushed, u64)> {
    let digest = blob.digest.clone();
    let info = {
        let content = content.clone();
        let digest = digest.clone();
        blocking(move || Ok(content.info(&digest)?)).await?
    };
    let mount_from = transfer::mount_source(&info.labels, repository.registry())
        .filter(|from| from != repository);
    let path = content.namespace().store().local_store().blob_path(&digest);
    let sent = Arc::new(AtomicU64::new(0));
    let source = CountingSource {
        inner: FileSource(path),
        sent: sent.clone(),
        progress: progress.clone(),
        digest: digest.clone(),
        media_type: blob.media_type.clone(),
        total: blob.size,
    };
    // The store must hold it (a reader proves it) before bytes are promised.
    {
        let content = content.clone();
        let digest = digest.clone();
        blocking(move || Ok(content.reader(&digest).map(drop)?)).await?;
    }
    let options = PushBlobOptions {
        skip_existing: true,
        mount_from,
        ..PushBlobOptions::default()
    };
    let outcome = client
        .push_blob(repository, &digest, blob.size, &source, &options)
        .await?;
    let event = match outcome {
        BlobPushed::AlreadyPresent => BlobEvent::Exists,
        BlobPushed::Mounted => BlobEvent::Mounted,
        BlobPushed::Uploaded => BlobEvent::Done,
    };
    progress.blob(&digest, &blob.media_type, event);
    Ok((outcome, sent.load(Ordering::Relaxed).min(blob.size)))
}

/// A blob file that reports upload progress as it is read.
struct CountingSource {
    inner: FileSource,
    sent: Arc<AtomicU64>,
    progress: Arc<dyn Progress>,
    digest: Digest,
    media_type: String,
    total: u64,
}

impl BlobSource for CountingSource {
    async fn open(&self, offset: u64) -> std::io::Result<BlobRead> {
        let inner = self.inner.open(offset).await?;
        self.sent.store(offset, Ordering::Relaxed);
        Ok(Box::pin(CountingRead {
            inner,
            done: offset,
            sent: self.sent.clone(),
            progress: self.progress.clone(),
            digest: self.digest.clone(),
            media_type: self.media_type.clone(),
            total: self.total,
        }))
    }
}

struct CountingRead {
    inner: BlobRead,
    done: u64,
    sent: Arc<AtomicU64>,
    progress: Arc<dyn Progress>,
    digest: Digest,
    media_type: String,
    total: u64,
}

impl AsyncRead for CountingRead {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = self.inner.as_mut().poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            let read = (buf.filled().len() - before) as u64;
            if read > 0 {
                self.done += read;
                self.sent.store(self.done, Ordering::Relaxed);
                let (done, total) = (self.done, self.total);
                self.progress.blob(
                    &self.digest,
                    &self.media_type,
                    BlobEvent::Uploading { done, total },
                );
            }
        }
        poll
    }
}
