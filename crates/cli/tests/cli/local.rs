//! The local commands against a store loaded from generated archives:
//! load, images, image platforms/inspect/convert/prune, tag, rmi, save,
//! manifest create, verify (local), content, lease, gc, fsck, namespace.

use std::io::Read as _;

use serde_json::Value;

use crate::support::{Env, fixture_archive, four_platforms, platforms};

const APP: &str = "example.com/demo/app:1.0";
const SLIM: &str = "example.com/demo/app:slim";

fn loaded(env: &Env) -> hoist_testkit::Fixture {
    let (archive, fixture) = fixture_archive(env, "app.tar", APP, &four_platforms(1));
    let out = env.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(out.trim(), format!("Loaded image: {APP}"));
    fixture
}

fn names(images: &Value) -> Vec<String> {
    images
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn load_reduce_save_and_collect_keep_what_the_slim_image_needs() {
    let env = Env::new();
    let fixture = loaded(&env);

    let images = env.json(&["images"]);
    assert_eq!(names(&images), [APP]);
    assert_eq!(images[0]["digest"], fixture.index.digest);
    assert_eq!(images[0]["platforms_complete"], 4);
    assert_eq!(images[0]["platforms_total"], 4);
    let table = env.ok(&["images"]);
    assert!(table.starts_with("REPOSITORY"), "{table}");
    assert!(
        table.contains("linux/amd64,linux/arm64,linux/arm/v7,linux/s390x (4/4 local)"),
        "{table}"
    );

    let report = env.json(&["image", "platforms", APP]);
    let rows: Vec<(&str, &str)> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["platform"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("linux/amd64", "complete"),
            ("linux/arm64", "complete"),
            ("linux/arm/v7", "complete"),
            ("linux/s390x", "complete")
        ]
    );

    let digest = env.ok(&[
        "image",
        "convert",
        APP,
        SLIM,
        "--platform",
        "linux/amd64,linux/arm64",
    ]);
    let slim_digest = digest.trim().to_owned();
    assert!(slim_digest.starts_with("sha256:"), "{slim_digest}");
    let slim = env.json(&["images", SLIM]);
    assert_eq!(names(&slim), [SLIM]);
    assert_eq!(slim[0]["platforms_total"], 2);
    assert_eq!(slim[0]["digest"], slim_digest.as_str());

    let archive = env.path().join("slim.tar");
    env.ok(&[
        "save",
        "-o",
        archive.to_str().unwrap(),
        SLIM,
        "--all-platforms",
    ]);
    let other = Env::new();
    let out = other.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert!(out.contains(SLIM), "{out}");
    assert_eq!(other.json(&["images"])[0]["digest"], slim_digest.as_str());

    env.ok(&["rmi", APP]);
    let dry = env.json(&["gc", "--dry-run"]);
    assert!(!dry["blobs"].as_array().unwrap().is_empty());
    let before = env.json(&["content", "ls"]).as_array().unwrap().len();
    let gc = env.json(&["gc"]);
    assert_eq!(gc["blobs"], dry["blobs"]);
    let after = env.json(&["content", "ls"]);
    assert_eq!(
        after.as_array().unwrap().len() + gc["blobs"].as_array().unwrap().len(),
        before
    );
    // Everything the slim image needs stayed: both platforms complete.
    let slim = env.json(&["images"]);
    assert_eq!(names(&slim), [SLIM]);
    assert_eq!(slim[0]["platforms_complete"], 2);
    env.ok(&[
        "verify",
        SLIM,
        "--platform",
        "linux/amd64",
        "--platform",
        "linux/arm64",
    ]);
    assert_eq!(env.ok(&["fsck"]).trim(), "clean");

    // content get returns the stored bytes of the reduced index.
    let output = env
        .hoist(&["content", "get", &slim_digest])
        .output()
        .unwrap();
    assert!(output.status.success());
    let index: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
}

#[test]
fn verify_exits_3_for_a_missing_platform() {
    let env = Env::new();
    loaded(&env);
    env.ok(&[
        "image",
        "convert",
        APP,
        SLIM,
        "--platform",
        "linux/amd64,linux/arm64",
    ]);
    let line = env.fails(
        &["verify", SLIM, "--platform", "linux/amd64,linux/s390x"],
        3,
    );
    assert!(line.contains("linux/s390x"), "{line}");
    assert!(line.contains("linux/amd64, linux/arm64"), "{line}");
    let out = env.json(&["verify", APP, "--platform", "linux/s390x"]);
    assert_eq!(out["ok"], true);
}

#[test]
fn tag_and_rmi_change_names_only() {
    let env = Env::new();
    loaded(&env);
    env.ok(&["tag", APP, "example.com/demo/app:2.0"]);
    let images = env.json(&["images", "example.com/demo/app"]);
    assert_eq!(names(&images), [APP, "example.com/demo/app:2.0"]);
    assert_eq!(images[0]["digest"], images[1]["digest"]);
    // One unknown name among several removes none of them.
    let line = env.fails(
        &["rmi", "example.com/demo/app:2.0", "example.com/demo/nope:1"],
        1,
    );
    assert!(line.contains("example.com/demo/nope:1"), "{line}");
    assert_eq!(env.json(&["images"]).as_array().unwrap().len(), 2);
    env.ok(&[
        "rmi",
        "-f",
        "example.com/demo/app:2.0",
        "example.com/demo/nope:1",
    ]);
    assert_eq!(names(&env.json(&["images"])), [APP]);
    assert_eq!(env.ok(&["images", "-q"]).trim(), APP);
}

#[test]
fn inspect_shows_the_index_or_one_platforms_manifest() {
    let env = Env::new();
    let fixture = loaded(&env);
    let out: Value = serde_json::from_str(&env.ok(&["image", "inspect", APP])).unwrap();
    assert_eq!(out["target"]["digest"], fixture.index.digest);
    assert_eq!(out["document"]["manifests"].as_array().unwrap().len(), 4);
    let arm: Value =
        serde_json::from_str(&env.ok(&["image", "inspect", APP, "--platform", "linux/arm64"]))
            .unwrap();
    assert_eq!(
        arm["manifest_descriptor"]["digest"],
        fixture.images[1].manifest.digest
    );
    assert_eq!(arm["config"]["architecture"], "arm64");
    let line = env.fails(&["image", "inspect", APP, "--platform", "linux/ppc64le"], 1);
    assert!(line.contains("available platforms: linux/amd64"), "{line}");
}

#[test]
fn manifest_create_assembles_per_platform_images() {
    let env = Env::new();
    let (amd, _) = fixture_archive(
        &env,
        "amd.tar",
        "example.com/demo/app:amd64",
        &platforms(2, &["linux/amd64"]),
    );
    let (arm, _) = fixture_archive(
        &env,
        "arm.tar",
        "example.com/demo/app:arm64",
        &platforms(3, &["linux/arm64"]),
    );
    env.ok(&["load", "-i", amd.to_str().unwrap()]);
    env.ok(&["load", "-i", arm.to_str().unwrap()]);
    let multi = "example.com/demo/app:multi";
    env.ok(&[
        "manifest",
        "create",
        multi,
        "example.com/demo/app:amd64",
        "example.com/demo/app:arm64",
    ]);
    env.ok(&["verify", multi, "--platform", "linux/amd64,linux/arm64"]);
    // Again without --amend: it exists.
    env.fails(
        &["manifest", "create", multi, "example.com/demo/app:amd64"],
        1,
    );
    // Two different manifests for one platform: refused, naming it.
    let (other, _) = fixture_archive(
        &env,
        "amd2.tar",
        "example.com/demo/app:amd64-b",
        &platforms(4, &["linux/amd64"]),
    );
    env.ok(&["load", "-i", other.to_str().unwrap()]);
    let line = env.fails(
        &[
            "manifest",
            "create",
            "example.com/demo/app:dup",
            "example.com/demo/app:amd64-b",
            multi,
        ],
        1,
    );
    assert!(line.contains("linux/amd64"), "{line}");
    // With --amend the later source wins for that platform.
    env.ok(&[
        "manifest",
        "create",
        multi,
        "example.com/demo/app:amd64-b",
        "--amend",
    ]);
    let images = env.json(&["images", multi]);
    assert_eq!(images[0]["platforms_total"], 2);
}

#[test]
fn leases_namespaces_and_prune() {
    let env = Env::new();
    let id = env.ok(&["lease", "create", "--id", "keep-me", "--expires", "1h"]);
    assert_eq!(id.trim(), "keep-me");
    let leases = env.json(&["lease", "ls"]);
    let lease = leases
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "keep-me")
        .unwrap();
    assert_eq!(lease["expired"], false);
    assert!(lease["expires"].is_string());
    env.fails(&["lease", "create", "--expires", "soon"], 2);
    env.ok(&["lease", "rm", "keep-me"]);
    assert!(
        env.json(&["lease", "ls"])
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["id"] != "keep-me")
    );
    env.fails(&["lease", "rm", "keep-me"], 1);

    let (archive, _) = fixture_archive(&env, "app.tar", APP, &four_platforms(4));
    env.ok(&["-n", "team", "load", "-i", archive.to_str().unwrap()]);
    let spaces = env.ok(&["namespace", "ls"]);
    assert!(spaces.lines().any(|l| l == "team"), "{spaces}");
    assert!(env.json(&["images"]).as_array().unwrap().is_empty());
    assert_eq!(names(&env.json(&["-n", "team", "images"])), [APP]);

    // Without -a only names without a tag go.
    let images = env.json(&["-n", "team", "images"]);
    let pinned = format!(
        "example.com/demo/app@{}",
        images[0]["digest"].as_str().unwrap()
    );
    env.ok(&["-n", "team", "tag", APP, &pinned]);
    assert_eq!(
        env.json(&["-n", "team", "images"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let out = env.ok(&["-n", "team", "image", "prune", "-f"]);
    assert!(out.contains(&format!("Untagged: {pinned}")), "{out}");
    assert_eq!(names(&env.json(&["-n", "team", "images"])), [APP]);

    env.fails(&["-n", "team", "image", "prune", "-a"], 2);
    env.ok(&["-n", "team", "image", "prune", "-a", "-f"]);
    assert!(
        env.json(&["-n", "team", "images"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        env.json(&["-n", "team", "content", "ls"])
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn content_rm_and_get_of_unknown_blobs() {
    let env = Env::new();
    let fixture = loaded(&env);
    let layer = &fixture.images[3].layers[1].digest;
    let output = env.hoist(&["content", "get", layer]).output().unwrap();
    assert!(output.status.success());
    let mut bytes = Vec::new();
    output.stdout.as_slice().read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, fixture.images[3].layers[1].bytes);
    env.fails(&["content", "get", "sha256:nothex"], 2);
    let absent = format!("sha256:{}", "0".repeat(64));
    env.fails(&["content", "get", &absent], 1);

    // rm drops the namespace's record; the image then reports the platform
    // incomplete, and verify says so with exit 3.
    env.fails(&["content", "rm", layer, "sha256:bad"], 2);
    assert_eq!(env.ok(&["content", "rm", layer]).trim(), layer.as_str());
    let listed = env.ok(&["content", "ls", "-q"]);
    assert!(!listed.lines().any(|l| l == layer), "{listed}");
    let images = env.json(&["images"]);
    assert_eq!(images[0]["platforms_complete"], 3);
    let table = env.ok(&["images", "--digests", "--no-trunc"]);
    assert!(table.contains("(3/4 local)"), "{table}");
    assert!(table.contains(&fixture.index.digest), "{table}");
    let line = env.fails(&["verify", APP, "--platform", "linux/s390x"], 3);
    assert!(line.contains("linux/s390x"), "{line}");
}

/// `image platforms` counts, for each platform, the buildx attestation
/// manifests about it that are complete here.
#[test]
fn image_platforms_counts_each_platforms_attestations() {
    let env = Env::new();
    let spec = platforms(91, &["linux/amd64", "linux/arm64"]).with_attestations();
    let (archive, _) = fixture_archive(&env, "attested.tar", "example.com/attested:1", &spec);
    env.ok(&["load", "-i", archive.to_str().unwrap()]);
    let rows = env.json(&["image", "platforms", "example.com/attested:1"]);
    let counts: Vec<(String, u64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["platform"].as_str().unwrap().to_owned(),
                row["attestations"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("linux/amd64".to_owned(), 1),
            ("linux/arm64".to_owned(), 1),
            ("attestation".to_owned(), 0),
            ("attestation".to_owned(), 0),
        ]
    );
    let table = env.ok(&[
        "image",
        "platforms",
        "example.com/attested:1",
        "--format",
        "table",
    ]);
    assert!(table.contains("ATTESTATIONS"), "{table}");
}
