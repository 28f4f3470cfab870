//! Deterministic multi-platform images written into a store: several
//! platforms, one layer shared by all, buildx-style attestations on request,
//! OCI or Docker media types. The images themselves come from
//! hoist-testkit's generator, the one every test suite uses; this file
//! writes them into a content store and names their parts.

use hoist_content::{Digest, Ingester, Labels, LocalStore, Manager};
use hoist_image::media_type as mt;
use hoist_image::{Descriptor, Image};
use hoist_platform::Platform;
use tempfile::TempDir;

/// What to build.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub platforms: Vec<&'static str>,
    pub attestations: bool,
    pub docker: bool,
    /// Bytes of pseudo-random file content in each platform's own layer.
    pub layer_bytes: usize,
    /// Marker mixed into every platform layer, so two specs give different manifests.
    pub flavor: &'static str,
}

impl Spec {
    pub fn new(platforms: &[&'static str]) -> Spec {
        Spec {
            name: "example.com/app:1.0".to_string(),
            platforms: platforms.to_vec(),
            attestations: false,
            docker: false,
            layer_bytes: 2048,
            flavor: "",
        }
    }

    pub fn attestations(mut self) -> Spec {
        self.attestations = true;
        self
    }

    pub fn docker(mut self) -> Spec {
        self.docker = true;
        self
    }

    pub fn named(mut self, name: &str) -> Spec {
        self.name = name.to_string();
        self
    }

    pub fn flavor(mut self, flavor: &'static str) -> Spec {
        self.flavor = flavor;
        self
    }

    #[allow(dead_code)]
    pub fn layer_bytes(mut self, bytes: usize) -> Spec {
        self.layer_bytes = bytes;
        self
    }
}

/// One platform's image.
#[derive(Debug, Clone)]
pub struct PlatformImage {
    pub platform: Platform,
    /// The index entry (with platform).
    pub entry: Descriptor,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    pub attestation: Option<Attestation>,
}

impl PlatformImage {
    /// The manifest as a lone image (no platform in the descriptor).
    pub fn image(&self, name: &str) -> Image {
        let mut target = self.entry.clone();
        target.platform = None;
        Image::new(name, target)
    }

    /// The platform layer (not the shared one).
    pub fn own_layer(&self) -> &Descriptor {
        &self.layers[1]
    }
}

#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct Attestation {
    pub entry: Descriptor,
    pub config: Descriptor,
    pub statement: Descriptor,
}

/// A built image.
#[derive(Debug, Clone)]
pub struct Built {
    pub spec: Spec,
    pub index: Descriptor,
    pub index_bytes: Vec<u8>,
    pub platforms: Vec<PlatformImage>,
    pub shared_layer: Descriptor,
}

impl Built {
    pub fn image(&self) -> Image {
        Image::new(self.spec.name.clone(), self.index.clone())
    }

    pub fn platform(&self, platform: &str) -> &PlatformImage {
        let wanted: Platform = platform.parse().unwrap();
        self.platforms
            .iter()
            .find(|p| p.platform == wanted)
            .unwrap_or_else(|| panic!("no {platform} in the fixture"))
    }
}

/// A store in a temporary directory.
pub struct TestStore {
    pub store: LocalStore,
    /// Kept so the directory lives as long as the store.
    _dir: TempDir,
}

impl TestStore {
    pub fn new() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path().join("content")).unwrap();
        TestStore { store, _dir: dir }
    }

    pub fn has(&self, digest: &Digest) -> bool {
        hoist_image::exists(&self.store, digest).unwrap()
    }

    pub fn delete(&self, digest: &Digest) {
        self.store.delete(digest).unwrap();
    }

    pub fn read(&self, digest: &Digest) -> Vec<u8> {
        let mut reader = hoist_content::Provider::reader(&self.store, digest).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut bytes).unwrap();
        bytes
    }
}

/// Writes `bytes` to the store and returns its descriptor.
pub fn put<I: Ingester + ?Sized>(store: &I, media_type: &str, bytes: &[u8]) -> Descriptor {
    let digest = Digest::sha256_of(bytes);
    hoist_content::write_blob(
        store,
        &format!("fixture-{}", digest.hex()),
        bytes,
        &digest,
        bytes.len() as u64,
        Labels::new(),
    )
    .unwrap();
    Descriptor::new(media_type, digest, bytes.len() as u64)
}

/// Deterministic pseudo-random bytes (xorshift), seeded by `seed`.
pub fn noise(seed: &str, len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in seed.bytes() {
        state = (state ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
    }
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// An uncompressed tar holding one file.
pub fn layer_tar(file: &str, content: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, file, content).unwrap();
    builder.into_inner().unwrap()
}

/// Builds `spec` into `store`: the image comes from hoist-testkit's one
/// fixture generator (the same one the registry, CLI and interop tests
/// use), written blob by blob, documents with their GC labels.
pub fn build<I: Ingester + ?Sized>(store: &I, spec: &Spec) -> Built {
    let mut generator = hoist_testkit::FixtureSpec::four_platforms(seed_of(spec), 4096, 0);
    generator.platforms = spec
        .platforms
        .iter()
        .map(|p| hoist_testkit::FixturePlatform::parse(p).unwrap())
        .collect();
    generator.layer_size = spec.layer_bytes;
    generator.docker_media_types = spec.docker;
    generator.compression_level = 1;
    generator.attestations = spec.attestations;
    if !spec.docker {
        generator.index_annotations = vec![(
            "org.opencontainers.image.created".to_owned(),
            "2024-01-01T00:00:00Z".to_owned(),
        )];
    }
    let fixture = hoist_testkit::Fixture::generate(&generator).unwrap();
    let stored = |blob: &hoist_testkit::FixtureBlob| -> Descriptor {
        if mt::is_index(&blob.media_type) || mt::is_manifest(&blob.media_type) {
            put_document(store, &blob.media_type, &blob.bytes)
        } else {
            put(store, &blob.media_type, &blob.bytes)
        }
    };
    let mut platforms = Vec::new();
    for image in &fixture.images {
        let platform: Platform = image.platform.to_text().parse().unwrap();
        let layers: Vec<Descriptor> = image.layers.iter().map(stored).collect();
        let config = stored(&image.config);
        let entry = stored(&image.manifest).with_platform(platform.clone());
        let attestation = image.attestation.as_ref().map(|a| {
            let statement = stored(&a.statement).with_annotation(
                "in-toto.io/predicate-type",
                "https://slsa.dev/provenance/v0.2",
            );
            let config = stored(&a.config);
            let entry = stored(&a.manifest)
                .with_platform(Platform::new("unknown", "unknown"))
                .with_annotation("vnd.docker.reference.digest", entry.digest.to_string())
                .with_annotation("vnd.docker.reference.type", "attestation-manifest");
            Attestation {
                entry,
                config,
                statement,
            }
        });
        platforms.push(PlatformImage {
            platform,
            entry,
            config,
            layers,
            attestation,
        });
    }
    let shared_layer = platforms
        .first()
        .map(|p| p.layers[0].clone())
        .unwrap_or_else(|| stored(&fixture.images[0].layers[0]));
    Built {
        spec: spec.clone(),
        index: stored(&fixture.index),
        index_bytes: fixture.index.bytes.clone(),
        platforms,
        shared_layer,
    }
}

/// The generator's seed for `spec`: its flavor and platforms, so two specs
/// that differ there give different manifests.
fn seed_of(spec: &Spec) -> u64 {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for byte in spec.flavor.bytes().chain(spec.platforms.concat().bytes()) {
        seed = (seed ^ u64::from(byte)).wrapping_mul(0x100_0000_01B3);
    }
    seed
}

/// Writes a document with its GC labels, as hoist does.
pub fn put_document<I: Ingester + ?Sized>(store: &I, media_type: &str, bytes: &[u8]) -> Descriptor {
    let document = hoist_image::write_document(store, bytes.to_vec(), media_type).unwrap();
    document.descriptor().clone()
}
