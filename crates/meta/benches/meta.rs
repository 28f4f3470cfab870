//! The metadata store at scale: 10,000 images over 100,000 blobs.
//!
//! - `image_create`, `image_get`, `image_list`: one operation on a namespace
//!   already holding 10,000 images (creates are durable: each fsyncs the
//!   RocksDB WAL).
//! - After divan's table, a summary runs garbage collection on the same root
//!   (10,000 images, each a manifest, a config and 7 layers linked by
//!   `containerd.io/gc.ref.content.*` labels: 90,000 referenced blobs, plus
//!   10,000 unreferenced ones) beside the time to merely walk the blob
//!   directory with `walkdir` in the same run — the floor of any sweep — and
//!   prints the ratio (target ≤ 2).
//!
//! The root is populated through the `bulk-load` feature: blob files are
//! written without fsync and recorded in large batches without being read.
//! That path is for benchmarks only. Run with `cargo bench -p hoist-meta`;
//! `HOIST_BENCH_DIR` picks the directory.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hoist_content::{Digest, Labels};
use hoist_meta::{Descriptor, GcOptions, Image, ImageFilter, MetaOptions, MetaStore, bulk};

const IMAGES: usize = 10_000;
const LAYERS: usize = 7;
const GARBAGE: usize = 10_000;
const NS: &str = "bench";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

struct Fixture {
    _dir: tempfile::TempDir,
    store: MetaStore,
    names: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(populate)
}

fn bench_dir() -> tempfile::TempDir {
    let base = std::env::var_os("HOIST_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    tempfile::Builder::new()
        .prefix("hoist-meta-bench-")
        .tempdir_in(base)
        .expect("a bench directory")
}

fn options() -> MetaOptions {
    let mut options = MetaOptions::default();
    options.gc_after_deletions = None;
    options.linger = Duration::from_secs(3600);
    options
}

/// Writes a blob file straight into the shared store (no fsync: bench only).
fn put_file(store: &MetaStore, bytes: &[u8]) -> (Digest, u64) {
    let digest = Digest::sha256_of(bytes);
    let path = store.local_store().blob_path(&digest);
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, bytes).expect("write a blob file");
    std::fs::rename(&temp, &path).expect("publish a blob file");
    (digest, bytes.len() as u64)
}

fn populate() -> Fixture {
    let started = Instant::now();
    let dir = bench_dir();
    let store = MetaStore::open_with(dir.path(), options()).expect("open the store");
    let mut blobs: Vec<(Digest, u64, Labels)> = Vec::with_capacity(IMAGES * (LAYERS + 2));
    let mut images = Vec::with_capacity(IMAGES);
    let mut names = Vec::with_capacity(IMAGES);
    for i in 0..IMAGES {
        let mut labels = Labels::new();
        for l in 0..LAYERS {
            let (digest, size) = put_file(&store, format!("image {i} layer {l}").as_bytes());
            labels.insert(
                format!("containerd.io/gc.ref.content.l.{l}"),
                digest.to_string(),
            );
            blobs.push((digest, size, Labels::new()));
        }
        let (config, size) = put_file(&store, format!(r#"{{"image":{i}}}"#).as_bytes());
        labels.insert(
            "containerd.io/gc.ref.content.config".into(),
            config.to_string(),
        );
        blobs.push((config, size, Labels::new()));
        let (manifest, size) = put_file(
            &store,
            format!(r#"{{"schemaVersion":2,"image":{i},"refs":{labels:?}}}"#).as_bytes(),
        );
        blobs.push((manifest.clone(), size, labels));
        let name = format!("registry.example/team-{}/app-{i}:v1", i % 50);
        images.push(Image::new(
            name.clone(),
            Descriptor::new(MANIFEST, manifest, size),
        ));
        names.push(name);
    }
    bulk::record_blobs(&store, NS, &blobs).expect("record the blobs");
    bulk::create_images(&store, NS, &images).expect("create the images");
    bulk::compact(&store).expect("compact");
    eprintln!(
        "populated {} images over {} blobs in {:.1}s",
        IMAGES,
        blobs.len(),
        started.elapsed().as_secs_f64()
    );
    Fixture {
        _dir: dir,
        store,
        names,
    }
}

fn main() {
    let _ = fixture();
    divan::main();
    summary();
}

#[divan::bench(sample_count = 200, sample_size = 1)]
fn image_create(bencher: divan::Bencher) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let images = fixture().store.namespace(NS).expect("namespace").images();
    let target = Descriptor::new(MANIFEST, Digest::sha256_of(b"created"), 7);
    bencher.bench_local(|| {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        images
            .create(Image::new(format!("created/app:{n}"), target.clone()))
            .expect("create")
    });
}

#[divan::bench(sample_count = 1000)]
fn image_get(bencher: divan::Bencher) {
    let fixture = fixture();
    let images = fixture.store.namespace(NS).expect("namespace").images();
    let mut i = 0usize;
    bencher.bench_local(|| {
        i = (i + 7919) % fixture.names.len();
        images.get(&fixture.names[i]).expect("get")
    });
}

#[divan::bench(sample_count = 30, sample_size = 1)]
fn image_list(bencher: divan::Bencher) {
    let images = fixture().store.namespace(NS).expect("namespace").images();
    bencher.bench_local(|| images.list(&ImageFilter::all()).expect("list").len());
}

#[divan::bench(sample_count = 100, sample_size = 1)]
fn image_list_one_repository(bencher: divan::Bencher) {
    let images = fixture().store.namespace(NS).expect("namespace").images();
    let filter = ImageFilter::all().name_prefix("registry.example/team-7/");
    bencher.bench_local(|| images.list(&filter).expect("list").len());
}

/// The floor: list every file under the blob directory, nothing else.
fn walk_blobs(store: &MetaStore) -> usize {
    let blobs = store.root().join(hoist_meta::CONTENT_DIR).join("blobs");
    walkdir::WalkDir::new(blobs)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .count()
}

/// The time to unlink `GARBAGE` small files of one directory (created
/// beside the blobs, on the same file system).
fn unlink_floor(store: &MetaStore) -> Duration {
    let dir = store.root().join("unlink-floor");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let paths: Vec<PathBuf> = (0..GARBAGE)
        .map(|i| {
            let path = dir.join(format!("{i:064x}"));
            std::fs::write(&path, format!("garbage {i}")).expect("a scratch file");
            path
        })
        .collect();
    let started = Instant::now();
    for path in &paths {
        std::fs::remove_file(path).expect("unlink");
    }
    started.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn summary() {
    let fixture = fixture();
    let store = &fixture.store;
    let ns = store.namespace(NS).expect("namespace");
    // Garbage: blobs recorded in the namespace that nothing references.
    let garbage: Vec<(Digest, u64, Labels)> = (0..GARBAGE)
        .map(|g| {
            let (digest, size) = put_file(store, format!("garbage {g}").as_bytes());
            (digest, size, Labels::new())
        })
        .collect();
    bulk::record_blobs(store, NS, &garbage).expect("record garbage");
    bulk::compact(store).expect("compact");
    // Drop what the divan runs created, so the graph is the documented one.
    for image in ns
        .images()
        .list(&ImageFilter::all().name_prefix("created/"))
        .expect("list")
    {
        ns.images().delete(&image.name).expect("delete");
    }

    let mut walks = Vec::new();
    let mut dry = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let files = walk_blobs(store);
        walks.push(started.elapsed());
        assert_eq!(files, IMAGES * (LAYERS + 2) + GARBAGE);
        let started = Instant::now();
        let report = store.gc(GcOptions::dry_run()).expect("dry run");
        dry.push(started.elapsed());
        assert_eq!(report.blobs.len(), GARBAGE);
    }
    let started = Instant::now();
    let report = store.gc(GcOptions::new()).expect("gc");
    let collecting = started.elapsed();
    assert_eq!(report.blobs.len(), GARBAGE);
    let mut steady = Vec::new();
    let mut walks_after = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        walk_blobs(store);
        walks_after.push(started.elapsed());
        let started = Instant::now();
        let report = store.gc(GcOptions::new()).expect("gc");
        steady.push(started.elapsed());
        assert!(report.blobs.is_empty());
    }
    let unlink_floor = unlink_floor(store);
    let floor = median(walks);
    let floor_after = median(walks_after);
    println!();
    println!(
        "GC with {IMAGES} images over {} blobs (median of 5)",
        IMAGES * (LAYERS + 2) + GARBAGE
    );
    println!("  walk the blob directory (floor): {:8.1} ms", ms(floor));
    println!(
        "  gc dry run:                      {:8.1} ms  ({:.2}x the floor)",
        ms(median(dry.clone())),
        median(dry).as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "  gc removing {GARBAGE} blobs:         {:8.1} ms  ({:.2}x the floor; mark {:.1} ms, sweep {:.1} ms)",
        ms(collecting),
        collecting.as_secs_f64() / floor.as_secs_f64(),
        ms(report.mark_time),
        ms(report.sweep_time)
    );
    println!(
        "  floor + unlinking {GARBAGE} files:    {:8.1} ms  (the least a sweep removing them costs)",
        ms(floor + unlink_floor)
    );
    println!(
        "  gc with nothing to remove:       {:8.1} ms  ({:.2}x the floor of {:.1} ms)",
        ms(median(steady.clone())),
        median(steady).as_secs_f64() / floor_after.as_secs_f64(),
        ms(floor_after)
    );
}
