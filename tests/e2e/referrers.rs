//! Referrers (signatures, SBOMs) fetched on pull through the fallback tag
//! of a real `docker-registry` (2.8 has no referrers API), listed, held by
//! their subject and freed with it.

use std::collections::BTreeSet;

use hoist::platform::parse;
use hoist::{Platforms, PullOptions, ReferrersOptions};
use hoist_testkit::referrers::{
    FixtureArtifact, fallback_index, fallback_tag, upload_artifact, upload_manifest,
};
use hoist_testkit::{Fault, FaultKind, FaultProxy, Fixture, FixtureBlob};

use crate::support::{fixture, quiet, registry, seed, store};

const SIGNATURE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
const SBOM: &str = "application/spdx+json";

/// The signed image on the registry: what each platform's referrers are.
struct Signed {
    fixture: Fixture,
    /// On arm64: a signature, an SBOM and a signature of the SBOM.
    arm_signature: FixtureArtifact,
    arm_sbom: FixtureArtifact,
    sbom_signature: FixtureArtifact,
    /// On amd64: a signature.
    amd_signature: FixtureArtifact,
}

fn manifest_of<'f>(fixture: &'f Fixture, platform: &str) -> &'f FixtureBlob {
    &fixture
        .images
        .iter()
        .find(|i| i.platform.to_text() == platform)
        .unwrap()
        .manifest
}

/// Seeds `host/repository:1` with a fixture, signs and describes two of its
/// platforms, and writes the fallback tags as cosign and oras do.
async fn signed(host: &str, repository: &str, seed_number: u64) -> Signed {
    let fixture = fixture(seed_number);
    seed(&fixture, &format!("{host}/{repository}:1")).await;
    let arm = manifest_of(&fixture, "linux/arm64/v8").clone();
    let amd = manifest_of(&fixture, "linux/amd64").clone();
    let arm_signature = FixtureArtifact::new(
        &arm,
        SIGNATURE,
        "application/vnd.dev.cosign.simplesigning.v1+json",
        b"arm64 signature",
        &[("dev.cosignproject.cosign/signature", "MEUCIQ-arm")],
    );
    let arm_sbom = FixtureArtifact::new(
        &arm,
        SBOM,
        SBOM,
        br#"{"spdxVersion":"SPDX-2.3"}"#,
        &[("org.opencontainers.image.created", "2026-01-01T00:00:00Z")],
    );
    let sbom_signature = FixtureArtifact::new(
        &arm_sbom.manifest,
        SIGNATURE,
        "application/vnd.dev.cosign.simplesigning.v1+json",
        b"sbom signature",
        &[("dev.cosignproject.cosign/signature", "MEUCIQ-sbom")],
    );
    let amd_signature = FixtureArtifact::new(
        &amd,
        SIGNATURE,
        "application/vnd.dev.cosign.simplesigning.v1+json",
        b"amd64 signature",
        &[],
    );
    for artifact in [&arm_signature, &arm_sbom, &sbom_signature, &amd_signature] {
        upload_artifact(host, repository, artifact).unwrap();
    }
    let tags = [
        (&arm, fallback_index(&[&arm_signature, &arm_sbom])),
        (&arm_sbom.manifest, fallback_index(&[&sbom_signature])),
        (&amd, fallback_index(&[&amd_signature])),
    ];
    for (subject, index) in tags {
        upload_manifest(host, repository, Some(&fallback_tag(subject)), &index).unwrap();
    }
    Signed {
        fixture,
        arm_signature,
        arm_sbom,
        sbom_signature,
        amd_signature,
    }
}

fn digests<'a>(artifacts: impl IntoIterator<Item = &'a FixtureArtifact>) -> BTreeSet<String> {
    artifacts
        .into_iter()
        .map(|a| a.manifest.digest.clone())
        .collect()
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
    let arm_referrers = digests([
        &signed.arm_signature,
        &signed.arm_sbom,
        &signed.sbom_signature,
    ]);
    let fetched: BTreeSet<String> = report
        .referrers
        .iter()
        .map(|r| r.descriptor.digest.to_string())
        .collect();
    assert_eq!(fetched, arm_referrers);
    let stored: BTreeSet<String> = store
        .content_list()
        .unwrap()
        .into_iter()
        .map(|info| info.digest.to_string())
        .collect();
    assert!(arm_referrers.is_subset(&stored));
    for blob in [&signed.arm_sbom.payload, &signed.sbom_signature.payload] {
        assert!(stored.contains(&blob.digest), "{blob:?} not stored");
    }
    assert!(!stored.contains(&signed.amd_signature.manifest.digest));
    assert!(!stored.contains(&signed.amd_signature.payload.digest));

    // Listed with their artifact types and annotations, byte for byte.
    let arm = manifest_of(&signed.fixture, "linux/arm64/v8");
    let direct = store.referrers(&arm.digest.parse().unwrap(), None).unwrap();
    assert_eq!(
        direct
            .iter()
            .map(|r| r.descriptor.digest.to_string())
            .collect::<BTreeSet<_>>(),
        digests([&signed.arm_signature, &signed.arm_sbom])
    );
    let sbom = direct
        .iter()
        .find(|r| r.descriptor.digest.to_string() == signed.arm_sbom.manifest.digest)
        .unwrap();
    assert_eq!(sbom.artifact_type(), Some(SBOM));
    assert_eq!(
        sbom.descriptor
            .annotations
            .get("org.opencontainers.image.created")
            .map(String::as_str),
        Some("2026-01-01T00:00:00Z")
    );
    assert_eq!(sbom.descriptor.size, signed.arm_sbom.manifest.size());
    let signatures = store
        .image_referrers(&report.name, &Platforms::All, Some(SIGNATURE))
        .unwrap();
    assert_eq!(
        digests([&signed.arm_signature, &signed.sbom_signature]),
        signatures
            .iter()
            .map(|r| r.descriptor.digest.to_string())
            .collect()
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
    let freed = store.gc(false).unwrap();
    let freed: BTreeSet<String> = freed.blobs.iter().map(ToString::to_string).collect();
    assert!(arm_referrers.is_subset(&freed), "{freed:?}");
    assert!(store.content_list().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referrers_are_filtered_by_artifact_type_and_off_by_default() {
    let Some(registry) = registry() else { return };
    let host = registry.host();
    let signed = signed(&host, "team/typed", 42).await;
    let reference = format!("{host}/team/typed:1");
    let arm = Platforms::Only(vec![parse("linux/arm64").unwrap()]);

    let (_dir, store) = store();
    let report = store
        .pull(&reference, &PullOptions::new(arm.clone()), quiet())
        .await
        .unwrap();
    assert!(report.referrers.is_empty());
    assert!(
        store
            .image_referrers(&report.name, &Platforms::All, None)
            .unwrap()
            .is_empty()
    );

    let (_dir2, store) = crate::support::store();
    let options = PullOptions::new(arm)
        .with_referrers(ReferrersOptions::of_types(vec![SIGNATURE.to_owned()]));
    let report = store.pull(&reference, &options, quiet()).await.unwrap();
    // The SBOM is not a signature, so neither it nor its signature comes.
    let fetched: BTreeSet<String> = report
        .referrers
        .iter()
        .map(|r| r.descriptor.digest.to_string())
        .collect();
    assert_eq!(fetched, digests([&signed.arm_signature]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referrer_that_fails_its_check_is_an_error_and_never_stored() {
    let Some(registry) = registry() else { return };
    let host = registry.host();
    let signed = signed(&host, "team/forged", 43).await;
    let s390x = manifest_of(&signed.fixture, "linux/s390x").clone();
    let signature = FixtureArtifact::new(
        &s390x,
        SIGNATURE,
        "application/vnd.dev.cosign.simplesigning.v1+json",
        b"s390x signature",
        &[],
    );
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
    upload_manifest(&host, "team/forged", Some(&fallback_tag(&s390x)), &index).unwrap();

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
    let stored: BTreeSet<String> = store
        .content_list()
        .unwrap()
        .into_iter()
        .map(|info| info.digest.to_string())
        .collect();
    assert!(!stored.contains(&signature.manifest.digest));
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
    let arm = manifest_of(&signed.fixture, "linux/arm64/v8").clone();
    // A registry with the referrers API in front of docker-registry: its
    // answers differ from the fallback tags, so what arrives shows which
    // was read.
    let proxy = FaultProxy::start(&host).unwrap();
    proxy.add_fault(Fault::new(&arm.digest, api_answer(&[&signed.arm_sbom])).on_referrers());
    proxy.add_fault(Fault::new(&signed.arm_sbom.manifest.digest, api_answer(&[])).on_referrers());
    let reference = format!("{}/team/api:1", proxy.host());
    let arm64 = Platforms::Only(vec![parse("linux/arm64").unwrap()]);

    let (_dir, store) = store();
    let options = PullOptions::new(arm64.clone()).with_referrers(ReferrersOptions::all());
    let report = store.pull(&reference, &options, quiet()).await.unwrap();
    let fetched: BTreeSet<String> = report
        .referrers
        .iter()
        .map(|r| r.descriptor.digest.to_string())
        .collect();
    assert_eq!(fetched, digests([&signed.arm_sbom]));
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
            .any(|p| p.ends_with(&format!("/manifests/{}", fallback_tag(&arm)))),
        "the fallback tag was read although the API answered: {paths:?}"
    );

    // A registry that ignores the filter: hoist filters its answer.
    proxy.add_fault(
        Fault::new(
            &arm.digest,
            api_answer(&[&signed.arm_signature, &signed.arm_sbom]),
        )
        .on_referrers(),
    );
    let (_dir2, store) = crate::support::store();
    let options =
        PullOptions::new(arm64).with_referrers(ReferrersOptions::of_types(vec![SBOM.to_owned()]));
    let report = store.pull(&reference, &options, quiet()).await.unwrap();
    let fetched: BTreeSet<String> = report
        .referrers
        .iter()
        .map(|r| r.descriptor.digest.to_string())
        .collect();
    assert_eq!(fetched, digests([&signed.arm_sbom]));
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
