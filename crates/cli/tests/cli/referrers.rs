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

/// Publishes a 4-platform image at `host/repository:1` with, on arm64, a
/// signature and an SBOM listed in its fallback tag, and a signature of the
/// index; returns the fixture, the arm64 referrers and the index signature.
fn publish_signed(
    host: &str,
    repository: &str,
    seed: u64,
) -> (
    hoist_testkit::Fixture,
    [FixtureArtifact; 2],
    FixtureArtifact,
) {
    let publisher = Env::new();
    let fixture = publisher.seed(
        &format!("{host}/{repository}:1"),
        &four_platforms(seed),
        &["--all-platforms"],
    );
    let arm = fixture
        .images
        .iter()
        .find(|i| i.platform.to_text() == "linux/arm64/v8")
        .unwrap()
        .manifest
        .clone();
    let signature = artifact(&arm, SIGNATURE, b"arm64 signature");
    let sbom = artifact(&arm, SBOM, b"{\"spdxVersion\":\"SPDX-2.3\"}");
    let index_signature = artifact(&fixture.index, SIGNATURE, b"index signature");
    for a in [&signature, &sbom, &index_signature] {
        upload_artifact(host, repository, a).unwrap();
    }
    upload_manifest(
        host,
        repository,
        Some(&fallback_tag(&arm)),
        &fallback_index(&[&signature, &sbom]),
    )
    .unwrap();
    upload_manifest(
        host,
        repository,
        Some(&fallback_tag(&fixture.index)),
        &fallback_index(&[&index_signature]),
    )
    .unwrap();
    (fixture, [signature, sbom], index_signature)
}

/// How many referrers a fresh store fetches with `pull --referrers` of
/// `reference`'s arm64.
fn referrers_on_registry(reference: &str) -> String {
    let reader = Env::new();
    let output = reader
        .hoist(&[
            "pull",
            reference,
            "--platform",
            "linux/arm64",
            "--referrers",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

#[test]
fn push_and_copy_take_referrers_by_flag_or_config_and_no_referrers_wins() {
    let Some(registry) = plain_registry() else {
        return;
    };
    let host = registry.host();
    let (_fixture, [signature, sbom], index_signature) = publish_signed(&host, "demo/src", 52);
    let source = format!("{host}/demo/src:1");

    // The config file turns referrers on for pull, push and copy.
    let env = Env::new();
    let config = env.path().join("home/.config/hoist");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), "[transfer]\nreferrers = true\n").unwrap();
    let output = env
        .hoist(&["pull", &source, "--platform", "linux/arm64"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // arm64's two and the index's signature.
    assert!(stderr.contains("3 referrers fetched"), "{stderr}");

    // push (config on): the referrers go, listed in the fallback tag.
    let pushed = format!("{host}/demo/pushed:1");
    env.ok(&["tag", &source, &pushed]);
    let output = env
        .hoist(&["push", &pushed, "--platform", "linux/arm64"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("2 referrers pushed"), "{stderr}");
    assert!(stderr.contains("sha256-"), "{stderr}");
    // A reduced push leaves the index's signature behind, and says so.
    assert!(stderr.contains("hoist: warning: 1 referrers"), "{stderr}");
    assert!(
        stderr.contains(&index_signature.manifest.digest),
        "{stderr}"
    );
    let read = referrers_on_registry(&pushed);
    assert!(read.contains("2 referrers fetched"), "{read}");

    // --no-referrers wins over the config file.
    let bare = format!("{host}/demo/bare:1");
    env.ok(&["tag", &source, &bare]);
    env.ok(&["push", &bare, "--platform", "linux/arm64", "--no-referrers"]);
    let read = referrers_on_registry(&bare);
    assert!(read.contains("0 referrers fetched"), "{read}");

    // copy --referrers --artifact-type, without the config file.
    let plain = Env::new();
    let copied = format!("{host}/demo/copied:1");
    let output = plain
        .hoist(&[
            "copy",
            &source,
            &copied,
            "--platform",
            "linux/arm64",
            "--referrers",
            "--artifact-type",
            SBOM,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("1 referrers pushed"), "{stderr}");
    let read = Env::new();
    read.ok(&["pull", &copied, "--platform", "linux/arm64", "--referrers"]);
    let listed = read.json(&["image", "referrers", &copied]);
    let digests: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["digest"].as_str().unwrap())
        .collect();
    assert_eq!(digests, vec![sbom.manifest.digest.as_str()]);
    assert_ne!(digests, vec![signature.manifest.digest.as_str()]);
}

#[test]
fn a_bad_config_file_is_a_usage_error_naming_the_file() {
    let env = Env::new();
    let file = env.path().join("hoist.toml");
    std::fs::write(&file, "[transfer]\nreferers = true\n").unwrap();
    let output = env
        .hoist(&["pull", "localhost:1/a:1", "--platform", "linux/arm64"])
        .env("HOIST_CONFIG", &file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let line = crate::support::one_error_line(&output.stderr);
    assert!(line.contains(file.to_str().unwrap()), "{line}");
    assert!(line.contains("line 2"), "{line}");
    assert!(line.contains("referers"), "{line}");

    std::fs::write(&file, "[transfer\n").unwrap();
    let output = env
        .hoist(&["push", "localhost:1/a:1"])
        .env("HOIST_CONFIG", &file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let line = crate::support::one_error_line(&output.stderr);
    assert!(line.contains(file.to_str().unwrap()), "{line}");

    // A file HOIST_CONFIG names must exist; the default one need not.
    let missing = env.path().join("missing.toml");
    let output = env
        .hoist(&["copy", "localhost:1/a:1", "localhost:1/b:1"])
        .env("HOIST_CONFIG", &missing)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let line = crate::support::one_error_line(&output.stderr);
    assert!(line.contains(missing.to_str().unwrap()), "{line}");
}
