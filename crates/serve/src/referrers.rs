//! `GET /v2/<name>/referrers/<digest>[?artifactType=T]`: the referrers API
//! of distribution spec 1.1, answered from the store's own referrers (the
//! manifests stored with a `subject`, found through containerd's
//! `containerd.io/gc.bref.content.subject` label, see
//! `hoist::Store::referrers`).
//!
//! The answer is always an OCI image index, 200, even for a subject the
//! store does not hold (the spec forbids a 404 from a registry that has
//! the API, so that clients do not fall back to the tag schema): its
//! `manifests` are the referrers' descriptors (media type, digest, size,
//! `artifactType`, annotations), ordered by digest. With `artifactType`
//! only that type is listed and `OCI-Filters-Applied: artifactType` says
//! the filter was applied. As for blobs, the referrers are the
//! namespace's, not checked against the repository; the repository must
//! exist (`NAME_UNKNOWN` otherwise).
//!
//! A referrer is then fetched by digest from the manifests endpoint, which
//! serves it when its subject (or its subject's subject, to
//! [`MAX_NESTING`] levels) is a manifest the repository's images reach.

use hoist::Store;
use hoist::content::Digest;
use hoist::image::{MAX_NESTING, media_type};
use hoist::oci::Descriptor;
use hoist::oci::media_type::OCI_INDEX;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

use crate::api_error::ApiError;
use crate::handlers::{
    Body, blocking, json_response, load_catalog, reachable_manifest, read_document, repository,
};
use crate::names::Served;
use crate::routes::Query;

/// The header naming the filters a referrers answer applied.
const FILTERS_APPLIED: &str = "oci-filters-applied";

/// The referrers index of `subject` in repository `name`.
pub(crate) async fn referrers(
    store: Store,
    name: String,
    subject: Digest,
    query: Query,
) -> Result<Response<Body>, ApiError> {
    let artifact_type = query.artifact_type.clone();
    let filtered = artifact_type.is_some();
    let descriptors = blocking(move || {
        let catalog = load_catalog(&store)?;
        repository(&catalog, &name, &query)?;
        let found = store
            .referrers(&subject, artifact_type.as_deref())
            .map_err(|e| ApiError::internal(format!("listing the referrers of {subject}: {e}")))?;
        Ok(found
            .into_iter()
            .map(|referrer| referrer.descriptor)
            .collect::<Vec<_>>())
    })
    .await?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": descriptors,
    });
    let body = serde_json::to_vec(&index)
        .map_err(|e| ApiError::internal(format!("writing the referrers index: {e}")))?;
    let mut response = json_response(StatusCode::OK, body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(OCI_INDEX));
    if filtered {
        headers.insert(FILTERS_APPLIED, HeaderValue::from_static("artifactType"));
    }
    Ok(response)
}

/// The descriptor of `wanted` when it is a stored manifest whose `subject`
/// chain leads, within [`MAX_NESTING`] steps, to a manifest `images` reach.
pub(crate) fn reachable_referrer(
    store: &Store,
    images: &[Served],
    wanted: &Digest,
) -> Result<Option<Descriptor>, ApiError> {
    let mut digest = wanted.clone();
    let mut found: Option<Descriptor> = None;
    for _ in 0..MAX_NESTING {
        // The media type is not known yet; reading needs only the digest.
        let Some(raw) = read_document(store, &Descriptor::new("", digest.clone(), 0))? else {
            return Ok(None);
        };
        let Ok(document) = serde_json::from_slice::<serde_json::Value>(&raw) else {
            return Ok(None);
        };
        let Some(kind) = document["mediaType"].as_str() else {
            return Ok(None);
        };
        if media_type::classify(kind) != media_type::MediaKind::Manifest {
            return Ok(None);
        }
        let Some(subject) = document["subject"]["digest"]
            .as_str()
            .and_then(|s| s.parse::<Digest>().ok())
        else {
            return Ok(None);
        };
        let descriptor = Descriptor::new(kind, digest.clone(), raw.len() as u64);
        let wanted_descriptor = found.get_or_insert(descriptor).clone();
        if reachable_manifest(store, images, &subject)?.is_some() {
            return Ok(Some(wanted_descriptor));
        }
        digest = subject;
    }
    Ok(None)
}
