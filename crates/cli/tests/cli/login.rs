//! `hoist login` / `hoist logout` against a registry with Basic auth and one
//! with token auth.

use hoist_testkit::{IssuerOptions, RegistryOptions, TestUser};
use predicates::prelude::*;
use serde_json::Value;

use crate::support::{Env, one_error_line, registry};
use crate::terminal::Terminal;

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

fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[test]
fn login_asks_on_a_terminal_and_never_shows_the_password() {
    let Some(registry) = registry(RegistryOptions::basic("alice", "s3cret-word")) else {
        return;
    };
    let host = registry.host();
    let env = Env::new();
    let mut terminal = Terminal::spawn(env.hoist_std(&["login", &host]));
    terminal.expect("Username: ");
    terminal.type_keys("alice\n");
    terminal.expect("Password: ");
    terminal.type_keys("s3cret-word\n");
    let (status, shown) = terminal.finish();
    assert!(status.success(), "{status}: {shown}");
    assert!(shown.contains("Login Succeeded"), "{shown}");
    // The user name is echoed as typed; the password is not.
    assert!(shown.contains("alice"), "{shown}");
    assert!(
        !shown.contains("s3cret"),
        "the password was shown:\n{shown}"
    );
    let config = read_config(&env);
    assert_eq!(
        config["auths"][&host]["auth"],
        basic_auth("alice", "s3cret-word")
    );

    // With `-u`, only the password is asked for.
    let mut terminal = Terminal::spawn(env.hoist_std(&["login", &host, "-u", "alice"]));
    terminal.expect("Password: ");
    terminal.type_keys("s3cret-word\n");
    let (status, shown) = terminal.finish();
    assert!(status.success(), "{status}: {shown}");
    assert!(!shown.contains("Username"), "{shown}");
}

#[test]
fn a_refused_password_on_the_terminal_keeps_the_saved_login() {
    let Some(registry) = registry(RegistryOptions::basic("alice", "right")) else {
        return;
    };
    let host = registry.host();
    let env = Env::new();
    let saved = serde_json::json!({"auths": {&host: {"auth": basic_auth("alice", "right")}}});
    let saved = serde_json::to_vec_pretty(&saved).unwrap();
    std::fs::write(env.docker_config(), &saved).unwrap();

    let mut terminal = Terminal::spawn(env.hoist_std(&["login", &host, "-u", "alice"]));
    terminal.expect("Password: ");
    terminal.type_keys("wrong\n");
    let (status, shown) = terminal.finish();
    assert_eq!(status.code(), Some(1), "{shown}");
    assert!(shown.contains("refused"), "{shown}");
    assert!(shown.contains(&host), "{shown}");
    assert!(!shown.contains("wrong"), "the password was shown:\n{shown}");
    assert_eq!(std::fs::read(env.docker_config()).unwrap(), saved);
}

#[test]
fn end_of_input_at_a_prompt_fails_instead_of_waiting() {
    let env = Env::new();
    // Nothing is contacted before both answers are in.
    let mut terminal = Terminal::spawn(env.hoist_std(&["login", "localhost:1"]));
    terminal.expect("Username: ");
    // Ctrl-D on an empty line: end of input.
    terminal.type_keys("\u{4}");
    let (status, shown) = terminal.finish();
    assert!(!status.success(), "{shown}");
    assert!(shown.contains("hoist: error:"), "{shown}");
    assert!(shown.contains("nothing was entered"), "{shown}");

    let mut terminal = Terminal::spawn(env.hoist_std(&["login", "localhost:1", "-u", "x"]));
    terminal.expect("Password: ");
    terminal.type_keys("\u{4}");
    let (status, shown) = terminal.finish();
    assert_eq!(status.code(), Some(2), "{shown}");
    assert!(shown.contains("the password must not be empty"), "{shown}");
    assert!(!env.docker_config().exists());
}
