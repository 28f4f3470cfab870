//! `Client::login` against the real thing, and `DockerConfig::store` /
//! `erase` writing what it accepted: the library half of `hoist login`.

use hoist_remote::{CredentialProvider, CredentialStore, Credentials, DockerConfig, ErrorKind};
use hoist_testkit::{IssuerOptions, RegistryOptions, TestUser};

use crate::support::*;

/// A `config.json` holding another registry's login and keys hoist does
/// not know.
const OTHER_KEYS: &str = r#"{
  "auths": {"other.example:5000": {"auth": "b3RoZXI6cHc="}},
  "proxies": {"default": {"noProxy": "*.local"}},
  "detachKeys": "ctrl-x"
}"#;

/// Logs in with a wrong then a right password, storing only what the
/// registry accepted, then logs out.
async fn login_round_trip(host: &str, user: &str, right: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, OTHER_KEYS).unwrap();
    let client = client(fast_options());

    let error = client
        .login(host, Credentials::basic(user, "not-the-password"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");
    let text = error.to_string();
    assert!(text.contains("refused") && text.contains(host), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), OTHER_KEYS);

    let checked = client
        .login(
            &format!("http://{host}/v2/"),
            Credentials::basic(user, right),
        )
        .await
        .unwrap();
    assert_eq!(checked, host);
    let mut config = DockerConfig::load(&path).unwrap();
    let stored = config
        .store(&checked, &Credentials::basic(user, right))
        .unwrap();
    assert_eq!(stored, CredentialStore::ConfigFile);

    // What was stored is what a client reads back, and it works.
    let reread = DockerConfig::load(&path).unwrap();
    assert_eq!(
        reread.credentials(host).unwrap(),
        Credentials::basic(user, right)
    );
    let reader = crate::support::client(fast_options().with_credentials(reread));
    let error = reader
        .resolve(&repo(host, "login/absent").tagged("v1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");

    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved["proxies"]["default"]["noProxy"], "*.local");
    assert_eq!(saved["detachKeys"], "ctrl-x");
    assert_eq!(saved["auths"]["other.example:5000"]["auth"], "b3RoZXI6cHc=");

    assert!(config.erase(host).unwrap());
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(saved["auths"].get(host).is_none(), "{saved}");
    assert_eq!(saved["auths"]["other.example:5000"]["auth"], "b3RoZXI6cHc=");
    assert_eq!(saved["detachKeys"], "ctrl-x");
}

#[tokio::test]
async fn login_with_basic_auth_stores_only_accepted_credentials() {
    let Some(registry) = start(RegistryOptions::basic("alice", "wonderland")) else {
        return;
    };
    login_round_trip(&registry.host(), "alice", "wonderland").await;
}

#[tokio::test]
async fn login_with_token_auth_stores_only_accepted_credentials() {
    let issuer = IssuerOptions {
        // A user who may only pull: logging in needs no push right.
        users: vec![TestUser::puller("bob", "builder")],
        ..IssuerOptions::default()
    };
    let Some(registry) = start(RegistryOptions::token(issuer)) else {
        return;
    };
    login_round_trip(&registry.host(), "bob", "builder").await;
    let stats = registry.issuer().unwrap().stats();
    assert!(
        stats.refused() >= 1,
        "the wrong password never reached the issuer"
    );
}

#[tokio::test]
async fn login_to_a_registry_that_is_not_there_is_unavailable() {
    // A port nothing listens on (the registry is stopped first).
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let host = registry.host();
    drop(registry);
    let error = client(fast_options())
        .login(&host, Credentials::basic("u", "p"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
    assert!(error.to_string().contains(&host), "{error}");
}
