//! Downloads through a proxy that cuts, corrupts, stalls, resets or
//! redirects them.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use hoist_content::Digest;
use hoist_remote::{
    BlobPushed, BytesSource, ClientOptions, Credentials, ErrorKind, PushBlobOptions,
    StaticCredentials,
};
use hoist_testkit::{Fault, FaultKind, FaultProxy, IssuerOptions, RegistryOptions, TestUser};

use crate::support::*;

/// A plain registry holding a sample image, and a proxy in front of it.
async fn setup(name: &str) -> Option<(hoist_testkit::Registry, FaultProxy, Image)> {
    let registry = start(RegistryOptions::plain())?;
    let image = sample_image(20, 300_000);
    push_image(
        &client(fast_options()),
        &repo(&registry.host(), name),
        &image,
        "v1",
    )
    .await;
    let proxy = FaultProxy::start(&registry.host()).unwrap();
    Some((registry, proxy, image))
}

fn fault(digest: &Digest, kind: FaultKind) -> Fault {
    Fault::new(digest, kind)
}

#[tokio::test]
async fn a_truncated_download_is_reported_and_resumes_with_range() {
    let Some((_registry, proxy, image)) = setup("cut").await else {
        return;
    };
    proxy.add_fault(fault(
        &image.layer.digest,
        FaultKind::Truncate { after: 100_000 },
    ));
    let client = client(fast_options());
    let repository = repo(&proxy.host(), "cut");

    let mut stream = client
        .fetch_blob(&repository, &image.layer.digest, 0)
        .await
        .unwrap();
    let mut received = Vec::new();
    let error = loop {
        match stream.next_chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => panic!("a truncated body ended without an error"),
            Err(e) => break e,
        }
    };
    assert_eq!(error.kind(), ErrorKind::DataLoss, "{error}");
    assert!(error.is_retryable());
    assert_eq!(error.bytes_received(), Some(100_000));
    assert_eq!(received.len(), 100_000);

    let mut rest = client
        .fetch_blob(&repository, &image.layer.digest, 100_000)
        .await
        .unwrap();
    assert_eq!(rest.offset(), 100_000);
    received.extend(read_all(&mut rest).await.unwrap());
    assert_eq!(Digest::sha256_of(&received), image.layer.digest);
    let ranges: Vec<Option<String>> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.contains("/blobs/"))
        .map(|r| r.range)
        .collect();
    assert_eq!(ranges, vec![None, Some("bytes=100000-".to_owned())]);
}

#[tokio::test]
async fn a_reset_connection_is_reported_and_resumes() {
    let Some((_registry, proxy, image)) = setup("reset").await else {
        return;
    };
    proxy.add_fault(fault(
        &image.layer.digest,
        FaultKind::Drop { after: 150_000 },
    ));
    let client = client(fast_options());
    let repository = repo(&proxy.host(), "reset");
    let mut stream = client
        .fetch_blob(&repository, &image.layer.digest, 0)
        .await
        .unwrap();
    let error = read_all(&mut stream).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    let offset = error.bytes_received().unwrap();
    assert!(offset <= 150_000, "{offset}");
    let mut rest = client
        .fetch_blob(&repository, &image.layer.digest, offset)
        .await
        .unwrap();
    assert_eq!(
        read_all(&mut rest).await.unwrap(),
        image.layer.bytes[offset as usize..]
    );
}

#[tokio::test]
async fn a_stalled_download_times_out_instead_of_hanging() {
    let Some((_registry, proxy, image)) = setup("stall").await else {
        return;
    };
    proxy.add_fault(fault(&image.layer.digest, FaultKind::Stall { after: 1000 }));
    let client = client(ClientOptions {
        idle_timeout: Duration::from_millis(500),
        ..fast_options()
    });
    let repository = repo(&proxy.host(), "stall");
    let started = Instant::now();
    let mut stream = client
        .fetch_blob(&repository, &image.layer.digest, 0)
        .await
        .unwrap();
    let error = read_all(&mut stream).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
    assert!(error.to_string().contains("stalled"), "{error}");
    assert_eq!(error.bytes_received(), Some(1000));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_corrupted_blob_is_delivered_as_served_and_a_corrupted_manifest_is_refused() {
    let Some((_registry, proxy, image)) = setup("corrupt").await else {
        return;
    };
    let client = client(fast_options());
    let repository = repo(&proxy.host(), "corrupt");
    // Blobs are verified by the store that ingests them, not here: the
    // flipped byte comes through, and the digest check downstream sees it.
    proxy.add_fault(fault(
        &image.layer.digest,
        FaultKind::Corrupt { at: 12_345 },
    ));
    let mut stream = client
        .fetch_blob(&repository, &image.layer.digest, 0)
        .await
        .unwrap();
    let body = read_all(&mut stream).await.unwrap();
    assert_eq!(body.len(), image.layer.bytes.len());
    assert_ne!(Digest::sha256_of(&body), image.layer.digest);
    // Manifests are verified here.
    proxy.add_fault(fault(
        &image.manifests[0].digest,
        FaultKind::Corrupt { at: 10 },
    ));
    let error = client
        .fetch_manifest(&repository, &image.manifests[0].digest)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::DigestMismatch, "{error}");
}

#[tokio::test]
async fn server_errors_and_resets_are_retried_with_backoff() {
    let Some((_registry, proxy, image)) = setup("flaky").await else {
        return;
    };
    proxy.add_fault(Fault::new(&image.layer.digest, FaultKind::Status { code: 503 }).times(2));
    let client = client(fast_options());
    let repository = repo(&proxy.host(), "flaky");
    let mut stream = client
        .fetch_blob(&repository, &image.layer.digest, 0)
        .await
        .unwrap();
    assert_eq!(read_all(&mut stream).await.unwrap(), image.layer.bytes);
    // Connections reset before any answer are retried too.
    proxy.add_fault(Fault::new(&image.layer.digest, FaultKind::Reset).times(2));
    let mut stream = client
        .fetch_blob(&repository, &image.layer.digest, 0)
        .await
        .unwrap();
    assert_eq!(read_all(&mut stream).await.unwrap(), image.layer.bytes);
    // Spent retries surface as Unavailable with the status.
    proxy.add_fault(Fault::new(&image.layer.digest, FaultKind::Status { code: 502 }).times(3));
    let error = client
        .fetch_blob(&repository, &image.layer.digest, 0)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
    assert_eq!(error.status(), Some(502));
}

#[tokio::test]
async fn a_redirected_download_does_not_carry_credentials_to_the_other_host() {
    let issuer = IssuerOptions {
        users: vec![TestUser::pusher("alice", "wonderland")],
        ..IssuerOptions::default()
    };
    let Some(secured) = start(RegistryOptions::token(issuer)) else {
        return;
    };
    let Some(open) = start(RegistryOptions::plain()) else {
        return;
    };
    let image = sample_image(21, 50_000);
    // The same blob in both; the secured registry's proxy redirects its
    // download to the open one's proxy, as a registry redirects to a CDN.
    let front = FaultProxy::start(&secured.host()).unwrap();
    let elsewhere = FaultProxy::start(&open.host()).unwrap();
    let credentials = StaticCredentials::new()
        .with(&front.host(), Credentials::basic("alice", "wonderland"))
        .with(&elsewhere.host(), Credentials::basic("alice", "wonderland"));
    let client = client(fast_options().with_credentials(credentials));
    push_image(&client, &repo(&front.host(), "cdn/app"), &image, "v1").await;
    push_image(&client, &repo(&open.host(), "cdn/app"), &image, "v1").await;
    front.add_fault(fault(
        &image.layer.digest,
        FaultKind::Redirect {
            to: elsewhere.url(),
        },
    ));

    let mut stream = client
        .fetch_blob(&repo(&front.host(), "cdn/app"), &image.layer.digest, 0)
        .await
        .unwrap();
    assert_eq!(read_all(&mut stream).await.unwrap(), image.layer.bytes);
    let asked_front = front
        .requests()
        .into_iter()
        .find(|r| r.fault.is_some())
        .expect("the redirecting request");
    assert!(
        asked_front
            .authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Bearer "))
    );
    let followed: Vec<_> = elsewhere
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/blobs/"))
        .collect();
    assert_eq!(followed.len(), 1, "{followed:?}");
    assert_eq!(
        followed[0].authorization, None,
        "credentials crossed to another host"
    );
}

#[tokio::test]
async fn a_refused_monolithic_upload_falls_back_to_chunks() {
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let proxy = FaultProxy::start(&registry.host()).unwrap();
    let client = client(ClientOptions {
        chunk_size: 100_000,
        ..fast_options()
    });
    let repository = repo(&proxy.host(), "fallback");
    let blob = Blob::new(bytes_of(22, 250_000));
    // The first commit (the monolithic PUT) is refused as too large.
    proxy.add_fault(Fault::new(&blob.digest, FaultKind::Status { code: 413 }).on_upload_commit());
    let pushed = client
        .push_blob(
            &repository,
            &blob.digest,
            blob.size(),
            &hoist_remote::BytesSource(blob.bytes.clone()),
            &hoist_remote::PushBlobOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(pushed, hoist_remote::BlobPushed::Uploaded);
    let requests = proxy.requests();
    let monolithic = requests.iter().find(|r| r.method == "PUT").unwrap();
    // Streamed, with its length announced rather than chunked encoding.
    assert_eq!(monolithic.header("content-length"), Some("250000"));
    assert_eq!(monolithic.header("transfer-encoding"), None);
    let patches: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.header("content-range"))
        .collect();
    assert_eq!(
        patches,
        vec![
            Some("0-99999"),
            Some("100000-199999"),
            Some("200000-249999")
        ]
    );
    let mut stream = client
        .fetch_blob(&repository, &blob.digest, 0)
        .await
        .unwrap();
    assert_eq!(read_all(&mut stream).await.unwrap(), blob.bytes);
}

#[tokio::test]
async fn a_stalled_upload_times_out_and_the_chunked_retry_succeeds() {
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let proxy = FaultProxy::start(&registry.host()).unwrap();
    let client = client(ClientOptions {
        idle_timeout: Duration::from_millis(500),
        chunk_size: 4 << 20,
        ..fast_options()
    });
    let repository = repo(&proxy.host(), "stalled-upload");
    // Larger than the socket buffers, so the writer really blocks.
    let blob = Blob::new(bytes_of(23, 24 << 20));
    proxy.add_fault(Fault::new(&blob.digest, FaultKind::Stall { after: 0 }).on_upload_commit());
    let started = Instant::now();
    let pushed = client
        .push_blob(
            &repository,
            &blob.digest,
            blob.size(),
            &hoist_remote::BytesSource(blob.bytes.clone()),
            &hoist_remote::PushBlobOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(pushed, hoist_remote::BlobPushed::Uploaded);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert!(proxy.requests().iter().any(|r| r.method == "PATCH"));
    assert_eq!(
        client.blob_exists(&repository, &blob.digest).await.unwrap(),
        Some(blob.size())
    );
}

#[tokio::test]
async fn a_tag_is_fetched_with_one_get_and_checked_against_the_announced_digest() {
    let Some((_registry, proxy, image)) = setup("one-get").await else {
        return;
    };
    let client = client(fast_options());
    let reference = repo(&proxy.host(), "one-get").tagged("v1").unwrap();

    let manifest = client.get_manifest(&reference).await.unwrap();
    assert_eq!(manifest.descriptor.digest, image.index.digest);
    assert_eq!(manifest.bytes, image.index.bytes);
    let asked: Vec<(String, String)> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/manifests/"))
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(
        asked,
        [("GET".to_owned(), "/v2/one-get/manifests/v1".to_owned())],
        "one request: no HEAD, no second GET by digest"
    );

    // Bytes that do not hash to the announced digest are caught.
    proxy.add_fault(Fault::new("v1", FaultKind::Corrupt { at: 10 }));
    let error = client.get_manifest(&reference).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::DigestMismatch, "{error}");
}

#[tokio::test]
async fn a_small_blob_is_asked_for_by_a_mount_from_its_own_repository_and_a_large_one_by_head_and_mount_at_once()
 {
    let Some((_registry, proxy, image)) = setup("ask").await else {
        return;
    };
    let client = client(fast_options());
    let repository = repo(&proxy.host(), "ask");
    let push = |blob: &Blob| {
        let (client, repository, blob) = (&client, &repository, blob.clone());
        async move {
            client
                .push_blob(
                    repository,
                    &blob.digest,
                    blob.size(),
                    &BytesSource(blob.bytes.clone()),
                    &PushBlobOptions::default(),
                )
                .await
                .unwrap()
        }
    };
    let asked = |proxy: &FaultProxy| -> Vec<(String, String)> {
        proxy
            .requests()
            .into_iter()
            .filter(|r| r.path.contains("/blobs/"))
            .map(|r| (r.method, r.path))
            .collect()
    };

    // Present and small: one POST, answered 201.
    let config = &image.configs[0];
    assert_eq!(push(config).await, BlobPushed::AlreadyPresent);
    let requests = asked(&proxy);
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].0, "POST");
    assert!(
        requests[0]
            .1
            .contains(&format!("mount={}", config.digest).replace(':', "%3A"))
            && requests[0].1.contains("from=ask"),
        "{requests:?}"
    );

    // Absent and small: the same POST opens the session the bytes go to.
    let small = Blob::new(bytes_of(31, 10_000));
    assert_eq!(push(&small).await, BlobPushed::Uploaded);
    let methods: Vec<String> = asked(&proxy)[1..].iter().map(|r| r.0.clone()).collect();
    assert_eq!(methods, ["POST", "PUT"]);

    // Larger than a mebibyte: HEAD and the mount POST at once (they race,
    // so in either order, and a request on a connection that broke may be
    // sent twice), then the PUT; present, the mount answers 201.
    let large = Blob::new(bytes_of(32, 2 << 20));
    let since = |before: usize| -> (Vec<(String, String)>, BTreeSet<String>) {
        let requests = asked(&proxy)[before..].to_vec();
        let kinds = requests.iter().map(|r| r.0.clone()).collect();
        (requests, kinds)
    };
    let kinds_of = |names: &[&str]| {
        names
            .iter()
            .map(|n| (*n).to_owned())
            .collect::<BTreeSet<_>>()
    };
    let before = asked(&proxy).len();
    assert_eq!(push(&large).await, BlobPushed::Uploaded);
    let (requests, kinds) = since(before);
    assert_eq!(kinds, kinds_of(&["HEAD", "POST", "PUT"]), "{requests:?}");
    let puts = requests.iter().filter(|r| r.0 == "PUT").count();
    assert_eq!(puts, 1, "{requests:?}");
    assert_eq!(requests.last().map(|r| r.0.as_str()), Some("PUT"));
    let before = asked(&proxy).len();
    assert_eq!(push(&large).await, BlobPushed::AlreadyPresent);
    let (requests, kinds) = since(before);
    assert_eq!(kinds, kinds_of(&["HEAD", "POST"]), "{requests:?}");

    // A registry that ignores mounts opens a session although it has the
    // blob: the HEAD found it, so the session is cancelled unused.
    let digest = large.digest.to_string();
    proxy.add_fault(
        Fault::new(
            &digest,
            FaultKind::Reply {
                code: 202,
                headers: vec![(
                    "Location".to_string(),
                    "/v2/ask/blobs/uploads/ignored-mount".to_string(),
                )],
                body: Vec::new(),
            },
        )
        .on_mount(),
    );
    let before = asked(&proxy).len();
    assert_eq!(push(&large).await, BlobPushed::AlreadyPresent);
    let (requests, kinds) = since(before);
    assert_eq!(kinds, kinds_of(&["HEAD", "POST", "DELETE"]), "{requests:?}");
    assert_eq!(
        requests.last(),
        Some(&(
            "DELETE".to_string(),
            "/v2/ask/blobs/uploads/ignored-mount".to_string()
        )),
        "{requests:?}"
    );
}
