//! The checks behind hoist's fuzz targets: one function per parser of
//! untrusted input, each feeding it the fuzzer's bytes and asserting what must
//! hold of whatever it accepts, besides "no panic".
//!
//! Each `fuzz_targets/<name>.rs` is a one-line libFuzzer entry point calling
//! the function of the same name here; `cargo xtask fuzz` builds and runs
//! them (see `docs/fuzzing.md`). A failed assertion is a crash, and libFuzzer
//! writes the input that caused it to a file whose path it prints.
//!
//! It is not part of hoist's API and is never published. Its libFuzzer entry
//! points are behind the `libfuzzer` feature, which only the instrumented
//! build of `cargo xtask fuzz` turns on; the ordinary build compiles the
//! checks alone and replays the kept corpus through them as tests.
//!
//! ```
//! // Any bytes: the checks panic only if a parser breaks an invariant.
//! hoist_fuzz::reference(b"localhost:5000/team/app:v1");
//! hoist_fuzz::platform(b"linux/arm64/v8");
//! hoist_fuzz::challenge(b"Bearer realm=\"https://auth.example/token\",service=reg");
//! ```
//!
//! See `docs/fuzzing.md` for the targets, the corpus and the runs, and
//! `docs/architecture.md` for where this crate sits.

use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use hoist_content::{Manager as _, Provider as _};
use hoist_platform::{Matcher as _, Platform};

/// Image references (`crates/remote/src/reference.rs`): a reference that
/// parses formats to a string that parses back to the same reference, and
/// that string is a fixed point (formatting is already normalized).
pub fn reference(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(reference) = text.parse::<hoist_remote::Reference>() {
        let formatted = reference.to_string();
        let again: hoist_remote::Reference = formatted
            .parse()
            .unwrap_or_else(|e| panic!("{formatted:?} (from {text:?}) does not parse back: {e}"));
        assert_eq!(
            again, reference,
            "{text:?} -> {formatted:?} changes on re-parse"
        );
        assert_eq!(again.to_string(), formatted);
        assert!(!reference.registry().is_empty());
        assert!(!reference.repository().is_empty());
        let repo = reference.repo();
        let repo_text = repo.to_string();
        let repo_again: hoist_remote::Repository = repo_text
            .parse()
            .unwrap_or_else(|e| panic!("repository {repo_text:?} does not parse back: {e}"));
        assert_eq!(repo_again, repo);
        let _ = reference.manifest_selector();
    }
    let _ = text.parse::<hoist_remote::Repository>();
}

/// Platform specifiers (`crates/platform/src/parse.rs`): what parses is
/// normalized already (normalizing is idempotent), and both string forms parse
/// back to a platform that formats the same.
pub fn platform(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(platform) = hoist_platform::parse(text) {
        check_platform(&platform, text);
    }
    if let Ok(list) = hoist_platform::parse_all(text) {
        assert!(!list.is_empty(), "{text:?} parses to an empty list");
        for platform in &list {
            check_platform(platform, text);
        }
    }
    // A platform read from an index's JSON is not normalized; normalizing
    // it must still be idempotent and never panic.
    if let Ok(platform) = serde_json::from_slice::<Platform>(data) {
        let normalized = hoist_platform::normalize(platform.clone());
        assert_eq!(hoist_platform::normalize(normalized.clone()), normalized);
        let _ = hoist_platform::format_all(&platform);
        let matcher = hoist_platform::only(platform.clone());
        // A platform without an OS or an architecture matches nothing, by
        // design (an index entry lacking them must not look like the host's).
        if !normalized.os.is_empty() && !normalized.architecture.is_empty() {
            assert!(
                matcher.matches(&normalized),
                "{platform:?} does not match its own normalized form"
            );
        }
        let candidates = [platform.clone(), normalized];
        let _ = hoist_platform::ranked(&matcher, &candidates, |p: &Platform| Some(p.clone()));
    }
}

fn check_platform(platform: &Platform, text: &str) {
    assert_eq!(
        &hoist_platform::normalize(platform.clone()),
        platform,
        "{text:?} parses to a platform that is not normalized"
    );
    for form in [
        hoist_platform::format(platform),
        hoist_platform::format_all(platform),
    ] {
        let again = hoist_platform::parse(&form)
            .unwrap_or_else(|e| panic!("{form:?} (from {text:?}) does not parse back: {e}"));
        let refomatted = if form.contains('(') {
            hoist_platform::format_all(&again)
        } else {
            hoist_platform::format(&again)
        };
        assert_eq!(refomatted, form, "{text:?} -> {form:?} changes on re-parse");
    }
}

/// Media types a document may be declared with, picked by the input's first
/// byte; the rest of the input is the document.
const DECLARED_TYPES: &[Option<&str>] = &[
    None,
    Some("application/vnd.oci.image.index.v1+json"),
    Some("application/vnd.oci.image.manifest.v1+json"),
    Some("application/vnd.docker.distribution.manifest.list.v2+json"),
    Some("application/vnd.docker.distribution.manifest.v2+json"),
    Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
    Some("application/octet-stream"),
];

/// Manifests and indexes (`crates/image/src/document.rs`): a parsed document
/// keeps its bytes exactly and names their digest; its children, labels and
/// platforms can be read without a panic.
pub fn document(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let declared = DECLARED_TYPES[usize::from(selector) % DECLARED_TYPES.len()];
    let Ok(document) = hoist_image::Document::from_bytes(body.to_vec(), declared) else {
        return;
    };
    assert_eq!(
        document.raw(),
        body,
        "a document's bytes are kept as received"
    );
    assert_eq!(document.digest(), &hoist_content::Digest::sha256_of(body));
    assert_eq!(document.descriptor().size, body.len() as u64);
    let children = document.children();
    let labels = document.gc_labels();
    let _ = labels;
    for child in &children {
        let _ = child.is_attestation();
        let _ = child.attestation_subject();
        if let Some(platform) = &child.platform {
            let normalized = hoist_platform::normalize(platform.clone());
            assert_eq!(hoist_platform::normalize(normalized.clone()), normalized);
            let _ = hoist_platform::format_all(platform);
        }
    }
    if let Some(index) = document.as_index() {
        assert_eq!(index.manifests().len(), children.len());
        let _ = index.annotations();
    }
    if let Some(manifest) = document.as_manifest() {
        let _ = manifest.config();
        let _ = manifest.subject();
        let _ = manifest.artifact_type();
        let _ = manifest.is_image();
        assert!(manifest.blobs().count() > manifest.layers().len());
    }
}

/// Docker's `config.json` (`crates/remote/src/auth/docker_config.rs`): a
/// parsed file answers for any registry without a panic. Only files without
/// credential helpers are asked, since asking a helper runs a program.
pub fn docker_config(data: &[u8]) {
    use hoist_remote::CredentialProvider as _;
    let origin = Path::new("/fuzz/config.json");
    let Ok(config) = hoist_remote::DockerConfig::parse(data, origin) else {
        return;
    };
    // Helpers run from a folder that does not exist: a lookup that would
    // run one fails instead, and that must be an error, not a panic.
    let config = config.with_helper_dir("/nonexistent/hoist-fuzz");
    for registry in [
        "docker.io",
        "localhost:5000",
        "registry.example.com",
        "ghcr.io",
    ] {
        let _ = config.credentials(registry);
    }
}

/// containerd's `hosts.toml` (`crates/remote/src/hosts/file.rs`): what parses
/// gives at least one endpoint, the server last unless a mirror-only file.
pub fn hosts_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = Path::new("/fuzz/certs.d/registry.example.com");
    let origin = dir.join("hosts.toml");
    let Ok(config) = hoist_remote::parse_hosts_toml(text, dir, &origin, default_server()) else {
        return;
    };
    for endpoint in &config.endpoints {
        let _ = endpoint.authority();
        assert!(
            endpoint.base.has_host(),
            "endpoint {} from {text:?} has no host",
            endpoint.base
        );
    }
    let _ = config.for_capability(|c| c.push);
}

fn default_server() -> hoist_remote::Endpoint {
    static BASE: OnceLock<url::Url> = OnceLock::new();
    let base = BASE.get_or_init(|| {
        url::Url::parse("https://registry.example.com/v2").expect("a constant URL parses")
    });
    hoist_remote::Endpoint {
        base: base.clone(),
        capabilities: hoist_remote::Capabilities::ALL,
        tls: hoist_remote::TlsSettings::default(),
        headers: Vec::new(),
        scheme: hoist_remote::SchemePolicy::Fixed,
        is_mirror: false,
    }
}

/// `WWW-Authenticate` challenges (`crates/remote/src/auth/challenge.rs`): a
/// Bearer challenge always has a realm, and the pick is one of the parsed.
pub fn challenge(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(challenges) = hoist_remote::Challenge::parse_all(text) else {
        return;
    };
    for challenge in &challenges {
        if let hoist_remote::Challenge::Bearer { realm, scopes, .. } = challenge {
            assert!(!realm.is_empty(), "{text:?} gives a Bearer without a realm");
            assert!(scopes.iter().all(|s| !s.is_empty() && !s.contains(' ')));
        }
    }
    if let Some(picked) = hoist_remote::Challenge::pick(challenges.clone()) {
        assert!(challenges.contains(&picked));
    }
}

/// Archives (`crates/image/src/archive/load.rs`): the input is loaded as a
/// tar (plain or gzip) into a fresh content store; what a successful load
/// names is in the store, with the size its descriptor gives, and so is
/// every referrer it says it stored (the first byte's second bit asks for
/// referrers).
///
/// The fuzzer rarely gets a tar header's checksum right, so inputs whose
/// first byte is odd are instead read as a list of entries (see
/// [`entries_to_tar`]) and written as a valid tar around them; even first
/// bytes mean the rest is the archive's raw bytes.
pub fn archive(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let tar = if mode & 1 == 1 {
        entries_to_tar(body)
    } else {
        body.to_vec()
    };
    let dir = scratch_dir();
    let store = hoist_content::LocalStore::open(dir.path().join("content"))
        .expect("a fresh content store opens");
    let options = hoist_image::LoadOptions {
        referrers: mode & 2 == 2,
        ..hoist_image::LoadOptions::default()
    };
    let Ok(loaded) = hoist_image::load(&store, tar.as_slice(), &options) else {
        return;
    };
    for referrer in &loaded.referrers {
        let info = store.info(&referrer.digest).unwrap_or_else(|e| {
            panic!(
                "loaded referrer {} is not in the store: {e}",
                referrer.digest
            )
        });
        assert_eq!(
            info.size, referrer.size,
            "{}: stored size differs",
            referrer.digest
        );
    }
    for image in &loaded.images {
        let target = &image.target;
        let info = store
            .info(&target.digest)
            .unwrap_or_else(|e| panic!("loaded image {:?} is not in the store: {e}", image.name));
        assert_eq!(
            info.size, target.size,
            "{:?}: stored size differs",
            image.name
        );
        let mut raw = Vec::new();
        store
            .reader(&target.digest)
            .expect("a stored blob opens")
            .read_to_end(&mut raw)
            .expect("a stored blob reads");
        assert_eq!(hoist_content::Digest::sha256_of(&raw), target.digest);
    }
}

/// A temporary folder on a memory file system when there is one: the store
/// fsyncs every blob, which on a disk would make each run take milliseconds.
fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let builder = tempfile::Builder::new().prefix("hoist-fuzz-").to_owned();
    if shm.is_dir()
        && let Ok(dir) = builder.tempdir_in(shm)
    {
        return dir;
    }
    builder.tempdir().expect("a temporary folder can be made")
}

/// Turns fuzzer bytes into a valid tar, so that the loader's logic (names,
/// links, duplicates, the index and manifests) is reached past the tar
/// format's checksums. The bytes are a sequence of entries, each:
/// one byte of type (`0` file, `1` hard link, `2` symbolic link, `5`
/// folder, by `% 4`), one byte of name length, the name, one byte of link
/// length, the link target, two bytes (little endian) of data length, the
/// data. Names and targets are written as given, `..` and all.
pub fn entries_to_tar(mut bytes: &[u8]) -> Vec<u8> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> &'a [u8] {
        let n = n.min(bytes.len());
        let (head, tail) = bytes.split_at(n);
        *bytes = tail;
        head
    }
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let kind = take(&mut bytes, 1).first().copied().unwrap_or(0);
        let name_len = take(&mut bytes, 1).first().copied().unwrap_or(0);
        let name = take(&mut bytes, usize::from(name_len).min(100));
        let link_len = take(&mut bytes, 1).first().copied().unwrap_or(0);
        let link = take(&mut bytes, usize::from(link_len).min(100));
        let len = take(&mut bytes, 2);
        let data_len = match len {
            [a, b] => usize::from(u16::from_le_bytes([*a, *b])),
            [a] => usize::from(*a),
            _ => 0,
        };
        let entry_type = match kind % 4 {
            0 => tar::EntryType::Regular,
            1 => tar::EntryType::Link,
            2 => tar::EntryType::Symlink,
            _ => tar::EntryType::Directory,
        };
        let data = if entry_type == tar::EntryType::Regular {
            take(&mut bytes, data_len)
        } else {
            &[]
        };
        let mut header = tar::Header::new_ustar();
        {
            let old = header.as_old_mut();
            old.name[..name.len()].copy_from_slice(name);
            old.linkname[..link.len()].copy_from_slice(link);
        }
        header.set_entry_type(entry_type);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}
