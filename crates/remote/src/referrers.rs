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
    /// A paged answer is followed through its `Link: <…>; rel="next"`
    /// headers, up to [`MAX_REFERRERS_PAGES`] pages, each on the same
    /// registry endpoint.
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
            .referrers_api(repository, subject, artifact_type)
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

    /// The referrers API's list of `subject`'s referrers (every page), or
    /// `None` when the registry has no referrers API (it answered 404, 405
    /// or 400). No fallback tag is read.
    ///
    /// # Errors
    /// As [`Client::referrers`].
    pub async fn referrers_api(
        &self,
        repository: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>> {
        self.on_targets(
            repository.registry(),
            Need::Pull,
            move |target| async move {
                self.referrers_at(&target, repository, subject, artifact_type)
                    .await
            },
        )
        .await
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
        let mut descriptors = Vec::new();
        let mut pages = 0usize;
        let mut next = Some(call);
        while let Some(call) = next.take() {
            pages += 1;
            let page_url = call.url.clone();
            let response = self.execute(target, call).await?;
            match response.status().as_u16() {
                200 => {}
                // Only the first answer says whether the API exists; a
                // later page that vanishes is an error.
                400 | 404 | 405 if pages == 1 => return Ok(None),
                _ => return Err(status_error(response, context).await),
            }
            let link = next_link(&response, &page_url, &target.base).map_err(|message| {
                Error::new(ErrorKind::Protocol, format!("{context}: {message}"))
            })?;
            let limit = self.inner.options.max_manifest_size;
            let bytes = read_limited(response, limit).await.ok_or_else(|| {
                Error::new(
                    ErrorKind::TooLarge,
                    format!("{context}: larger than the {limit}-byte manifest limit, or cut off"),
                )
            })?;
            descriptors.extend(index_entries(&bytes, &context)?);
            if let Some(url) = link {
                if pages >= MAX_REFERRERS_PAGES {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!(
                            "{context}: the registry pages the list past {MAX_REFERRERS_PAGES} pages"
                        ),
                    ));
                }
                next = Some(
                    Call::new(
                        Method::GET,
                        url,
                        Scopes::pull(repository.name()),
                        context.clone(),
                    )
                    .header("Accept", OCI_INDEX),
                );
            }
        }
        Ok(Some(descriptors))
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

/// How many pages of one referrers list are followed before giving up: a
/// registry that pages forever (or in a loop) must not hold a pull forever.
pub const MAX_REFERRERS_PAGES: usize = 64;

/// The `rel="next"` target of a response's `Link` headers (RFC 8288),
/// resolved against the page's URL; it must stay on the endpoint (same
/// scheme, host and port as `base`), as the call's credentials go with it.
fn next_link(
    response: &reqwest::Response,
    page: &url::Url,
    base: &url::Url,
) -> std::result::Result<Option<url::Url>, String> {
    for value in response.headers().get_all("link") {
        let Ok(text) = value.to_str() else { continue };
        let Some(target) = next_target(text) else {
            continue;
        };
        let url = page
            .join(target)
            .map_err(|e| format!("the next page's link {target:?} is not a URL: {e}"))?;
        if url.origin() != base.origin() {
            return Err(format!(
                "the next page's link {url} leaves the registry endpoint {base}"
            ));
        }
        return Ok(Some(url));
    }
    Ok(None)
}

/// The URI of the `rel="next"` link in one `Link` header value
/// (`<uri>; rel="next", <uri2>; rel="prev"`).
fn next_target(value: &str) -> Option<&str> {
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let close = open + rest[open..].find('>')?;
        let uri = &rest[open + 1..close];
        let after = &rest[close + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let params = &after[..params_end];
        let is_next = params.split(';').any(|param| {
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(uri);
        }
        rest = &after[params_end..];
    }
    None
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
    fn the_next_link_is_found_among_others_and_anything_else_is_none() {
        assert_eq!(
            next_target(r#"</v2/a/referrers/sha256:1?n=2&last=x>; rel="next""#),
            Some("/v2/a/referrers/sha256:1?n=2&last=x")
        );
        assert_eq!(
            next_target(r#"<https://r/prev>; rel="prev", <https://r/next>; rel=next"#),
            Some("https://r/next")
        );
        assert_eq!(next_target(r#"<https://r/p>; rel="prev""#), None);
        assert_eq!(next_target("garbage"), None);
        assert_eq!(next_target("<unclosed; rel=next"), None);
    }

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
