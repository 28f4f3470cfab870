//! [`unpack`]: a manifest's layers, in order, into a directory that appears
//! whole or not at all.
//!
//! The tree is built in a temporary directory beside `dest` (same file
//! system, so the last step is a rename) and moved into place only once
//! every layer is applied and verified: a failure removes the temporary
//! directory, a killed process leaves it behind under a `.hoist-unpack-`
//! name but never a partial tree at `dest`. An existing empty `dest` is
//! replaced by that rename; a non-empty one is refused unless
//! [`UnpackOptions::replace`] is set, and then swapped with the new tree
//! by one `renameat2(RENAME_EXCHANGE)` before the old tree is deleted. The
//! tree is not fsynced: a power cut may lose recent writes (as with umoci).

use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use hoist_content::{Digest, Digester, Provider};
use hoist_image::media_type::{self, Compression, MediaKind};
use hoist_image::{Descriptor, Manifest};
use rustix::fs::{Mode, OFlags, RenameFlags};
use serde::Serialize;

use crate::apply::{Applier, LayerStats};
use crate::bundle::runtime_config;
use crate::config::ImageConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::tree::{Tree, TreePath};
use crate::user::resolve_user;

/// How to unpack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnpackOptions {
    /// Rootless: files owned by the unpacking user, the image's owners in
    /// `user.rootlesscontainers`, device nodes skipped. `None` (the
    /// default) means rootless exactly when not running as root.
    pub rootless: Option<bool>,
    /// Write an OCI runtime bundle: `dest/rootfs` and `dest/config.json`.
    pub bundle: bool,
    /// Replace a non-empty `dest` (the old tree is swapped out whole, then deleted).
    pub replace: bool,
}

impl UnpackOptions {
    /// The defaults: a root filesystem, rootless when not root, `dest` empty or absent.
    pub fn new() -> UnpackOptions {
        UnpackOptions::default()
    }

    /// Forces rootless (`true`) or ownership-preserving (`false`) mode.
    #[must_use]
    pub fn rootless(mut self, rootless: bool) -> UnpackOptions {
        self.rootless = Some(rootless);
        self
    }

    /// Writes a runtime bundle instead of a bare root filesystem.
    #[must_use]
    pub fn bundle(mut self, bundle: bool) -> UnpackOptions {
        self.bundle = bundle;
        self
    }

    /// Allows replacing a non-empty `dest`.
    #[must_use]
    pub fn replace(mut self, replace: bool) -> UnpackOptions {
        self.replace = replace;
        self
    }

    /// Whether this unpack is rootless, given the running user.
    pub fn is_rootless(&self) -> bool {
        self.rootless
            .unwrap_or_else(|| !rustix::process::geteuid().is_root())
    }
}

/// One applied layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerReport {
    /// The layer blob's digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its (compressed) size.
    pub size: u64,
    /// The digest of its uncompressed tar, checked against the config.
    pub diff_id: Digest,
    /// What it did to the tree.
    #[serde(flatten)]
    pub stats: LayerStats,
}

/// What [`unpack`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unpacked {
    /// The manifest unpacked.
    pub manifest: Digest,
    /// Where the result is (`dest`).
    pub dest: PathBuf,
    /// The root filesystem: `dest`, or `dest/rootfs` for a bundle.
    pub rootfs: PathBuf,
    /// Whether a runtime bundle was written.
    pub bundle: bool,
    /// Whether the unpack was rootless.
    pub rootless: bool,
    /// Every layer, base first.
    pub layers: Vec<LayerReport>,
    /// The sums over all layers.
    pub totals: LayerStats,
}

/// Receives progress, layer by layer. Called on the unpacking thread:
/// implementations must be cheap.
pub trait Progress {
    /// Layer `index` (of `count`) starts.
    fn layer_started(&self, index: usize, count: usize, layer: &Descriptor) {
        let _ = (index, count, layer);
    }

    /// After an entry of layer `index`: `read` compressed bytes consumed so far.
    fn layer_progress(&self, index: usize, read: u64, stats: &LayerStats) {
        let _ = (index, read, stats);
    }

    /// Layer `index` is applied and verified.
    fn layer_done(&self, index: usize, report: &LayerReport) {
        let _ = (index, report);
    }
}

/// Ignores progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// Applies the layers of `manifest`, read from `provider`, into `dest`:
/// see the [crate documentation](crate) and [`UnpackOptions`].
///
/// # Errors
/// - already-exists if `dest` exists and is not an empty directory (unless
///   replacing), or is not a directory;
/// - unsupported for a layer media type that is not a distributable OCI or
///   Docker tar (plain, gzip or zstd), naming the layer and its type;
/// - data-loss if a layer's uncompressed digest is not the config's
///   diff_id, naming the layer; then nothing is left at `dest`;
/// - invalid-argument for a malformed layer or config; not-found for a
///   missing blob; failed-precondition for an unpack keeping ownership
///   without running as root; I/O errors naming the path.
pub fn unpack<P: Provider + ?Sized>(
    provider: &P,
    manifest: &Manifest,
    dest: &Path,
    options: &UnpackOptions,
    progress: &dyn Progress,
) -> Result<Unpacked> {
    let manifest_digest = &manifest.descriptor().digest;
    if !manifest.is_image() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "manifest {manifest_digest} is not an image (its config is {}); there is nothing to unpack",
                manifest.config().media_type
            ),
        )
        .with_digest(manifest_digest));
    }
    let compressions = manifest
        .layers()
        .iter()
        .map(layer_compression)
        .collect::<Result<Vec<_>>>()?;
    let config = ImageConfig::read(provider, manifest.config())?;
    let diff_ids = config.diff_ids();
    if diff_ids.len() != manifest.layers().len() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "manifest {manifest_digest} has {} layers but its config {} lists {} diff_ids",
                manifest.layers().len(),
                manifest.config().digest,
                diff_ids.len()
            ),
        )
        .with_digest(manifest_digest));
    }
    let rootless = options.is_rootless();
    if !rootless && !rustix::process::geteuid().is_root() {
        return Err(Error::new(
            ErrorKind::FailedPrecondition,
            "keeping the image's file owners needs root; unpack rootless instead",
        ));
    }
    check_dest(dest, options.replace)?;

    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("creating", &parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".hoist-unpack-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io("creating a temporary directory in", &parent, e))?;
    let rootfs_staging = if options.bundle {
        // As umoci does: only the owner may enter a bundle, so a set-id
        // program of its rootfs is out of other users' reach.
        set_mode(staging.path(), 0o700)?;
        let rootfs = staging.path().join("rootfs");
        std::fs::create_dir(&rootfs).map_err(|e| Error::io("creating", &rootfs, e))?;
        rootfs
    } else {
        staging.path().to_path_buf()
    };
    set_mode(&rootfs_staging, 0o755)?;

    let mut applier = Applier::new(Tree::open(&rootfs_staging)?, rootless);
    let mut layers = Vec::new();
    let mut totals = LayerStats::default();
    let count = manifest.layers().len();
    for (index, ((layer, compression), diff_id)) in manifest
        .layers()
        .iter()
        .zip(compressions)
        .zip(diff_ids)
        .enumerate()
    {
        progress.layer_started(index, count, layer);
        let report = apply_one(
            &mut applier,
            provider,
            layer,
            compression,
            diff_id,
            index,
            progress,
        )
        .map_err(|e| {
            let e = if e.digest().is_none() {
                e.with_digest(&layer.digest)
            } else {
                e
            };
            e.context(format!("layer {} ({} of {count})", layer.digest, index + 1))
        })?;
        totals.add(&report.stats);
        progress.layer_done(index, &report);
        layers.push(report);
    }
    let tree = applier.finish()?;

    if options.bundle {
        let passwd = read_image_file(&tree, "etc/passwd")?;
        let group = read_image_file(&tree, "etc/group")?;
        let user_spec = config
            .config
            .as_ref()
            .and_then(|c| c.user.clone())
            .unwrap_or_default();
        let user = resolve_user(&user_spec, passwd.as_deref(), group.as_deref())?;
        let host = (
            rustix::process::geteuid().as_raw(),
            rustix::process::getegid().as_raw(),
        );
        let spec = runtime_config(&config, &user, rootless, host)?;
        let path = staging.path().join("config.json");
        let mut bytes = serde_json::to_vec_pretty(&spec).map_err(|e| {
            Error::new(ErrorKind::Internal, format!("serializing config.json: {e}"))
        })?;
        bytes.push(b'\n');
        std::fs::write(&path, bytes).map_err(|e| Error::io("writing", &path, e))?;
        set_mode(&path, 0o644)?;
    }
    drop(tree);

    publish(staging, dest, options.replace)?;
    Ok(Unpacked {
        manifest: manifest_digest.clone(),
        dest: dest.to_path_buf(),
        rootfs: if options.bundle {
            dest.join("rootfs")
        } else {
            dest.to_path_buf()
        },
        bundle: options.bundle,
        rootless,
        layers,
        totals,
    })
}

/// The compression of a layer hoist applies; anything else is refused by name.
fn layer_compression(layer: &Descriptor) -> Result<Compression> {
    let refuse = |why: &str| {
        Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "layer {} has media type {:?}: {why}",
                layer.digest, layer.media_type
            ),
        )
        .with_digest(&layer.digest))
    };
    match media_type::classify(&layer.media_type) {
        MediaKind::Layer {
            distributable: false,
            ..
        } => refuse("a non-distributable layer, which hoist does not unpack"),
        MediaKind::Layer { compression, .. } => match compression {
            Compression::Uncompressed | Compression::Gzip | Compression::Zstd => Ok(compression),
            _ => refuse("hoist unpacks plain, gzip and zstd tar layers only"),
        },
        _ => refuse("not a layer type hoist knows"),
    }
}

/// Reads one layer through its decompressor, applies it, and checks its diff_id.
fn apply_one<P: Provider + ?Sized>(
    applier: &mut Applier,
    provider: &P,
    layer: &Descriptor,
    compression: Compression,
    diff_id: &Digest,
    index: usize,
    progress: &dyn Progress,
) -> Result<LayerReport> {
    let blob = provider.reader(&layer.digest)?;
    let counted = Counting {
        inner: blob,
        count: std::rc::Rc::new(std::cell::Cell::new(0)),
    };
    let read = counted.count.clone();
    let buffered = BufReader::with_capacity(256 * 1024, counted);
    let decompressed: Box<dyn Read> = match compression {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(buffered).map_err(|e| {
                Error::new(ErrorKind::InvalidArgument, format!("starting zstd: {e}"))
            })?,
        ),
        _ => Box::new(buffered),
    };
    let hashing = Hashing {
        inner: decompressed,
        digester: Digester::new(diff_id.algorithm()),
    };
    // The tar reader asks for 512-byte headers: a buffer spares the
    // decompressor a call for each (file content bypasses it, in 256 KiB reads).
    let mut archive = tar::Archive::new(BufReader::with_capacity(64 * 1024, hashing));
    let stats = applier.apply_layer(&mut archive, &mut |stats| {
        progress.layer_progress(index, read.get(), stats);
    })?;
    // The tar's end blocks and any padding after them count in the diff_id.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("reading the end of the layer: {e}"),
        )
        .with_source(e)
    })?;
    let actual = rest.into_inner().digester.finish();
    if &actual != diff_id {
        return Err(Error::new(
            ErrorKind::DataLoss,
            format!(
                "layer {} does not match the config: its uncompressed content hashes to {actual}, the config's diff_id is {diff_id}",
                layer.digest
            ),
        )
        .with_digest(&layer.digest));
    }
    Ok(LayerReport {
        digest: layer.digest.clone(),
        media_type: layer.media_type.clone(),
        size: layer.size,
        diff_id: actual,
        stats,
    })
}

/// Refuses a `dest` that exists and is not an empty directory, unless replacing.
fn check_dest(dest: &Path, replace: bool) -> Result<()> {
    let metadata = match std::fs::symlink_metadata(dest) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("inspecting", dest, e)),
    };
    if !metadata.is_dir() {
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!("{} exists and is not a directory", dest.display()),
        )
        .with_path(dest));
    }
    let empty = std::fs::read_dir(dest)
        .map_err(|e| Error::io("reading", dest, e))?
        .next()
        .is_none();
    if !empty && !replace {
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "{} exists and is not empty; choose an empty or new directory, or replace it",
                dest.display()
            ),
        )
        .with_path(dest));
    }
    Ok(())
}

/// Moves the finished tree to `dest` in one rename.
fn publish(staging: tempfile::TempDir, dest: &Path, replace: bool) -> Result<()> {
    let from = staging.path().to_path_buf();
    let cwd = rustix::fs::CWD;
    match rustix::fs::renameat_with(cwd, &from, cwd, dest, RenameFlags::NOREPLACE) {
        Ok(()) => {
            let _kept = staging.keep();
            return Ok(());
        }
        Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(Error::sys("moving the unpacked tree to", dest, e)),
    }
    // `dest` exists: an empty directory is replaced by a plain rename (which
    // fails if it gained entries meanwhile); a full one is swapped.
    match rustix::fs::rename(&from, dest) {
        Ok(()) => {
            let _kept = staging.keep();
            return Ok(());
        }
        Err(rustix::io::Errno::NOTEMPTY | rustix::io::Errno::EXIST) if replace => {}
        Err(rustix::io::Errno::NOTEMPTY | rustix::io::Errno::EXIST) => {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "{} is not empty any more; nothing was changed",
                    dest.display()
                ),
            )
            .with_path(dest));
        }
        Err(e) => return Err(Error::sys("moving the unpacked tree to", dest, e)),
    }
    rustix::fs::renameat_with(cwd, &from, cwd, dest, RenameFlags::EXCHANGE)
        .map_err(|e| Error::sys("swapping the unpacked tree with", dest, e))?;
    // The old tree is now at the staging path; TempDir deletes it. A tree
    // with directories we may not write to is opened up first.
    if let Some((parent, name)) = split_path(&from)
        && let Ok(parent_fd) = rustix::fs::open(
            &parent,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        && let Err(e) = crate::tree::remove_all(
            std::os::fd::AsFd::as_fd(&parent_fd),
            name.as_encoded_bytes(),
        )
    {
        tracing::warn!(
            "the replaced tree at {} could not be removed: {e}",
            from.display()
        );
    }
    drop(staging);
    Ok(())
}

fn split_path(path: &Path) -> Option<(PathBuf, std::ffi::OsString)> {
    Some((
        path.parent()?.to_path_buf(),
        path.file_name()?.to_os_string(),
    ))
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("setting the mode of", path, e))
}

/// Reads a small text file of the image (`etc/passwd`) beneath its root,
/// following its symlinks inside the tree only; absent or not a regular
/// file reads as `None`.
fn read_image_file(tree: &Tree, path: &str) -> Result<Option<String>> {
    const LIMIT: u64 = 16 * 1024 * 1024;
    let shown = TreePath::clean(path.as_bytes()).display();
    let fd = match crate::tree::open_in_root(
        tree.root_fd(),
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR | rustix::io::Errno::LOOP) => {
            return Ok(None);
        }
        Err(e) => return Err(Error::sys("opening the image's", &shown, e)),
    };
    let stat =
        rustix::fs::fstat(&fd).map_err(|e| Error::sys("inspecting the image's", &shown, e))?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
        return Ok(None);
    }
    let mut text = Vec::new();
    std::fs::File::from(fd)
        .take(LIMIT)
        .read_to_end(&mut text)
        .map_err(|e| Error::io("reading the image's", &shown, e))?;
    Ok(Some(String::from_utf8_lossy(&text).into_owned()))
}

/// Counts the compressed bytes read, for progress.
struct Counting<R> {
    inner: R,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Hashes the uncompressed bytes as the tar reader consumes them: the diff_id.
struct Hashing<R> {
    inner: R,
    digester: Digester,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digester.update(&buf[..n]);
        Ok(n)
    }
}
