//! Commands that talk to a registry: pull, push, copy, verify --remote,
//! manifest inspect, image platforms --remote.

use serde_json::Value;

use crate::support::{Env, four_platforms, plain_registry};

#[test]
fn push_pull_copy_and_remote_reads() {
    let Some(registry) = plain_registry() else {
        return;
    };
    let host = registry.host();
    let app = format!("{host}/demo/app:1.0");
    let env = Env::new();
    let fixture = env.seed(&app, &four_platforms(11), &["--all-platforms"]);

    // Remote reads.
    let remote = env.json(&["image", "platforms", "--remote", &app]);
    assert_eq!(remote["digest"], fixture.index.digest);
    assert_eq!(remote["is_index"], true);
    assert_eq!(remote["manifests"].as_array().unwrap().len(), 4);
    let raw = env
        .hoist(&["manifest", "inspect", "--raw", &app])
        .output()
        .unwrap();
    assert!(raw.status.success());
    assert_eq!(
        raw.stdout, fixture.index.bytes,
        "--raw must give the exact bytes"
    );
    let pretty: Value = serde_json::from_str(&env.ok(&["manifest", "inspect", &app])).unwrap();
    assert_eq!(pretty["manifests"].as_array().unwrap().len(), 4);
    env.ok(&[
        "verify",
        "--remote",
        &app,
        "--platform",
        "linux/amd64,linux/arm64,linux/arm/v7,linux/s390x",
    ]);

    // Pull without a platform: the host's only, and it says so.
    let other = Env::new();
    let output = other.hoist(&["pull", &app]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), app);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("this machine's platform"), "{stderr}");
    assert!(stderr.contains("total: "), "{stderr}");
    let images = other.json(&["image", "ls"]);
    assert_eq!(images[0]["digest"], fixture.index.digest);
    assert_eq!(images[0]["platforms_complete"], 1);
    assert_eq!(images[0]["platforms_total"], 4);
    // -q prints nothing on stderr.
    let quiet = other
        .hoist(&["pull", "-q", &app, "--platform", "linux/s390x"])
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    assert_eq!(other.json(&["images"])[0]["platforms_complete"], 2);

    // Copy two platforms to another repository: an index of exactly those.
    let copy = format!("{host}/demo/copy:1.0");
    other.ok(&[
        "copy",
        &app,
        &copy,
        "--platform",
        "linux/arm64,linux/arm/v7",
    ]);
    let copied = other.json(&["image", "platforms", "--remote", &copy]);
    let listed: Vec<&str> = copied["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["linux/arm64", "linux/arm/v7"]);
    // Copy names nothing locally.
    assert_eq!(other.json(&["images"]).as_array().unwrap().len(), 1);

    // Copy to a digest: the whole index, untagged, by that digest; a
    // subset cannot have it, and is refused before anything is sent.
    let pinned = format!("{host}/demo/pinned@{}", fixture.index.digest);
    other.ok(&["copy", &app, &pinned, "--all-platforms"]);
    let remote = other.json(&["image", "platforms", "--remote", &pinned]);
    assert_eq!(remote["digest"], fixture.index.digest);
    let refused = format!("{host}/demo/refused@{}", fixture.index.digest);
    let line = other.fails(
        &["copy", "-q", &app, &refused, "--platform", "linux/arm64"],
        1,
    );
    assert!(line.contains("nothing was sent"), "{line}");
    assert!(line.contains(&fixture.index.digest), "{line}");
    other.fails(&["image", "platforms", "--remote", &refused], 1);
}

/// On a terminal, progress is drawn live (indicatif) and ends with the
/// total; `script` (util-linux, essential on Debian) provides the terminal.
#[test]
fn progress_is_live_on_a_terminal() {
    let Some(registry) = plain_registry() else {
        return;
    };
    let Some(script) = hoist_testkit::require_tool("script").unwrap() else {
        return;
    };
    let app = format!("{}/tty/app:1.0", registry.host());
    let env = Env::new();
    env.seed(&app, &four_platforms(12), &["--all-platforms"]);
    let other = Env::new();
    let command = format!(
        "{} --root {} pull {app} --all-platforms",
        crate::support::HOIST,
        other.root().display()
    );
    let output = std::process::Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .env("HOME", other.path().join("home"))
        .env("DOCKER_CONFIG", other.path().join("home/.docker"))
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("total: "), "{text}");
    // Redrawn lines: cursor movement, not one line per state.
    assert!(
        text.contains('\u{1b}'),
        "no terminal control sequences:\n{text}"
    );
    assert_eq!(other.json(&["images"])[0]["platforms_complete"], 4);
}

/// A push reads its tag back exactly once (the facade's check that it
/// resolves to the pushed index listing exactly the pushed platforms), and
/// not at all with `--no-verify`.
#[test]
fn push_reads_the_tag_back_once() {
    let Some(registry) = plain_registry() else {
        return;
    };
    let proxy = hoist_testkit::FaultProxy::start(&registry.host()).unwrap();
    let seeded = format!("{}/demo/src:1", registry.host());
    let env = Env::new();
    env.seed(&seeded, &four_platforms(12), &["--all-platforms"]);
    // The tag is asked for once before anything is sent (`HEAD`: is it
    // already this image?) and read back once after (`GET`).
    let tag_reads = |tag: &str, method: &str| {
        proxy
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(&format!("/manifests/{tag}")))
            .count()
    };
    let pushed = format!("{}/demo/app:checked", proxy.host());
    env.ok(&["tag", &seeded, &pushed]);
    env.ok(&[
        "push",
        "-q",
        &pushed,
        "--platform",
        "linux/amd64,linux/arm64",
    ]);
    assert_eq!(tag_reads("checked", "GET"), 1, "{:#?}", proxy.requests());
    assert_eq!(tag_reads("checked", "HEAD"), 1, "{:#?}", proxy.requests());
    let unchecked = format!("{}/demo/app:unchecked", proxy.host());
    env.ok(&["tag", &seeded, &unchecked]);
    env.ok(&[
        "push",
        "-q",
        &unchecked,
        "--platform",
        "linux/amd64,linux/arm64",
        "--no-verify",
    ]);
    assert_eq!(tag_reads("unchecked", "GET"), 0, "{:#?}", proxy.requests());
    assert_eq!(tag_reads("unchecked", "HEAD"), 1, "{:#?}", proxy.requests());
}
