//! Interop both ways, digests preserved: what hoist pushes, skopeo and
//! containerd's `ctr` pull; what skopeo pushes, hoist pulls.

use std::path::PathBuf;

use hoist::{Platforms, PullOptions};

use crate::support::{fixture, load_fixture, push_all, quiet, registry, run, store};

fn tool(name: &str) -> Option<PathBuf> {
    hoist_testkit::require_tool(name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skopeo_pushes_and_hoist_pulls_with_the_digest_kept() {
    let Some(registry) = registry() else { return };
    let Some(skopeo) = tool("skopeo") else { return };
    let fixture = fixture(51);
    let layout = tempfile::tempdir().unwrap();
    fixture.write_oci_layout(layout.path(), "1").unwrap();
    let reference = format!("{}/skopeo/app:1", registry.host());
    run(
        skopeo.to_str().unwrap(),
        &[
            "copy",
            "--all",
            "--dest-tls-verify=false",
            &format!("oci:{}:1", layout.path().display()),
            &format!("docker://{reference}"),
        ],
    );
    let (_dir, store) = store();
    let report = store
        .pull(&reference, &PullOptions::default(), quiet())
        .await
        .unwrap();
    assert_eq!(report.target.digest.to_string(), fixture.index.digest);
    assert!(
        store
            .check(&report.name, &Platforms::All)
            .unwrap()
            .is_complete()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hoist_pushes_and_skopeo_reads_every_platform() {
    let Some(registry) = registry() else { return };
    let Some(skopeo) = tool("skopeo") else { return };
    let fixture = fixture(52);
    let (_dir, store) = store();
    load_fixture(&store, &fixture, "local/app:1");
    let reference = format!("{}/hoist/app:1", registry.host());
    let report = push_all(&store, "local/app:1", &reference).await.unwrap();
    let raw = run(
        skopeo.to_str().unwrap(),
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ],
    );
    assert_eq!(
        hoist::content::Digest::sha256_of(raw.as_bytes()),
        report.digest
    );
    let out = tempfile::tempdir().unwrap();
    run(
        skopeo.to_str().unwrap(),
        &[
            "copy",
            "--all",
            "--src-tls-verify=false",
            &format!("docker://{reference}"),
            &format!("oci:{}:copied", out.path().display()),
        ],
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["digest"],
        fixture.index.digest.as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hoist_pushes_and_ctr_pulls_with_the_digest_kept() {
    let Some(registry) = registry() else { return };
    let Some(containerd) = hoist_testkit::Containerd::start().unwrap() else {
        return;
    };
    let fixture = fixture(53);
    let (_dir, store) = store();
    load_fixture(&store, &fixture, "local/app:1");
    let reference = format!("{}/hoist/ctr:1", registry.host());
    push_all(&store, "local/app:1", &reference).await.unwrap();
    containerd
        .ctr(&[
            "images",
            "pull",
            "--plain-http",
            "--all-platforms",
            &reference,
        ])
        .unwrap();
    let listing = containerd.ctr(&["images", "ls"]).unwrap();
    let line = listing
        .lines()
        .find(|line| line.starts_with(&reference))
        .unwrap_or_else(|| panic!("{reference} not in ctr's images:\n{listing}"));
    assert!(line.contains(&fixture.index.digest), "{line}");
}
