//! Referrers pushed and copied: to a real `docker-registry` (no referrers
//! API, so hoist writes the fallback tags `sha256-<hex>` and skopeo reads
//! them), through a `FaultProxy` that loses hoist's tag updates, and to a
//! proxy answering the referrers API (no fallback tag written). Also the
//! API's `Link` pagination.

use std::collections::BTreeSet;

use hoist::platform::parse;
use hoist::remote::{Client, ClientOptions, FALLBACK_TAG_ATTEMPTS, Repository};
use hoist::{Platforms, PullOptions, PushOptions, ReferrersOptions, Store};
use hoist_testkit::referrers::{
    CREATED, FixtureArtifact, PlatformReferrers, SBOM, SBOM_CREATED, SIGNATURE, SIMPLE_SIGNING,
    SignedImage, SignedImageSpec, fallback_index, fallback_tag, manifest_digests, upload_artifact,
    upload_manifest,
};
use hoist_testkit::{Fault, FaultKind, FaultProxy, FixtureBlob, FixtureSpec};

use crate::support::{publish, quiet, referrer_digests, registry, run, store};

/// A 4-platform image with buildx attestations, a signature of its index
/// and, for every platform, a signature, an SBOM and the SBOM's signature.
fn signed_image(seed_number: u64) -> SignedImage {
    SignedImageSpec::new(
        FixtureSpec::four_platforms(seed_number, 16 * 1024, 2048).with_attestations(),
    )
    .generate()
    .unwrap()
}

/// The digests of the referrers of `platforms`, recursively.
fn referrers_of(signed: &SignedImage, platforms: &[&str]) -> BTreeSet<String> {
    manifest_digests(signed.of(platforms))
}

fn two_platforms() -> Platforms {
    Platforms::Only(vec![
        parse("linux/amd64").unwrap(),
        parse("linux/arm64").unwrap(),
    ])
}

fn client() -> Client {
    Client::new(ClientOptions::default()).unwrap()
}

fn repository(host: &str, name: &str) -> Repository {
    format!("{host}/{name}").parse().unwrap()
}

/// The digests the fallback tag of `subject` lists in `repository`, or
/// `None` when there is no such tag.
async fn fallback_listing(repository: &Repository, subject: &str) -> Option<BTreeSet<String>> {
    let tag = repository.tagged(&subject.replacen(':', "-", 1)).unwrap();
    match client().get_manifest(&tag).await {
        Ok(manifest) => {
            let value: serde_json::Value = serde_json::from_slice(&manifest.bytes).unwrap();
            Some(
                value["manifests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["digest"].as_str().unwrap().to_owned())
                    .collect(),
            )
        }
        Err(e) if e.kind() == hoist::remote::ErrorKind::NotFound => None,
        Err(e) => panic!("reading {tag}: {e}"),
    }
}

/// Whether `repository` holds manifest `digest`; when it does, its bytes
/// must be `expected`'s exactly.
async fn holds(repository: &Repository, expected: &FixtureBlob) -> bool {
    match client()
        .fetch_manifest(repository, &expected.digest.parse().unwrap())
        .await
    {
        Ok(manifest) => {
            assert_eq!(manifest.bytes.as_ref(), expected.bytes.as_slice());
            true
        }
        Err(e) if e.kind() == hoist::remote::ErrorKind::NotFound => false,
        Err(e) => panic!("fetching {}: {e}", expected.digest),
    }
}

/// Checks that `repository` holds exactly the referrers of the kept
/// platforms, byte for byte, listed in their fallback tags, and nothing of
/// the dropped platforms nor the original index's signature.
async fn assert_exactly_kept(signed: &SignedImage, repository: &Repository, kept: &[&str]) {
    for platform in &signed.platforms {
        let is_kept = kept.contains(&platform.platform.as_str());
        for artifact in platform.artifacts() {
            assert_eq!(
                holds(repository, &artifact.manifest).await,
                is_kept,
                "{} referrer {}",
                platform.platform,
                artifact.manifest.digest
            );
        }
        let listed = fallback_listing(repository, &platform.manifest.digest).await;
        let sbom_listed = fallback_listing(repository, &platform.sbom().manifest.digest).await;
        if is_kept {
            assert_eq!(
                listed,
                Some(direct_digests(platform)),
                "{}",
                platform.platform
            );
            assert_eq!(
                sbom_listed,
                Some(manifest_digests([platform.sbom_signature()]))
            );
        } else {
            assert_eq!(listed, None, "{}", platform.platform);
            assert_eq!(sbom_listed, None, "{}", platform.platform);
        }
    }
    assert!(!holds(repository, &signed.index_signature().manifest).await);
}

/// What the fallback tag of `platform`'s manifest lists: its signature and SBOM.
fn direct_digests(platform: &PlatformReferrers) -> BTreeSet<String> {
    manifest_digests(platform.direct())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reduced_copy_takes_exactly_the_kept_platforms_referrers_and_skopeo_reads_the_tags() {
    let Some(registry) = registry() else { return };
    let Some(skopeo) = hoist_testkit::require_tool("skopeo").unwrap() else {
        return;
    };
    let host = registry.host();
    let signed = signed_image(61);
    publish(&signed, &host, "team/source").await;

    let (_dir, store) = store();
    let options = PushOptions::new(two_platforms()).with_referrers(ReferrersOptions::all());
    let report = store
        .copy(
            &format!("{host}/team/source:1"),
            &format!("{host}/team/copy:1"),
            &options,
            quiet(),
        )
        .await
        .unwrap();
    let kept = ["linux/amd64", "linux/arm64/v8"];
    assert_eq!(
        referrer_digests(&report.referrers),
        referrers_of(&signed, &kept)
    );
    // The index signature describes the 4-platform index, not the new one.
    assert_eq!(
        referrer_digests(&report.referrers_left_behind),
        manifest_digests([signed.index_signature()])
    );
    assert_eq!(report.fallback_tags.len(), 4, "{:?}", report.fallback_tags);
    let destination = repository(&host, "team/copy");
    assert_exactly_kept(&signed, &destination, &kept).await;
    // The kept platforms' buildx attestations came too, and only theirs.
    for image in &signed.fixture.images {
        let attestation = &image.attestation.as_ref().unwrap().manifest;
        let is_kept = kept.contains(&image.platform.to_text().as_str());
        assert_eq!(holds(&destination, attestation).await, is_kept);
    }

    // skopeo reads the index hoist wrote at the fallback tag.
    let arm = signed.platform("linux/arm64/v8");
    let raw = run(
        skopeo.to_str().unwrap(),
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{host}/team/copy:{}", fallback_tag(&arm.manifest)),
        ],
    );
    let index: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(index["mediaType"], hoist_testkit::oci::INDEX);
    let entries = index["manifests"].as_array().unwrap();
    let sbom = entries
        .iter()
        .find(|e| e["digest"] == arm.sbom().manifest.digest)
        .unwrap();
    assert_eq!(sbom["artifactType"], SBOM);
    assert_eq!(sbom["size"], arm.sbom().manifest.size());
    assert_eq!(sbom["annotations"][CREATED], SBOM_CREATED);
    assert!(
        entries
            .iter()
            .any(|e| e["digest"] == arm.signature().manifest.digest)
    );
    assert_eq!(entries.len(), 2);

    // A copy of every platform keeps the index and takes its signature.
    let (_dir2, store) = crate::support::store();
    let report = store
        .copy(
            &format!("{host}/team/source:1"),
            &format!("{host}/team/whole:1"),
            &PushOptions::new(Platforms::All).with_referrers(ReferrersOptions::all()),
            quiet(),
        )
        .await
        .unwrap();
    assert_eq!(report.digest.to_string(), signed.fixture.index.digest);
    assert!(report.referrers_left_behind.is_empty());
    let whole = repository(&host, "team/whole");
    assert!(holds(&whole, &signed.index_signature().manifest).await);
    assert_eq!(
        fallback_listing(&whole, &signed.fixture.index.digest).await,
        Some(manifest_digests([signed.index_signature()]))
    );
}

/// Publishes `signed` as `host/repository:1`; returns a store that pulled
/// the whole image with its referrers, and the image's name there.
async fn pulled(
    signed: &SignedImage,
    host: &str,
    repository: &str,
) -> (tempfile::TempDir, Store, String) {
    publish(signed, host, repository).await;
    let (dir, store) = store();
    let name = format!("{host}/{repository}:1");
    let options = PullOptions::new(Platforms::All).with_referrers(ReferrersOptions::all());
    let report = store.pull(&name, &options, quiet()).await.unwrap();
    assert_eq!(report.referrers.len(), 1 + 4 * 3);
    (dir, store, name)
}

/// What another writer left in `repository` before hoist pushes there:
/// `artifact` (about `subject`), and `tag_content` at `subject`'s fallback tag.
fn written_by_another(
    host: &str,
    repository: &str,
    subject: &FixtureBlob,
    artifact: &FixtureArtifact,
    tag_content: &FixtureBlob,
) {
    upload_artifact(host, repository, artifact).unwrap();
    upload_manifest(host, repository, Some(&fallback_tag(subject)), tag_content).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reduced_push_keeps_the_kept_platforms_signatures_and_attestations_and_others_entries() {
    let Some(registry) = registry() else { return };
    let host = registry.host();
    let signed = signed_image(62);
    let (_dir, store, name) = pulled(&signed, &host, "team/origin").await;

    // Someone else already signed amd64 in the destination.
    let amd = signed.platform("linux/amd64");
    let foreign = FixtureArtifact::new(
        &amd.manifest,
        SIGNATURE,
        SIMPLE_SIGNING,
        b"a notary's signature",
        &[("org.example.signer", "someone else")],
    );
    written_by_another(
        &host,
        "team/slim",
        &amd.manifest,
        &foreign,
        &fallback_index(&[&foreign]),
    );

    let destination = format!("{host}/team/slim:1");
    let options = PushOptions::new(two_platforms()).with_referrers(ReferrersOptions::all());
    let report = store
        .push(&name, Some(&destination), &options, quiet())
        .await
        .unwrap();
    let kept = ["linux/amd64", "linux/arm64/v8"];
    assert_eq!(
        referrer_digests(&report.referrers),
        referrers_of(&signed, &kept)
    );
    assert_eq!(report.referrers_left_behind.len(), 1);
    let slim = repository(&host, "team/slim");

    // The reduced index: the two platforms and their two attestations.
    let index = client()
        .get_manifest(&slim.tagged("1").unwrap())
        .await
        .unwrap();
    let index: serde_json::Value = serde_json::from_slice(&index.bytes).unwrap();
    let listed: BTreeSet<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap().to_owned())
        .collect();
    let mut expected = BTreeSet::new();
    for image in &signed.fixture.images {
        if kept.contains(&image.platform.to_text().as_str()) {
            expected.insert(image.manifest.digest.clone());
            let attestation = &image.attestation.as_ref().unwrap().manifest;
            expected.insert(attestation.digest.clone());
            assert!(holds(&slim, attestation).await);
        }
    }
    assert_eq!(listed, expected);

    // Every signature and SBOM of the kept platforms, the dropped ones' none;
    // amd64's tag keeps the entry someone else wrote.
    let arm = signed.platform("linux/arm64/v8");
    assert_eq!(
        fallback_listing(&slim, &arm.manifest.digest).await,
        Some(direct_digests(arm))
    );
    assert_eq!(
        fallback_listing(&slim, &amd.manifest.digest).await,
        Some(manifest_digests([&foreign, amd.signature(), amd.sbom()]))
    );
    for dropped in ["linux/arm/v7", "linux/s390x"] {
        let platform = signed.platform(dropped);
        assert_eq!(
            fallback_listing(&slim, &platform.manifest.digest).await,
            None
        );
        for artifact in platform.artifacts() {
            assert!(!holds(&slim, &artifact.manifest).await);
        }
    }
    for artifact in signed.platform("linux/amd64").artifacts() {
        assert!(holds(&slim, &artifact.manifest).await);
    }

    // Pushing again changes nothing: every entry is listed already.
    let again = store
        .push(&name, Some(&destination), &options, quiet())
        .await
        .unwrap();
    assert_eq!(
        referrer_digests(&again.referrers),
        referrers_of(&signed, &kept)
    );
    assert_eq!(
        fallback_listing(&slim, &amd.manifest.digest)
            .await
            .unwrap()
            .len(),
        3
    );

    // Without the option, nothing of the referrers goes.
    store
        .push(
            &name,
            Some(&format!("{host}/team/bare:1")),
            &PushOptions::new(two_platforms()),
            quiet(),
        )
        .await
        .unwrap();
    let bare = repository(&host, "team/bare");
    assert_eq!(fallback_listing(&bare, &arm.manifest.digest).await, None);
    assert!(!holds(&bare, &arm.signature().manifest).await);
}

/// Only arm64, pushed with its referrers to `destination`.
async fn push_arm64(
    store: &Store,
    name: &str,
    destination: &str,
) -> hoist::Result<hoist::PushReport> {
    let options = PushOptions::new(Platforms::Only(vec![parse("linux/arm64").unwrap()]))
        .with_referrers(ReferrersOptions::all());
    store.push(name, Some(destination), &options, quiet()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_update_of_the_fallback_tag_is_retried_and_then_reported() {
    let Some(registry) = registry() else { return };
    let host = registry.host();
    let signed = signed_image(63);
    let (_dir, store, name) = pulled(&signed, &host, "team/raced").await;
    let arm = signed.platform("linux/arm64/v8");
    let tag = fallback_tag(&arm.manifest);
    let proxy = FaultProxy::start(&host).unwrap();
    // The registry acknowledges hoist's write of the tag but keeps what a
    // racing writer put there instead: the read back shows the loss.
    let lost = || FaultKind::Reply {
        code: 201,
        headers: Vec::new(),
        body: Vec::new(),
    };
    proxy.add_fault(Fault::new(&tag, lost()).on_manifest_put());
    let report = push_arm64(&store, &name, &format!("{}/team/once:1", proxy.host()))
        .await
        .unwrap();
    assert_eq!(
        referrer_digests(&report.referrers),
        referrers_of(&signed, &["linux/arm64/v8"])
    );
    let puts = proxy
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with(&format!("/manifests/{tag}")))
        .count();
    assert_eq!(puts, 2, "one lost write, one retried");
    assert_eq!(
        fallback_listing(&repository(&host, "team/once"), &arm.manifest.digest).await,
        Some(direct_digests(arm))
    );

    // Lost every time: an error naming the tag, after a bounded number of rounds.
    proxy.add_fault(
        Fault::new(&tag, lost())
            .times(FALLBACK_TAG_ATTEMPTS as usize)
            .on_manifest_put(),
    );
    let error = push_arm64(&store, &name, &format!("{}/team/lost:1", proxy.host()))
        .await
        .unwrap_err();
    assert!(error.is_failed_precondition(), "{error}");
    let text = error.to_string();
    assert!(text.contains(&format!("team/lost:{tag}")), "{text}");
    assert!(text.contains(&arm.signature().manifest.digest), "{text}");
    let rounds = proxy
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with(&format!("team/lost/manifests/{tag}")))
        .count();
    assert_eq!(rounds, FALLBACK_TAG_ATTEMPTS as usize);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_with_the_referrers_api_gets_no_fallback_tag() {
    let Some(registry) = registry() else { return };
    let host = registry.host();
    let signed = signed_image(64);
    let (_dir, store, name) = pulled(&signed, &host, "team/api").await;
    let arm = signed.platform("linux/arm64/v8");
    let is_tag_put = |r: &hoist_testkit::RecordedRequest| {
        r.method == "PUT" && r.path.contains("/manifests/sha256-")
    };

    // The API answers (200) when asked about the subjects.
    let proxy = FaultProxy::start(&host).unwrap();
    for subject in [&arm.manifest, &arm.sbom().manifest] {
        proxy.add_fault(
            Fault::new(
                &subject.digest,
                FaultKind::Respond {
                    code: 200,
                    content_type: hoist_testkit::oci::INDEX.to_owned(),
                    body: fallback_index(&[]).bytes,
                },
            )
            .on_referrers(),
        );
    }
    let report = push_arm64(&store, &name, &format!("{}/team/asked:1", proxy.host()))
        .await
        .unwrap();
    assert_eq!(
        referrer_digests(&report.referrers),
        referrers_of(&signed, &["linux/arm64/v8"])
    );
    assert!(report.fallback_tags.is_empty());
    let requests = proxy.requests();
    assert!(!requests.iter().any(is_tag_put), "{requests:#?}");
    assert!(
        requests
            .iter()
            .any(|r| r.method == "GET" && r.path.contains("/referrers/")),
        "the API was never asked"
    );
    let asked = repository(&host, "team/asked");
    for artifact in arm.artifacts() {
        assert!(holds(&asked, &artifact.manifest).await);
    }
    assert_eq!(fallback_listing(&asked, &arm.manifest.digest).await, None);

    // The registry says so itself when the referrer is pushed
    // (`OCI-Subject`): not even a question.
    let proxy = FaultProxy::start(&host).unwrap();
    for artifact in arm.artifacts() {
        let subject = serde_json::from_slice::<serde_json::Value>(&artifact.manifest.bytes)
            .unwrap()["subject"]["digest"]
            .as_str()
            .unwrap()
            .to_owned();
        proxy.add_fault(
            Fault::new(
                &artifact.manifest.digest,
                FaultKind::AddHeader {
                    name: "OCI-Subject".to_owned(),
                    value: subject,
                },
            )
            .on_manifest_put(),
        );
    }
    let report = push_arm64(&store, &name, &format!("{}/team/told:1", proxy.host()))
        .await
        .unwrap();
    assert!(report.fallback_tags.is_empty());
    let requests = proxy.requests();
    assert!(!requests.iter().any(is_tag_put), "{requests:#?}");
    assert!(
        !requests.iter().any(|r| r.path.contains("/referrers/")),
        "{requests:#?}"
    );
    assert_eq!(requests.iter().filter(|r| r.fault.is_some()).count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paged_referrers_list_is_followed_to_its_end_and_only_on_the_registry() {
    let Some(registry) = registry() else { return };
    let host = registry.host();
    let signed = signed_image(65);
    publish(&signed, &host, "team/paged").await;
    let arm = signed.platform("linux/arm64/v8");
    let proxy = FaultProxy::start(&host).unwrap();
    let page = |artifacts: &[&FixtureArtifact], next: Option<&str>| FaultKind::Reply {
        code: 200,
        headers: [(
            "Content-Type".to_owned(),
            hoist_testkit::oci::INDEX.to_owned(),
        )]
        .into_iter()
        .chain(next.map(|n| ("Link".to_owned(), format!("<{n}>; rel=\"next\""))))
        .collect(),
        body: fallback_index(artifacts).bytes,
    };
    let second = format!(
        "/v2/team/paged/referrers/{}?n=1&last=x",
        arm.manifest.digest
    );
    proxy.add_fault(
        Fault::new(
            &arm.manifest.digest,
            page(&[arm.signature()], Some(&second)),
        )
        .on_referrers(),
    );
    proxy.add_fault(Fault::new(&arm.manifest.digest, page(&[arm.sbom()], None)).on_referrers());
    let repository = repository(&proxy.host(), "team/paged");
    let subject = arm.manifest.digest.parse().unwrap();
    let listed = client()
        .referrers(&repository, &subject, None)
        .await
        .unwrap();
    assert_eq!(listed.source, hoist::remote::ReferrersSource::Api);
    let listed: BTreeSet<String> = listed
        .descriptors
        .iter()
        .map(|d| d.digest.to_string())
        .collect();
    assert_eq!(listed, direct_digests(arm));
    assert!(
        proxy.requests().iter().any(|r| r.path == second),
        "the second page was not asked for"
    );

    // A link leaving the registry is refused (credentials would follow it).
    proxy.add_fault(
        Fault::new(
            &arm.manifest.digest,
            page(&[arm.signature()], Some("http://198.51.100.1/v2/x")),
        )
        .on_referrers(),
    );
    let error = client()
        .referrers(&repository, &subject, None)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), hoist::remote::ErrorKind::Protocol, "{error}");

    // A list that pages forever ends with an error, after a bounded number of pages.
    proxy.add_fault(
        Fault::new(
            &arm.manifest.digest,
            page(&[arm.signature()], Some(&second)),
        )
        .times(usize::MAX)
        .on_referrers(),
    );
    let error = client()
        .referrers(&repository, &subject, None)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&hoist::remote::MAX_REFERRERS_PAGES.to_string()),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fallback_tag_that_holds_a_manifest_is_never_overwritten() {
    let Some(registry) = registry() else { return };
    let host = registry.host();
    let signed = signed_image(66);
    let (_dir, store, name) = pulled(&signed, &host, "team/occupied").await;
    let arm = signed.platform("linux/arm64/v8");
    // Someone tagged a plain manifest where the referrers index would go.
    let squatter = FixtureArtifact::new(
        &arm.manifest,
        "application/example",
        SIMPLE_SIGNING,
        b"x",
        &[],
    );
    written_by_another(
        &host,
        "team/taken",
        &arm.manifest,
        &squatter,
        &squatter.manifest,
    );
    let error = push_arm64(&store, &name, &format!("{host}/team/taken:1"))
        .await
        .unwrap_err();
    assert!(error.is_failed_precondition(), "{error}");
    assert!(
        error.to_string().contains(&fallback_tag(&arm.manifest)),
        "{error}"
    );
    let still = client()
        .resolve(
            &repository(&host, "team/taken")
                .tagged(&fallback_tag(&arm.manifest))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(still.digest.to_string(), squatter.manifest.digest);
}
