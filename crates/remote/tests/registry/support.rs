//! Shared helpers: start a registry (or skip loudly), a client for it, and a
//! small multi-platform image made of deterministic bytes.

use std::time::Duration;

use bytes::Bytes;
use hoist_content::Digest;
use hoist_remote::{
    BlobPushed, BytesSource, Client, ClientOptions, ManifestTarget, PushBlobOptions, Repository,
    RetryPolicy, media_type,
};
use hoist_testkit::{Registry, RegistryOptions};

/// Starts a registry; `None` means "skip" (already announced on stderr).
pub fn start(options: RegistryOptions) -> Option<Registry> {
    Registry::start(options).expect("starting docker-registry")
}

/// Options with quick retries, so tests of failure paths stay fast.
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        retry: RetryPolicy {
            attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        },
        idle_timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    }
}

pub fn client(options: ClientOptions) -> Client {
    Client::new(options).unwrap()
}

pub fn repo(host: &str, name: &str) -> Repository {
    format!("{host}/{name}").parse().unwrap()
}

/// `length` pseudo-random bytes from `seed` (xorshift: no dependency).
pub fn bytes_of(seed: u64, length: usize) -> Bytes {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(length);
    while out.len() < length {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(length);
    Bytes::from(out)
}

/// A blob: bytes and digest.
#[derive(Clone)]
pub struct Blob {
    pub bytes: Bytes,
    pub digest: Digest,
}

impl Blob {
    pub fn new(bytes: Bytes) -> Blob {
        let digest = Digest::sha256_of(&bytes);
        Blob { bytes, digest }
    }

    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
}

/// A two-platform OCI image: a shared layer, one config and manifest per
/// platform, and an index.
pub struct Image {
    pub layer: Blob,
    pub configs: Vec<Blob>,
    pub manifests: Vec<Blob>,
    pub index: Blob,
}

pub fn sample_image(seed: u64, layer_size: usize) -> Image {
    // The one fixture generator of the test suites: two platforms sharing
    // one layer (a real gzip tar whose diff_id the configs list).
    let mut spec = hoist_testkit::FixtureSpec::four_platforms(seed, layer_size, 0);
    spec.platforms = ["linux/amd64", "linux/arm64"]
        .iter()
        .map(|p| hoist_testkit::FixturePlatform::parse(p).unwrap())
        .collect();
    spec.layers_per_platform = 0;
    let fixture = hoist_testkit::Fixture::generate(&spec).unwrap();
    let blob = |b: &hoist_testkit::FixtureBlob| Blob::new(Bytes::from(b.bytes.clone()));
    Image {
        layer: blob(&fixture.images[0].layers[0]),
        configs: fixture.images.iter().map(|i| blob(&i.config)).collect(),
        manifests: fixture.images.iter().map(|i| blob(&i.manifest)).collect(),
        index: blob(&fixture.index),
    }
}

/// Pushes `image` to `repository` under `tag`: blobs, manifests by digest,
/// the index by tag last.
pub async fn push_image(client: &Client, repository: &Repository, image: &Image, tag: &str) {
    for blob in std::iter::once(&image.layer).chain(&image.configs) {
        let pushed = client
            .push_blob(
                repository,
                &blob.digest,
                blob.size(),
                &BytesSource(blob.bytes.clone()),
                &PushBlobOptions::default(),
            )
            .await
            .unwrap();
        assert!(matches!(
            pushed,
            BlobPushed::Uploaded | BlobPushed::AlreadyPresent
        ));
    }
    for manifest in &image.manifests {
        client
            .put_manifest(
                repository,
                ManifestTarget::Digest,
                media_type::OCI_MANIFEST,
                manifest.bytes.clone(),
            )
            .await
            .unwrap();
    }
    let pushed = client
        .put_manifest(
            repository,
            ManifestTarget::Tag(tag),
            media_type::OCI_INDEX,
            image.index.bytes.clone(),
        )
        .await
        .unwrap();
    assert_eq!(pushed.digest, image.index.digest);
}

/// Reads a whole blob stream.
pub async fn read_all(stream: &mut hoist_remote::BlobStream) -> hoist_remote::Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next_chunk().await? {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
