//! `hoist fsck`: debris (what an interrupted operation leaves) exits 0 and
//! `hoist gc` removes it; damage exits 4 and names the digest and the path.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::support::{Env, fixture_archive, four_platforms};

const APP: &str = "example.com/fsck/app:1";

fn loaded(env: &Env) -> hoist_testkit::Fixture {
    let (archive, fixture) = fixture_archive(env, "app.tar", APP, &four_platforms(14));
    env.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(env.ok(&["fsck"]).trim(), "clean");
    fixture
}

fn blob_path(env: &Env, digest: &str) -> PathBuf {
    let (algorithm, hex) = digest.split_once(':').unwrap();
    env.root().join("content/blobs").join(algorithm).join(hex)
}

#[test]
fn debris_alone_exits_0_and_gc_removes_it() {
    let env = Env::new();
    loaded(&env);
    // What a commit killed between its rename and its record leaves: a
    // verified blob file that no namespace records.
    let bytes = b"published, never recorded";
    let digest = format!("sha256:{}", hoist::content::Digest::sha256_of(bytes).hex());
    let path = blob_path(&env, &digest);
    std::fs::write(&path, bytes).unwrap();

    let out = env.ok(&["fsck"]);
    assert!(
        out.starts_with("debris (removed by `hoist gc`):\n"),
        "{out}"
    );
    assert!(
        out.contains(&digest) && out.contains(path.to_str().unwrap()),
        "{out}"
    );
    assert!(!out.contains("damage"), "{out}");
    let json = env.json(&["fsck"]);
    assert_eq!(json["clean"], false);
    assert_eq!(json["damaged"], false);
    assert_eq!(json["damage"].as_array().unwrap().len(), 0);
    let debris = json["debris"].as_array().unwrap();
    assert_eq!(debris.len(), 1, "{json}");
    assert_eq!(debris[0]["kind"], "unrecorded_blob");
    assert_eq!(debris[0]["digest"], digest.as_str());
    assert_eq!(debris[0]["path"], path.to_str().unwrap());

    let gc = env.json(&["gc"]);
    assert_eq!(gc["blobs"], serde_json::json!([digest]));
    assert_eq!(env.ok(&["fsck"]).trim(), "clean");
    assert!(!path.exists());
}

#[test]
fn damage_exits_4_naming_the_digest_and_the_path() {
    let env = Env::new();
    let fixture = loaded(&env);

    // A recorded blob whose file is gone.
    let missing = &fixture.images[0].layers[0].digest;
    let missing_path = blob_path(&env, missing);
    std::fs::remove_file(&missing_path).unwrap();
    let output = env.hoist(&["fsck"]).output().unwrap();
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(out.starts_with("damage:\n"), "{out}");
    assert!(
        out.contains(missing.as_str()) && out.contains(missing_path.to_str().unwrap()),
        "{out}"
    );
    let error = crate::support::one_error_line(&output.stderr);
    assert!(
        error.contains("is damaged") && error.contains("hoist rmi"),
        "{error}"
    );

    // JSON carries the same, and the same exit code.
    let output = env.hoist(&["fsck", "--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(4));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["damaged"], true);
    let damage = json["damage"].as_array().unwrap();
    assert_eq!(damage.len(), 1, "{json}");
    assert_eq!(damage[0]["kind"], "missing_blob");
    assert_eq!(damage[0]["namespace"], "default");
    assert_eq!(damage[0]["digest"], missing.as_str());
    assert_eq!(damage[0]["path"], missing_path.to_str().unwrap());
    assert!(
        damage[0]["message"]
            .as_str()
            .unwrap()
            .contains(missing.as_str())
    );

    // A blob whose bytes changed but not its size: only --verify sees it.
    let config = &fixture.images[1].config;
    let config_path = blob_path(&env, &config.digest);
    let mut bytes = config.bytes.clone();
    bytes[0] ^= 0x20;
    std::fs::set_permissions(&config_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&config_path, &bytes).unwrap();
    let quick = env.hoist(&["fsck", "--format", "json"]).output().unwrap();
    let quick: serde_json::Value = serde_json::from_slice(&quick.stdout).unwrap();
    assert_eq!(quick["damage"].as_array().unwrap().len(), 1, "{quick}");
    let output = env
        .hoist(&["fsck", "--verify", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let wrong: Vec<&serde_json::Value> = json["damage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "wrong_digest")
        .collect();
    assert_eq!(wrong.len(), 1, "{json}");
    assert_eq!(wrong[0]["digest"], config.digest.as_str());
    assert_eq!(wrong[0]["path"], config_path.to_str().unwrap());
    assert_eq!(
        wrong[0]["actual"],
        format!("sha256:{}", hoist::content::Digest::sha256_of(&bytes).hex())
    );

    // `hoist gc` alone does not repair it; the route the error names does.
    env.ok(&["gc"]);
    let output = env.hoist(&["fsck", "--verify"]).output().unwrap();
    assert_eq!(output.status.code(), Some(4));
    env.ok(&["rmi", APP]);
    env.ok(&["gc"]);
    assert_eq!(env.ok(&["fsck", "--verify"]).trim(), "clean");
}

/// Kill points per run: a pull is SIGKILLed this many times, each time in
/// a fresh store.
const KILLS: u32 = 10;

/// SplitMix64: a seeded, dependency-free source of the kill delays, so a
/// failure names a delay that can be tried again.
fn split_mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `hoist pull` of `reference` in `env`, as a child process.
fn spawn_pull(env: &Env, reference: &str) -> std::process::Child {
    env.hoist_std(&["pull", "-q", reference, "--all-platforms"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn pulls_killed_at_seeded_moments_leave_debris_only() {
    use std::time::{Duration, Instant};

    let Some(registry) = crate::support::plain_registry() else {
        return;
    };
    let seeder = Env::new();
    let app = format!("{}/fsck/app:1", registry.host());
    // 4 platforms, each with its own 2 MiB layer besides a shared 6 MiB one
    // (stored, not compressed): a pull of 14 MiB in 13 blobs, long enough
    // for kills to land in downloads, commits and the naming at the end.
    let mut spec = hoist_testkit::FixtureSpec::four_platforms(14, 6 << 20, 2 << 20);
    spec.layers_per_platform = 2;
    seeder.seed(&app, &spec, &["--all-platforms"]);
    let all_four = "linux/amd64,linux/arm64,linux/arm/v7,linux/s390x";

    // One full pull to warm the caches, then one measured.
    seeder.ok(&["pull", "-q", &app, "--all-platforms"]);
    let measured = Env::new();
    let started = Instant::now();
    assert!(spawn_pull(&measured, &app).wait().unwrap().success());
    let full = started.elapsed();
    measured.ok(&["verify", &app, "--platform", all_four]);

    // One delay in each tenth of the pull's duration, placed in it by the
    // seed: spread over the whole pull, deterministic for a given duration.
    let mut state = 0x6873_636b_u64; // "fsck"
    let delays: Vec<Duration> = (0..KILLS)
        .map(|i| {
            let within = (split_mix(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
            full.mul_f64((f64::from(i) + within) / f64::from(KILLS))
        })
        .collect();

    let mut killed_running = 0;
    let mut seen_debris = std::collections::BTreeSet::new();
    for delay in &delays {
        let env = Env::new();
        let mut child = spawn_pull(&env, &app);
        std::thread::sleep(*delay);
        if child.try_wait().unwrap().is_none() {
            killed_running += 1;
        }
        child.kill().unwrap(); // SIGKILL; a no-op if it finished
        child.wait().unwrap();

        // What the kill left is debris at most: fsck exits 0.
        let report = env.json(&["fsck"]);
        assert_eq!(report["damaged"], false, "killed after {delay:?}: {report}");
        for finding in report["debris"].as_array().unwrap() {
            seen_debris.insert(finding["kind"].as_str().unwrap().to_owned());
        }
        env.ok(&["fsck"]);
        // gc removes it all.
        env.ok(&["gc"]);
        assert_eq!(env.ok(&["fsck"]).trim(), "clean", "killed after {delay:?}");
        // And the pull completes, every blob hashing to its digest.
        env.ok(&["pull", "-q", &app, "--all-platforms"]);
        env.ok(&["verify", &app, "--platform", all_four]);
        assert_eq!(
            env.ok(&["fsck", "--verify"]).trim(),
            "clean",
            "killed after {delay:?}"
        );
    }
    eprintln!(
        "full pull {full:?}; kills at {delays:?}; {killed_running} hit a running pull; \
         debris seen: {seen_debris:?}"
    );
    assert!(
        killed_running >= KILLS / 2,
        "only {killed_running} of {KILLS} kills hit a running pull (full pull {full:?})"
    );
}
