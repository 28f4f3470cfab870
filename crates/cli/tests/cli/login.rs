//! `hoist login` / `hoist logout` against a registry with Basic auth and one
//! with token auth.

use hoist_testkit::{IssuerOptions, RegistryOptions, TestUser};
use predicates::prelude::*;
use serde_json::Value;

use crate::support::{Env, one_error_line, registry};

fn read_config(env: &Env) -> Value {
    serde_json::from_slice(&std::fs::read(env.docker_config()).unwrap()).unwrap()
}

#[test]
fn login_checks_the_password_then_saves_it_keeping_other_keys() {
    let Some(registry) = registry(RegistryOptions::basic("alice", "right")) else {
        return;
    };
    let host = registry.host();
    let env = Env::new();
    std::fs::write(
        env.docker_config(),
        r#"{"proxies":{"default":{"noProxy":"x"}}}"#,
    )
    .unwrap();

    let output = env
        .hoist(&["login", &host, "-u", "alice", "--password-stdin"])
        .write_stdin("wrong\n")
        .assert()
        .code(1)
        .get_output()
        .clone();
    let line = one_error_line(&output.stderr);
    assert!(line.contains("refused"), "{line}");
    assert!(line.contains(&format!("hoist login {host}")), "{line}");
    assert!(
        read_config(&env)["auths"].is_null(),
        "a refused login was saved"
    );

    env.hoist(&["login", &host, "-u", "alice", "--password-stdin"])
        .write_stdin("right\n")
        .assert()
        .success()
        .stdout(predicate::str::contains("Login Succeeded"));
    let config = read_config(&env);
    assert_eq!(config["proxies"]["default"]["noProxy"], "x");
    assert!(config["auths"][&host]["auth"].is_string());

    env.hoist(&["logout", &host])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "Removing login credentials for {host}"
        )));
    let config = read_config(&env);
    assert!(config["auths"].get(&host).is_none());
    assert_eq!(config["proxies"]["default"]["noProxy"], "x");
    env.hoist(&["logout", &host])
        .assert()
        .success()
        .stderr(predicate::str::contains("not logged in"));
}

#[test]
fn login_against_a_token_registry() {
    let user = TestUser::pusher("carol", "tok3n");
    let options = IssuerOptions {
        users: vec![user.clone()],
        ..IssuerOptions::default()
    };
    let Some(registry) = registry(RegistryOptions::token(options)) else {
        return;
    };
    let host = registry.host();
    let env = Env::new();
    env.hoist(&["login", &host, "-u", &user.name, "--password-stdin"])
        .write_stdin(format!("{}\n", user.password))
        .assert()
        .success();
    let output = env
        .hoist(&["login", &host, "-u", &user.name, "--password-stdin"])
        .write_stdin("not-the-password\n")
        .assert()
        .code(1)
        .get_output()
        .clone();
    one_error_line(&output.stderr);
}

#[test]
fn login_without_input_is_a_usage_error() {
    let env = Env::new();
    let output = env
        .hoist(&["login", "localhost:1"])
        .write_stdin("")
        .assert()
        .code(2)
        .get_output()
        .clone();
    one_error_line(&output.stderr);
    let output = env
        .hoist(&["login", "localhost:1", "-u", "x", "--password-stdin"])
        .write_stdin("\n")
        .assert()
        .code(2)
        .get_output()
        .clone();
    one_error_line(&output.stderr);
}
