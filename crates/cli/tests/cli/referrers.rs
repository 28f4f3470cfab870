//! `pull --referrers` and `image referrers` against a real docker-registry
//! (no referrers API: the fallback tag `sha256-<hex>` is what runs), and
//! GC of referrers with their image.

use hoist_testkit::FixtureBlob;
use hoist_testkit::referrers::{
    FixtureArtifact, fallback_index, fallback_tag, upload_artifact, upload_manifest,
};

use crate::support::{Env, four_platforms, plain_registry};

const SIGNATURE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
const SBOM: &str = "application/spdx+json";

fn artifact(subject: &FixtureBlob, artifact_type: &str, payload: &[u8]) -> FixtureArtifact {
    FixtureArtifact::new(
        subject,
        artifact_type,
        "application/octet-stream",
        payload,
        &[("org.example.note", "signed in CI")],
    )
}

#[test]
fn pull_referrers_lists_them_and_gc_frees_them_with_the_image() {
    let Some(registry) = plain_registry() else {
        return;
    };
    let host = registry.host();
    let app = format!("{host}/demo/signed:1");
    let publisher = Env::new();
    let fixture = publisher.seed(&app, &four_platforms(51), &["--all-platforms"]);
    let manifest = |platform: &str| {
        fixture
            .images
            .iter()
            .find(|i| i.platform.to_text() == platform)
            .unwrap()
            .manifest
            .clone()
    };
    let (arm, amd) = (manifest("linux/arm64/v8"), manifest("linux/amd64"));
    let signature = artifact(&arm, SIGNATURE, b"arm64 signature");
    let sbom = artifact(&arm, SBOM, b"{\"spdxVersion\":\"SPDX-2.3\"}");
    let sbom_signature = artifact(&sbom.manifest, SIGNATURE, b"sbom signature");
    let amd_signature = artifact(&amd, SIGNATURE, b"amd64 signature");
    for a in [&signature, &sbom, &sbom_signature, &amd_signature] {
        upload_artifact(&host, "demo/signed", a).unwrap();
    }
    for (subject, index) in [
        (&arm, fallback_index(&[&signature, &sbom])),
        (&sbom.manifest, fallback_index(&[&sbom_signature])),
        (&amd, fallback_index(&[&amd_signature])),
    ] {
        upload_manifest(&host, "demo/signed", Some(&fallback_tag(subject)), &index).unwrap();
    }

    let env = Env::new();
    // --artifact-type means nothing without --referrers.
    let usage = env
        .hoist(&[
            "pull",
            &app,
            "--platform",
            "linux/arm64",
            "--artifact-type",
            SBOM,
        ])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&usage.stderr).contains("--referrers"),
        "{}",
        String::from_utf8_lossy(&usage.stderr)
    );
    let output = env
        .hoist(&["pull", &app, "--platform", "linux/arm64", "--referrers"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("3 referrers fetched"), "{stderr}");

    let listed = env.json(&["image", "referrers", &app]);
    let rows = listed.as_array().unwrap();
    let mut digests: Vec<&str> = rows.iter().map(|r| r["digest"].as_str().unwrap()).collect();
    digests.sort_unstable();
    let mut expected = vec![
        signature.manifest.digest.as_str(),
        sbom.manifest.digest.as_str(),
        sbom_signature.manifest.digest.as_str(),
    ];
    expected.sort_unstable();
    assert_eq!(digests, expected);
    let sbom_row = rows
        .iter()
        .find(|r| r["digest"] == sbom.manifest.digest)
        .unwrap();
    assert_eq!(sbom_row["subject"], arm.digest);
    assert_eq!(sbom_row["artifact_type"], SBOM);
    assert_eq!(sbom_row["size"], sbom.manifest.size());
    assert_eq!(sbom_row["annotations"]["org.example.note"], "signed in CI");
    let signatures = env.json(&[
        "image",
        "referrers",
        &app,
        "--platform",
        "linux/arm64",
        "--artifact-type",
        SIGNATURE,
    ]);
    assert_eq!(signatures.as_array().unwrap().len(), 2);
    // amd64 was not pulled: its signature was not fetched.
    let amd_rows = env.json(&["image", "referrers", &app, "--platform", "linux/amd64"]);
    assert_eq!(amd_rows, serde_json::json!([]));
    let table = env.ok(&["image", "referrers", &app]);
    assert!(table.contains("ARTIFACT TYPE"), "{table}");
    assert!(table.contains(SBOM), "{table}");
    // `image platforms` counts each platform's referrers held here (the
    // signature of the SBOM refers to the SBOM, not to the platform).
    let counts: Vec<(String, u64)> = env
        .json(&["image", "platforms", &app])
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["platform"].as_str().unwrap().to_owned(),
                row["referrers"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        counts.contains(&("linux/arm64".to_owned(), 2)),
        "{counts:?}"
    );
    assert!(
        counts.contains(&("linux/amd64".to_owned(), 0)),
        "{counts:?}"
    );

    // GC keeps them while the image is named, frees them with it.
    env.ok(&["gc"]);
    assert_eq!(
        env.json(&["image", "referrers", &app])
            .as_array()
            .unwrap()
            .len(),
        3
    );
    env.ok(&["rmi", &app]);
    env.ok(&["gc"]);
    assert_eq!(env.json(&["content", "ls"]), serde_json::json!([]));
}
