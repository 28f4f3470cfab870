//! The testkit's one error type: what failed to start or run, and why.

use std::path::PathBuf;

/// A result whose error is the testkit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a test peer (registry, issuer, proxy) or a fixture could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An external program the tests need is not installed, and `CI=true`
    /// says a missing tool is a failure, not a skip.
    #[error(
        "{tool} is not installed (CI=true makes this a failure; install it with `cargo xtask deps`)"
    )]
    ToolMissing {
        /// The program's name.
        tool: String,
    },
    /// A file-system operation failed.
    #[error("{action} {path}")]
    Io {
        /// What was being done, e.g. "writing".
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A socket operation failed.
    #[error("{context}")]
    Net {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An external program ran but failed.
    #[error("{command} failed: {detail}")]
    Command {
        /// The command line, for the reader.
        command: String,
        /// Its exit status and standard error.
        detail: String,
    },
    /// A peer started but did not become ready in time.
    #[error("{what} did not become ready: {detail}")]
    NotReady {
        /// Which peer.
        what: String,
        /// What was seen, e.g. the registry's log.
        detail: String,
    },
    /// Anything else, described.
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn net(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Net {
            context: context.into(),
            source,
        }
    }
}
