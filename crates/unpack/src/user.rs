//! The image's `User` as numbers, read against the unpacked tree's
//! `/etc/passwd` and `/etc/group` the way runc's (and umoci's) `GetExecUser`
//! does: a name or number, optionally `:group`; a name absent from the
//! files is an error, a number absent from them is taken as it is; a user
//! found by name or number brings its home and, with no group given, its
//! supplementary groups.

use crate::error::{Error, ErrorKind, Result};

/// The user a bundle's process runs as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecUser {
    /// The user id.
    pub uid: u32,
    /// The group id.
    pub gid: u32,
    /// Supplementary groups (user named without a group only).
    pub additional_gids: Vec<u32>,
    /// The home directory from `/etc/passwd`, when the user is listed there.
    pub home: Option<String>,
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

fn passwd_entries(text: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    text.lines().filter_map(|line| {
        let line = line.trim();
        if line.is_empty() {
            return None;
        }
        let fields: Vec<&str> = line.split(':').collect();
        Some(PasswdEntry {
            name: fields.first().copied().unwrap_or(""),
            uid: fields.get(2).and_then(|f| f.parse().ok()).unwrap_or(0),
            gid: fields.get(3).and_then(|f| f.parse().ok()).unwrap_or(0),
            home: fields.get(5).copied().unwrap_or(""),
        })
    })
}

fn group_entries(text: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    text.lines().filter_map(|line| {
        let line = line.trim();
        if line.is_empty() {
            return None;
        }
        let fields: Vec<&str> = line.split(':').collect();
        Some(GroupEntry {
            name: fields.first().copied().unwrap_or(""),
            gid: fields.get(2).and_then(|f| f.parse().ok()).unwrap_or(0),
            members: fields
                .get(3)
                .map(|m| m.split(',').filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
        })
    })
}

/// Resolves `spec` (the config's `User`) against the image's files (absent
/// files read as `None`).
///
/// # Errors
/// Invalid argument for a user or group name the files do not list.
pub fn resolve_user(spec: &str, passwd: Option<&str>, group: Option<&str>) -> Result<ExecUser> {
    let (user_arg, group_arg) = spec.split_once(':').unwrap_or((spec, ""));
    let uid_arg: Option<u32> = user_arg.parse().ok();
    let gid_arg: Option<u32> = group_arg.parse().ok();
    let mut user = ExecUser::default();
    let found = passwd.and_then(|text| {
        passwd_entries(text).find(|entry| {
            if user_arg.is_empty() {
                entry.uid == 0
            } else if let Some(uid) = uid_arg {
                entry.uid == uid
            } else {
                entry.name == user_arg
            }
        })
    });
    let mut matched_name = None;
    match (&found, uid_arg) {
        (Some(entry), _) => {
            matched_name = Some(entry.name.to_owned());
            user.uid = entry.uid;
            user.gid = entry.gid;
            user.home = Some(entry.home.to_owned());
        }
        (None, Some(uid)) => user.uid = uid,
        (None, None) if user_arg.is_empty() => {}
        (None, None) => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("the image's user {user_arg:?} is not in its /etc/passwd"),
            ));
        }
    }
    if group_arg.is_empty() {
        if let (Some(name), Some(text)) = (&matched_name, group) {
            user.additional_gids = group_entries(text)
                .filter(|g| g.members.iter().any(|m| m == name))
                .map(|g| g.gid)
                .collect();
        }
        return Ok(user);
    }
    let found = group.and_then(|text| {
        group_entries(text).find(|entry| match gid_arg {
            Some(gid) => entry.gid == gid,
            None => entry.name == group_arg,
        })
    });
    match (found, gid_arg) {
        (Some(entry), _) => user.gid = entry.gid,
        (None, Some(gid)) => user.gid = gid,
        (None, None) => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("the image's group {group_arg:?} is not in its /etc/group"),
            ));
        }
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n";
    const GROUP: &str = "root:x:0:\napp:x:1000:\nextra:x:2000:app\n";

    #[test]
    fn names_numbers_and_groups_resolve_like_runc() {
        let app = resolve_user("app", Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!(
            (app.uid, app.gid, app.additional_gids.as_slice()),
            (1000, 1000, &[2000][..])
        );
        assert_eq!(app.home.as_deref(), Some("/home/app"));
        let root = resolve_user("", Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!(
            (root.uid, root.gid, root.home.as_deref()),
            (0, 0, Some("/root"))
        );
        let numeric = resolve_user("4242:extra", Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!((numeric.uid, numeric.gid, numeric.home), (4242, 2000, None));
        let bare = resolve_user("7:8", None, None).unwrap();
        assert_eq!((bare.uid, bare.gid), (7, 8));
        let error = resolve_user("nobody", Some(PASSWD), Some(GROUP)).unwrap_err();
        assert!(error.to_string().contains("\"nobody\""), "{error}");
        assert!(resolve_user("app:nogroup", Some(PASSWD), Some(GROUP)).is_err());
    }
}
