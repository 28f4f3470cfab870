//! The facade's one error type: a kind a caller can branch on, a message
//! naming the object, and the crate error it came from as the `source` (so a
//! renderer can still find, say, the image crate's list of available
//! platforms).

use std::fmt;

/// `Result` with the facade's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use hoist_error::ErrorKind;

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error of the facade. Its message names the object; errors of the
/// crates below are kept whole as the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Source>,
}

impl Error {
    /// An error of `kind` whose message names the object concerned.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// This error with `cause` as its source.
    #[must_use]
    pub fn with_source(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.source = Some(Box::new(cause));
        self
    }

    /// This error with `context` in front of its message (`context: message`).
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

    /// True for [`ErrorKind::NotFound`].
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// True for [`ErrorKind::AlreadyExists`].
    pub fn is_already_exists(&self) -> bool {
        self.kind == ErrorKind::AlreadyExists
    }

    /// True for [`ErrorKind::InvalidArgument`].
    pub fn is_invalid_argument(&self) -> bool {
        self.kind == ErrorKind::InvalidArgument
    }

    /// True for [`ErrorKind::FailedPrecondition`].
    pub fn is_failed_precondition(&self) -> bool {
        self.kind == ErrorKind::FailedPrecondition
    }

    /// True for [`ErrorKind::PlatformMissing`].
    pub fn is_platform_missing(&self) -> bool {
        self.kind == ErrorKind::PlatformMissing
    }

    /// True for [`ErrorKind::Unavailable`].
    pub fn is_unavailable(&self) -> bool {
        self.kind == ErrorKind::Unavailable
    }

    /// True for [`ErrorKind::DataLoss`].
    pub fn is_data_loss(&self) -> bool {
        self.kind.is_data_loss()
    }

    /// The image crate's error in the chain, if any (for its
    /// [`Detail`](hoist_image::Detail): available platforms, missing blobs).
    pub fn image_error(&self) -> Option<&hoist_image::Error> {
        self.source.as_deref()?.downcast_ref::<hoist_image::Error>()
    }

    /// The unpacker's error in the chain, if any (for the layer it names).
    pub fn unpack_error(&self) -> Option<&hoist_unpack::Error> {
        self.source
            .as_deref()?
            .downcast_ref::<hoist_unpack::Error>()
    }

    /// The registry client's error in the chain, if any.
    pub fn remote_error(&self) -> Option<&hoist_remote::Error> {
        self.source
            .as_deref()?
            .downcast_ref::<hoist_remote::Error>()
    }

    pub(crate) fn wrap(
        kind: ErrorKind,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::new(kind, cause.to_string()).with_source(cause)
    }

    pub(crate) fn io(what: &str, path: &std::path::Path, cause: std::io::Error) -> Error {
        Error::new(ErrorKind::Io, format!("{what} {}: {cause}", path.display())).with_source(cause)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }
}

/// The crates below speak the same [`ErrorKind`]s: an error keeps its kind
/// on the way up, and the crate's error is kept whole as the source.
macro_rules! from_crate_error {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for Error {
            fn from(error: $error) -> Error {
                Error::wrap(error.kind(), error)
            }
        })*
    };
}

from_crate_error!(
    hoist_content::Error,
    hoist_meta::Error,
    hoist_image::Error,
    hoist_remote::Error,
    hoist_platform::Error,
    hoist_unpack::Error,
);
