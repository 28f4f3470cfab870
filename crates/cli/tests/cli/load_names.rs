//! `hoist load` of archives that name their images only by a bare tag, as
//! `skopeo copy … oci-archive:FILE:TAG` writes them: without `--name` it
//! says what it could not name and holds the content under a lease; with
//! `--name` it names them, and a second load moves nothing again.

use std::process::Command;

use crate::support::{Env, fixture_archive, platforms};

/// An archive skopeo wrote from a generated layout, its index entry named
/// only `v1`; `None` (loudly skipped) without skopeo outside CI.
fn skopeo_archive(env: &Env) -> Option<(String, hoist_testkit::Fixture)> {
    let skopeo = hoist_testkit::require_tool("skopeo").unwrap()?;
    let (_, fixture) = fixture_archive(
        env,
        "source.tar",
        "example.com/src:1",
        &platforms(81, &["linux/amd64", "linux/386"]),
    );
    let layout = env.path().join("source.tar.layout");
    let archive = env.path().join("skopeo.tar");
    let output = Command::new(skopeo)
        .args(["copy", "--all", "--quiet", "--preserve-digests"])
        .arg(format!("oci:{}:example.com/src:1", layout.display()))
        .arg(format!("oci-archive:{}:v1", archive.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "skopeo copy: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some((archive.to_str().unwrap().to_owned(), fixture))
}

#[test]
fn an_archive_named_by_a_bare_tag_is_held_then_named_without_moving_anything_again() {
    let env = Env::new();
    let Some((archive, fixture)) = skopeo_archive(&env) else {
        return;
    };

    // No name: nothing is named, the user is told what and how, and the
    // content is held.
    let output = env.hoist(&["load", "-i", &archive]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        stderr.contains(&format!(
            "leaves 1 image(s) unnamed: tag v1 ({})",
            fixture.index.digest
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--name REPOSITORY"), "{stderr}");
    assert!(stderr.contains("held by lease"), "{stderr}");
    assert!(env.json(&["images"]).as_array().unwrap().is_empty());
    let leases = env.json(&["lease", "ls"]);
    assert_eq!(leases.as_array().unwrap().len(), 1, "{leases}");

    // A collection meanwhile removes none of it.
    let blobs = env.json(&["content", "ls"]).as_array().unwrap().len();
    let gc = env.json(&["gc"]);
    assert!(gc["blobs"].as_array().unwrap().is_empty(), "{gc}");
    assert_eq!(
        env.json(&["content", "ls"]).as_array().unwrap().len(),
        blobs
    );

    // Named by repository: REPOSITORY:<tag>, and no blob is written again.
    let output = env
        .hoist(&["load", "-i", &archive, "--name", "example.com/team/app"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "Loaded image: example.com/team/app:v1"
    );
    assert!(
        stderr.contains(&format!(
            "loaded 0 blobs from {archive} ({blobs} already here)"
        )),
        "{stderr}"
    );
    let images = env.json(&["images"]);
    assert_eq!(images[0]["name"], "example.com/team/app:v1");
    assert_eq!(images[0]["digest"], fixture.index.digest);
    assert_eq!(images[0]["platforms_complete"], 2);

    // A full reference names the archive's one unnamed image.
    env.ok(&[
        "load",
        "-q",
        "-i",
        &archive,
        "--name",
        "example.com/other:2",
    ]);
    let named: Vec<String> = env
        .json(&["images"])
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        named.contains(&"example.com/other:2".to_owned()),
        "{named:?}"
    );
}

#[test]
fn a_bad_name_is_refused_before_anything_is_stored() {
    let env = Env::new();
    let (archive, _) = fixture_archive(
        &env,
        "a.tar",
        "example.com/app:1",
        &platforms(82, &["linux/amd64"]),
    );
    let line = env.fails(
        &[
            "load",
            "-i",
            archive.to_str().unwrap(),
            "--name",
            "Bad/Name",
        ],
        2,
    );
    assert!(line.contains("Bad/Name"), "{line}");
    assert!(env.json(&["content", "ls"]).as_array().unwrap().is_empty());
}
