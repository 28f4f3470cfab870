//! The facade's one error type: a kind a caller can branch on, a message
//! naming the object, and the crate error it came from as the `source` (so a
//! renderer can still find, say, the image crate's list of available
//! platforms).

use std::fmt;

/// `Result` with the facade's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An image, blob, lease, platform or remote reference does not exist.
    NotFound,
    /// The thing to create exists already.
    AlreadyExists,
    /// The input is malformed (a reference, a platform, an archive).
    InvalidArgument,
    /// The state forbids the operation (blobs missing locally, an empty
    /// index, a conditional delete whose target moved on).
    FailedPrecondition,
    /// A required platform is absent (locally or in a remote index): what
    /// `verify` reports, distinct so CI can tell it from other failures.
    PlatformMissing,
    /// Something is held elsewhere or a registry is unreachable; retrying may work.
    Unavailable,
    /// No credentials, or the registry refused them.
    Unauthenticated,
    /// The credentials do not allow the action.
    Denied,
    /// Stored or received bytes do not match their digest or size.
    DataLoss,
    /// A format or protocol feature hoist does not handle.
    Unsupported,
    /// A file-system error.
    Io,
    /// Anything else (database failures, protocol violations).
    Internal,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::FailedPrecondition => "failed precondition",
            ErrorKind::PlatformMissing => "platform missing",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Denied => "denied",
            ErrorKind::DataLoss => "data loss",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Io => "I/O error",
            ErrorKind::Internal => "internal error",
        })
    }
}

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
        self.kind == ErrorKind::DataLoss
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

/// `From<$error> for Error` for a crate whose errors carry a kind (`$kind`):
/// the kinds named in `[..]` map to their namesakes here, the `pattern =>
/// kind` pairs as given, anything else (kinds added later) to `Internal`.
macro_rules! from_kinded_error {
    ($error:ty, $kind:path, [$($same:ident),* $(,)?] $(, $from:pat => $to:expr)* $(,)?) => {
        impl From<$error> for Error {
            fn from(error: $error) -> Error {
                use $kind as K;
                let kind = match error.kind() {
                    $(K::$same => ErrorKind::$same,)*
                    $($from => $to,)*
                    #[allow(unreachable_patterns)]
                    _ => ErrorKind::Internal,
                };
                Error::wrap(kind, error)
            }
        }
    };
}

from_kinded_error!(
    hoist_content::Error,
    hoist_content::ErrorKind,
    [
        NotFound,
        AlreadyExists,
        InvalidArgument,
        FailedPrecondition,
        Unavailable,
        DataLoss,
        Io
    ],
);
from_kinded_error!(
    hoist_meta::Error,
    hoist_meta::ErrorKind,
    [
        NotFound,
        AlreadyExists,
        InvalidArgument,
        FailedPrecondition,
        Unavailable,
        DataLoss,
        Io
    ],
);
from_kinded_error!(
    hoist_image::Error,
    hoist_image::ErrorKind,
    [
        NotFound,
        AlreadyExists,
        InvalidArgument,
        FailedPrecondition,
        Unavailable,
        DataLoss,
        Unsupported,
        Io
    ],
);
from_kinded_error!(
    hoist_remote::Error,
    hoist_remote::ErrorKind,
    [
        NotFound,
        Unauthenticated,
        Denied,
        InvalidArgument,
        Unavailable,
        FailedPrecondition,
        Io
    ],
    hoist_remote::ErrorKind::DataLoss | hoist_remote::ErrorKind::DigestMismatch => ErrorKind::DataLoss,
    hoist_remote::ErrorKind::Unsupported | hoist_remote::ErrorKind::TooLarge => ErrorKind::Unsupported,
);

from_kinded_error!(
    hoist_unpack::Error,
    hoist_unpack::ErrorKind,
    [
        NotFound,
        AlreadyExists,
        InvalidArgument,
        FailedPrecondition,
        DataLoss,
        Unsupported,
        Io
    ],
);

impl From<hoist_platform::Error> for Error {
    fn from(error: hoist_platform::Error) -> Error {
        Error::wrap(ErrorKind::InvalidArgument, error)
    }
}
