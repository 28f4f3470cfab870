//! The referrers API: what a store pulled with its referrers (a signature,
//! an SBOM, a signature of the SBOM) is listed by `hoist serve`, and a
//! second store's `pull --referrers` gets them through the API (the served
//! store has no fallback tags, so only the API can deliver them).

use std::collections::BTreeSet;
use std::sync::Arc;

use hoist::platform::parse;
use hoist::{Platforms, PullOptions, PushOptions, ReferrersOptions};
use hoist_testkit::referrers::{
    FixtureArtifact, fallback_index, fallback_tag, upload_artifact, upload_manifest,
};
use hoist_testkit::{FixtureBlob, Registry, RegistryOptions};

use crate::support::{fixture, load, request, serve, store};

const SIGNATURE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
const SBOM: &str = "application/spdx+json";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referrers_are_served_and_pulled_through_the_api() {
    let Some(registry) = Registry::start(RegistryOptions::plain()).unwrap() else {
        return;
    };
    let host = registry.host();
    // The image on a registry, signed, as cosign leaves it (fallback tags).
    let (_seed_dir, seed) = store();
    let fixture = fixture(41, 64 * 1024);
    load(&seed, &fixture, "registry.example/team/signed:1");
    let upstream = format!("{host}/team/signed:1");
    seed.push(
        "registry.example/team/signed:1",
        Some(&upstream),
        &PushOptions::new(Platforms::All),
        Arc::new(hoist::NoProgress),
    )
    .await
    .unwrap();
    let arm: FixtureBlob = fixture
        .images
        .iter()
        .find(|i| i.platform.architecture == "arm64")
        .unwrap()
        .manifest
        .clone();
    let signature = FixtureArtifact::new(
        &arm,
        SIGNATURE,
        "application/vnd.dev.cosign.simplesigning.v1+json",
        b"arm64 signature",
        &[("dev.cosignproject.cosign/signature", "MEUCIQ-arm")],
    );
    let sbom = FixtureArtifact::new(&arm, SBOM, SBOM, br#"{"spdxVersion":"SPDX-2.3"}"#, &[]);
    let sbom_signature = FixtureArtifact::new(
        &sbom.manifest,
        SIGNATURE,
        "application/vnd.dev.cosign.simplesigning.v1+json",
        b"sbom signature",
        &[],
    );
    for artifact in [&signature, &sbom, &sbom_signature] {
        upload_artifact(&host, "team/signed", artifact).unwrap();
    }
    upload_manifest(
        &host,
        "team/signed",
        Some(&fallback_tag(&arm)),
        &fallback_index(&[&signature, &sbom]),
    )
    .unwrap();
    upload_manifest(
        &host,
        "team/signed",
        Some(&fallback_tag(&sbom.manifest)),
        &fallback_index(&[&sbom_signature]),
    )
    .unwrap();

    // The served store pulls it with its referrers.
    let (_dir, served) = store();
    let everything = PullOptions::new(Platforms::All).with_referrers(ReferrersOptions::all());
    let pulled = served
        .pull(&upstream, &everything, Arc::new(hoist::NoProgress))
        .await
        .unwrap();
    assert_eq!(pulled.referrers.len(), 3);
    assert_eq!(
        served.list_images(None).unwrap().len(),
        1,
        "the served store must hold no fallback tag"
    );
    let server = serve(&served).await;
    let name = "team/signed";

    // The API: an OCI index of the subject's referrers.
    let answer = request(
        &server,
        "GET",
        &format!("/v2/{name}/referrers/{}", arm.digest),
        &[],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    assert_eq!(answer.header("oci-filters-applied"), None);
    let index = answer.json();
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let listed: BTreeSet<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = [&signature, &sbom]
        .iter()
        .map(|a| a.manifest.digest.clone())
        .collect();
    assert_eq!(listed, expected);
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["digest"] == signature.manifest.digest.as_str())
        .unwrap();
    assert_eq!(
        entry["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(entry["size"], signature.manifest.bytes.len());
    assert_eq!(entry["artifactType"], SIGNATURE);
    assert_eq!(
        entry["annotations"]["dev.cosignproject.cosign/signature"],
        "MEUCIQ-arm"
    );

    // Filtered by artifact type, saying so.
    let answer = request(
        &server,
        "GET",
        &format!(
            "/v2/{name}/referrers/{}?artifactType=application%2Fspdx%2Bjson",
            arm.digest
        ),
        &[],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("oci-filters-applied"), Some("artifactType"));
    let manifests = answer.json()["manifests"].as_array().unwrap().clone();
    assert_eq!(manifests.len(), 1);
    assert_eq!(manifests[0]["digest"], sbom.manifest.digest.as_str());

    // A known subject without referrers, and one the store does not hold:
    // an empty index, never a 404 clients would take for "no API".
    for subject in [
        fixture.index.digest.clone(),
        format!("sha256:{}", "0".repeat(64)),
    ] {
        let answer = request(
            &server,
            "GET",
            &format!("/v2/{name}/referrers/{subject}"),
            &[],
        )
        .await;
        assert_eq!(answer.status, 200, "{subject}");
        assert_eq!(
            answer.json()["manifests"],
            serde_json::json!([]),
            "{subject}"
        );
    }
    // An unknown repository, and a bad digest.
    let answer = request(
        &server,
        "GET",
        &format!("/v2/nobody/referrers/{}", arm.digest),
        &[],
    )
    .await;
    assert_eq!(answer.error_code(), "NAME_UNKNOWN");
    let answer = request(
        &server,
        "GET",
        &format!("/v2/{name}/referrers/sha256:abc"),
        &[],
    )
    .await;
    assert_eq!(answer.error_code(), "DIGEST_INVALID");

    // hoist's own client: a second store pulls arm64 with its referrers
    // from `hoist serve`; the referrers of the SBOM come too.
    let (_dir2, puller) = store();
    let reference = format!("{}/{name}:1", server.local_addr());
    let options = PullOptions::new(Platforms::Only(vec![parse("linux/arm64").unwrap()]))
        .with_referrers(ReferrersOptions::all());
    let report = puller
        .pull(&reference, &options, Arc::new(hoist::NoProgress))
        .await
        .unwrap();
    let fetched: BTreeSet<String> = report
        .referrers
        .iter()
        .map(|r| r.descriptor.digest.as_str().to_owned())
        .collect();
    let all: BTreeSet<String> = [&signature, &sbom, &sbom_signature]
        .iter()
        .map(|a| a.manifest.digest.clone())
        .collect();
    assert_eq!(fetched, all);
    let stored = puller
        .referrers(&arm.digest.parse().unwrap(), Some(SBOM))
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].descriptor.digest.as_str(), sbom.manifest.digest);
    server.shutdown().await;
}
