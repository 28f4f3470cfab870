//! The crate's one error type: a kind, a message naming the object, an
//! optional structured [`Detail`] a caller can render as a hint, and the cause.

use std::fmt;
use std::path::{Path, PathBuf};

use hoist_content::Digest;
use hoist_platform::Platform;

pub use hoist_error::ErrorKind;

/// Blobs missing locally, grouped by what needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingBlobs {
    /// What needs the blobs: a platform such as `linux/arm64`, `attestation`, or `index`.
    pub owner: String,
    /// The manifest (or index) that lists them.
    pub manifest: Digest,
    /// The missing blobs' digests, in document order.
    pub digests: Vec<Digest>,
}

/// Structured facts about an error, for callers that print hints.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detail {
    /// No manifest of an index (or a lone manifest) fits the wanted platform.
    NoMatchingPlatform {
        /// The wanted platform(s), as the matcher describes them.
        wanted: String,
        /// The image's name.
        reference: String,
        /// The index (or manifest) that was searched.
        index: Digest,
        /// The platforms the image does have, attestations left out.
        available: Vec<Platform>,
    },
    /// An index lists no manifests at all.
    EmptyIndex {
        /// The image's name.
        reference: String,
        /// The empty index.
        index: Digest,
    },
    /// Blobs needed for an operation are missing locally.
    MissingBlobs(Vec<MissingBlobs>),
    /// Two entries of an index to assemble have the same platform.
    DuplicatePlatform {
        /// The platform, normalized.
        platform: Platform,
        /// The manifest already holding it.
        existing: Digest,
        /// The manifest that would replace it.
        incoming: Digest,
    },
    /// Bytes whose digest is not the one that names them.
    DigestMismatch {
        /// The digest that was expected.
        expected: Digest,
        /// The digest of the bytes actually read.
        actual: Digest,
    },
    /// Bytes whose length is not the size that describes them.
    SizeMismatch {
        /// The size that was expected.
        expected: u64,
        /// The size actually found.
        actual: u64,
    },
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error of every fallible function in `hoist-image`.
///
/// Its `Display` is one sentence naming the object (digest, reference, path);
/// the cause, if any, is its [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    digest: Option<Digest>,
    path: Option<PathBuf>,
    detail: Option<Box<Detail>>,
    #[source]
    source: Option<Source>,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with `message`.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            digest: None,
            path: None,
            detail: None,
            source: None,
        }
    }

    /// This error, with another kind.
    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// This error, about the object named by `digest`.
    pub(crate) fn with_digest(mut self, digest: &Digest) -> Self {
        self.digest = Some(digest.clone());
        self
    }

    /// This error, about the file at `path`.
    pub(crate) fn with_path(mut self, path: impl AsRef<Path>) -> Self {
        self.path = Some(path.as_ref().to_path_buf());
        self
    }

    /// This error, with structured facts.
    pub(crate) fn with_detail(mut self, detail: Detail) -> Self {
        self.detail = Some(Box::new(detail));
        self
    }

    /// This error, caused by `source`.
    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Wraps a content-store error, keeping its kind; `context` says what was being done.
    pub(crate) fn content(context: impl fmt::Display, source: hoist_content::Error) -> Self {
        let kind = source.kind();
        Error::new(kind, format!("{context}: {source}")).with_source(source)
    }

    /// Wraps an I/O error on `path`; `context` says what was being done.
    pub(crate) fn io(
        context: impl fmt::Display,
        path: impl AsRef<Path>,
        source: std::io::Error,
    ) -> Self {
        let path = path.as_ref();
        Error::new(
            ErrorKind::Io,
            format!("{context} {}: {source}", path.display()),
        )
        .with_path(path)
        .with_source(source)
    }

    /// A failed-precondition error listing blobs missing locally, by owner:
    /// `{context}: blobs missing locally: linux/arm64 (manifest sha256:…): sha256:…, sha256:…`.
    pub(crate) fn missing(context: impl fmt::Display, missing: Vec<MissingBlobs>) -> Self {
        let listed = missing
            .iter()
            .map(|m| {
                let digests = m
                    .digests
                    .iter()
                    .map(Digest::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("{} (manifest {}): {digests}", m.owner, m.manifest)
            })
            .collect::<Vec<_>>()
            .join("; ");
        Error::new(
            ErrorKind::FailedPrecondition,
            format!("{context}: blobs missing locally: {listed}"),
        )
        .with_detail(Detail::MissingBlobs(missing))
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The digest of the object concerned, when there is one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The file concerned, when there is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Structured facts, e.g. the platforms available when the wanted one is absent.
    pub fn detail(&self) -> Option<&Detail> {
        self.detail.as_deref()
    }

    /// The platforms an image does have, when this error says the wanted one is absent.
    pub fn available_platforms(&self) -> Option<&[Platform]> {
        match self.detail() {
            Some(Detail::NoMatchingPlatform { available, .. }) => Some(available),
            _ => None,
        }
    }

    /// The missing blobs by platform, when this error says some are missing.
    pub fn missing_blobs(&self) -> Option<&[MissingBlobs]> {
        match self.detail() {
            Some(Detail::MissingBlobs(missing)) => Some(missing),
            _ => None,
        }
    }

    /// True when the kind is [`ErrorKind::NotFound`].
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// True when the kind is [`ErrorKind::AlreadyExists`].
    pub fn is_already_exists(&self) -> bool {
        self.kind == ErrorKind::AlreadyExists
    }

    /// True when the kind is [`ErrorKind::InvalidArgument`].
    pub fn is_invalid_argument(&self) -> bool {
        self.kind == ErrorKind::InvalidArgument
    }

    /// True when the kind is [`ErrorKind::FailedPrecondition`].
    pub fn is_failed_precondition(&self) -> bool {
        self.kind == ErrorKind::FailedPrecondition
    }

    /// True when the kind is [`ErrorKind::DataLoss`].
    pub fn is_data_loss(&self) -> bool {
        self.kind == ErrorKind::DataLoss
    }

    /// True when the kind is [`ErrorKind::Unsupported`].
    pub fn is_unsupported(&self) -> bool {
        self.kind == ErrorKind::Unsupported
    }
}
