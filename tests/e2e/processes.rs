//! Several hoist processes on one root: a pull killed midway is resumed by
//! the next one, and two concurrent pulls of overlapping images download
//! each blob once while garbage collection runs beside them. The pulls run
//! in child processes: this test binary re-executed on `child_pull`.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use hoist::content::IngestManager as _;
use hoist::{Platforms, PullOptions};
use hoist_testkit::{Fault, FaultKind, FaultProxy};

use crate::support::{fixture, registry, seed, shared_layer, store_at};

const ROOT: &str = "HOIST_E2E_CHILD_ROOT";
const REFERENCE: &str = "HOIST_E2E_CHILD_REFERENCE";

/// Not a test of its own: the body of a child process, which pulls
/// `$HOIST_E2E_CHILD_REFERENCE` into `$HOIST_E2E_CHILD_ROOT`.
#[test]
#[ignore = "run in a child process by the tests of this module"]
fn child_pull() {
    let root = std::env::var(ROOT).expect("child_pull needs HOIST_E2E_CHILD_ROOT");
    let reference = std::env::var(REFERENCE).expect("child_pull needs HOIST_E2E_CHILD_REFERENCE");
    let store = store_at(std::path::Path::new(&root));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(store.pull(&reference, &PullOptions::default(), crate::support::quiet()))
        .unwrap();
}

/// A child process, killed and reaped if the test ends before it does.
struct Pulling(Child);

impl Drop for Pulling {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child(root: &std::path::Path, reference: &str) -> Pulling {
    Pulling(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "processes::child_pull",
                "--ignored",
                "--nocapture",
            ])
            .env(ROOT, root)
            .env(REFERENCE, reference)
            .spawn()
            .unwrap(),
    )
}

/// Waits for `condition`, failing after a minute.
fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_pull_is_resumed_by_the_next() {
    let Some(registry) = registry() else { return };
    let fixture = fixture(31);
    seed(&fixture, &format!("{}/team/app:1", registry.host())).await;
    let proxy = FaultProxy::start(&registry.host()).unwrap();
    let layer = shared_layer(&fixture);
    proxy.add_fault(Fault::new(&layer, FaultKind::Stall { after: 20_000 }));
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("{}/team/app:1", proxy.host());
    let mut child = spawn_child(dir.path(), &reference);

    // Kill it once part of the shared layer is in its ingest.
    let store = store_at(dir.path());
    let ingest = format!("hoist-pull-{}", layer.trim_start_matches("sha256:"));
    let content = store.namespace_handle().content(None);
    wait_for("the child's partial download", || {
        content
            .status(&ingest)
            .is_ok_and(|status| status.offset > 0)
    });
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let kept = content.status(&ingest).unwrap().offset;
    assert!(kept > 0);

    let report = store
        .pull(&reference, &PullOptions::default(), crate::support::quiet())
        .await
        .unwrap();
    let resumed = proxy
        .requests()
        .into_iter()
        .any(|r| r.path.contains(&layer) && r.range.as_deref() == Some(&format!("bytes={kept}-")));
    assert!(
        resumed,
        "no Range request from byte {kept}: {:?}",
        proxy.requests()
    );
    assert!(
        store
            .check(&report.name, &Platforms::All)
            .unwrap()
            .is_complete()
    );
    assert!(store.fsck().unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pulls_in_two_processes_download_each_blob_once_beside_gc() {
    let Some(registry) = registry() else { return };
    let fixture = fixture(32);
    seed(&fixture, &format!("{}/team/a:1", registry.host())).await;
    seed(&fixture, &format!("{}/team/b:1", registry.host())).await;
    let proxy = FaultProxy::start(&registry.host()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut first = spawn_child(dir.path(), &format!("{}/team/a:1", proxy.host()));
    let mut second = spawn_child(dir.path(), &format!("{}/team/b:1", proxy.host()));

    let store = store_at(dir.path());
    let mut statuses = [None, None];
    let mut collections = 0;
    while statuses.iter().any(Option::is_none) {
        store.gc(false).unwrap();
        collections += 1;
        for (slot, child) in statuses.iter_mut().zip([&mut first, &mut second]) {
            if slot.is_none() {
                *slot = child.0.try_wait().unwrap();
            }
        }
    }
    assert!(collections > 0);
    assert!(
        statuses.iter().all(|s| s.is_some_and(|s| s.success())),
        "{statuses:?}"
    );

    for name in ["a", "b"] {
        let name = format!("{}/team/{name}:1", proxy.host());
        assert!(store.check(&name, &Platforms::All).unwrap().is_complete());
    }
    let requests = proxy.requests();
    for blob in fixture.blobs() {
        let gets = requests
            .iter()
            .filter(|r| r.method == "GET" && r.path.ends_with(&format!("/blobs/{}", blob.digest)))
            .count();
        // Manifests and the index come by /manifests/; every config and
        // layer comes by /blobs/, exactly once for both processes.
        let document = blob.media_type.contains("manifest") || blob.media_type.contains("index");
        let expected = usize::from(!document);
        assert_eq!(
            gets, expected,
            "{} was downloaded {gets} times",
            blob.digest
        );
    }
    assert!(store.fsck().unwrap().is_clean());
}
