//! Pull-through (`ServeOptions::upstream`) from a real docker-registry:
//! concurrent clients and one upstream fetch per blob (counted in the
//! registry's own log), containerd through a `hosts.toml` mirror, a
//! corrupted blob, a stalled one, an upstream that is down.

use std::sync::Arc;
use std::time::Duration;

use hoist::content::{Digest, IngestManager, Provider};
use hoist::{NoProgress, Platforms, PullOptions, PushOptions, Store};
use hoist_serve::{ServeOptions, ServerHandle, Upstream};
use hoist_testkit::{Fault, FaultKind, FaultProxy, Fixture, Registry, RegistryOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{fixture, head, load, parse, request, skopeo_copy_all_to_dir, store};

/// Serves `store`, pulling through from `upstream`.
async fn serve_through(store: &Store, upstream: &str) -> ServerHandle {
    hoist_serve::serve(
        store.clone(),
        ServeOptions::default()
            .listen("127.0.0.1:0".parse().unwrap())
            .upstream(upstream.parse::<Upstream>().unwrap()),
    )
    .await
    .unwrap()
}

/// Puts `fixture` on `registry` as `repository:tag` (through a scratch store).
async fn seed(registry: &Registry, fixture: &Fixture, repository: &str, tag: &str) {
    let (_dir, scratch) = store();
    let name = format!("example.test/{repository}:{tag}");
    load(&scratch, fixture, &name);
    scratch
        .push(
            &name,
            Some(&format!("{}/{repository}:{tag}", registry.host())),
            &PushOptions::new(Platforms::All),
            Arc::new(NoProgress),
        )
        .await
        .unwrap();
}

/// The requests for `path` (e.g. `/v2/app/blobs/<digest>`) with `method`
/// (any when `None`) the registry logged: distribution logs every request
/// it completes, with its method and URI, at level info.
fn upstream_requests(registry: &Registry, method: Option<&str>, path: &str) -> usize {
    upstream_requests_since(registry, 0, method, path)
}

/// The same, counting only what was logged after the first `since` bytes.
fn upstream_requests_since(
    registry: &Registry,
    since: usize,
    method: Option<&str>,
    path: &str,
) -> usize {
    let log = registry.log();
    log.get(since..)
        .unwrap_or_default()
        .lines()
        .filter(|line| {
            line.contains("msg=\"response completed")
                && method.is_none_or(|m| line.contains(&format!("http.request.method={m} ")))
                && line.contains(path)
        })
        .count()
}

/// Waits until the registry's log stops growing: it logs a request just
/// after answering it.
async fn settled_log(registry: &Registry) {
    let mut last = registry.log().len();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = registry.log().len();
        if now == last {
            return;
        }
        last = now;
    }
}

/// The configs and layers of `fixture`, each once.
fn config_and_layers(fixture: &Fixture) -> Vec<String> {
    let mut digests = Vec::new();
    for image in &fixture.images {
        for blob in image.layers.iter().chain([&image.config]) {
            if !digests.contains(&blob.digest) {
                digests.push(blob.digest.clone());
            }
        }
    }
    digests
}

fn is_stored(store: &Store, digest: &str) -> bool {
    let digest: Digest = digest.parse().unwrap();
    store
        .namespace_handle()
        .content(None)
        .reader(&digest)
        .is_ok()
}

/// Sends a request and reads what arrives until the server closes or
/// cuts the connection: the answer, and whether the read ended cleanly.
async fn request_until_cut(server: &ServerHandle, target: &str) -> (Vec<u8>, bool) {
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream
        .write_all(head("GET", target, &[]).as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => return (raw, true),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(_) => return (raw, false),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_clients_pull_through_with_one_upstream_fetch_per_blob() {
    let Some(registry) = Registry::start(RegistryOptions::plain()).unwrap() else {
        return;
    };
    // A shared layer large enough that the four clients overlap on it.
    let fixture = fixture(41, 8 * 1024 * 1024);
    seed(&registry, &fixture, "team/app", "1").await;
    // The push reads its tag back: what the seeding asked is not counted.
    settled_log(&registry).await;
    let seeded = registry.log().len();
    let (_dir, served) = store();
    // The tag's first fetch counts as its check for the whole test, however
    // slow the machine: the late client below must cost no upstream request.
    let server = serve_through_with_ttl(&served, &registry.host(), Duration::from_secs(3600)).await;
    let reference = format!("{}/team/app:1", server.local_addr());

    // Four clients at once, each with a store of its own.
    let pullers: Vec<_> = (0..4).map(|_| store()).collect();
    let options = PullOptions::new(Platforms::All);
    let reports = futures_util::future::join_all(
        pullers
            .iter()
            .map(|(_, puller)| puller.pull(&reference, &options, Arc::new(NoProgress))),
    )
    .await;
    for ((_, puller), report) in pullers.iter().zip(reports) {
        let report = report.unwrap();
        assert_eq!(report.target.digest.as_str(), fixture.index.digest);
        assert!(
            puller
                .check(&report.name, &Platforms::All)
                .unwrap()
                .is_complete()
        );
    }

    // One upstream download per blob and per manifest, however many asked.
    settled_log(&registry).await;
    for digest in config_and_layers(&fixture) {
        let gets = upstream_requests_since(
            &registry,
            seeded,
            Some("GET"),
            &format!("/v2/team/app/blobs/{digest}"),
        );
        assert_eq!(
            gets,
            1,
            "upstream GETs of blob {digest}:\n{}",
            registry.log()
        );
    }
    for manifest in fixture.images.iter().map(|i| &i.manifest) {
        let gets = upstream_requests_since(
            &registry,
            seeded,
            Some("GET"),
            &format!("/v2/team/app/manifests/{}", manifest.digest),
        );
        assert_eq!(gets, 1, "upstream GETs of manifest {}", manifest.digest);
    }
    // The index is asked for by its tag (one GET, checked against its
    // digest) or by digest: one request in all.
    let index_gets: usize = ["1", fixture.index.digest.as_str()]
        .iter()
        .map(|target| {
            upstream_requests_since(
                &registry,
                seeded,
                Some("GET"),
                &format!("/v2/team/app/manifests/{target}"),
            )
        })
        .sum();
    assert_eq!(
        index_gets,
        1,
        "upstream GETs of the index:\n{}",
        registry.log()
    );

    // The tag is named as `hoist pull` names it; everything stays through a GC.
    let name = format!("{}/team/app:1", registry.host());
    let image = served.namespace_handle().images().get(&name).unwrap();
    assert_eq!(image.target.digest.as_str(), fixture.index.digest);
    served.gc(false).unwrap();
    for blob in fixture.blobs() {
        assert!(
            is_stored(&served, &blob.digest),
            "{} gone after GC",
            blob.digest
        );
    }
    // A later client is served from the store: no new upstream request.
    let before = registry.log().lines().count();
    let (_dir2, late) = store();
    late.pull(
        &reference,
        &PullOptions::new(Platforms::All),
        Arc::new(NoProgress),
    )
    .await
    .unwrap();
    settled_log(&registry).await;
    let after = registry.log();
    let new_requests: Vec<_> = after
        .lines()
        .skip(before)
        .filter(|l| l.contains("response completed"))
        .collect();
    assert!(new_requests.is_empty(), "{new_requests:#?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containerd_pulls_through_a_mirror_an_image_the_store_lacks() {
    let Some(registry) = Registry::start(RegistryOptions::plain()).unwrap() else {
        return;
    };
    let Some(containerd) = hoist_testkit::Containerd::start().unwrap() else {
        return;
    };
    let fixture = fixture(42, 64 * 1024);
    seed(&registry, &fixture, "team/app", "1").await;
    let (_dir, served) = store();
    let server = serve_through(&served, &registry.host()).await;
    // The registry's own address is unreachable for containerd (a dead
    // port as `server`): only the mirror can answer, and it must fetch.
    let hosts = tempfile::tempdir().unwrap();
    let host_dir = hosts.path().join(registry.host());
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(
        host_dir.join("hosts.toml"),
        format!(
            "server = \"http://127.0.0.1:9\"\n\n\
             [host.\"http://{}\"]\n  capabilities = [\"pull\", \"resolve\"]\n",
            server.local_addr()
        ),
    )
    .unwrap();
    let hosts_dir = hosts.path().display().to_string();
    let image = format!("{}/team/app:1", registry.host());
    let listed = {
        let image = image.clone();
        tokio::task::spawn_blocking(move || {
            containerd
                .ctr(&[
                    "images",
                    "pull",
                    "--hosts-dir",
                    &hosts_dir,
                    "--all-platforms",
                    &image,
                ])
                .unwrap();
            containerd.ctr(&["images", "ls"]).unwrap()
        })
        .await
        .unwrap()
    };
    let line = listed
        .lines()
        .find(|line| line.starts_with(&image))
        .unwrap_or_else(|| panic!("not in ctr's images:\n{listed}"));
    assert!(line.contains(&fixture.index.digest), "{line}");
    // The mirror stored and named what it fetched.
    let stored = served.namespace_handle().images().get(&image).unwrap();
    assert_eq!(stored.target.digest.as_str(), fixture.index.digest);
    for blob in fixture.blobs() {
        assert!(
            is_stored(&served, &blob.digest),
            "{} not stored",
            blob.digest
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_corrupted_upstream_is_cut_short_and_not_stored() {
    let Some(registry) = Registry::start(RegistryOptions::plain()).unwrap() else {
        return;
    };
    let fixture = fixture(43, 512 * 1024);
    seed(&registry, &fixture, "team/app", "1").await;
    let proxy = FaultProxy::start(&registry.host()).unwrap();
    let layer = fixture.images[0].layers[0].clone();
    // Every download of the layer has one byte flipped near its end.
    proxy.add_fault(
        Fault::new(
            &layer.digest,
            FaultKind::Corrupt {
                at: layer.size() - 10,
            },
        )
        .times(100),
    );
    let (_dir, served) = store();
    let server = serve_through(&served, &proxy.host()).await;

    let (raw, _) =
        request_until_cut(&server, &format!("/v2/team/app/blobs/{}", layer.digest)).await;
    let answer = parse(&raw);
    assert_eq!(answer.status, 200, "{answer:?}");
    let length: u64 = answer.header("content-length").unwrap().parse().unwrap();
    assert_eq!(length, layer.size());
    assert!(
        (answer.body.len() as u64) < length,
        "a corrupted blob was delivered whole ({} bytes)",
        answer.body.len()
    );
    assert!(!is_stored(&served, &layer.digest));

    // A real client fails, and still nothing is stored.
    let (_dir2, puller) = store();
    let pulled = puller
        .pull(
            &format!("{}/team/app:1", server.local_addr()),
            &PullOptions::new(Platforms::All),
            Arc::new(NoProgress),
        )
        .await;
    assert!(pulled.is_err(), "the pull of a corrupted image succeeded");
    assert!(!is_stored(&served, &layer.digest));
    assert!(!is_stored(&puller, &layer.digest));
    server.shutdown().await;
}

/// Sends a `GET` of `target` and reads until `wanted` body bytes (after
/// the head) arrived, for at most 20 s; returns what arrived.
async fn read_at_least(server: &ServerHandle, target: &str, wanted: usize) -> Vec<u8> {
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream
        .write_all(head("GET", target, &[]).as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    let body_len = |raw: &[u8]| {
        raw.windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(0, |end| raw.len() - end - 4)
    };
    let arrived = tokio::time::timeout(Duration::from_secs(20), async {
        while body_len(&raw) < wanted {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the connection closed early");
            raw.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(
        arrived.is_ok(),
        "only {} bytes arrived while the upstream was stalled",
        raw.len()
    );
    raw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_streams_to_every_client_from_one_download_before_it_ends() {
    let Some(registry) = Registry::start(RegistryOptions::plain()).unwrap() else {
        return;
    };
    let fixture = fixture(44, 4 * 1024 * 1024);
    seed(&registry, &fixture, "team/app", "1").await;
    let proxy = FaultProxy::start(&registry.host()).unwrap();
    let layer = fixture.images[0].layers[0].clone();
    assert!(layer.size() > 4 * 1024 * 1024);
    // The upstream sends 2 MiB, then nothing more.
    proxy.add_fault(Fault::new(
        &layer.digest,
        FaultKind::Stall {
            after: 2 * 1024 * 1024,
        },
    ));
    let (_dir, served) = store();
    let server = serve_through(&served, &proxy.host()).await;
    let target = format!("/v2/team/app/blobs/{}", layer.digest);
    let first = read_at_least(&server, &target, 1024 * 1024).await;
    // A second client joins the download in progress and reads the same
    // bytes, while the upstream is still stalled.
    let second = read_at_least(&server, &target, 1024 * 1024).await;
    for raw in [first, second] {
        let answer = parse(&raw);
        assert_eq!(answer.status, 200);
        let length: u64 = answer.header("content-length").unwrap().parse().unwrap();
        assert_eq!(length, layer.size());
        assert_eq!(&layer.bytes[..answer.body.len()], &answer.body[..]);
    }
    let downloads = proxy
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains(&layer.digest))
        .count();
    assert_eq!(downloads, 1, "{:#?}", proxy.requests());
    assert!(!is_stored(&served, &layer.digest));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_is_down_gets_a_502_and_the_server_stays_up() {
    // A port nothing listens on.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let (_dir, served) = store();
    let fixture = fixture(45, 4096);
    load(&served, &fixture, "example.test/local/app:1");
    let server = serve_through(&served, &dead.to_string()).await;
    let digest = format!("sha256:{}", "0".repeat(64));
    for target in [
        "/v2/team/app/manifests/1".to_owned(),
        format!("/v2/team/app/manifests/{digest}"),
        format!("/v2/team/app/blobs/{digest}"),
    ] {
        let answer = request(&server, "GET", &target, &[]).await;
        assert_eq!(answer.status, 502, "{target}: {answer:?}");
        assert_eq!(answer.error_code(), "UNKNOWN", "{target}");
        let message = answer.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("upstream"), "{message}");
    }
    // What the store holds is still served, and so is the API root.
    assert_eq!(request(&server, "GET", "/v2/", &[]).await.status, 200);
    let local = request(&server, "GET", "/v2/local/app/manifests/1", &[]).await;
    assert_eq!(local.status, 200);
    assert!(!is_stored(&served, &digest));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_upstream_lacks_is_unknown_and_other_ns_are_not_pulled_through() {
    let Some(registry) = Registry::start(RegistryOptions::plain()).unwrap() else {
        return;
    };
    let (_dir, served) = store();
    let server = serve_through(&served, &registry.host()).await;
    let missing = request(&server, "GET", "/v2/team/none/manifests/1", &[]).await;
    assert_eq!(missing.status, 404, "{missing:?}");
    assert_eq!(missing.error_code(), "MANIFEST_UNKNOWN");
    let blob = format!("/v2/team/none/blobs/sha256:{}", "1".repeat(64));
    let missing = request(&server, "GET", &blob, &[]).await;
    assert_eq!(missing.status, 404, "{missing:?}");
    assert_eq!(missing.error_code(), "BLOB_UNKNOWN");
    // The failed fetch leaves no empty ingest behind.
    let ingests = served
        .namespace_handle()
        .content(None)
        .list_statuses()
        .unwrap();
    assert!(ingests.is_empty(), "{ingests:?}");
    // A request for another registry (containerd's ns) is not sent upstream.
    settled_log(&registry).await;
    assert!(upstream_requests(&registry, None, "/v2/team/none/manifests/1") > 0);
    let other = request(&server, "GET", "/v2/team/none/manifests/2?ns=quay.io", &[]).await;
    assert_eq!(other.status, 404);
    assert_eq!(other.error_code(), "NAME_UNKNOWN");
    settled_log(&registry).await;
    assert_eq!(
        upstream_requests(&registry, None, "/v2/team/none/manifests/2"),
        0
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skopeo_copies_through_the_mirror_an_image_the_store_lacks() {
    let Some(skopeo) = hoist_testkit::require_tool("skopeo").unwrap() else {
        return;
    };
    let Some(registry) = Registry::start(RegistryOptions::plain()).unwrap() else {
        return;
    };
    let fixture = fixture(46, 256 * 1024);
    seed(&registry, &fixture, "team/app", "1").await;
    let (_dir, served) = store();
    let server = serve_through(&served, &registry.host()).await;
    let out = tempfile::tempdir().unwrap();
    let copy = out.path().join("copy");
    skopeo_copy_all_to_dir(skopeo, server.local_addr(), &copy).await;
    let index = std::fs::read(copy.join("manifest.json")).unwrap();
    assert_eq!(Digest::sha256_of(&index).as_str(), fixture.index.digest);
    for blob in config_and_layers(&fixture) {
        let bytes = std::fs::read(copy.join(blob.trim_start_matches("sha256:"))).unwrap();
        assert_eq!(Digest::sha256_of(&bytes).as_str(), blob);
        assert!(is_stored(&served, &blob), "{blob} not stored by the mirror");
    }
    server.shutdown().await;
}

/// Serves `store`, pulling through from `upstream` and trusting an
/// answer about a tag for `tag_ttl`.
async fn serve_through_with_ttl(store: &Store, upstream: &str, tag_ttl: Duration) -> ServerHandle {
    hoist_serve::serve(
        store.clone(),
        ServeOptions::default()
            .listen("127.0.0.1:0".parse().unwrap())
            .upstream(upstream.parse::<Upstream>().unwrap())
            .upstream_tag_ttl(tag_ttl),
    )
    .await
    .unwrap()
}

/// The requests with `method` for `path` (query excluded) the proxy
/// forwarded after the first `since`.
fn proxied(proxy: &FaultProxy, since: usize, method: &str, path: &str) -> usize {
    proxy
        .requests()
        .iter()
        .skip(since)
        .filter(|r| r.method == method && r.path.split('?').next() == Some(path))
        .count()
}

/// The digest the server answered a manifest request with.
fn answered_digest(answer: &crate::support::Answer) -> String {
    assert_eq!(answer.status, 200, "{answer:?}");
    let digest = answer.header("docker-content-digest").unwrap().to_owned();
    assert_eq!(Digest::sha256_of(&answer.body).as_str(), digest);
    digest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_moved_upstream_is_followed_and_kept_while_the_upstream_is_down() {
    let Some(registry) = Registry::start(RegistryOptions::plain()).unwrap() else {
        return;
    };
    let v1 = fixture(47, 4096);
    let v2 = fixture(48, 4096);
    seed(&registry, &v1, "app", "latest").await;
    let proxy = FaultProxy::start(&registry.host()).unwrap();
    let ttl = Duration::from_secs(1);
    let (_dir, served) = store();
    let server = serve_through_with_ttl(&served, &proxy.host(), ttl).await;
    let name = format!("{}/app:latest", proxy.host());
    let target = |served: &Store| {
        served
            .namespace_handle()
            .images()
            .get(&name)
            .unwrap()
            .target
            .digest
            .to_string()
    };

    // First pull through: v1, fetched and named.
    let first = request(&server, "GET", "/v2/app/manifests/latest", &[]).await;
    assert_eq!(answered_digest(&first), v1.index.digest);
    assert_eq!(target(&served), v1.index.digest);

    // The tag moves upstream; after the window the mirror follows it, and
    // a real client pulls the whole of v2 through it.
    seed(&registry, &v2, "app", "latest").await;
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    let before_v2 = proxy.requests().len();
    let (_dir2, puller) = store();
    let pulled = puller
        .pull(
            &format!("{}/app:latest", server.local_addr()),
            &PullOptions::new(Platforms::All),
            Arc::new(NoProgress),
        )
        .await
        .unwrap();
    assert_eq!(pulled.target.digest.as_str(), v2.index.digest);
    assert!(
        puller
            .check(&pulled.name, &Platforms::All)
            .unwrap()
            .is_complete()
    );
    assert_eq!(target(&served), v2.index.digest);
    assert_eq!(
        proxied(&proxy, before_v2, "HEAD", "/v2/app/manifests/latest"),
        1,
        "{:#?}",
        proxy.requests()
    );
    // The old index is unnamed but still held: asked for by digest, it is
    // served from the store, as is a stored blob, without asking upstream.
    assert!(is_stored(&served, &v1.index.digest));
    let asked = proxy.requests().len();
    let old = request(
        &server,
        "GET",
        &format!("/v2/app/manifests/{}", v1.index.digest),
        &[],
    )
    .await;
    assert_eq!(answered_digest(&old), v1.index.digest);
    let layer = &v2.images[0].layers[0];
    let blob = request(
        &server,
        "GET",
        &format!("/v2/app/blobs/{}", layer.digest),
        &[],
    )
    .await;
    assert_eq!(blob.status, 200);
    assert_eq!(Digest::sha256_of(&blob.body).as_str(), layer.digest);
    assert_eq!(proxy.requests().len(), asked, "{:#?}", proxy.requests());

    // The upstream goes away: the stored v2 is still served, by GET and
    // HEAD, with and without an index in Accept.
    drop(proxy);
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    for _ in 0..2 {
        let answer = request(&server, "GET", "/v2/app/manifests/latest", &[]).await;
        assert_eq!(answered_digest(&answer), v2.index.digest);
    }
    let head = request(&server, "HEAD", "/v2/app/manifests/latest", &[]).await;
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(
        head.header("docker-content-digest"),
        Some(v2.index.digest.as_str())
    );
    let single = request(
        &server,
        "GET",
        "/v2/app/manifests/latest",
        &[(
            "Accept",
            "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
        )],
    )
    .await;
    let chosen = answered_digest(&single);
    assert!(
        v2.images.iter().any(|i| i.manifest.digest == chosen),
        "{chosen} is none of v2's manifests"
    );
    assert_eq!(target(&served), v2.index.digest);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_clients_for_one_tag_costs_one_upstream_head_per_window() {
    let Some(registry) = Registry::start(RegistryOptions::plain()).unwrap() else {
        return;
    };
    let fixture = fixture(49, 4096);
    seed(&registry, &fixture, "team/app", "latest").await;
    let proxy = FaultProxy::start(&registry.host()).unwrap();
    let ttl = Duration::from_secs(3);
    let (_dir, served) = store();
    let server = serve_through_with_ttl(&served, &proxy.host(), ttl).await;
    let path = "/v2/team/app/manifests/latest";

    let first = request(&server, "GET", path, &[]).await;
    assert_eq!(answered_digest(&first), fixture.index.digest);
    // Fetching by tag was a check: inside the window, no HEAD at all.
    let fetched = proxy.requests().len();
    let answer = request(&server, "HEAD", path, &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(proxy.requests().len(), fetched, "{:#?}", proxy.requests());

    // Past the window, eight clients at once: one HEAD, no GET.
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    let burst = proxy.requests().len();
    let answers = futures_util::future::join_all((0..8).map(|i| {
        let method = if i % 2 == 0 { "GET" } else { "HEAD" };
        request(&server, method, path, &[])
    }))
    .await;
    for answer in &answers {
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(
            answer.header("docker-content-digest"),
            Some(fixture.index.digest.as_str())
        );
    }
    let upstream: Vec<_> = proxy.requests().into_iter().skip(burst).collect();
    assert_eq!(upstream.len(), 1, "{upstream:#?}");
    assert_eq!(upstream[0].method, "HEAD");
    assert_eq!(upstream[0].path, path);
    // And the clients right after it ride on its answer.
    for _ in 0..4 {
        assert_eq!(request(&server, "GET", path, &[]).await.status, 200);
    }
    assert_eq!(proxied(&proxy, burst, "HEAD", path), 1);
    server.shutdown().await;
}

/// An upstream that answers every request with `status` and an empty
/// body, and counts them.
async fn answering(status: u16) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counted = Arc::clone(&counted);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                    // A TLS ClientHello: the client tries HTTPS first on
                    // loopback, then plain HTTP once this one is refused.
                    if head.first() == Some(&0x16) {
                        return;
                    }
                }
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let answer = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (address, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_tag_is_served_as_stored_whatever_keeps_the_upstream_from_confirming_it() {
    // Nothing listens: refused.
    let refusing = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    // Accepts connections (the kernel's backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (unavailable, unavailable_count) = answering(503).await;
    let (gone, gone_count) = answering(404).await;
    let fixture = fixture(50, 4096);
    for (upstream, count) in [
        (refusing, None),
        (silent.local_addr().unwrap().to_string(), None),
        (unavailable, Some(unavailable_count)),
        (gone, Some(gone_count)),
    ] {
        // Held as a pull through `upstream` would have named it.
        let (_dir, served) = store();
        let name = format!("{upstream}/app:latest");
        load(&served, &fixture, &name);
        let server = serve_through_with_ttl(&served, &upstream, Duration::from_secs(60)).await;
        let first = tokio::time::timeout(
            Duration::from_secs(30),
            request(&server, "GET", "/v2/app/manifests/latest", &[]),
        )
        .await
        .unwrap_or_else(|_| panic!("{upstream}: no answer"));
        assert_eq!(answered_digest(&first), fixture.index.digest, "{upstream}");
        let asked = count
            .as_ref()
            .map(|c| c.load(std::sync::atomic::Ordering::SeqCst));
        if let Some(asked) = asked {
            assert!(asked > 0, "{upstream}: the upstream was never asked");
        }
        // The failed check holds for the window: no second wait, no new request.
        let second = request(&server, "HEAD", "/v2/app/manifests/latest", &[]).await;
        assert_eq!(second.status, 200, "{upstream}: {second:?}");
        assert_eq!(
            count
                .as_ref()
                .map(|c| c.load(std::sync::atomic::Ordering::SeqCst)),
            asked,
            "{upstream}"
        );
        // The name is kept, on the stored index.
        let image = served.namespace_handle().images().get(&name).unwrap();
        assert_eq!(image.target.digest.as_str(), fixture.index.digest);
        server.shutdown().await;
    }
    drop(silent);
}
