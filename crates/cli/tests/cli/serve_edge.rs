//! `hoist serve` flags in front of the API: `--format json` access-log
//! lines, `--htpasswd` with `hoist login` on the pulling side, and bad
//! TLS or auth setups refused as usage errors.

use std::io::{Read as _, Write as _};
use std::process::Stdio;

use predicates::prelude::*;

use crate::serve::{Serving, load_served_fixture};
use crate::support::Env;

/// Sends one request on its own connection; returns the status line and
/// the local port the request came from.
fn exchange(address: &str, method: &str, target: &str) -> (String, u16) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let port = stream.local_addr().unwrap().port();
    stream
        .write_all(
            format!("{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    (answer.lines().next().unwrap_or_default().to_owned(), port)
}

#[test]
fn serve_format_json_writes_one_json_object_per_request() {
    let env = Env::new();
    let fixture = load_served_fixture(&env, 75);
    let mut serving = Serving::start_with(&env, &["--format", "json"], Stdio::piped());
    let address = serving.address.clone();

    let requests = [
        ("GET", "/v2/", 200),
        ("GET", "/v2/team/app/manifests/1?ns=registry.example", 200),
        ("HEAD", "/v2/team/app/manifests/1", 200),
        ("GET", "/v2/team/app/manifests/nope", 404),
        ("DELETE", "/v2/team/app/manifests/1", 405),
    ];
    let mut ports = Vec::new();
    for (method, target, status) in requests {
        let (line, port) = exchange(&address, method, target);
        assert!(
            line.contains(&status.to_string()),
            "{method} {target}: {line}"
        );
        ports.push(port);
    }
    assert!(serving.terminate().success());
    let mut stderr = String::new();
    serving
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();

    // Every line of the log is one JSON object; the access lines are those
    // of the access target, one per request.
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
        })
        .collect();
    assert!(events.iter().all(serde_json::Value::is_object), "{stderr}");
    let access: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["target"] == "hoist_serve::access")
        .collect();
    assert_eq!(access.len(), requests.len(), "{stderr}");
    for ((method, target, status), port) in requests.iter().zip(&ports) {
        let matching: Vec<_> = access
            .iter()
            .filter(|e| e["method"] == *method && e["path"] == *target)
            .collect();
        assert_eq!(matching.len(), 1, "{method} {target} in:\n{stderr}");
        let line = matching[0];
        assert_eq!(line["status"], *status, "{line}");
        assert_eq!(line["remote"], format!("127.0.0.1:{port}"), "{line}");
        assert!(line["bytes"].is_u64() && line["ms"].is_u64(), "{line}");
    }
    let manifest = access
        .iter()
        .find(|e| e["method"] == "GET" && e["status"] == 200 && e["path"] != "/v2/")
        .unwrap();
    assert_eq!(manifest["bytes"], fixture.index.bytes.len(), "{manifest}");
    let head = access.iter().find(|e| e["method"] == "HEAD").unwrap();
    assert_eq!(head["bytes"], 0, "{head}");
}

#[test]
fn serve_with_htpasswd_lets_a_pull_in_only_after_hoist_login() {
    let served = Env::new();
    let fixture = load_served_fixture(&served, 76);
    let htpasswd = served.path().join("htpasswd");
    let hash = bcrypt::hash("s3cret", 5).unwrap();
    std::fs::write(&htpasswd, format!("alice:{hash}\n")).unwrap();
    let serving = Serving::start_with(
        &served,
        &["--htpasswd", htpasswd.to_str().unwrap()],
        Stdio::null(),
    );
    let address = serving.address.clone();
    let reference = format!("{address}/team/app:1");

    let puller = Env::new();
    let line = puller.fails(&["pull", "-q", &reference, "--all-platforms"], 1);
    assert!(line.contains(&address), "{line}");
    assert_eq!(puller.json(&["images"]).as_array().map(Vec::len), Some(0));

    puller
        .hoist(&["login", &address, "-u", "alice", "--password-stdin"])
        .write_stdin("wrong\n")
        .assert()
        .code(1);
    puller
        .hoist(&["login", &address, "-u", "alice", "--password-stdin"])
        .write_stdin("s3cret\n")
        .assert()
        .success()
        .stdout(predicate::str::contains("Login Succeeded"));
    puller.ok(&["pull", "-q", &reference, "--all-platforms"]);
    let images = puller.json(&["images"]);
    assert_eq!(images[0]["name"], reference.as_str());
    assert_eq!(images[0]["digest"], fixture.index.digest);
    assert_eq!(images[0]["platforms_complete"], 4);
    drop(serving);
}

#[test]
fn serve_refuses_bad_tls_files_and_clear_text_passwords_as_usage_errors() {
    let env = Env::new();
    let junk = env.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let junk = junk.to_str().unwrap();
    let line = env.fails(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            junk,
            "--tls-key",
            junk,
        ],
        2,
    );
    assert!(line.contains(junk), "{line}");

    let missing = env.path().join("missing.htpasswd");
    let line = env.fails(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--htpasswd",
            missing.to_str().unwrap(),
        ],
        2,
    );
    assert!(line.contains("missing.htpasswd"), "{line}");

    let htpasswd = env.path().join("htpasswd");
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    std::fs::write(&htpasswd, format!("alice:{hash}\n")).unwrap();
    let line = env.fails(
        &[
            "serve",
            "--listen",
            "0.0.0.0:0",
            "--htpasswd",
            htpasswd.to_str().unwrap(),
        ],
        2,
    );
    assert!(
        line.contains("clear text") && line.contains("TLS"),
        "{line}"
    );

    // A certificate without its key is refused by the parser.
    env.hoist(&["serve", "--tls-cert", junk])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--tls-key"));
}
