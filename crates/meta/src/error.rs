//! The crate's one error type: a kind, a message naming the object, a cause.

pub use hoist_error::ErrorKind;

/// An error from the metadata store.
///
/// The message names the object concerned (`image "docker.io/library/a:1"`,
/// `lease "pull-1"`, a path) and the underlying cause, when there is one, is
/// the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` with a message naming the object.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::NotFound, message)
    }

    pub(crate) fn already_exists(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::AlreadyExists, message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn precondition(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::FailedPrecondition, message)
    }

    pub(crate) fn data_loss(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::DataLoss, message)
    }

    /// An I/O error on `path`, doing `action` (e.g. "open", "lock").
    pub(crate) fn io(action: &str, path: &std::path::Path, source: std::io::Error) -> Self {
        Error::new(
            ErrorKind::Io,
            format!("{action} {}: {source}", path.display()),
        )
        .with_source(source)
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without the cause.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// True when the object already exists.
    pub fn is_already_exists(&self) -> bool {
        self.kind == ErrorKind::AlreadyExists
    }

    /// True when the request was malformed.
    pub fn is_invalid_argument(&self) -> bool {
        self.kind == ErrorKind::InvalidArgument
    }

    /// True when the store was not in the state the request assumed.
    pub fn is_failed_precondition(&self) -> bool {
        self.kind == ErrorKind::FailedPrecondition
    }

    /// True when stored data is damaged.
    pub fn is_data_loss(&self) -> bool {
        self.kind == ErrorKind::DataLoss
    }

    /// True when the store is held elsewhere.
    pub fn is_unavailable(&self) -> bool {
        self.kind == ErrorKind::Unavailable
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<hoist_content::Error> for Error {
    fn from(error: hoist_content::Error) -> Self {
        Error::new(error.kind(), error.message().to_owned()).with_source(error)
    }
}

impl From<Error> for hoist_content::Error {
    /// For the content role traits, which speak the content crate's error.
    fn from(error: Error) -> Self {
        let Error {
            kind,
            message,
            source,
        } = error;
        // A content error that passed through this crate unchanged goes back as it was.
        let source = match source.map(|s| s.downcast::<hoist_content::Error>()) {
            Some(Ok(inner)) if inner.kind() == kind && inner.message() == message => {
                return *inner;
            }
            Some(Ok(inner)) => Some(inner as Box<dyn std::error::Error + Send + Sync>),
            Some(Err(other)) => Some(other),
            None => None,
        };
        // One vocabulary of kinds: the kind goes back unchanged.
        let converted = hoist_content::Error::new(kind, message);
        match source {
            Some(source) => converted.with_source(SourceError(source)),
            None => converted,
        }
    }
}

/// A boxed cause carried over into a content error (whose `with_source`
/// takes a concrete error type).
#[derive(Debug)]
struct SourceError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}
