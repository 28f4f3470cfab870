//! Real clients pulling from `hoist serve`: skopeo, hoist itself, and
//! containerd through a `hosts.toml` mirror.

use std::path::PathBuf;

use hoist::content::Digest;
use hoist::{Platforms, PullOptions};

use crate::support::{fixture, load, serve, skopeo_copy_all_to_dir, store};

fn tool(name: &str) -> Option<PathBuf> {
    hoist_testkit::require_tool(name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skopeo_copies_every_platform_with_the_digests_kept() {
    let Some(skopeo) = tool("skopeo") else { return };
    let (_dir, store) = store();
    let fixture = fixture(21, 64 * 1024);
    load(&store, &fixture, "registry.example/team/app:1");
    let server = serve(&store).await;
    let out = tempfile::tempdir().unwrap();
    let copy = out.path().join("copy");
    skopeo_copy_all_to_dir(skopeo, server.local_addr(), &copy).await;
    let index = std::fs::read(copy.join("manifest.json")).unwrap();
    assert_eq!(Digest::sha256_of(&index).as_str(), fixture.index.digest);
    // The index is manifest.json; every other document and blob is a file
    // named by its digest.
    for blob in fixture
        .blobs()
        .into_iter()
        .filter(|b| b.digest != fixture.index.digest)
    {
        let hex = blob.digest.trim_start_matches("sha256:");
        let file = [copy.join(hex), copy.join(format!("{hex}.manifest.json"))]
            .into_iter()
            .find(|p| p.exists())
            .unwrap_or_else(|| {
                let listing: Vec<_> = std::fs::read_dir(&copy)
                    .unwrap()
                    .map(|e| e.unwrap().file_name())
                    .collect();
                panic!("skopeo did not copy {}: {listing:?}", blob.digest)
            });
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(Digest::sha256_of(&bytes).as_str(), blob.digest);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hoist_pulls_from_another_store_through_serve() {
    let (_dir, served) = store();
    let fixture = fixture(22, 64 * 1024);
    load(&served, &fixture, "registry.example/team/app:1");
    let server = serve(&served).await;
    let (_dir2, puller) = store();
    let reference = format!("{}/team/app:1", server.local_addr());
    let report = puller
        .pull(
            &reference,
            &PullOptions::default(),
            std::sync::Arc::new(hoist::NoProgress),
        )
        .await
        .unwrap();
    assert_eq!(report.target.digest.as_str(), fixture.index.digest);
    assert!(
        puller
            .check(&report.name, &Platforms::All)
            .unwrap()
            .is_complete()
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containerd_pulls_through_a_hosts_toml_mirror() {
    let Some(containerd) = hoist_testkit::Containerd::start().unwrap() else {
        return;
    };
    let (_dir, store) = store();
    let fixture = fixture(23, 64 * 1024);
    // A registry host that does not exist: only the mirror can answer.
    load(&store, &fixture, "registry.invalid/team/app:1");
    let server = serve(&store).await;
    let hosts = tempfile::tempdir().unwrap();
    let host_dir = hosts.path().join("registry.invalid");
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(
        host_dir.join("hosts.toml"),
        format!(
            "server = \"https://registry.invalid\"\n\n\
             [host.\"http://{}\"]\n  capabilities = [\"pull\", \"resolve\"]\n",
            server.local_addr()
        ),
    )
    .unwrap();
    let hosts_dir = hosts.path().display().to_string();
    let pulled = tokio::task::spawn_blocking(move || {
        containerd
            .ctr(&[
                "images",
                "pull",
                "--hosts-dir",
                &hosts_dir,
                "--all-platforms",
                "registry.invalid/team/app:1",
            ])
            .unwrap();
        containerd.ctr(&["images", "ls"]).unwrap()
    })
    .await
    .unwrap();
    let line = pulled
        .lines()
        .find(|line| line.starts_with("registry.invalid/team/app:1"))
        .unwrap_or_else(|| panic!("not in ctr's images:\n{pulled}"));
    assert!(line.contains(&fixture.index.digest), "{line}");
    server.shutdown().await;
}
