//! `save --referrers` and `load --referrers`: what they say, what lands in
//! the second store, and GC freeing the loaded referrers with their image.

use hoist_testkit::referrers::{FixtureArtifact, write_oras_layout};
use hoist_testkit::{Fixture, FixtureBlob};

use crate::support::{Env, four_platforms};

const SIGNATURE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
const SBOM: &str = "application/spdx+json";
const APP: &str = "example.com/signed:1";

fn artifact(subject: &FixtureBlob, artifact_type: &str, payload: &str) -> FixtureArtifact {
    FixtureArtifact::new(
        subject,
        artifact_type,
        "application/octet-stream",
        payload.as_bytes(),
        &[("org.example.note", "signed in CI")],
    )
}

fn stderr_of(env: &Env, args: &[&str]) -> String {
    let output = env.hoist(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "hoist {args:?}: {stderr}");
    stderr
}

fn listed(env: &Env) -> Vec<String> {
    let mut digests: Vec<String> = env
        .json(&["image", "referrers", APP])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["digest"].as_str().unwrap().to_owned())
        .collect();
    digests.sort();
    digests
}

#[test]
fn save_and_load_carry_the_saved_platforms_referrers_and_gc_frees_them_with_the_image() {
    let publisher = Env::new();
    let fixture = Fixture::generate(&four_platforms(71)).unwrap();
    let index_signature = artifact(&fixture.index, SIGNATURE, "index signature");
    let sboms: Vec<FixtureArtifact> = fixture
        .images
        .iter()
        .map(|image| artifact(&image.manifest, SBOM, &image.platform.to_text()))
        .collect();
    let mut all = vec![&index_signature];
    all.extend(sboms.iter());
    let layout = publisher.path().join("layout");
    write_oras_layout(&layout, &fixture, APP, &all).unwrap();
    let layout = layout.to_str().unwrap();

    // An oras-style layout: loaded with its referrers, none of them named.
    let said = stderr_of(&publisher, &["load", "-i", layout, "--referrers"]);
    assert!(said.contains("stored 5 referrer(s)"), "{said}");
    assert_eq!(listed(&publisher).len(), 5);
    assert_eq!(publisher.json(&["images"]).as_array().unwrap().len(), 1);

    // --artifact-type means nothing without --referrers.
    let archive = publisher.path().join("two.tar");
    let archive = archive.to_str().unwrap();
    let usage = publisher
        .hoist(&["save", "-o", archive, APP, "--artifact-type", SBOM])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("--referrers"));

    let said = stderr_of(
        &publisher,
        &[
            "save",
            "-o",
            archive,
            APP,
            "--platform",
            "linux/amd64,linux/arm64",
            "--referrers",
        ],
    );
    assert!(
        said.contains("saved 1 image(s) and 2 referrer(s)"),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "left behind 1 referrer(s) of the original index ({})",
            index_signature.manifest.digest
        )),
        "{said}"
    );

    // Without --referrers: the image only, and a word about what was skipped.
    let plain = Env::new();
    let said = stderr_of(&plain, &["load", "-i", archive]);
    assert!(said.contains("skipped 2 referrer(s)"), "{said}");
    assert!(!said.contains("unnamed"), "{said}");
    assert!(listed(&plain).is_empty());

    // With it: exactly the two kept platforms' SBOMs.
    let env = Env::new();
    let out = env.ok(&["load", "-i", archive, "--referrers"]);
    assert_eq!(out.trim(), format!("Loaded image: {APP}"));
    let mut expected: Vec<String> = sboms[..2]
        .iter()
        .map(|a| a.manifest.digest.clone())
        .collect();
    expected.sort();
    assert_eq!(listed(&env), expected);

    // GC keeps them while the image is named, frees them with it; fsck is
    // clean before and after.
    env.ok(&["gc"]);
    assert_eq!(listed(&env), expected);
    env.ok(&["fsck"]);
    env.ok(&["rmi", APP]);
    env.ok(&["gc"]);
    assert_eq!(env.json(&["content", "ls"]), serde_json::json!([]));
    env.ok(&["fsck"]);
}
