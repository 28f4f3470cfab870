//! Resolve, fetch and push against a registry without auth.

use bytes::Bytes;
use hoist_content::Digest;
use hoist_remote::{ErrorKind, ManifestTarget, Reference, media_type};
use hoist_testkit::RegistryOptions;

use crate::support::*;

#[tokio::test]
async fn a_pushed_index_resolves_by_tag_and_fetches_byte_exact() {
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let client = client(fast_options());
    let repository = repo(&registry.host(), "team/app");
    let image = sample_image(1, 200_000);
    push_image(&client, &repository, &image, "v1").await;

    let reference: Reference = format!("{}/team/app:v1", registry.host()).parse().unwrap();
    let resolved = client.resolve(&reference).await.unwrap();
    assert_eq!(resolved.media_type, media_type::OCI_INDEX);
    assert_eq!(resolved.digest, image.index.digest);
    assert_eq!(resolved.size, image.index.size());

    let index = client.get_manifest(&reference).await.unwrap();
    assert_eq!(index.bytes, image.index.bytes);
    let child = client
        .fetch_manifest(&repository, &image.manifests[1].digest)
        .await
        .unwrap();
    assert_eq!(child.bytes, image.manifests[1].bytes);
    assert_eq!(child.descriptor.media_type, media_type::OCI_MANIFEST);

    let pinned = reference.with_digest(image.index.digest.clone());
    assert_eq!(
        client.resolve(&pinned).await.unwrap().digest,
        image.index.digest
    );

    let mut stream = client
        .fetch_blob(&repository, &image.layer.digest, 0)
        .await
        .unwrap();
    assert_eq!(stream.total_size(), Some(image.layer.size()));
    assert_eq!(read_all(&mut stream).await.unwrap(), image.layer.bytes);
    assert_eq!(
        client
            .blob_exists(&repository, &image.configs[0].digest)
            .await
            .unwrap(),
        Some(image.configs[0].size())
    );
}

#[tokio::test]
async fn a_blob_download_starts_at_any_offset() {
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let client = client(fast_options());
    let repository = repo(&registry.host(), "ranges");
    let image = sample_image(2, 100_000);
    push_image(&client, &repository, &image, "latest").await;
    let mut stream = client
        .fetch_blob(&repository, &image.layer.digest, 65_537)
        .await
        .unwrap();
    assert_eq!(stream.offset(), 65_537);
    assert_eq!(stream.total_size(), Some(image.layer.size()));
    assert_eq!(
        read_all(&mut stream).await.unwrap(),
        image.layer.bytes[65_537..]
    );
    let past_end = client
        .fetch_blob(&repository, &image.layer.digest, image.layer.size() + 1)
        .await
        .unwrap_err();
    assert_eq!(past_end.kind(), ErrorKind::FailedPrecondition, "{past_end}");
}

#[tokio::test]
async fn missing_things_are_not_found_and_named() {
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let client = client(fast_options());
    let repository = repo(&registry.host(), "nothing/here");
    let reference = repository.tagged("absent").unwrap();
    let error = client.resolve(&reference).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(
        error.to_string().contains(&reference.to_string()),
        "{error}"
    );
    let digest = Digest::sha256_of(b"nope");
    let error = client
        .fetch_blob(&repository, &digest, 0)
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(error.to_string().contains(digest.as_str()), "{error}");
    assert_eq!(
        client.blob_exists(&repository, &digest).await.unwrap(),
        None
    );
    let error = client
        .fetch_manifest(&repository, &digest)
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn a_host_where_nothing_listens_is_unavailable_and_says_why() {
    // Port 1 (tcpmux): privileged, outside the ephemeral range that other
    // tests' servers bind, and served by nothing on these machines. A port
    // freed a moment ago could be taken by another test's server meanwhile.
    let host = "127.0.0.1:1".to_owned();
    let client = client(fast_options());
    let reference = repo(&host, "team/app").tagged("v1").unwrap();
    let error = client.resolve(&reference).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
    let message = error.to_string();
    assert!(
        message.contains(&format!("neither https://{host}/v2 nor http://{host}/v2")),
        "{message}"
    );
    assert!(message.contains("Connection refused"), "{message}");
}

#[tokio::test]
async fn manifests_over_the_size_limit_are_refused_both_ways() {
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let repository = repo(&registry.host(), "limits");
    let image = sample_image(3, 1000);
    push_image(&client(fast_options()), &repository, &image, "v1").await;
    let small = client(hoist_remote::ClientOptions {
        max_manifest_size: 100,
        ..fast_options()
    });
    let error = small
        .get_manifest(&repository.tagged("v1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TooLarge, "{error}");
    let error = small
        .put_manifest(
            &repository,
            ManifestTarget::Tag("big"),
            media_type::OCI_INDEX,
            image.index.bytes.clone(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TooLarge, "{error}");
    assert!(
        client(fast_options())
            .resolve(&repository.tagged("big").unwrap())
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn an_index_whose_children_are_missing_is_refused_with_the_registry_code() {
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let client = client(fast_options());
    let repository = repo(&registry.host(), "orphans");
    let image = sample_image(4, 1000);
    let error = client
        .put_manifest(
            &repository,
            ManifestTarget::Tag("v1"),
            media_type::OCI_INDEX,
            image.index.bytes.clone(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FailedPrecondition, "{error}");
    assert_eq!(
        error.registry_code(),
        Some("MANIFEST_BLOB_UNKNOWN"),
        "{error}"
    );
    assert_eq!(error.status(), Some(400));
}

#[tokio::test]
async fn a_docker_manifest_keeps_its_media_type() {
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let client = client(fast_options());
    let repository = repo(&registry.host(), "docker/types");
    let config = Blob::new(Bytes::from_static(
        b"{\"architecture\":\"amd64\",\"os\":\"linux\"}",
    ));
    client
        .push_blob(
            &repository,
            &config.digest,
            config.size(),
            &hoist_remote::BytesSource(config.bytes.clone()),
            &Default::default(),
        )
        .await
        .unwrap();
    let manifest = Bytes::from(
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": media_type::DOCKER_MANIFEST,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                       "digest": config.digest, "size": config.size()},
            "layers": []
        }))
        .unwrap(),
    );
    client
        .put_manifest(
            &repository,
            ManifestTarget::Tag("d"),
            media_type::DOCKER_MANIFEST,
            manifest.clone(),
        )
        .await
        .unwrap();
    let fetched = client
        .get_manifest(&repository.tagged("d").unwrap())
        .await
        .unwrap();
    assert_eq!(fetched.descriptor.media_type, media_type::DOCKER_MANIFEST);
    assert_eq!(fetched.bytes, manifest);
}
