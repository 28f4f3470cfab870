//! Pull: resolve a reference, store its index or manifest byte for byte,
//! fetch the chosen platforms' manifests, then their configs and layers in
//! parallel (the manifests are stored meanwhile), each digest once, resuming
//! interrupted downloads, all under one lease; the image record is written
//! last.

use std::collections::HashSet;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use hoist_content::{ContentWriter, Digest, Ingester, WriterOptions};
use hoist_image::{Document, Entry, Image};
use hoist_meta::{Content, MetaWriter};
use hoist_platform::Platform;
use hoist_remote::{Client, Reference, Repository};

use crate::error::{Error, ErrorKind, Result};
use crate::nested;
use crate::platforms::{self, Platforms};
use crate::progress::{BlobEvent, Progress, Totals};
use crate::referrers::{self, Referrer, ReferrersOptions};
use crate::store::{Store, WriteLease};
use crate::transfer::{self, blocking};

/// How many chunks of a download may wait for the writer thread: bounds
/// memory at a few chunks per blob in flight.
const CHUNKS_IN_FLIGHT: usize = 4;

/// Options of [`Store::pull`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PullOptions {
    /// Which platforms to fetch (the index is stored whole either way).
    pub platforms: Platforms,
    /// How many blobs to fetch at once; the store's default when `None`.
    pub concurrency: Option<usize>,
    /// The name to record; the reference as given (normalized) when `None`.
    pub name: Option<String>,
    /// Also fetch the referrers (signatures, SBOMs) of the index and of
    /// every manifest pulled, recursively; off (`None`) by default.
    pub referrers: Option<ReferrersOptions>,
}

impl PullOptions {
    /// Pulls `platforms`.
    pub fn new(platforms: Platforms) -> PullOptions {
        PullOptions {
            platforms,
            ..PullOptions::default()
        }
    }

    /// Fetches up to `concurrency` blobs at once.
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = Some(concurrency.max(1));
        self
    }

    /// Also fetches the referrers `options` chooses.
    #[must_use]
    pub fn with_referrers(mut self, options: ReferrersOptions) -> Self {
        self.referrers = Some(options);
        self
    }
}

/// What [`Store::pull`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullReport {
    /// The name recorded.
    pub name: String,
    /// What it points at: the index or manifest, as the registry served it.
    pub target: hoist_image::Descriptor,
    /// The platforms whose manifests were fetched.
    pub platforms: Vec<Platform>,
    /// The manifests fetched (platforms, attestations, unknown).
    pub manifests: Vec<Entry>,
    /// The referrers fetched (with [`PullOptions::referrers`]), subjects first.
    pub referrers: Vec<Referrer>,
    /// Blobs (configs and layers) downloaded.
    pub blobs_downloaded: usize,
    /// Blobs that were already stored (or that another writer stored).
    pub blobs_present: usize,
    /// Bytes downloaded (a resumed blob counts what this pull fetched).
    pub bytes_downloaded: u64,
}

/// What fetching an image into the store left behind (before naming it).
pub(crate) struct Fetched {
    pub image: Image,
    pub manifests: Vec<Entry>,
    pub referrers: Vec<Referrer>,
    pub blobs_downloaded: usize,
    pub blobs_present: usize,
    pub bytes_downloaded: u64,
}

/// How one blob ended.
pub(crate) enum BlobOutcome {
    Present,
    Downloaded(u64),
}

impl Store {
    /// Pulls `reference` (e.g. `localhost:5000/app:1`) into the store and
    /// names it.
    ///
    /// # Errors
    /// Not found (with the available platforms) when a chosen platform is
    /// absent from the index, or for an empty index; registry errors
    /// (unauthenticated, denied, unavailable); data loss when a blob does
    /// not match its digest after every retry. On error nothing is named, the
    /// pull's lease is deleted, and partial downloads stay as ingests that
    /// the next pull of the same blobs resumes.
    pub async fn pull(
        &self,
        reference: &str,
        options: &PullOptions,
        progress: Arc<dyn Progress>,
    ) -> Result<PullReport> {
        let reference = transfer::parse_reference(reference)?;
        let name = options
            .name
            .clone()
            .unwrap_or_else(|| reference.to_string());
        let lease = self.begin("pull")?;
        let fetched = self
            .fetch(&lease, &reference, &name, options, progress)
            .await?;
        let target = fetched.image.target.clone();
        let store = self.clone();
        let record_name = name.clone();
        // The name is written last, once everything it reaches is stored;
        // only then may the lease go.
        blocking(move || store.set_image(&record_name, &target).map(drop)).await?;
        lease.finish()?;
        Ok(PullReport {
            name,
            target: fetched.image.target,
            platforms: fetched
                .manifests
                .iter()
                .filter_map(|e| e.platform().cloned())
                .collect(),
            manifests: fetched.manifests,
            referrers: fetched.referrers,
            blobs_downloaded: fetched.blobs_downloaded,
            blobs_present: fetched.blobs_present,
            bytes_downloaded: fetched.bytes_downloaded,
        })
    }

    /// Fetches `reference` into the store through `lease`, naming nothing.
    pub(crate) async fn fetch(
        &self,
        lease: &WriteLease,
        reference: &Reference,
        name: &str,
        options: &PullOptions,
        progress: Arc<dyn Progress>,
    ) -> Result<Fetched> {
        let client = self.client()?;
        let repository = reference.repo();
        let content = lease.content();
        let concurrency = options.concurrency.unwrap_or(self.options().concurrency);
        // The manifests and blobs a round trip or two from now go out in
        // parallel: open their connections while the top document comes.
        let _warm = client.preconnect(reference.registry(), concurrency.saturating_sub(1));
        let top = client.get_manifest(reference).await?;
        let target = top.descriptor.clone();
        let document = Document::parse(top.bytes.to_vec(), &target)?;
        let image = Image::new(name, target.clone());

        // The manifests to fetch: the chosen entries of an index, or the lone
        // manifest. Documents that nothing below reads from the store are
        // stored while the blobs download (`storing`); all of it is under the
        // lease, and the caller names the image only after `fetch` returns,
        // so the order in which they land does not matter.
        let (manifests, pending, report_stored) = match &document {
            Document::Index(index) => {
                // Choosing platforms reads the index (and nested ones) from the store.
                let storing_index = std::time::Instant::now();
                store_parsed(&content, &document, &repository).await?;
                tracing::debug!(
                    digest = %target.digest,
                    ms = storing_index.elapsed().as_secs_f64() * 1e3,
                    "index stored"
                );
                fetch_nested_indexes(&client, &content, &repository, index, progress.as_ref())
                    .await?;
                let picked = {
                    let content = content.clone();
                    let image = image.clone();
                    let platforms = options.platforms.clone();
                    blocking(move || platforms::resolve(&content, &image, &platforms))
                        .await?
                        .entries
                };
                let pending = fetch_manifests(&client, &repository, picked.clone(), &progress);
                (picked, pending, true)
            }
            Document::Manifest(_) => {
                let lone: ManifestStream<'_> =
                    futures_util::stream::iter([Ok(document.clone())]).boxed();
                (Vec::new(), lone, false)
            }
        };
        let transferred = transfer_blobs(
            &client,
            &content,
            &repository,
            pending,
            report_stored,
            concurrency,
            &progress,
        )
        .await?;
        // In the index's order, whatever order they arrived in.
        let mut documents = transferred.documents;
        documents.sort_by_key(|d| {
            manifests
                .iter()
                .position(|e| e.descriptor.digest == *d.digest())
        });
        let mut fetched = Fetched {
            image,
            manifests,
            referrers: Vec::new(),
            blobs_downloaded: transferred.blobs_downloaded,
            blobs_present: transferred.blobs_present,
            bytes_downloaded: transferred.bytes_downloaded,
        };

        // A lone manifest: now that its config is here, check its platform.
        if fetched.manifests.is_empty() {
            let content = content.clone();
            let image = fetched.image.clone();
            let platforms = options.platforms.clone();
            fetched.manifests = blocking(move || platforms::resolve(&content, &image, &platforms))
                .await?
                .entries;
        }

        if let Some(referrer_options) = &options.referrers {
            // Only what this pull fetched: a referrer of a manifest left
            // behind is not fetched.
            let subjects = std::iter::once(target.digest.clone())
                .chain(documents.iter().map(|d| d.digest().clone()))
                .collect::<Vec<_>>();
            let mut unique = HashSet::new();
            let subjects = subjects
                .into_iter()
                .filter(|d| unique.insert(d.clone()))
                .collect();
            let found = referrers::fetch_referrers(
                &client,
                &content,
                &repository,
                subjects,
                referrer_options,
                &progress,
            )
            .await?;
            fetched.referrers = found.referrers;
            fetched.blobs_downloaded += found.blobs_downloaded;
            fetched.blobs_present += found.blobs_present;
            fetched.bytes_downloaded += found.bytes_downloaded;
        }
        Ok(fetched)
    }
}

/// Fetches and stores, byte for byte, every index nested in `index` (with
/// the one walker `verify --remote` uses), so that choosing platforms sees
/// their manifests too, as containerd's does. Each stored index carries
/// `gc.ref` labels to its entries, like the top one.
async fn fetch_nested_indexes(
    client: &Client,
    content: &Content,
    repository: &Repository,
    index: &hoist_image::Index,
    progress: &dyn Progress,
) -> Result<()> {
    let tree = nested::walk(client, repository, index, progress).await?;
    for document in &tree.nested {
        store_parsed(content, document, repository).await?;
        let descriptor = document.descriptor();
        progress.blob(&descriptor.digest, &descriptor.media_type, BlobEvent::Done);
    }
    Ok(())
}

/// Fetches the manifest or index `descriptor` names and checks it against
/// the descriptor (size, digest, media type), in memory.
pub(crate) async fn fetch_verified(
    client: &Client,
    repository: &Repository,
    descriptor: &hoist_image::Descriptor,
    progress: &dyn Progress,
) -> Result<Document> {
    progress.blob(
        &descriptor.digest,
        &descriptor.media_type,
        BlobEvent::Resolving,
    );
    let manifest = client
        .fetch_manifest(repository, &descriptor.digest)
        .await?;
    Ok(Document::parse(manifest.bytes.to_vec(), descriptor)?)
}

/// Stores a parsed document on the blocking pool and waits for it.
pub(crate) async fn store_parsed(
    content: &Content,
    document: &Document,
    repository: &Repository,
) -> Result<()> {
    let content = content.clone();
    let document = document.clone();
    let repository = repository.clone();
    blocking(move || transfer::store_document(&content, &document, &repository)).await
}

/// Documents being stored on the blocking pool while the pull goes on.
#[derive(Default)]
struct Storing(Vec<tokio::task::JoinHandle<Result<()>>>);

impl Storing {
    /// Starts storing `document` (already verified by parsing); reports it
    /// done to `progress` once stored.
    fn start(
        &mut self,
        content: &Content,
        document: Document,
        repository: &Repository,
        progress: Option<Arc<dyn Progress>>,
    ) {
        let content = content.clone();
        let repository = repository.clone();
        self.0.push(tokio::task::spawn_blocking(move || {
            transfer::store_document(&content, &document, &repository)?;
            if let Some(progress) = progress {
                let descriptor = document.descriptor();
                progress.blob(&descriptor.digest, &descriptor.media_type, BlobEvent::Done);
            }
            Ok(())
        }));
    }

    /// Waits for every store started; the first error, if any.
    async fn finish(self) -> Result<()> {
        let mut first = Ok(());
        for handle in self.0 {
            let stored = handle
                .await
                .map_err(|e| Error::internal(format!("storing a document failed: {e}")))
                .and_then(|r| r);
            if first.is_ok() {
                first = stored;
            }
        }
        first
    }
}

/// Manifests arriving, verified, in the order they arrive.
type ManifestStream<'a> = futures_util::stream::BoxStream<'a, Result<Document>>;

/// Fetches and verifies the manifests of `entries`, all at once: a far
/// registry answers them in one round trip instead of one each.
fn fetch_manifests<'a>(
    client: &'a Client,
    repository: &'a Repository,
    entries: Vec<Entry>,
    progress: &'a Arc<dyn Progress>,
) -> ManifestStream<'a> {
    let count = entries.len().max(1);
    futures_util::stream::iter(entries)
        .map(move |entry| async move {
            fetch_verified(client, repository, &entry.descriptor, progress.as_ref()).await
        })
        .buffer_unordered(count)
        .boxed()
}

/// What [`transfer_blobs`] moved.
struct Transferred {
    /// The manifests, in the order they arrived.
    documents: Vec<Document>,
    blobs_downloaded: usize,
    blobs_present: usize,
    bytes_downloaded: u64,
}

/// Downloads the configs and layers of the manifests `pending` yields, each
/// digest once, up to `concurrency` at a time, starting each manifest's
/// blobs as soon as that manifest is here rather than once all are (a far
/// registry's slowest answer would hold up every platform). Each manifest is
/// stored meanwhile on the blocking pool (the blobs need only the parsed
/// manifest), `report_stored` saying whether `progress` hears of it. The
/// totals are reported once every manifest is in. On an error, the
/// downloads under way finish (what they fetched stays for the next pull)
/// and the first error is returned.
async fn transfer_blobs(
    client: &Client,
    content: &Content,
    repository: &Repository,
    mut pending: ManifestStream<'_>,
    report_stored: bool,
    concurrency: usize,
    progress: &Arc<dyn Progress>,
) -> Result<Transferred> {
    let mut storing = Storing::default();
    let mut transferred = Transferred {
        documents: Vec::new(),
        blobs_downloaded: 0,
        blobs_present: 0,
        bytes_downloaded: 0,
    };
    let mut seen = HashSet::new();
    let mut queue = Vec::new();
    let mut totals = Totals::default();
    // Each download holds a slot while it talks to the registry, not while
    // its blob is verified and made durable: a commit waiting for the disk
    // does not keep the next blob's request from going out.
    let slots = tokio::sync::Semaphore::new(concurrency.max(1));
    let mut downloads = futures_util::stream::FuturesUnordered::new();
    let mut manifests_done = false;
    let mut first_error: Option<Error> = None;
    loop {
        for blob in queue.drain(..) {
            downloads.push(fetch_blob_in_slot(
                client,
                content,
                repository,
                blob,
                progress.clone(),
                Some(&slots),
            ));
        }
        if manifests_done && downloads.is_empty() {
            break;
        }
        tokio::select! {
            next = pending.next(), if !manifests_done => match next {
                Some(Ok(document)) => {
                    if let Document::Manifest(manifest) = &document {
                        let mut new: Vec<_> = manifest
                            .blobs()
                            .filter(|blob| seen.insert(blob.digest.clone()))
                            .cloned()
                            .collect();
                        // The largest first: the small ones fill the gaps
                        // at the end instead of the largest starting last.
                        new.sort_by_key(|blob| std::cmp::Reverse(blob.size));
                        for blob in new {
                            totals.blobs += 1;
                            totals.bytes += blob.size;
                            queue.push(blob);
                        }
                    }
                    storing.start(
                        content,
                        document.clone(),
                        repository,
                        report_stored.then(|| progress.clone()),
                    );
                    transferred.documents.push(document);
                }
                Some(Err(error)) => {
                    // Nothing more starts; what is under way finishes.
                    first_error.get_or_insert(error);
                    queue.clear();
                    manifests_done = true;
                }
                None => {
                    manifests_done = true;
                    progress.totals(totals);
                }
            },
            Some(outcome) = downloads.next(), if !downloads.is_empty() => match outcome {
                Ok(BlobOutcome::Present) => transferred.blobs_present += 1,
                Ok(BlobOutcome::Downloaded(bytes)) => {
                    transferred.blobs_downloaded += 1;
                    transferred.bytes_downloaded += bytes;
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            },
        }
    }
    let stored = storing.finish().await;
    match first_error {
        Some(error) => Err(error),
        None => stored.map(|()| transferred),
    }
}

/// Fetches one blob into the store unless it is there, resuming any ingest
/// left by an earlier attempt (in this process or a killed one) with a
/// Range request; the content store verifies the digest as it is written.
pub(crate) async fn fetch_blob(
    client: &Client,
    content: &Content,
    repository: &Repository,
    blob: hoist_image::Descriptor,
    progress: Arc<dyn Progress>,
) -> Result<BlobOutcome> {
    fetch_blob_in_slot(client, content, repository, blob, progress, None).await
}

/// [`fetch_blob`], each request to the registry (and the writing of what
/// it brings) made while holding one of `slots`, when given.
async fn fetch_blob_in_slot(
    client: &Client,
    content: &Content,
    repository: &Repository,
    blob: hoist_image::Descriptor,
    progress: Arc<dyn Progress>,
    slots: Option<&tokio::sync::Semaphore>,
) -> Result<BlobOutcome> {
    let digest = blob.digest.clone();
    let media_type = blob.media_type.clone();
    let size = blob.size;
    // One policy bounds every request for this blob: the client sends each
    // download once, and this loop resumes it at the writer's offset.
    let policy = client.retry_policy();
    let mut attempt = 0;
    let mut downloaded = 0u64;
    let mut last_error: Option<Error> = None;
    while attempt < policy.attempts.max(1) {
        attempt += 1;
        if attempt > 1 {
            tokio::time::sleep(policy.backoff(attempt - 1)).await;
        }
        let slot = match slots {
            Some(slots) => Some(
                slots
                    .acquire()
                    .await
                    .map_err(|e| Error::internal(format!("download slots closed: {e}")))?,
            ),
            None => None,
        };
        let Some(writer) =
            open_writer(content, &digest, size, progress.as_ref(), &media_type).await?
        else {
            transfer_label(content, &digest, repository).await?;
            progress.blob(&digest, &media_type, BlobEvent::Exists);
            return Ok(if downloaded > 0 {
                BlobOutcome::Downloaded(downloaded)
            } else {
                BlobOutcome::Present
            });
        };
        let (writer, result) = download(client, repository, &blob, writer, progress.as_ref()).await;
        drop(slot);
        let writer = match (writer, result) {
            (Some(writer), Ok(bytes)) => {
                downloaded += bytes;
                writer
            }
            (writer, Err((error, bytes))) => {
                downloaded += bytes;
                // Keep what arrived: the next attempt (or the next pull) resumes.
                if let Some(writer) = writer {
                    let _ = blocking(move || Ok(writer.close()?)).await;
                }
                if !is_resumable(&error) {
                    return Err(error);
                }
                tracing::debug!("download of {digest} interrupted (attempt {attempt}): {error}");
                last_error = Some(error);
                continue;
            }
            (None, Ok(_)) => return Err(Error::internal(format!("lost the writer of {digest}"))),
        };
        let labels = {
            let (key, value) = transfer::source_label(repository);
            hoist_content::Labels::from([(key, value)])
        };
        let expected = digest.clone();
        let committing = std::time::Instant::now();
        let committed = blocking(move || Ok(writer.commit(size, Some(&expected), labels)?)).await;
        tracing::debug!(
            %digest,
            ms = committing.elapsed().as_secs_f64() * 1e3,
            "blob committed"
        );
        match committed {
            Ok(_) => {
                progress.blob(&digest, &media_type, BlobEvent::Done);
                return Ok(BlobOutcome::Downloaded(downloaded));
            }
            Err(error) if error.is_already_exists() => {
                transfer_label(content, &digest, repository).await?;
                progress.blob(&digest, &media_type, BlobEvent::Done);
                return Ok(BlobOutcome::Downloaded(downloaded));
            }
            // A digest mismatch removed the ingest (its bytes were wrong); a
            // size mismatch kept it. Either way, try again from what is left.
            Err(error) if error.is_failed_precondition() => {
                tracing::debug!("{digest} failed verification (attempt {attempt}): {error}");
                last_error = Some(
                    Error::new(ErrorKind::DataLoss, error.message().to_owned()).with_source(error),
                );
            }
            Err(error) => return Err(error),
        }
    }
    Err(last_error
        .unwrap_or_else(|| Error::internal(format!("no attempt made to fetch {digest}")))
        .context(format!(
            "fetching {digest} from {repository} failed after {attempt} attempts"
        )))
}

/// Whether a failed download may be resumed by another attempt.
fn is_resumable(error: &Error) -> bool {
    match error.remote_error() {
        Some(remote) => remote.is_retryable() || remote.bytes_received().is_some(),
        None => false,
    }
}

async fn transfer_label(content: &Content, digest: &Digest, repository: &Repository) -> Result<()> {
    let content = content.clone();
    let digest = digest.clone();
    let repository = repository.clone();
    blocking(move || transfer::add_source_label(&content, &digest, &repository)).await
}

/// Opens the blob's writer, waiting (and saying so) while another writer,
/// here or in another process, holds it; `None` when the blob is stored.
async fn open_writer(
    content: &Content,
    digest: &Digest,
    size: u64,
    progress: &dyn Progress,
    media_type: &str,
) -> Result<Option<MetaWriter>> {
    // One reference per digest: a pull killed midway leaves its ingest
    // under this name, and the next pull of the same blob resumes it.
    let options = WriterOptions::new(format!("hoist-pull-{}", digest.hex()))
        .expected(digest.clone())
        .total(size);
    let first = {
        let content = content.clone();
        let options = options.clone();
        blocking(move || match content.writer(options) {
            Ok(writer) => Ok(Some(Ok(writer))),
            Err(error) if error.is_already_exists() => Ok(None),
            Err(error) if error.is_unavailable() => Ok(Some(Err(error))),
            Err(error) => Err(error.into()),
        })
        .await?
    };
    match first {
        None => Ok(None),
        Some(Ok(writer)) => Ok(Some(writer)),
        Some(Err(_busy)) => {
            progress.blob(digest, media_type, BlobEvent::Waiting);
            let content = content.clone();
            blocking(move || {
                match hoist_content::open_writer_waiting(&content, options, Duration::MAX) {
                    Ok(writer) => Ok(Some(writer)),
                    Err(error) if error.is_already_exists() => Ok(None),
                    Err(error) => Err(error.into()),
                }
            })
            .await
        }
    }
}

/// Streams the rest of the blob into `writer`: chunks go from the network
/// to a blocking writer thread (which hashes and writes them) through a
/// small bounded channel. Returns the writer (unless writing itself failed)
/// and the bytes received, or the error and the bytes received before it.
async fn download(
    client: &Client,
    repository: &Repository,
    blob: &hoist_image::Descriptor,
    mut writer: MetaWriter,
    progress: &dyn Progress,
) -> (Option<MetaWriter>, std::result::Result<u64, (Error, u64)>) {
    let size = blob.size;
    let digest = &blob.digest;
    if writer.offset() > size
        && let Err(error) = writer.truncate(0)
    {
        return (Some(writer), Err((error.into(), 0)));
    }
    let offset = writer.offset();
    if offset == size {
        return (Some(writer), Ok(0));
    }
    let mut stream = match client.fetch_blob_attempt(repository, digest, offset).await {
        Ok(stream) => stream,
        Err(error) => return (Some(writer), Err((error.into(), 0))),
    };
    if stream.offset() != offset {
        // The registry ignored the Range request and sends everything.
        if let Err(error) = writer.truncate(stream.offset()) {
            return (Some(writer), Err((error.into(), 0)));
        }
    }
    let mut done = stream.offset();
    progress.blob(
        digest,
        &blob.media_type,
        BlobEvent::Downloading { done, total: size },
    );
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let reference = digest.to_string();
    let write_task = tokio::task::spawn_blocking(move || {
        while let Some(chunk) = receiver.blocking_recv() {
            writer.write_all(&chunk).map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("writing the download of {reference}: {e}"),
                )
                .with_source(e)
            })?;
        }
        Ok::<MetaWriter, Error>(writer)
    });
    let mut received = 0u64;
    let mut failure = None;
    loop {
        match stream.next_chunk().await {
            Ok(Some(chunk)) => {
                let length = chunk.len() as u64;
                if done + length > size {
                    failure = Some(Error::new(
                        ErrorKind::DataLoss,
                        format!("{digest} from {repository}: more than its {size} bytes arrived"),
                    ));
                    break;
                }
                if sender.send(chunk).await.is_err() {
                    // The writer stopped; its error is reported below.
                    break;
                }
                received += length;
                done += length;
                progress.blob(
                    digest,
                    &blob.media_type,
                    BlobEvent::Downloading { done, total: size },
                );
            }
            Ok(None) => break,
            Err(error) => {
                failure = Some(error.into());
                break;
            }
        }
    }
    drop(sender);
    let writer = match write_task.await {
        Ok(Ok(writer)) => writer,
        Ok(Err(error)) => return (None, Err((error, received))),
        Err(error) => {
            return (
                None,
                Err((
                    Error::internal(format!("the writer of {digest} failed: {error}")),
                    received,
                )),
            );
        }
    };
    match failure {
        Some(error) => (Some(writer), Err((error, received))),
        None => (Some(writer), Ok(received)),
    }
}
