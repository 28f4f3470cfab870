//! Publishing a verified data file as a blob: one atomic step that never
//! replaces an existing blob.

use std::fs;
use std::path::Path;

use rustix::fs::{CWD, RenameFlags, renameat_with};
use rustix::io::Errno;

use crate::error::{Error, Result};

/// What happened to the data file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Published {
    /// It is now the blob.
    Moved,
    /// A blob was already there; the data file was left where it was.
    AlreadyThere,
}

/// Moves `data` to `blob` unless `blob` exists, atomically.
///
/// `rename(2)` alone would silently replace an existing blob, so two writers of
/// the same content under different references could not tell who committed
/// it. `renameat2(RENAME_NOREPLACE)` fails with EEXIST instead. File systems
/// without it get a hard link (which also fails with EEXIST) followed by the
/// unlink of the data name; a crash between the two leaves a data file with two
/// names, which `ingest::is_shared_inode` detects on resume.
pub(crate) fn publish(data: &Path, blob: &Path) -> Result<Published> {
    match renameat_with(CWD, data, CWD, blob, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(Published::Moved),
        Err(Errno::EXIST) => Ok(Published::AlreadyThere),
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => publish_by_link(data, blob),
        Err(errno) => Err(Error::io(
            &format!("rename {} to", data.display()),
            blob,
            errno.into(),
        )),
    }
}

/// The fallback: link, then unlink the data name.
pub(crate) fn publish_by_link(data: &Path, blob: &Path) -> Result<Published> {
    match fs::hard_link(data, blob) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Ok(Published::AlreadyThere);
        }
        Err(e) => return Err(Error::io(&format!("link {} to", data.display()), blob, e)),
    }
    fs::remove_file(data).map_err(|e| Error::io("remove", data, e))?;
    Ok(Published::Moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_replaces_an_existing_blob_either_way() {
        let dir = tempfile::tempdir().unwrap();
        for (name, step) in [
            ("rename", publish as fn(&Path, &Path) -> Result<Published>),
            ("link", publish_by_link),
        ] {
            let data = dir.path().join(format!("{name}-data"));
            let blob = dir.path().join(format!("{name}-blob"));
            fs::write(&data, b"first").unwrap();
            assert_eq!(step(&data, &blob).unwrap(), Published::Moved);
            assert!(!data.exists(), "{name}: the data name is gone");
            fs::write(&data, b"second").unwrap();
            assert_eq!(step(&data, &blob).unwrap(), Published::AlreadyThere);
            assert_eq!(fs::read(&blob).unwrap(), b"first", "{name}");
            assert!(data.exists(), "{name}: data left for the caller");
        }
    }
}
