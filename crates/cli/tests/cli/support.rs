//! An isolated environment per test: a store root, a HOME and a
//! DOCKER_CONFIG in one temp dir, and the `hoist` binary run inside it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use hoist_testkit::{Registry, RegistryOptions};
use tempfile::TempDir;

/// The path of the binary under test.
pub const HOIST: &str = env!("CARGO_BIN_EXE_hoist");

/// One test's world.
pub struct Env {
    dir: TempDir,
    /// The platform hoist takes this machine for (`HOIST_HOST_PLATFORM`);
    /// the real one when `None`.
    host: Option<String>,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home/.docker")).unwrap();
        Env { dir, host: None }
    }

    /// This env with hoist taking the machine for `platform`.
    pub fn on_host(mut self, platform: &str) -> Env {
        self.host = Some(platform.to_owned());
        self
    }

    /// The temp dir everything lives in.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The store root.
    pub fn root(&self) -> PathBuf {
        self.path().join("root")
    }

    /// Docker's config.json of this test.
    pub fn docker_config(&self) -> PathBuf {
        self.path().join("home/.docker/config.json")
    }

    /// `hoist --root <root> <args>`, with HOME and DOCKER_CONFIG inside the
    /// test's dir and no HOIST_* or XDG_* variables from outside (the config
    /// file is `<home>/.config/hoist/config.toml`).
    pub fn hoist(&self, args: &[&str]) -> Command {
        Command::from_std(self.hoist_std(args))
    }

    /// [`Env::hoist`] as a plain `std` command, for tests that wire its
    /// standard streams themselves (a terminal).
    pub fn hoist_std(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(HOIST);
        command
            .env_remove("HOIST_ROOT")
            .env_remove("HOIST_NAMESPACE")
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("HOIST_CONFIG")
            .env_remove(hoist::platform::HOST_PLATFORM_ENV)
            .env("HOME", self.path().join("home"))
            .env("DOCKER_CONFIG", self.path().join("home/.docker"))
            .arg("--root")
            .arg(self.root())
            .args(args);
        if let Some(host) = &self.host {
            command.env(hoist::platform::HOST_PLATFORM_ENV, host);
        }
        command
    }
}

/// A registry, or `None` (loudly skipped) when docker-registry is missing
/// outside CI.
pub fn registry(options: RegistryOptions) -> Option<Registry> {
    Registry::start(options).expect("starting docker-registry")
}

/// The text of stderr, asserting it is exactly one line starting with
/// `hoist: error: `.
pub fn one_error_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr, got:\n{text}");
    assert!(lines[0].starts_with("hoist: error: "), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    text
}

/// Generates a deterministic multi-platform image and writes it as an OCI
/// layout tar at `<env>/<file>`, named `name`; returns the path and the
/// fixture.
pub fn fixture_archive(
    env: &Env,
    file: &str,
    name: &str,
    spec: &hoist_testkit::FixtureSpec,
) -> (PathBuf, hoist_testkit::Fixture) {
    let fixture = hoist_testkit::Fixture::generate(spec).unwrap();
    let layout = env.path().join(format!("{file}.layout"));
    fixture.write_oci_layout(&layout, name).unwrap();
    let path = env.path().join(file);
    let mut archive = tar::Builder::new(std::fs::File::create(&path).unwrap());
    archive
        .append_path_with_name(layout.join("oci-layout"), "oci-layout")
        .unwrap();
    archive
        .append_path_with_name(layout.join("index.json"), "index.json")
        .unwrap();
    archive
        .append_dir_all("blobs", layout.join("blobs"))
        .unwrap();
    archive.finish().unwrap();
    (path, fixture)
}

/// The 4-platform fixture (amd64, arm64/v8, arm/v7, s390x), small.
pub fn four_platforms(seed: u64) -> hoist_testkit::FixtureSpec {
    hoist_testkit::FixtureSpec::four_platforms(seed, 64 * 1024, 16 * 1024)
}

/// A fixture with only the given platforms.
pub fn platforms(seed: u64, list: &[&str]) -> hoist_testkit::FixtureSpec {
    let mut spec = four_platforms(seed);
    spec.platforms = list
        .iter()
        .map(|p| hoist_testkit::FixturePlatform::parse(p).unwrap())
        .collect();
    spec
}

impl Env {
    /// Runs `hoist <args>`, asserting success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.hoist(args).output().unwrap();
        assert!(
            output.status.success(),
            "hoist {args:?} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs `hoist <args>`, asserting exit `code` and one error line;
    /// returns that line.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let output = self.hoist(args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "hoist {args:?}: stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        one_error_line(&output.stderr)
    }

    /// `hoist <args> --format json`, parsed.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// What scenario 6 compares: the images and the blobs.
    pub fn snapshot(&self) -> (serde_json::Value, serde_json::Value) {
        (self.json(&["images"]), self.json(&["content", "ls"]))
    }
}

impl Env {
    /// Loads a generated image named `name` (with `--root` of this env) and
    /// pushes it to `name` with `push_args` (e.g. `--all-platforms`).
    pub fn seed(
        &self,
        name: &str,
        spec: &hoist_testkit::FixtureSpec,
        push_args: &[&str],
    ) -> hoist_testkit::Fixture {
        let file = format!("seed-{}.tar", name.replace(['/', ':'], "_"));
        let (archive, fixture) = fixture_archive(self, &file, name, spec);
        self.ok(&["load", "-i", archive.to_str().unwrap()]);
        let mut args = vec!["push", "-q", name];
        args.extend_from_slice(push_args);
        self.ok(&args);
        fixture
    }
}

/// PUTs a manifest as is (for documents hoist would refuse to write, like
/// an empty index), over plain HTTP/1.1 to `host`.
pub fn put_manifest(host: &str, repository: &str, tag: &str, media_type: &str, body: &[u8]) {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let head = format!(
        "PUT /v2/{repository}/manifests/{tag} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {media_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
}

/// Waits, up to a deadline, until `done` holds; polls every 20 ms.
pub fn wait_until(what: &str, limit: std::time::Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The largest partial download under `root`'s ingests, in bytes.
pub fn largest_ingest(root: &Path) -> u64 {
    let mut largest = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "data")
                && path.components().any(|c| c.as_os_str() == "ingest")
            {
                largest = largest.max(entry.metadata().map(|m| m.len()).unwrap_or(0));
            }
        }
    }
    largest
}

/// `skopeo` when installed; `None` (loudly skipped) outside CI.
pub fn skopeo() -> Option<PathBuf> {
    hoist_testkit::require_tool("skopeo").expect("skopeo is required under CI=true")
}

/// A plain registry, or `None` when docker-registry is missing outside CI.
pub fn plain_registry() -> Option<Registry> {
    registry(RegistryOptions::plain())
}
