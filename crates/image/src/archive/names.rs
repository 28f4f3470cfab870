//! Image names in archives: the OCI `ref.name` (a tag), Docker's familiar
//! `RepoTags` (`alpine:latest`) and their fully qualified form
//! (`docker.io/library/alpine:latest`).

/// A reference split into repository (with its registry, if any), tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    pub repository: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Splits `reference` at `@` (digest) and at the last `:` after the last `/` (tag).
pub(crate) fn split(reference: &str) -> Parts<'_> {
    let (rest, digest) = match reference.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (reference, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    Parts {
        repository,
        tag,
        digest,
    }
}

/// True when `reference` is a full reference (`repo:tag`, `host/repo`, `repo@digest`)
/// rather than a bare tag such as `1.0` or `latest`.
pub(crate) fn is_full_reference(reference: &str) -> bool {
    reference.contains(['/', ':', '@'])
}

/// The OCI `org.opencontainers.image.ref.name` for an image name: the tag
/// (`1.0` for `example.com/app:1.0`), as containerd writes it; `tag@digest`
/// or `@digest` for digested names; the name itself when it has neither.
pub(crate) fn oci_ref_name(name: &str) -> String {
    let parts = split(name);
    match (parts.tag, parts.digest) {
        (Some(tag), Some(digest)) => format!("{tag}@{digest}"),
        (Some(tag), None) => tag.to_string(),
        (None, Some(digest)) => format!("@{digest}"),
        (None, None) => name.to_string(),
    }
}

/// The first path component is a registry if it looks like a host.
fn registry_of(repository: &str) -> Option<&str> {
    let (first, _) = repository.split_once('/')?;
    (first.contains(['.', ':'])
        || first == "localhost"
        || first.chars().any(|c| c.is_ascii_uppercase()))
    .then_some(first)
}

/// Docker's fully qualified form: `alpine` -> `docker.io/library/alpine:latest`,
/// `me/app:1` -> `docker.io/me/app:1`; other registries are left alone. A
/// name with neither tag nor digest gets `:latest`.
pub(crate) fn normalize_docker(reference: &str) -> String {
    let parts = split(reference);
    let repository = match registry_of(parts.repository) {
        Some(_) => parts.repository.to_string(),
        None if parts.repository.contains('/') => format!("docker.io/{}", parts.repository),
        None => format!("docker.io/library/{}", parts.repository),
    };
    let mut out = repository;
    match (parts.tag, parts.digest) {
        (None, None) => out.push_str(":latest"),
        (tag, digest) => {
            if let Some(tag) = tag {
                out.push(':');
                out.push_str(tag);
            }
            if let Some(digest) = digest {
                out.push('@');
                out.push_str(digest);
            }
        }
    }
    out
}

/// Docker's familiar form for `RepoTags`: `docker.io/library/alpine:latest`
/// -> `alpine:latest`, `docker.io/me/app` -> `me/app:latest`. `None` for a
/// name pinned by digest alone, which `RepoTags` cannot hold.
pub(crate) fn familiar_tag(reference: &str) -> Option<String> {
    let parts = split(reference);
    if parts.tag.is_none() && parts.digest.is_some() {
        return None;
    }
    let repository = parts
        .repository
        .strip_prefix("docker.io/")
        .map(|r| {
            r.strip_prefix("library/")
                .filter(|r| !r.contains('/'))
                .unwrap_or(r)
        })
        .unwrap_or(parts.repository);
    Some(format!("{repository}:{}", parts.tag.unwrap_or("latest")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_registry_ports_tags_and_digests() {
        assert_eq!(
            split("localhost:5000/app:1.0@sha256:ab"),
            Parts {
                repository: "localhost:5000/app",
                tag: Some("1.0"),
                digest: Some("sha256:ab")
            }
        );
        assert_eq!(
            split("localhost:5000/app"),
            Parts {
                repository: "localhost:5000/app",
                tag: None,
                digest: None
            }
        );
    }

    #[test]
    fn oci_ref_name_is_the_tag() {
        assert_eq!(oci_ref_name("example.com/app:1.0"), "1.0");
        assert_eq!(oci_ref_name("example.com/app@sha256:ab"), "@sha256:ab");
        assert_eq!(oci_ref_name("example.com/app"), "example.com/app");
    }

    #[test]
    fn docker_names_round_trip() {
        assert_eq!(
            normalize_docker("alpine"),
            "docker.io/library/alpine:latest"
        );
        assert_eq!(normalize_docker("alpine:3"), "docker.io/library/alpine:3");
        assert_eq!(normalize_docker("me/app:1"), "docker.io/me/app:1");
        assert_eq!(normalize_docker("example.com/app:1"), "example.com/app:1");
        assert_eq!(
            normalize_docker("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(
            familiar_tag("docker.io/library/alpine:3").as_deref(),
            Some("alpine:3")
        );
        assert_eq!(
            familiar_tag("docker.io/me/app").as_deref(),
            Some("me/app:latest")
        );
        assert_eq!(
            familiar_tag("example.com/app:1.0").as_deref(),
            Some("example.com/app:1.0")
        );
        assert_eq!(familiar_tag("example.com/app@sha256:ab"), None);
        assert!(is_full_reference("app:1") && !is_full_reference("1.0"));
    }
}
