//! Applying one layer's tar stream to the tree: entries in order, whiteouts
//! and opaque directories as the OCI image spec says, metadata per
//! [`crate::metadata`]. Directory modes and times wait for the end of the
//! last layer: creating anything in a directory changes its mtime, and a
//! directory of mode 0555 would stop a rootless unpack from filling it.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::metadata::{self, Meta, ROOTLESS_XATTR};
use crate::tree::{self, Tree, TreePath};

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
const COPY_BUFFER: usize = 256 * 1024;

/// What one layer did to the tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LayerStats {
    /// Tar entries read (whiteouts included).
    pub entries: u64,
    /// Non-directories written: regular files, symlinks, hard links, FIFOs, device nodes.
    pub files: u64,
    /// Directories created or updated.
    pub directories: u64,
    /// Bytes of regular-file content written.
    pub bytes: u64,
    /// Whiteouts and opaque markers applied.
    pub whiteouts: u64,
    /// Device nodes not created because the unpack is rootless.
    pub skipped_devices: u64,
    /// Extended attributes the file system or the user's privilege refused.
    pub skipped_xattrs: u64,
}

impl LayerStats {
    pub(crate) fn add(&mut self, other: &LayerStats) {
        self.entries += other.entries;
        self.files += other.files;
        self.directories += other.directories;
        self.bytes += other.bytes;
        self.whiteouts += other.whiteouts;
        self.skipped_devices += other.skipped_devices;
        self.skipped_xattrs += other.skipped_xattrs;
    }
}

/// A directory's mode and times, set once every layer is applied.
#[derive(Debug, Clone)]
struct DirMeta {
    meta: Meta,
}

/// Applies layers, in order, to one tree.
pub(crate) struct Applier {
    tree: Tree,
    rootless: bool,
    /// Paths this layer created and their ancestors (umoci's "upper
    /// paths"): a whiteout in the same layer must not remove them.
    upper: HashSet<TreePath>,
    dirs: BTreeMap<TreePath, DirMeta>,
    buffer: Vec<u8>,
    /// Who new files belong to: the effective uid and gid.
    creator: (rustix::fs::Uid, rustix::fs::Gid),
}

impl Applier {
    pub(crate) fn new(tree: Tree, rootless: bool) -> Applier {
        Applier {
            tree,
            rootless,
            upper: HashSet::new(),
            dirs: BTreeMap::new(),
            buffer: vec![0; COPY_BUFFER],
            creator: (rustix::process::geteuid(), rustix::process::getegid()),
        }
    }

    /// Applies every entry of `archive`; `on_entry` sees the stats so far
    /// after each entry (for progress).
    pub(crate) fn apply_layer<R: Read>(
        &mut self,
        archive: &mut tar::Archive<R>,
        on_entry: &mut dyn FnMut(&LayerStats),
    ) -> Result<LayerStats> {
        self.upper.clear();
        let mut stats = LayerStats::default();
        let entries = archive.entries().map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("reading the tar stream: {e}"),
            )
            .with_source(e)
        })?;
        for entry in entries {
            let mut entry = entry.map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("reading a tar entry: {e}"),
                )
                .with_source(e)
            })?;
            let raw_path = entry.path_bytes().into_owned();
            stats.entries += 1;
            self.apply_entry(&mut entry, &raw_path, &mut stats)
                .map_err(|e| {
                    e.context(format!("entry {:?}", String::from_utf8_lossy(&raw_path)))
                })?;
            on_entry(&stats);
        }
        Ok(stats)
    }

    fn apply_entry<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        raw_path: &[u8],
        stats: &mut LayerStats,
    ) -> Result<()> {
        let kind = entry.header().entry_type();
        if matches!(kind, tar::EntryType::XGlobalHeader) {
            return Ok(());
        }
        let path = TreePath::clean(raw_path);
        let Some((parent, name)) = path.split() else {
            // The root itself: only its metadata may change, never its type.
            if !kind.is_dir() {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    "an entry for the root is not a directory; refusing to change the root's type",
                ));
            }
            let meta = read_meta(entry)?;
            self.set_owner_of_dir(&path, &meta, stats, false)?;
            self.dirs.insert(path, DirMeta { meta });
            stats.directories += 1;
            return Ok(());
        };
        let name = name.to_vec();
        if name == OPAQUE_MARKER {
            stats.whiteouts += 1;
            return self.opaque(&parent);
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            stats.whiteouts += 1;
            return self.whiteout(&parent, hidden);
        }
        let meta = read_meta(entry)?;
        if meta.uid > u64::from(u32::MAX) || meta.gid > u64::from(u32::MAX) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("owner {}:{} is out of range", meta.uid, meta.gid),
            ));
        }
        let dir = self.tree.dir(&parent)?;
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                self.write_file(&dir, &path, &name, entry, &meta, stats)?;
                stats.files += 1;
            }
            tar::EntryType::Directory => {
                self.make_dir(&dir, &path, &name, &meta, stats)?;
                stats.directories += 1;
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                self.symlink(&dir, &path, &name, &target, &meta)?;
                stats.files += 1;
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                self.hard_link(&dir, &path, &name, &target)?;
                stats.files += 1;
            }
            tar::EntryType::Fifo => {
                self.special(&dir, &path, &name, FileType::Fifo, 0, &meta, stats)?;
                stats.files += 1;
            }
            tar::EntryType::Char | tar::EntryType::Block => {
                if self.rootless {
                    // A rootless unpack cannot make device nodes; the path
                    // is left absent (what the layer put there is not a file).
                    self.clear(&dir, &path, &name)?;
                    stats.skipped_devices += 1;
                    return Ok(());
                }
                let header = entry.header();
                let major = header.device_major().ok().flatten().unwrap_or(0);
                let minor = header.device_minor().ok().flatten().unwrap_or(0);
                let file_type = if kind == tar::EntryType::Char {
                    FileType::CharacterDevice
                } else {
                    FileType::BlockDevice
                };
                self.special(
                    &dir,
                    &path,
                    &name,
                    file_type,
                    rustix::fs::makedev(major, minor),
                    &meta,
                    stats,
                )?;
                stats.files += 1;
            }
            other => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "tar entry type {:?} is not supported",
                        other.as_byte() as char
                    ),
                ));
            }
        }
        for ancestor in path.self_and_ancestors() {
            if !self.upper.insert(ancestor) {
                break;
            }
        }
        Ok(())
    }

    /// Removes whatever `name` in `dir` is, before something else takes its place.
    fn clear(&mut self, dir: &OwnedFd, path: &TreePath, name: &[u8]) -> Result<()> {
        self.tree.invalidate();
        self.forget_dirs(path);
        tree::remove_all(dir.as_fd(), name).map_err(|e| self.tree.error("removing", path, e))
    }

    fn write_file<R: Read>(
        &mut self,
        dir: &OwnedFd,
        path: &TreePath,
        name: &[u8],
        entry: &mut tar::Entry<'_, R>,
        meta: &Meta,
        stats: &mut LayerStats,
    ) -> Result<()> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o600)) {
            Ok(fd) => fd,
            Err(Errno::EXIST) => {
                self.clear(dir, path, name)?;
                rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o600))
                    .map_err(|e| self.tree.error("creating", path, e))?
            }
            Err(e) => return Err(self.tree.error("creating", path, e)),
        };
        let mut file = std::fs::File::from(fd);
        let size = entry.size();
        let written = copy_sparse(entry, &mut file, &mut self.buffer, size)
            .map_err(|e| Error::io("writing", &path.display(), e))?;
        if written != size {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("the tar stream ended after {written} of {size} bytes"),
            ));
        }
        stats.bytes += written;
        self.set_meta_fd(file.as_fd(), path, meta, stats)
    }

    fn make_dir(
        &mut self,
        dir: &OwnedFd,
        path: &TreePath,
        name: &[u8],
        meta: &Meta,
        stats: &mut LayerStats,
    ) -> Result<()> {
        let fresh = match rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o755)) {
            Ok(()) => true,
            Err(Errno::EXIST) => {
                let stat = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| self.tree.error("inspecting", path, e))?;
                if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
                    false
                } else {
                    // A directory replaces a file or a symlink (never
                    // followed: a symlink to a directory is clobbered, as
                    // umoci does without --keep-dirlinks).
                    self.clear(dir, path, name)?;
                    rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o755))
                        .map_err(|e| self.tree.error("creating directory", path, e))?;
                    true
                }
            }
            Err(e) => return Err(self.tree.error("creating directory", path, e)),
        };
        self.set_owner_of_dir(path, meta, stats, fresh)?;
        self.dirs
            .insert(path.clone(), DirMeta { meta: meta.clone() });
        Ok(())
    }

    /// A directory's owner and attributes now (its mode and times at the end).
    fn set_owner_of_dir(
        &mut self,
        path: &TreePath,
        meta: &Meta,
        stats: &mut LayerStats,
        fresh: bool,
    ) -> Result<()> {
        let fd = match path.split() {
            None => tree::open_dir_for_listing(self.tree.root_fd(), b"."),
            Some((parent, name)) => {
                let parent = self.tree.dir(&parent)?;
                tree::open_dir_for_listing(parent.as_fd(), name)
            }
        }
        .map_err(|e| self.tree.error("opening directory", path, e))?;
        self.set_owner(fd.as_fd(), path, meta, stats, fresh)?;
        self.set_xattrs(fd.as_fd(), path, meta, stats)
    }

    fn symlink(
        &mut self,
        dir: &OwnedFd,
        path: &TreePath,
        name: &[u8],
        target: &[u8],
        meta: &Meta,
    ) -> Result<()> {
        match rustix::fs::symlinkat(target, dir, name) {
            Ok(()) => {}
            Err(Errno::EXIST) => {
                self.clear(dir, path, name)?;
                rustix::fs::symlinkat(target, dir, name)
                    .map_err(|e| self.tree.error("creating symlink", path, e))?;
            }
            Err(e) => return Err(self.tree.error("creating symlink", path, e)),
        }
        metadata::apply_at(dir.as_fd(), name, meta, !self.rootless, true)
            .map_err(|e| self.tree.error("setting the metadata of", path, e))
    }

    fn hard_link(
        &mut self,
        dir: &OwnedFd,
        path: &TreePath,
        name: &[u8],
        target: &[u8],
    ) -> Result<()> {
        let target_path = TreePath::clean(target);
        let missing = || {
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "hard link {} points at {}, which is not in the tree",
                    path.display().display(),
                    target_path.display().display()
                ),
            )
        };
        let Some((target_parent, target_name)) = target_path.split() else {
            return Err(missing());
        };
        // Resolved beneath the root like any path: a link can only ever
        // reach a file of this tree.
        let Some(target_dir) = self.tree.find_dir(&target_parent)? else {
            return Err(missing());
        };
        let target_stat =
            match rustix::fs::statat(&target_dir, target_name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => stat,
                Err(Errno::NOENT) => return Err(missing()),
                Err(e) => return Err(self.tree.error("inspecting", &target_path, e)),
            };
        if FileType::from_raw_mode(target_stat.st_mode) == FileType::Directory {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "hard link to the directory {}",
                    target_path.display().display()
                ),
            ));
        }
        match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) if stat.st_ino == target_stat.st_ino && stat.st_dev == target_stat.st_dev => {
                return Ok(());
            }
            Ok(_) => self.clear(dir, path, name)?,
            Err(Errno::NOENT) => {}
            Err(e) => return Err(self.tree.error("inspecting", path, e)),
        }
        rustix::fs::linkat(&target_dir, target_name, dir, name, AtFlags::empty())
            .map_err(|e| self.tree.error("creating hard link", path, e))
    }

    #[allow(clippy::too_many_arguments)]
    fn special(
        &mut self,
        dir: &OwnedFd,
        path: &TreePath,
        name: &[u8],
        file_type: FileType,
        device: rustix::fs::Dev,
        meta: &Meta,
        stats: &mut LayerStats,
    ) -> Result<()> {
        let mode = Mode::from_raw_mode(0o600);
        match rustix::fs::mknodat(dir, name, file_type, mode, device) {
            Ok(()) => {}
            Err(Errno::EXIST) => {
                self.clear(dir, path, name)?;
                rustix::fs::mknodat(dir, name, file_type, mode, device)
                    .map_err(|e| self.tree.error("creating", path, e))?;
            }
            Err(e) => return Err(self.tree.error("creating", path, e)),
        }
        if file_type == FileType::Fifo {
            // A FIFO opens without blocking for reading; then it is set up
            // through its descriptor like a file.
            let fd = rustix::fs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| self.tree.error("opening", path, e))?;
            return self.set_meta_fd(fd.as_fd(), path, meta, stats);
        }
        // A device node is never opened (that could act on the device).
        metadata::apply_at(dir.as_fd(), name, meta, true, false)
            .map_err(|e| self.tree.error("setting the metadata of", path, e))
    }

    /// Owner, mode, attributes and times of an open file.
    fn set_meta_fd(
        &mut self,
        fd: BorrowedFd<'_>,
        path: &TreePath,
        meta: &Meta,
        stats: &mut LayerStats,
    ) -> Result<()> {
        // Files and FIFOs are always created afresh.
        self.set_owner(fd, path, meta, stats, true)?;
        // After the owner: changing the owner clears set-id bits.
        rustix::fs::fchmod(fd, meta.mode())
            .map_err(|e| self.tree.error("changing the mode of", path, e))?;
        self.set_xattrs(fd, path, meta, stats)?;
        rustix::fs::futimens(fd, &meta.times())
            .map_err(|e| self.tree.error("setting the times of", path, e))
    }

    /// The owner of an open file: as root the tar's; rootless, recorded in
    /// [`ROOTLESS_XATTR`]. A `fresh` file (created by this entry) already
    /// belongs to us and carries no attribute, which saves a call per file.
    fn set_owner(
        &mut self,
        fd: BorrowedFd<'_>,
        path: &TreePath,
        meta: &Meta,
        stats: &mut LayerStats,
        fresh: bool,
    ) -> Result<()> {
        if !self.rootless {
            let (uid, gid) = meta.owner();
            if fresh && (uid, gid) == (Some(self.creator.0), Some(self.creator.1)) {
                return Ok(());
            }
            return rustix::fs::fchown(fd, uid, gid)
                .map_err(|e| self.tree.error("changing the owner of", path, e));
        }
        let result = match meta.rootless_payload() {
            Some(payload) => metadata::set_xattr(fd, ROOTLESS_XATTR, &payload),
            None if fresh => Ok(()),
            None => metadata::remove_xattr(fd, ROOTLESS_XATTR),
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) if metadata::xattr_skippable(e, true) => {
                stats.skipped_xattrs += 1;
                Ok(())
            }
            Err(e) => Err(self.tree.error("recording the owner of", path, e)),
        }
    }

    fn set_xattrs(
        &mut self,
        fd: BorrowedFd<'_>,
        path: &TreePath,
        meta: &Meta,
        stats: &mut LayerStats,
    ) -> Result<()> {
        for (name, value) in &meta.xattrs {
            if self.rootless && name == ROOTLESS_XATTR {
                // The layer's own claim is ignored: the owner we record is the tar's.
                continue;
            }
            match metadata::set_xattr(fd, name, value) {
                Ok(()) => {}
                Err(e) if metadata::xattr_skippable(e, self.rootless) => stats.skipped_xattrs += 1,
                Err(e) => {
                    return Err(self.tree.error(
                        &format!("setting the extended attribute {name} of"),
                        path,
                        e,
                    ));
                }
            }
        }
        Ok(())
    }

    /// `.wh..wh..opq` in `dir`: everything lower layers put in `dir` goes;
    /// what this layer wrote there stays (it may come before the marker).
    fn opaque(&mut self, dir_path: &TreePath) -> Result<()> {
        let Some(dir) = self.tree.find_dir(dir_path)? else {
            return Ok(());
        };
        let listing = self.open_for_listing(&dir, dir_path)?;
        let Some(listing) = listing else {
            return Ok(());
        };
        self.tree.invalidate();
        self.remove_lower_children(&listing, dir_path)
    }

    /// `.wh.NAME` in `dir`: NAME goes, whatever it is, unless this layer
    /// wrote it (then only what lower layers left inside it goes).
    fn whiteout(&mut self, dir_path: &TreePath, hidden: &[u8]) -> Result<()> {
        if hidden.is_empty() || hidden == b"." || hidden == b".." || hidden.contains(&b'/') {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "whiteout .wh.{} in {} names no file",
                    String::from_utf8_lossy(hidden),
                    dir_path.display().display()
                ),
            ));
        }
        let Some(dir) = self.tree.find_dir(dir_path)? else {
            return Ok(());
        };
        let target = dir_path.child(hidden);
        self.tree.invalidate();
        if !self.upper.contains(&target) {
            self.forget_dirs(&target);
            return tree::remove_all(dir.as_fd(), hidden)
                .map_err(|e| self.tree.error("removing", &target, e));
        }
        match rustix::fs::statat(&dir, hidden, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Directory => {
                let listing = tree::open_dir_for_listing(dir.as_fd(), hidden)
                    .map_err(|e| self.tree.error("opening directory", &target, e))?;
                self.remove_lower_children(&listing, &target)
            }
            _ => Ok(()),
        }
    }

    fn open_for_listing(&self, dir: &OwnedFd, path: &TreePath) -> Result<Option<OwnedFd>> {
        match rustix::fs::openat(
            dir,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Some(fd)),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(self.tree.error("opening directory", path, e)),
        }
    }

    /// Removes every child of `dir` (at `path`) this layer did not write,
    /// descending into the directories it did.
    fn remove_lower_children(&mut self, dir: &OwnedFd, path: &TreePath) -> Result<()> {
        let names = tree::list(dir).map_err(|e| self.tree.error("listing", path, e))?;
        for name in names {
            let name = name.as_bytes();
            let child = path.child(name);
            if !self.upper.contains(&child) {
                self.forget_dirs(&child);
                tree::remove_all(dir.as_fd(), name)
                    .map_err(|e| self.tree.error("removing", &child, e))?;
                continue;
            }
            let stat = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| self.tree.error("inspecting", &child, e))?;
            if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
                let inner = tree::open_dir_for_listing(dir.as_fd(), name)
                    .map_err(|e| self.tree.error("opening directory", &child, e))?;
                self.remove_lower_children(&inner, &child)?;
            }
        }
        Ok(())
    }

    /// Drops the deferred metadata of `path` and of everything under it.
    fn forget_dirs(&mut self, path: &TreePath) {
        let doomed: Vec<TreePath> = self
            .dirs
            .range(path.clone()..)
            .take_while(|(key, _)| key.bytes().starts_with(path.bytes()))
            .filter(|(key, _)| {
                key.bytes().len() == path.bytes().len()
                    || key.bytes()[path.bytes().len()] == b'/'
                    || path.is_root()
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in doomed {
            self.dirs.remove(&key);
        }
    }

    /// Sets every directory's mode and times, deepest first, once nothing
    /// more will be created in them.
    pub(crate) fn finish(mut self) -> Result<Tree> {
        self.tree.invalidate();
        let dirs = std::mem::take(&mut self.dirs);
        for (path, DirMeta { meta }) in dirs.iter().rev() {
            let (parent, name): (OwnedFd, &[u8]) = match path.split() {
                None => (
                    rustix::fs::openat(
                        self.tree.root_fd(),
                        ".",
                        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                        Mode::empty(),
                    )
                    .map_err(|e| self.tree.error("opening", path, e))?,
                    b".",
                ),
                Some((parent, name)) => match self.tree.find_dir(&parent)? {
                    Some(fd) => (fd, name),
                    None => continue,
                },
            };
            match rustix::fs::statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Directory => {}
                _ => continue,
            }
            metadata::apply_at(parent.as_fd(), name, meta, false, false)
                .map_err(|e| self.tree.error("setting the mode and times of", path, e))?;
        }
        Ok(self.tree)
    }
}

fn read_meta<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<Meta> {
    Meta::of(entry).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("reading the entry's header: {e}"),
        )
        .with_source(e)
    })
}

/// Copies `size` bytes from `from` to `to`, leaving holes where whole
/// buffers are zero (sparse files stay sparse); returns the bytes copied.
fn copy_sparse(
    from: &mut impl Read,
    to: &mut std::fs::File,
    buffer: &mut [u8],
    size: u64,
) -> std::io::Result<u64> {
    let mut copied = 0u64;
    let mut hole_at_end = false;
    loop {
        let n = match from.read(buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buffer[..n];
        if n >= 4096 && chunk.iter().all(|&b| b == 0) {
            to.seek(SeekFrom::Current(n as i64))?;
            hole_at_end = true;
        } else {
            to.write_all(chunk)?;
            hole_at_end = false;
        }
        copied += n as u64;
    }
    if hole_at_end {
        to.set_len(copied)?;
    }
    let _ = size;
    Ok(copied)
}
