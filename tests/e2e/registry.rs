//! Pull, push, copy and verify against a real `docker-registry`.

use hoist::platform::parse;
use hoist::{Platforms, PullOptions, PushOptions};

use crate::support::{
    fixture, index_platforms, load_fixture, push_all, quiet, registry, run, seed, store,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_all_platforms_stores_everything_labelled() {
    let Some(registry) = registry() else { return };
    let fixture = fixture(11);
    let reference = format!("{}/team/app:1", registry.host());
    let digest = seed(&fixture, &reference).await;
    assert_eq!(digest, fixture.index.digest);

    let (_dir, store) = store();
    let report = store
        .pull(&reference, &PullOptions::default(), quiet())
        .await
        .unwrap();
    assert_eq!(report.target.digest.to_string(), fixture.index.digest);
    assert_eq!(report.platforms.len(), 4);
    assert_eq!(report.blobs_downloaded, fixture.blobs().len() - 5);
    let images = store.list_images(None).unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].platforms.complete(), 4);
    let inspection = store.inspect(&report.name).unwrap();
    assert_eq!(inspection.document.raw(), &fixture.index.bytes[..]);
    let source_key = format!("containerd.io/distribution.source.{}", registry.host());
    for info in store.content_list().unwrap() {
        assert_eq!(
            info.labels.get(&source_key).map(String::as_str),
            Some("team/app")
        );
    }
    assert!(store.leases().unwrap().is_empty());
    assert!(store.fsck().unwrap().is_clean());
    assert!(store.gc(false).unwrap().blobs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_one_platform_keeps_the_whole_index() {
    let Some(registry) = registry() else { return };
    let fixture = fixture(12);
    let reference = format!("{}/team/app:1", registry.host());
    seed(&fixture, &reference).await;
    let (_dir, store) = store();
    let options = PullOptions::new(Platforms::Only(vec![parse("linux/arm64").unwrap()]));
    let report = store.pull(&reference, &options, quiet()).await.unwrap();
    assert_eq!(report.platforms, vec![parse("linux/arm64").unwrap()]);
    let summary = &store.list_images(None).unwrap()[0].platforms;
    assert_eq!((summary.platforms.len(), summary.complete()), (4, 1));
    assert_eq!(
        store.inspect(&report.name).unwrap().document.raw(),
        &fixture.index.bytes[..]
    );
    // The other platforms are absent, and gc keeps what the index reaches.
    assert!(store.gc(false).unwrap().blobs.is_empty());
    assert!(
        store
            .verify_local(&report.name, &[parse("linux/arm64").unwrap()])
            .is_ok()
    );
    let error = store
        .verify_local(&report.name, &[parse("linux/amd64").unwrap()])
        .unwrap_err();
    assert!(error.is_platform_missing(), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_host_platform_fetches_one_manifest() {
    let Some(registry) = registry() else { return };
    let fixture = fixture(13);
    let reference = format!("{}/team/app:1", registry.host());
    seed(&fixture, &reference).await;
    let (_dir, store) = store();
    let report = store
        .pull(&reference, &PullOptions::new(Platforms::Host), quiet())
        .await
        .unwrap();
    assert_eq!(report.manifests.len(), 1);
    assert_eq!(store.list_images(None).unwrap()[0].platforms.complete(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_of_an_absent_platform_lists_the_available_ones_and_names_nothing() {
    let Some(registry) = registry() else { return };
    let fixture = fixture(14);
    let reference = format!("{}/team/app:1", registry.host());
    seed(&fixture, &reference).await;
    let (_dir, store) = store();
    let options = PullOptions::new(Platforms::Only(vec![parse("linux/ppc64le").unwrap()]));
    let error = store.pull(&reference, &options, quiet()).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let available = error.image_error().unwrap().available_platforms().unwrap();
    assert_eq!(available.len(), 4);
    assert!(error.to_string().contains("linux/ppc64le"), "{error}");
    assert!(store.list_images(None).unwrap().is_empty());
    assert!(store.leases().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_index_is_refused_on_pull_and_on_push() {
    let Some(registry) = registry() else { return };
    let (_dir, store) = store();
    let client = store.client().unwrap();
    let empty = br#"{"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#;
    let repository = hoist::remote::Repository::new(&registry.host(), "team/empty").unwrap();
    client
        .put_manifest(
            &repository,
            hoist::remote::ManifestTarget::Tag("1"),
            "application/vnd.oci.image.index.v1+json",
            bytes::Bytes::from_static(empty),
        )
        .await
        .unwrap();
    let reference = format!("{}/team/empty:1", registry.host());
    let error = store
        .pull(&reference, &PullOptions::default(), quiet())
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(
        matches!(
            error.image_error().unwrap().detail(),
            Some(hoist::image::Detail::EmptyIndex { .. })
        ),
        "{error:?}"
    );

    // An empty index stored locally is refused before anything is sent.
    let archive_dir = tempfile::tempdir().unwrap();
    let blobs = archive_dir.path().join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let digest = hoist::content::Digest::sha256_of(empty);
    std::fs::write(blobs.join(digest.hex()), empty).unwrap();
    std::fs::write(
        archive_dir.path().join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest.to_string(),
        "size": empty.len(), "annotations": {"io.containerd.image.name": "local/empty:1"}}]});
    std::fs::write(archive_dir.path().join("index.json"), index.to_string()).unwrap();
    store.load_path(archive_dir.path(), None).unwrap();
    let target = format!("{}/team/never:1", registry.host());
    let error = push_all(&store, "local/empty:1", &target)
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let never = store.remote_platforms(&target).await.unwrap_err();
    assert!(never.is_not_found(), "{never}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reduced_push_leaves_exactly_the_chosen_platforms_and_no_names() {
    let Some(registry) = registry() else { return };
    let fixture = fixture(15);
    let (_dir, store) = store();
    load_fixture(&store, &fixture, "example.com/app:1");
    let before = store.list_images(None).unwrap();
    let two = vec![parse("linux/amd64").unwrap(), parse("linux/arm64").unwrap()];
    let target = format!("{}/seed/app:reduced", registry.host());
    let report = store
        .push(
            "example.com/app:1",
            Some(&target),
            &PushOptions::new(Platforms::Only(two.clone())),
            quiet(),
        )
        .await
        .unwrap();
    assert_eq!(report.pushed, two);
    assert_eq!(report.left_out.len(), 2);
    assert_ne!(report.digest.to_string(), fixture.index.digest);
    // The local image is unchanged, no temporary name exists, no lease stays.
    assert_eq!(store.list_images(None).unwrap(), before);
    assert!(store.leases().unwrap().is_empty());
    // The registry holds an index with exactly those platforms.
    let remote = store.remote_platforms(&target).await.unwrap();
    assert!(remote.is_index);
    assert_eq!(remote.platforms(), two);
    assert_eq!(remote.target.digest, report.digest);
    store.verify_remote(&target, &two).await.unwrap();
    let missing = store
        .verify_remote(&target, &[parse("linux/s390x").unwrap()])
        .await
        .unwrap_err();
    assert!(missing.is_platform_missing(), "{missing}");
    if hoist_testkit::require_tool("skopeo").unwrap().is_some() {
        let raw = run(
            "skopeo",
            &[
                "inspect",
                "--raw",
                "--tls-verify=false",
                &format!("docker://{target}"),
            ],
        );
        assert_eq!(index_platforms(&raw), vec!["linux/amd64", "linux/arm64/v8"]);
    }
    // gc afterwards removes nothing the original index references.
    store.gc(false).unwrap();
    assert!(
        store
            .check("example.com/app:1", &Platforms::All)
            .unwrap()
            .is_complete()
    );
    assert!(store.fsck().unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_again_finds_everything_present_and_mounts_across_repositories() {
    let Some(registry) = registry() else { return };
    let fixture = fixture(16);
    let first = format!("{}/team/app:1", registry.host());
    seed(&fixture, &first).await;
    // Pulled from team/app, the blobs carry that source: a push to another
    // repository of the same registry mounts them.
    let (_dir, store) = store();
    store
        .pull(&first, &PullOptions::default(), quiet())
        .await
        .unwrap();
    let again = store
        .push(&first, None, &PushOptions::default(), quiet())
        .await
        .unwrap();
    assert_eq!(again.blobs_uploaded, 0);
    assert_eq!(again.blobs_present, fixture.blobs().len() - 5);
    let other = format!("{}/other/app:2", registry.host());
    let mounted = push_all(&store, &first, &other).await.unwrap();
    assert_eq!(mounted.blobs_uploaded, 0);
    assert_eq!(mounted.blobs_mounted, fixture.blobs().len() - 5);
    assert_eq!(mounted.digest.to_string(), fixture.index.digest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_registry_to_registry_with_a_subset() {
    let Some(source) = registry() else { return };
    let Some(destination) = registry() else {
        return;
    };
    let fixture = fixture(17);
    let from = format!("{}/team/app:1", source.host());
    seed(&fixture, &from).await;
    let (_dir, store) = store();
    let to = format!("{}/copied/app:1", destination.host());
    let one = vec![parse("linux/s390x").unwrap()];
    let report = store
        .copy(
            &from,
            &to,
            &PushOptions::new(Platforms::Only(one.clone())),
            quiet(),
        )
        .await
        .unwrap();
    assert_eq!(report.pushed, one);
    let remote = store.remote_platforms(&to).await.unwrap();
    assert_eq!(remote.platforms(), one);
    // Nothing named locally, no lease left.
    assert!(store.list_images(None).unwrap().is_empty());
    assert!(store.leases().unwrap().is_empty());
    // A full copy keeps the digest.
    let all = format!("{}/copied/all:1", destination.host());
    let report = store
        .copy(&from, &all, &PushOptions::default(), quiet())
        .await
        .unwrap();
    assert_eq!(report.digest.to_string(), fixture.index.digest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_follows_an_index_nested_in_the_index() {
    let Some(registry) = registry() else { return };
    let fixture = fixture(16);
    let (_dir, store) = store();
    let (reference, outer) = seed_nested(&store, &registry, &fixture).await;
    let repository = hoist::remote::Repository::new(&registry.host(), "team/nested").unwrap();

    let arm64 = parse("linux/arm64").unwrap();
    let options = PullOptions::new(Platforms::Only(vec![arm64.clone()]));
    let report = store.pull(&reference, &options, quiet()).await.unwrap();
    assert_eq!(report.platforms, vec![arm64.clone()]);
    assert_eq!(
        report.target.digest,
        hoist::content::Digest::sha256_of(outer.as_bytes())
    );
    let summary = &store.list_images(None).unwrap()[0].platforms;
    assert_eq!((summary.platforms.len(), summary.complete()), (4, 1));
    assert!(store.verify_local(&report.name, &[arm64]).is_ok());
    // The nested index is stored byte for byte, and GC keeps it and what
    // it reaches.
    let nested: hoist::content::Digest = fixture.index.digest.parse().unwrap();
    assert!(store.gc(false).unwrap().blobs.is_empty());
    let mut stored = Vec::new();
    std::io::Read::read_to_end(&mut store.content_get(&nested).unwrap(), &mut stored).unwrap();
    assert_eq!(stored, fixture.index.bytes);
    assert!(store.fsck().unwrap().is_clean());

    // All platforms: every manifest of the nested index.
    let (_dir, all) = crate::support::store();
    let report = all
        .pull(&reference, &PullOptions::default(), quiet())
        .await
        .unwrap();
    assert_eq!(report.platforms.len(), 4);
    assert_eq!(all.list_images(None).unwrap()[0].platforms.complete(), 4);

    // Eight indexes around the fixture's: refused, saying why, naming nothing.
    let client = all.client().unwrap();
    let (mut digest, mut size) = (fixture.index.digest.clone(), fixture.index.bytes.len());
    for level in 0..8 {
        let wrapper = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": digest,
                "size": size,
            }],
        })
        .to_string();
        let pushed = client
            .put_manifest(
                &repository,
                hoist::remote::ManifestTarget::Tag(&format!("deep-{level}")),
                "application/vnd.oci.image.index.v1+json",
                bytes::Bytes::from(wrapper.clone()),
            )
            .await
            .unwrap();
        (digest, size) = (pushed.digest.to_string(), wrapper.len());
    }
    let (_dir, deep) = crate::support::store();
    let deep_reference = format!("{}/team/nested:deep-7", registry.host());
    let error = deep
        .pull(&deep_reference, &PullOptions::default(), quiet())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("nest more than 8 deep"),
        "{error}"
    );
    assert!(deep.list_images(None).unwrap().is_empty());
    assert!(deep.leases().unwrap().is_empty());
}

/// Seeds `fixture` as `team/nested:inner` and tags `team/nested:1` an outer
/// index whose only entry is the fixture's index; returns that reference and
/// the outer index's bytes.
async fn seed_nested(
    store: &hoist::Store,
    registry: &hoist_testkit::Registry,
    fixture: &hoist_testkit::Fixture,
) -> (String, String) {
    let inner = format!("{}/team/nested:inner", registry.host());
    seed(fixture, &inner).await;
    let outer = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": fixture.index.digest,
            "size": fixture.index.bytes.len(),
        }],
    })
    .to_string();
    let repository = hoist::remote::Repository::new(&registry.host(), "team/nested").unwrap();
    store
        .client()
        .unwrap()
        .put_manifest(
            &repository,
            hoist::remote::ManifestTarget::Tag("1"),
            "application/vnd.oci.image.index.v1+json",
            bytes::Bytes::from(outer.clone()),
        )
        .await
        .unwrap();
    (format!("{}/team/nested:1", registry.host()), outer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_and_copy_keep_an_index_nested_in_the_index() {
    let Some(source) = registry() else { return };
    let Some(target) = registry() else { return };
    let fixture = fixture(18);
    let (_dir, store) = store();
    let (reference, outer) = seed_nested(&store, &source, &fixture).await;
    let outer_digest = hoist::content::Digest::sha256_of(outer.as_bytes());
    let inner_digest: hoist::content::Digest = fixture.index.digest.parse().unwrap();
    store
        .pull(&reference, &PullOptions::default(), quiet())
        .await
        .unwrap();
    let client = store.client().unwrap();

    // All platforms to an empty registry: the same outer index, byte for
    // byte, with the nested index and every blob it reaches uploaded first.
    let all = format!("{}/pushed/nested:1", target.host());
    let report = push_all(&store, &reference, &all).await.unwrap();
    assert_eq!(report.digest, outer_digest);
    assert_eq!(report.pushed.len(), 4);
    assert_eq!(report.blobs_uploaded, fixture.blobs().len() - 5);
    let pushed = hoist::remote::Repository::new(&target.host(), "pushed/nested").unwrap();
    let nested = client.fetch_manifest(&pushed, &inner_digest).await.unwrap();
    assert_eq!(nested.bytes.as_ref(), fixture.index.bytes.as_slice());
    let remote = store.remote_platforms(&all).await.unwrap();
    assert_eq!(remote.target.digest, outer_digest);
    assert_eq!(remote.platforms().len(), 4);
    store
        .verify_remote(&all, &remote.platforms())
        .await
        .unwrap();

    // One platform: a new, flat index listing just its manifest.
    let arm64 = parse("linux/arm64").unwrap();
    let reduced = format!("{}/reduced/nested:1", target.host());
    let report = store
        .push(
            &reference,
            Some(&reduced),
            &PushOptions::new(Platforms::Only(vec![arm64.clone()])),
            quiet(),
        )
        .await
        .unwrap();
    assert_eq!(report.pushed, vec![arm64.clone()]);
    let raw = run(
        "skopeo",
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{reduced}"),
        ],
    );
    assert_eq!(index_platforms(&raw), vec!["linux/arm64/v8"]);
    let listed: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let media_types: Vec<&str> = listed["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(
        media_types,
        vec!["application/vnd.oci.image.manifest.v1+json"]
    );

    // Copy, registry to registry, all platforms: the digest is kept.
    let (_dir, copier) = crate::support::store();
    let copied = format!("{}/copied/nested:1", target.host());
    let report = copier
        .copy(&reference, &copied, &PushOptions::default(), quiet())
        .await
        .unwrap();
    assert_eq!(report.digest, outer_digest);
    assert_eq!(
        copier
            .remote_platforms(&copied)
            .await
            .unwrap()
            .target
            .digest,
        outer_digest
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_to_a_digest_needs_that_digest_and_tags_nothing() {
    let Some(registry) = registry() else { return };
    let fixture = fixture(19);
    let (_dir, store) = store();
    load_fixture(&store, &fixture, "example.com/app:1");
    let index = &fixture.index.digest;

    let pinned = format!("{}/pinned/app@{index}", registry.host());
    let report = push_all(&store, "example.com/app:1", &pinned)
        .await
        .unwrap();
    assert_eq!(report.digest.to_string(), *index);
    assert_eq!(report.reference, pinned);
    let remote = store.remote_platforms(&pinned).await.unwrap();
    assert_eq!(remote.target.digest.to_string(), *index);
    // No tag: the registry lists none (2.8 answers 404 for a repository
    // without tags, later versions an empty list).
    let tags = run(
        "curl",
        &[
            "-s",
            &format!("http://{}/v2/pinned/app/tags/list", registry.host()),
        ],
    );
    let tags: serde_json::Value = serde_json::from_str(&tags).unwrap();
    assert!(
        tags.get("tags")
            .is_none_or(|t| t.is_null() || t == &serde_json::json!([])),
        "{tags}"
    );

    // A reduced push cannot have the original's digest: refused before
    // anything is sent.
    let elsewhere = format!("{}/refused/app@{index}", registry.host());
    let error = store
        .push(
            "example.com/app:1",
            Some(&elsewhere),
            &PushOptions::new(Platforms::Only(vec![parse("linux/amd64").unwrap()])),
            quiet(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), hoist::ErrorKind::InvalidArgument, "{error}");
    assert!(error.to_string().contains(index.as_str()), "{error}");
    assert!(error.to_string().contains("nothing was sent"), "{error}");
    let absent = store.remote_platforms(&elsewhere).await.unwrap_err();
    assert!(absent.is_not_found(), "{absent}");
    let layer = fixture
        .blobs()
        .into_iter()
        .find(|b| b.media_type.contains("layer"))
        .unwrap();
    let client = store.client().unwrap();
    let refused = hoist::remote::Repository::new(&registry.host(), "refused/app").unwrap();
    let layer_digest = layer.digest.parse().unwrap();
    assert_eq!(
        client.blob_exists(&refused, &layer_digest).await.unwrap(),
        None
    );

    // A tag and a digest: the tag is pushed, and only if the digest matches.
    let both = format!("{}/pinned/app:1@{index}", registry.host());
    push_all(&store, "example.com/app:1", &both).await.unwrap();
    let tagged = format!("{}/pinned/app:1", registry.host());
    assert_eq!(
        store
            .remote_platforms(&tagged)
            .await
            .unwrap()
            .target
            .digest
            .to_string(),
        *index
    );
}

/// buildx's attestation manifests travel with the platforms they describe:
/// a pull of one platform fetches that platform's attestation (and only
/// its), and a push of that platform keeps it, digests unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attestations_follow_the_platforms_pulled_and_pushed() {
    let Some(registry) = registry() else { return };
    let fixture = hoist_testkit::Fixture::generate(
        &hoist_testkit::FixtureSpec::four_platforms(19, 32 * 1024, 4096).with_attestations(),
    )
    .unwrap();
    let reference = format!("{}/team/attested:1", registry.host());
    seed(&fixture, &reference).await;
    let arm64 = &fixture.images[1];
    assert_eq!(arm64.platform.to_text(), "linux/arm64/v8");
    let attestation = arm64.attestation.as_ref().unwrap();

    let (_dir, store) = store();
    let options = PullOptions::new(Platforms::Only(vec![parse("linux/arm64").unwrap()]));
    let report = store.pull(&reference, &options, quiet()).await.unwrap();
    let fetched: Vec<String> = report
        .manifests
        .iter()
        .map(|e| e.descriptor.digest.to_string())
        .collect();
    assert_eq!(
        fetched,
        [
            arm64.manifest.digest.clone(),
            attestation.manifest.digest.clone()
        ]
    );
    for blob in [
        &attestation.manifest,
        &attestation.config,
        &attestation.statement,
    ] {
        assert!(
            store.content_info(&blob.digest.parse().unwrap()).is_ok(),
            "{blob:?}"
        );
    }
    for other in [&fixture.images[0], &fixture.images[2], &fixture.images[3]] {
        let other = other.attestation.as_ref().unwrap();
        assert!(
            store
                .content_info(&other.manifest.digest.parse().unwrap())
                .is_err(),
            "another platform's attestation was fetched"
        );
    }

    // Pushed as that platform alone: the index lists it and its attestation.
    let pushed = format!("{}/team/attested:arm64", registry.host());
    let options = PushOptions::new(Platforms::Only(vec![parse("linux/arm64").unwrap()]));
    store
        .push(&report.name, Some(&pushed), &options, quiet())
        .await
        .unwrap();
    let remote = store.remote_platforms(&pushed).await.unwrap();
    let listed: Vec<(String, bool)> = remote
        .entries
        .iter()
        .map(|e| (e.descriptor.digest.to_string(), e.attestation))
        .collect();
    assert_eq!(
        listed,
        [
            (arm64.manifest.digest.clone(), false),
            (attestation.manifest.digest.clone(), true)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_of_what_the_registry_has_asks_for_manifests_and_sends_no_blob() {
    let Some(registry) = registry() else { return };
    let proxy = hoist_testkit::FaultProxy::start(&registry.host()).unwrap();
    let fixture = fixture(18);
    let (_dir, store) = store();
    load_fixture(&store, &fixture, "local/app:1");
    let destination = format!("{}/team/app:1", proxy.host());
    let first = push_all(&store, "local/app:1", &destination).await.unwrap();
    assert_eq!(first.blobs_uploaded, fixture.blobs().len() - 5);
    let before = proxy.requests().len();

    assert!(!first.tag_unchanged);
    // Version checks (`GET /v2/`, connections opened ahead) aside.
    let asked_since = |from: usize| -> Vec<(String, String)> {
        proxy.requests()[from..]
            .iter()
            .filter(|r| r.path != "/v2/")
            .map(|r| (r.method.clone(), r.path.clone()))
            .collect()
    };

    // The tag names the image already: six questions at once (the index
    // and its 4 manifests by digest, the tag), nothing written, nothing
    // read back.
    let again = push_all(&store, "local/app:1", &destination).await.unwrap();
    assert_eq!(again.blobs_uploaded, 0);
    assert_eq!(again.blobs_present, fixture.blobs().len() - 5);
    assert!(again.tag_unchanged);
    assert_eq!(again.digest.as_str(), fixture.index.digest);
    let asked = asked_since(before);
    assert!(
        asked.iter().all(|(method, _)| method == "HEAD"),
        "{asked:?}"
    );
    // Distinct questions: a request on a connection that broke is sent again.
    let distinct: std::collections::BTreeSet<&String> = asked.iter().map(|(_, p)| p).collect();
    assert_eq!(distinct.len(), 6, "{asked:?}");
    assert!(
        asked.iter().any(|(_, path)| path.ends_with("/manifests/1")),
        "{asked:?}"
    );

    // The tag moved to another image meanwhile: the manifests are there, so
    // no blob is sent, but the tag is put back once and read back once.
    let other = crate::support::fixture(19);
    load_fixture(&store, &other, "local/other:1");
    push_all(&store, "local/other:1", &destination)
        .await
        .unwrap();
    let before = proxy.requests().len();
    let back = push_all(&store, "local/app:1", &destination).await.unwrap();
    assert!(!back.tag_unchanged);
    assert_eq!(back.blobs_uploaded, 0);
    let asked = asked_since(before);
    assert!(
        asked.iter().all(|(_, path)| !path.contains("/blobs/")),
        "{asked:?}"
    );
    let count = |method: &str| {
        asked
            .iter()
            .filter(|(m, path)| m == method && path.ends_with("/manifests/1"))
            .count()
    };
    assert_eq!((count("PUT"), count("GET")), (1, 1), "{asked:?}");
    let resolved = resolve_at_host(&registry.host(), "team/app", "1").await;
    assert_eq!(resolved, fixture.index.digest);
}

/// A child manifest deleted from the repository leaves the tag naming a
/// dangling index: a push of the same image puts the child back before the
/// tag, instead of taking "the tag names it" as "everything is there".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_puts_back_a_child_manifest_deleted_from_the_repository() {
    let Some(registry) = registry() else { return };
    let fixture = fixture(20);
    let (_dir, store) = store();
    load_fixture(&store, &fixture, "local/app:1");
    let destination = format!("{}/team/app:1", registry.host());
    push_all(&store, "local/app:1", &destination).await.unwrap();
    let child = &fixture.images[1].manifest.digest;
    let deleted = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "DELETE",
        ])
        .arg(format!(
            "http://{}/v2/team/app/manifests/{child}",
            registry.host()
        ))
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&deleted.stdout), "202");
    let repository = hoist::remote::Repository::new(&registry.host(), "team/app").unwrap();
    let client = store.client().unwrap();
    let digest: hoist::content::Digest = child.parse().unwrap();
    assert!(!client.manifest_exists(&repository, &digest).await.unwrap());

    let again = push_all(&store, "local/app:1", &destination).await.unwrap();
    assert!(!again.tag_unchanged);
    assert_eq!(again.blobs_uploaded, 0);
    assert!(client.manifest_exists(&repository, &digest).await.unwrap());
    // Whole again: the next push finds nothing to do.
    let third = push_all(&store, "local/app:1", &destination).await.unwrap();
    assert!(third.tag_unchanged);
}

/// A pull-only mirror in `hosts.toml` that holds an older image under the
/// same tag: a pull may read it, but a push's reads (what is there, the
/// read-back of the tag) go where the push writes. Read from the mirror,
/// the read-back would find the old image and fail the push.
#[tokio::test]
async fn a_push_reads_back_from_where_it_wrote_never_from_a_pull_mirror() {
    let (Some(origin), Some(mirror)) = (registry(), registry()) else {
        return;
    };
    let old = fixture(70);
    let new = fixture(71);
    let old_digest = seed(&old, &format!("{}/team/app:v1", mirror.host())).await;

    let certs = tempfile::tempdir().unwrap();
    let host_dir = certs.path().join(origin.host());
    std::fs::create_dir(&host_dir).unwrap();
    std::fs::write(
        host_dir.join("hosts.toml"),
        format!(
            "server = \"http://{}\"\n[host.\"http://{}\"]\n  capabilities = [\"pull\", \"resolve\"]\n",
            origin.host(),
            mirror.host()
        ),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = hoist::Store::open(
        dir.path().join("root"),
        hoist::StoreOptions::default()
            .credentials(hoist::CredentialsSource::Anonymous)
            .hosts_dir(certs.path()),
    )
    .unwrap();

    // Through the mirror, the tag names the old image: the mirror is used.
    let destination = format!("{}/team/app:v1", origin.host());
    let resolved = store
        .client()
        .unwrap()
        .resolve(&destination.parse().unwrap())
        .await;
    assert_eq!(resolved.unwrap().digest.to_string(), old_digest);

    load_fixture(&store, &new, "local.test/app:v1");
    let report = push_all(&store, "local.test/app:v1", &destination)
        .await
        .unwrap();
    assert_eq!(report.digest.as_str(), new.index.digest);
    // The origin has the new image; the mirror still has the old one.
    let on_origin = resolve_at_host(&origin.host(), "team/app", "v1").await;
    assert_eq!(on_origin, new.index.digest);
    let on_mirror = resolve_at_host(&mirror.host(), "team/app", "v1").await;
    assert_eq!(on_mirror, old_digest);
}

/// The digest `host/repository:tag` resolves to, asked of that host alone.
async fn resolve_at_host(host: &str, repository: &str, tag: &str) -> String {
    let client = hoist::remote::Client::new(hoist::remote::ClientOptions::default()).unwrap();
    let reference: hoist::remote::Reference = format!("{host}/{repository}:{tag}").parse().unwrap();
    client.resolve(&reference).await.unwrap().digest.to_string()
}
