//! Referrers (signatures, SBOMs) fetched on pull through the fallback tag
//! of a real `docker-registry` (2.8 has no referrers API), listed, held by
//! their subject and freed with it.

use std::collections::BTreeSet;

use hoist::platform::parse;
use hoist::{Platforms, PullOptions, ReferrersOptions};
use hoist_testkit::referrers::{
    CREATED, FixtureArtifact, PlatformArtifacts, SBOM, SBOM_CREATED, SIGNATURE, SignedImage,
    SignedImageSpec, fallback_index, fallback_tag, manifest_digests, signature_of, upload_artifact,
    upload_manifest,
};
use hoist_testkit::{Fault, FaultKind, FaultProxy, FixtureBlob};

use crate::support::{
    fixture_spec, gc_freed, publish, quiet, referrer_digests, registry, store, stored,
};

/// Seeds `host/repository:1` with a signed image whose arm64 has a
/// signature, an SBOM and a signature of the SBOM, whose amd64 has a
/// signature, and nothing else has referrers; writes the fallback tags as
/// cosign and oras do.
async fn signed(host: &str, repository: &str, seed_number: u64) -> SignedImage {
    let signed = SignedImageSpec::new(fixture_spec(seed_number))
        .without_index_signature()
        .every_platform(PlatformArtifacts::Nothing)
        .platform("linux/arm64/v8", PlatformArtifacts::SignatureAndSignedSbom)
        .platform("linux/amd64", PlatformArtifacts::Signature)
        .generate()
        .unwrap();
    publish(&signed, host, repository).await;
    signed
}

/// Pulls arm64 of `reference` into a fresh store with `referrers`; returns
/// the digests of the referrers fetched.
async fn pull_arm64_referrers(reference: &str, referrers: ReferrersOptions) -> BTreeSet<String> {
    let (_dir, store) = store();
    let options = PullOptions::new(Platforms::Only(vec![parse("linux/arm64").unwrap()]))
        .with_referrers(referrers);
    let report = store.pull(reference, &options, quiet()).await.unwrap();
    referrer_digests(&report.referrers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_with_referrers_fetches_exactly_the_pulled_platforms_referrers() {
    let Some(registry) = registry() else { return };
    let host = registry.host();
    let signed = signed(&host, "team/signed", 41).await;
    let reference = format!("{host}/team/signed:1");
    let (_dir, store) = store();
    let options = PullOptions::new(Platforms::Only(vec![parse("linux/arm64").unwrap()]))
        .with_referrers(ReferrersOptions::all());
    let report = store.pull(&reference, &options, quiet()).await.unwrap();

    // Exactly arm64's referrers, recursively; amd64's signature stays behind.
    let arm = signed.platform("linux/arm64/v8");
    let amd_signature = signed.platform("linux/amd64").signature();
    let arm_referrers = manifest_digests(arm.artifacts());
    assert_eq!(referrer_digests(&report.referrers), arm_referrers);
    let stored = stored(&store);
    assert!(arm_referrers.is_subset(&stored));
    for blob in [&arm.sbom().payload, &arm.sbom_signature().payload] {
        assert!(stored.contains(&blob.digest), "{blob:?} not stored");
    }
    assert!(!stored.contains(&amd_signature.manifest.digest));
    assert!(!stored.contains(&amd_signature.payload.digest));

    // Listed with their artifact types and annotations, byte for byte.
    let direct = store
        .referrers(&arm.manifest.digest.parse().unwrap(), None)
        .unwrap();
    assert_eq!(
        referrer_digests(&direct),
        manifest_digests([arm.signature(), arm.sbom()])
    );
    let sbom = direct
        .iter()
        .find(|r| r.descriptor.digest.to_string() == arm.sbom().manifest.digest)
        .unwrap();
    assert_eq!(sbom.artifact_type(), Some(SBOM));
    assert_eq!(
        sbom.descriptor.annotations.get(CREATED).map(String::as_str),
        Some(SBOM_CREATED)
    );
    assert_eq!(sbom.descriptor.size, arm.sbom().manifest.size());
    let signatures = store
        .image_referrers(&report.name, &Platforms::All, Some(SIGNATURE))
        .unwrap();
    assert_eq!(
        manifest_digests([arm.signature(), arm.sbom_signature()]),
        referrer_digests(&signatures)
    );
    let all = store
        .image_referrers(&report.name, &Platforms::All, None)
        .unwrap();
    assert_eq!(all.len(), 3);

    // Held while the image is: GC keeps them, fsck is clean.
    assert!(store.leases().unwrap().is_empty());
    let kept = store.gc(false).unwrap();
    assert!(kept.blobs.is_empty(), "{kept:?}");
    assert_eq!(
        store
            .image_referrers(&report.name, &Platforms::All, None)
            .unwrap()
            .len(),
        3
    );
    assert!(store.fsck().unwrap().is_clean());

    // Removing the image frees them with it.
    store.remove(&report.name, None).unwrap();
    let freed = gc_freed(&store);
    assert!(arm_referrers.is_subset(&freed), "{freed:?}");
    assert!(store.content_list().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referrers_are_filtered_by_artifact_type_and_off_by_default() {
    let Some(registry) = registry() else { return };
    let host = registry.host();
    let signed = signed(&host, "team/typed", 42).await;
    let reference = format!("{host}/team/typed:1");

    let (_dir, store) = store();
    let arm = Platforms::Only(vec![parse("linux/arm64").unwrap()]);
    let report = store
        .pull(&reference, &PullOptions::new(arm), quiet())
        .await
        .unwrap();
    assert!(report.referrers.is_empty());
    assert!(
        store
            .image_referrers(&report.name, &Platforms::All, None)
            .unwrap()
            .is_empty()
    );

    // The SBOM is not a signature, so neither it nor its signature comes.
    let fetched = pull_arm64_referrers(
        &reference,
        ReferrersOptions::of_types(vec![SIGNATURE.to_owned()]),
    )
    .await;
    assert_eq!(
        fetched,
        manifest_digests([signed.platform("linux/arm64/v8").signature()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referrer_that_fails_its_check_is_an_error_and_never_stored() {
    let Some(registry) = registry() else { return };
    let host = registry.host();
    let signed = signed(&host, "team/forged", 43).await;
    let s390x = &signed.platform("linux/s390x").manifest;
    let signature = signature_of(s390x, "s390x");
    upload_artifact(&host, "team/forged", &signature).unwrap();
    // The fallback index lies about the size: what is fetched does not
    // match what is listed.
    let mut entry = signature.entry();
    entry["size"] = serde_json::Value::from(signature.manifest.size() + 1);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": hoist_testkit::oci::INDEX,
        "manifests": [entry],
    });
    let index = serde_json::to_vec(&index).unwrap();
    let index = FixtureBlob {
        media_type: hoist_testkit::oci::INDEX.to_owned(),
        digest: hoist::content::Digest::sha256_of(&index).to_string(),
        bytes: index,
    };
    upload_manifest(&host, "team/forged", Some(&fallback_tag(s390x)), &index).unwrap();

    let (_dir, store) = store();
    let options = PullOptions::new(Platforms::Only(vec![parse("linux/s390x").unwrap()]))
        .with_referrers(ReferrersOptions::all());
    let error = store
        .pull(&format!("{host}/team/forged:1"), &options, quiet())
        .await
        .unwrap_err();
    assert!(error.is_data_loss(), "{error}");
    assert!(
        error.to_string().contains(&signature.manifest.digest),
        "{error}"
    );
    assert!(store.list_images(None).unwrap().is_empty());
    assert!(!stored(&store).contains(&signature.manifest.digest));
}

/// An index answer of the referrers API listing `artifacts`.
fn api_answer(artifacts: &[&FixtureArtifact]) -> FaultKind {
    FaultKind::Respond {
        code: 200,
        content_type: hoist_testkit::oci::INDEX.to_owned(),
        body: fallback_index(artifacts).bytes,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_referrers_api_is_asked_first_and_its_answer_is_filtered_here_too() {
    let Some(registry) = registry() else { return };
    let host = registry.host();
    let signed = signed(&host, "team/api", 44).await;
    let arm_referrers = signed.platform("linux/arm64/v8");
    let arm = &arm_referrers.manifest;
    // A registry with the referrers API in front of docker-registry: its
    // answers differ from the fallback tags, so what arrives shows which
    // was read.
    let proxy = FaultProxy::start(&host).unwrap();
    let sbom = arm_referrers.sbom();
    proxy.add_fault(Fault::new(&arm.digest, api_answer(&[sbom])).on_referrers());
    proxy.add_fault(Fault::new(&sbom.manifest.digest, api_answer(&[])).on_referrers());
    let reference = format!("{}/team/api:1", proxy.host());

    let fetched = pull_arm64_referrers(&reference, ReferrersOptions::all()).await;
    assert_eq!(fetched, manifest_digests([sbom]));
    let paths: Vec<String> = proxy.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with(&format!("/referrers/{}", arm.digest))),
        "{paths:?}"
    );
    assert!(
        !paths
            .iter()
            .any(|p| p.ends_with(&format!("/manifests/{}", fallback_tag(arm)))),
        "the fallback tag was read although the API answered: {paths:?}"
    );

    // A registry that ignores the filter: hoist filters its answer.
    proxy.add_fault(Fault::new(&arm.digest, api_answer(&arm_referrers.direct())).on_referrers());
    let fetched = pull_arm64_referrers(
        &reference,
        ReferrersOptions::of_types(vec![SBOM.to_owned()]),
    )
    .await;
    assert_eq!(fetched, manifest_digests([sbom]));
    let asked = proxy
        .requests()
        .into_iter()
        .rfind(|r| r.path.contains(&format!("/referrers/{}", arm.digest)))
        .unwrap();
    assert!(
        asked
            .path
            .contains("artifactType=application%2Fspdx%2Bjson"),
        "{}",
        asked.path
    );
}
