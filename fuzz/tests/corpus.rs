//! Replays the kept corpus (`fuzz/corpus/<target>/*`) through every fuzz
//! target's checks, as an ordinary test: the fast pass CI runs on every
//! change, without the instrumented build that `cargo xtask fuzz` needs.
//! It catches a change that makes a parser panic or break an invariant on
//! any input the fuzzer once found interesting.

use std::path::{Path, PathBuf};

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    inputs.sort();
    // A corpus that went missing would make this test pass vacuously.
    assert!(
        inputs.len() >= 5,
        "{} holds only {} inputs",
        dir.display(),
        inputs.len()
    );
    for input in inputs {
        let data =
            std::fs::read(&input).unwrap_or_else(|e| panic!("reading {}: {e}", input.display()));
        eprintln!("{}", input.display());
        check(&data);
    }
}

#[test]
fn reference_corpus() {
    replay("reference", hoist_fuzz::reference);
}

#[test]
fn platform_corpus() {
    replay("platform", hoist_fuzz::platform);
}

#[test]
fn document_corpus() {
    replay("document", hoist_fuzz::document);
}

#[test]
fn docker_config_corpus() {
    replay("docker_config", hoist_fuzz::docker_config);
}

#[test]
fn hosts_toml_corpus() {
    replay("hosts_toml", hoist_fuzz::hosts_toml);
}

#[test]
fn challenge_corpus() {
    replay("challenge", hoist_fuzz::challenge);
}

#[test]
fn archive_corpus() {
    replay("archive", hoist_fuzz::archive);
}
