//! What a tar entry says about a file besides its content (owner, mode,
//! times, extended attributes), and applying it: as root, the owner itself;
//! rootless, the owner recorded in the `user.rootlesscontainers` extended
//! attribute, the way `umoci unpack --rootless` does.
//!
//! Rootless ownership, the choice and why: an ordinary user cannot give a
//! file away, so every file is owned by the unpacking user. The image's
//! owner is not lost: it is written, for any owner other than root:root,
//! into `user.rootlesscontainers` as the protobuf message
//! `Resource { uint32 uid = 1; uint32 gid = 2; }` of
//! github.com/rootless-containers/proto, with `0xFFFFFFFF` ("no change") for
//! a zero id, byte for byte what umoci writes. umoci repacks from it, and
//! rootless runtimes' tools (PRoot's and runc's rootless helpers) read it.
//! Symlinks carry no `user.*` attribute (Linux refuses them), as with umoci.

use std::os::fd::BorrowedFd;

use rustix::fs::{AtFlags, Gid, Mode, Timespec, Timestamps, Uid, XattrFlags};
use rustix::io::Errno;

/// The attribute umoci and rootless runtimes keep an image's owner in.
pub const ROOTLESS_XATTR: &str = "user.rootlesscontainers";

const PAX_XATTR_PREFIX: &str = "SCHILY.xattr.";

/// An entry's metadata, read from its header and PAX records.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    pub(crate) mtime: Timespec,
    pub(crate) atime: Timespec,
    pub(crate) xattrs: Vec<(String, Vec<u8>)>,
}

impl Meta {
    /// Reads the header and PAX records of `entry`.
    pub(crate) fn of<R: std::io::Read>(entry: &mut tar::Entry<'_, R>) -> std::io::Result<Meta> {
        let header = entry.header();
        let old = header.as_old();
        let mode = lenient(header.mode().map(u64::from), &old.mode)? as u32 & 0o7777;
        let uid = lenient(header.uid(), &old.uid)?;
        let gid = lenient(header.gid(), &old.gid)?;
        let seconds = lenient(header.mtime(), &old.mtime)?;
        let mut mtime = Timespec {
            tv_sec: i64::try_from(seconds).unwrap_or(i64::MAX),
            tv_nsec: 0,
        };
        let mut atime = None;
        let mut xattrs = Vec::new();
        if let Some(extensions) = entry.pax_extensions()? {
            for extension in extensions {
                let extension = extension?;
                let Ok(key) = extension.key() else { continue };
                if let Some(name) = key.strip_prefix(PAX_XATTR_PREFIX) {
                    xattrs.push((name.to_owned(), extension.value_bytes().to_vec()));
                } else if key == "mtime" {
                    if let Some(time) = pax_time(extension.value_bytes()) {
                        mtime = time;
                    }
                } else if key == "atime" {
                    atime = pax_time(extension.value_bytes());
                }
            }
        }
        Ok(Meta {
            mode,
            uid,
            gid,
            mtime,
            atime: atime.unwrap_or(mtime),
            xattrs,
        })
    }

    pub(crate) fn times(&self) -> Timestamps {
        Timestamps {
            last_access: self.atime,
            last_modification: self.mtime,
        }
    }

    pub(crate) fn mode(&self) -> Mode {
        Mode::from_raw_mode(self.mode)
    }

    pub(crate) fn owner(&self) -> (Option<Uid>, Option<Gid>) {
        // Checked when the entry is read: ids above u32::MAX are refused there.
        let uid = u32::try_from(self.uid).unwrap_or(u32::MAX);
        let gid = u32::try_from(self.gid).unwrap_or(u32::MAX);
        (Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))
    }

    /// The value of [`ROOTLESS_XATTR`] for this owner; `None` for root:root.
    pub(crate) fn rootless_payload(&self) -> Option<Vec<u8>> {
        rootless_payload(self.uid, self.gid)
    }
}

/// A numeric header field; one left blank (NULs or spaces) reads as 0, as
/// Go's archive/tar (umoci's reader) reads it.
fn lenient(parsed: std::io::Result<u64>, raw: &[u8]) -> std::io::Result<u64> {
    match parsed {
        Err(_) if raw.iter().all(|&b| b == 0 || b == b' ') => Ok(0),
        other => other,
    }
}

/// umoci's encoding of an owner: protobuf fields 1 (uid) and 2 (gid) as
/// varints, a zero id sent as `0xFFFFFFFF`; nothing at all for root:root.
pub fn rootless_payload(uid: u64, gid: u64) -> Option<Vec<u8>> {
    if uid == 0 && gid == 0 {
        return None;
    }
    let noop = |id: u64| if id == 0 { u64::from(u32::MAX) } else { id };
    let mut out = Vec::with_capacity(12);
    out.push(0x08);
    varint(noop(uid), &mut out);
    out.push(0x10);
    varint(noop(gid), &mut out);
    Some(out)
}

fn varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A PAX time: decimal seconds, optionally with a fraction.
fn pax_time(value: &[u8]) -> Option<Timespec> {
    let text = std::str::from_utf8(value).ok()?;
    let (seconds, fraction) = text.split_once('.').unwrap_or((text, ""));
    let tv_sec: i64 = seconds.parse().ok()?;
    let digits: String = fraction.chars().take(9).collect();
    let tv_nsec = if digits.is_empty() {
        0
    } else {
        let scale = 10_i64.pow(9 - digits.len() as u32);
        digits.parse::<i64>().ok()? * scale
    };
    // A negative time with a fraction counts the fraction towards zero.
    let tv_nsec = if tv_sec < 0 && tv_nsec > 0 {
        -tv_nsec
    } else {
        tv_nsec
    };
    if tv_nsec < 0 {
        return Some(Timespec {
            tv_sec: tv_sec - 1,
            tv_nsec: 1_000_000_000 + tv_nsec,
        });
    }
    Some(Timespec { tv_sec, tv_nsec })
}

/// Why an attribute could not be set, when that is allowed to happen.
pub(crate) fn xattr_skippable(errno: Errno, rootless: bool) -> bool {
    // The file system keeps no (such) attributes; or, rootless, the
    // attribute needs privilege (`security.capability`, `trusted.*`).
    errno == Errno::NOTSUP || errno == Errno::OPNOTSUPP || (rootless && errno == Errno::PERM)
}

/// Sets `name` on the open file `fd`.
pub(crate) fn set_xattr(fd: BorrowedFd<'_>, name: &str, value: &[u8]) -> rustix::io::Result<()> {
    rustix::fs::fsetxattr(fd, name, value, XattrFlags::empty())
}

/// Removes `name` from the open file `fd`; absent is fine.
pub(crate) fn remove_xattr(fd: BorrowedFd<'_>, name: &str) -> rustix::io::Result<()> {
    match rustix::fs::fremovexattr(fd, name) {
        Err(Errno::NODATA) => Ok(()),
        other => other,
    }
}

/// Owner (as root), mode and times of `name` in `dir`, which is not opened
/// (a symlink or a device node); nothing is followed.
pub(crate) fn apply_at(
    dir: BorrowedFd<'_>,
    name: &[u8],
    meta: &Meta,
    chown: bool,
    is_symlink: bool,
) -> rustix::io::Result<()> {
    if chown {
        let (uid, gid) = meta.owner();
        rustix::fs::chownat(dir, name, uid, gid, AtFlags::SYMLINK_NOFOLLOW)?;
    }
    if !is_symlink {
        // After the owner: changing the owner clears set-id bits.
        rustix::fs::chmodat(dir, name, meta.mode(), AtFlags::empty())?;
    }
    rustix::fs::utimensat(dir, name, &meta.times(), AtFlags::SYMLINK_NOFOLLOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rootless_payload_is_umocis() {
        // Read back from `umoci unpack --rootless` of a file owned 1000:5 and 1000:1000.
        assert_eq!(rootless_payload(1000, 5).unwrap(), b"\x08\xe8\x07\x10\x05");
        assert_eq!(
            rootless_payload(1000, 1000).unwrap(),
            b"\x08\xe8\x07\x10\xe8\x07"
        );
        assert_eq!(
            rootless_payload(0, 7).unwrap(),
            b"\x08\xff\xff\xff\xff\x0f\x10\x07"
        );
        assert_eq!(rootless_payload(0, 0), None);
    }

    #[test]
    fn pax_times_keep_their_fraction() {
        let t = pax_time(b"1700000000.25").unwrap();
        assert_eq!((t.tv_sec, t.tv_nsec), (1_700_000_000, 250_000_000));
        let t = pax_time(b"12").unwrap();
        assert_eq!((t.tv_sec, t.tv_nsec), (12, 0));
        let t = pax_time(b"-1.5").unwrap();
        assert_eq!((t.tv_sec, t.tv_nsec), (-2, 500_000_000));
        assert!(pax_time(b"x").is_none());
    }
}
