//! The tree being built, reached only through file descriptors resolved
//! beneath its root: the one place where a path from a layer meets the file
//! system.
//!
//! Every directory a layer names is opened with `openat2(root, path,
//! RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`: the kernel resolves each
//! component, `..` and every symlink (absolute ones included) as if `root`
//! were `/`, so no symlink an earlier entry or layer planted can lead out of
//! the tree, whatever it points at; this is the scoping umoci gets from
//! `securejoin` and containerd from `fs.RootPath`, done by the kernel in
//! one call and free of races. The last component of an entry's path is
//! never resolved: every operation on it is an `*at` call on its parent's
//! descriptor that does not follow a symlink there (`O_NOFOLLOW`,
//! `AT_SYMLINK_NOFOLLOW`, `unlinkat`, `linkat` without `AT_SYMLINK_FOLLOW`),
//! so a whiteout or a new entry named like a symlink acts on the link,
//! never on what it points at.

use std::collections::HashMap;
use std::ffi::{CStr, CString, OsStr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::error::{Error, Result};

/// How many symlinks a parent path may pass through when a missing directory
/// has to be created where a dangling symlink points (Linux's own limit).
const MAX_SYMLINK_HOPS: usize = 40;

/// A path inside the tree, cleaned: components joined by `/`, none of them
/// empty, `.` or `..`; the empty path is the root itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TreePath(Vec<u8>);

impl TreePath {
    /// Cleans a path from a tar entry or a link target lexically, the way
    /// umoci's `CleanPath` and containerd do: a leading `/` is dropped and a
    /// `..` above the root stays at the root, so `../../etc/x` and
    /// `/etc/x` both name `etc/x` inside the tree.
    pub(crate) fn clean(raw: &[u8]) -> TreePath {
        let mut parts: Vec<&[u8]> = Vec::new();
        for part in raw.split(|&b| b == b'/') {
            match part {
                b"" | b"." => {}
                b".." => {
                    parts.pop();
                }
                other => parts.push(other),
            }
        }
        TreePath(parts.join(&b'/'))
    }

    /// `base` (a directory) joined with a relative `target`, cleaned; an
    /// absolute `target` starts again at the root.
    pub(crate) fn join_link(base: &TreePath, target: &[u8]) -> TreePath {
        if target.starts_with(b"/") {
            return TreePath::clean(target);
        }
        let mut joined = base.0.clone();
        joined.push(b'/');
        joined.extend_from_slice(target);
        TreePath::clean(&joined)
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The parent directory and the last component (`None` for the root).
    pub(crate) fn split(&self) -> Option<(TreePath, &[u8])> {
        if self.0.is_empty() {
            return None;
        }
        Some(match self.0.iter().rposition(|&b| b == b'/') {
            Some(at) => (TreePath(self.0[..at].to_vec()), &self.0[at + 1..]),
            None => (TreePath(Vec::new()), &self.0[..]),
        })
    }

    /// This path with `name` appended.
    pub(crate) fn child(&self, name: &[u8]) -> TreePath {
        if self.0.is_empty() {
            return TreePath(name.to_vec());
        }
        let mut joined = self.0.clone();
        joined.push(b'/');
        joined.extend_from_slice(name);
        TreePath(joined)
    }

    /// Every ancestor, nearest first, the root excluded, then the path itself first.
    pub(crate) fn self_and_ancestors(&self) -> impl Iterator<Item = TreePath> + '_ {
        let mut end = Some(self.0.len());
        std::iter::from_fn(move || {
            let at = end?;
            if at == 0 {
                end = None;
                return None;
            }
            let path = TreePath(self.0[..at].to_vec());
            end = Some(self.0[..at].iter().rposition(|&b| b == b'/').unwrap_or(0));
            Some(path)
        })
    }

    /// For messages: the path as the image sees it, `/` first.
    pub(crate) fn display(&self) -> PathBuf {
        Path::new("/").join(OsStr::from_bytes(&self.0))
    }
}

/// How many resolved directories the tree keeps open.
const CACHED_DIRS: usize = 128;

/// The tree under construction: its root directory, open, and the
/// directories resolved lately (entries of one directory come close
/// together in a layer, so most entries find their parent here).
pub(crate) struct Tree {
    root: OwnedFd,
    cached: HashMap<TreePath, Arc<OwnedFd>>,
}

impl Tree {
    /// Opens `root_path`, a directory this process created and owns.
    pub(crate) fn open(root_path: &Path) -> Result<Tree> {
        let root = rustix::fs::open(
            root_path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::sys("opening", root_path, e))?;
        Ok(Tree {
            root,
            cached: HashMap::new(),
        })
    }

    pub(crate) fn root_fd(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    /// Forgets the cached directories: called before anything is removed
    /// or replaced, since a cached directory may be what goes (or be reached
    /// through what goes).
    pub(crate) fn invalidate(&mut self) {
        self.cached.clear();
    }

    /// The directory `path`, resolved beneath the root; `None` if it (or a
    /// component) does not exist or is not a directory.
    pub(crate) fn find_dir(&self, path: &TreePath) -> Result<Option<OwnedFd>> {
        match self.resolve(path) {
            Ok(fd) => Ok(Some(fd)),
            Err(Errno::NOENT | Errno::NOTDIR) => Ok(None),
            Err(e) => Err(self.error("resolving", path, e)),
        }
    }

    /// The directory `path`, created (mode 0755, with its missing parents)
    /// if absent. A component that is a symlink is followed inside the tree,
    /// and a directory missing where a dangling symlink points is created
    /// there, as umoci does.
    pub(crate) fn dir(&mut self, path: &TreePath) -> Result<Arc<OwnedFd>> {
        if let Some(fd) = self.cached.get(path) {
            return Ok(fd.clone());
        }
        let fd = Arc::new(self.ensure_dir(path, 0)?);
        if self.cached.len() >= CACHED_DIRS {
            self.cached.clear();
        }
        self.cached.insert(path.clone(), fd.clone());
        Ok(fd)
    }

    fn resolve(&self, path: &TreePath) -> rustix::io::Result<OwnedFd> {
        let target: &[u8] = if path.is_root() { b"." } else { path.bytes() };
        open_in_root(
            &self.root,
            target,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        )
    }

    fn ensure_dir(&self, path: &TreePath, hops: usize) -> Result<OwnedFd> {
        match self.resolve(path) {
            Ok(fd) => return Ok(fd),
            Err(Errno::NOENT) => {}
            Err(e) => return Err(self.error("resolving directory", path, e)),
        }
        let Some((parent, name)) = path.split() else {
            return Err(self.error("resolving", path, Errno::NOENT));
        };
        let parent_fd = self.ensure_dir(&parent, hops)?;
        match rustix::fs::mkdirat(&parent_fd, name, Mode::from_raw_mode(0o755)) {
            Ok(()) => {
                // Explicit, so the umask does not decide an implied directory's mode.
                rustix::fs::chmodat(
                    &parent_fd,
                    name,
                    Mode::from_raw_mode(0o755),
                    AtFlags::empty(),
                )
                .map_err(|e| self.error("setting the mode of", path, e))?;
            }
            Err(Errno::EXIST) => {
                let stat = rustix::fs::statat(&parent_fd, name, AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| self.error("inspecting", path, e))?;
                if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink {
                    if hops >= MAX_SYMLINK_HOPS {
                        return Err(self.error("resolving", path, Errno::LOOP));
                    }
                    let target = rustix::fs::readlinkat(&parent_fd, name, Vec::new())
                        .map_err(|e| self.error("reading the link", path, e))?;
                    let target = TreePath::join_link(&parent, target.as_bytes());
                    return self.ensure_dir(&target, hops + 1);
                }
            }
            Err(e) => return Err(self.error("creating directory", path, e)),
        }
        self.resolve(path)
            .map_err(|e| self.error("resolving directory", path, e))
    }

    /// An error naming `path` as the image sees it.
    pub(crate) fn error(&self, what: &str, path: &TreePath, errno: Errno) -> Error {
        Error::sys(what, &path.display(), errno)
    }
}

/// Removes `name` in `dir` and, if it is a directory, everything in it;
/// nothing is followed. Absent is fine. A directory we may not write to is
/// opened up first (a rootless tree can hold directories of mode 0555).
pub(crate) fn remove_all(dir: BorrowedFd<'_>, name: &[u8]) -> rustix::io::Result<()> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => return Ok(()),
        Err(Errno::ISDIR | Errno::PERM) => {}
        Err(e) => return Err(e),
    }
    let stat = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) => stat,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
        return rustix::fs::unlinkat(dir, name, AtFlags::empty());
    }
    if stat.st_mode & 0o700 != 0o700 && !rustix::process::geteuid().is_root() {
        // Emptying a directory takes write and search permission on it; a
        // rootless tree (ours) may hold 0555 ones. Refused (not ours): the
        // removal below reports it.
        let _ = rustix::fs::chmodat(dir, name, Mode::from_raw_mode(0o700), AtFlags::empty());
    }
    let child = open_dir_for_listing(dir, name)?;
    for entry in list(&child)? {
        remove_all(child.as_fd(), entry.as_bytes())?;
    }
    match rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Opens the directory `name` in `dir` for reading and changing, never
/// through a symlink; one without read, write or search permission for us is
/// given them first (we own every file of a rootless tree).
pub(crate) fn open_dir_for_listing(
    dir: BorrowedFd<'_>,
    name: &[u8],
) -> rustix::io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Err(Errno::ACCESS) => {
            rustix::fs::chmodat(dir, name, Mode::from_raw_mode(0o700), AtFlags::empty())?;
            rustix::fs::openat(dir, name, flags, Mode::empty())
        }
        other => other,
    }
}

/// The names in a directory open for reading, `.` and `..` left out.
pub(crate) fn list(dir: &OwnedFd) -> rustix::io::Result<Vec<CString>> {
    let mut names = Vec::new();
    let mut reader = Dir::read_from(dir)?;
    while let Some(entry) = reader.read() {
        let entry = entry?;
        let name: &CStr = entry.file_name();
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// `openat2(root, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`:
/// the kernel resolves every component, symlinks included, beneath `root`.
/// With `..` in the path (or in a symlink's target), the kernel answers
/// `EAGAIN` whenever a rename anywhere on the system raced the lookup, as
/// it cannot then prove the walk stayed inside; that is retried (a busy
/// machine renames all the time: every blob commit is a rename).
pub(crate) fn open_in_root(
    root: impl rustix::fd::AsFd,
    path: impl rustix::path::Arg + Copy,
    flags: OFlags,
) -> rustix::io::Result<OwnedFd> {
    const ATTEMPTS: usize = 64;
    let mut attempt = 0;
    loop {
        match rustix::fs::openat2(
            root.as_fd(),
            path,
            flags,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(Errno::AGAIN) if attempt < ATTEMPTS => {
                attempt += 1;
                std::thread::yield_now();
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_keeps_every_path_inside() {
        for (raw, clean) in [
            (&b"./usr/bin/../lib/x"[..], &b"usr/lib/x"[..]),
            (b"/etc/passwd", b"etc/passwd"),
            (b"../../../etc/passwd", b"etc/passwd"),
            (b"a/../../b", b"b"),
            (b"./", b""),
            (b"a//b/", b"a/b"),
        ] {
            assert_eq!(TreePath::clean(raw).bytes(), clean, "{raw:?}");
        }
    }

    #[test]
    fn links_join_relative_to_their_directory_or_the_root() {
        let base = TreePath::clean(b"usr/lib");
        assert_eq!(TreePath::join_link(&base, b"../x").bytes(), b"usr/x");
        assert_eq!(TreePath::join_link(&base, b"/x").bytes(), b"x");
        assert_eq!(TreePath::join_link(&base, b"../../../x").bytes(), b"x");
    }

    #[test]
    fn ancestors_come_nearest_first() {
        let path = TreePath::clean(b"a/b/c");
        let all: Vec<Vec<u8>> = path.self_and_ancestors().map(|p| p.0).collect();
        assert_eq!(all, vec![b"a/b/c".to_vec(), b"a/b".to_vec(), b"a".to_vec()]);
        let (parent, name) = path.split().unwrap();
        assert_eq!((parent.bytes(), name), (&b"a/b"[..], &b"c"[..]));
    }
}
