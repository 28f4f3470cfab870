//! Media types of OCI and Docker documents and layers, and what they mean for
//! traversal: a Docker manifest list is an OCI index, a Docker schema 2
//! manifest is an OCI manifest.

/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image configuration.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI empty descriptor content (`{}`), the config of an artifact.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// OCI uncompressed layer.
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI gzip-compressed layer.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI zstd-compressed layer.
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// OCI non-distributable uncompressed layer (deprecated in image-spec 1.1, still met).
pub const OCI_LAYER_NONDISTRIBUTABLE: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
/// OCI non-distributable gzip layer.
pub const OCI_LAYER_NONDISTRIBUTABLE_GZIP: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
/// OCI non-distributable zstd layer.
pub const OCI_LAYER_NONDISTRIBUTABLE_ZSTD: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
/// The OCI 1.1 release-candidate artifact manifest, dropped from the final spec.
pub const OCI_ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";
/// The OCI layout's index file (`index.json`) has no media type of its own; this one is used.
pub const OCI_LAYOUT_HEADER: &str = "application/vnd.oci.layout.header.v1+json";

/// Docker manifest list: an index.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image manifest, schema 2: a manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker image configuration.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker uncompressed layer.
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
/// Docker gzip-compressed layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker zstd-compressed layer (as containerd names it).
pub const DOCKER_LAYER_ZSTD: &str = "application/vnd.docker.image.rootfs.diff.tar.zstd";
/// Docker foreign (non-distributable) gzip layer, e.g. Windows base layers.
pub const DOCKER_FOREIGN_LAYER_GZIP: &str =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/// Docker image manifest, schema 1: refused.
pub const DOCKER_SCHEMA1_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v1+json";
/// Docker image manifest, schema 1, signed: refused.
pub const DOCKER_SCHEMA1_SIGNED_MANIFEST: &str =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
/// in-toto statements, the layers of a buildx attestation manifest.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// How a layer's bytes are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// A plain tar.
    Uncompressed,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
    /// Something else (e.g. an encrypted layer's suffix).
    Other,
}

/// What a media type means for traversal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaKind {
    /// An OCI index or a Docker manifest list: its children are manifests.
    Index,
    /// An OCI manifest or a Docker schema 2 manifest: its children are a config and layers.
    Manifest,
    /// An image configuration (OCI or Docker).
    Config,
    /// A filesystem layer.
    Layer {
        /// The layer's compression.
        compression: Compression,
        /// False for non-distributable ("foreign") layers, which registries may not hold.
        distributable: bool,
    },
    /// A Docker schema 1 manifest, which hoist refuses.
    Schema1,
    /// The OCI 1.1 release-candidate artifact manifest, which hoist refuses.
    ArtifactManifest,
    /// Anything else: artifact configs and blobs, in-toto statements, ...
    Other,
}

impl std::fmt::Display for MediaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MediaKind::Index => "an index",
            MediaKind::Manifest => "a manifest",
            MediaKind::Config => "a config",
            MediaKind::Layer { .. } => "a layer",
            MediaKind::Schema1 => "a Docker schema 1 manifest",
            MediaKind::ArtifactManifest => "an OCI artifact manifest",
            MediaKind::Other => "another blob",
        })
    }
}

/// The media type without parameters (`; charset=...`) and surrounding blanks.
pub fn essence(media_type: &str) -> &str {
    media_type.split(';').next().unwrap_or("").trim()
}

/// What `media_type` means for traversal; see [`MediaKind`].
pub fn classify(media_type: &str) -> MediaKind {
    let media_type = essence(media_type);
    match media_type {
        OCI_INDEX | DOCKER_MANIFEST_LIST => MediaKind::Index,
        OCI_MANIFEST | DOCKER_MANIFEST => MediaKind::Manifest,
        OCI_CONFIG | DOCKER_CONFIG => MediaKind::Config,
        DOCKER_SCHEMA1_MANIFEST | DOCKER_SCHEMA1_SIGNED_MANIFEST => MediaKind::Schema1,
        OCI_ARTIFACT_MANIFEST => MediaKind::ArtifactManifest,
        _ => classify_layer(media_type).unwrap_or(MediaKind::Other),
    }
}

/// Layers are recognized by prefix, as containerd does, so suffixes such as
/// `+encrypted` still read as layers.
fn classify_layer(media_type: &str) -> Option<MediaKind> {
    const OCI_ND: &str = "application/vnd.oci.image.layer.nondistributable.";
    const OCI: &str = "application/vnd.oci.image.layer.";
    const DOCKER_FOREIGN: &str = "application/vnd.docker.image.rootfs.foreign.";
    const DOCKER: &str = "application/vnd.docker.image.rootfs.";
    let distributable = !(media_type.starts_with(OCI_ND) || media_type.starts_with(DOCKER_FOREIGN));
    if !(media_type.starts_with(OCI) || media_type.starts_with(DOCKER)) {
        return None;
    }
    let compression = if media_type.ends_with("+gzip") || media_type.ends_with(".tar.gzip") {
        Compression::Gzip
    } else if media_type.ends_with("+zstd") || media_type.ends_with(".tar.zstd") {
        Compression::Zstd
    } else if media_type.ends_with(".tar") {
        Compression::Uncompressed
    } else {
        Compression::Other
    };
    Some(MediaKind::Layer {
        compression,
        distributable,
    })
}

/// True for an OCI index or a Docker manifest list.
pub fn is_index(media_type: &str) -> bool {
    classify(media_type) == MediaKind::Index
}

/// True for an OCI manifest or a Docker schema 2 manifest.
pub fn is_manifest(media_type: &str) -> bool {
    classify(media_type) == MediaKind::Manifest
}

/// True for any layer media type, distributable or not.
pub fn is_layer(media_type: &str) -> bool {
    matches!(classify(media_type), MediaKind::Layer { .. })
}

/// True for a non-distributable (foreign) layer.
pub fn is_non_distributable(media_type: &str) -> bool {
    matches!(
        classify(media_type),
        MediaKind::Layer {
            distributable: false,
            ..
        }
    )
}

/// True for Docker media types (which Docker's own tools require end to end).
pub fn is_docker(media_type: &str) -> bool {
    essence(media_type).starts_with("application/vnd.docker.")
}

/// The `Accept` header value for manifest requests: indexes first.
/// Distribution 2.8 answers 404 for an OCI index unless `Accept` names the
/// OCI index type, so every manifest request names all four.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// Whether `media_type` is one of the four manifest or index types a
/// registry reference resolves to ([`MANIFEST_ACCEPT`]).
pub fn is_manifest_type(media_type: &str) -> bool {
    matches!(
        essence(media_type),
        OCI_INDEX | OCI_MANIFEST | DOCKER_MANIFEST_LIST | DOCKER_MANIFEST
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn accept_names_the_four_resolvable_types() {
        for t in [
            OCI_INDEX,
            OCI_MANIFEST,
            DOCKER_MANIFEST_LIST,
            DOCKER_MANIFEST,
        ] {
            assert!(MANIFEST_ACCEPT.contains(t), "{t}");
            assert!(is_manifest_type(t));
        }
        assert!(!is_manifest_type("application/json"));
        assert!(!is_manifest_type(OCI_CONFIG));
    }

    use super::*;

    #[test]
    fn docker_and_oci_types_are_equivalent_for_traversal() {
        assert_eq!(classify(OCI_INDEX), MediaKind::Index);
        assert_eq!(classify(DOCKER_MANIFEST_LIST), MediaKind::Index);
        assert_eq!(classify(OCI_MANIFEST), MediaKind::Manifest);
        assert_eq!(classify(DOCKER_MANIFEST), MediaKind::Manifest);
        assert_eq!(classify(DOCKER_CONFIG), MediaKind::Config);
        assert_eq!(classify(OCI_CONFIG), MediaKind::Config);
    }

    #[test]
    fn layers_carry_compression_and_distributability() {
        let cases = [
            (OCI_LAYER, Compression::Uncompressed, true),
            (OCI_LAYER_GZIP, Compression::Gzip, true),
            (OCI_LAYER_ZSTD, Compression::Zstd, true),
            (OCI_LAYER_NONDISTRIBUTABLE, Compression::Uncompressed, false),
            (OCI_LAYER_NONDISTRIBUTABLE_GZIP, Compression::Gzip, false),
            (OCI_LAYER_NONDISTRIBUTABLE_ZSTD, Compression::Zstd, false),
            (DOCKER_LAYER, Compression::Uncompressed, true),
            (DOCKER_LAYER_GZIP, Compression::Gzip, true),
            (DOCKER_LAYER_ZSTD, Compression::Zstd, true),
            (DOCKER_FOREIGN_LAYER_GZIP, Compression::Gzip, false),
            (
                "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
                Compression::Other,
                true,
            ),
        ];
        for (media_type, compression, distributable) in cases {
            assert_eq!(
                classify(media_type),
                MediaKind::Layer {
                    compression,
                    distributable
                },
                "{media_type}"
            );
            assert!(is_layer(media_type));
            assert_eq!(is_non_distributable(media_type), !distributable);
        }
    }

    #[test]
    fn schema1_and_artifact_manifests_are_recognized_to_be_refused() {
        assert_eq!(classify(DOCKER_SCHEMA1_MANIFEST), MediaKind::Schema1);
        assert_eq!(classify(DOCKER_SCHEMA1_SIGNED_MANIFEST), MediaKind::Schema1);
        assert_eq!(classify(OCI_ARTIFACT_MANIFEST), MediaKind::ArtifactManifest);
    }

    #[test]
    fn parameters_and_unknown_types() {
        assert_eq!(
            classify(" application/vnd.oci.image.index.v1+json; charset=utf-8"),
            MediaKind::Index
        );
        assert_eq!(classify(IN_TOTO), MediaKind::Other);
        assert_eq!(classify(""), MediaKind::Other);
        assert!(is_docker(DOCKER_MANIFEST));
        assert!(!is_docker(OCI_MANIFEST));
        assert!(is_index(DOCKER_MANIFEST_LIST) && is_manifest(OCI_MANIFEST));
    }
}
