//! The key schema: every key the store writes is built here.
//!
//! One RocksDB key space, ordered bytewise. A key is a table tag and the
//! parts that name the object, each part followed by a NUL byte, so a prefix
//! made of whole parts selects exactly one namespace, one lease or one table
//! (names and references may not contain NUL; namespace names and lease ids
//! are restricted further). Values are JSON documents (`records.rs`).
//!
//! ```text
//! version                                      -> schema version ("1")
//! counter\0gc-deletions\0                      -> deletions since the last GC (decimal)
//! ns\0<ns>\0                                   -> NamespaceRecord
//! image\0<ns>\0<name>\0                        -> ImageRecord
//! blob\0<ns>\0<digest>\0                       -> ContentRecord
//! ingest\0<ns>\0<ref>\0                        -> IngestRecord
//! lease\0<ns>\0<id>\0                          -> LeaseRecord
//! lease-res\0<ns>\0<id>\0content\0<digest>\0   -> "" (the lease holds this blob)
//! lease-res\0<ns>\0<id>\0ingest\0<ref>\0       -> "" (the lease holds this ingest)
//! lease-res\0<ns>\0<id>\0image\0<name>\0       -> "" (the lease holds this image)
//! ```
//!
//! Keep `docs/crates/meta.md` (and `docs/architecture.md`) in step with this
//! table; a change of layout bumps [`SCHEMA_VERSION`] and adds a migration.

use crate::error::{Error, Result};

/// The layout version written under [`VERSION`].
pub(crate) const SCHEMA_VERSION: &str = "1";

/// The key holding the schema version.
pub(crate) const VERSION: &[u8] = b"version";

/// The table tags, the first part of every key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Counter,
    Namespace,
    Image,
    Blob,
    Ingest,
    Lease,
    LeaseResource,
}

impl Table {
    fn tag(self) -> &'static str {
        match self {
            Table::Counter => "counter",
            Table::Namespace => "ns",
            Table::Image => "image",
            Table::Blob => "blob",
            Table::Ingest => "ingest",
            Table::Lease => "lease",
            Table::LeaseResource => "lease-res",
        }
    }
}

/// The kind of object a lease holds, the fourth part of a lease-resource key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResourceKind {
    Content,
    Ingest,
    Image,
}

impl ResourceKind {
    pub(crate) fn tag(self) -> &'static str {
        match self {
            ResourceKind::Content => "content",
            ResourceKind::Ingest => "ingest",
            ResourceKind::Image => "image",
        }
    }

    pub(crate) fn from_tag(tag: &str) -> Option<ResourceKind> {
        match tag {
            "content" => Some(ResourceKind::Content),
            "ingest" => Some(ResourceKind::Ingest),
            "image" => Some(ResourceKind::Image),
            _ => None,
        }
    }
}

/// Builds a key (or a prefix) from a table and whole parts.
pub(crate) fn key(table: Table, parts: &[&str]) -> Vec<u8> {
    let mut key = Vec::with_capacity(16 + parts.iter().map(|p| p.len() + 1).sum::<usize>());
    key.extend_from_slice(table.tag().as_bytes());
    key.push(0);
    for part in parts {
        key.extend_from_slice(part.as_bytes());
        key.push(0);
    }
    key
}

/// Splits a key into its table tag and parts (the inverse of [`key`]).
pub(crate) fn parts(key: &[u8]) -> Result<Vec<&str>> {
    let body = key
        .strip_suffix(&[0])
        .ok_or_else(|| Error::data_loss(format!("malformed metadata key {key:?}")))?;
    body.split(|&b| b == 0)
        .map(|part| {
            std::str::from_utf8(part)
                .map_err(|_| Error::data_loss(format!("metadata key {key:?} is not UTF-8")))
        })
        .collect()
}

/// The last part of a key whose prefix (of whole parts) is known.
pub(crate) fn last_part(key: &[u8]) -> Result<&str> {
    let parts = parts(key)?;
    parts
        .last()
        .copied()
        .ok_or_else(|| Error::data_loss(format!("empty metadata key {key:?}")))
}

/// The counter of deletions since the last garbage collection.
pub(crate) fn gc_deletions() -> Vec<u8> {
    key(Table::Counter, &["gc-deletions"])
}

/// A namespace's record.
pub(crate) fn namespace(ns: &str) -> Vec<u8> {
    key(Table::Namespace, &[ns])
}

/// An image record.
pub(crate) fn image(ns: &str, name: &str) -> Vec<u8> {
    key(Table::Image, &[ns, name])
}

/// A content record.
pub(crate) fn blob(ns: &str, digest: &str) -> Vec<u8> {
    key(Table::Blob, &[ns, digest])
}

/// An ingest record.
pub(crate) fn ingest(ns: &str, reference: &str) -> Vec<u8> {
    key(Table::Ingest, &[ns, reference])
}

/// A lease record.
pub(crate) fn lease(ns: &str, id: &str) -> Vec<u8> {
    key(Table::Lease, &[ns, id])
}

/// One resource held by a lease.
pub(crate) fn lease_resource(ns: &str, id: &str, kind: ResourceKind, name: &str) -> Vec<u8> {
    key(Table::LeaseResource, &[ns, id, kind.tag(), name])
}

/// Every resource held by a lease.
pub(crate) fn lease_resources(ns: &str, id: &str) -> Vec<u8> {
    key(Table::LeaseResource, &[ns, id])
}

/// Rejects a name or reference that cannot be a key part.
pub(crate) fn check_part(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    if value.contains('\0') {
        return Err(Error::invalid(format!(
            "{what} {value:?} must not contain a NUL character"
        )));
    }
    if value.len() > 4096 {
        return Err(Error::invalid(format!(
            "{what} is {} bytes long; at most 4096 are allowed",
            value.len()
        )));
    }
    Ok(())
}

/// Namespace names and lease ids: letters, digits and `.`, `_`, `-`
/// separators, at most 76 characters (containerd's identifiers).
pub(crate) fn check_identifier(what: &str, value: &str) -> Result<()> {
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let starts_and_ends_alphanumeric = value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric());
    if value.is_empty()
        || value.len() > 76
        || !value.chars().all(valid_char)
        || !starts_and_ends_alphanumeric
    {
        return Err(Error::invalid(format!(
            "{what} {value:?} is not valid: use 1 to 76 letters, digits, '.', '_' or '-', \
             starting and ending with a letter or digit"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_prefixes_select_whole_parts() {
        let k = lease_resource("default", "l1", ResourceKind::Content, "sha256:ab");
        assert_eq!(
            parts(&k).unwrap(),
            ["lease-res", "default", "l1", "content", "sha256:ab"]
        );
        assert!(k.starts_with(&lease_resources("default", "l1")));
        // "l1" must not select the resources of "l10".
        let other = lease_resource("default", "l10", ResourceKind::Content, "sha256:ab");
        assert!(!other.starts_with(&lease_resources("default", "l1")));
        assert_eq!(last_part(&image("a", "b/c:d")).unwrap(), "b/c:d");
    }

    #[test]
    fn identifiers_are_checked() {
        assert!(check_identifier("lease id", "pull-1.a_b").is_ok());
        for bad in ["", "-a", "a-", "a b", "a/b", &"x".repeat(77)] {
            assert!(
                check_identifier("lease id", bad)
                    .unwrap_err()
                    .is_invalid_argument()
            );
        }
        assert!(
            check_part("image name", "a\0b")
                .unwrap_err()
                .is_invalid_argument()
        );
        assert!(
            check_part("image name", "")
                .unwrap_err()
                .is_invalid_argument()
        );
    }
}
