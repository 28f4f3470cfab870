//! `Store::login` / `Store::logout` against registries with Basic and token
//! auth: only accepted credentials are kept, in the store's `config.json`,
//! with every other key and login left as it was; the same store then
//! pushes with them.

use std::path::Path;

use hoist::remote::CredentialStore;
use hoist::{CredentialsSource, ErrorKind, LoginOptions, Store, StoreOptions};
use hoist_testkit::{IssuerOptions, Registry, RegistryOptions, TestUser};

use crate::support::{fixture, load_fixture, push_all};

/// Another registry's login and keys hoist does not know.
const OTHER_KEYS: &str = r#"{
  "auths": {"other.example:5000": {"auth": "b3RoZXI6cHc="}},
  "credHelpers": {},
  "proxies": {"default": {"noProxy": "*.local"}},
  "HttpHeaders": {"X-Team": "build"}
}"#;

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

async fn login_then_push(registry: &Registry, user: &str, password: &str) {
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("docker/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, OTHER_KEYS).unwrap();
    let store = Store::open(
        dir.path().join("root"),
        StoreOptions::default().credentials(CredentialsSource::DockerConfigAt(config.clone())),
    )
    .unwrap();
    load_fixture(&store, &fixture(71), "local/app:1");
    let reference = format!("{host}/login/app:1");

    // Not logged in: the push is refused.
    let error = push_all(&store, "local/app:1", &reference)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");

    let error = store
        .login(&host, user, "wrong-password", &LoginOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");
    assert!(error.to_string().contains("refused"), "{error}");
    assert!(!error.to_string().contains("wrong-password"), "{error}");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        OTHER_KEYS,
        "a refused login changed config.json"
    );

    let report = store
        .login(&host, user, password, &LoginOptions::default())
        .await
        .unwrap();
    assert_eq!(report.host, host);
    assert_eq!(report.stored_in, CredentialStore::ConfigFile);
    assert_eq!(report.config, config);
    let saved = read_json(&config);
    assert!(saved["auths"][&host]["auth"].is_string(), "{saved}");
    assert_eq!(saved["auths"]["other.example:5000"]["auth"], "b3RoZXI6cHc=");
    assert_eq!(saved["proxies"]["default"]["noProxy"], "*.local");
    assert_eq!(saved["HttpHeaders"]["X-Team"], "build");

    // The same store now pushes with what it just saved.
    push_all(&store, "local/app:1", &reference).await.unwrap();

    assert!(store.logout(&host).unwrap());
    let saved = read_json(&config);
    assert!(saved["auths"].get(&host).is_none(), "{saved}");
    assert_eq!(saved["auths"]["other.example:5000"]["auth"], "b3RoZXI6cHc=");
    assert_eq!(saved["proxies"]["default"]["noProxy"], "*.local");
    assert!(!store.logout(&host).unwrap());
    let error = push_all(&store, "local/app:1", &format!("{host}/login/app:2"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_basic_auth() {
    let Some(registry) = Registry::start(RegistryOptions::basic("alice", "wonderland")).unwrap()
    else {
        return;
    };
    login_then_push(&registry, "alice", "wonderland").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_token_auth() {
    let issuer = IssuerOptions {
        users: vec![TestUser::pusher("carol", "tok3n")],
        ..IssuerOptions::default()
    };
    let Some(registry) = Registry::start(RegistryOptions::token(issuer)).unwrap() else {
        return;
    };
    login_then_push(&registry, "carol", "tok3n").await;
}

#[tokio::test]
async fn login_needs_a_config_file_and_unchecked_logins_skip_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let anonymous = Store::open(
        dir.path().join("a"),
        StoreOptions::default().credentials(CredentialsSource::Anonymous),
    )
    .unwrap();
    let error = anonymous
        .login(
            "localhost:1",
            "u",
            "p",
            &LoginOptions::default().unchecked(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FailedPrecondition, "{error}");
    assert_eq!(
        anonymous.logout("localhost:1").unwrap_err().kind(),
        ErrorKind::FailedPrecondition
    );

    let config = dir.path().join("config.json");
    let store = Store::open(
        dir.path().join("b"),
        StoreOptions::default().credentials(CredentialsSource::DockerConfigAt(config.clone())),
    )
    .unwrap();
    let error = store
        .login("localhost:1", "u", "", &LoginOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{error}");
    // Nothing listens on port 1: a checked login fails, an unchecked one
    // is kept.
    let error = store
        .login("localhost:1", "u", "p", &LoginOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
    assert!(!config.exists());
    let report = store
        .login(
            "http://localhost:1/",
            "u",
            "p",
            &LoginOptions::default().unchecked(),
        )
        .await
        .unwrap();
    assert_eq!(report.host, "localhost:1");
    assert!(read_json(&config)["auths"]["localhost:1"]["auth"].is_string());
}
