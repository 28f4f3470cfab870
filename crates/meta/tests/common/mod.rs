//! Helpers shared by the integration tests: fresh stores, blobs with labels,
//! small image graphs, and child processes (the test binary re-run).

#![allow(dead_code)]
// each test binary uses a different subset
// Test helpers: a failure here is a test failure, reported by the panic.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use hoist_content::{Digest, Labels, Manager, write_blob};
use hoist_meta::{Content, Descriptor, Image, MetaOptions, MetaStore, Namespace};

pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// A store in a temporary directory, with GC only when asked.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: MetaStore,
}

impl Fixture {
    pub fn root(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn ns(&self, name: &str) -> Namespace {
        self.store.namespace(name).unwrap()
    }
}

pub fn fresh() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = MetaStore::open_with(dir.path(), manual_gc()).unwrap();
    Fixture { dir, store }
}

/// Options with automatic GC off, so tests decide when it runs.
pub fn manual_gc() -> MetaOptions {
    let mut options = MetaOptions::default();
    options.gc_after_deletions = None;
    options
}

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Writes `bytes` through `content` with `labels`; returns the digest.
pub fn put(content: &Content, bytes: &[u8], pairs: &[(&str, &str)]) -> Digest {
    let digest = Digest::sha256_of(bytes);
    let reference = format!("put-{}", &digest.hex()[..12]);
    write_blob(
        content,
        &reference,
        bytes,
        &digest,
        bytes.len() as u64,
        labels(pairs),
    )
    .unwrap();
    digest
}

/// True when the namespace has a record of `digest`.
pub fn recorded(ns: &Namespace, digest: &Digest) -> bool {
    ns.content(None).info(digest).is_ok()
}

/// True when the blob file exists.
pub fn on_disk(store: &MetaStore, digest: &Digest) -> bool {
    store.local_store().info(digest).is_ok()
}

/// Every digest the namespace records.
pub fn recorded_set(ns: &Namespace) -> BTreeSet<Digest> {
    let mut set = BTreeSet::new();
    ns.content(None)
        .walk(&hoist_content::Filter::all(), &mut |info| {
            set.insert(info.digest);
            Ok(())
        })
        .unwrap();
    set
}

/// Every blob file on disk.
pub fn disk_set(store: &MetaStore) -> BTreeSet<Digest> {
    let mut set = BTreeSet::new();
    store
        .local_store()
        .walk(&hoist_content::Filter::all(), &mut |info| {
            set.insert(info.digest);
            Ok(())
        })
        .unwrap();
    set
}

/// The blobs of a multi-platform image, written bottom-up with the
/// `containerd.io/gc.ref.content.*` labels a puller sets.
#[derive(Debug, Clone)]
pub struct ImageGraph {
    pub index: Digest,
    pub index_size: u64,
    pub manifests: Vec<Digest>,
    pub configs: Vec<Digest>,
    pub layers: Vec<Digest>,
    pub platforms: Vec<String>,
    /// (digest, size) of each manifest, in platform order.
    pub manifest_sizes: Vec<u64>,
}

impl ImageGraph {
    pub fn all(&self) -> BTreeSet<Digest> {
        let mut all = BTreeSet::new();
        all.insert(self.index.clone());
        all.extend(self.manifests.iter().cloned());
        all.extend(self.configs.iter().cloned());
        all.extend(self.layers.iter().cloned());
        all
    }

    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(INDEX, self.index.clone(), self.index_size)
    }

    /// Everything platform `i` needs: its manifest, config and layers.
    pub fn platform_set(&self, i: usize) -> BTreeSet<Digest> {
        let mut set = BTreeSet::new();
        set.insert(self.manifests[i].clone());
        set.insert(self.configs[i].clone());
        set.insert(self.layers[2 * i].clone());
        set.insert(self.layers[2 * i + 1].clone());
        set
    }
}

/// Writes an image for `platforms` ("linux/amd64", ...) through `content`:
/// per platform a config, two layers and a manifest; then the index. `seed`
/// makes the bytes unique per image.
pub fn write_image(content: &Content, seed: &str, platforms: &[&str]) -> ImageGraph {
    let mut graph = ImageGraph {
        index: Digest::sha256_of(b""),
        index_size: 0,
        manifests: Vec::new(),
        configs: Vec::new(),
        layers: Vec::new(),
        platforms: platforms.iter().map(|p| (*p).to_owned()).collect(),
        manifest_sizes: Vec::new(),
    };
    for platform in platforms {
        let (os, arch) = platform.split_once('/').unwrap();
        let layer_a = put(
            content,
            format!("{seed} {platform} layer a").as_bytes(),
            &[],
        );
        let layer_b = put(
            content,
            format!("{seed} {platform} layer b").as_bytes(),
            &[],
        );
        let config_bytes =
            format!(r#"{{"architecture":"{arch}","os":"{os}","seed":"{seed}"}}"#).into_bytes();
        let config = put(content, &config_bytes, &[]);
        let manifest_bytes = format!(
            r#"{{"schemaVersion":2,"mediaType":"{MANIFEST}","config":{{"mediaType":"{CONFIG}","digest":"{config}","size":{}}},"layers":[{{"mediaType":"{LAYER}","digest":"{layer_a}","size":1}},{{"mediaType":"{LAYER}","digest":"{layer_b}","size":1}}]}}"#,
            config_bytes.len()
        )
        .into_bytes();
        let manifest = put(
            content,
            &manifest_bytes,
            &[
                ("containerd.io/gc.ref.content.config", config.as_str()),
                ("containerd.io/gc.ref.content.l.0", layer_a.as_str()),
                ("containerd.io/gc.ref.content.l.1", layer_b.as_str()),
            ],
        );
        graph.manifest_sizes.push(manifest_bytes.len() as u64);
        graph.manifests.push(manifest);
        graph.configs.push(config);
        graph.layers.push(layer_a);
        graph.layers.push(layer_b);
    }
    let (index, size) = write_index(content, &graph.manifests, &graph.manifest_sizes, platforms);
    graph.index = index;
    graph.index_size = size;
    graph
}

/// Writes an index naming `manifests` (with their sizes and platforms),
/// labelled with an edge to each.
pub fn write_index(
    content: &Content,
    manifests: &[Digest],
    sizes: &[u64],
    platforms: &[&str],
) -> (Digest, u64) {
    let entries: Vec<String> = manifests
        .iter()
        .zip(sizes)
        .zip(platforms)
        .map(|((digest, size), platform)| {
            let (os, arch) = platform.split_once('/').unwrap();
            format!(
                r#"{{"mediaType":"{MANIFEST}","digest":"{digest}","size":{size},"platform":{{"architecture":"{arch}","os":"{os}"}}}}"#
            )
        })
        .collect();
    let bytes = format!(
        r#"{{"schemaVersion":2,"mediaType":"{INDEX}","manifests":[{}]}}"#,
        entries.join(",")
    )
    .into_bytes();
    let keys: Vec<String> = (0..manifests.len())
        .map(|i| format!("containerd.io/gc.ref.content.m.{i}"))
        .collect();
    let pairs: Vec<(&str, &str)> = keys
        .iter()
        .zip(manifests)
        .map(|(k, d)| (k.as_str(), d.as_str()))
        .collect();
    let digest = put(content, &bytes, &pairs);
    (digest, bytes.len() as u64)
}

/// Names `graph`'s index `name`.
pub fn name_image(ns: &Namespace, name: &str, graph: &ImageGraph) -> Image {
    ns.images()
        .create(Image::new(name, graph.descriptor()))
        .unwrap()
}

/// The environment variable carrying a child's job.
pub const CHILD_JOB: &str = "HOIST_META_TEST_JOB";

/// A child process: this test binary, re-run on one ignored test.
pub struct ChildProcess {
    pub process: Child,
    pub stdout: BufReader<ChildStdout>,
    pub stdin: Option<ChildStdin>,
    stderr_lines: mpsc::Receiver<String>,
    stderr_seen: Arc<Mutex<String>>,
}

/// Starts the ignored test `entry` of this binary with `job` in the
/// environment (and `env` besides). Its stderr is collected by a thread.
pub fn spawn(entry: &str, job: &str, env: &[(&str, &str)]) -> ChildProcess {
    let exe = std::env::current_exe().unwrap();
    let mut command = Command::new(exe);
    command
        .args([
            entry,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_JOB, job)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut process = command.spawn().unwrap();
    let stdout = BufReader::new(process.stdout.take().unwrap());
    let stdin = process.stdin.take();
    let stderr = process.stderr.take().unwrap();
    let (sender, stderr_lines) = mpsc::channel();
    let stderr_seen = Arc::new(Mutex::new(String::new()));
    let seen = stderr_seen.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            seen.lock().unwrap().push_str(&format!("{line}\n"));
            let _ = sender.send(line);
        }
    });
    ChildProcess {
        process,
        stdout,
        stdin,
        stderr_lines,
        stderr_seen,
    }
}

impl ChildProcess {
    /// Reads stdout lines until one starts with `prefix`; returns the rest.
    pub fn wait_for(&mut self, prefix: &str) -> String {
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).unwrap();
            if n == 0 {
                let status = self.process.wait().unwrap();
                panic!(
                    "the child exited ({status}) before printing {prefix:?}; stdout:\n{seen}\nstderr:\n{}",
                    self.stderr()
                );
            }
            // libtest prints "test child_process ... " without a newline
            // before the test runs, so the marker may share its line.
            if let Some(at) = line.find(prefix) {
                return line[at + prefix.len()..].trim().to_owned();
            }
            seen.push_str(&line);
        }
    }

    /// Waits until the child says (on stderr) that it paused at `point`.
    pub fn wait_paused(&mut self, point: &str) {
        let marker = format!("hoist-meta: paused at {point}");
        loop {
            match self.stderr_lines.recv_timeout(Duration::from_secs(120)) {
                Ok(line) if line.contains(&marker) => return,
                Ok(_) => {}
                Err(_) => {
                    let status = self.process.try_wait().unwrap();
                    panic!(
                        "the child ({status:?}) did not pause at {point}; stderr:\n{}",
                        self.stderr()
                    );
                }
            }
        }
    }

    /// Sends one line to the child's stdin.
    pub fn send(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// SIGKILLs the child and reaps it.
    pub fn kill(mut self) {
        self.process.kill().unwrap();
        let status = self.process.wait().unwrap();
        assert!(!status.success());
    }

    /// Waits for a child that finishes by itself; asserts it succeeded and
    /// returns the rest of its stdout.
    pub fn wait_success(mut self) -> String {
        drop(self.stdin.take());
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        let status = self.process.wait().unwrap();
        assert!(
            status.success(),
            "the child failed ({status}); stdout:\n{rest}\nstderr:\n{}",
            self.stderr()
        );
        rest
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    pub fn stderr(&self) -> String {
        self.stderr_seen.lock().unwrap().clone()
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        // A failing test must not leave its children running.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// The job of this process, if it is a child.
pub fn child_job() -> Option<String> {
    std::env::var(CHILD_JOB).ok()
}
