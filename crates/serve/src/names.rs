//! How the names clients ask for map onto the names a store holds.
//!
//! A store names images by full reference, registry host included:
//! `docker.io/library/alpine:3.20`, `registry.example:5000/team/app:v1`.
//! A client of a registry names a repository path without a host:
//! `/v2/library/alpine/manifests/3.20`. The mapping:
//!
//! - A stored image `host/path:tag` is served as repository `path`, tag `tag`.
//! - With `?ns=host` (containerd adds it when it pulls through a mirror
//!   configured in `hosts.toml`), only images stored under that `host` are
//!   seen: `/v2/library/alpine/manifests/3.20?ns=docker.io` finds
//!   `docker.io/library/alpine:3.20`. This makes one `hoist serve` a mirror
//!   for every registry its store has pulled from.
//! - Without `ns`, when several hosts hold the same path (say
//!   `docker.io/library/alpine` and `mirror.example/library/alpine`), the
//!   host that sorts first bytewise is chosen, and that whole repository is
//!   served (its tags only, never a mix of both). `ns` picks another.
//! - A name stored with a digest and no tag is served by digest only.
//! - A manifest by digest is served when the repository's images reach it
//!   (their target, or a manifest an index among them lists, to any depth
//!   hoist allows). A blob by digest is served when the namespace's
//!   content holds it and the repository exists: blobs are not checked
//!   against the repository's manifests (the store's namespace is the unit
//!   of access, not the repository).
//! - The catalog lists every repository path once, sorted; with `ns`, only
//!   that host's.

use std::collections::BTreeMap;

use hoist::oci::Descriptor;
use hoist::remote::Reference;

/// The longest repository name the distribution spec lets a registry refuse
/// beyond (255 bytes).
pub const MAX_NAME_LENGTH: usize = 255;

/// Whether `name` matches the distribution spec's repository grammar:
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
pub fn is_valid_repository(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LENGTH
        && name.split('/').all(is_valid_path_component)
}

fn is_valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    // Between alphanumeric runs: one '.', one or two '_', or any '-'s.
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let allowed = separator == "."
            || separator == "_"
            || separator == "__"
            || separator.bytes().all(|b| b == b'-');
        if !allowed {
            return false;
        }
    }
    true
}

/// Whether `tag` matches `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    match bytes.split_first() {
        Some((&first, rest)) => {
            word(first)
                && rest.len() <= 127
                && rest.iter().all(|&b| word(b) || b == b'.' || b == b'-')
        }
        None => false,
    }
}

/// Whether `host` looks like a registry host (`name[:port]`, DNS
/// characters only); `ns` values are compared, never used as paths.
pub fn is_valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= MAX_NAME_LENGTH
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':')
}

/// One stored image as served: its host, repository path, tag (if any) and
/// target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The registry host of the stored name.
    pub host: String,
    /// The repository path, as clients ask for it.
    pub repository: String,
    /// The tag, when the stored name has one.
    pub tag: Option<String>,
    /// What the stored name points at.
    pub target: Descriptor,
}

/// Every stored image, by repository path, then host.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    repositories: BTreeMap<String, BTreeMap<String, Vec<Served>>>,
}

impl Catalog {
    /// Builds the catalog from stored `(name, target)` pairs; names that do
    /// not parse as references are left out (they cannot be asked for).
    pub fn new(images: impl IntoIterator<Item = (String, Descriptor)>) -> Catalog {
        let mut catalog = Catalog::default();
        for (name, target) in images {
            let Ok(reference) = name.parse::<Reference>() else {
                continue;
            };
            let served = Served {
                host: reference.registry().to_owned(),
                repository: reference.repository().to_owned(),
                tag: reference.tag().map(str::to_owned),
                target,
            };
            catalog
                .repositories
                .entry(served.repository.clone())
                .or_default()
                .entry(served.host.clone())
                .or_default()
                .push(served);
        }
        catalog
    }

    /// The images of repository `path`: under host `ns` when given, else
    /// under the host that sorts first. `None` when no such repository.
    pub fn repository(&self, path: &str, ns: Option<&str>) -> Option<&[Served]> {
        let hosts = self.repositories.get(path)?;
        let images = match ns {
            Some(host) => hosts.get(host)?,
            None => hosts.values().next()?,
        };
        Some(images.as_slice())
    }

    /// Every repository path (under host `ns` when given), sorted, once each.
    pub fn repository_names(&self, ns: Option<&str>) -> Vec<&str> {
        self.repositories
            .iter()
            .filter(|(_, hosts)| ns.is_none_or(|host| hosts.contains_key(host)))
            .map(|(path, _)| path.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoist::content::Digest;

    fn target(n: u8) -> Descriptor {
        Descriptor::new(
            hoist::oci::media_type::OCI_INDEX,
            Digest::sha256_of(&[n]),
            1,
        )
    }

    #[test]
    fn repository_grammar() {
        for good in [
            "a",
            "library/alpine",
            "a-b",
            "a--b",
            "a__b",
            "a.b/c_d",
            "0/9",
        ] {
            assert!(is_valid_repository(good), "{good}");
        }
        for bad in [
            "", "..", "a/..", "A", "a/", "/a", "a//b", "a..b", "a___b", "a_", "-a", "a.-b",
            "a%2fb", "a b",
        ] {
            assert!(!is_valid_repository(bad), "{bad}");
        }
        assert!(!is_valid_repository(&"a".repeat(256)));
    }

    #[test]
    fn tag_grammar() {
        for good in ["latest", "3.20", "_x", "v1-rc.2"] {
            assert!(is_valid_tag(good), "{good}");
        }
        for bad in ["", ".x", "-x", "a/b", "a:b", "..", &"a".repeat(129)] {
            assert!(!is_valid_tag(bad), "{bad}");
        }
    }

    #[test]
    fn names_map_by_path_and_by_ns() {
        let catalog = Catalog::new([
            ("docker.io/library/alpine:3.20".to_owned(), target(1)),
            ("mirror.example/library/alpine:edge".to_owned(), target(2)),
            ("localhost:5000/team/app:v1".to_owned(), target(3)),
        ]);
        let docker = catalog
            .repository("library/alpine", Some("docker.io"))
            .unwrap();
        assert_eq!(docker[0].tag.as_deref(), Some("3.20"));
        let mirror = catalog
            .repository("library/alpine", Some("mirror.example"))
            .unwrap();
        assert_eq!(mirror[0].tag.as_deref(), Some("edge"));
        // Without ns: the host that sorts first, "docker.io".
        let chosen = catalog.repository("library/alpine", None).unwrap();
        assert_eq!(chosen[0].host, "docker.io");
        assert!(
            catalog
                .repository("library/alpine", Some("quay.io"))
                .is_none()
        );
        assert!(catalog.repository("team/app", None).is_some());
        assert_eq!(
            catalog.repository_names(None),
            vec!["library/alpine", "team/app"]
        );
        assert_eq!(
            catalog.repository_names(Some("localhost:5000")),
            vec!["team/app"]
        );
    }
}
