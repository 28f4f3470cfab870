//! The six scenarios from the field (issue 7), end to end against a real
//! docker-registry.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use hoist_testkit::{Fault, FaultKind, FaultProxy, RegistryOptions};
use serde_json::Value;

use crate::support::{
    Env, HOIST, fixture_archive, four_platforms, largest_ingest, plain_registry, platforms,
    put_manifest, registry, skopeo, wait_until,
};

const ALL_FOUR: &str = "linux/amd64,linux/arm64,linux/arm/v7,linux/s390x";

/// 1. A platform the index lacks: non-zero, the available ones listed; an
///    empty index: its own message.
#[test]
fn scenario_1_missing_platform_and_empty_index() {
    let Some(registry) = plain_registry() else {
        return;
    };
    let host = registry.host();
    let app = format!("{host}/s1/app:1.0");
    let env = Env::new();
    env.seed(
        &app,
        &platforms(21, &["linux/amd64", "linux/s390x"]),
        &["--all-platforms"],
    );

    let other = Env::new();
    let line = other.fails(&["pull", &app, "--platform", "linux/arm64"], 1);
    assert!(line.contains("linux/arm64"), "{line}");
    assert!(
        line.contains("available: linux/amd64, linux/s390x"),
        "{line}"
    );
    assert_eq!(line.matches("linux/s390x").count(), 1, "{line}");
    assert!(
        line.contains("hint: choose one of them with --platform, or use --all-platforms"),
        "{line}"
    );
    assert!(other.json(&["images"]).as_array().unwrap().is_empty());

    put_manifest(
        &host,
        "s1/empty",
        "1.0",
        "application/vnd.oci.image.index.v1+json",
        br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
    );
    let empty = format!("{host}/s1/empty:1.0");
    let line = other.fails(&["pull", &empty, "--platform", "linux/amd64"], 1);
    assert!(line.contains("lists no manifests"), "{line}");
    assert!(line.contains("empty index"), "{line}");
    let line = other.fails(&["pull", &empty, "--all-platforms"], 1);
    assert!(line.contains("lists no manifests"), "{line}");
    assert!(other.json(&["images"]).as_array().unwrap().is_empty());
}

/// 2. Per-arch pushes to one tag overwrite each other and verify catches
///    it; an index assembled from both, pushed, passes.
#[test]
fn scenario_2_overwritten_tag_caught_then_assembled() {
    let Some(registry) = plain_registry() else {
        return;
    };
    let host = registry.host();
    let env = Env::new();
    let amd = format!("{host}/s2/app:amd64");
    let arm = format!("{host}/s2/app:arm64");
    let latest = format!("{host}/s2/app:latest");
    env.seed(&amd, &platforms(31, &["linux/amd64"]), &["--all-platforms"]);
    env.seed(&arm, &platforms(32, &["linux/arm64"]), &["--all-platforms"]);

    // CI job 1 then CI job 2 push to the same tag; the last one wins.
    env.ok(&["tag", &amd, &latest]);
    env.ok(&["push", "-q", &latest, "--all-platforms"]);
    env.ok(&["tag", &arm, &latest]);
    env.ok(&["push", "-q", &latest, "--all-platforms"]);
    let line = env.fails(
        &[
            "verify",
            "--remote",
            &latest,
            "--platform",
            "linux/amd64,linux/arm64",
        ],
        3,
    );
    assert!(line.contains("linux/amd64 is not listed"), "{line}");

    env.ok(&["rmi", &latest]);
    env.ok(&["manifest", "create", &latest, &amd, &arm]);
    env.ok(&["push", "-q", &latest, "--all-platforms"]);
    env.ok(&[
        "verify",
        "--remote",
        &latest,
        "--platform",
        "linux/amd64,linux/arm64",
    ]);
}

/// 3. A reduced push: the remote tag is an index of exactly the two
///    platforms; the local image is untouched; no temporary name ever
///    shows; GC afterwards keeps everything either index references.
#[test]
fn scenario_3_reduced_push_keeps_everything_local() {
    let Some(registry) = plain_registry() else {
        return;
    };
    let Some(skopeo) = skopeo() else { return };
    let host = registry.host();
    let app = format!("{host}/s3/app:1.0");
    let env = Env::new();
    let (archive, fixture) = fixture_archive(&env, "app.tar", &app, &four_platforms(41));
    env.ok(&["load", "-i", archive.to_str().unwrap()]);
    let before = env.json(&["images"]);

    // Watch the names while the push runs.
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (seen, stop) = (Arc::clone(&seen), Arc::clone(&stop));
        let root = env.root();
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let output = Command::new(HOIST)
                    .args(["--root", root.to_str().unwrap(), "images", "-q"])
                    .output()
                    .unwrap();
                assert!(output.status.success());
                for name in String::from_utf8_lossy(&output.stdout).lines() {
                    seen.lock().unwrap().insert(name.to_owned());
                }
            }
        })
    };
    env.ok(&["push", &app, "--platform", "linux/amd64,linux/arm64"]);
    stop.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    assert_eq!(*seen.lock().unwrap(), BTreeSet::from([app.clone()]));

    let output = Command::new(skopeo)
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{app}"),
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let remote: Value = serde_json::from_slice(&output.stdout).unwrap();
    let listed: Vec<String> = remote["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let p = &m["platform"];
            let mut text = format!(
                "{}/{}",
                p["os"].as_str().unwrap(),
                p["architecture"].as_str().unwrap()
            );
            if let Some(v) = p["variant"].as_str() {
                text.push('/');
                text.push_str(v);
            }
            text
        })
        .collect();
    assert_eq!(listed, ["linux/amd64", "linux/arm64/v8"]);
    let expected: BTreeSet<&str> = [&fixture.images[0], &fixture.images[1]]
        .iter()
        .map(|i| i.manifest.digest.as_str())
        .collect();
    let remote_children: BTreeSet<&str> = remote["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    assert_eq!(remote_children, expected);

    // Local: unchanged and complete, before and after a collection.
    assert_eq!(env.json(&["images"]), before);
    env.ok(&["gc"]);
    assert_eq!(env.json(&["images"]), before);
    env.ok(&["verify", &app, "--platform", ALL_FOUR]);
    let stored: BTreeSet<String> = env
        .json(&["content", "ls"])
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["digest"].as_str().unwrap().to_owned())
        .collect();
    for blob in fixture.blobs() {
        assert!(stored.contains(&blob.digest), "gc removed {}", blob.digest);
    }
    assert_eq!(env.ok(&["fsck"]).trim(), "clean");
}

/// 4. A pull killed with SIGKILL midway resumes and completes; fsck is
///    clean.
#[test]
fn scenario_4_killed_pull_resumes() {
    let Some(registry) = plain_registry() else {
        return;
    };
    let env = Env::new();
    let app = format!("{}/s4/app:1.0", registry.host());
    // A 4 MiB layer shared by all platforms (stored, not compressed).
    let spec = hoist_testkit::FixtureSpec::four_platforms(51, 4 << 20, 16 * 1024);
    let fixture = env.seed(&app, &spec, &["--all-platforms"]);
    let shared = fixture.images[0].layers[0].clone();
    assert!(shared.size() > 4_000_000);

    let proxy = FaultProxy::start(&registry.host()).unwrap();
    proxy.add_fault(Fault::new(
        &shared.digest,
        FaultKind::Stall { after: 1 << 20 },
    ));
    let via_proxy = format!("{}/s4/app:1.0", proxy.host());
    let puller = Env::new();
    let mut child = Command::new(HOIST)
        .args([
            "--root",
            puller.root().to_str().unwrap(),
            "pull",
            "-q",
            &via_proxy,
            "--all-platforms",
        ])
        .env("HOME", puller.path().join("home"))
        .env("DOCKER_CONFIG", puller.path().join("home/.docker"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(
        "the stalled blob's first MiB in an ingest",
        Duration::from_secs(60),
        || largest_ingest(&puller.root()) >= 1 << 20,
    );
    child.kill().unwrap(); // SIGKILL
    assert!(!child.wait().unwrap().success());
    assert!(puller.json(&["images"]).as_array().unwrap().is_empty());

    puller.ok(&["pull", "-q", &via_proxy, "--all-platforms"]);
    puller.ok(&["verify", &via_proxy, "--platform", ALL_FOUR]);
    assert_eq!(puller.ok(&["fsck"]).trim(), "clean");
    let ranges: Vec<String> = proxy
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&shared.digest))
        .filter_map(|r| r.header("range").map(str::to_owned))
        .collect();
    assert!(
        ranges
            .iter()
            .any(|r| r.starts_with("bytes=") && !r.starts_with("bytes=0-")),
        "the second pull did not resume: {ranges:?}"
    );
}

/// 5. Two pulls of overlapping images in two processes while a third
///    process collects garbage in a loop: all succeed, nothing referenced
///    is lost.
#[test]
fn scenario_5_concurrent_pulls_and_gc() {
    let Some(registry) = plain_registry() else {
        return;
    };
    let host = registry.host();
    let seeder = Env::new();
    let full = format!("{host}/s5/app:full");
    let slim = format!("{host}/s5/app:slim");
    let spec = hoist_testkit::FixtureSpec::four_platforms(61, 1 << 20, 256 * 1024);
    seeder.seed(&full, &spec, &["--all-platforms"]);
    seeder.ok(&["tag", &full, &slim]);
    seeder.ok(&["push", "-q", &slim, "--platform", "linux/amd64,linux/arm64"]);

    let env = Env::new();
    env.ok(&["namespace", "ls"]); // creates the store before the race
    let stop = Arc::new(AtomicBool::new(false));
    let collector = {
        let stop = Arc::clone(&stop);
        let root = env.root();
        std::thread::spawn(move || {
            let mut runs = 0;
            while !stop.load(Ordering::SeqCst) {
                let output = Command::new(HOIST)
                    .args(["--root", root.to_str().unwrap(), "gc"])
                    .output()
                    .unwrap();
                assert!(
                    output.status.success(),
                    "gc: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                runs += 1;
            }
            runs
        })
    };
    let spawn = |reference: &str| {
        Command::new(HOIST)
            .args([
                "--root",
                env.root().to_str().unwrap(),
                "pull",
                "-q",
                reference,
                "--all-platforms",
            ])
            .env("HOME", env.path().join("home"))
            .env("DOCKER_CONFIG", env.path().join("home/.docker"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = spawn(&full);
    let second = spawn(&slim);
    let first = first.wait_with_output().unwrap();
    let second = second.wait_with_output().unwrap();
    stop.store(true, Ordering::SeqCst);
    let runs = collector.join().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(runs > 0);

    env.ok(&["gc"]);
    env.ok(&["verify", &full, "--platform", ALL_FOUR]);
    env.ok(&["verify", &slim, "--platform", "linux/amd64,linux/arm64"]);
    assert_eq!(env.ok(&["fsck"]).trim(), "clean");
}

/// 6. Bad input: one line `hoist: error: …`, the right exit code, and the
///    store unchanged.
#[test]
fn scenario_6_bad_input_changes_nothing() {
    let Some(registry) = registry(RegistryOptions::basic("ci", "right")) else {
        return;
    };
    let host = registry.host();
    let env = Env::new();
    let (archive, _) = fixture_archive(
        &env,
        "app.tar",
        "example.com/s6/app:1.0",
        &four_platforms(71),
    );
    env.ok(&["load", "-i", archive.to_str().unwrap()]);
    let remote = format!("{host}/s6/app:1.0");
    env.ok(&["tag", "example.com/s6/app:1.0", &remote]);
    let before = env.snapshot();

    // An invalid reference, an invalid platform: usage errors.
    let line = env.fails(&["pull", "Example.com/UPPER:tag"], 2);
    assert!(line.contains("invalid reference"), "{line}");
    let line = env.fails(
        &["pull", "example.com/s6/app:1.0", "--platform", "linux/"],
        2,
    );
    assert!(line.contains("\"linux/\""), "{line}");
    env.fails(
        &[
            "image",
            "convert",
            "example.com/s6/app:1.0",
            "example.com/s6/app:x",
            "--platform",
            "plan9//",
        ],
        2,
    );
    env.fails(&["tag", "example.com/s6/app:1.0", "bad:tag:twice"], 2);

    // A missing file, a corrupt archive: failures.
    let line = env.fails(
        &[
            "load",
            "-i",
            env.path().join("missing.tar").to_str().unwrap(),
        ],
        1,
    );
    assert!(line.contains("missing.tar"), "{line}");
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 64] {
        *byte ^= 0xff;
    }
    let corrupt = env.path().join("corrupt.tar");
    std::fs::write(&corrupt, &bytes).unwrap();
    env.fails(&["load", "-i", corrupt.to_str().unwrap()], 1);
    let truncated = env.path().join("truncated.tar");
    std::fs::write(&truncated, &bytes[..middle]).unwrap();
    env.fails(&["load", "-i", truncated.to_str().unwrap()], 1);

    // A wrong password saved in config.json: refused, with a login hint.
    let auth = base64::engine::general_purpose::STANDARD.encode("ci:wrong");
    std::fs::write(
        env.docker_config(),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    let line = env.fails(&["pull", &remote, "--all-platforms"], 1);
    assert!(line.contains(&format!("hoist login {host}")), "{line}");
    let line = env.fails(&["push", "-q", &remote, "--all-platforms"], 1);
    assert!(line.contains(&format!("hoist login {host}")), "{line}");

    assert_eq!(env.snapshot(), before);
    assert_eq!(env.ok(&["fsck"]).trim(), "clean");
}
