//! Image references: parsed by `oci-spec`'s port of Docker's reference
//! grammar, normalized the way Docker does (`alpine` is
//! `docker.io/library/alpine:latest`), and wrapped so that an invalid one is
//! reported with the input quoted and the reason spelled out. Ordinary ASCII
//! references take a hand-written fast path that agrees with `oci-spec` (see
//! `parse_fast`), sparing each process the compile of `oci-spec`'s regex.

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
        let reference = parse_fast(input).map_or_else(|| parse_slow(input), Ok)?;
        // oci-spec lets an uppercase first part through when it does not
        // look like a host (`Foo/bar` becomes `docker.io/Foo/bar`); Docker
        // and registries refuse such a repository, and so does hoist.
        if reference.repository.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("invalid reference {input:?}: repository names must be lowercase"),
            ));
        }
        Ok(reference)
    }
}

/// Parses with `oci-spec`, the authority on what a reference is, and
/// explains a rejection. Its first call compiles `oci-spec`'s reference
/// regex (a large, Unicode-aware pattern): about 50 ms in a release build,
/// paid once per process, which is why [`parse_fast`] is tried first.
fn parse_slow(input: &str) -> Result<Reference> {
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
    // oci-spec's `\w` lets any Unicode letter into a tag; the distribution
    // grammar (and Docker, and every registry) means ASCII only.
    if let Some(tag) = parsed.tag()
        && !tag.is_ascii()
    {
        return Err(invalid(format!(
            "tag {tag:?} may contain only ASCII letters, digits, '_', '.' and '-'"
        )));
    }
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

/// A hand-written parser for the common, unambiguous case, so that a process
/// handling ordinary references never compiles `oci-spec`'s regex (see
/// [`parse_slow`]). It is an accelerator, not a second grammar: it returns
/// `Some` only for input `oci-spec` accepts, with the very registry,
/// repository, tag and digest [`parse_slow`] would produce, and `None` for
/// anything else — non-ASCII input, anything invalid, anything it is unsure
/// of — leaving the verdict and the error message to [`parse_slow`]. The
/// rules below transcribe `oci-spec` 0.10's `REFERENCE_REGEXP`, `try_from`
/// and `split_domain` for ASCII input; the `fast_path_*` property tests check
/// the two paths agree.
fn parse_fast(input: &str) -> Option<Reference> {
    // `\w` in the tag is Unicode-aware in oci-spec's regex; rather than
    // mirror Unicode's word class, leave all non-ASCII input to oci-spec.
    if !input.is_ascii() {
        return None;
    }
    // Neither name nor tag can contain '@', and the digest cannot either, so
    // the first '@' is the only possible start of the digest.
    let (name_and_tag, digest) = match input.split_once('@') {
        Some((before, after)) => (before, Some(after)),
        None => (input, None),
    };
    // The name contains ':' only in a domain's port, which a '/' follows, so
    // a ':' after the last '/' can only introduce the tag.
    let tag_colon = name_and_tag
        .rfind(':')
        .filter(|&colon| name_and_tag.rfind('/').is_none_or(|slash| colon > slash));
    let (name, tag) = match tag_colon {
        Some(colon) => (
            name_and_tag.get(..colon)?,
            Some(name_and_tag.get(colon + 1..)?),
        ),
        None => (name_and_tag, None),
    };
    if !is_name(name) || !tag.is_none_or(valid_tag) || !digest.is_none_or(is_supported_digest) {
        return None;
    }
    let (registry, repository) = split_domain(name);
    // oci-spec's NAME_TOTAL_LENGTH_MAX, applied after normalization (so a
    // "library/" prefix counts).
    if repository.len() > 255 {
        return None;
    }
    // The same post-processing as parse_slow; if hoist's digest type refuses
    // what oci-spec accepted (sha384, uppercase hex), parse_slow says why.
    let digest = match digest {
        Some(digest) => Some(digest.parse::<Digest>().ok()?),
        None => None,
    };
    let tag = match (tag, &digest) {
        (Some(tag), _) => Some(tag.to_owned()),
        (None, Some(_)) => None,
        (None, None) => Some("latest".to_owned()),
    };
    Some(Reference {
        registry,
        repository,
        tag,
        digest,
    })
}

/// `oci-spec`'s name: `[domain "/"] component ("/" component)*`. The regex
/// accepts a name if some split matches, so: either every part is a
/// component, or the first is a domain and at least one component follows.
fn is_name(name: &str) -> bool {
    let mut parts = name.split('/');
    let Some(first) = parts.next() else {
        return false;
    };
    let rest_are_components = parts.clone().all(is_component);
    (is_component(first) && rest_are_components)
        || (is_domain(first) && parts.next().is_some() && rest_are_components)
}

/// `[a-z0-9]+ ((["._"] | "__" | "-"*) [a-z0-9]+)*`: lowercase alphanumeric
/// runs joined by one '.', one '_', two '_' or any number of '-'.
fn is_component(component: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    // Splitting on the alphanumerics leaves the separators (and empty pieces
    // between adjacent alphanumerics); as the component starts and ends with
    // an alphanumeric, every separator lies between two alphanumeric runs.
    if !component.starts_with(alphanumeric) || !component.ends_with(alphanumeric) {
        return false;
    }
    component
        .split(alphanumeric)
        .filter(|separator| !separator.is_empty())
        .all(|separator| {
            matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-')
        })
}

/// `label ("." label)* [":" [0-9]+]`, a label being ASCII alphanumerics and
/// '-', neither starting nor ending with '-'. Uppercase is allowed here.
fn is_domain(domain: &str) -> bool {
    let (host, port) = match domain.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    let is_label = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    host.split('.').all(is_label)
        && port.is_none_or(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

/// oci-spec's digest grammar (`algorithm ":" hex`, hex at least 32 long)
/// followed by its length checks, which admit only sha256, sha384 and
/// sha512 at their exact lengths.
fn is_supported_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    // The algorithm grammar, `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*`,
    // admits these three names, and the length checks admit nothing else.
    let expected_len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == expected_len && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// oci-spec's `split_domain` (a port of Docker's): the first part is the
/// registry only if it has a '.' or a ':' or is `localhost`; Docker Hub's
/// legacy name is normalized and its one-part names go under `library/`.
fn split_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.split_once('/') {
        Some((left, right)) if left.contains(['.', ':']) || left == "localhost" => {
            (left.to_owned(), right.to_owned())
        }
        _ => (DOCKER_HUB.to_owned(), name.to_owned()),
    };
    if domain == "index.docker.io" {
        DOCKER_HUB.clone_into(&mut domain);
    }
    if domain == DOCKER_HUB && !remainder.contains('/') {
        remainder = format!("library/{remainder}");
    }
    (domain, remainder)
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
        // oci-spec's Unicode `\w` would take these; Docker and registries do not.
        for tag in ["alpine:tág", "localhost:5000/app:v1ß", "app:日本"] {
            assert!(reason(tag).contains("only ASCII"), "{tag}: {}", reason(tag));
        }
    }

    #[test]
    fn uppercase_repositories_are_refused_even_where_oci_spec_allows_them() {
        for input in ["Foo/bar", "LOCALHOST/app", "docker.io/Library/alpine"] {
            let error = input.parse::<Reference>().unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{input}");
            assert!(error.to_string().contains("lowercase"), "{input}: {error}");
        }
        assert_eq!(
            "Registry.Example:5000/app"
                .parse::<Reference>()
                .unwrap()
                .registry(),
            "Registry.Example:5000"
        );
    }

    #[test]
    fn fast_path_takes_common_references() {
        let examples = [
            "alpine".to_owned(),
            "alpine:3.19".to_owned(),
            "library/alpine".to_owned(),
            "docker.io/library/alpine:latest".to_owned(),
            "index.docker.io/foo/bar".to_owned(),
            "localhost/app".to_owned(),
            "localhost:5000/team/app:v1".to_owned(),
            "127.0.0.1:5000/a/b:c".to_owned(),
            "host.example.com:443/x/y-z/w__v:tag_1.2-x".to_owned(),
            format!("registry/app@sha256:{HEX}"),
            format!("app:v1@sha256:{HEX}"),
            "a.b/c".to_owned(),
            "my-registry.local:5000/ns/repo".to_owned(),
        ];
        for input in &examples {
            let fast = parse_fast(input);
            assert!(fast.is_some(), "{input:?} missed the fast path");
            assert_eq!(fast, Some(parse_slow(input).unwrap()), "{input:?}");
        }
        assert_eq!(parse_fast("a.b/c").unwrap().registry(), "a.b");
        assert_eq!(
            parse_fast("index.docker.io/foo").unwrap().to_string(),
            "docker.io/library/foo:latest"
        );
    }

    #[test]
    fn fast_path_leaves_the_rest_to_oci_spec() {
        let upper = format!("alpine@sha256:{}", HEX.to_uppercase());
        let sha384 = format!("alpine@sha384:{}", "a".repeat(96));
        let long = "a".repeat(250);
        for input in [
            "",
            "Alpine",
            "alpine:",
            "alpine:-x",
            "alpine@",
            "alp ine",
            "a//b",
            "alpine@sha256:abc",
            "alpine@md5:0123456789abcdef0123456789abcdef",
            "a/b:c:d",
            "a@b@c",
            &upper,
            &sha384,
            &long,
        ] {
            assert_eq!(parse_fast(input), None, "{input:?}");
            assert!(input.parse::<Reference>().is_err(), "{input:?}");
        }
        // oci-spec accepts a non-ASCII tag (its `\w` is Unicode); the fast
        // path defers, and the slow path refuses it.
        assert_eq!(parse_fast("alpine:\u{e9}t\u{e9}"), None);
        assert!("alpine:\u{e9}t\u{e9}".parse::<Reference>().is_err());
    }

    mod fast_path_properties {
        use proptest::prelude::*;
        use proptest::test_runner::TestCaseError;

        use super::super::{parse_fast, parse_slow};

        fn config(cases: u32) -> ProptestConfig {
            ProptestConfig {
                cases,
                // Failures are reported with the shrunk input; keep the
                // source tree free of regression files.
                failure_persistence: None,
                ..ProptestConfig::default()
            }
        }

        /// The fast path never disagrees with oci-spec, and for ASCII input
        /// it never defers when oci-spec (and hoist's digest) would accept.
        fn agree(input: &str) -> Result<(), TestCaseError> {
            let fast = parse_fast(input);
            let slow = parse_slow(input);
            if let Some(fast) = &fast {
                prop_assert_eq!(slow.as_ref().ok(), Some(fast), "{:?}", input);
            }
            if input.is_ascii() {
                prop_assert_eq!(fast.as_ref(), slow.as_ref().ok(), "{:?}", input);
            }
            Ok(())
        }

        /// Characters weighted towards the reference grammar, with the odd
        /// non-ASCII letter and space.
        fn grammar_char() -> impl Strategy<Value = char> {
            prop_oneof![
                12 => proptest::char::range('a', 'z'),
                2 => proptest::char::range('A', 'Z'),
                5 => proptest::char::range('0', '9'),
                6 => prop::sample::select(vec!['.', '_', '-', ':', '/']),
                1 => Just('@'),
                1 => prop::sample::select(vec!['\u{e9}', ' ']),
            ]
        }

        fn domain() -> impl Strategy<Value = String> {
            let generated = (
                prop::collection::vec(
                    prop_oneof![
                        6 => "[a-zA-Z0-9]([a-zA-Z0-9-]{0,3}[a-zA-Z0-9])?",
                        1 => "[a-zA-Z0-9_-]{0,4}",
                    ],
                    1..4,
                ),
                prop::option::of("[0-9]{0,5}"),
            )
                .prop_map(|(labels, port)| {
                    let host = labels.join(".");
                    match port {
                        Some(port) => format!("{host}:{port}"),
                        None => host,
                    }
                });
            prop_oneof![
                3 => generated,
                1 => prop::sample::select(vec![
                    "localhost",
                    "localhost:5000",
                    "docker.io",
                    "index.docker.io",
                    "LOCALHOST",
                    "a_b.c",
                ])
                .prop_map(str::to_owned),
            ]
        }

        fn component() -> impl Strategy<Value = String> {
            prop_oneof![
                12 => "[a-z0-9]{1,4}(([._]|__|-{1,3})[a-z0-9]{1,4}){0,2}",
                1 => "[a-zA-Z0-9._-]{1,6}",
                1 => "[a-z0-9]{120,260}",
            ]
        }

        fn tag() -> impl Strategy<Value = String> {
            prop_oneof![
                8 => "[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}",
                1 => "[A-Za-z0-9_.-]{0,4}",
                1 => "[A-Za-z0-9_][A-Za-z0-9_.-]{125,129}",
            ]
        }

        fn digest() -> impl Strategy<Value = String> {
            let algorithm = prop::sample::select(vec![
                "sha256",
                "sha256",
                "sha512",
                "sha384",
                "md5",
                "sha256+b64",
                "SHA256",
            ]);
            let length = prop::sample::select(vec![64, 64, 128, 96, 31, 32, 65]);
            (algorithm, length, any::<bool>()).prop_flat_map(|(algorithm, length, upper)| {
                let hex = if upper { "[0-9a-fA-F]" } else { "[0-9a-f]" };
                proptest::string::string_regex(&format!("{hex}{{{length}}}"))
                    .expect("a valid regex")
                    .prop_map(move |hex| format!("{algorithm}:{hex}"))
            })
        }

        fn structured() -> impl Strategy<Value = String> {
            (
                prop::option::of(domain()),
                prop::collection::vec(component(), 1..4),
                prop::option::of(tag()),
                prop::option::weighted(0.3, digest()),
            )
                .prop_map(|(domain, components, tag, digest)| {
                    let mut reference = domain.map(|d| format!("{d}/")).unwrap_or_default();
                    reference.push_str(&components.join("/"));
                    if let Some(tag) = tag {
                        reference.push(':');
                        reference.push_str(&tag);
                    }
                    if let Some(digest) = digest {
                        reference.push('@');
                        reference.push_str(&digest);
                    }
                    reference
                })
        }

        proptest! {
            #![proptest_config(config(2_000))]

            #[test]
            fn fast_path_agrees_with_oci_spec_on_random_strings(
                input in prop::collection::vec(grammar_char(), 0..40)
                    .prop_map(|chars| chars.into_iter().collect::<String>())
            ) {
                agree(&input)?;
            }
        }

        proptest! {
            #![proptest_config(config(1_000))]

            #[test]
            fn fast_path_agrees_with_oci_spec_on_structured_references(input in structured()) {
                agree(&input)?;
            }
        }
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
