//! Unpacking beside `umoci unpack --rootless` and beside the floor, in the
//! same run on the same machine: the floor is `gzip -dc LAYER | tar -x -C
//! DIR` for each layer in order, which decompresses and writes the same
//! bytes and does nothing else (no digest, no whiteouts, no safety).
//!
//! Two images: the linux/amd64 image of the 200 MB, 4-platform bench
//! fixture (two 40 MiB layers of 4 MiB random files, gzip level 0), and a
//! 20-layer image of small compressible files with whiteouts and hard
//! links. Each figure is the median of five runs into a fresh directory;
//! hoist's peak memory is measured in a child process with `/usr/bin/time`.
//!
//! Run with `cargo bench -p hoist-unpack --bench unpack`.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hoist_content::{Digest, LocalStore, write_blob};
use hoist_image::Document;
use hoist_testkit::layers::{LayerBuilder, LayerCompression, TestImage, TestLayer, layer};
use hoist_testkit::{Fixture, FixtureSpec};
use hoist_unpack::{NoProgress, UnpackOptions, unpack};

const RUNS: usize = 5;

struct Subject {
    label: String,
    store: PathBuf,
    manifest: Vec<u8>,
    layout: PathBuf,
    /// Layer blobs in order, and whether each is gzip.
    layers: Vec<PathBuf>,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn bench_dir() -> PathBuf {
    let dir = std::env::var_os("HOIST_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn unpack_once(store: &Path, manifest: &[u8], dest: &Path) {
    let store = LocalStore::open(store).unwrap();
    let document = Document::from_bytes(manifest.to_vec(), None).unwrap();
    let options = UnpackOptions::new().rootless(true);
    unpack(
        &store,
        document.as_manifest().unwrap(),
        dest,
        &options,
        &NoProgress,
    )
    .unwrap();
}

fn prepare(work: &Path, label: &str, image: &TestImage) -> Subject {
    let store_path = work.join(format!("{label}-store"));
    let store = LocalStore::open(&store_path).unwrap();
    for (digest, bytes) in image.blobs() {
        let digest: Digest = digest.parse().unwrap();
        write_blob(
            &store,
            digest.hex(),
            bytes,
            &digest,
            bytes.len() as u64,
            Default::default(),
        )
        .unwrap();
    }
    let layout = work.join(format!("{label}-layout"));
    image
        .write_oci_layout(&layout, "bench/unpack:1", "1")
        .unwrap();
    let layers = image
        .layers
        .iter()
        .map(|l| {
            layout
                .join("blobs/sha256")
                .join(l.digest.trim_start_matches("sha256:"))
        })
        .collect();
    Subject {
        label: label.to_owned(),
        store: store_path,
        manifest: image.manifest.clone(),
        layout,
        layers,
    }
}

/// The fixture's linux/amd64 image, as a TestImage (same blobs).
fn fixture_image() -> TestImage {
    let part = 200 * 1024 * 1024 / 5;
    let fixture = Fixture::generate(&FixtureSpec::four_platforms(7, part, part)).unwrap();
    let amd64 = &fixture.images[0];
    let layers: Vec<TestLayer> = amd64
        .layers
        .iter()
        .map(|blob| {
            let mut tar = Vec::new();
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(blob.bytes.as_slice()),
                &mut tar,
            )
            .unwrap();
            TestLayer {
                media_type: blob.media_type.clone(),
                bytes: blob.bytes.clone(),
                digest: blob.digest.clone(),
                diff_id: hoist_testkit::layers::sha256(&tar),
            }
        })
        .collect();
    TestImage::new(layers, serde_json::json!({"Cmd": ["/bin/true"]})).unwrap()
}

/// 20 layers of 400 small text-like files each; from the second on, each
/// whites out 10 files of the one before and hard-links 10 of its own.
fn twenty_layers() -> TestImage {
    let mut layers = Vec::new();
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    for l in 0..20 {
        let mut builder = LayerBuilder::new();
        for f in 0..400 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = 2048 + (seed % 10_240) as usize;
            let line = format!("layer {l} file {f} seed {seed:x} lorem ipsum dolor sit amet\n");
            let content: Vec<u8> = line.bytes().cycle().take(len).collect();
            builder
                .file(&format!("l{l}/d{}/f{f}.txt", f % 20), &content)
                .unwrap();
        }
        if l > 0 {
            for f in 0..10 {
                builder
                    .whiteout(&format!("l{}/d{}/f{f}.txt", l - 1, f % 20))
                    .unwrap();
                builder
                    .hard_link(
                        &format!("l{l}/link{f}"),
                        &format!("l{l}/d{}/f{}.txt", (f + 100) % 20, f + 100),
                    )
                    .unwrap();
            }
        }
        layers.push(layer(&builder.finish().unwrap(), LayerCompression::Gzip).unwrap());
    }
    TestImage::new(layers, serde_json::json!({"Cmd": ["/bin/true"]})).unwrap()
}

fn timed(mut run: impl FnMut(&Path)) -> Duration {
    let scratch = tempfile::tempdir_in(bench_dir()).unwrap();
    median(
        (0..RUNS)
            .map(|i| {
                let dest = scratch.path().join(format!("run-{i}"));
                let start = Instant::now();
                run(&dest);
                let took = start.elapsed();
                // Removing is not timed, and keeps the disk from filling.
                let _ = Command::new("rm").arg("-rf").arg(&dest).status();
                took
            })
            .collect(),
    )
}

fn check(command: &mut Command) {
    let output = command.stdin(Stdio::null()).output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn peak_rss_mib(subject: &Subject, scratch: &Path) -> Option<f64> {
    let time = Path::new("/usr/bin/time");
    if !time.is_file() {
        return None;
    }
    let manifest = scratch.join(format!("{}-manifest.json", subject.label));
    std::fs::write(&manifest, &subject.manifest).unwrap();
    let dest = scratch.join(format!("{}-rss", subject.label));
    let output = Command::new(time)
        .args(["-f", "%M"])
        .arg(std::env::current_exe().unwrap())
        .arg("--child")
        .arg(&subject.store)
        .arg(&manifest)
        .arg(&dest)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = Command::new("rm").arg("-rf").arg(&dest).status();
    let text = String::from_utf8_lossy(&output.stderr);
    let kib: f64 = text.lines().last()?.trim().parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, store, manifest, dest] = args.as_slice()
        && flag == "--child"
    {
        unpack_once(
            Path::new(store),
            &std::fs::read(manifest).unwrap(),
            Path::new(dest),
        );
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        println!("unpack bench: run with `cargo bench -p hoist-unpack --bench unpack`");
        return;
    }
    let umoci = ["/usr/bin/umoci", "/usr/sbin/umoci"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    if umoci.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "umoci is required under CI=true"
        );
        println!("umoci: not installed, its column is left out");
    }
    let work = tempfile::tempdir_in(bench_dir()).unwrap();
    let subjects = [
        prepare(work.path(), "fixture-amd64", &fixture_image()),
        prepare(work.path(), "20-layers", &twenty_layers()),
    ];
    if std::env::var_os("HOIST_BENCH_KEEP").is_some() {
        // For profiling: `<bench> --child <store> <manifest> <dest>` on what is kept.
        for subject in &subjects {
            let manifest = work.path().join(format!("{}-manifest.json", subject.label));
            std::fs::write(&manifest, &subject.manifest).unwrap();
            println!(
                "kept {} and {}",
                subject.store.display(),
                manifest.display()
            );
        }
        let _kept = work.keep();
        return;
    }
    println!(
        "| image | hoist | umoci --rootless | floor (gzip -dc \\| tar -x) | hoist/umoci | hoist/floor | hoist peak RSS |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for subject in &subjects {
        let hoist = timed(|dest| unpack_once(&subject.store, &subject.manifest, dest));
        let floor = timed(|dest| {
            std::fs::create_dir(dest).unwrap();
            for blob in &subject.layers {
                let script = format!(
                    "gzip -dc '{}' | tar -x -C '{}'",
                    blob.display(),
                    dest.display()
                );
                check(Command::new("sh").arg("-c").arg(script));
            }
        });
        let theirs = umoci.as_ref().map(|umoci| {
            timed(|dest| {
                let image = format!("{}:1", subject.layout.display());
                check(
                    Command::new(umoci)
                        .args(["unpack", "--rootless", "--image", &image])
                        .arg(dest),
                );
            })
        });
        let rss = peak_rss_mib(subject, work.path());
        let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
        let ratio = |a: Duration, b: Duration| format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64());
        println!(
            "| {} ({} layers) | {} | {} | {} | {} | {} | {} |",
            subject.label,
            subject.layers.len(),
            s(hoist),
            theirs.map_or("—".to_owned(), s),
            s(floor),
            theirs.map_or("—".to_owned(), |t| ratio(hoist, t)),
            ratio(hoist, floor),
            rss.map_or("—".to_owned(), |r| format!("{r:.1} MiB")),
        );
    }
}
