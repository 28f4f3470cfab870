//! The testkit's peers answer as a real registry and issuer do.

// Test code: helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};

use base64::Engine as _;
use hoist_testkit::{IssuerOptions, Registry, RegistryOptions, TestUser};

/// One HTTP/1.0 exchange over a plain socket: (status, headers+body text).
fn get(host: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let mut request = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    (status, response)
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

#[test]
fn plain_registry_answers_the_api_version_check() {
    let Some(registry) = Registry::start(RegistryOptions::plain()).unwrap() else {
        return;
    };
    let (status, _) = get(&registry.host(), "/v2/", &[]);
    assert_eq!(status, 200, "{}", registry.log());
}

#[test]
fn basic_registry_wants_the_htpasswd_user() {
    let Some(registry) = Registry::start(RegistryOptions::basic("alice", "secret")).unwrap() else {
        return;
    };
    let (status, text) = get(&registry.host(), "/v2/", &[]);
    assert_eq!(status, 401);
    assert!(text.contains("Basic realm="), "{text}");
    let (status, _) = get(
        &registry.host(),
        "/v2/",
        &[("Authorization", &basic("alice", "wrong"))],
    );
    assert_eq!(status, 401);
    let (status, _) = get(
        &registry.host(),
        "/v2/",
        &[("Authorization", &basic("alice", "secret"))],
    );
    assert_eq!(status, 200, "{}", registry.log());
}

#[test]
fn token_registry_accepts_a_token_from_the_issuer() {
    let options = IssuerOptions {
        users: vec![TestUser::pusher("alice", "secret")],
        ..IssuerOptions::default()
    };
    let Some(registry) = Registry::start(RegistryOptions::token(options)).unwrap() else {
        return;
    };
    let (status, text) = get(&registry.host(), "/v2/", &[]);
    assert_eq!(status, 401);
    assert!(text.contains("Bearer realm="), "{text}");
    let issuer = registry.issuer().unwrap();
    let issuer_host = issuer
        .realm()
        .trim_start_matches("http://")
        .trim_end_matches("/token");
    let path = "/token?service=hoist-test-registry&scope=repository:demo/app:pull,push";
    let (status, _) = get(
        issuer_host,
        path,
        &[("Authorization", &basic("alice", "nope"))],
    );
    assert_eq!(status, 401);
    let (status, text) = get(
        issuer_host,
        path,
        &[("Authorization", &basic("alice", "secret"))],
    );
    assert_eq!(status, 200);
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    let token = json["token"].as_str().unwrap();
    let (status, _) = get(
        &registry.host(),
        "/v2/demo/app/tags/list",
        &[("Authorization", &format!("Bearer {token}"))],
    );
    // 404: authorized, and the repository is unknown.
    assert_eq!(status, 404, "{}", registry.log());
    assert_eq!(issuer.stats().get_requests(), 2);
    assert_eq!(issuer.stats().refused(), 1);
}
