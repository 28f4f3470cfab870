//! Image references: parsed by `oci-spec`'s port of Docker's reference
//! grammar, normalized the way Docker does (`alpine` is
//! `docker.io/library/alpine:latest`), and wrapped so that an invalid one is
//! reported with the input quoted and the reason spelled out.

use std::fmt;
use std::str::FromStr;

use hoist_content::Digest;

use crate::error::{Error, ErrorKind, Result};

/// Docker Hub's name in references.
pub const DOCKER_HUB: &str = "docker.io";
/// Where Docker Hub's registry API is served.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";

/// A normalized image reference: registry, repository, and a tag, a digest,
/// or both.
///
/// ```
/// use hoist_remote::Reference;
///
/// let r: Reference = "alpine".parse()?;
/// assert_eq!(r.to_string(), "docker.io/library/alpine:latest");
/// let r: Reference = "localhost:5000/team/app:v1".parse()?;
/// assert_eq!((r.registry(), r.repository(), r.tag()), ("localhost:5000", "team/app", Some("v1")));
/// assert!("Alpine".parse::<Reference>().unwrap_err().to_string().contains("lowercase"));
/// # Ok::<(), hoist_remote::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// The registry as written in references (`docker.io`, `host:port`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path, e.g. `library/alpine`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if any (`latest` when neither tag nor digest was given).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if the reference pins one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The repository this reference points into.
    pub fn repo(&self) -> Repository {
        Repository {
            registry: self.registry.clone(),
            name: self.repository.clone(),
        }
    }

    /// The same repository and tag, pinned to `digest`.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The same repository with `tag` and no digest.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if `tag` is not a valid tag.
    pub fn with_tag(&self, tag: &str) -> Result<Reference> {
        format!("{}/{}:{tag}", self.registry, self.repository).parse()
    }

    /// What to ask the registry for in `/v2/<name>/manifests/<this>`: the
    /// digest when pinned (it wins over a tag), else the tag.
    pub fn manifest_selector(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest.to_string(),
            (None, Some(tag)) => tag.clone(),
            (None, None) => "latest".to_owned(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(input: &str) -> Result<Reference> {
        let invalid = |why: String| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("invalid reference {input:?}: {why}"),
            )
        };
        if input.is_empty() {
            return Err(invalid("it is empty".to_owned()));
        }
        let parsed = oci_spec::distribution::Reference::from_str(input)
            .map_err(|e| invalid(explain(input, &e)))?;
        let digest = parsed
            .digest()
            .map(|d| d.parse::<Digest>())
            .transpose()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Reference {
            registry: parsed.registry().to_owned(),
            repository: parsed.repository().to_owned(),
            tag: parsed.tag().map(str::to_owned),
            digest,
        })
    }
}

impl TryFrom<&str> for Reference {
    type Error = Error;

    fn try_from(value: &str) -> Result<Reference> {
        value.parse()
    }
}

/// Turns the parser's terse verdict into a reason a user can act on.
fn explain(input: &str, error: &oci_spec::distribution::ParseError) -> String {
    use oci_spec::distribution::ParseError as P;
    const GRAMMAR: &str = "expected [host[:port]/]name[:tag][@algorithm:hex], where name \
                           components are lowercase letters and digits separated by '.', '_', '__' or '-'";
    match error {
        P::NameContainsUppercase => "repository names must be lowercase".to_owned(),
        P::NameEmpty => "the repository name is empty".to_owned(),
        P::NameTooLong => "the repository name is longer than 255 characters".to_owned(),
        P::DigestInvalidFormat => "the digest is not of the form algorithm:hex".to_owned(),
        P::DigestInvalidLength => "the digest's hex part has the wrong length".to_owned(),
        P::DigestUnsupported => "the digest's algorithm is not sha256, sha384 or sha512".to_owned(),
        P::TagInvalidFormat => tag_rule().to_owned(),
        P::ReferenceInvalidFormat => {
            if input.chars().any(char::is_whitespace) {
                return "it contains whitespace".to_owned();
            }
            let (name_and_tag, digest) = match input.split_once('@') {
                Some((before, after)) => (before, Some(after)),
                None => (input, None),
            };
            if digest == Some("") {
                return "the digest after '@' is empty".to_owned();
            }
            if let Some(Err(e)) = digest.map(str::parse::<Digest>) {
                return e.to_string();
            }
            if name_and_tag.is_empty() {
                return "the repository name is empty".to_owned();
            }
            let last_component = name_and_tag.rsplit('/').next().unwrap_or(name_and_tag);
            if let Some((_, tag)) = last_component.split_once(':') {
                if tag.is_empty() {
                    return "the tag after ':' is empty".to_owned();
                }
                if !valid_tag(tag) {
                    return format!("tag {tag:?} is invalid: {}", tag_rule());
                }
            }
            if name_and_tag.starts_with('/')
                || name_and_tag.ends_with('/')
                || name_and_tag.contains("//")
            {
                return "a path component of the name is empty".to_owned();
            }
            if oci_spec::distribution::Reference::from_str(&input.to_lowercase()).is_ok() {
                return "repository names must be lowercase".to_owned();
            }
            GRAMMAR.to_owned()
        }
    }
}

fn tag_rule() -> &'static str {
    "a tag is 1 to 128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'"
}

fn valid_tag(tag: &str) -> bool {
    tag.len() <= 128
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A repository on a registry: `host[:port]` and a path such as `team/app`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repository {
    registry: String,
    name: String,
}

impl Repository {
    /// Validates and builds a repository.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if the name is not a valid repository
    /// path on that registry.
    pub fn new(registry: &str, name: &str) -> Result<Repository> {
        let reference: Reference = format!("{registry}/{name}").parse()?;
        if reference.registry() != registry || reference.repository() != name {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "invalid repository {name:?} on {registry:?}: it normalizes to {}",
                    reference.repo()
                ),
            ));
        }
        Ok(reference.repo())
    }

    /// The registry (`docker.io`, `host:port`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The path, e.g. `library/alpine`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A reference to `tag` in this repository.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if `tag` is not a valid tag.
    pub fn tagged(&self, tag: &str) -> Result<Reference> {
        format!("{self}:{tag}").parse()
    }

    /// A reference to `digest` in this repository.
    pub fn pinned(&self, digest: Digest) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.name.clone(),
            tag: None,
            digest: Some(digest),
        }
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.name)
    }
}

impl fmt::Debug for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Repository({self})")
    }
}

impl FromStr for Repository {
    type Err = Error;

    /// Parses `host/path` (normalized like a reference, without tag or digest).
    fn from_str(input: &str) -> Result<Repository> {
        let reference: Reference = input.parse()?;
        if input.contains('@')
            || input
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':'))
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("invalid repository {input:?}: a repository has no tag or digest"),
            ));
        }
        Ok(reference.repo())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn parse(s: &str) -> Reference {
        s.parse().unwrap()
    }

    fn reason(s: &str) -> String {
        let error = s.parse::<Reference>().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        let text = error.to_string();
        assert!(
            text.contains(&format!("{s:?}")),
            "{text} does not quote {s:?}"
        );
        text
    }

    #[test]
    fn short_names_normalize_to_docker_hub_library() {
        assert_eq!(
            parse("alpine").to_string(),
            "docker.io/library/alpine:latest"
        );
        assert_eq!(
            parse("alpine:3.20").to_string(),
            "docker.io/library/alpine:3.20"
        );
        assert_eq!(parse("user/app").to_string(), "docker.io/user/app:latest");
        assert_eq!(
            parse("index.docker.io/library/alpine").to_string(),
            "docker.io/library/alpine:latest"
        );
    }

    #[test]
    fn host_and_port_are_the_registry() {
        let r = parse("127.0.0.1:5000/team/app:v1");
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "team/app");
        assert_eq!(r.tag(), Some("v1"));
        assert_eq!(parse("localhost/app").registry(), "localhost");
        assert_eq!(
            parse("registry.example.com/app").registry(),
            "registry.example.com"
        );
        // Without a dot, a colon or "localhost", the first component is a path.
        assert_eq!(parse("team/app").registry(), "docker.io");
    }

    #[test]
    fn digests_pin_and_win_over_tags() {
        let r = parse(&format!("localhost:5000/app:v1@sha256:{HEX}"));
        assert_eq!(r.tag(), Some("v1"));
        assert_eq!(r.digest().unwrap().hex(), HEX);
        assert_eq!(r.manifest_selector(), format!("sha256:{HEX}"));
        assert_eq!(r.to_string(), format!("localhost:5000/app:v1@sha256:{HEX}"));
        let by_digest = parse(&format!("app@sha256:{HEX}"));
        assert_eq!(by_digest.tag(), None);
        assert_eq!(
            by_digest.to_string(),
            format!("docker.io/library/app@sha256:{HEX}")
        );
    }

    #[test]
    fn invalid_references_say_why() {
        assert!(reason("").contains("empty"));
        assert!(reason("Alpine").contains("lowercase"));
        assert!(reason("localhost:5000/Team/app").contains("lowercase"));
        assert!(reason("alpine:").contains("tag after ':' is empty"));
        assert!(reason("alpine:-x").contains("tag \"-x\" is invalid"));
        assert!(reason("alpine@").contains("digest after '@' is empty"));
        assert!(reason("alp ine").contains("whitespace"));
        assert!(reason("a//b").contains("path component"));
        assert!(reason("alpine@sha256:abc").contains("64 hex characters"));
        assert!(reason("alpine@md5:abc").contains("algorithm"));
        let upper = format!("alpine@sha256:{}", HEX.to_uppercase());
        assert!(reason(&upper).contains("digest"));
    }

    #[test]
    fn repositories_parse_and_refuse_tags() {
        let repo: Repository = "127.0.0.1:5000/team/app".parse().unwrap();
        assert_eq!(
            (repo.registry(), repo.name()),
            ("127.0.0.1:5000", "team/app")
        );
        assert_eq!(repo.to_string(), "127.0.0.1:5000/team/app");
        assert!("127.0.0.1:5000/team/app:v1".parse::<Repository>().is_err());
        assert!(Repository::new("docker.io", "alpine").is_err());
        assert_eq!(
            Repository::new("docker.io", "library/alpine")
                .unwrap()
                .to_string(),
            "docker.io/library/alpine"
        );
        assert_eq!(
            repo.tagged("v2").unwrap().to_string(),
            "127.0.0.1:5000/team/app:v2"
        );
    }
}
