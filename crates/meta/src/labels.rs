//! The labels garbage collection reads, and label validation.

use std::ops::Bound;
use std::time::SystemTime;

use hoist_content::Labels;

use crate::clock;
use crate::error::{Error, Result};

/// Content carrying this label (any value) is a GC root.
pub const GC_ROOT: &str = "containerd.io/gc.root";

/// Labels named `containerd.io/gc.ref.content`, or that followed by `.` or
/// `/` and anything (`.config`, `.m.0`, `.l.3`), are edges to the digest in
/// their value.
pub const GC_REF_CONTENT: &str = "containerd.io/gc.ref.content";

/// Labels named `containerd.io/gc.bref.content`, or that followed by `.` or
/// `/` and anything (`.subject`), are back references, as in containerd 2:
/// the record carrying one is held while the content named by the value is
/// held. A referrer (an OCI 1.1 manifest with a `subject`) carries
/// `containerd.io/gc.bref.content.subject`, so it lives and dies with its
/// subject without its subject's record ever being rewritten, and may be
/// stored before the subject is.
pub const GC_BREF_CONTENT: &str = "containerd.io/gc.bref.content";

/// An RFC 3339 time after which a lease or an image is no longer a root.
pub const GC_EXPIRE: &str = "containerd.io/gc.expire";

/// A lease carrying this label (any value) pins only what it names, not
/// what those objects reference.
pub const GC_FLAT: &str = "containerd.io/gc.flat";

/// The largest key plus value of one label, as in containerd.
const MAX_LABEL_BYTES: usize = 4096;

/// True when `key` names a content reference (see [`GC_REF_CONTENT`]).
pub fn is_content_ref(key: &str) -> bool {
    match key.strip_prefix(GC_REF_CONTENT) {
        Some("") => true,
        Some(rest) => rest.starts_with('.') || rest.starts_with('/'),
        None => false,
    }
}

/// True when `key` names a content back reference (see [`GC_BREF_CONTENT`]).
pub fn is_content_backref(key: &str) -> bool {
    match key.strip_prefix(GC_BREF_CONTENT) {
        Some("") => true,
        Some(rest) => rest.starts_with('.') || rest.starts_with('/'),
        None => false,
    }
}

/// The values of every content back-reference label: the digests whose
/// being held holds the record carrying `labels`.
pub fn content_backrefs(labels: &Labels) -> impl Iterator<Item = &str> {
    labels
        .range::<str, _>((Bound::Included(GC_BREF_CONTENT), Bound::Unbounded))
        .take_while(|(key, _)| key.starts_with(GC_BREF_CONTENT))
        .filter(|(key, _)| is_content_backref(key))
        .map(|(_, value)| value.as_str())
}

/// The values of every content-reference label: the digests `labels` point at.
pub fn content_refs(labels: &Labels) -> impl Iterator<Item = &str> {
    labels
        .range::<str, _>((Bound::Included(GC_REF_CONTENT), Bound::Unbounded))
        .take_while(|(key, _)| key.starts_with(GC_REF_CONTENT))
        .filter(|(key, _)| is_content_ref(key))
        .map(|(_, value)| value.as_str())
}

/// The expiry in `labels`, if there is one that parses. An unparsable
/// expiry is ignored (logged), as containerd does: the object stays a root.
pub(crate) fn expiry(labels: &Labels, object: &dyn std::fmt::Display) -> Option<SystemTime> {
    let value = labels.get(GC_EXPIRE)?;
    match clock::parse_rfc3339(value) {
        Ok(time) => Some(time),
        Err(error) => {
            tracing::info!("ignoring the expiry of {object}: {error}");
            None
        }
    }
}

/// True when `labels` carry an expiry at or before `now`.
pub(crate) fn is_expired(labels: &Labels, now: SystemTime, object: &dyn std::fmt::Display) -> bool {
    expiry(labels, object).is_some_and(|at| at <= now)
}

/// Rejects empty keys and labels larger than containerd accepts.
pub(crate) fn validate(labels: &Labels) -> Result<()> {
    for (key, value) in labels {
        if key.is_empty() {
            return Err(Error::invalid("label keys must not be empty"));
        }
        if key.len() + value.len() > MAX_LABEL_BYTES {
            return Err(Error::invalid(format!(
                "label {key:?} is {} bytes with its value; at most {MAX_LABEL_BYTES} are allowed",
                key.len() + value.len()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_refs_follow_containerds_naming() {
        let labels: Labels = [
            ("containerd.io/gc.ref.content", "sha256:a"),
            ("containerd.io/gc.ref.content.config", "sha256:b"),
            ("containerd.io/gc.ref.content/x", "sha256:c"),
            ("containerd.io/gc.ref.contentx", "sha256:no"),
            ("containerd.io/gc.ref.snapshot.overlay", "no"),
            ("containerd.io/gc.root", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let refs: Vec<&str> = content_refs(&labels).collect();
        assert_eq!(refs, ["sha256:a", "sha256:b", "sha256:c"]);
    }

    #[test]
    fn expiry_parses_and_compares() {
        let mut labels = Labels::new();
        let now = SystemTime::now();
        assert!(!is_expired(&labels, now, &"x"));
        labels.insert(GC_EXPIRE.into(), "2000-01-01T00:00:00Z".into());
        assert!(is_expired(&labels, now, &"x"));
        labels.insert(GC_EXPIRE.into(), "2999-01-01T00:00:00Z".into());
        assert!(!is_expired(&labels, now, &"x"));
        labels.insert(GC_EXPIRE.into(), "soon".into());
        assert!(!is_expired(&labels, now, &"x"));
    }

    #[test]
    fn oversized_labels_are_rejected() {
        let mut labels = Labels::new();
        labels.insert("k".into(), "v".repeat(5000));
        assert!(validate(&labels).unwrap_err().is_invalid_argument());
        labels.clear();
        labels.insert(String::new(), "v".into());
        assert!(validate(&labels).unwrap_err().is_invalid_argument());
    }
}
