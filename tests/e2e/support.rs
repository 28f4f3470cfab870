//! Shared helpers: stores in temporary directories, fixtures loaded into them.

use std::collections::BTreeSet;

use hoist::{CredentialsSource, Store, StoreOptions};
use hoist_testkit::referrers::SignedImage;
use hoist_testkit::{Fixture, FixtureSpec};

/// A store in a fresh temporary directory, anonymous to registries.
pub fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path().join("root"),
        StoreOptions::default().credentials(CredentialsSource::Anonymous),
    )
    .unwrap();
    (dir, store)
}

/// The spec of a small four-platform fixture (amd64, arm64, arm/v7, s390x)
/// sharing one layer.
pub fn fixture_spec(seed: u64) -> FixtureSpec {
    FixtureSpec::four_platforms(seed, 32 * 1024, 4096)
}

/// A small four-platform fixture (amd64, arm64, arm/v7, s390x) sharing one layer.
pub fn fixture(seed: u64) -> Fixture {
    Fixture::generate(&fixture_spec(seed)).unwrap()
}

/// Loads `fixture` into `store` as `name` (through an OCI layout directory).
pub fn load_fixture(store: &Store, fixture: &Fixture, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (repo, tag) = name.rsplit_once(':').unwrap();
    fixture.write_oci_layout(dir.path(), tag).unwrap();
    let report = store.load_path(dir.path(), Some(repo)).unwrap();
    assert_eq!(report.names, vec![name.to_owned()]);
}

/// A plain registry, or `None` (skipped loudly; a failure under `CI=true`).
pub fn registry() -> Option<hoist_testkit::Registry> {
    hoist_testkit::Registry::start(hoist_testkit::RegistryOptions::plain()).unwrap()
}

/// No progress.
pub fn quiet() -> std::sync::Arc<dyn hoist::Progress> {
    std::sync::Arc::new(hoist::NoProgress)
}

/// Pushes the local image `name`, all platforms, to `destination`, quietly.
pub async fn push_all(
    store: &Store,
    name: &str,
    destination: &str,
) -> hoist::Result<hoist::PushReport> {
    store
        .push(
            name,
            Some(destination),
            &hoist::PushOptions::default(),
            quiet(),
        )
        .await
}

/// Loads `fixture` into a fresh store and pushes it, all platforms, to
/// `reference`; returns the pushed digest.
pub async fn seed(fixture: &Fixture, reference: &str) -> String {
    let (_dir, store) = store();
    load_fixture(&store, fixture, "seed.local/fixture:1");
    let report = push_all(&store, "seed.local/fixture:1", reference)
        .await
        .unwrap();
    report.digest.to_string()
}

/// Pushes `signed`'s image to `host/repository:1` and its referrers with
/// the fallback tags, as cosign and oras do on a registry without the API.
pub async fn publish(signed: &SignedImage, host: &str, repository: &str) {
    seed(&signed.fixture, &format!("{host}/{repository}:1")).await;
    signed.upload_referrers(host, repository).unwrap();
}

/// The manifest digests of `referrers`.
pub fn referrer_digests(referrers: &[hoist::Referrer]) -> BTreeSet<String> {
    referrers
        .iter()
        .map(|r| r.descriptor.digest.to_string())
        .collect()
}

/// The digests of every blob `store` holds.
pub fn stored(store: &Store) -> BTreeSet<String> {
    store
        .content_list()
        .unwrap()
        .into_iter()
        .map(|info| info.digest.to_string())
        .collect()
}

/// The digests a GC of `store` frees.
pub fn gc_freed(store: &Store) -> BTreeSet<String> {
    store
        .gc(false)
        .unwrap()
        .blobs
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Runs a tool, failing the test with its output if it fails.
pub fn run(program: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("could not run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The platforms (`os/arch[/variant]`) an index's raw JSON lists, sorted.
pub fn index_platforms(raw: &str) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_str(raw).unwrap();
    let mut platforms: Vec<String> = value["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let p = &m["platform"];
            let mut text = format!(
                "{}/{}",
                p["os"].as_str().unwrap(),
                p["architecture"].as_str().unwrap()
            );
            if let Some(variant) = p["variant"].as_str() {
                text.push('/');
                text.push_str(variant);
            }
            text
        })
        .collect();
    platforms.sort();
    platforms
}

/// The digest of the layer every platform of `fixture` shares.
pub fn shared_layer(fixture: &Fixture) -> String {
    let first = &fixture.images[0];
    first
        .layers
        .iter()
        .find(|layer| {
            fixture
                .images
                .iter()
                .all(|image| image.layers.iter().any(|l| l.digest == layer.digest))
        })
        .map(|layer| layer.digest.clone())
        .unwrap()
}

/// A store at `root` (shared with other processes), anonymous to registries.
pub fn store_at(root: &std::path::Path) -> Store {
    Store::open(
        root,
        StoreOptions::default().credentials(CredentialsSource::Anonymous),
    )
    .unwrap()
}
