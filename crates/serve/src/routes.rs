//! From a request line to a [`Route`], every path parameter checked against
//! its grammar first. Nothing that fails here touches the store, and nothing
//! that passes can name a file: names are lowercase alphanumerics and single
//! separators, tags have no `/`, digests are `<algorithm>:<hex>` of the
//! algorithm's exact length. A `%` anywhere in the path is refused outright,
//! since no valid parameter contains one, so encoded dots or slashes never
//! get decoded into something else.

use hoist::content::Digest;

use crate::api_error::ApiError;
use crate::names;

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/v2/`: the API version check.
    Base,
    /// `/v2/_catalog`.
    Catalog(Page),
    /// `/v2/<name>/tags/list`.
    Tags { name: String, page: Page },
    /// `/v2/<name>/manifests/<reference>`.
    Manifest { name: String, reference: Reference },
    /// `/v2/<name>/blobs/<digest>`.
    Blob { name: String, digest: Digest },
    /// `/v2/<name>/referrers/<digest>`: the manifests whose subject it is.
    Referrers { name: String, digest: Digest },
}

/// A manifest reference: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reference {
    Tag(String),
    Digest(Digest),
}

/// The `n` and `last` of a paginated list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Page {
    pub n: Option<usize>,
    pub last: Option<String>,
}

/// The query parameters a route may use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Query {
    /// containerd's `ns`: the registry host a mirror request is for.
    pub ns: Option<String>,
    pub page: Page,
    /// The referrers API's `artifactType` filter.
    pub artifact_type: Option<String>,
}

/// Parses the path (as sent, still percent-encoded) into a route.
pub(crate) fn route(path: &str) -> Result<Route, ApiError> {
    if path.contains('%') {
        return Err(ApiError::name_invalid(
            path,
            "percent-encoding is not allowed",
        ));
    }
    let Some(rest) = path.strip_prefix("/v2") else {
        return Err(ApiError::not_an_endpoint(path));
    };
    if rest.is_empty() || rest == "/" {
        return Ok(Route::Base);
    }
    let Some(rest) = rest.strip_prefix('/') else {
        return Err(ApiError::not_an_endpoint(path));
    };
    if rest == "_catalog" {
        return Ok(Route::Catalog(Page::default()));
    }
    if let Some(name) = rest.strip_suffix("/tags/list") {
        let name = checked_name(name, path)?;
        return Ok(Route::Tags {
            name,
            page: Page::default(),
        });
    }
    let mut parts = rest.rsplitn(3, '/');
    let (Some(last), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ApiError::not_an_endpoint(path));
    };
    match kind {
        "manifests" => {
            let name = checked_name(name, path)?;
            let reference = if last.contains(':') {
                Reference::Digest(checked_digest(last)?)
            } else if names::is_valid_tag(last) {
                Reference::Tag(last.to_owned())
            } else {
                return Err(ApiError::tag_invalid(last));
            };
            Ok(Route::Manifest { name, reference })
        }
        "blobs" => {
            let name = checked_name(name, path)?;
            Ok(Route::Blob {
                name,
                digest: checked_digest(last)?,
            })
        }
        "referrers" => {
            let name = checked_name(name, path)?;
            Ok(Route::Referrers {
                name,
                digest: checked_digest(last)?,
            })
        }
        _ => Err(ApiError::not_an_endpoint(path)),
    }
}

/// Parses the query string (percent-decoded, as forms are). Unknown
/// parameters are ignored, as registries do.
pub(crate) fn query(query: Option<&str>) -> Result<Query, ApiError> {
    let mut parsed = Query::default();
    let raw = query.unwrap_or("");
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        match key.as_ref() {
            "ns" => {
                if !names::is_valid_host(&value) {
                    return Err(ApiError::name_invalid(&value, "invalid ns host"));
                }
                parsed.ns = Some(value.into_owned());
            }
            "n" => {
                let n = value
                    .parse::<usize>()
                    .map_err(|_| ApiError::pagination_invalid(raw))?;
                parsed.page.n = Some(n);
            }
            // A tag or a repository name; compared, never used as a path.
            "last" => parsed.page.last = Some(value.into_owned()),
            // A media type; compared, never used as a path.
            "artifactType" => parsed.artifact_type = Some(value.into_owned()),
            _ => {}
        }
    }
    Ok(parsed)
}

fn checked_name(name: &str, path: &str) -> Result<String, ApiError> {
    if names::is_valid_repository(name) {
        Ok(name.to_owned())
    } else {
        Err(ApiError::name_invalid(
            path,
            "a name is lowercase path components [a-z0-9]+ joined by '.', '_', '__' or '-'s, separated by '/'",
        ))
    }
}

fn checked_digest(text: &str) -> Result<Digest, ApiError> {
    text.parse::<Digest>()
        .map_err(|_| ApiError::digest_invalid(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse() {
        assert_eq!(route("/v2/").unwrap(), Route::Base);
        assert_eq!(route("/v2").unwrap(), Route::Base);
        assert!(matches!(route("/v2/_catalog").unwrap(), Route::Catalog(_)));
        assert!(matches!(
            route("/v2/library/alpine/tags/list").unwrap(),
            Route::Tags { name, .. } if name == "library/alpine"
        ));
        assert!(matches!(
            route("/v2/a/b/c/manifests/3.20").unwrap(),
            Route::Manifest { name, reference: Reference::Tag(tag) } if name == "a/b/c" && tag == "3.20"
        ));
        let digest = format!("sha256:{}", "a".repeat(64));
        assert!(matches!(
            route(&format!("/v2/app/blobs/{digest}")).unwrap(),
            Route::Blob { name, .. } if name == "app"
        ));
        assert!(matches!(
            route(&format!("/v2/team/app/referrers/{digest}")).unwrap(),
            Route::Referrers { name, .. } if name == "team/app"
        ));
        assert_eq!(
            route("/v2/app/referrers/latest").unwrap_err().code,
            "DIGEST_INVALID"
        );
    }

    #[test]
    fn traversal_and_bad_parameters_are_refused() {
        for (path, code) in [
            ("/v2/../manifests/x", "NAME_INVALID"),
            ("/v2/a/../../manifests/x", "NAME_INVALID"),
            ("/v2/%2e%2e/manifests/x", "NAME_INVALID"),
            ("/v2/a%2fb/manifests/x", "NAME_INVALID"),
            ("/v2/app/blobs/sha256:..%2f..%2fetc", "NAME_INVALID"),
            ("/v2/app/blobs/sha256:../../etc/passwd", "UNSUPPORTED"),
            ("/v2/app/blobs/sha256:abc", "DIGEST_INVALID"),
            ("/v2/app/blobs/md5:abc", "DIGEST_INVALID"),
            ("/v2/App/manifests/x", "NAME_INVALID"),
            ("/v2/app/manifests/.hidden", "NAME_INVALID"),
            ("/v2//manifests/x", "NAME_INVALID"),
            ("/v2/app/other/x", "UNSUPPORTED"),
            ("/etc/passwd", "UNSUPPORTED"),
        ] {
            let error = route(path).unwrap_err();
            assert_eq!(error.code, code, "{path}");
        }
    }

    #[test]
    fn queries_parse() {
        let q = query(Some(
            "ns=docker.io&n=2&last=b&x=y&artifactType=application%2Fspdx%2Bjson",
        ))
        .unwrap();
        assert_eq!(q.artifact_type.as_deref(), Some("application/spdx+json"));
        assert_eq!(q.ns.as_deref(), Some("docker.io"));
        assert_eq!(q.page.n, Some(2));
        assert_eq!(q.page.last.as_deref(), Some("b"));
        assert!(query(Some("n=-1")).is_err());
        let encoded = query(Some("last=team%2Fapp")).unwrap();
        assert_eq!(encoded.page.last.as_deref(), Some("team/app"));
        assert!(query(Some("ns=a/b")).is_err());
    }
}
