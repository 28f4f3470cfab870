//! The crate's one error type: a kind, a message naming the object, the holder of
//! a lock when that is the reason, and the cause.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::timestamp;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use hoist_error::ErrorKind;

/// Who holds a lock that made an operation [`ErrorKind::Unavailable`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockHolder {
    /// Process id of the holder (`std::process::id()` of that process).
    pub pid: u32,
    /// When the holder took the lock.
    pub since: SystemTime,
    /// The ingest reference the holder is writing, when known.
    pub reference: Option<String>,
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {}", self.pid)?;
        if self.pid == std::process::id() {
            f.write_str(" (this process)")?;
        }
        if let Some(reference) = &self.reference {
            write!(f, " writing {reference:?}")?;
        }
        write!(f, " since {}", timestamp::rfc3339(self.since))?;
        if let Ok(age) = SystemTime::now().duration_since(self.since) {
            write!(f, " ({:.1}s ago)", age.as_secs_f64())?;
        }
        Ok(())
    }
}

/// An error of the content store.
///
/// Its message names the object (digest, reference or path); the kind says
/// what a caller can do about it; the cause, if any, is the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    path: Option<PathBuf>,
    holder: Option<LockHolder>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` whose message names the object concerned.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            path: None,
            holder: None,
            source: None,
        }
    }

    /// A file-system error: `what` is the operation ("open", "rename to ..."),
    /// `path` the file it concerns. The kind is [`ErrorKind::Io`], or
    /// [`ErrorKind::NotFound`] when the file is missing.
    pub fn io(what: &str, path: impl AsRef<Path>, cause: std::io::Error) -> Error {
        let path = path.as_ref();
        let kind = match cause.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            _ => ErrorKind::Io,
        };
        Error {
            kind,
            message: format!("{what} {}: {cause}", path.display()),
            path: Some(path.to_owned()),
            holder: None,
            source: Some(Box::new(cause)),
        }
    }

    /// The same error with `cause` as its source.
    pub fn with_source(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.source = Some(Box::new(cause));
        self
    }

    /// The same error naming the lock holder that caused it.
    pub fn with_holder(mut self, holder: Option<LockHolder>) -> Error {
        self.holder = holder;
        self
    }

    /// The same error with more context in front of its message.
    pub fn context(mut self, context: impl fmt::Display) -> Error {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The file concerned, for file-system errors.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Who holds the lock, for [`ErrorKind::Unavailable`] errors caused by one.
    pub fn holder(&self) -> Option<&LockHolder> {
        self.holder.as_ref()
    }

    /// The message without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// Whether the blob is already committed.
    pub fn is_already_exists(&self) -> bool {
        self.kind == ErrorKind::AlreadyExists
    }

    /// Whether the input was malformed.
    pub fn is_invalid_argument(&self) -> bool {
        self.kind == ErrorKind::InvalidArgument
    }

    /// Whether the state forbade the operation (size or digest mismatch, ...).
    pub fn is_failed_precondition(&self) -> bool {
        self.kind == ErrorKind::FailedPrecondition
    }

    /// Whether someone else holds the reference or digest.
    pub fn is_unavailable(&self) -> bool {
        self.kind == ErrorKind::Unavailable
    }

    /// Whether stored data was found damaged.
    pub fn is_data_loss(&self) -> bool {
        self.kind == ErrorKind::DataLoss
    }

    /// Whether this is a file-system error.
    pub fn is_io(&self) -> bool {
        self.kind == ErrorKind::Io
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_name_the_path_and_keep_the_cause() {
        let cause = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let err = Error::io("open", "/x/y", cause);
        assert_eq!(err.kind(), ErrorKind::Io);
        assert_eq!(err.path(), Some(Path::new("/x/y")));
        assert!(err.to_string().contains("/x/y"), "{err}");
        assert!(std::error::Error::source(&err).is_some());
        let missing = Error::io("open", "/z", std::io::ErrorKind::NotFound.into());
        assert!(missing.is_not_found());
    }

    #[test]
    fn holder_says_who_and_since_when() {
        let holder = LockHolder {
            pid: 42,
            since: SystemTime::UNIX_EPOCH,
            reference: Some("layer-1".into()),
        };
        let text = holder.to_string();
        assert!(text.contains("pid 42"), "{text}");
        assert!(text.contains("1970-01-01T00:00:00"), "{text}");
        assert!(text.contains("\"layer-1\""), "{text}");
    }
}
