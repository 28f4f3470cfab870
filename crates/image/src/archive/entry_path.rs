//! Safety of archive entry names and link targets: no absolute paths, no
//! `..`, no link that points outside the archive.

use crate::error::{Error, ErrorKind, Result};

/// The clean relative form of an entry name (`./blobs//sha256/x` ->
/// `blobs/sha256/x`); `None` for the archive's root (`./`).
///
/// # Errors
/// Invalid-argument for an absolute name, a `..` component, a NUL byte or a
/// name that is not UTF-8.
pub(crate) fn clean(raw: &[u8]) -> Result<Option<String>> {
    let name = std::str::from_utf8(raw).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "archive entry {:?} has a name that is not UTF-8",
                String::from_utf8_lossy(raw)
            ),
        )
    })?;
    if name.contains('\0') {
        return Err(bad(name, "contains a NUL byte"));
    }
    if name.starts_with('/') {
        return Err(bad(name, "is an absolute path"));
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(bad(name, "climbs out with `..`")),
            part => parts.push(part),
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// Where a symbolic link at `entry` pointing at `target` leads, as a clean
/// archive path; `..` is allowed as long as it stays inside the archive.
///
/// # Errors
/// Invalid-argument for an absolute target or one that leaves the archive.
pub(crate) fn symlink_target(entry: &str, target: &[u8]) -> Result<String> {
    let target_str = String::from_utf8_lossy(target);
    if target_str.starts_with('/') {
        return Err(leaves(entry, &target_str, "is absolute"));
    }
    let mut parts: Vec<&str> = entry.split('/').collect();
    parts.pop();
    walk(&mut parts, &target_str)
        .ok_or_else(|| leaves(entry, &target_str, "leaves the archive"))?;
    if parts.is_empty() {
        return Err(leaves(entry, &target_str, "points at the archive's root"));
    }
    Ok(parts.join("/"))
}

/// Where a hard link at `entry` naming `target` (relative to the archive's
/// root) leads, as a clean archive path.
///
/// # Errors
/// Invalid-argument for an absolute target or one that leaves the archive.
pub(crate) fn hardlink_target(entry: &str, target: &[u8]) -> Result<String> {
    let target_str = String::from_utf8_lossy(target);
    if target_str.starts_with('/') {
        return Err(leaves(entry, &target_str, "is absolute"));
    }
    let mut parts = Vec::new();
    walk(&mut parts, &target_str)
        .ok_or_else(|| leaves(entry, &target_str, "leaves the archive"))?;
    if parts.is_empty() {
        return Err(leaves(entry, &target_str, "points at the archive's root"));
    }
    Ok(parts.join("/"))
}

/// Applies `relative` to the directory `parts`; `None` if `..` climbs above the root.
fn walk<'a>(parts: &mut Vec<&'a str>, relative: &'a str) -> Option<()> {
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(())
}

fn bad(name: &str, why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!("archive entry {name:?} {why}; refusing the archive"),
    )
}

fn leaves(entry: &str, target: &str, why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!("archive entry {entry:?} links to {target:?}, which {why}; refusing the archive"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned() {
        assert_eq!(
            clean(b"./blobs//sha256/x").unwrap().as_deref(),
            Some("blobs/sha256/x")
        );
        assert_eq!(clean(b"./").unwrap(), None);
        assert_eq!(clean(b"index.json").unwrap().as_deref(), Some("index.json"));
    }

    #[test]
    fn traversal_and_absolute_names_are_refused() {
        for name in [
            &b"../etc/passwd"[..],
            b"/etc/passwd",
            b"blobs/../../x",
            b"a\0b",
            b"\xff",
        ] {
            let error = clean(name).unwrap_err();
            assert!(error.is_invalid_argument(), "{error}");
        }
        assert_eq!(
            clean(b"../etc/passwd").unwrap_err().to_string(),
            "archive entry \"../etc/passwd\" climbs out with `..`; refusing the archive"
        );
    }

    #[test]
    fn links_must_stay_inside() {
        assert_eq!(
            symlink_target("abc/layer.tar", b"../def/layer.tar").unwrap(),
            "def/layer.tar"
        );
        assert_eq!(
            hardlink_target("x", b"./def/layer.tar").unwrap(),
            "def/layer.tar"
        );
        assert!(symlink_target("abc/layer.tar", b"../../etc/passwd").is_err());
        assert!(symlink_target("abc/layer.tar", b"/etc/passwd").is_err());
        assert!(hardlink_target("x", b"../x").is_err());
        assert_eq!(
            symlink_target("layer.tar", b"../../etc/shadow")
                .unwrap_err()
                .to_string(),
            "archive entry \"layer.tar\" links to \"../../etc/shadow\", which leaves the archive; refusing the archive"
        );
    }
}
