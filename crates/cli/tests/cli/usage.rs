//! Usage errors: exit code 2, one `hoist: error:` line, nothing touched.

use predicates::prelude::*;

use crate::support::{Env, one_error_line};

#[test]
fn help_documents_the_exit_codes() {
    let env = Env::new();
    env.hoist(&["--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes:"))
        .stdout(predicate::str::contains("3  verify"));
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    let env = Env::new();
    let output = env
        .hoist(&["images", "--bogus"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("hoist: error: "), "{stderr}");
    assert!(stderr.contains("--bogus"), "{stderr}");
}

#[test]
fn platform_flags_conflict() {
    let env = Env::new();
    env.hoist(&[
        "pull",
        "alpine",
        "--platform",
        "linux/amd64",
        "--all-platforms",
    ])
    .assert()
    .code(2);
}

#[test]
fn an_empty_namespace_is_refused() {
    let env = Env::new();
    let output = env
        .hoist(&["-n", "", "images"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    one_error_line(&output.stderr);
    assert!(!env.root().exists(), "a usage error created the store");
}
