//! The crate's one error type: starting a server is all that can fail here;
//! request errors are answered to the client in the spec's JSON format.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The one vocabulary of error kinds every hoist crate shares: a bind
/// failure is [`ErrorKind::Unavailable`] (the address is held elsewhere or
/// not ours to take), an unusable option or file it names is
/// [`ErrorKind::InvalidArgument`].
pub use hoist::ErrorKind;

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
            Error::Bind { .. } => ErrorKind::Unavailable,
            Error::InvalidOption { .. } | Error::Tls { .. } | Error::Htpasswd { .. } => {
                ErrorKind::InvalidArgument
            }
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
