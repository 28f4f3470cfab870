//! Pull and push against registries that demand credentials: htpasswd
//! Basic auth (credentials from a Docker `config.json`) and token auth
//! (a test token issuer).

use std::sync::Arc;

use hoist::remote::{Credentials, StaticCredentials};
use hoist::{CredentialsSource, Platforms, PullOptions, Store, StoreOptions};
use hoist_testkit::{IssuerOptions, Registry, RegistryOptions, TestUser};

use crate::support::{fixture, load_fixture, push_all, quiet};

fn store_with(credentials: CredentialsSource) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreOptions::default().credentials(credentials)).unwrap();
    (dir, store)
}

/// Pushes a fixture with `pusher`, pulls it back with `puller`, and checks
/// an anonymous store is refused.
async fn round_trip(registry: &Registry, pusher: CredentialsSource, puller: CredentialsSource) {
    let fixture = fixture(41);
    let reference = format!("{}/secure/app:1", registry.host());
    let (_dir, anonymous) = store_with(CredentialsSource::Anonymous);
    load_fixture(&anonymous, &fixture, "local/app:1");
    let error = push_all(&anonymous, "local/app:1", &reference)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), hoist::ErrorKind::Unauthenticated, "{error}");

    let (_dir, writer) = store_with(pusher);
    load_fixture(&writer, &fixture, "local/app:1");
    let pushed = push_all(&writer, "local/app:1", &reference).await.unwrap();
    assert_eq!(pushed.digest.to_string(), fixture.index.digest);

    let (_dir, reader) = store_with(puller);
    let pulled = reader
        .pull(&reference, &PullOptions::default(), quiet())
        .await
        .unwrap();
    assert_eq!(pulled.target.digest.to_string(), fixture.index.digest);
    assert!(
        reader
            .check(&pulled.name, &Platforms::All)
            .unwrap()
            .is_complete()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_with_credentials_from_a_docker_config() {
    let Some(registry) = Registry::start(RegistryOptions::basic("alice", "wonderland")).unwrap()
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    // base64("alice:wonderland"), as `docker login` writes it.
    let auth = "YWxpY2U6d29uZGVybGFuZA==";
    let body = serde_json::json!({"auths": {registry.host(): {"auth": auth}}});
    std::fs::write(&config, body.to_string()).unwrap();
    round_trip(
        &registry,
        CredentialsSource::DockerConfigAt(config.clone()),
        CredentialsSource::DockerConfigAt(config),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_auth_through_a_token_issuer() {
    let issuer = IssuerOptions {
        users: vec![
            TestUser::pusher("alice", "wonderland"),
            TestUser::puller("bob", "builder"),
        ],
        ..IssuerOptions::default()
    };
    let Some(registry) = Registry::start(RegistryOptions::token(issuer)).unwrap() else {
        return;
    };
    let host = registry.host();
    let alice = StaticCredentials::new().with(&host, Credentials::basic("alice", "wonderland"));
    let bob = StaticCredentials::new().with(&host, Credentials::basic("bob", "builder"));
    round_trip(
        &registry,
        CredentialsSource::Provider(Arc::new(alice)),
        CredentialsSource::Provider(Arc::new(bob)),
    )
    .await;
    let stats = registry.issuer().unwrap().stats();
    assert!(stats.get_requests() + stats.post_requests() > 0);
}
