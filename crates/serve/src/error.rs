//! The crate's one error type: starting a server is all that can fail here;
//! request errors are answered to the client in the spec's JSON format.

use std::net::SocketAddr;
use std::path::PathBuf;

/// What went wrong, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The listening socket could not be bound or read.
    Bind,
    /// The options are unusable (e.g. zero connections allowed), or a file
    /// they name (TLS certificate or key, htpasswd) is.
    InvalidArgument,
}

/// An error starting the server, naming the address or option concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Binding or inspecting the listening socket failed.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// An option is out of its range.
    #[error("invalid serve option {option}: {reason}")]
    InvalidOption {
        /// The option's name.
        option: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// A TLS certificate or key file is missing, unreadable or unusable.
    #[error("TLS file {path}: {reason}")]
    Tls {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The htpasswd file is missing, unreadable or holds a bad entry.
    #[error("htpasswd file {path}: {reason}")]
    Htpasswd {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it (with the line number).
        reason: String,
    },
}

impl Error {
    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Bind { .. } => ErrorKind::Bind,
            Error::InvalidOption { .. } | Error::Tls { .. } | Error::Htpasswd { .. } => {
                ErrorKind::InvalidArgument
            }
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
