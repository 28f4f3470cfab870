//! Pull-through: what the store lacks, fetched from an upstream registry.
//!
//! With upstreams configured ([`crate::ServeOptions::upstream`]), a
//! manifest or blob request the store cannot answer (`MANIFEST_UNKNOWN`,
//! `BLOB_UNKNOWN`, `NAME_UNKNOWN`) is fetched from the upstream that the
//! request's `ns` names (containerd sends the registry host it mirrors) or,
//! without `ns`, from the first upstream. The client is the store's own
//! ([`hoist::Store::client`]): the hosts directory, credentials and retry
//! policy of `hoist pull`.
//!
//! - A manifest fetched by tag is verified (the client checks its digest),
//!   stored byte for byte with its `gc.ref` labels and named as
//!   `hoist pull` would name it, `<upstream>/<prefix>/<name>:<tag>`, so later
//!   requests, `hoist images` and GC see it. Its children, fetched by
//!   digest when asked for, are reached from it through those labels.
//! - A manifest fetched by digest and every blob are stored under the
//!   server's lease, which expires on its own; what a named image reaches
//!   outlives it, the rest is collected after it.
//! - Blobs stream to clients while they download ([`crate::blob_flight`]).
//! - One upstream fetch per manifest or blob at a time, however many
//!   clients ask ([`crate::single_flight`]).
//! - A tag the store holds from an upstream is revalidated before it is
//!   served ([`PullThrough::revalidate`]): one `HEAD` asks the upstream
//!   what the tag names now; the same digest is served from the store, a
//!   new one is fetched, stored and the name re-pointed to it (the old
//!   manifest stays until GC, like any unnamed content). An upstream that
//!   cannot answer (unreachable, 5xx, no answer within
//!   [`TAG_CHECK_TIMEOUT`], 404) leaves the stored manifest served. One
//!   answer is trusted for [`crate::ServeOptions::upstream_tag_ttl`]
//!   ([`crate::tag_freshness`]). A manifest or blob asked for by digest is
//!   content-addressed: when stored, it is served without asking.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hoist::Store;
use hoist::content::Digest;
use hoist::image::{Document, media_type};
use hoist::meta::{Content, Image, ImageUpdate, Lease, LeaseOptions};
use hoist::oci::Descriptor;
use hoist::remote::{Client, Reference, Repository};
use hyper::{Response, StatusCode};

use crate::api_error::ApiError;
use crate::blob_flight::{self, BlobState};
use crate::error::{Error, Result};
use crate::handlers::{self, Body, blocking};
use crate::names;
use crate::routes;
use crate::single_flight::Flights;
use crate::tag_freshness::{Checked, Health, TagFreshness};

/// The label naming where a blob came from, as `hoist pull` writes it.
const SOURCE_LABEL_PREFIX: &str = "containerd.io/distribution.source.";

/// The longest a tag check waits for the upstream (its retries included)
/// before the stored manifest is served: a client's pull waits on it.
pub(crate) const TAG_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Names Docker Hub goes by: an `ns` of one matches an upstream of another.
const DOCKER_HUB_NAMES: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/// A registry to pull through: `host[:port]`, optionally with a path
/// prefix under which the requested names live upstream
/// (`ghcr.io/team` serves `app` from `ghcr.io/team/app`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    registry: String,
    prefix: Option<String>,
}

impl Upstream {
    /// The registry host, as given.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The path prefix, if any.
    pub fn prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }

    /// Whether requests carrying `ns` go to this upstream.
    pub fn serves(&self, ns: &str) -> bool {
        ns == self.registry
            || (DOCKER_HUB_NAMES.contains(&ns)
                && DOCKER_HUB_NAMES.contains(&self.registry.as_str()))
    }

    /// The upstream repository that requests for `name` fetch from
    /// (normalized as references are: `docker.io` + `alpine` is
    /// `docker.io/library/alpine`).
    fn repository(&self, name: &str) -> Result<Repository, ApiError> {
        let path = match &self.prefix {
            Some(prefix) => format!("{}/{prefix}/{name}", self.registry),
            None => format!("{}/{name}", self.registry),
        };
        path.parse::<Reference>()
            .map(|reference| reference.repo())
            .map_err(|e| ApiError::name_invalid(name, &e.to_string()))
    }
}

impl FromStr for Upstream {
    type Err = Error;

    /// Parses `host[:port][/prefix]`.
    fn from_str(text: &str) -> Result<Upstream> {
        let invalid = |reason: String| Error::InvalidOption {
            option: "upstream",
            reason,
        };
        let (registry, prefix) = match text.split_once('/') {
            Some((registry, prefix)) => (registry, Some(prefix)),
            None => (text, None),
        };
        if !names::is_valid_host(registry) || registry.starts_with(['.', '-', ':']) {
            return Err(invalid(format!(
                "{text:?}: expected REGISTRY[/PREFIX], e.g. docker.io or ghcr.io/team, with REGISTRY a host[:port]"
            )));
        }
        if let Some(prefix) = prefix
            && !names::is_valid_repository(prefix)
        {
            return Err(invalid(format!(
                "{text:?}: the prefix {prefix:?} is not a repository path (lowercase components separated by '/')"
            )));
        }
        let upstream = Upstream {
            registry: registry.to_owned(),
            prefix: prefix.map(str::to_owned),
        };
        // The same check a request's name goes through, once, up front.
        upstream
            .repository("probe")
            .map_err(|e| invalid(format!("{text:?}: {}", e.message)))?;
        Ok(upstream)
    }
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.prefix {
            Some(prefix) => write!(f, "{}/{prefix}", self.registry),
            None => f.write_str(&self.registry),
        }
    }
}

/// A fetched manifest: what it is, and its bytes.
type FetchedManifest = (Descriptor, Bytes);

/// The pull-through state of one server: the client, the lease, the
/// fetches in flight.
pub(crate) struct PullThrough {
    store: Store,
    upstreams: Vec<Upstream>,
    client: Client,
    leases: LeasePool,
    manifests: Arc<Flights<String, Option<Result<FetchedManifest, ApiError>>>>,
    blobs: Arc<Flights<Digest, BlobState>>,
    tags: TagFreshness,
}

impl PullThrough {
    /// The state for `upstreams`; `None` when there are none.
    ///
    /// # Errors
    /// When the registry client cannot be built (an unreadable
    /// `config.json`, a bad hosts directory).
    pub(crate) fn start(
        store: &Store,
        upstreams: &[Upstream],
        tag_ttl: Duration,
    ) -> Result<Option<Arc<PullThrough>>> {
        if upstreams.is_empty() {
            return Ok(None);
        }
        let client = store.client().map_err(|e| Error::InvalidOption {
            option: "upstream",
            reason: format!("cannot build the registry client: {e}"),
        })?;
        Ok(Some(Arc::new(PullThrough {
            store: store.clone(),
            upstreams: upstreams.to_vec(),
            client,
            leases: LeasePool {
                store: store.clone(),
                current: Mutex::new(None),
            },
            manifests: Arc::default(),
            blobs: Arc::default(),
            tags: TagFreshness::new(tag_ttl),
        })))
    }

    /// The upstream for a request carrying `ns` (the first one without).
    fn select(&self, ns: Option<&str>) -> Option<&Upstream> {
        match ns {
            Some(ns) => self.upstreams.iter().find(|u| u.serves(ns)),
            None => self.upstreams.first(),
        }
    }

    /// Answers a manifest request the store missed (`missed`) from the
    /// upstream; any other answer is returned as it is.
    pub(crate) async fn manifest_or(
        self: &Arc<Self>,
        missed: Result<Response<Body>, ApiError>,
        name: &str,
        reference: &routes::Reference,
        ns: Option<&str>,
        accepts_index: bool,
    ) -> Result<Response<Body>, ApiError> {
        let error = match missed {
            Err(error) if is_miss(&error) => error,
            other => return other,
        };
        let Some(upstream) = self.select(ns) else {
            return Err(error);
        };
        let repository = upstream.repository(name)?;
        match reference {
            routes::Reference::Tag(tag) => self.tagged(repository, tag, accepts_index).await,
            routes::Reference::Digest(digest) => self.pinned(repository, digest).await,
        }
    }

    /// Answers a blob request the store missed from the upstream.
    pub(crate) async fn blob_or(
        self: &Arc<Self>,
        missed: Result<Response<Body>, ApiError>,
        name: &str,
        digest: &Digest,
        ns: Option<&str>,
        range: Option<&str>,
    ) -> Result<Response<Body>, ApiError> {
        let error = match missed {
            Err(error) if is_miss(&error) => error,
            other => return other,
        };
        let Some(upstream) = self.select(ns) else {
            return Err(error);
        };
        let repository = upstream.repository(name)?;
        let this = Arc::clone(self);
        let wanted = digest.clone();
        let state = self.blobs.join_or_start(
            digest.clone(),
            BlobState::default(),
            move |sender| async move {
                let content = match this.lease_content().await {
                    Ok(content) => content,
                    Err(error) => {
                        blob_flight::fail(&sender, error);
                        return;
                    }
                };
                blob_flight::fetch(this.client.clone(), content, repository, wanted, sender).await;
            },
        );
        blob_flight::answer(&self.store, state, digest, range).await
    }

    /// Before a manifest request by tag is answered: when the tag maps to
    /// an upstream and the store holds it from there, makes sure the
    /// stored name points where the upstream's tag does (see the module
    /// doc). Never fails the request: whatever the upstream answers, the
    /// store is then asked as usual, and a tag the store lacks is left to
    /// [`PullThrough::manifest_or`].
    pub(crate) async fn revalidate(
        self: &Arc<Self>,
        name: &str,
        reference: &routes::Reference,
        ns: Option<&str>,
    ) {
        let routes::Reference::Tag(tag) = reference else {
            return; // a digest names immutable bytes
        };
        let Some(upstream) = self.select(ns) else {
            return;
        };
        let Ok(tagged) = upstream.repository(name).and_then(|repository| {
            repository
                .tagged(tag)
                .map_err(|_| ApiError::tag_invalid(tag))
        }) else {
            return; // refused later, by the same checks, with the reason
        };
        let stored_name = tagged.to_string();
        if self.tags.is_fresh(&stored_name, None) {
            return;
        }
        let this = Arc::clone(self);
        let key = stored_name.clone();
        let mut done =
            self.tags
                .checks
                .join_or_start(stored_name, false, move |sender| async move {
                    this.check_tag(tagged, key).await;
                    sender.send_replace(true);
                });
        // An error here means the check's task is gone: serve what is stored.
        let _ = done.wait_for(|done| *done).await;
    }

    /// Asks the upstream what `tagged` names now and re-points `stored_name`
    /// when it moved; records the outcome.
    async fn check_tag(self: &Arc<Self>, tagged: Reference, stored_name: String) {
        let held = {
            let store = self.store.clone();
            let name = stored_name.clone();
            blocking(move || Ok(store.namespace_handle().images().get(&name).ok())).await
        };
        let Ok(Some(held)) = held else {
            return; // not held (or unreadable): the miss path fetches it
        };
        let stored = held.target;
        // Checked by a task that ended between the caller's look and this one.
        if self.tags.is_fresh(&stored_name, Some(&stored.digest)) {
            return;
        }
        let answer = tokio::time::timeout(TAG_CHECK_TIMEOUT, self.client.resolve(&tagged)).await;
        let outcome = match answer {
            Ok(Ok(current)) if current.digest == stored.digest => Ok(current.digest),
            Ok(Ok(current)) => self.repoint(&tagged, &stored_name, &stored, current).await,
            Ok(Err(error)) if error.is_not_found() => {
                Err(format!("the upstream no longer has the tag ({error})"))
            }
            Ok(Err(error)) => Err(error.to_string_with_causes()),
            Err(_) => Err(format!("no answer within {}s", TAG_CHECK_TIMEOUT.as_secs())),
        };
        match outcome {
            Ok(digest) => {
                if self.tags.record(&stored_name, Checked::Confirmed(digest)) == Health::Recovered {
                    tracing::info!(target: "hoist_serve", image = %tagged, "the upstream confirms the tag again");
                }
            }
            Err(reason) => {
                let checked = Checked::Unconfirmed(stored.digest.clone());
                if self.tags.record(&stored_name, checked) == Health::StartedFailing {
                    tracing::warn!(
                        target: "hoist_serve",
                        image = %tagged,
                        stored = %stored.digest,
                        "cannot check the tag against the upstream, serving the stored manifest until it answers: {reason}"
                    );
                }
            }
        }
    }

    /// The upstream's tag moved from `stored` to `current`: fetches the
    /// manifest (unless stored already) and re-points the name.
    async fn repoint(
        self: &Arc<Self>,
        tagged: &Reference,
        stored_name: &str,
        stored: &Descriptor,
        current: Descriptor,
    ) -> std::result::Result<Digest, String> {
        let (_, raw) = self
            .fetch_pinned(tagged.repo(), current.digest.clone())
            .await
            .map_err(|e| {
                format!(
                    "fetching its new manifest {}: {}",
                    current.digest, e.message
                )
            })?;
        // The media type the upstream announced (a document found already
        // stored is typed only by what it declares); the verified size.
        let target = Descriptor::new(current.media_type, current.digest, raw.len() as u64);
        let store = self.store.clone();
        let name = stored_name.to_owned();
        let new = target.clone();
        blocking(move || {
            let images = store.namespace_handle().images();
            let named = match images.update(&name, ImageUpdate::new().target(new.clone())) {
                // Removed meanwhile: named again, as a first pull would.
                Err(error) if error.is_not_found() => images.create(Image::new(name.clone(), new)),
                other => other,
            };
            named
                .map(drop)
                .map_err(|e| ApiError::internal(format!("naming {name}: {e}")))
        })
        .await
        .map_err(|e| e.message)?;
        tracing::info!(
            target: "hoist_serve",
            image = %tagged,
            from = %stored.digest,
            to = %target.digest,
            "the tag moved upstream; pulled through its new manifest"
        );
        Ok(target.digest)
    }

    /// A manifest by tag: the stored name, or a fetch that names it.
    async fn tagged(
        self: &Arc<Self>,
        repository: Repository,
        tag: &str,
        accepts_index: bool,
    ) -> Result<Response<Body>, ApiError> {
        let reference = repository
            .tagged(tag)
            .map_err(|_| ApiError::tag_invalid(tag))?;
        let stored_name = reference.to_string();
        let known = {
            let store = self.store.clone();
            let name = stored_name.clone();
            blocking(move || match store.namespace_handle().images().get(&name) {
                Ok(image) => Ok(Some(image.target)),
                Err(error) if error.is_not_found() => Ok(None),
                Err(error) => Err(ApiError::internal(format!("reading image {name}: {error}"))),
            })
            .await?
        };
        let (target, fetched) = match known {
            Some(target) => (target, None),
            None => {
                let this = Arc::clone(self);
                let name = stored_name.clone();
                let receiver = self.manifests.join_or_start(
                    format!("tag {stored_name}"),
                    None,
                    move |sender| async move {
                        sender.send_replace(Some(this.fetch_tagged(reference, name).await));
                    },
                );
                let (descriptor, raw) = settled(receiver).await?;
                (descriptor, Some(raw))
            }
        };
        if accepts_index || !media_type::is_index(&target.media_type) {
            return match fetched {
                Some(raw) => handlers::manifest_response(&target, raw),
                None => self.document(&repository, target).await,
            };
        }
        let store = self.store.clone();
        let chosen =
            blocking(move || handlers::host_manifest(&store, &stored_name, target)).await?;
        self.document(&repository, chosen).await
    }

    /// A manifest by digest: from the namespace's content (where an earlier
    /// pull-through by digest left it, reachable from no name), or fetched.
    async fn pinned(
        self: &Arc<Self>,
        repository: Repository,
        digest: &Digest,
    ) -> Result<Response<Body>, ApiError> {
        let (descriptor, raw) = match self.stored_document(digest).await? {
            Some(stored) => stored,
            None => self.fetch_pinned(repository, digest.clone()).await?,
        };
        handlers::manifest_response(&descriptor, raw)
    }

    /// Document `digest` from the namespace's content, typed by the
    /// `mediaType` it declares.
    async fn stored_document(
        self: &Arc<Self>,
        digest: &Digest,
    ) -> Result<Option<FetchedManifest>, ApiError> {
        let store = self.store.clone();
        let probe = Descriptor::new(media_type::OCI_MANIFEST, digest.clone(), 0);
        let stored = blocking(move || handlers::read_document(&store, &probe)).await?;
        Ok(stored.map(|raw| {
            let descriptor = Descriptor::new(
                declared_media_type(&raw).unwrap_or_else(|| media_type::OCI_MANIFEST.to_owned()),
                digest.clone(),
                raw.len() as u64,
            );
            (descriptor, Bytes::from(raw))
        }))
    }

    /// The document `descriptor` names, from the store or fetched by digest.
    async fn document(
        self: &Arc<Self>,
        repository: &Repository,
        descriptor: Descriptor,
    ) -> Result<Response<Body>, ApiError> {
        let store = self.store.clone();
        let probe = descriptor.clone();
        match blocking(move || handlers::read_document(&store, &probe)).await? {
            Some(raw) => handlers::manifest_response(&descriptor, Bytes::from(raw)),
            None => {
                let (fetched, raw) = self
                    .fetch_pinned(repository.clone(), descriptor.digest.clone())
                    .await?;
                handlers::manifest_response(&fetched, raw)
            }
        }
    }

    /// Fetches manifest `digest` once however many ask, and stores it under
    /// the lease.
    async fn fetch_pinned(
        self: &Arc<Self>,
        repository: Repository,
        digest: Digest,
    ) -> Result<FetchedManifest, ApiError> {
        let this = Arc::clone(self);
        let receiver = self.manifests.join_or_start(
            format!("digest {digest}"),
            None,
            move |sender| async move {
                // Stored by a fetch that ended between the caller's look
                // and this one: no second download.
                let fetched = match this.stored_document(&digest).await {
                    Ok(Some(stored)) => Ok(stored),
                    Ok(None) => match this.client.fetch_manifest(&repository, &digest).await {
                        Ok(manifest) => this.store_manifest(&repository, manifest).await,
                        Err(error) => Err(upstream_error(&error, digest.as_str(), false)),
                    },
                    Err(error) => Err(error),
                };
                sender.send_replace(Some(fetched));
            },
        );
        settled(receiver).await
    }

    /// Fetches `reference` from the upstream, stores it and names it
    /// `name`.
    async fn fetch_tagged(
        self: &Arc<Self>,
        reference: Reference,
        name: String,
    ) -> Result<FetchedManifest, ApiError> {
        // Named by a fetch that ended between the caller's look and this one.
        let known = {
            let store = self.store.clone();
            let name = name.clone();
            blocking(move || Ok(store.namespace_handle().images().get(&name).ok())).await?
        };
        if let Some(image) = known
            && let Some((_, raw)) = self.stored_document(&image.target.digest).await?
        {
            return Ok((image.target, raw));
        }
        let manifest = self
            .client
            .get_manifest(&reference)
            .await
            .map_err(|error| upstream_error(&error, &reference.to_string(), false))?;
        let (descriptor, raw) = self.store_manifest(&reference.repo(), manifest).await?;
        let store = self.store.clone();
        let target = descriptor.clone();
        blocking(move || {
            let images = store.namespace_handle().images();
            let named = match images.create(Image::new(name.clone(), target.clone())) {
                Err(error) if error.is_already_exists() => {
                    images.update(&name, ImageUpdate::new().target(target))
                }
                other => other,
            };
            named
                .map(drop)
                .map_err(|e| ApiError::internal(format!("naming {name}: {e}")))
        })
        .await?;
        tracing::info!(target: "hoist_serve", image = %reference, digest = %descriptor.digest, "pulled through");
        // Just fetched by tag: as good as a check.
        self.tags.record(
            &reference.to_string(),
            Checked::Confirmed(descriptor.digest.clone()),
        );
        Ok((descriptor, raw))
    }

    /// Verifies a fetched manifest against its descriptor and stores it
    /// byte for byte under the lease, with its `gc.ref` labels (so what it
    /// names is kept while it is) and its source label, in one commit.
    async fn store_manifest(
        self: &Arc<Self>,
        repository: &Repository,
        manifest: hoist::remote::Manifest,
    ) -> Result<FetchedManifest, ApiError> {
        let content = self.lease_content().await?;
        let descriptor = manifest.descriptor.clone();
        let raw = manifest.bytes.clone();
        let source = source_label(repository);
        let stored = descriptor.clone();
        blocking(move || {
            let document = Document::parse(manifest.bytes.to_vec(), &stored).map_err(|e| {
                ApiError::upstream(format!("the upstream's manifest {}: {e}", stored.digest))
            })?;
            let mut labels = document.gc_labels();
            labels.insert(source.0, source.1);
            hoist::content::write_blob(
                &content,
                &format!("hoist-document-{}", stored.digest.hex()),
                document.raw(),
                &stored.digest,
                stored.size,
                labels,
            )
            .map(drop)
            .map_err(|e| ApiError::internal(format!("storing {}: {e}", stored.digest)))
        })
        .await?;
        Ok((descriptor, raw))
    }

    /// The namespace's content under the server's current lease.
    async fn lease_content(self: &Arc<Self>) -> Result<Content, ApiError> {
        let this = Arc::clone(self);
        blocking(move || this.leases.content()).await
    }
}

/// The lease pull-through writes under. One lease serves many fetches
/// (rather than one each, which would fill the database with leases); a
/// new one is taken once the current one has run half its time, so what a
/// fetch stores is held for at least half the store's lease TTL.
struct LeasePool {
    store: Store,
    current: Mutex<Option<(Lease, Instant)>>,
}

impl LeasePool {
    fn content(&self) -> Result<Content, ApiError> {
        let ttl = self.store.options().lease_ttl;
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let lease = match &*current {
            Some((lease, taken)) if taken.elapsed() < ttl / 2 => lease.clone(),
            _ => {
                let lease = self
                    .store
                    .namespace_handle()
                    .leases()
                    .create(
                        LeaseOptions::new()
                            .label("hoist.operation", "serve-pull-through")
                            .label("hoist.pid", std::process::id().to_string())
                            .expires_in(ttl),
                    )
                    .map_err(|e| ApiError::internal(format!("creating a lease: {e}")))?;
                *current = Some((lease.clone(), Instant::now()));
                lease
            }
        };
        Ok(self.store.namespace_handle().content(Some(&lease)))
    }
}

/// Whether the store's answer was a miss the upstream may fill.
fn is_miss(error: &ApiError) -> bool {
    error.status == StatusCode::NOT_FOUND
        && matches!(
            error.code,
            "MANIFEST_UNKNOWN" | "BLOB_UNKNOWN" | "NAME_UNKNOWN"
        )
}

/// Waits for a manifest fetch to settle.
async fn settled(
    mut receiver: tokio::sync::watch::Receiver<Option<Result<FetchedManifest, ApiError>>>,
) -> Result<FetchedManifest, ApiError> {
    match receiver.wait_for(Option::is_some).await {
        Ok(state) => state.clone().unwrap_or_else(|| {
            Err(ApiError::internal(
                "a manifest fetch ended without a result",
            ))
        }),
        Err(_) => Err(ApiError::internal(
            "a manifest fetch ended without a result",
        )),
    }
}

/// The source label of content fetched from `repository`.
pub(crate) fn source_label(repository: &Repository) -> (String, String) {
    (
        format!("{SOURCE_LABEL_PREFIX}{}", repository.registry()),
        repository.name().to_owned(),
    )
}

/// How an upstream failure is answered: the upstream's 404 as the
/// registry's own (`BLOB_UNKNOWN` or `MANIFEST_UNKNOWN`), anything else
/// (unreachable, 5xx after retries, refused credentials, wrong bytes) as
/// 502 Bad Gateway with `UNKNOWN` and the cause: the client's request was
/// fine, the server could not get what it asked for.
pub(crate) fn upstream_error(error: &hoist::remote::Error, object: &str, blob: bool) -> ApiError {
    if error.is_not_found() {
        let mut answer = if blob {
            ApiError::blob_unknown(object)
        } else {
            ApiError::manifest_unknown(object)
        };
        answer.message = format!("{} (nor upstream: {error})", answer.message);
        return answer;
    }
    ApiError::upstream(format!(
        "fetching {object} from the upstream failed: {}",
        error.to_string_with_causes()
    ))
}

/// The `mediaType` a stored document declares, if any.
fn declared_media_type(raw: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(raw).ok()?;
    let declared = value.get("mediaType")?.as_str()?;
    media_type::is_manifest_type(declared).then(|| declared.to_owned())
}

impl ApiError {
    /// 502: the upstream failed (see [`upstream_error`]).
    pub(crate) fn upstream(message: String) -> ApiError {
        ApiError {
            status: StatusCode::BAD_GATEWAY,
            code: "UNKNOWN",
            message,
            detail: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_parse_and_match_ns() {
        let hub: Upstream = "docker.io".parse().unwrap();
        assert_eq!(hub.registry(), "docker.io");
        assert!(hub.prefix().is_none());
        assert!(hub.serves("docker.io") && hub.serves("registry-1.docker.io"));
        assert!(!hub.serves("quay.io"));
        assert_eq!(
            hub.repository("alpine").unwrap().to_string(),
            "docker.io/library/alpine"
        );
        let team: Upstream = "localhost:5000/team/x".parse().unwrap();
        assert_eq!(team.prefix(), Some("team/x"));
        assert_eq!(team.to_string(), "localhost:5000/team/x");
        assert_eq!(
            team.repository("app").unwrap().to_string(),
            "localhost:5000/team/x/app"
        );
        for bad in ["", "/x", "host/UPPER", "a b", "host//x", "-host", "host/"] {
            assert!(bad.parse::<Upstream>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_miss_is_a_404_of_an_unknown_object_only() {
        assert!(is_miss(&ApiError::blob_unknown("x")));
        assert!(is_miss(&ApiError::name_unknown("x")));
        assert!(!is_miss(&ApiError::digest_invalid("x")));
        assert!(!is_miss(&ApiError::not_an_endpoint("/x")));
    }

    #[test]
    fn stored_documents_declare_their_type() {
        assert_eq!(
            declared_media_type(br#"{"mediaType":"application/vnd.oci.image.index.v1+json"}"#)
                .as_deref(),
            Some(media_type::OCI_INDEX)
        );
        assert_eq!(declared_media_type(b"{}"), None);
    }
}
