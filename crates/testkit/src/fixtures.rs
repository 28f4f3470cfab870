//! Deterministic multi-platform images for tests and benchmarks: seeded
//! pseudo-random layers (gzip tar), configs, manifests and an index, with one
//! layer shared by every platform, as raw bytes and descriptors. The same
//! spec always gives the same digests.
//!
//! Layer contents are random, so they do not compress; the default gzip
//! level 0 (stored blocks, still valid gzip) keeps generating a 200 MB image
//! fast.

use std::io::Write;
use std::path::Path;

use flate2::{Compression, GzBuilder};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// OCI media types.
pub mod oci {
    /// Image index.
    pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// Image manifest.
    pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// Image config.
    pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// gzip-compressed layer.
    pub const LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
}

/// Docker schema 2 media types.
pub mod docker {
    /// Manifest list.
    pub const INDEX: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Image manifest.
    pub const MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Image config.
    pub const CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// gzip-compressed layer.
    pub const LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
}

/// A platform of the fixture: `os`, `architecture`, optional `variant`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixturePlatform {
    /// e.g. `linux`.
    pub os: String,
    /// e.g. `arm64`.
    pub architecture: String,
    /// e.g. `v8`.
    pub variant: Option<String>,
}

impl FixturePlatform {
    /// Parses `os/arch[/variant]`.
    ///
    /// # Errors
    /// When there are fewer than two or more than three parts.
    pub fn parse(text: &str) -> Result<FixturePlatform> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, arch] => Ok(FixturePlatform {
                os: (*os).to_owned(),
                architecture: (*arch).to_owned(),
                variant: None,
            }),
            [os, arch, variant] => Ok(FixturePlatform {
                os: (*os).to_owned(),
                architecture: (*arch).to_owned(),
                variant: Some((*variant).to_owned()),
            }),
            _ => Err(Error::Other(format!(
                "invalid platform {text:?}: expected os/arch[/variant]"
            ))),
        }
    }

    /// `os/arch[/variant]`.
    pub fn to_text(&self) -> String {
        match &self.variant {
            Some(variant) => format!("{}/{}/{variant}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }

    fn json(&self) -> serde_json::Value {
        let mut value = serde_json::json!({ "os": self.os, "architecture": self.architecture });
        if let Some(variant) = &self.variant {
            value["variant"] = serde_json::Value::String(variant.clone());
        }
        value
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct FixtureSpec {
    /// The seed; everything follows from it.
    pub seed: u64,
    /// The platforms, in index order.
    pub platforms: Vec<FixturePlatform>,
    /// Uncompressed content bytes of the layer every platform shares.
    pub shared_layer_size: usize,
    /// Layers of each platform's own, besides the shared one.
    pub layers_per_platform: usize,
    /// Uncompressed content bytes of each of those.
    pub layer_size: usize,
    /// Docker schema 2 media types instead of OCI ones.
    pub docker_media_types: bool,
    /// gzip level, 0 (stored) to 9.
    pub compression_level: u32,
    /// Give every platform a buildx-style attestation manifest (an in-toto
    /// provenance statement, platform `unknown/unknown`, annotated
    /// `vnd.docker.reference.digest`), listed after the platforms as buildx
    /// lists them.
    pub attestations: bool,
    /// Annotations of the index (`org.opencontainers.image.created`, …),
    /// in this order; none by default.
    pub index_annotations: Vec<(String, String)>,
    /// Uncompressed sizes of more layers every platform shares, after the
    /// first shared one; none by default.
    pub more_shared_layer_sizes: Vec<usize>,
    /// When not empty, the uncompressed sizes of each platform's own
    /// layers, instead of `layers_per_platform` layers of `layer_size`.
    pub own_layer_sizes: Vec<usize>,
}

impl FixtureSpec {
    /// `linux/amd64`, `linux/arm64/v8`, `linux/arm/v7`, `linux/s390x` with
    /// one shared layer of `shared` bytes and one own layer of `own` bytes
    /// each.
    pub fn four_platforms(seed: u64, shared: usize, own: usize) -> FixtureSpec {
        FixtureSpec {
            seed,
            platforms: [
                "linux/amd64",
                "linux/arm64/v8",
                "linux/arm/v7",
                "linux/s390x",
            ]
            .iter()
            .filter_map(|p| FixturePlatform::parse(p).ok())
            .collect(),
            shared_layer_size: shared,
            layers_per_platform: 1,
            layer_size: own,
            docker_media_types: false,
            compression_level: 0,
            attestations: false,
            index_annotations: Vec::new(),
            more_shared_layer_sizes: Vec::new(),
            own_layer_sizes: Vec::new(),
        }
    }

    /// An image as built from a long Dockerfile: `linux/amd64` and
    /// `linux/arm64/v8`, each with 40 layers (one 4 KiB layer shared, 39
    /// of its own from 4 KiB to 60 MiB, most of them small), about 250 MiB
    /// in all.
    pub fn many_layers(seed: u64) -> FixtureSpec {
        let mut spec = FixtureSpec::four_platforms(seed, 4 << 10, 0);
        spec.platforms = ["linux/amd64", "linux/arm64/v8"]
            .iter()
            .filter_map(|p| FixturePlatform::parse(p).ok())
            .collect();
        spec.own_layer_sizes = spread(39, 4 << 10, 60 << 20, 2.6);
        spec
    }

    /// An index of 8 platforms with 12 layers each, the first 6 shared by
    /// all (16 KiB to 16 MiB) and 6 of each platform's own (4 KiB to
    /// 4 MiB): many requests for few bytes, about 64 MiB in all.
    pub fn eight_platforms(seed: u64) -> FixtureSpec {
        let mut spec = FixtureSpec::four_platforms(seed, 16 << 20, 0);
        spec.platforms = [
            "linux/amd64",
            "linux/arm64/v8",
            "linux/arm/v7",
            "linux/arm/v6",
            "linux/386",
            "linux/ppc64le",
            "linux/s390x",
            "linux/riscv64",
        ]
        .iter()
        .filter_map(|p| FixturePlatform::parse(p).ok())
        .collect();
        spec.more_shared_layer_sizes = spread(5, 16 << 10, 4 << 20, 1.0);
        spec.own_layer_sizes = spread(6, 4 << 10, 4 << 20, 1.0);
        spec
    }

    /// The same spec with buildx-style attestations.
    #[must_use]
    pub fn with_attestations(mut self) -> FixtureSpec {
        self.attestations = true;
        self
    }
}

/// `count` sizes from `smallest` to `largest`, largest last: evenly spaced
/// on a log scale when `skew` is 1, crowded towards `smallest` when it is
/// larger.
fn spread(count: usize, smallest: usize, largest: usize, skew: f64) -> Vec<usize> {
    let ratio = largest as f64 / smallest as f64;
    (0..count)
        .map(|i| {
            let position = if count > 1 {
                i as f64 / (count - 1) as f64
            } else {
                1.0
            };
            (smallest as f64 * ratio.powf(position.powf(skew))).round() as usize
        })
        .collect()
}

/// A blob: its bytes and descriptor fields.
#[derive(Clone, PartialEq, Eq)]
pub struct FixtureBlob {
    /// The media type.
    pub media_type: String,
    /// `sha256:<hex>` of the bytes.
    pub digest: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for FixtureBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixtureBlob")
            .field("media_type", &self.media_type)
            .field("digest", &self.digest)
            .field("size", &self.bytes.len())
            .finish()
    }
}

impl FixtureBlob {
    pub(crate) fn new(media_type: &str, bytes: Vec<u8>) -> FixtureBlob {
        FixtureBlob {
            media_type: media_type.to_owned(),
            digest: sha256_digest(&bytes),
            bytes,
        }
    }

    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The OCI descriptor `{mediaType, digest, size}`.
    pub fn descriptor(&self) -> serde_json::Value {
        serde_json::json!({ "mediaType": self.media_type, "digest": self.digest, "size": self.size() })
    }
}

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// One platform's image.
#[derive(Debug, Clone)]
pub struct FixtureImage {
    /// Its platform.
    pub platform: FixturePlatform,
    /// Its layers, the shared one first.
    pub layers: Vec<FixtureBlob>,
    /// Its config.
    pub config: FixtureBlob,
    /// Its manifest.
    pub manifest: FixtureBlob,
    /// Its attestation manifest, when the spec asks for attestations.
    pub attestation: Option<FixtureAttestation>,
}

/// A buildx-style attestation manifest about one platform's manifest.
#[derive(Debug, Clone)]
pub struct FixtureAttestation {
    /// The in-toto statement (its one layer).
    pub statement: FixtureBlob,
    /// Its config (`unknown/unknown`).
    pub config: FixtureBlob,
    /// The attestation manifest.
    pub manifest: FixtureBlob,
}

impl FixtureAttestation {
    fn generate(subject: &FixtureBlob) -> Result<FixtureAttestation> {
        let statement = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": [{ "name": "fixture", "digest": { "sha256": subject.digest.trim_start_matches("sha256:") } }],
        });
        let statement = FixtureBlob::new(IN_TOTO, to_bytes(&statement)?);
        let config = serde_json::json!({
            "architecture": "unknown", "os": "unknown", "config": {},
            "rootfs": { "type": "layers", "diff_ids": [] },
        });
        let config = FixtureBlob::new(oci::CONFIG, to_bytes(&config)?);
        let mut layer = statement.descriptor();
        layer["annotations"] =
            serde_json::json!({ "in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2" });
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": oci::MANIFEST,
            "config": config.descriptor(),
            "layers": [layer],
        });
        Ok(FixtureAttestation {
            statement,
            config,
            manifest: FixtureBlob::new(oci::MANIFEST, to_bytes(&manifest)?),
        })
    }

    /// Its entry in the index, as buildx writes it.
    fn index_entry(&self, subject: &FixtureBlob) -> serde_json::Value {
        let mut descriptor = self.manifest.descriptor();
        descriptor["platform"] = serde_json::json!({ "os": "unknown", "architecture": "unknown" });
        descriptor["annotations"] = serde_json::json!({
            "vnd.docker.reference.digest": subject.digest,
            "vnd.docker.reference.type": "attestation-manifest",
        });
        descriptor
    }
}

/// The media type of an in-toto statement.
const IN_TOTO: &str = "application/vnd.in-toto+json";

/// A generated multi-platform image.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The index (manifest list).
    pub index: FixtureBlob,
    /// Per platform, in index order.
    pub images: Vec<FixtureImage>,
}

impl Fixture {
    /// Generates the image `spec` describes.
    ///
    /// # Errors
    /// Only if writing to memory fails, which it does not in practice.
    pub fn generate(spec: &FixtureSpec) -> Result<Fixture> {
        let (index_type, manifest_type, config_type, layer_type) = if spec.docker_media_types {
            (
                docker::INDEX,
                docker::MANIFEST,
                docker::CONFIG,
                docker::LAYER,
            )
        } else {
            (oci::INDEX, oci::MANIFEST, oci::CONFIG, oci::LAYER)
        };
        let level = Compression::new(spec.compression_level.min(9));
        let shared = layer(
            spec.seed,
            "shared",
            spec.shared_layer_size,
            level,
            layer_type,
        )?;
        let mut shared_layers = vec![shared];
        for (l, size) in spec.more_shared_layer_sizes.iter().enumerate() {
            let seed = spec.seed ^ (0xffff_u64 << 32) ^ (l as u64 + 1);
            shared_layers.push(layer(
                seed,
                &format!("shared-{l}"),
                *size,
                level,
                layer_type,
            )?);
        }
        let own_sizes = if spec.own_layer_sizes.is_empty() {
            vec![spec.layer_size; spec.layers_per_platform]
        } else {
            spec.own_layer_sizes.clone()
        };
        let mut images = Vec::new();
        for (p, platform) in spec.platforms.iter().enumerate() {
            let mut layers: Vec<FixtureBlob> = shared_layers.iter().map(|l| l.0.clone()).collect();
            let mut diff_ids: Vec<String> = shared_layers.iter().map(|l| l.1.clone()).collect();
            for (l, size) in own_sizes.iter().enumerate() {
                let seed = spec.seed ^ ((p as u64 + 1) << 32) ^ (l as u64 + 1);
                let (blob, diff_id) = layer(
                    seed,
                    &format!("{}-{l}", platform.to_text()),
                    *size,
                    level,
                    layer_type,
                )?;
                layers.push(blob);
                diff_ids.push(diff_id);
            }
            let mut config = platform.json();
            config["rootfs"] = serde_json::json!({ "type": "layers", "diff_ids": diff_ids });
            config["config"] =
                serde_json::json!({ "Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/true"] });
            config["created"] = serde_json::Value::String("1970-01-01T00:00:00Z".to_owned());
            let config = FixtureBlob::new(config_type, to_bytes(&config)?);
            let manifest = serde_json::json!({
                "schemaVersion": 2,
                "mediaType": manifest_type,
                "config": config.descriptor(),
                "layers": layers.iter().map(FixtureBlob::descriptor).collect::<Vec<_>>(),
            });
            let manifest = FixtureBlob::new(manifest_type, to_bytes(&manifest)?);
            let attestation = if spec.attestations {
                Some(FixtureAttestation::generate(&manifest)?)
            } else {
                None
            };
            images.push(FixtureImage {
                platform: platform.clone(),
                layers,
                config,
                manifest,
                attestation,
            });
        }
        let platforms = images.iter().map(|image| {
            let mut descriptor = image.manifest.descriptor();
            descriptor["platform"] = image.platform.json();
            descriptor
        });
        let attestations = images.iter().filter_map(|image| {
            let attestation = image.attestation.as_ref()?;
            Some(attestation.index_entry(&image.manifest))
        });
        let mut index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": index_type,
            "manifests": platforms.chain(attestations).collect::<Vec<_>>(),
        });
        if !spec.index_annotations.is_empty() {
            let annotations: serde_json::Map<String, serde_json::Value> = spec
                .index_annotations
                .iter()
                .map(|(key, value)| (key.clone(), serde_json::Value::String(value.clone())))
                .collect();
            index["annotations"] = serde_json::Value::Object(annotations);
        }
        Ok(Fixture {
            index: FixtureBlob::new(index_type, to_bytes(&index)?),
            images,
        })
    }

    /// Every distinct blob: layers, configs, manifests (attestations after
    /// their platform's), then the index; a blob shared by several
    /// platforms appears once.
    pub fn blobs(&self) -> Vec<&FixtureBlob> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for image in &self.images {
            let attestation = image
                .attestation
                .iter()
                .flat_map(|a| [&a.statement, &a.config, &a.manifest]);
            for blob in image
                .layers
                .iter()
                .chain([&image.config, &image.manifest])
                .chain(attestation)
            {
                if seen.insert(blob.digest.clone()) {
                    out.push(blob);
                }
            }
        }
        out.push(&self.index);
        out
    }

    /// Writes an OCI image layout (`oci-layout`, `index.json`, `blobs/`)
    /// naming the index `tag` (`org.opencontainers.image.ref.name`), the
    /// form `skopeo copy oci:<dir>:<tag>` and `umoci` read.
    ///
    /// # Errors
    /// When a file cannot be written.
    pub fn write_oci_layout(&self, dir: &Path, tag: &str) -> Result<()> {
        let blobs_dir = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs_dir).map_err(|e| Error::io("creating", &blobs_dir, e))?;
        for blob in self.blobs() {
            let hex = blob.digest.trim_start_matches("sha256:");
            let path = blobs_dir.join(hex);
            std::fs::write(&path, &blob.bytes).map_err(|e| Error::io("writing", &path, e))?;
        }
        let layout = dir.join("oci-layout");
        std::fs::write(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)
            .map_err(|e| Error::io("writing", &layout, e))?;
        let mut descriptor = self.index.descriptor();
        descriptor["annotations"] = serde_json::json!({ "org.opencontainers.image.ref.name": tag });
        let index = serde_json::json!({ "schemaVersion": 2, "mediaType": oci::INDEX, "manifests": [descriptor] });
        let path = dir.join("index.json");
        std::fs::write(&path, to_bytes(&index)?).map_err(|e| Error::io("writing", &path, e))
    }
}

fn to_bytes(value: &serde_json::Value) -> Result<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| Error::Other(format!("serializing a fixture document: {e}")))
}

/// Hashes what passes through, for a layer's diff ID (the digest of the
/// uncompressed tar) while the tar is being compressed.
struct Tee<W> {
    hasher: Sha256,
    inner: W,
}

impl<W: Write> Write for Tee<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A gzip tar of files holding `size` seeded random bytes in total; returns
/// the blob and its diff ID.
fn layer(
    seed: u64,
    name: &str,
    size: usize,
    level: Compression,
    media_type: &str,
) -> Result<(FixtureBlob, String)> {
    const FILE: usize = 4 * 1024 * 1024;
    let fail = |e: std::io::Error| Error::Other(format!("building layer {name}: {e}"));
    // mtime 0 and no file name in the gzip header: the same bytes every time.
    let gzip = GzBuilder::new()
        .mtime(0)
        .write(Vec::with_capacity(size + size / 100 + 4096), level);
    let mut tee = Tee {
        hasher: Sha256::new(),
        inner: gzip,
    };
    {
        let mut builder = tar::Builder::new(&mut tee);
        builder.mode(tar::HeaderMode::Deterministic);
        let mut random = Xorshift::new(seed);
        let mut written = 0;
        let mut index = 0;
        loop {
            let length = FILE.min(size - written);
            let mut header = tar::Header::new_gnu();
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            header.set_size(length as u64);
            header.set_entry_type(tar::EntryType::Regular);
            let data = random.bytes(length);
            builder
                .append_data(
                    &mut header,
                    format!("{name}/file-{index:04}.bin"),
                    data.as_slice(),
                )
                .map_err(fail)?;
            written += length;
            index += 1;
            if written >= size {
                break;
            }
        }
        builder.finish().map_err(fail)?;
    }
    let diff_id = format!("sha256:{}", hex::encode(tee.hasher.finalize()));
    let compressed = tee.inner.finish().map_err(fail)?;
    Ok((FixtureBlob::new(media_type, compressed), diff_id))
}

/// A small fast PRNG: the fixture needs reproducible bytes, not good ones.
struct Xorshift(u64);

impl Xorshift {
    fn new(seed: u64) -> Xorshift {
        Xorshift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn bytes(&mut self, length: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(length + 8);
        while out.len() < length {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            out.extend_from_slice(&self.0.to_le_bytes());
        }
        out.truncate(length);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_spec_gives_the_same_digests() {
        let spec = FixtureSpec::four_platforms(7, 100_000, 10_000);
        let a = Fixture::generate(&spec).unwrap();
        let b = Fixture::generate(&spec).unwrap();
        assert_eq!(a.index.digest, b.index.digest);
        let other = Fixture::generate(&FixtureSpec { seed: 8, ..spec }).unwrap();
        assert_ne!(a.index.digest, other.index.digest);
    }

    #[test]
    fn every_platform_shares_the_first_layer_and_digests_are_right() {
        let fixture = Fixture::generate(&FixtureSpec::four_platforms(1, 50_000, 5_000)).unwrap();
        assert_eq!(fixture.images.len(), 4);
        let shared = &fixture.images[0].layers[0];
        for image in &fixture.images {
            assert_eq!(&image.layers[0], shared);
            assert_eq!(image.layers.len(), 2);
        }
        // 4 own layers + 1 shared + 4 configs + 4 manifests + index.
        assert_eq!(fixture.blobs().len(), 14);
        for blob in fixture.blobs() {
            assert_eq!(blob.digest, sha256_digest(&blob.bytes));
        }
        let index: serde_json::Value = serde_json::from_slice(&fixture.index.bytes).unwrap();
        assert_eq!(index["manifests"][1]["platform"]["variant"], "v8");
        assert_eq!(
            index["manifests"][1]["digest"],
            fixture.images[1].manifest.digest.as_str()
        );
    }

    #[test]
    fn shared_and_own_layer_sizes_shape_the_image() {
        let mut spec = FixtureSpec::four_platforms(3, 1_000, 0);
        spec.more_shared_layer_sizes = vec![2_000, 3_000];
        spec.own_layer_sizes = vec![500, 70_000, 4_000];
        let fixture = Fixture::generate(&spec).unwrap();
        for image in &fixture.images {
            assert_eq!(image.layers.len(), 6);
            assert_eq!(image.layers[..3], fixture.images[0].layers[..3]);
        }
        assert_ne!(fixture.images[0].layers[3], fixture.images[1].layers[3]);
        // 3 shared + 4 × 3 own layers, 4 configs, 4 manifests, the index.
        assert_eq!(fixture.blobs().len(), 24);
        // Sizes are uncompressed content: each layer is a little larger.
        let sizes: Vec<u64> = fixture.images[0].layers.iter().map(|l| l.size()).collect();
        for (size, content) in sizes.iter().zip([1_000, 2_000, 3_000, 500, 70_000, 4_000]) {
            assert!(*size > content && *size < content + 8_192, "{sizes:?}");
        }
    }

    #[test]
    fn the_realistic_specs_have_the_promised_shapes() {
        let many = FixtureSpec::many_layers(1);
        assert_eq!(many.platforms.len(), 2);
        assert_eq!(many.own_layer_sizes.len() + 1, 40);
        let total = many.shared_layer_size + 2 * many.own_layer_sizes.iter().sum::<usize>();
        assert!((230 << 20..290 << 20).contains(&total), "{total}");
        assert_eq!(many.own_layer_sizes.first(), Some(&(4 << 10)));
        assert_eq!(many.own_layer_sizes.last(), Some(&(60 << 20)));
        let eight = FixtureSpec::eight_platforms(1);
        assert_eq!(eight.platforms.len(), 8);
        assert_eq!(eight.more_shared_layer_sizes.len() + 1, 6);
        assert_eq!(eight.own_layer_sizes.len(), 6);
    }

    #[test]
    fn layers_are_gzip_tars_whose_diff_ids_are_in_the_config() {
        let fixture = Fixture::generate(&FixtureSpec {
            compression_level: 6,
            docker_media_types: true,
            ..FixtureSpec::four_platforms(2, 9_000_000, 1000)
        })
        .unwrap();
        let image = &fixture.images[2];
        assert_eq!(image.manifest.media_type, docker::MANIFEST);
        let config: serde_json::Value = serde_json::from_slice(&image.config.bytes).unwrap();
        let mut tar_bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(image.layers[0].bytes.as_slice()),
            &mut tar_bytes,
        )
        .unwrap();
        assert_eq!(
            config["rootfs"]["diff_ids"][0],
            sha256_digest(&tar_bytes).as_str()
        );
        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let sizes: Vec<u64> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().size())
            .collect();
        assert_eq!(
            sizes,
            vec![
                4 * 1024 * 1024,
                4 * 1024 * 1024,
                9_000_000 - 8 * 1024 * 1024
            ]
        );
    }

    #[test]
    fn an_oci_layout_names_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Fixture::generate(&FixtureSpec::four_platforms(3, 1000, 1000)).unwrap();
        fixture.write_oci_layout(dir.path(), "v1").unwrap();
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        assert_eq!(
            index["manifests"][0]["digest"],
            fixture.index.digest.as_str()
        );
        let hex = fixture.images[0].layers[0]
            .digest
            .trim_start_matches("sha256:");
        assert!(dir.path().join("blobs/sha256").join(hex).is_file());
    }
}
