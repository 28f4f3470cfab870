//! Save and load of a 200 MB, 4-platform image, beside `ctr images export`,
//! `ctr images import --no-unpack` and skopeo's `oci-archive:` copy, in the
//! same run on the same machine.
//!
//! Run with `cargo bench -p hoist-image --bench archive`. Each figure is the
//! median of three runs; every ctr run gets a fresh containerd (its start-up
//! is not timed), every load a fresh store. Peers that are not installed are
//! reported as such (and fail the run under `CI=true`).

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/image/fixture.rs"]
#[allow(dead_code)]
mod fixture;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hoist_image::{LoadOptions, SaveOptions, load, save};

const RUNS: usize = 3;
const PLATFORMS: [&str; 4] = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/s390x"];
const LAYER_BYTES: usize = 50 * 1024 * 1024;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(mut run: impl FnMut() -> Duration) -> Duration {
    median((0..RUNS).map(|_| run()).collect())
}

fn tool(name: &str) -> Option<PathBuf> {
    let found = ["/usr/bin", "/usr/sbin", "/usr/local/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is required under CI=true"
        );
        println!("{name}: not installed, its figures are left out");
    }
    found
}

fn run(command: &mut Command) {
    let output = command.stdin(Stdio::null()).output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

struct Containerd {
    child: Child,
    address: PathBuf,
    ctr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Containerd {
    fn start(containerd: &Path, ctr: &Path) -> Containerd {
        let dir = tempfile::tempdir_in(bench_dir()).unwrap();
        let address = dir.path().join("c.sock");
        let config = format!(
            "version = 2\nroot = \"{root}/root\"\nstate = \"{root}/state\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{address}\"\n[ttrpc]\n  address = \"{address}.ttrpc\"\n\
             [debug]\n  address = \"{root}/debug.sock\"\n",
            root = dir.path().display(),
            address = address.display()
        );
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(containerd)
            .arg("--config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let running = Containerd {
            child,
            address,
            ctr: ctr.to_path_buf(),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !running
            .command()
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            assert!(Instant::now() < deadline, "containerd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        running
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.ctr);
        command
            .arg("--address")
            .arg(&self.address)
            .args(["--namespace", "bench"]);
        command
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the bench writes: beside the target directory, on a real disk.
fn bench_dir() -> PathBuf {
    let dir = std::env::var_os("HOIST_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing
    // useful: only run the real thing when asked to benchmark.
    if !std::env::args().any(|a| a == "--bench") {
        println!("archive bench: run with `cargo bench -p hoist-image --bench archive`");
        return;
    }
    let work = tempfile::tempdir_in(bench_dir()).unwrap();
    let source = hoist_content::LocalStore::open(work.path().join("source")).unwrap();
    let spec = fixture::Spec::new(&PLATFORMS)
        .layer_bytes(LAYER_BYTES)
        .attestations();
    let built = fixture::build(&source, &spec);
    let total: u64 = built
        .platforms
        .iter()
        .map(|p| p.own_layer().size)
        .sum::<u64>()
        + built.shared_layer.size;
    println!(
        "fixture: {} platforms, {:.0} MB of layers, one layer shared by all",
        PLATFORMS.len(),
        total as f64 / 1e6
    );

    let archive = work.path().join("hoist.tar");
    let hoist_save = time(|| {
        let start = Instant::now();
        let mut out =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&archive).unwrap());
        save(&source, &[built.image()], &SaveOptions::default(), &mut out).unwrap();
        drop(out);
        start.elapsed()
    });
    let mut round = 0;
    let hoist_load = time(|| {
        round += 1;
        let store =
            hoist_content::LocalStore::open(work.path().join(format!("load-{round}"))).unwrap();
        let start = Instant::now();
        let file = std::fs::File::open(&archive).unwrap();
        load(&store, file, &LoadOptions::default()).unwrap();
        start.elapsed()
    });
    println!("hoist save: {}", seconds(hoist_save));
    println!("hoist load: {}", seconds(hoist_load));

    if let (Some(containerd), Some(ctr)) = (tool("containerd"), tool("ctr")) {
        let name = built.spec.name.as_str();
        let ctr_import = time(|| {
            let daemon = Containerd::start(&containerd, &ctr);
            let start = Instant::now();
            run(daemon
                .command()
                .args(["images", "import", "--all-platforms", "--no-unpack"])
                .arg(&archive));
            start.elapsed()
        });
        let daemon = Containerd::start(&containerd, &ctr);
        run(daemon
            .command()
            .args(["images", "import", "--all-platforms", "--no-unpack"])
            .arg(&archive));
        let exported = work.path().join("ctr.tar");
        let ctr_export = time(|| {
            let start = Instant::now();
            run(daemon
                .command()
                .args(["images", "export", "--all-platforms"])
                .arg(&exported)
                .arg(name));
            start.elapsed()
        });
        println!("ctr images import --no-unpack: {}", seconds(ctr_import));
        println!("ctr images export: {}", seconds(ctr_export));
        println!(
            "ratios: save {:.2}x ctr export (target <= 0.3), load {:.2}x ctr import (target <= 0.5)",
            hoist_save.as_secs_f64() / ctr_export.as_secs_f64(),
            hoist_load.as_secs_f64() / ctr_import.as_secs_f64()
        );
    }
    if let Some(skopeo) = tool("skopeo") {
        let copied = work.path().join("skopeo.tar");
        let skopeo_copy = time(|| {
            let _ = std::fs::remove_file(&copied);
            let start = Instant::now();
            run(Command::new(&skopeo)
                .args(["--insecure-policy", "copy", "--all", "--preserve-digests"])
                .arg(format!("oci-archive:{}", archive.display()))
                .arg(format!("oci-archive:{}", copied.display())));
            start.elapsed()
        });
        println!(
            "skopeo copy --all oci-archive: -> oci-archive: {} (hoist load + save: {})",
            seconds(skopeo_copy),
            seconds(hoist_load + hoist_save)
        );
    }
}
