//! The host default on indexes that list fallback pairs (amd64 + 386,
//! arm64 + arm/v7, arm/v7 + arm/v6), as most official images do: with no
//! `--platform`, every command takes exactly the one entry the host runs
//! best, never its fallbacks too. The host is forced with
//! `HOIST_HOST_PLATFORM`, so an arm64 machine's choices are tested here too.

use crate::support::{Env, plain_registry, platforms};

/// The platforms of the index (or lone manifest) `reference` names on its
/// registry, in index order.
fn remote_platforms(env: &Env, reference: &str) -> Vec<String> {
    let remote = env.json(&["image", "platforms", "--remote", reference]);
    remote["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"].as_str().unwrap().to_owned())
        .collect()
}

/// The platforms of the local image `name`, with their state.
fn local_platforms(env: &Env, name: &str) -> Vec<(String, String)> {
    let rows = env.json(&["image", "platforms", name]);
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["platform"].as_str().unwrap().to_owned(),
                row["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Runs `hoist <args>` in `env`, asserting success and that stderr says the
/// command works on this machine's platform `host`; returns stdout.
fn ok_saying_host(env: &Env, args: &[&str], verb: &str, host: &str) -> String {
    let output = env.hoist(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "hoist {args:?} failed:\n{stderr}");
    assert!(
        stderr.contains(&format!("{verb} for this machine's platform {host}")),
        "hoist {args:?} did not name its default:\n{stderr}"
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The flow on an index of `listed` platforms, on a machine that
/// hoist takes for `host`: pull, tag, push, save (and load elsewhere),
/// copy and convert, all without `--platform`, each keeping exactly
/// `chosen`.
fn host_default_flow(seed: u64, host: &str, listed: &[&str], chosen: &str) {
    let Some(registry) = plain_registry() else {
        return;
    };
    let reg = registry.host();
    let app = format!("{reg}/team/app:v1");
    let publisher = Env::new();
    let fixture = publisher.seed(&app, &platforms(seed, listed), &["--all-platforms"]);
    assert_eq!(remote_platforms(&publisher, &app), listed);

    let env = Env::new().on_host(host);
    ok_saying_host(&env, &["pull", &app], "pulling", host);
    let pulled = local_platforms(&env, &app);
    let complete: Vec<&str> = pulled
        .iter()
        .filter(|(_, state)| state == "complete")
        .map(|(platform, _)| platform.as_str())
        .collect();
    assert_eq!(complete, [chosen], "pull took more than the best match");

    // Push: the pushed tag is an index of exactly the chosen platform.
    let pushed = format!("{reg}/team/app:pushed");
    env.ok(&["tag", &app, &pushed]);
    ok_saying_host(&env, &["push", &pushed], "pushing", host);
    assert_eq!(remote_platforms(&env, &pushed), [chosen]);

    // Save: the archive holds the chosen platform and loads elsewhere.
    let archive = env.path().join("app.tar");
    let archive = archive.to_str().unwrap();
    ok_saying_host(&env, &["save", "-o", archive, &app], "saving", host);
    let elsewhere = Env::new();
    let loaded = elsewhere.ok(&["load", "-i", archive]);
    assert_eq!(loaded.trim(), format!("Loaded image: {app}"));
    assert_eq!(
        local_platforms(&elsewhere, &app),
        [(chosen.to_owned(), "complete".to_owned())]
    );
    elsewhere.ok(&["verify", &app, "--platform", chosen]);

    // Copy: registry to registry, the chosen platform only.
    let copied = format!("{reg}/team/copy:v1");
    ok_saying_host(&env, &["copy", &app, &copied], "copying", host);
    assert_eq!(remote_platforms(&env, &copied), [chosen]);

    // Convert: a local index of the chosen platform.
    let converted = "example.com/team/app:converted";
    ok_saying_host(
        &env,
        &["image", "convert", &app, converted],
        "converting",
        host,
    );
    let rows = local_platforms(&env, converted);
    assert_eq!(rows, [(chosen.to_owned(), "complete".to_owned())]);

    // Unpack: the chosen platform's layers, none of a fallback's (testkit
    // puts each platform's own files under `<platform>-0/`).
    let rootfs = env.path().join("rootfs");
    ok_saying_host(
        &env,
        &["unpack", &app, rootfs.to_str().unwrap(), "--rootless"],
        "unpacking",
        host,
    );
    for listed_platform in listed {
        let own = rootfs.join(format!("{listed_platform}-0/file-0000.bin"));
        assert_eq!(
            own.is_file(),
            *listed_platform == chosen,
            "{listed_platform}'s own layer in the unpacked tree"
        );
    }

    // Inspect of a platform that has its own entry shows that entry.
    let inspected = env.json(&["image", "inspect", &app, "--platform", chosen]);
    let chosen_manifest = fixture
        .images
        .iter()
        .find(|i| i.platform.to_text() == chosen)
        .unwrap();
    assert_eq!(
        inspected["manifest_descriptor"]["digest"],
        chosen_manifest.manifest.digest
    );

    // The whole index is still what was pulled, untouched.
    let images = env.json(&["images", &app]);
    assert_eq!(images[0]["digest"], fixture.index.digest);
}

#[test]
fn amd64_host_with_386_in_the_index_takes_amd64_alone() {
    host_default_flow(
        71,
        "linux/amd64",
        &["linux/amd64", "linux/386", "linux/arm64"],
        "linux/amd64",
    );
}

#[test]
fn arm64_host_with_arm_v7_in_the_index_takes_arm64_alone() {
    host_default_flow(
        72,
        "linux/arm64",
        &["linux/arm/v7", "linux/arm64", "linux/amd64"],
        "linux/arm64",
    );
}

#[test]
fn arm_v7_host_with_arm_v6_in_the_index_takes_arm_v7_alone() {
    host_default_flow(
        73,
        "linux/arm/v7",
        &["linux/arm/v6", "linux/arm/v7"],
        "linux/arm/v7",
    );
}

#[test]
fn a_host_without_its_own_entry_takes_its_best_fallback_alone() {
    // An arm64 machine runs arm/v7 and arm/v6 images, arm/v7 first.
    host_default_flow(
        74,
        "linux/arm64",
        &["linux/amd64", "linux/arm/v6", "linux/arm/v7"],
        "linux/arm/v7",
    );
}

#[test]
fn a_platform_not_pulled_is_named_with_its_manifest_and_the_pull_that_fetches_it() {
    let Some(registry) = plain_registry() else {
        return;
    };
    let reg = registry.host();
    let app = format!("{reg}/team/app:v1");
    let publisher = Env::new();
    let fixture = publisher.seed(
        &app,
        &platforms(75, &["linux/amd64", "linux/386"]),
        &["--all-platforms"],
    );
    let i386 = &fixture.images[1];
    assert_eq!(i386.platform.to_text(), "linux/386");

    let env = Env::new().on_host("linux/amd64");
    env.ok(&["pull", "-q", &app]);
    let before = env.snapshot();
    for args in [
        vec!["push", "-q", app.as_str(), "--platform", "linux/386"],
        vec!["save", "-o", "-", app.as_str(), "--platform", "linux/386"],
        vec![
            "image",
            "convert",
            app.as_str(),
            "example.com/x:386",
            "--platform",
            "linux/386",
        ],
    ] {
        let line = env.fails(&args, 1);
        assert!(
            line.contains(&format!("linux/386 (manifest {})", i386.manifest.digest)),
            "{args:?} must name the platform and its manifest: {line}"
        );
        assert!(
            !line.contains(&format!("(manifest {})", fixture.index.digest)),
            "{args:?} named the index as the platform's manifest: {line}"
        );
        assert!(
            line.contains(&format!("`hoist pull --platform linux/386 {app}`")),
            "{args:?} must say how to fetch it: {line}"
        );
    }
    assert_eq!(
        env.snapshot(),
        before,
        "a refused command changed the store"
    );
}

#[test]
fn an_invalid_host_override_is_a_usage_error() {
    let env = Env::new().on_host("linux/");
    let line = env.fails(&["images"], 2);
    assert!(line.contains("HOIST_HOST_PLATFORM"), "{line}");
    assert!(line.contains("\"linux/\""), "{line}");
}

#[test]
fn help_names_the_default_of_every_platform_command() {
    let env = Env::new();
    for command in [
        vec!["pull"],
        vec!["push"],
        vec!["save"],
        vec!["copy"],
        vec!["image", "convert"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let help = env.ok(&args);
        assert!(
            help.contains("default: this machine's platform"),
            "{command:?} --help does not name its default:\n{help}"
        );
    }
}
