//! Pulls through a proxy that truncates, corrupts, stalls and drops blob
//! downloads: the pull resumes (with a Range request) or fails cleanly, and
//! nothing wrong is ever committed.

use std::time::Duration;

use hoist::{CredentialsSource, PullOptions, Store, StoreOptions};
use hoist_testkit::{Fault, FaultKind, FaultProxy};

use crate::support::{fixture, quiet, registry, seed, shared_layer};

/// What a faulty pull leaves to look at; the registry lives as long as it.
struct Outcome {
    result: hoist::Result<hoist::PullReport>,
    store: Store,
    proxy: FaultProxy,
    layer: String,
    _dir: tempfile::TempDir,
    _registry: hoist_testkit::Registry,
}

/// Seeds a registry, puts a proxy in front, arms `fault` on the shared
/// layer, and pulls through the proxy.
async fn pull_with(fault: FaultKind, times: usize) -> Outcome {
    let registry = registry().expect("docker-registry is needed");
    let fixture = fixture(21);
    let reference = format!("{}/team/app:1", registry.host());
    seed(&fixture, &reference).await;
    let proxy = FaultProxy::start(&registry.host()).unwrap();
    let layer = shared_layer(&fixture);
    proxy.add_fault(Fault::new(&layer, fault).times(times));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path(),
        StoreOptions::default()
            .credentials(CredentialsSource::Anonymous)
            .idle_timeout(Duration::from_secs(1)),
    )
    .unwrap();
    let through = format!("{}/team/app:1", proxy.host());
    let result = store.pull(&through, &PullOptions::default(), quiet()).await;
    Outcome {
        result,
        store,
        proxy,
        layer,
        _dir: dir,
        _registry: registry,
    }
}

fn resumed_with_range(proxy: &FaultProxy, layer: &str) -> bool {
    proxy
        .requests()
        .iter()
        .any(|r| r.method == "GET" && r.path.contains(layer) && r.range.is_some())
}

fn skip() -> bool {
    hoist_testkit::require_tool("docker-registry")
        .unwrap()
        .is_none()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_download_resumes_with_a_range_request() {
    if skip() {
        return;
    }
    let Outcome {
        result,
        store,
        proxy,
        layer,
        _dir,
        _registry,
    } = pull_with(FaultKind::Truncate { after: 10_000 }, 1).await;
    let report = result.unwrap();
    assert!(resumed_with_range(&proxy, &layer));
    assert!(
        store
            .check(&report.name, &hoist::Platforms::All)
            .unwrap()
            .is_complete()
    );
    assert!(store.fsck().unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_resumes() {
    if skip() {
        return;
    }
    let Outcome {
        result,
        store,
        proxy,
        layer,
        _dir,
        _registry,
    } = pull_with(FaultKind::Drop { after: 5_000 }, 2).await;
    let report = result.unwrap();
    assert!(resumed_with_range(&proxy, &layer));
    assert!(store.fsck().unwrap().is_clean());
    assert_eq!(store.list_images(None).unwrap()[0].platforms.complete(), 4);
    drop(report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_download_times_out_and_resumes() {
    if skip() {
        return;
    }
    let Outcome {
        result,
        store,
        proxy,
        layer,
        _dir,
        _registry,
    } = pull_with(FaultKind::Stall { after: 8_000 }, 1).await;
    result.unwrap();
    assert!(resumed_with_range(&proxy, &layer));
    assert!(store.fsck().unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_once_is_refetched_and_verified() {
    if skip() {
        return;
    }
    let Outcome {
        result,
        store,
        proxy: _proxy,
        layer,
        _dir,
        _registry,
    } = pull_with(FaultKind::Corrupt { at: 100 }, 1).await;
    result.unwrap();
    let digest: hoist::content::Digest = layer.parse().unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut store.content_get(&digest).unwrap(), &mut bytes).unwrap();
    assert_eq!(hoist::content::Digest::sha256_of(&bytes), digest);
    assert!(store.fsck().unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_corrupted_fails_cleanly_and_commits_nothing() {
    if skip() {
        return;
    }
    let Outcome {
        result,
        store,
        proxy: _proxy,
        layer,
        _dir,
        _registry,
    } = pull_with(FaultKind::Corrupt { at: 100 }, 100).await;
    let error = result.unwrap_err();
    assert!(error.is_data_loss(), "{error:?}");
    let digest: hoist::content::Digest = layer.parse().unwrap();
    assert!(store.content_info(&digest).unwrap_err().is_not_found());
    assert!(store.list_images(None).unwrap().is_empty());
    assert!(store.leases().unwrap().is_empty());
    assert!(store.fsck().unwrap().is_clean());
}

/// A blob the registry keeps refusing is asked for exactly as often as the
/// client's one `RetryPolicy` allows: the pull's resumption and the
/// client's retries share that budget instead of multiplying it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_for_a_blob_counts_against_one_retry_policy() {
    if skip() {
        return;
    }
    let outcome = pull_with(FaultKind::Status { code: 503 }, 1_000).await;
    let (store, proxy, layer) = (&outcome.store, &outcome.proxy, &outcome.layer);
    let error = outcome.result.as_ref().unwrap_err();
    let attempts = hoist::remote::RetryPolicy::default().attempts;
    assert!(
        error
            .to_string()
            .contains(&format!("after {attempts} attempts")),
        "{error}"
    );
    let asked = proxy
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains(layer.as_str()))
        .count();
    assert_eq!(asked, attempts as usize, "{:#?}", proxy.requests());
    assert!(store.list_images(None).unwrap().is_empty());
}
