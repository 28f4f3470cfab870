//! Small durable file-system steps, each naming its path on error.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Makes the entries of `dir` (creations, renames) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    sync_path(dir, "fsync directory")
}

/// Opens `path` (a file or a directory) and fsyncs it; `what` names the step
/// in an error.
fn sync_path(path: &Path, what: &str) -> Result<()> {
    #[cfg(test)]
    tests::record(path);
    File::open(path)
        .and_then(|opened| opened.sync_all())
        .map_err(|e| Error::io(what, path, e))
}

/// Creates `dir` if missing, without waiting for the disk: a power cut may
/// lose it.
pub(crate) fn create_dir(dir: &Path) -> Result<()> {
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io("create directory", dir, e)),
    }
}

/// Creates `dir` if missing and, when it was created, makes its entry durable
/// in its parent.
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    match fs::create_dir(dir) {
        Ok(()) => match dir.parent() {
            Some(parent) => sync_dir(parent),
            None => Ok(()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io("create directory", dir, e)),
    }
}

/// Makes `file`'s content and metadata durable.
pub(crate) fn sync_file(file: &Path) -> Result<()> {
    sync_path(file, "fsync")
}

/// Replaces `path` with `bytes` atomically for every reader: a reader sees
/// the old content or the new one, never a mix. Writes a temp file beside it
/// and renames it over `path`, without waiting for the disk: after a power
/// cut `path` may be missing, old, empty or garbled (the caller's reader must
/// take any of those as "start over"), unless [`sync_file`] and [`sync_dir`]
/// ran since.
pub(crate) fn replace_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::io("write", path, std::io::ErrorKind::InvalidInput.into()))?;
    let temp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)
        .map_err(|e| Error::io("create", &temp, e))?;
    file.write_all(bytes)
        .map_err(|e| Error::io("write", &temp, e))?;
    drop(file);
    fs::rename(&temp, path)
        .map_err(|e| Error::io(&format!("rename {} to", temp.display()), path, e))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::RefCell;
    use std::path::{Path, PathBuf};

    thread_local! {
        /// The paths this thread fsynced through this module, in order.
        static SYNCED: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
    }

    pub(crate) fn record(path: &Path) {
        SYNCED.with(|synced| synced.borrow_mut().push(path.to_owned()));
    }

    /// The paths fsynced on this thread since the last call.
    pub(crate) fn take_synced() -> Vec<PathBuf> {
        SYNCED.with(|synced| synced.take())
    }
}
