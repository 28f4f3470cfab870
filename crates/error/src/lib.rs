//! The one vocabulary of error kinds every hoist crate shares.
//!
//! Each crate keeps its own error type (the message names the object, the
//! cause is kept as the source, details are the crate's own), but they all
//! classify with this [`ErrorKind`]. So a kind set deep down (a digest
//! mismatch in the registry client, a database error in the metadata store)
//! reaches the facade and the CLI's exit code unchanged, instead of being
//! translated at every boundary and folded into "internal" where two lists
//! disagree.
//!
//! It is not an error type and carries no messages: only the kinds, their
//! names, and the groups callers branch on.
//!
//! ```
//! use hoist_error::ErrorKind;
//!
//! let kind = ErrorKind::DigestMismatch;
//! assert_eq!(kind.to_string(), "digest mismatch");
//! // A digest mismatch is a kind of data loss for callers that only ask that.
//! assert!(kind.is_data_loss());
//! assert!(!ErrorKind::NotFound.is_data_loss());
//! ```
//!
//! See `docs/architecture.md` for where this crate sits in hoist.

use std::fmt;

/// What kind of failure an error is, whichever hoist crate raised it.
///
/// The names follow containerd's `errdefs` and gRPC's codes where they
/// exist. `#[non_exhaustive]`: match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The image, blob, lease, record, manifest or repository does not exist.
    NotFound,
    /// The name, blob or lease exists already.
    AlreadyExists,
    /// The input is malformed: a reference, platform, digest, document,
    /// archive or configuration file.
    InvalidArgument,
    /// The state does not allow the operation: a lease gone, a blob of
    /// another size, a platform incomplete locally, an image moved meanwhile.
    FailedPrecondition,
    /// A platform that must be present (`verify`) is missing or incomplete.
    PlatformMissing,
    /// Something is held elsewhere, or a registry could not be reached or
    /// answered with a server error; trying again later may work.
    Unavailable,
    /// No credentials, or the registry (or its token service) refused them.
    Unauthenticated,
    /// The credentials were accepted but do not allow this action.
    Denied,
    /// Bytes were lost or damaged: a body cut off, a stored blob that no
    /// longer matches, a record that does not decode.
    DataLoss,
    /// Received or stored content does not hash to the digest it should.
    DigestMismatch,
    /// A document or upload is larger than the accepted limit.
    TooLarge,
    /// A registry answered in a way the protocol does not allow.
    Protocol,
    /// Valid, but not supported: a media type, a nesting too deep, a
    /// registry feature.
    Unsupported,
    /// A file or directory could not be read or written, or a credential
    /// helper could not store or erase credentials.
    Io,
    /// The metadata database failed.
    Database,
    /// A bug: a state hoist should never reach.
    Internal,
}

impl ErrorKind {
    /// True for [`ErrorKind::DataLoss`] and what is a form of it
    /// ([`ErrorKind::DigestMismatch`]).
    pub fn is_data_loss(self) -> bool {
        matches!(self, ErrorKind::DataLoss | ErrorKind::DigestMismatch)
    }

    /// True for the kinds a retry may cure ([`ErrorKind::Unavailable`]).
    pub fn is_transient(self) -> bool {
        self == ErrorKind::Unavailable
    }
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
            ErrorKind::DigestMismatch => "digest mismatch",
            ErrorKind::TooLarge => "too large",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Io => "I/O error",
            ErrorKind::Database => "database error",
            ErrorKind::Internal => "internal error",
        })
    }
}
