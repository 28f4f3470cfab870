//! Deterministic multi-platform images written into a store: several
//! platforms, one layer shared by all, buildx-style attestations on request,
//! OCI or Docker media types.

use std::collections::BTreeMap;
use std::io::Write;

use hoist_content::{Digest, Ingester, Labels, LocalStore, Manager};
use hoist_image::media_type as mt;
use hoist_image::{Descriptor, Image, canonical_json};
use hoist_platform::Platform;
use serde_json::json;
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

/// A gzip-compressed tar holding one file; returns (compressed, uncompressed digest).
pub fn layer_tar_gz(file: &str, content: &[u8]) -> (Vec<u8>, Digest) {
    let tar = layer_tar(file, content);
    let diff_id = Digest::sha256_of(&tar);
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    (gz.finish().unwrap(), diff_id)
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

/// Builds `spec` into `store`.
pub fn build<I: Ingester + ?Sized>(store: &I, spec: &Spec) -> Built {
    let (manifest_type, index_type, config_type, layer_type) = if spec.docker {
        (
            mt::DOCKER_MANIFEST,
            mt::DOCKER_MANIFEST_LIST,
            mt::DOCKER_CONFIG,
            mt::DOCKER_LAYER_GZIP,
        )
    } else {
        (
            mt::OCI_MANIFEST,
            mt::OCI_INDEX,
            mt::OCI_CONFIG,
            mt::OCI_LAYER_GZIP,
        )
    };
    let (shared_bytes, shared_diff) = layer_tar_gz("etc/shared", &noise("shared", 4096));
    let shared_layer = put(store, layer_type, &shared_bytes);

    let mut platforms = Vec::new();
    let mut entries = Vec::new();
    for p in &spec.platforms {
        let platform: Platform = p.parse().unwrap();
        let seed = format!("{p}{}", spec.flavor);
        let (own_bytes, own_diff) = layer_tar_gz(
            &format!("app/{}", p.replace('/', "-")),
            &noise(&seed, spec.layer_bytes),
        );
        let own_layer = put(store, layer_type, &own_bytes);
        let mut config = json!({
            "architecture": platform.architecture,
            "os": platform.os,
            "config": {"Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [shared_diff.to_string(), own_diff.to_string()]},
        });
        if let Some(variant) = &platform.variant {
            config["variant"] = json!(variant);
        }
        let config = put(store, config_type, &canonical_json(&config));
        let layers = vec![shared_layer.clone(), own_layer];
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": config,
            "layers": layers,
        });
        let manifest_bytes = canonical_json(&manifest);
        let manifest_desc = put_document(store, manifest_type, &manifest_bytes);
        let entry = manifest_desc.clone().with_platform(platform.clone());
        entries.push(entry.clone());
        platforms.push(PlatformImage {
            platform,
            entry,
            config,
            layers,
            attestation: None,
        });
    }
    if spec.attestations {
        for image in &mut platforms {
            let statement = json!({
                "_type": "https://in-toto.io/Statement/v0.1",
                "predicateType": "https://slsa.dev/provenance/v0.2",
                "subject": [{"name": spec.name, "digest": {"sha256": image.entry.digest.hex()}}],
            });
            let statement = put(store, mt::IN_TOTO, &canonical_json(&statement)).with_annotation(
                "in-toto.io/predicate-type",
                "https://slsa.dev/provenance/v0.2",
            );
            let config = put(
                store,
                mt::OCI_CONFIG,
                &canonical_json(
                    &json!({"architecture": "unknown", "os": "unknown", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}}),
                ),
            );
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": mt::OCI_MANIFEST,
                "config": config,
                "layers": [statement],
            });
            let entry = put_document(store, mt::OCI_MANIFEST, &canonical_json(&manifest))
                .with_platform(Platform::new("unknown", "unknown"))
                .with_annotation(
                    "vnd.docker.reference.digest",
                    image.entry.digest.to_string(),
                )
                .with_annotation("vnd.docker.reference.type", "attestation-manifest");
            entries.push(entry.clone());
            image.attestation = Some(Attestation {
                entry,
                config,
                statement,
            });
        }
    }
    let mut annotations = BTreeMap::new();
    annotations.insert("org.opencontainers.image.created", "2024-01-01T00:00:00Z");
    let mut index = json!({
        "schemaVersion": 2,
        "mediaType": index_type,
        "manifests": entries,
    });
    if !spec.docker {
        index["annotations"] = json!(annotations);
    }
    let index_bytes = canonical_json(&index);
    let index_desc = put_document(store, index_type, &index_bytes);
    Built {
        spec: spec.clone(),
        index: index_desc,
        index_bytes,
        platforms,
        shared_layer,
    }
}

/// Writes a document with its GC labels, as hoist does.
pub fn put_document<I: Ingester + ?Sized>(store: &I, media_type: &str, bytes: &[u8]) -> Descriptor {
    let document = hoist_image::write_document(store, bytes.to_vec(), media_type).unwrap();
    document.descriptor().clone()
}
