//! Referrers: the manifests whose `subject` is a given manifest (OCI 1.1
//! signatures, SBOMs, attestations), listed through the registry's
//! referrers API (`GET /v2/<name>/referrers/<digest>`), or, on a registry
//! without it, through the fallback tag `sha256-<hex>` that cosign, oras and
//! notation write (an OCI index listing the referrers).

use hoist_content::Digest;
use hoist_oci::Descriptor;
use reqwest::Method;

use crate::auth::scope::Scopes;
use crate::client::{Call, Client, Need, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::media_type::OCI_INDEX;
use crate::reference::Repository;
use crate::transport::{read_limited, status_error};

/// Where a list of referrers came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReferrersSource {
    /// The registry's referrers API.
    Api,
    /// The fallback tag `sha256-<hex>` (the registry has no referrers API).
    FallbackTag,
    /// Neither: the API is absent and so is the fallback tag.
    Nothing,
}

/// The referrers of one manifest, as a registry lists them.
#[derive(Debug, Clone)]
pub struct Referrers {
    /// The referrers' descriptors (media type, digest, size, artifact type,
    /// annotations), filtered by the artifact type asked for.
    pub descriptors: Vec<Descriptor>,
    /// How the list was found.
    pub source: ReferrersSource,
}

/// The fallback tag of `subject`: `<alg>-<hex>`.
pub fn fallback_tag(subject: &Digest) -> String {
    format!("{}-{}", subject.algorithm().as_str(), subject.hex())
}

impl Client {
    /// Lists the referrers of `subject` in `repository`, only those of
    /// `artifact_type` when given (filtered here too, as a registry may
    /// ignore the filter). The referrers API is asked first; when it answers
    /// 404 (or 405, or 400 as some older registries do for an unknown
    /// route), the fallback tag is read; when neither exists the list is
    /// empty. The descriptors are what the registry says: the caller fetches
    /// each referrer by digest, which verifies it.
    ///
    /// Pagination (`Link` headers) is not followed yet: only the first page
    /// of a paged answer is listed.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the answer is not an index;
    /// [`ErrorKind::TooLarge`] past the manifest limit; auth and transport
    /// errors as for every call.
    pub async fn referrers(
        &self,
        repository: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers> {
        let listed = self
            .on_targets(
                repository.registry(),
                Need::Pull,
                move |target| async move {
                    self.referrers_at(&target, repository, subject, artifact_type)
                        .await
                },
            )
            .await?;
        let mut referrers = match listed {
            Some(descriptors) => Referrers {
                descriptors,
                source: ReferrersSource::Api,
            },
            None => self.fallback_referrers(repository, subject).await?,
        };
        if let Some(wanted) = artifact_type {
            referrers
                .descriptors
                .retain(|d| d.artifact_type.as_deref() == Some(wanted));
        }
        Ok(referrers)
    }

    /// The API's list, or `None` when the registry has no referrers API.
    async fn referrers_at(
        &self,
        target: &Target,
        repository: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>> {
        let context = format!("listing the referrers of {subject} in {repository}");
        let mut url = target.url(&format!("/{}/referrers/{subject}", repository.name()))?;
        if let Some(artifact_type) = artifact_type {
            url.query_pairs_mut()
                .append_pair("artifactType", artifact_type);
        }
        let call = Call::new(
            Method::GET,
            url,
            Scopes::pull(repository.name()),
            context.clone(),
        )
        .header("Accept", OCI_INDEX);
        let response = self.execute(target, call).await?;
        match response.status().as_u16() {
            200 => {}
            400 | 404 | 405 => return Ok(None),
            _ => return Err(status_error(response, context).await),
        }
        let limit = self.inner.options.max_manifest_size;
        let bytes = read_limited(response, limit).await.ok_or_else(|| {
            Error::new(
                ErrorKind::TooLarge,
                format!("{context}: larger than the {limit}-byte manifest limit, or cut off"),
            )
        })?;
        index_entries(&bytes, &context).map(Some)
    }

    async fn fallback_referrers(
        &self,
        repository: &Repository,
        subject: &Digest,
    ) -> Result<Referrers> {
        let reference = repository.tagged(&fallback_tag(subject))?;
        let context = format!("reading the referrers tag {reference}");
        match self.get_manifest(&reference).await {
            Ok(manifest) => Ok(Referrers {
                descriptors: index_entries(&manifest.bytes, &context)?,
                source: ReferrersSource::FallbackTag,
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Referrers {
                descriptors: Vec::new(),
                source: ReferrersSource::Nothing,
            }),
            Err(e) => Err(e),
        }
    }
}

/// The `manifests` of an index's bytes.
fn index_entries(bytes: &[u8], context: &str) -> Result<Vec<Descriptor>> {
    #[derive(serde::Deserialize)]
    struct Listing {
        #[serde(default)]
        manifests: Vec<Descriptor>,
    }
    serde_json::from_slice::<Listing>(bytes)
        .map(|listing| listing.manifests)
        .map_err(|e| {
            Error::new(
                ErrorKind::Protocol,
                format!("{context}: the answer is not an OCI index: {e}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_tag_is_the_algorithm_and_the_hex() {
        let digest = Digest::sha256_of(b"subject");
        assert_eq!(fallback_tag(&digest), format!("sha256-{}", digest.hex()));
    }

    #[test]
    fn an_index_lists_its_entries_and_anything_else_is_a_protocol_error() {
        let digest = Digest::sha256_of(b"sig");
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{digest}","size":3,"artifactType":"application/example"}}]}}"#
        );
        let entries = index_entries(body.as_bytes(), "test").unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].digest, digest);
        assert_eq!(
            entries[0].artifact_type.as_deref(),
            Some("application/example")
        );
        let error = index_entries(b"[1]", "test").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Protocol);
    }
}
