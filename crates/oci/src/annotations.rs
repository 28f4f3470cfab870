//! Annotation and label names hoist reads or writes.

/// The full image name on an entry of an archive's `index.json` (containerd's).
pub const IMAGE_NAME: &str = "io.containerd.image.name";
/// The OCI reference name on an entry of an archive's `index.json`: the tag
/// only when written by containerd or hoist, sometimes a full reference
/// when written by skopeo.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// buildx: what kind of reference an entry is (`attestation-manifest`).
pub const DOCKER_REFERENCE_TYPE: &str = "vnd.docker.reference.type";
/// buildx: the manifest an attestation manifest is about.
pub const DOCKER_REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";
/// The value of [`DOCKER_REFERENCE_TYPE`] on attestation manifests.
pub const ATTESTATION_MANIFEST: &str = "attestation-manifest";

/// Prefix of the content labels that give the garbage collector its edges:
/// `containerd.io/gc.ref.content.config`, `.l.<i>` for layers, `.m.<i>` for
/// the children of an index.
pub const GC_REF_CONTENT_PREFIX: &str = "containerd.io/gc.ref.content.";

/// The content label a referrer (an OCI 1.1 manifest with a `subject`)
/// carries, naming its subject's digest: a containerd 2 back reference, so
/// the garbage collector holds the referrer while its subject is held, and
/// `Store::referrers` finds it.
pub const GC_BREF_CONTENT_SUBJECT: &str = "containerd.io/gc.bref.content.subject";
