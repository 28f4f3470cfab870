//! `cargo xtask fuzz [SECONDS] [--merge] [TARGET...]`: coverage-guided fuzzing
//! of every parser of untrusted input with libFuzzer, on the stable toolchain.
//!
//! cargo-fuzz is not needed: all it adds over plain cargo is a set of
//! `RUSTFLAGS`, and the ones that matter (`-Cpasses=sancov-module` and the
//! `-sanitizer-coverage-*` LLVM options) are stable. Only a sanitizer would
//! need nightly, and hoist forbids `unsafe` code, so AddressSanitizer would
//! find little that Rust's own checks (kept on: debug assertions, overflow
//! checks) do not. See docs/fuzzing.md.
//!
//! The instrumented build lives in its own folder under the target folder,
//! so it never invalidates the ordinary build. Each target runs in turn, with
//! a working corpus there as well, seeded from the kept one in
//! `fuzz/corpus/<target>` (which libFuzzer only reads). `--merge` then
//! minimizes the kept corpus together with what the runs found.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{run, target_dir, workspace_root};

/// Every fuzz target (a `[[bin]]` of `fuzz/Cargo.toml`) and the largest input
/// libFuzzer may make for it, in bytes.
const TARGETS: &[(&str, usize)] = &[
    ("reference", 512),
    ("platform", 512),
    ("challenge", 2048),
    ("docker_config", 4096),
    ("hosts_toml", 4096),
    ("document", 16384),
    ("archive", 65536),
];

/// Seconds per target when none are given.
const DEFAULT_SECONDS: u64 = 60;

/// The coverage instrumentation libFuzzer needs, as cargo-fuzz passes it,
/// without a sanitizer (which would need nightly). `--cfg fuzzing` lets code
/// tell a fuzz build apart, as under cargo-fuzz.
const INSTRUMENTATION: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "--cfg",
    "fuzzing",
    "-Cdebug-assertions",
    "-Coverflow-checks",
];

struct Request {
    seconds: u64,
    merge: bool,
    targets: Vec<(&'static str, usize)>,
}

struct Outcome {
    target: &'static str,
    seconds: u64,
    executions: Option<u64>,
    crash: Option<String>,
}

/// Builds the fuzz targets, runs each for the given seconds, and fails if
/// any of them found an input that crashes, naming the file holding it.
pub fn run_fuzz(args: &[String]) -> Result<(), String> {
    let request = parse_args(args)?;
    let root = workspace_root();
    let fuzz_dir = target_dir().join("fuzz");
    let triple = host_triple()?;
    build(&root, &fuzz_dir, &triple)?;
    let binaries = fuzz_dir.join(&triple).join("release");
    let mut outcomes = Vec::new();
    if request.seconds > 0 {
        for &(target, max_len) in &request.targets {
            outcomes.push(fuzz_one(
                &root,
                &fuzz_dir,
                &binaries,
                target,
                max_len,
                request.seconds,
            )?);
        }
        print_summary(&outcomes);
    }
    let crashes: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.crash.as_ref().map(|c| format!("{}: {c}", o.target)))
        .collect();
    if !crashes.is_empty() {
        return Err(format!(
            "fuzzing found crashes; reproduce one with `{}/<target> <input>`:\n  {}",
            binaries.display(),
            crashes.join("\n  ")
        ));
    }
    if request.merge {
        for &(target, max_len) in &request.targets {
            merge(&root, &fuzz_dir, &binaries, target, max_len)?;
        }
    }
    Ok(())
}

fn parse_args(args: &[String]) -> Result<Request, String> {
    let mut request = Request {
        seconds: DEFAULT_SECONDS,
        merge: false,
        targets: Vec::new(),
    };
    for arg in args {
        if arg == "--merge" {
            request.merge = true;
        } else if let Ok(seconds) = arg.parse::<u64>() {
            request.seconds = seconds;
        } else if let Some(&known) = TARGETS.iter().find(|(name, _)| name == arg) {
            request.targets.push(known);
        } else {
            let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
            return Err(format!(
                "fuzz: {arg:?} is neither a number of seconds, --merge, nor a target ({})",
                names.join(", ")
            ));
        }
    }
    if request.targets.is_empty() {
        request.targets = TARGETS.to_vec();
    }
    Ok(request)
}

/// The host's target triple. The build names it explicitly so that the
/// instrumentation flags reach only the fuzzed code, not build scripts and
/// proc macros.
fn host_triple() -> Result<String, String> {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("could not run rustc -vV: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV names no host triple".to_owned())
}

fn build(root: &Path, fuzz_dir: &Path, triple: &str) -> Result<(), String> {
    eprintln!("xtask: building the fuzz targets in {}", fuzz_dir.display());
    run(
        Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root)
            .env("CARGO_TARGET_DIR", fuzz_dir)
            .env_remove("RUSTFLAGS")
            .env("CARGO_ENCODED_RUSTFLAGS", INSTRUMENTATION.join("\u{1f}"))
            .args([
                "build",
                "--locked",
                "--release",
                "--package",
                "hoist-fuzz",
                "--features",
                "libfuzzer",
                "--bins",
                "--target",
                triple,
            ]),
    )
}

fn fuzz_one(
    root: &Path,
    fuzz_dir: &Path,
    binaries: &Path,
    target: &'static str,
    max_len: usize,
    seconds: u64,
) -> Result<Outcome, String> {
    let work_corpus = fuzz_dir.join("corpus").join(target);
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let logs = fuzz_dir.join("logs");
    for dir in [&work_corpus, &artifacts, &logs] {
        fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let log_path = logs.join(format!("{target}.log"));
    let log =
        fs::File::create(&log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
    let kept_corpus = root.join("fuzz").join("corpus").join(target);
    eprintln!(
        "xtask: fuzzing {target} for {seconds} s (log: {})",
        log_path.display()
    );
    let started = Instant::now();
    let status = Command::new(binaries.join(target))
        .arg(&work_corpus)
        .arg(&kept_corpus)
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-max_len={max_len}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        // A parser that takes seconds on one input is a bug too.
        .arg("-timeout=20")
        .arg("-rss_limit_mb=2048")
        .arg("-print_final_stats=1")
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .map_err(|e| format!("could not run the {target} fuzz target: {e}"))?;
    let text = fs::read_to_string(&log_path)
        .map_err(|e| format!("reading {}: {e}", log_path.display()))?;
    let executions = text
        .lines()
        .find_map(|line| line.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|n| n.trim().parse().ok());
    let crash = if status.success() {
        None
    } else {
        let input = text
            .lines()
            .find_map(|line| line.split_once("Test unit written to ").map(|(_, p)| p))
            .map(str::to_owned);
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        Some(match input {
            Some(path) => format!("crashing input in {path} (log: {})", log_path.display()),
            None => format!("{status} with no input saved (log: {})", log_path.display()),
        })
    };
    Ok(Outcome {
        target,
        seconds: started.elapsed().as_secs(),
        executions,
        crash,
    })
}

fn print_summary(outcomes: &[Outcome]) {
    eprintln!("xtask: fuzzing summary");
    eprintln!(
        "  {:<14} {:>8} {:>14}  result",
        "target", "seconds", "executions"
    );
    for outcome in outcomes {
        let executions = outcome
            .executions
            .map_or_else(|| "?".to_owned(), |n| n.to_string());
        let result = if outcome.crash.is_some() {
            "CRASH"
        } else {
            "ok"
        };
        eprintln!(
            "  {:<14} {:>8} {:>14}  {result}",
            outcome.target, outcome.seconds, executions
        );
    }
}

/// Replaces the kept corpus of `target` with the smallest set of inputs
/// (from it and from the working corpus) that covers what both cover,
/// keeping the inputs named by hand.
fn merge(
    root: &Path,
    fuzz_dir: &Path,
    binaries: &Path,
    target: &str,
    max_len: usize,
) -> Result<(), String> {
    let kept = root.join("fuzz").join("corpus").join(target);
    let work = fuzz_dir.join("corpus").join(target);
    let merged: PathBuf = fuzz_dir.join("merged").join(target);
    if merged.exists() {
        fs::remove_dir_all(&merged).map_err(|e| format!("removing {}: {e}", merged.display()))?;
    }
    fs::create_dir_all(&merged).map_err(|e| format!("creating {}: {e}", merged.display()))?;
    fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    eprintln!("xtask: minimizing the corpus of {target}");
    let log_path = fuzz_dir.join("logs").join(format!("{target}.merge.log"));
    let log =
        fs::File::create(&log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
    let status = Command::new(binaries.join(target))
        .arg("-merge=1")
        // Keep an input for each edge it reaches, not for each hit count:
        // the kept corpus stays a few hundred KB instead of megabytes.
        .arg("-use_counters=0")
        .arg(format!("-max_len={max_len}"))
        .arg(&merged)
        .arg(&kept)
        .arg(&work)
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .map_err(|e| format!("could not run the {target} fuzz target: {e}"))?;
    if !status.success() {
        return Err(format!(
            "minimizing the corpus of {target} failed with {status} (log: {})",
            log_path.display()
        ));
    }
    for entry in fs::read_dir(&kept).map_err(|e| format!("reading {}: {e}", kept.display()))? {
        let path = entry
            .map_err(|e| format!("reading {}: {e}", kept.display()))?
            .path();
        // libFuzzer names inputs by their SHA-1; a file named by hand is a
        // regression input for a fixed bug, kept whatever its coverage.
        let named_by_libfuzzer = path.file_name().is_some_and(|name| {
            name.len() == 40
                && name
                    .to_string_lossy()
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit())
        });
        if named_by_libfuzzer {
            fs::remove_file(&path).map_err(|e| format!("removing {}: {e}", path.display()))?;
        }
    }
    for entry in fs::read_dir(&merged).map_err(|e| format!("reading {}: {e}", merged.display()))? {
        let path = entry
            .map_err(|e| format!("reading {}: {e}", merged.display()))?
            .path();
        let destination = kept.join(path.file_name().unwrap_or_default());
        fs::copy(&path, &destination).map_err(|e| {
            format!(
                "copying {} to {}: {e}",
                path.display(),
                destination.display()
            )
        })?;
    }
    Ok(())
}
