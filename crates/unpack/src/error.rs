//! The crate's one error type: a kind, a message naming the object (a
//! layer's digest, a path in the tree, a tar entry), and the cause.

use std::fmt;
use std::path::{Path, PathBuf};

use hoist_content::Digest;

pub use hoist_error::ErrorKind;

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error of the unpacker: its kind, a message naming the object, the
/// layer and path it concerns when known, and the cause.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    digest: Option<Digest>,
    path: Option<PathBuf>,
    #[source]
    source: Option<Source>,
}

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` whose message names the object concerned.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            digest: None,
            path: None,
            source: None,
        }
    }

    /// An I/O error doing `what` to `path`; the message names both.
    pub(crate) fn io(what: &str, path: &Path, cause: std::io::Error) -> Error {
        Error::new(ErrorKind::Io, format!("{what} {}: {cause}", path.display()))
            .with_path(path)
            .with_source(cause)
    }

    /// A file-system error of rustix doing `what` to `path`.
    pub(crate) fn sys(what: &str, path: &Path, errno: rustix::io::Errno) -> Error {
        Error::io(what, path, std::io::Error::from(errno))
    }

    /// This error with the layer (or blob) it concerns.
    #[must_use]
    pub fn with_digest(mut self, digest: &Digest) -> Error {
        self.digest = Some(digest.clone());
        self
    }

    /// This error with the path it concerns.
    #[must_use]
    pub fn with_path(mut self, path: &Path) -> Error {
        self.path = Some(path.to_path_buf());
        self
    }

    /// This error with `cause` as its source.
    #[must_use]
    pub fn with_source(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.source = Some(Box::new(cause));
        self
    }

    /// This error with `context` in front of its message.
    #[must_use]
    pub fn context(mut self, context: impl fmt::Display) -> Error {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the causes.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The layer or blob the error concerns, if known.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The path the error concerns, if known.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// True for [`ErrorKind::NotFound`].
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// True for [`ErrorKind::AlreadyExists`].
    pub fn is_already_exists(&self) -> bool {
        self.kind == ErrorKind::AlreadyExists
    }

    /// True for [`ErrorKind::DataLoss`].
    pub fn is_data_loss(&self) -> bool {
        self.kind == ErrorKind::DataLoss
    }

    /// True for [`ErrorKind::Unsupported`].
    pub fn is_unsupported(&self) -> bool {
        self.kind == ErrorKind::Unsupported
    }
}

impl From<hoist_content::Error> for Error {
    fn from(error: hoist_content::Error) -> Error {
        let kind = match error.kind() {
            hoist_content::ErrorKind::NotFound => ErrorKind::NotFound,
            hoist_content::ErrorKind::DataLoss => ErrorKind::DataLoss,
            hoist_content::ErrorKind::Io => ErrorKind::Io,
            _ => ErrorKind::Internal,
        };
        Error::new(kind, error.to_string()).with_source(error)
    }
}

impl From<hoist_image::Error> for Error {
    fn from(error: hoist_image::Error) -> Error {
        let kind = match error.kind() {
            hoist_image::ErrorKind::NotFound => ErrorKind::NotFound,
            hoist_image::ErrorKind::InvalidArgument => ErrorKind::InvalidArgument,
            hoist_image::ErrorKind::DataLoss => ErrorKind::DataLoss,
            hoist_image::ErrorKind::Unsupported => ErrorKind::Unsupported,
            hoist_image::ErrorKind::Io => ErrorKind::Io,
            _ => ErrorKind::Internal,
        };
        Error::new(kind, error.to_string()).with_source(error)
    }
}
