//! Save: one or more images, all or chosen platforms, as an OCI layout tar
//! that also carries Docker's `manifest.json`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};

use hoist_content::{Digest, Digester, Manager, Provider};
use hoist_platform::PlatformMatcher;
use serde_json::{Map, Value};
use tar::{Builder, EntryType, Header};

use super::layout::{self, DOCKER_MANIFEST_FILE, INDEX_FILE, LAYOUT_FILE};
use super::names;
use super::referrers::{self, ReferrerSelection};
use crate::Descriptor;
use crate::annotations::{IMAGE_NAME, REF_NAME};
use crate::document::Document;
use crate::error::{Error, ErrorKind, Result};
use crate::graph;
use crate::image::Image;
use crate::media_type::{self, MediaKind};
use crate::reduce;
use crate::store_io::canonical_json;

/// Options of [`save`].
#[derive(Debug, Clone)]
pub struct SaveOptions {
    /// The platforms to save of each image, one matcher per image in the
    /// order of `images` (an empty list saves every image whole). A matcher
    /// that accepts all ([`hoist_platform::all`]) saves its image's own index
    /// byte for byte; any other reduces that index, in the archive only, to
    /// the entries it accepts (and the attestations about them): a new index
    /// with its own digest, as [`reduce`](crate::reduce) would write it. Each
    /// image gets its own matcher because a choice such as "this machine's
    /// platform" resolves to different entries in different indexes.
    pub platforms: Vec<PlatformMatcher>,
    /// Also write Docker's `manifest.json` so `docker load` reads the archive
    /// (for images saved with exactly one platform, the way containerd does).
    /// On by default.
    pub docker_manifest: bool,
    /// Also write the stored referrers (signatures, SBOMs) of every
    /// manifest and index saved, recursively, those `selection` accepts;
    /// `None` (the default) writes none. Each is a blob with its own
    /// `index.json` entry, as `oras copy -r --to-oci-layout` lays them out.
    /// A reduced index is a new document that nothing refers to: the
    /// referrers of the original index it replaces are left out (they
    /// describe the index with every platform, which the archive does not
    /// hold) and listed in [`SaveSummary::referrers_left_behind`].
    pub referrers: Option<ReferrerSelection>,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions {
            platforms: Vec::new(),
            docker_manifest: true,
            referrers: None,
        }
    }
}

/// One image as written to an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedImage {
    /// The image's name.
    pub name: String,
    /// The descriptor listed in `index.json` (without the name annotations):
    /// the image's target, or the reduced index when platforms were chosen.
    pub target: Descriptor,
}

/// What [`save`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveSummary {
    /// The images, in the order given.
    pub images: Vec<SavedImage>,
    /// How many blobs went under `blobs/`.
    pub blobs: usize,
    /// Their total size in bytes.
    pub blob_bytes: u64,
    /// True if a Docker `manifest.json` was written.
    pub docker_manifest: bool,
    /// The referrers written (with [`SaveOptions::referrers`]), each as its
    /// `index.json` entry lists it, in that order.
    pub referrers: Vec<Descriptor>,
    /// The stored referrers of an original index left out because the
    /// archive holds a reduced index in its place (recursively: a signature
    /// of such a signature too), as the referrers API lists them.
    pub referrers_left_behind: Vec<Descriptor>,
}

/// One `manifest.json` item, as `docker save` writes it.
struct DockerItem {
    config: String,
    repo_tags: Vec<String>,
    layers: Vec<String>,
}

/// Writes `images` to `out` as a tar in the OCI image layout: `oci-layout`,
/// `index.json` (one entry per image, annotated with
/// `io.containerd.image.name` and `org.opencontainers.image.ref.name`,
/// then, with [`SaveOptions::referrers`], one unnamed entry per referrer),
/// Docker's `manifest.json` (images only), and `blobs/<alg>/<hex>`.
///
/// Blobs are streamed from the store into the tar, never held whole, and
/// re-hashed on the way: a blob that no longer matches its digest fails the
/// save. Entries are written in a fixed order with fixed metadata, so the
/// same images give the same bytes.
///
/// Nothing is written before every blob is known to be stored; the archive
/// is incomplete only if the writer fails midway (write to a temporary file
/// and rename it, as the CLI does).
///
/// # Errors
/// - failed-precondition, listing missing blobs by platform, when an image
///   (or a chosen platform) is not complete locally;
/// - the selection errors when a chosen platform is absent;
/// - data-loss if a blob changes while it is copied; I/O errors of `out`.
pub fn save<S, W>(store: &S, images: &[Image], options: &SaveOptions, out: W) -> Result<SaveSummary>
where
    S: Provider + Manager + ?Sized,
    W: Write,
{
    if images.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "nothing to save: no images given",
        ));
    }
    if !options.platforms.is_empty() && options.platforms.len() != images.len() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{} platform choices given for {} images: give one per image, or none",
                options.platforms.len(),
                images.len()
            ),
        ));
    }

    let mut in_memory: BTreeMap<Digest, Document> = BTreeMap::new();
    let mut blobs: Vec<Descriptor> = Vec::new();
    let mut index_entries: Vec<Value> = Vec::new();
    let mut saved = Vec::new();
    // manifest digest -> (item, position) so names of one manifest share an item.
    let mut docker_items: Vec<(Digest, DockerItem)> = Vec::new();
    // Every manifest and index saved (possible subjects of referrers), and
    // the original indexes a reduced save replaced.
    let mut documents: Vec<Digest> = Vec::new();
    let mut replaced: Vec<Digest> = Vec::new();

    for (position, image) in images.iter().enumerate() {
        let chosen = options.platforms.get(position).filter(|m| !m.is_all());
        let target = match chosen {
            Some(matcher) => {
                let plan = reduce::plan(store, image, matcher, false)?;
                if let Some(document) = plan.new_index {
                    in_memory.insert(document.digest().clone(), document);
                }
                let mut target = plan.target;
                target.annotations = image.target.annotations.clone();
                target
            }
            None => image.target.clone(),
        };
        let walk = graph::walk(store, &target, &image.name, &in_memory)?;
        if !walk.missing.is_empty() {
            return Err(
                Error::missing(format!("cannot save {}", image.name), walk.missing)
                    .with_digest(&target.digest),
            );
        }
        if target.digest != image.target.digest {
            replaced.push(image.target.digest.clone());
        }
        for blob in walk.blobs {
            if is_document(&blob) && !documents.contains(&blob.digest) {
                documents.push(blob.digest.clone());
            }
            if !blobs.iter().any(|b| b.digest == blob.digest) {
                blobs.push(blob);
            }
        }
        if let [(_, Document::Manifest(manifest))] = walk.image_manifests.as_slice() {
            let digest = manifest.descriptor().digest.clone();
            let tag = names::familiar_tag(&image.name);
            match docker_items.iter_mut().find(|(d, _)| *d == digest) {
                Some((_, item)) => item.repo_tags.extend(tag),
                None => docker_items.push((
                    digest,
                    DockerItem {
                        config: layout::blob_path(&manifest.config().digest),
                        repo_tags: tag.into_iter().collect(),
                        layers: manifest
                            .layers()
                            .iter()
                            .map(|l| layout::blob_path(&l.digest))
                            .collect(),
                    },
                )),
            }
        }
        let mut listed = target.clone();
        listed
            .annotations
            .insert(IMAGE_NAME.to_string(), image.name.clone());
        listed
            .annotations
            .insert(REF_NAME.to_string(), names::oci_ref_name(&image.name));
        index_entries.push(listed.to_json());
        saved.push(SavedImage {
            name: image.name.clone(),
            target,
        });
    }

    let mut saved_referrers = Vec::new();
    let mut referrers_left_behind = Vec::new();
    if let Some(selection) = &options.referrers {
        let by_subject = referrers::stored(store)?;
        for (subject, referrer) in
            referrers::closure(&by_subject, &documents, selection, &BTreeSet::new())
        {
            let owner = format!("referrer {} of {subject}", referrer.digest);
            let walk = graph::walk(store, &referrer, &owner, &in_memory)?;
            if !walk.missing.is_empty() {
                return Err(Error::missing(format!("cannot save {owner}"), walk.missing)
                    .with_digest(&referrer.digest));
            }
            for blob in walk.blobs {
                if !blobs.iter().any(|b| b.digest == blob.digest) {
                    blobs.push(blob);
                }
            }
            index_entries.push(referrer.to_json());
            saved_referrers.push(referrer);
        }
        let written: BTreeSet<Digest> = saved_referrers.iter().map(|r| r.digest.clone()).collect();
        referrers_left_behind = referrers::closure(&by_subject, &replaced, selection, &written)
            .into_iter()
            .map(|(_, referrer)| referrer)
            .collect();
    }

    let mut index = Map::new();
    index.insert("schemaVersion".to_string(), Value::from(2));
    index.insert(
        "mediaType".to_string(),
        Value::from(crate::media_type::OCI_INDEX),
    );
    index.insert("manifests".to_string(), Value::Array(index_entries));
    let index_json = canonical_json(&Value::Object(index));
    let docker_json = (options.docker_manifest && !docker_items.is_empty())
        .then(|| docker_manifest_json(&docker_items));

    let mut builder = Builder::new(out);
    let io_error = |what: &str, e: io::Error| {
        Error::new(ErrorKind::Io, format!("writing {what} to the archive: {e}")).with_source(e)
    };
    append_bytes(&mut builder, LAYOUT_FILE, layout::LAYOUT_JSON.as_bytes())
        .map_err(|e| io_error(LAYOUT_FILE, e))?;
    append_bytes(&mut builder, INDEX_FILE, &index_json).map_err(|e| io_error(INDEX_FILE, e))?;
    if let Some(json) = &docker_json {
        append_bytes(&mut builder, DOCKER_MANIFEST_FILE, json)
            .map_err(|e| io_error(DOCKER_MANIFEST_FILE, e))?;
    }
    append_dir(&mut builder, "blobs/").map_err(|e| io_error("blobs/", e))?;
    let mut algorithms: Vec<String> = blobs
        .iter()
        .map(|b| b.digest.algorithm().to_string())
        .collect();
    algorithms.sort();
    algorithms.dedup();
    for algorithm in &algorithms {
        let dir = format!("blobs/{algorithm}/");
        append_dir(&mut builder, &dir).map_err(|e| io_error(&dir, e))?;
    }
    let mut blob_bytes = 0;
    for blob in &blobs {
        let path = layout::blob_path(&blob.digest);
        match in_memory.get(&blob.digest) {
            Some(document) => {
                append_bytes(&mut builder, &path, document.raw())
                    .map_err(|e| io_error(&path, e))?;
            }
            None => append_blob(store, &mut builder, blob, &path)?,
        }
        blob_bytes += blob.size;
    }
    builder
        .into_inner()
        .and_then(|mut out| out.flush())
        .map_err(|e| io_error("the end of the archive", e))?;
    Ok(SaveSummary {
        images: saved,
        blobs: blobs.len(),
        blob_bytes,
        docker_manifest: docker_json.is_some(),
        referrers: saved_referrers,
        referrers_left_behind,
    })
}

/// True for a manifest or an index: something a referrer may name as its subject.
fn is_document(blob: &Descriptor) -> bool {
    matches!(
        media_type::classify(&blob.media_type),
        MediaKind::Index | MediaKind::Manifest
    )
}

fn docker_manifest_json(items: &[(Digest, DockerItem)]) -> Vec<u8> {
    let items: Vec<Value> = items
        .iter()
        .map(|(_, item)| {
            let mut object = Map::new();
            object.insert("Config".to_string(), Value::from(item.config.as_str()));
            object.insert(
                "RepoTags".to_string(),
                Value::Array(
                    item.repo_tags
                        .iter()
                        .map(|t| Value::from(t.as_str()))
                        .collect(),
                ),
            );
            object.insert(
                "Layers".to_string(),
                Value::Array(
                    item.layers
                        .iter()
                        .map(|l| Value::from(l.as_str()))
                        .collect(),
                ),
            );
            Value::Object(object)
        })
        .collect();
    canonical_json(&Value::Array(items))
}

/// A header with the fixed metadata every entry gets: owner 0:0, time 0.
fn header(entry_type: EntryType, size: u64, mode: u32) -> Header {
    let mut header = Header::new_ustar();
    header.set_entry_type(entry_type);
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header
}

fn append_bytes<W: Write>(builder: &mut Builder<W>, path: &str, bytes: &[u8]) -> io::Result<()> {
    let mut header = header(EntryType::Regular, bytes.len() as u64, 0o444);
    builder.append_data(&mut header, path, bytes)
}

fn append_dir<W: Write>(builder: &mut Builder<W>, path: &str) -> io::Result<()> {
    let mut header = header(EntryType::Directory, 0, 0o755);
    builder.append_data(&mut header, path, io::empty())
}

/// Streams the stored blob into the tar, verifying its size and digest as it goes.
fn append_blob<S, W>(
    store: &S,
    builder: &mut Builder<W>,
    blob: &Descriptor,
    path: &str,
) -> Result<()>
where
    S: Provider + ?Sized,
    W: Write,
{
    let digest = &blob.digest;
    let reader = store.reader(digest).map_err(|e| {
        Error::content(format!("reading blob {digest} to save it"), e).with_digest(digest)
    })?;
    let mut verifying = VerifyingReader {
        inner: reader,
        digester: Digester::new(digest.algorithm()),
        expected: digest,
        remaining: blob.size,
        done: false,
    };
    let mut header = header(EntryType::Regular, blob.size, 0o444);
    builder
        .append_data(&mut header, path, &mut verifying)
        .map_err(|e| {
            let kind = if e.kind() == io::ErrorKind::InvalidData
                || e.kind() == io::ErrorKind::UnexpectedEof
            {
                ErrorKind::DataLoss
            } else {
                ErrorKind::Io
            };
            Error::new(kind, format!("saving blob {digest}: {e}"))
                .with_digest(digest)
                .with_source(e)
        })
}

/// Reads exactly `remaining` bytes and, at the end, fails unless they hash to `expected`.
struct VerifyingReader<'a, R> {
    inner: R,
    digester: Digester,
    expected: &'a Digest,
    remaining: u64,
    done: bool,
}

impl<R: Read> Read for VerifyingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            if !self.done {
                self.done = true;
                let digester =
                    std::mem::replace(&mut self.digester, Digester::new(self.expected.algorithm()));
                let actual = digester.finish();
                if &actual != self.expected {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("the stored bytes hash to {actual}"),
                    ));
                }
            }
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the stored blob ended {} bytes early", self.remaining),
            ));
        }
        self.digester.update(&buf[..n]);
        self.remaining -= n as u64;
        Ok(n)
    }
}
