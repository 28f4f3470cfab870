//! The parts of an image config the unpacker reads: the layers' diff_ids
//! and what a runtime bundle's `config.json` is made from.

use std::collections::BTreeMap;
use std::io::Read;

use hoist_content::{Digest, Provider};
use hoist_image::{Descriptor, MAX_CONFIG_SIZE};
use serde::Deserialize;

use crate::error::{Error, ErrorKind, Result};

/// An image config (OCI or Docker), the fields unpacking uses.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImageConfig {
    /// `os`, e.g. `linux`.
    #[serde(default)]
    pub os: String,
    /// `architecture`, e.g. `amd64`.
    #[serde(default)]
    pub architecture: String,
    /// `author`.
    #[serde(default)]
    pub author: Option<String>,
    /// `created` (RFC 3339).
    #[serde(default)]
    pub created: Option<String>,
    /// `config`: how to run the image.
    #[serde(default)]
    pub config: Option<RunConfig>,
    /// `rootfs`: the layers' uncompressed digests.
    #[serde(default)]
    pub rootfs: Option<RootFs>,
}

/// The `config` object of an image config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    /// `User`: `user`, `uid`, `user:group` or `uid:gid`.
    #[serde(default)]
    pub user: Option<String>,
    /// `Env`: `NAME=value` lines.
    #[serde(default)]
    pub env: Option<Vec<String>>,
    /// `Entrypoint`.
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    /// `Cmd`.
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    /// `WorkingDir`.
    #[serde(default)]
    pub working_dir: Option<String>,
    /// `StopSignal`.
    #[serde(default)]
    pub stop_signal: Option<String>,
    /// `Labels`.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    /// `ExposedPorts`: keys such as `80/tcp`.
    #[serde(default)]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    /// `Volumes`: mount points.
    #[serde(default)]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
}

/// The `rootfs` object of an image config.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RootFs {
    /// `type`, always `layers`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `diff_ids`: the digest of each layer's uncompressed tar, base first.
    #[serde(default)]
    pub diff_ids: Vec<Digest>,
}

impl ImageConfig {
    /// Reads the config `descriptor` points at, checking its size and digest.
    ///
    /// # Errors
    /// Not found if the blob is absent; data loss if it is not what the
    /// descriptor says; invalid argument if it is not a config.
    pub fn read<P: Provider + ?Sized>(
        provider: &P,
        descriptor: &Descriptor,
    ) -> Result<ImageConfig> {
        let digest = &descriptor.digest;
        if descriptor.size > MAX_CONFIG_SIZE {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "config {digest} is {} bytes, over the {} MiB limit",
                    descriptor.size,
                    MAX_CONFIG_SIZE >> 20
                ),
            )
            .with_digest(digest));
        }
        let reader = provider.reader(digest).map_err(|e| {
            Error::from(e)
                .context(format!("reading config {digest}"))
                .with_digest(digest)
        })?;
        let mut raw = Vec::new();
        reader
            .take(MAX_CONFIG_SIZE + 1)
            .read_to_end(&mut raw)
            .map_err(|e| {
                Error::new(ErrorKind::Io, format!("reading config {digest}: {e}"))
                    .with_digest(digest)
            })?;
        let actual = Digest::of(digest.algorithm(), &raw);
        if raw.len() as u64 != descriptor.size || &actual != digest {
            return Err(Error::new(
                ErrorKind::DataLoss,
                format!(
                    "config {digest} has the wrong content: {} bytes hashing to {actual}",
                    raw.len()
                ),
            )
            .with_digest(digest));
        }
        serde_json::from_slice(&raw).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("config {digest} is not an image config: {e}"),
            )
            .with_digest(digest)
            .with_source(e)
        })
    }

    /// The diff_ids, base layer first (empty when the config lists none).
    pub fn diff_ids(&self) -> &[Digest] {
        self.rootfs.as_ref().map_or(&[], |r| r.diff_ids.as_slice())
    }
}
