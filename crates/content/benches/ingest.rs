//! Ingest throughput of a 1 GiB stream, beside this machine's raw limit
//! measured in the same run.
//!
//! - `ingest_1gib`: `write_blob` of a generated 1 GiB stream into a fresh
//!   `LocalStore`: hash while writing, fsync, verify, publish.
//! - `raw_limit_1gib`: the same bytes hashed with SHA-256 and written to a
//!   plain file in the same directory, then fsynced: what any durable,
//!   verifying store must at least spend.
//!
//! After divan's table, a summary measures both again, alternating, and prints
//! MiB/s, the ratio (target ≥ 0.9) and the peak RSS during a 64 MiB and during
//! the 1 GiB ingests (flat memory: the two are equal). Run with
//! `cargo bench -p hoist-content`; `HOIST_BENCH_DIR` picks the directory.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use divan::Bencher;
use divan::counter::BytesCount;
use hoist_content::testsuite::data::{Pattern, PatternReader};
use hoist_content::{Digest, Digester, LocalStore, Manager, write_blob};

const GIB: u64 = 1 << 30;
const CHUNK: usize = 1 << 20;
const SEED: u64 = 42;

fn main() {
    divan::main();
    summary();
}

fn bench_dir() -> tempfile::TempDir {
    let base = std::env::var_os("HOIST_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    tempfile::Builder::new()
        .prefix("hoist-content-bench-")
        .tempdir_in(base)
        .expect("a bench directory")
}

/// One ingest of `len` bytes into the store at `dir/store`; removes the blob after.
fn ingest(dir: &Path, digest: &Digest, len: u64) -> Duration {
    let store = LocalStore::open(dir.join("store")).expect("open the store");
    let source = Pattern::new(SEED).reader(len);
    let started = Instant::now();
    write_blob(&store, "bench", source, digest, len, Default::default()).expect("ingest");
    let took = started.elapsed();
    store.delete(digest).expect("delete the blob");
    took
}

/// The raw limit: hash and write the same stream to a file in the same
/// directory, fsync it.
fn raw_limit(dir: &Path, len: u64, fsync: bool) -> Duration {
    let path = dir.join("raw");
    let mut source: PatternReader = Pattern::new(SEED).reader(len);
    let mut buf = vec![0; CHUNK];
    let started = Instant::now();
    let mut file = File::create(&path).expect("create the raw file");
    let mut digester = Digester::new(hoist_content::Algorithm::Sha256);
    loop {
        let n = source.read(&mut buf).expect("read the source");
        if n == 0 {
            break;
        }
        digester.update(&buf[..n]);
        file.write_all(&buf[..n]).expect("write the raw file");
    }
    if fsync {
        file.sync_all().expect("fsync the raw file");
    }
    divan::black_box(digester.finish());
    let took = started.elapsed();
    std::fs::remove_file(&path).expect("remove the raw file");
    took
}

/// Pattern generation alone (`hash: false`) or with SHA-256 (`hash: true`),
/// to show what the parts cost.
fn source_only(len: u64, hash: bool) -> Duration {
    let mut source = Pattern::new(SEED).reader(len);
    let mut buf = vec![0; CHUNK];
    let mut digester = Digester::new(hoist_content::Algorithm::Sha256);
    let started = Instant::now();
    loop {
        let n = source.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        if hash {
            digester.update(&buf[..n]);
        }
        divan::black_box(&buf);
    }
    divan::black_box(digester.finish());
    started.elapsed()
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn ingest_1gib(bencher: Bencher) {
    let dir = bench_dir();
    let digest = Pattern::new(SEED).digest(GIB);
    bencher
        .counter(BytesCount::new(GIB))
        .bench_local(|| ingest(dir.path(), &digest, GIB));
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn raw_limit_1gib(bencher: Bencher) {
    let dir = bench_dir();
    bencher
        .counter(BytesCount::new(GIB))
        .bench_local(|| raw_limit(dir.path(), GIB, true));
}

fn mib_per_s(len: u64, took: Duration) -> f64 {
    len as f64 / (1 << 20) as f64 / took.as_secs_f64()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Resets this process's peak resident set (VmHWM) to its current RSS, so
/// that the next reading covers only what follows (Linux ≥ 4.0).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident set of this process (VmHWM), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn summary() {
    // `cargo bench` passes `--bench`; without it (`cargo test --benches`)
    // divan ran each bench once as a smoke test, and the summary is skipped.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = bench_dir();
    let small = 64 << 20;
    let small_digest = Pattern::new(SEED).digest(small);
    // Peaks are measured from a reset, so divan's runs above do not count.
    reset_peak_rss();
    ingest(dir.path(), &small_digest, small);
    let peak_small = peak_rss_mib();
    reset_peak_rss();

    let digest = Pattern::new(SEED).digest(GIB);
    let (mut ingests, mut raws, mut raws_nosync) = (vec![], vec![], vec![]);
    let (mut sources, mut hashes) = (vec![], vec![]);
    for _ in 0..3 {
        ingests.push(ingest(dir.path(), &digest, GIB));
        raws.push(raw_limit(dir.path(), GIB, true));
        raws_nosync.push(raw_limit(dir.path(), GIB, false));
        sources.push(source_only(GIB, false));
        hashes.push(source_only(GIB, true));
    }
    // Since the reset: the 1 GiB ingests and the raw runs (which also stream
    // through 1 MiB buffers).
    let peak_big = peak_rss_mib();
    let ingest = mib_per_s(GIB, median(ingests));
    let raw = mib_per_s(GIB, median(raws));
    let raw_nosync = mib_per_s(GIB, median(raws_nosync));
    let source = mib_per_s(GIB, median(sources));
    let hash = mib_per_s(GIB, median(hashes));
    println!();
    println!(
        "summary (median of 3, 1 GiB each, in {}):",
        dir.path().display()
    );
    println!("  source generation alone         {source:8.0} MiB/s");
    println!("  source + sha256, no file        {hash:8.0} MiB/s");
    println!("  raw limit: sha256 + write       {raw_nosync:8.0} MiB/s (no fsync)");
    println!("  raw limit: sha256 + write+fsync {raw:8.0} MiB/s");
    println!("  hoist-content ingest            {ingest:8.0} MiB/s");
    println!(
        "  ratio ingest / raw limit        {:8.2} (target >= 0.90); vs no-fsync limit {:.2}",
        ingest / raw,
        ingest / raw_nosync
    );
    match (peak_small, peak_big) {
        (Some(small), Some(big)) => println!(
            "  peak RSS during a 64 MiB ingest {small:.1} MiB, during 1 GiB ingests {big:.1} MiB"
        ),
        _ => println!("  peak RSS: /proc/self/status not available"),
    }
}
