//! Errors as the distribution spec answers them: a status and
//! `{"errors":[{"code","message","detail"}]}`.

use hyper::StatusCode;

/// One error answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// What the request named that was wrong (a name, digest or tag).
    pub detail: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            detail: None,
        }
    }

    fn detail(mut self, detail: impl Into<String>) -> ApiError {
        self.detail = Some(detail.into());
        self
    }

    pub(crate) fn manifest_unknown(reference: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            "manifest unknown to registry",
        )
        .detail(reference)
    }

    pub(crate) fn blob_unknown(digest: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "BLOB_UNKNOWN",
            "blob unknown to registry",
        )
        .detail(digest)
    }

    pub(crate) fn name_unknown(name: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "repository name not known to registry",
        )
        .detail(name)
    }

    pub(crate) fn name_invalid(path: &str, why: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "NAME_INVALID",
            format!("invalid repository name or path: {why}"),
        )
        .detail(path)
    }

    pub(crate) fn tag_invalid(tag: &str) -> ApiError {
        // The spec has no code for a malformed tag in a read; the tag is a
        // path parameter like the name, so it gets the name's code.
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "NAME_INVALID",
            "invalid tag: expected [A-Za-z0-9_][A-Za-z0-9._-]{0,127}",
        )
        .detail(tag)
    }

    pub(crate) fn digest_invalid(digest: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            "provided digest did not match the digest grammar",
        )
        .detail(digest)
    }

    pub(crate) fn pagination_invalid(query: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "PAGINATION_NUMBER_INVALID",
            "invalid number of results requested",
        )
        .detail(query)
    }

    pub(crate) fn unsupported(method: &str) -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            format!("{method} is not supported: this registry is read-only"),
        )
        .detail(method)
    }

    pub(crate) fn not_an_endpoint(path: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "UNSUPPORTED", "no such endpoint").detail(path)
    }

    pub(crate) fn range_not_satisfiable(size: u64) -> ApiError {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            // distribution's code for a 416.
            "RANGE_INVALID",
            "requested range not satisfiable",
        )
        .detail(format!("bytes */{size}"))
    }

    pub(crate) fn unauthorized(why: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "authentication required",
        )
        .detail(why)
    }

    pub(crate) fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN", message)
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Vec<u8> {
        let mut error = serde_json::json!({ "code": self.code, "message": self.message });
        if let Some(detail) = &self.detail {
            error["detail"] = serde_json::Value::String(detail.clone());
        }
        serde_json::to_vec(&serde_json::json!({ "errors": [error] })).unwrap_or_default()
    }
}
