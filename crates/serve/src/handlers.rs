//! Answers to routed requests, read from the store. Store calls are
//! synchronous (RocksDB and files), so they run on tokio's blocking pool;
//! none holds a store lock past its return, so a slow client never holds
//! one: a blob transfer holds only its open file.

use std::collections::HashSet;
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hoist::Store;
use hoist::content::{BlobReader, Digest, Provider};
use hoist::image::{Document, MAX_DOCUMENT_SIZE, MAX_NESTING, media_type};
use hoist::meta::ImageFilter;
use hoist::oci::Descriptor;
use http_body_util::{BodyExt, Empty, Full, combinators::UnsyncBoxBody};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use crate::api_error::ApiError;
use crate::blob_body::blob_body;
use crate::logged_body::{LoggedBody, RemoteAddr};
use crate::names::{Catalog, Served};
use crate::routes::{self, Page, Query, Reference, Route};
use crate::upstream::PullThrough;

const API_VERSION: &str = "registry/2.0";
pub(crate) const DIGEST_HEADER: &str = "docker-content-digest";

pub(crate) type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// Answers one request and wraps the body so that it is logged when done.
pub(crate) async fn handle<B>(
    store: Store,
    upstream: Option<Arc<PullThrough>>,
    request: Request<B>,
) -> Response<LoggedBody> {
    let started = Instant::now();
    let response = match answer(store, upstream, &request).await {
        Ok(response) => response,
        Err(error) => error_response(&error),
    };
    logged(&request, response, started)
}

/// The answer to a request refused before routing (no credentials), logged
/// like any other.
pub(crate) fn refuse<B>(request: &Request<B>, error: &ApiError) -> Response<LoggedBody> {
    logged(request, error_response(error), Instant::now())
}

fn logged<B>(
    request: &Request<B>,
    response: Response<Body>,
    started: Instant,
) -> Response<LoggedBody> {
    let method = request.method().clone();
    let logged_path = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |p| p.as_str().to_owned(),
    );
    let peer = request.extensions().get::<RemoteAddr>().map(|r| r.0);
    let mut response = if method == Method::HEAD {
        // Headers (Content-Length included) stay; the body goes.
        response.map(|_| Empty::new().map_err(|never| match never {}).boxed_unsync())
    } else {
        response
    };
    response.headers_mut().insert(
        "docker-distribution-api-version",
        HeaderValue::from_static(API_VERSION),
    );
    let status = response.status().as_u16();
    response.map(|body| {
        LoggedBody::new(body, method.to_string(), logged_path, status, started).peer(peer)
    })
}

async fn answer<B>(
    store: Store,
    upstream: Option<Arc<PullThrough>>,
    request: &Request<B>,
) -> Result<Response<Body>, ApiError> {
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::unsupported(method.as_str()));
    }
    let route = routes::route(request.uri().path())?;
    let query = routes::query(request.uri().query())?;
    match route {
        Route::Base => Ok(json_response(StatusCode::OK, b"{}".to_vec())),
        Route::Catalog(_) => catalog(store, &query).await,
        Route::Tags { name, .. } => tags(store, &name, &query).await,
        Route::Manifest { name, reference } => {
            let accepts_index = accepts_index(request.headers().get_all(header::ACCEPT));
            let ns = query.ns.clone();
            if let Some(pull) = &upstream {
                // A tag held from an upstream is first checked against it.
                pull.revalidate(&name, &reference, ns.as_deref()).await;
            }
            let found =
                manifest(store, name.clone(), reference.clone(), query, accepts_index).await;
            match upstream {
                Some(pull) => {
                    pull.manifest_or(found, &name, &reference, ns.as_deref(), accepts_index)
                        .await
                }
                None => found,
            }
        }
        Route::Blob { name, digest } => {
            let range = request
                .headers()
                .get(header::RANGE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let ns = query.ns.clone();
            let found = blob(store, name.clone(), digest.clone(), query, range.clone()).await;
            match upstream {
                Some(pull) => {
                    pull.blob_or(found, &name, &digest, ns.as_deref(), range.as_deref())
                        .await
                }
                None => found,
            }
        }
        Route::Referrers { name, digest } => {
            crate::referrers::referrers(store, name, digest, query).await
        }
    }
}

/// Runs a store call on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(call)
        .await
        .unwrap_or_else(|join| Err(ApiError::internal(format!("a store call failed: {join}"))))
}

pub(crate) fn load_catalog(store: &Store) -> Result<Catalog, ApiError> {
    let images = store
        .namespace_handle()
        .images()
        .list(&ImageFilter::all())
        .map_err(|e| ApiError::internal(format!("listing the store's images: {e}")))?;
    Ok(Catalog::new(
        images.into_iter().map(|image| (image.name, image.target)),
    ))
}

pub(crate) fn repository<'c>(
    catalog: &'c Catalog,
    name: &str,
    query: &Query,
) -> Result<&'c [Served], ApiError> {
    catalog
        .repository(name, query.ns.as_deref())
        .ok_or_else(|| ApiError::name_unknown(name))
}

async fn catalog(store: Store, query: &Query) -> Result<Response<Body>, ApiError> {
    let ns = query.ns.clone();
    let names = blocking(move || {
        let catalog = load_catalog(&store)?;
        Ok(catalog
            .repository_names(ns.as_deref())
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>())
    })
    .await?;
    let (page, next) = paginate(names, &query.page);
    let body = serde_json::json!({ "repositories": page });
    let mut response = json_response(StatusCode::OK, body.to_string().into_bytes());
    if let Some(last) = next {
        link_next(&mut response, "/v2/_catalog", &query.page, &last);
    }
    Ok(response)
}

async fn tags(store: Store, name: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    let (owned_name, ns) = (name.to_owned(), query.ns.clone());
    let tags = blocking(move || {
        let catalog = load_catalog(&store)?;
        let query = Query {
            ns,
            ..Query::default()
        };
        let images = repository(&catalog, &owned_name, &query)?;
        let mut tags: Vec<String> = images.iter().filter_map(|i| i.tag.clone()).collect();
        tags.sort();
        tags.dedup();
        Ok(tags)
    })
    .await?;
    let (page, next) = paginate(tags, &query.page);
    let body = serde_json::json!({ "name": name, "tags": page });
    let mut response = json_response(StatusCode::OK, body.to_string().into_bytes());
    if let Some(last) = next {
        link_next(
            &mut response,
            &format!("/v2/{name}/tags/list"),
            &query.page,
            &last,
        );
    }
    Ok(response)
}

/// The items after `page.last`, at most `page.n` of them, and the last one
/// returned when more remain.
fn paginate(items: Vec<String>, page: &Page) -> (Vec<String>, Option<String>) {
    let mut rest: Vec<String> = match &page.last {
        Some(last) => items.into_iter().filter(|i| i > last).collect(),
        None => items,
    };
    match page.n {
        Some(n) if rest.len() > n => {
            rest.truncate(n);
            let next = rest.last().cloned();
            (rest, next)
        }
        _ => (rest, None),
    }
}

fn link_next(response: &mut Response<Body>, path: &str, page: &Page, last: &str) {
    let n = page.n.unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&format!("<{path}?n={n}&last={last}>; rel=\"next\"")) {
        response.headers_mut().insert(header::LINK, value);
    }
}

/// Whether a client's `Accept` headers admit an index: no header at all, a
/// wildcard, or either index type (OCI and Docker's are equivalent for
/// every client we know, as for hoist's own traversal).
fn accepts_index(values: header::GetAll<'_, HeaderValue>) -> bool {
    let mut any = false;
    for value in values {
        any = true;
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let essence = item.split(';').next().unwrap_or("").trim();
            if essence == "*/*" || essence == "application/*" || media_type::is_index(essence) {
                return true;
            }
        }
    }
    !any
}

async fn manifest(
    store: Store,
    name: String,
    reference: Reference,
    query: Query,
    accepts_index: bool,
) -> Result<Response<Body>, ApiError> {
    let (descriptor, raw) = blocking(move || {
        let catalog = load_catalog(&store)?;
        let images = repository(&catalog, &name, &query)?;
        let descriptor = match &reference {
            Reference::Tag(tag) => {
                let target = images
                    .iter()
                    .find(|image| image.tag.as_deref() == Some(tag.as_str()))
                    .map(|image| image.target.clone())
                    .ok_or_else(|| ApiError::manifest_unknown(tag))?;
                if accepts_index || !media_type::is_index(&target.media_type) {
                    target
                } else {
                    host_manifest(&store, &format!("{name}:{tag}"), target)?
                }
            }
            Reference::Digest(digest) => match reachable_manifest(&store, images, digest)? {
                Some(descriptor) => descriptor,
                None => crate::referrers::reachable_referrer(&store, images, digest)?
                    .ok_or_else(|| ApiError::manifest_unknown(digest.as_str()))?,
            },
        };
        let raw = read_document(&store, &descriptor)?
            .ok_or_else(|| ApiError::manifest_unknown(descriptor.digest.as_str()))?;
        Ok((descriptor, raw))
    })
    .await?;
    manifest_response(&descriptor, Bytes::from(raw))
}

/// A manifest's bytes as the answer to a `GET`.
pub(crate) fn manifest_response(
    descriptor: &Descriptor,
    raw: Bytes,
) -> Result<Response<Body>, ApiError> {
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, &descriptor.media_type)
        .header(header::CONTENT_LENGTH, raw.len())
        .header(DIGEST_HEADER, descriptor.digest.as_str())
        .body(
            Full::new(raw)
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .map_err(|e| ApiError::internal(e.to_string()))?;
    response
        .headers_mut()
        .insert(header::ETAG, etag(&descriptor.digest));
    Ok(response)
}

/// For a client that cannot read an index: the manifest it lists for this
/// machine's platform, as registries answer Docker schema 2 clients. Only
/// for tags: a digest names exact bytes, so it is always served as is.
pub(crate) fn host_manifest(
    store: &Store,
    name: &str,
    index: Descriptor,
) -> Result<Descriptor, ApiError> {
    let content = store.namespace_handle().content(None);
    let image = hoist::image::Image::new(name.to_owned(), index);
    hoist::image::select_manifest(&content, &image, &hoist::platform::host())
        .map(|entry| entry.descriptor)
        .map_err(|error| {
            if error.is_not_found() {
                ApiError::manifest_unknown(&error.to_string())
            } else {
                ApiError::internal(error.to_string())
            }
        })
}

/// The descriptor of `wanted` when one of `images` reaches it: their
/// targets, and the manifests their stored indexes list, to
/// [`MAX_NESTING`] levels.
pub(crate) fn reachable_manifest(
    store: &Store,
    images: &[Served],
    wanted: &Digest,
) -> Result<Option<Descriptor>, ApiError> {
    let mut level: Vec<Descriptor> = images.iter().map(|i| i.target.clone()).collect();
    let mut seen = HashSet::new();
    for _ in 0..=MAX_NESTING {
        let mut next = Vec::new();
        for descriptor in level {
            if !seen.insert(descriptor.digest.clone()) {
                continue;
            }
            if &descriptor.digest == wanted {
                return Ok(Some(descriptor));
            }
            if !media_type::is_index(&descriptor.media_type) {
                continue;
            }
            let Some(raw) = read_document(store, &descriptor)? else {
                continue; // a child never fetched: nothing below it is here
            };
            if let Ok(Document::Index(index)) = Document::parse(raw, &descriptor) {
                next.extend(index.manifests().iter().cloned());
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    Ok(None)
}

/// A stored document's bytes, `None` when the namespace does not hold it.
pub(crate) fn read_document(
    store: &Store,
    descriptor: &Descriptor,
) -> Result<Option<Vec<u8>>, ApiError> {
    let mut reader = match open(store, &descriptor.digest)? {
        Some(reader) => reader,
        None => return Ok(None),
    };
    if reader.size() > MAX_DOCUMENT_SIZE {
        return Err(ApiError::internal(format!(
            "manifest {} is {} bytes, over the {MAX_DOCUMENT_SIZE}-byte limit",
            descriptor.digest,
            reader.size()
        )));
    }
    let mut raw = Vec::with_capacity(usize::try_from(reader.size()).unwrap_or(0));
    reader
        .read_to_end(&mut raw)
        .map_err(|e| ApiError::internal(format!("reading {}: {e}", descriptor.digest)))?;
    Ok(Some(raw))
}

/// Opens a blob of the namespace; `None` when it holds no such blob.
pub(crate) fn open(store: &Store, digest: &Digest) -> Result<Option<BlobReader>, ApiError> {
    match store.namespace_handle().content(None).reader(digest) {
        Ok(reader) => Ok(Some(reader)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(ApiError::internal(format!("opening {digest}: {error}"))),
    }
}

async fn blob(
    store: Store,
    name: String,
    digest: Digest,
    query: Query,
    range: Option<String>,
) -> Result<Response<Body>, ApiError> {
    let wanted = digest.clone();
    let reader = blocking(move || {
        let catalog = load_catalog(&store)?;
        repository(&catalog, &name, &query)?;
        open(&store, &wanted)?.ok_or_else(|| ApiError::blob_unknown(wanted.as_str()))
    })
    .await?;
    blob_response(reader, &digest, range.as_deref())
}

/// A stored blob (or the `range` of it asked for) as the answer to a `GET`.
pub(crate) fn blob_response(
    reader: BlobReader,
    digest: &Digest,
    range: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let size = reader.size();
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::ACCEPT_RANGES, "bytes")
        .header(DIGEST_HEADER, digest.as_str())
        .header(header::ETAG, etag(digest));
    let response = match range.and_then(parse_range) {
        None => builder
            .status(StatusCode::OK)
            .header(header::CONTENT_LENGTH, size)
            .body(blob_body(reader, 0, size)),
        Some((start, end)) => {
            let Some((start, end)) = satisfiable(start, end, size) else {
                return Err(ApiError::range_not_satisfiable(size));
            };
            builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_LENGTH, end - start)
                .header(
                    header::CONTENT_RANGE,
                    format!("bytes {start}-{}/{size}", end - 1),
                )
                .body(blob_body(reader, start, end))
        }
    };
    response.map_err(|e| ApiError::internal(e.to_string()))
}

/// A requested byte range as the header wrote it: `(Some(first),
/// Some(last))` for `N-M`, `(Some(first), None)` for `N-`, `(None,
/// Some(k))` for the suffix `-k`. `None` for anything else (several ranges,
/// other units), which is answered with the whole blob, as RFC 9110 allows.
pub(crate) fn parse_range(header: &str) -> Option<(Option<u64>, Option<u64>)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let parse = |s: &str| -> Option<Option<u64>> {
        let s = s.trim();
        if s.is_empty() {
            Some(None)
        } else {
            s.parse().ok().map(Some)
        }
    };
    match (parse(first)?, parse(last)?) {
        (None, None) => None,
        (Some(first), Some(last)) if last < first => None,
        bounds => Some(bounds),
    }
}

/// The half-open byte span a parsed range asks of a blob of `size` bytes;
/// `None` when no byte of it exists (answered 416).
pub(crate) fn satisfiable(first: Option<u64>, last: Option<u64>, size: u64) -> Option<(u64, u64)> {
    match (first, last) {
        (Some(first), _) if first >= size => None,
        (Some(first), Some(last)) => Some((first, last.saturating_add(1).min(size))),
        (Some(first), None) => Some((first, size)),
        (None, Some(0)) => None,
        (None, Some(suffix)) => Some((size.saturating_sub(suffix), size)),
        (None, None) => Some((0, size)),
    }
}

pub(crate) fn etag(digest: &Digest) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{digest}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

fn full(bytes: Vec<u8>) -> Body {
    Full::new(Bytes::from(bytes))
        .map_err(|never| match never {})
        .boxed_unsync()
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let length = body.len();
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    response
}

fn error_response(error: &ApiError) -> Response<Body> {
    let mut response = json_response(error.status, error.body());
    if error.status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(crate::basic_auth::CHALLENGE),
        );
    }
    if error.status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    if error.status == StatusCode::RANGE_NOT_SATISFIABLE
        && let Some(detail) = &error.detail
        && let Ok(value) = HeaderValue::from_str(detail)
    {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=10-"), Some((Some(10), None)));
        assert_eq!(parse_range("bytes=10-19"), Some((Some(10), Some(19))));
        assert_eq!(parse_range("bytes=-5"), Some((None, Some(5))));
        assert_eq!(parse_range("bytes=1-2,4-5"), None);
        assert_eq!(parse_range("items=1-2"), None);
        assert_eq!(parse_range("bytes=5-1"), None);
        assert_eq!(satisfiable(Some(10), None, 100), Some((10, 100)));
        assert_eq!(satisfiable(Some(10), Some(19), 100), Some((10, 20)));
        assert_eq!(satisfiable(Some(10), Some(500), 100), Some((10, 100)));
        assert_eq!(satisfiable(Some(100), None, 100), None);
        assert_eq!(satisfiable(None, Some(5), 100), Some((95, 100)));
        assert_eq!(satisfiable(None, Some(500), 100), Some((0, 100)));
    }

    #[test]
    fn accept_headers() {
        let accepts = |values: &[&str]| {
            let mut headers = hyper::HeaderMap::new();
            for value in values {
                headers.append(header::ACCEPT, HeaderValue::from_str(value).unwrap());
            }
            accepts_index(headers.get_all(header::ACCEPT))
        };
        assert!(accepts(&[]));
        assert!(accepts(&["*/*"]));
        assert!(accepts(&[
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.index.v1+json; q=0.5",
        ]));
        assert!(accepts(&[
            "application/vnd.docker.distribution.manifest.list.v2+json"
        ]));
        assert!(!accepts(&[
            "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
        ]));
    }

    #[test]
    fn pages() {
        let items: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let page = Page {
            n: Some(2),
            last: None,
        };
        assert_eq!(
            paginate(items.clone(), &page),
            (vec!["a".into(), "b".into()], Some("b".into()))
        );
        let page = Page {
            n: Some(2),
            last: Some("b".into()),
        };
        assert_eq!(paginate(items, &page), (vec!["c".into()], None));
    }
}
