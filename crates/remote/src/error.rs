//! The crate's one error type: a kind to branch on, the object concerned
//! (reference, digest, host), the registry's own error code and message when
//! its body carried one, and the cause.

use std::fmt;

/// A result whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure, for callers that branch (retry, prompt for login,
/// report "not found").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The manifest, blob or repository does not exist on the registry.
    NotFound,
    /// No credentials, or the registry (or its token service) refused them.
    Unauthenticated,
    /// The credentials were accepted but do not allow this action.
    Denied,
    /// The caller's input is malformed (a reference, a config file).
    InvalidArgument,
    /// The registry could not be reached or answered with a server error, a
    /// reset connection or a timeout; trying again later may work.
    Unavailable,
    /// Fewer bytes arrived than were announced, or a body was cut off.
    DataLoss,
    /// Received content does not hash to the digest it should have.
    DigestMismatch,
    /// A manifest is larger than the accepted limit.
    TooLarge,
    /// The registry answered in a way the protocol does not allow.
    Protocol,
    /// The registry does not support what was asked (e.g. a Range request).
    Unsupported,
    /// The operation conflicts with the registry's state.
    FailedPrecondition,
    /// A local file could not be read or written, or a credential helper
    /// could not store or erase credentials.
    Io,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Denied => "denied",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::DataLoss => "data loss",
            ErrorKind::DigestMismatch => "digest mismatch",
            ErrorKind::TooLarge => "too large",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::FailedPrecondition => "failed precondition",
            ErrorKind::Io => "i/o error",
        })
    }
}

/// An error entry from the registry's JSON error body
/// (`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"…"}]}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    /// The code, e.g. `MANIFEST_BLOB_UNKNOWN`, `DENIED`, `UNAUTHORIZED`.
    pub code: String,
    /// The human message.
    pub message: String,
}

/// A failure of a registry operation.
///
/// Its message names the object (reference, digest, host) and, when the
/// registry sent an error body, its code and message; the cause (a transport
/// or I/O error, e.g. the TLS verdict) is the [`std::error::Error::source`],
/// which a reporter should print too (`{:#}` with anyhow).
#[derive(Debug, thiserror::Error)]
#[error("{}", render(context, registry))]
pub struct Error {
    kind: ErrorKind,
    context: String,
    status: Option<u16>,
    registry: Vec<RegistryError>,
    bytes_received: Option<u64>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

fn render(context: &str, registry: &[RegistryError]) -> String {
    let mut text = context.to_owned();
    for entry in registry {
        text.push_str(&format!(
            ": registry says {}: {}",
            entry.code, entry.message
        ));
    }
    text
}

impl Error {
    /// An error of `kind` about `context` (which names the object).
    pub fn new(kind: ErrorKind, context: impl Into<String>) -> Error {
        Error {
            kind,
            context: context.into(),
            status: None,
            registry: Vec::new(),
            bytes_received: None,
            source: None,
        }
    }

    /// Attaches the cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.source = Some(Box::new(source));
        self
    }

    /// Puts `prefix: ` before the message (the operation that failed).
    pub(crate) fn within(mut self, prefix: &str) -> Error {
        self.context = format!("{prefix}: {}", self.context);
        self
    }

    pub(crate) fn with_status(mut self, status: u16) -> Error {
        self.status = Some(status);
        self
    }

    pub(crate) fn with_registry_errors(mut self, errors: Vec<RegistryError>) -> Error {
        self.registry = errors;
        self
    }

    pub(crate) fn with_bytes_received(mut self, bytes: u64) -> Error {
        self.bytes_received = Some(bytes);
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The HTTP status the registry answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The entries of the registry's JSON error body, if it sent one.
    pub fn registry_errors(&self) -> &[RegistryError] {
        &self.registry
    }

    /// The first registry error code, e.g. `"MANIFEST_BLOB_UNKNOWN"`.
    pub fn registry_code(&self) -> Option<&str> {
        self.registry.first().map(|e| e.code.as_str())
    }

    /// For a blob download cut short: how many body bytes had arrived (so a
    /// caller knows where to resume).
    pub fn bytes_received(&self) -> Option<u64> {
        self.bytes_received
    }

    /// The thing does not exist on the registry.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// Credentials are missing or were refused.
    pub fn is_unauthenticated(&self) -> bool {
        self.kind == ErrorKind::Unauthenticated
    }

    /// The credentials do not allow this.
    pub fn is_denied(&self) -> bool {
        self.kind == ErrorKind::Denied
    }

    /// Trying again (or resuming) may succeed: the registry was unreachable,
    /// overloaded, stalled, or a body was cut off.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Unavailable | ErrorKind::DataLoss)
    }

    /// The message followed by every cause, `: `-separated: what to show a
    /// user who gets one line.
    pub fn to_string_with_causes(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(inner) = cause {
            text.push_str(&format!(": {inner}"));
            cause = inner.source();
        }
        text
    }
}

impl From<hoist_content::Error> for Error {
    /// A digest that does not parse is the caller's invalid argument.
    fn from(error: hoist_content::Error) -> Error {
        Error::new(ErrorKind::InvalidArgument, error.to_string())
    }
}

/// Parses a registry's JSON error body, tolerating anything else.
pub(crate) fn parse_registry_errors(body: &[u8]) -> Vec<RegistryError> {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    serde_json::from_slice::<Body>(body)
        .map(|b| {
            b.errors
                .into_iter()
                .map(|e| RegistryError {
                    code: e.code,
                    message: e.message,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_error_bodies_are_parsed_and_shown() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#;
        let errors = parse_registry_errors(body);
        assert_eq!(errors.len(), 1);
        let error = Error::new(ErrorKind::NotFound, "manifest 127.0.0.1:5000/a:x")
            .with_registry_errors(errors);
        assert_eq!(error.registry_code(), Some("MANIFEST_UNKNOWN"));
        assert_eq!(
            error.to_string(),
            "manifest 127.0.0.1:5000/a:x: registry says MANIFEST_UNKNOWN: manifest unknown"
        );
        assert!(error.is_not_found());
    }

    #[test]
    fn bodies_that_are_not_registry_errors_give_nothing() {
        assert!(parse_registry_errors(b"<html>oops</html>").is_empty());
        assert!(parse_registry_errors(b"").is_empty());
    }
}
