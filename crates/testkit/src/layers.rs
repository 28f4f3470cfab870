//! Layer stacks for unpacking tests: tar layers written entry by entry
//! (whiteouts, opaque markers, hard links, devices, xattrs, long names, and
//! hostile paths a tar library would refuse to write), compressed as asked,
//! with the config and manifest that name them, as raw bytes.

use std::io::Write;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// How a layer's tar is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerCompression {
    /// A plain tar (`…layer.v1.tar`).
    None,
    /// gzip (`…tar+gzip`).
    Gzip,
    /// zstd (`…tar+zstd`).
    Zstd,
}

/// Owner, mode, time and extended attributes of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryMeta {
    /// Permission bits, set-id and sticky bits included.
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: u64,
    /// Extended attributes, written as `SCHILY.xattr.*` PAX records.
    pub xattrs: Vec<(String, Vec<u8>)>,
}

impl EntryMeta {
    /// Mode `mode`, owned by root, mtime 1000000000.
    pub fn mode(mode: u32) -> EntryMeta {
        EntryMeta {
            mode,
            uid: 0,
            gid: 0,
            mtime: 1_000_000_000,
            xattrs: Vec::new(),
        }
    }

    /// This meta owned by `uid:gid`.
    #[must_use]
    pub fn owner(mut self, uid: u64, gid: u64) -> EntryMeta {
        self.uid = uid;
        self.gid = gid;
        self
    }

    /// This meta with mtime `mtime`.
    #[must_use]
    pub fn mtime(mut self, mtime: u64) -> EntryMeta {
        self.mtime = mtime;
        self
    }

    /// This meta with the extended attribute `name`.
    #[must_use]
    pub fn xattr(mut self, name: &str, value: &[u8]) -> EntryMeta {
        self.xattrs.push((name.to_owned(), value.to_vec()));
        self
    }
}

/// A tar layer, built entry by entry. Paths are written as given, byte
/// for byte (a long one in a PAX `path` record), so hostile names such as
/// `../x` or `/etc/x` can be tested.
pub struct LayerBuilder {
    tar: tar::Builder<Vec<u8>>,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        LayerBuilder::new()
    }
}

impl std::fmt::Debug for LayerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerBuilder").finish_non_exhaustive()
    }
}

impl LayerBuilder {
    /// An empty layer.
    pub fn new() -> LayerBuilder {
        LayerBuilder {
            tar: tar::Builder::new(Vec::new()),
        }
    }

    /// Adds one entry of any type.
    ///
    /// # Errors
    /// Only if writing to memory fails.
    #[allow(clippy::too_many_arguments)]
    pub fn entry(
        &mut self,
        kind: tar::EntryType,
        path: &str,
        link: &str,
        data: &[u8],
        meta: &EntryMeta,
        device: (u32, u32),
    ) -> Result<&mut LayerBuilder> {
        let fail = |e: std::io::Error| Error::Other(format!("building a layer entry {path}: {e}"));
        let mut pax: Vec<(String, Vec<u8>)> = meta
            .xattrs
            .iter()
            .map(|(name, value)| (format!("SCHILY.xattr.{name}"), value.clone()))
            .collect();
        if path.len() > 100 {
            pax.push(("path".to_owned(), path.as_bytes().to_vec()));
        }
        if link.len() > 100 {
            pax.push(("linkpath".to_owned(), link.as_bytes().to_vec()));
        }
        if !pax.is_empty() {
            self.tar
                .append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
                .map_err(fail)?;
        }
        let mut header = tar::Header::new_ustar();
        {
            let old = header.as_old_mut();
            let name = &path.as_bytes()[..path.len().min(100)];
            old.name[..name.len()].copy_from_slice(name);
            let target = &link.as_bytes()[..link.len().min(100)];
            old.linkname[..target.len()].copy_from_slice(target);
        }
        header.set_entry_type(kind);
        header.set_mode(meta.mode);
        header.set_uid(meta.uid);
        header.set_gid(meta.gid);
        header.set_mtime(meta.mtime);
        header.set_size(data.len() as u64);
        header.set_device_major(device.0).map_err(fail)?;
        header.set_device_minor(device.1).map_err(fail)?;
        header.set_cksum();
        self.tar.append(&header, data).map_err(fail)?;
        Ok(self)
    }

    /// A regular file, mode 0644.
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn file(&mut self, path: &str, data: &[u8]) -> Result<&mut LayerBuilder> {
        self.file_with(path, data, &EntryMeta::mode(0o644))
    }

    /// A regular file with `meta`.
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn file_with(
        &mut self,
        path: &str,
        data: &[u8],
        meta: &EntryMeta,
    ) -> Result<&mut LayerBuilder> {
        self.entry(tar::EntryType::Regular, path, "", data, meta, (0, 0))
    }

    /// A directory, mode 0755.
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn dir(&mut self, path: &str) -> Result<&mut LayerBuilder> {
        self.dir_with(path, &EntryMeta::mode(0o755))
    }

    /// A directory with `meta`.
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn dir_with(&mut self, path: &str, meta: &EntryMeta) -> Result<&mut LayerBuilder> {
        self.entry(tar::EntryType::Directory, path, "", b"", meta, (0, 0))
    }

    /// A symlink to `target`.
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn symlink(&mut self, path: &str, target: &str) -> Result<&mut LayerBuilder> {
        self.entry(
            tar::EntryType::Symlink,
            path,
            target,
            b"",
            &EntryMeta::mode(0o777),
            (0, 0),
        )
    }

    /// A hard link to `target` (a path in the layer stack).
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn hard_link(&mut self, path: &str, target: &str) -> Result<&mut LayerBuilder> {
        self.entry(
            tar::EntryType::Link,
            path,
            target,
            b"",
            &EntryMeta::mode(0o644),
            (0, 0),
        )
    }

    /// A FIFO.
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn fifo(&mut self, path: &str) -> Result<&mut LayerBuilder> {
        self.entry(
            tar::EntryType::Fifo,
            path,
            "",
            b"",
            &EntryMeta::mode(0o644),
            (0, 0),
        )
    }

    /// A character device `major:minor`.
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn char_device(&mut self, path: &str, major: u32, minor: u32) -> Result<&mut LayerBuilder> {
        self.entry(
            tar::EntryType::Char,
            path,
            "",
            b"",
            &EntryMeta::mode(0o666),
            (major, minor),
        )
    }

    /// The whiteout of `path` (`dir/.wh.name`).
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn whiteout(&mut self, path: &str) -> Result<&mut LayerBuilder> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let marker = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&marker, b"")
    }

    /// The opaque marker of directory `dir` (`dir/.wh..wh..opq`).
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn opaque(&mut self, dir: &str) -> Result<&mut LayerBuilder> {
        self.file(&format!("{dir}/.wh..wh..opq"), b"")
    }

    /// The finished tar.
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn finish(self) -> Result<Vec<u8>> {
        self.tar
            .into_inner()
            .map_err(|e| Error::Other(format!("finishing a layer: {e}")))
    }
}

/// One layer of a [`TestImage`]: its stored bytes and uncompressed digest.
#[derive(Debug, Clone)]
pub struct TestLayer {
    /// The media type.
    pub media_type: String,
    /// The stored (compressed) bytes.
    pub bytes: Vec<u8>,
    /// `sha256:` of the bytes.
    pub digest: String,
    /// `sha256:` of the uncompressed tar.
    pub diff_id: String,
}

/// A one-platform image (linux/amd64) made of given layers, as blobs.
#[derive(Debug, Clone)]
pub struct TestImage {
    /// Layers, base first.
    pub layers: Vec<TestLayer>,
    /// The config's bytes.
    pub config: Vec<u8>,
    /// The manifest's bytes.
    pub manifest: Vec<u8>,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Compresses a tar as a layer blob.
///
/// # Errors
/// Only if compressing in memory fails.
pub fn layer(tar: &[u8], compression: LayerCompression) -> Result<TestLayer> {
    let fail = |e: std::io::Error| Error::Other(format!("compressing a layer: {e}"));
    let (media_type, bytes) = match compression {
        LayerCompression::None => ("application/vnd.oci.image.layer.v1.tar", tar.to_vec()),
        LayerCompression::Gzip => {
            let mut gz = flate2::GzBuilder::new()
                .mtime(0)
                .write(Vec::new(), flate2::Compression::fast());
            gz.write_all(tar).map_err(fail)?;
            (
                "application/vnd.oci.image.layer.v1.tar+gzip",
                gz.finish().map_err(fail)?,
            )
        }
        LayerCompression::Zstd => (
            "application/vnd.oci.image.layer.v1.tar+zstd",
            zstd::stream::encode_all(tar, 3).map_err(fail)?,
        ),
    };
    Ok(TestLayer {
        media_type: media_type.to_owned(),
        digest: sha256(&bytes),
        bytes,
        diff_id: sha256(tar),
    })
}

impl TestImage {
    /// An image of `layers` whose config's `config` object is `run` (Env,
    /// Cmd, User, ...).
    ///
    /// # Errors
    /// Only if serializing fails.
    pub fn new(layers: Vec<TestLayer>, run: serde_json::Value) -> Result<TestImage> {
        let diff_ids: Vec<&str> = layers.iter().map(|l| l.diff_id.as_str()).collect();
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
            "config": run, "rootfs": { "type": "layers", "diff_ids": diff_ids },
        });
        let config = to_bytes(&config)?;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": sha256(&config), "size": config.len() },
            "layers": layers.iter().map(|l| serde_json::json!({
                "mediaType": l.media_type, "digest": l.digest, "size": l.bytes.len() })).collect::<Vec<_>>(),
        });
        Ok(TestImage {
            layers,
            config,
            manifest: to_bytes(&manifest)?,
        })
    }

    /// Every blob: layers, config, manifest (digest, bytes).
    pub fn blobs(&self) -> Vec<(String, &[u8])> {
        let mut out: Vec<(String, &[u8])> = self
            .layers
            .iter()
            .map(|l| (l.digest.clone(), l.bytes.as_slice()))
            .collect();
        out.push((sha256(&self.config), &self.config));
        out.push((sha256(&self.manifest), &self.manifest));
        out
    }

    /// Writes an OCI layout whose `index.json` names the manifest `tag`
    /// (`org.opencontainers.image.ref.name`, what `umoci unpack --image
    /// DIR:TAG` reads) and `name` (`io.containerd.image.name`, what `hoist
    /// load` names it).
    ///
    /// # Errors
    /// When a file cannot be written.
    pub fn write_oci_layout(&self, dir: &Path, name: &str, tag: &str) -> Result<()> {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).map_err(|e| Error::io("creating", &blobs, e))?;
        for (digest, bytes) in self.blobs() {
            let path = blobs.join(digest.trim_start_matches("sha256:"));
            std::fs::write(&path, bytes).map_err(|e| Error::io("writing", &path, e))?;
        }
        let layout = dir.join("oci-layout");
        std::fs::write(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)
            .map_err(|e| Error::io("writing", &layout, e))?;
        let index = serde_json::json!({ "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{ "mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "digest": sha256(&self.manifest), "size": self.manifest.len(),
                            "annotations": { "org.opencontainers.image.ref.name": tag,
                                             "io.containerd.image.name": name } }] });
        let path = dir.join("index.json");
        std::fs::write(&path, to_bytes(&index)?).map_err(|e| Error::io("writing", &path, e))
    }
}

fn to_bytes(value: &serde_json::Value) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Other(format!("serializing a test document: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_carry_hostile_and_long_names_verbatim() {
        let mut builder = LayerBuilder::new();
        let long = format!("dir/{}", "x".repeat(150));
        builder.file("../escape", b"x").unwrap();
        builder.file(&long, b"y").unwrap();
        builder.whiteout("a/b").unwrap();
        let tar = builder.finish().unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let names: Vec<Vec<u8>> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path_bytes().into_owned())
            .collect();
        assert_eq!(
            names,
            vec![
                b"../escape".to_vec(),
                long.into_bytes(),
                b"a/.wh.b".to_vec()
            ]
        );
        let gz = layer(&tar, LayerCompression::Gzip).unwrap();
        assert_eq!(gz.diff_id, sha256(&tar));
        assert_ne!(gz.digest, gz.diff_id);
        let image = TestImage::new(vec![gz], serde_json::json!({})).unwrap();
        assert_eq!(image.blobs().len(), 3);
    }
}
