//! Manifests and indexes parsed from their raw bytes, which stay the truth.
//!
//! A [`Document`] keeps the exact bytes it was parsed from (digests are over
//! them), the `oci-spec` typed view for readers that want it, and hoist's own
//! [`Descriptor`]s, which keep what `oci-spec` drops (`os.version`,
//! `os.features`, unknown fields).

use std::collections::BTreeMap;

use hoist_content::{Digest, Labels};
use oci_spec::image::{ImageIndex, ImageManifest};
use serde_json::{Map, Value};

use crate::Descriptor;
use crate::annotations::{GC_BREF_CONTENT_SUBJECT, GC_REF_CONTENT_PREFIX};
use crate::error::{Detail, Error, ErrorKind, Result};
use crate::media_type::{self, MediaKind};

/// The largest manifest or index hoist reads or writes: 4 MiB, the limit
/// registries (distribution, containerd) apply too.
pub const MAX_DOCUMENT_SIZE: u64 = 4 * 1024 * 1024;

/// A manifest or an index.
#[derive(Debug, Clone)]
pub enum Document {
    /// An OCI index or Docker manifest list.
    Index(Box<Index>),
    /// An OCI manifest or Docker schema 2 manifest.
    Manifest(Box<Manifest>),
}

/// An OCI image manifest or a Docker schema 2 manifest (an artifact is an OCI
/// manifest with an `artifactType` or a non-image config).
#[derive(Debug, Clone)]
pub struct Manifest {
    descriptor: Descriptor,
    raw: Vec<u8>,
    oci: Box<ImageManifest>,
    config: Descriptor,
    layers: Vec<Descriptor>,
    subject: Option<Descriptor>,
    artifact_type: Option<String>,
    annotations: BTreeMap<String, String>,
}

/// An OCI image index or a Docker manifest list.
#[derive(Debug, Clone)]
pub struct Index {
    descriptor: Descriptor,
    raw: Vec<u8>,
    oci: Box<ImageIndex>,
    manifests: Vec<Descriptor>,
    annotations: BTreeMap<String, String>,
    body: Map<String, Value>,
}

impl Document {
    /// Parses `raw` as the document `descriptor` points at: checks the size
    /// and the digest first, then the JSON.
    ///
    /// # Errors
    /// - data-loss if the bytes' size or digest is not the descriptor's;
    /// - unsupported for a Docker schema 1 manifest, an OCI artifact manifest
    ///   (dropped from the final spec), a document over [`MAX_DOCUMENT_SIZE`];
    /// - invalid-argument for anything that is not a manifest or an index.
    pub fn parse(raw: Vec<u8>, descriptor: &Descriptor) -> Result<Document> {
        let digest = &descriptor.digest;
        let size = raw.len() as u64;
        if size > MAX_DOCUMENT_SIZE {
            return Err(too_big(digest, size));
        }
        if size != descriptor.size {
            return Err(Error::new(
                ErrorKind::DataLoss,
                format!(
                    "document {digest} is {size} bytes, but its descriptor says {}",
                    descriptor.size
                ),
            )
            .with_digest(digest)
            .with_detail(Detail::SizeMismatch {
                expected: descriptor.size,
                actual: size,
            }));
        }
        let actual = Digest::of(digest.algorithm(), &raw);
        if &actual != digest {
            return Err(Error::new(
                ErrorKind::DataLoss,
                format!("document {digest} has the wrong content: its bytes hash to {actual}"),
            )
            .with_digest(digest)
            .with_detail(Detail::DigestMismatch {
                expected: digest.clone(),
                actual,
            }));
        }
        Document::parse_verified(raw, descriptor)
    }

    /// Parses `raw`, whose digest is computed here (SHA-256); `media_type` is
    /// the declared type if one is known (`None` lets the body decide).
    ///
    /// # Errors
    /// As [`Document::parse`], but never a digest mismatch.
    pub fn from_bytes(raw: Vec<u8>, media_type: Option<&str>) -> Result<Document> {
        let digest = Digest::sha256_of(&raw);
        let descriptor = Descriptor::new(media_type.unwrap_or(""), digest, raw.len() as u64);
        Document::parse(raw, &descriptor)
    }

    fn parse_verified(raw: Vec<u8>, descriptor: &Descriptor) -> Result<Document> {
        let digest = &descriptor.digest;
        let body = match serde_json::from_slice::<Value>(&raw) {
            Ok(Value::Object(body)) => body,
            Ok(_) => return Err(invalid(digest, "is not a JSON object")),
            Err(e) => {
                return Err(invalid(digest, "is not valid JSON").with_source(e));
            }
        };
        let declared = media_type::essence(&descriptor.media_type);
        let stated = body
            .get("mediaType")
            .and_then(Value::as_str)
            .map(media_type::essence);
        let schema_version = body.get("schemaVersion").and_then(Value::as_u64);

        let declared_kind = media_type::classify(declared);
        let stated_kind = stated.map(media_type::classify);
        if declared_kind == MediaKind::Schema1
            || stated_kind == Some(MediaKind::Schema1)
            || schema_version == Some(1)
        {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "manifest {digest} is a Docker schema 1 manifest, which hoist does not read; \
                     convert the image to schema 2 or OCI (e.g. `skopeo copy --format v2s2`) or rebuild it"
                ),
            )
            .with_digest(digest));
        }
        if declared_kind == MediaKind::ArtifactManifest
            || stated_kind == Some(MediaKind::ArtifactManifest)
        {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "manifest {digest} is an OCI artifact manifest ({}), a draft type dropped \
                     from the final OCI 1.1 spec; hoist reads artifacts stored as image manifests",
                    media_type::OCI_ARTIFACT_MANIFEST
                ),
            )
            .with_digest(digest));
        }
        if schema_version != Some(2) {
            return Err(invalid(
                digest,
                &format!(
                    "has schemaVersion {}, hoist reads version 2",
                    body.get("schemaVersion")
                        .map_or("(none)".to_string(), Value::to_string)
                ),
            ));
        }

        let structural = if body.contains_key("manifests") {
            Some(MediaKind::Index)
        } else if body.contains_key("config") || body.contains_key("layers") {
            Some(MediaKind::Manifest)
        } else {
            None
        };
        let is_document = |k: &MediaKind| matches!(k, MediaKind::Index | MediaKind::Manifest);
        let kind = match (
            stated_kind.filter(is_document),
            Some(declared_kind).filter(is_document),
        ) {
            (Some(stated), Some(declared)) if stated != declared => {
                return Err(invalid(
                    digest,
                    &format!("says it is {stated} but was described as {declared}",),
                ));
            }
            (Some(kind), _) | (None, Some(kind)) => kind,
            (None, None) => match structural {
                Some(kind) => kind,
                None => {
                    return Err(invalid(digest, "is neither a manifest nor an index"));
                }
            },
        };
        let effective_media_type = stated
            .map(str::to_string)
            .or_else(|| Some(declared.to_string()).filter(|d| !d.is_empty()))
            .unwrap_or_else(|| match kind {
                MediaKind::Index => media_type::OCI_INDEX.to_string(),
                _ => media_type::OCI_MANIFEST.to_string(),
            });
        let mut descriptor = descriptor.clone();
        descriptor.media_type = effective_media_type;

        let annotations =
            field::<BTreeMap<String, String>>(&body, "annotations", digest)?.unwrap_or_default();
        match kind {
            MediaKind::Index => {
                let oci = ImageIndex::from_reader(raw.as_slice())
                    .map(Box::new)
                    .map_err(|e| invalid(digest, "is not a valid index").with_source(e))?;
                let manifests =
                    field::<Vec<Descriptor>>(&body, "manifests", digest)?.unwrap_or_default();
                Ok(Document::Index(Box::new(Index {
                    descriptor,
                    raw,
                    oci,
                    manifests,
                    annotations,
                    body,
                })))
            }
            _ => {
                let oci = ImageManifest::from_reader(raw.as_slice())
                    .map(Box::new)
                    .map_err(|e| invalid(digest, "is not a valid manifest").with_source(e))?;
                let config = field::<Descriptor>(&body, "config", digest)?
                    .ok_or_else(|| invalid(digest, "has no config"))?;
                let layers = field::<Vec<Descriptor>>(&body, "layers", digest)?.unwrap_or_default();
                let subject = field::<Descriptor>(&body, "subject", digest)?;
                let artifact_type = field::<String>(&body, "artifactType", digest)?;
                Ok(Document::Manifest(Box::new(Manifest {
                    descriptor,
                    raw,
                    oci,
                    config,
                    layers,
                    subject,
                    artifact_type,
                    annotations,
                })))
            }
        }
    }

    /// The descriptor of this document, with its effective media type.
    pub fn descriptor(&self) -> &Descriptor {
        match self {
            Document::Index(index) => &index.descriptor,
            Document::Manifest(manifest) => &manifest.descriptor,
        }
    }

    /// The document's digest.
    pub fn digest(&self) -> &Digest {
        &self.descriptor().digest
    }

    /// The exact bytes the document was parsed from.
    pub fn raw(&self) -> &[u8] {
        match self {
            Document::Index(index) => &index.raw,
            Document::Manifest(manifest) => &manifest.raw,
        }
    }

    /// The blobs this document points at: an index's manifests, a manifest's
    /// config then layers.
    pub fn children(&self) -> Vec<&Descriptor> {
        match self {
            Document::Index(index) => index.manifests.iter().collect(),
            Document::Manifest(manifest) => std::iter::once(&manifest.config)
                .chain(manifest.layers.iter())
                .collect(),
        }
    }

    /// The `containerd.io/gc.ref.content.*` labels that let the garbage
    /// collector follow this document to its children: `config` and `l.<i>`
    /// for a manifest, `m.<i>` for an index; and for a referrer (a manifest
    /// with a `subject`) the back reference
    /// `containerd.io/gc.bref.content.subject`, which holds it while its
    /// subject is held and lets it be found as a referrer of that subject.
    pub fn gc_labels(&self) -> Labels {
        let mut labels = Labels::new();
        match self {
            Document::Index(index) => {
                for (i, child) in index.manifests.iter().enumerate() {
                    labels.insert(
                        format!("{GC_REF_CONTENT_PREFIX}m.{i}"),
                        child.digest.to_string(),
                    );
                }
            }
            Document::Manifest(manifest) => {
                labels.insert(
                    format!("{GC_REF_CONTENT_PREFIX}config"),
                    manifest.config.digest.to_string(),
                );
                for (i, layer) in manifest.layers.iter().enumerate() {
                    labels.insert(
                        format!("{GC_REF_CONTENT_PREFIX}l.{i}"),
                        layer.digest.to_string(),
                    );
                }
                if let Some(subject) = &manifest.subject {
                    labels.insert(
                        GC_BREF_CONTENT_SUBJECT.to_owned(),
                        subject.digest.to_string(),
                    );
                }
            }
        }
        labels
    }

    /// The index, if this is one.
    pub fn as_index(&self) -> Option<&Index> {
        match self {
            Document::Index(index) => Some(index.as_ref()),
            Document::Manifest(_) => None,
        }
    }

    /// The manifest, if this is one.
    pub fn as_manifest(&self) -> Option<&Manifest> {
        match self {
            Document::Manifest(manifest) => Some(manifest.as_ref()),
            Document::Index(_) => None,
        }
    }
}

impl Manifest {
    /// The descriptor of this manifest, with its effective media type.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// The exact bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The `oci-spec` typed view (lossy: for reading fields hoist does not model).
    pub fn oci(&self) -> &ImageManifest {
        &self.oci
    }

    /// The config descriptor.
    pub fn config(&self) -> &Descriptor {
        &self.config
    }

    /// The layer descriptors, base first.
    pub fn layers(&self) -> &[Descriptor] {
        &self.layers
    }

    /// The manifest this one refers to (OCI 1.1 referrers), if any.
    pub fn subject(&self) -> Option<&Descriptor> {
        self.subject.as_ref()
    }

    /// The artifact type, if this manifest is an artifact that declares one.
    pub fn artifact_type(&self) -> Option<&str> {
        self.artifact_type.as_deref()
    }

    /// The manifest's annotations.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }

    /// True when the config is an image config (OCI or Docker): the manifest
    /// is a runnable image rather than an artifact.
    pub fn is_image(&self) -> bool {
        media_type::classify(&self.config.media_type) == MediaKind::Config
    }

    /// The config then the layers.
    pub fn blobs(&self) -> impl Iterator<Item = &Descriptor> {
        std::iter::once(&self.config).chain(self.layers.iter())
    }

    /// For a referrer (a manifest with a `subject`): its subject's digest
    /// and its descriptor as the referrers API lists it (media type,
    /// digest, size, `artifactType` — the manifest's, else its config's
    /// media type, as the distribution spec says — and the manifest's
    /// annotations). `None` for a manifest without a `subject`.
    pub fn referrer_listing(&self) -> Option<(Digest, Descriptor)> {
        let subject = self.subject.as_ref()?.digest.clone();
        let own = &self.descriptor;
        let mut listed = Descriptor::new(own.media_type.clone(), own.digest.clone(), own.size);
        listed.artifact_type = Some(
            self.artifact_type
                .as_deref()
                .unwrap_or(&self.config.media_type)
                .to_owned(),
        );
        listed.annotations = self.annotations.clone();
        Some((subject, listed))
    }
}

impl Index {
    /// The descriptor of this index, with its effective media type.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// The exact bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The `oci-spec` typed view (lossy: its platforms drop `os.version`).
    pub fn oci(&self) -> &ImageIndex {
        &self.oci
    }

    /// The entries, in document order.
    pub fn manifests(&self) -> &[Descriptor] {
        &self.manifests
    }

    /// The index's annotations.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }

    /// The top-level JSON object, every field as read.
    pub(crate) fn body(&self) -> &Map<String, Value> {
        &self.body
    }
}

/// Reads the optional field `name` of `body`; `null` reads as absent.
fn field<T: serde::de::DeserializeOwned>(
    body: &Map<String, Value>,
    name: &str,
    digest: &Digest,
) -> Result<Option<T>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|e| invalid(digest, &format!("has an invalid `{name}`: {e}")).with_source(e)),
    }
}

fn invalid(digest: &Digest, what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!("document {digest} {what}"),
    )
    .with_digest(digest)
}

pub(crate) fn too_big(digest: &Digest, size: u64) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "document {digest} is {size} bytes, over the {} MiB limit for manifests and indexes",
            MAX_DOCUMENT_SIZE / (1024 * 1024)
        ),
    )
    .with_digest(digest)
}
