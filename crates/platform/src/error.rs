//! The crate's one error type.

/// The forms a platform specifier may take, quoted in every parse error so the
/// user sees what would have been accepted.
pub const ACCEPTED_FORMS: &str = "accepted forms are os, arch, os/arch and os/arch/variant \
     (e.g. linux, arm64, linux/amd64, linux/arm64/v8), optionally with an OS version and \
     features as in windows(10.0.17763+win32k)/amd64";

pub use hoist_error::ErrorKind;

/// A platform specifier that could not be parsed.
///
/// The message quotes the offending input, says what is wrong with it and lists
/// the [accepted forms](ACCEPTED_FORMS), e.g.
/// `invalid platform "linux/": component 2 is empty; accepted forms are os, arch, ...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform {input:?}: {reason}; {ACCEPTED_FORMS}")]
pub struct Error {
    kind: ErrorKind,
    input: String,
    reason: String,
}

impl Error {
    /// An [`ErrorKind::InvalidArgument`] error about `input`.
    pub(crate) fn invalid(input: &str, reason: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::InvalidArgument,
            input: input.to_owned(),
            reason: reason.into(),
        }
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// True when the input was not a valid platform specifier.
    pub fn is_invalid_argument(&self) -> bool {
        self.kind == ErrorKind::InvalidArgument
    }

    /// The specifier (or comma-separated list) that was rejected, verbatim.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Why the input was rejected, without the input and the accepted forms.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
