//! The protocol as the spec writes it, checked over raw HTTP.

use hoist::content::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{fixture, head, load, parse, request, serve, store};

const INDEX: &str = "application/vnd.oci.image.index.v1+json";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_by_tag_and_digest_with_their_headers() {
    let (_dir, store) = store();
    let fixture = fixture(1, 16 * 1024);
    load(&store, &fixture, "registry.example/team/app:1");
    let server = serve(&store).await;

    let base = request(&server, "GET", "/v2/", &[]).await;
    assert_eq!(base.status, 200);
    assert_eq!(
        base.header("Docker-Distribution-API-Version"),
        Some("registry/2.0")
    );

    let by_tag = request(&server, "GET", "/v2/team/app/manifests/1", &[]).await;
    assert_eq!(by_tag.status, 200);
    assert_eq!(
        Digest::sha256_of(&by_tag.body).as_str(),
        fixture.index.digest
    );
    assert_eq!(by_tag.header("Content-Type"), Some(INDEX));
    assert_eq!(
        by_tag.header("Docker-Content-Digest"),
        Some(fixture.index.digest.as_str())
    );
    let length = by_tag.body.len().to_string();
    assert_eq!(by_tag.header("Content-Length"), Some(length.as_str()));

    let head_only = request(&server, "HEAD", "/v2/team/app/manifests/1", &[]).await;
    assert_eq!(head_only.status, 200);
    assert!(head_only.body.is_empty());
    assert_eq!(head_only.header("Content-Length"), Some(length.as_str()));
    assert_eq!(
        head_only.header("Docker-Content-Digest"),
        Some(fixture.index.digest.as_str())
    );

    // A platform manifest the index lists, by digest.
    let child = &fixture.images[1].manifest;
    let by_digest = request(
        &server,
        "GET",
        &format!("/v2/team/app/manifests/{}", child.digest),
        &[],
    )
    .await;
    assert_eq!(by_digest.status, 200);
    assert_eq!(by_digest.body, child.bytes);
    assert_eq!(
        by_digest.header("Content-Type"),
        Some(child.media_type.as_str())
    );

    // A config is a blob, not a manifest the image reaches.
    let config = &fixture.images[0].config.digest;
    let not_manifest = request(
        &server,
        "GET",
        &format!("/v2/team/app/manifests/{config}"),
        &[],
    )
    .await;
    assert_eq!(not_manifest.status, 404);
    assert_eq!(not_manifest.error_code(), "MANIFEST_UNKNOWN");

    let no_tag = request(&server, "GET", "/v2/team/app/manifests/2", &[]).await;
    assert_eq!(
        (no_tag.status, no_tag.error_code().as_str()),
        (404, "MANIFEST_UNKNOWN")
    );
    let no_name = request(&server, "GET", "/v2/team/other/manifests/1", &[]).await;
    assert_eq!(
        (no_name.status, no_name.error_code().as_str()),
        (404, "NAME_UNKNOWN")
    );
    let no_blob = request(
        &server,
        "GET",
        &format!("/v2/team/app/blobs/sha256:{}", "0".repeat(64)),
        &[],
    )
    .await;
    assert_eq!(
        (no_blob.status, no_blob.error_code().as_str()),
        (404, "BLOB_UNKNOWN")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ns_picks_the_registry_and_without_it_the_first_host_wins() {
    let (_dir, store) = store();
    let hub = fixture(2, 8 * 1024);
    let mirror = fixture(3, 8 * 1024);
    load(&store, &hub, "docker.io/library/alpine:3.20");
    load(&store, &mirror, "mirror.example/library/alpine:3.20");
    let server = serve(&store).await;
    let digest_of = |answer: crate::support::Answer| {
        assert_eq!(
            answer.status,
            200,
            "{:?}",
            String::from_utf8_lossy(&answer.body)
        );
        answer.header("Docker-Content-Digest").unwrap().to_owned()
    };
    let path = "/v2/library/alpine/manifests/3.20";
    assert_eq!(
        digest_of(request(&server, "GET", &format!("{path}?ns=docker.io"), &[]).await),
        hub.index.digest
    );
    assert_eq!(
        digest_of(request(&server, "GET", &format!("{path}?ns=mirror.example"), &[]).await),
        mirror.index.digest
    );
    // "docker.io" sorts before "mirror.example".
    assert_eq!(
        digest_of(request(&server, "GET", path, &[]).await),
        hub.index.digest
    );
    let other = request(&server, "GET", &format!("{path}?ns=quay.io"), &[]).await;
    assert_eq!(
        (other.status, other.error_code().as_str()),
        (404, "NAME_UNKNOWN")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_and_catalog_paginate() {
    let (_dir, store) = store();
    let fixture = fixture(4, 8 * 1024);
    for tag in ["a", "b", "c"] {
        load(
            &store,
            &fixture,
            &format!("registry.example/team/app:{tag}"),
        );
    }
    load(&store, &fixture, "registry.example/team/base:1");
    let server = serve(&store).await;

    let all = request(&server, "GET", "/v2/team/app/tags/list", &[]).await;
    assert_eq!(all.status, 200);
    assert_eq!(
        all.json(),
        serde_json::json!({"name": "team/app", "tags": ["a", "b", "c"]})
    );
    let first = request(&server, "GET", "/v2/team/app/tags/list?n=2", &[]).await;
    assert_eq!(first.json()["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(
        first.header("Link"),
        Some("</v2/team/app/tags/list?n=2&last=b>; rel=\"next\"")
    );
    let rest = request(&server, "GET", "/v2/team/app/tags/list?n=2&last=b", &[]).await;
    assert_eq!(rest.json()["tags"], serde_json::json!(["c"]));
    assert_eq!(rest.header("Link"), None);

    let catalog = request(&server, "GET", "/v2/_catalog?n=1", &[]).await;
    assert_eq!(
        catalog.json(),
        serde_json::json!({"repositories": ["team/app"]})
    );
    let next = request(&server, "GET", "/v2/_catalog?n=1&last=team/app", &[]).await;
    assert_eq!(
        next.json(),
        serde_json::json!({"repositories": ["team/base"]})
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_resumes_with_range() {
    let (_dir, store) = store();
    let fixture = fixture(5, 1024 * 1024);
    load(&store, &fixture, "registry.example/team/app:1");
    let server = serve(&store).await;
    let layer = &fixture.images[0].layers[0];
    let path = format!("/v2/team/app/blobs/{}", layer.digest);

    let whole = request(&server, "GET", &path, &[]).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, layer.bytes);
    assert_eq!(whole.header("Accept-Ranges"), Some("bytes"));

    // The first part arrives, then the connection drops; the client asks
    // for the rest.
    let cut = layer.bytes.len() / 3;
    let first = request(
        &server,
        "GET",
        &path,
        &[("Range", &format!("bytes=0-{}", cut - 1))],
    )
    .await;
    assert_eq!(first.status, 206);
    let rest = request(
        &server,
        "GET",
        &path,
        &[("Range", &format!("bytes={cut}-"))],
    )
    .await;
    assert_eq!(rest.status, 206);
    assert_eq!(
        rest.header("Content-Range"),
        Some(
            format!(
                "bytes {cut}-{}/{}",
                layer.bytes.len() - 1,
                layer.bytes.len()
            )
            .as_str()
        )
    );
    let mut resumed = first.body;
    resumed.extend_from_slice(&rest.body);
    assert_eq!(Digest::sha256_of(&resumed).as_str(), layer.digest);

    let head_only = request(&server, "HEAD", &path, &[]).await;
    assert_eq!(head_only.status, 200);
    assert!(head_only.body.is_empty());
    assert_eq!(
        head_only.header("Content-Length"),
        Some(layer.bytes.len().to_string().as_str())
    );

    let past = request(
        &server,
        "GET",
        &path,
        &[("Range", &format!("bytes={}-", layer.bytes.len()))],
    )
    .await;
    assert_eq!(
        (past.status, past.error_code().as_str()),
        (416, "RANGE_INVALID")
    );
    assert_eq!(
        past.header("Content-Range"),
        Some(format!("bytes */{}", layer.bytes.len()).as_str())
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_method_is_refused_and_nothing_changes() {
    let (_dir, store) = store();
    let fixture = fixture(6, 8 * 1024);
    load(&store, &fixture, "registry.example/team/app:1");
    let server = serve(&store).await;
    let layer = &fixture.images[0].layers[0].digest;
    let paths = [
        "/v2/team/app/blobs/uploads/".to_owned(),
        format!("/v2/team/app/blobs/uploads/?mount={layer}&from=team/other"),
        "/v2/team/app/blobs/uploads/some-session".to_owned(),
        "/v2/team/app/manifests/1".to_owned(),
        format!("/v2/team/app/manifests/{}", fixture.index.digest),
        format!("/v2/team/app/blobs/{layer}"),
        "/v2/".to_owned(),
    ];
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        for path in &paths {
            let answer = request(&server, method, path, &[("Content-Length", "0")]).await;
            assert_eq!(answer.status, 405, "{method} {path}");
            assert_eq!(answer.error_code(), "UNSUPPORTED", "{method} {path}");
        }
    }
    let still = request(&server, "GET", "/v2/team/app/manifests/1", &[]).await;
    assert_eq!(still.status, 200);
    assert!(store.content_info(&layer.parse().unwrap()).is_ok());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversal_attempts_are_refused_before_any_file_is_read() {
    let (_dir, store) = store();
    let fixture = fixture(7, 8 * 1024);
    load(&store, &fixture, "registry.example/team/app:1");
    let server = serve(&store).await;
    let hex = "0".repeat(64);
    for target in [
        "/v2/../../../../etc/passwd".to_owned(),
        "/v2/team/app/blobs/sha256:../../../../etc/passwd".to_owned(),
        "/v2/team/app/blobs/sha256%3a..%2f..%2f..%2fetc%2fpasswd".to_owned(),
        "/v2/team/%2e%2e/%2e%2e/manifests/1".to_owned(),
        "/v2/team/..%2f..%2fapp/manifests/1".to_owned(),
        "/v2/team%2fapp/manifests/1".to_owned(),
        "/v2/../team/app/manifests/1".to_owned(),
        "/v2/team/app/manifests/..".to_owned(),
        "/v2/team/app/manifests/sha256:..".to_owned(),
        format!("/v2/team/app/blobs/sha256:{hex}/../../x"),
        "/v2/team/app/blobs/sha256:.%2e".to_owned(),
        format!("/v2/team/app/blobs/sha512:{hex}"),
        "/v2/team/app/blobs/SHA256:abc".to_owned(),
        "/v2/team/app/tags/list/../../../etc".to_owned(),
    ] {
        let answer = request(&server, "GET", &target, &[]).await;
        assert!(
            answer.status == 400 || answer.status == 404,
            "{target}: {}",
            answer.status
        );
        let code = answer.error_code();
        assert!(
            ["NAME_INVALID", "DIGEST_INVALID", "UNSUPPORTED"].contains(&code.as_str()),
            "{target}: {code}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_collected_mid_transfer_still_arrives_whole_then_is_unknown() {
    let (_dir, store) = store();
    // Far larger than the socket buffers between server and client, so most
    // of it is read from the file after the collection removed it.
    let fixture = fixture(8, 24 * 1024 * 1024);
    load(&store, &fixture, "registry.example/team/app:1");
    // Another tag keeps the repository known once tag 1 is gone.
    load(
        &store,
        &crate::support::fixture(9, 8 * 1024),
        "registry.example/team/app:2",
    );
    let server = serve(&store).await;
    let layer = fixture.images[0].layers[0].clone();
    let path = format!("/v2/team/app/blobs/{}", layer.digest);

    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let mut stream = socket.connect(server.local_addr()).await.unwrap();
    stream
        .write_all(head("GET", &path, &[]).as_bytes())
        .await
        .unwrap();
    let mut raw = vec![0; 64 * 1024];
    let mut got = 0;
    while got < raw.len() {
        let n = stream.read(&mut raw[got..]).await.unwrap();
        assert!(n > 0, "the server closed early");
        got += n;
    }

    // Untag and collect, as another process would.
    store.remove("registry.example/team/app:1", None).unwrap();
    let report = store.gc(false).unwrap();
    assert!(
        store.content_info(&layer.digest.parse().unwrap()).is_err(),
        "GC kept the layer: {report:?}"
    );
    let blob_file = store
        .root()
        .join("content/blobs/sha256")
        .join(layer.digest.trim_start_matches("sha256:"));
    assert!(!blob_file.exists(), "{} still on disk", blob_file.display());

    stream.read_to_end(&mut raw).await.unwrap();
    let answer = parse(&raw);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body.len(), layer.bytes.len());
    assert_eq!(Digest::sha256_of(&answer.body).as_str(), layer.digest);

    let after = request(&server, "GET", &path, &[]).await;
    assert_eq!(
        (after.status, after.error_code().as_str()),
        (404, "BLOB_UNKNOWN")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_over_the_limit_is_refused() {
    let (_dir, store) = store();
    let server = serve(&store).await;
    let within = "x".repeat(8 * 1024);
    let ok = request(&server, "GET", "/v2/", &[("X-Padding", &within)]).await;
    assert_eq!(ok.status, 200);
    let beyond = "x".repeat(hoist_serve::DEFAULT_MAX_HEADER_BYTES + 1);
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    stream
        .write_all(head("GET", "/v2/", &[("X-Padding", &beyond)]).as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    // The server may close before reading everything; what it answered
    // first is what counts.
    let _ = stream.read_to_end(&mut raw).await;
    assert!(
        raw.starts_with(b"HTTP/1.1 431"),
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limit_wait_and_silent_ones_are_closed() {
    let (_dir, store) = store();
    let server = hoist_serve::serve(
        store.clone(),
        hoist_serve::ServeOptions {
            header_read_timeout: std::time::Duration::from_secs(2),
            ..hoist_serve::ServeOptions::default()
                .listen("127.0.0.1:0".parse().unwrap())
                .max_connections(1)
        },
    )
    .await
    .unwrap();
    // The one slot: a connection that sends nothing.
    let mut silent = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut waiting = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    waiting
        .write_all(head("GET", "/v2/", &[]).as_bytes())
        .await
        .unwrap();
    let mut byte = [0; 1];
    let early = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        waiting.read(&mut byte),
    )
    .await;
    assert!(early.is_err(), "answered past the connection limit");
    // The silent connection is closed by the header timeout, which frees
    // the slot for the waiting one.
    let mut rest = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        silent.read_to_end(&mut rest),
    )
    .await
    .expect("the silent connection was never closed")
    .unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        waiting.read_to_end(&mut raw),
    )
    .await
    .expect("the waiting connection was never served")
    .unwrap();
    assert_eq!(parse(&raw).status, 200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_no_index_gets_this_machines_manifest_by_tag() {
    let (_dir, store) = store();
    let fixture = fixture(10, 8 * 1024);
    load(&store, &fixture, "registry.example/team/app:1");
    let server = serve(&store).await;
    let single = [(
        "Accept",
        "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
    )];
    let host = hoist::platform::Platform::host();
    let expected = fixture
        .images
        .iter()
        .find(|image| hoist::platform::parse(&image.platform.to_text()).unwrap() == host);

    let by_tag = request(&server, "GET", "/v2/team/app/manifests/1", &single).await;
    match expected {
        Some(image) => {
            assert_eq!(by_tag.status, 200);
            assert_eq!(by_tag.body, image.manifest.bytes);
            assert_eq!(
                by_tag.header("Docker-Content-Digest"),
                Some(image.manifest.digest.as_str())
            );
            assert_eq!(
                by_tag.header("Content-Type"),
                Some(image.manifest.media_type.as_str())
            );
        }
        // A machine whose platform the fixture lacks: a clean 404.
        None => assert_eq!(by_tag.error_code(), "MANIFEST_UNKNOWN"),
    }

    // A digest names exact bytes: the index, whatever the client accepts.
    let by_digest = request(
        &server,
        "GET",
        &format!("/v2/team/app/manifests/{}", fixture.index.digest),
        &single,
    )
    .await;
    assert_eq!(by_digest.status, 200);
    assert_eq!(
        Digest::sha256_of(&by_digest.body).as_str(),
        fixture.index.digest
    );
    server.shutdown().await;
}
