//! Anonymous, Basic and token auth against the real thing.

use hoist_remote::{
    BytesSource, ClientOptions, Credentials, DockerConfig, ErrorKind, PushBlobOptions, Secret,
    StaticCredentials, TokenMethod,
};
use hoist_testkit::{IssuerOptions, RegistryOptions, TestUser};

use crate::support::*;

fn with_credentials(host: &str, credentials: Credentials) -> ClientOptions {
    fast_options().with_credentials(StaticCredentials::new().with(host, credentials))
}

fn token_options() -> IssuerOptions {
    IssuerOptions {
        users: vec![
            TestUser::pusher("alice", "wonderland"),
            TestUser::puller("bob", "builder"),
        ],
        ..IssuerOptions::default()
    }
}

#[tokio::test]
async fn basic_auth_needs_the_right_password() {
    let Some(registry) = start(RegistryOptions::basic("alice", "wonderland")) else {
        return;
    };
    let host = registry.host();
    let repository = repo(&host, "basic/app");
    let image = sample_image(10, 10_000);

    let anonymous = client(fast_options());
    let error = anonymous
        .resolve(&repository.tagged("v1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");
    assert!(error.to_string().contains("no credentials"), "{error}");

    let wrong = client(with_credentials(&host, Credentials::basic("alice", "nope")));
    let error = wrong
        .resolve(&repository.tagged("v1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");
    assert!(error.to_string().contains("refused"), "{error}");

    let right = client(with_credentials(
        &host,
        Credentials::basic("alice", "wonderland"),
    ));
    push_image(&right, &repository, &image, "v1").await;
    let fetched = right
        .get_manifest(&repository.tagged("v1").unwrap())
        .await
        .unwrap();
    assert_eq!(fetched.bytes, image.index.bytes);
}

async fn token_round_trip(method: TokenMethod, issuer: IssuerOptions) -> Option<(u64, u64)> {
    let registry = start(RegistryOptions::token(issuer))?;
    let host = registry.host();
    let options = ClientOptions {
        token_method: method,
        ..with_credentials(&host, Credentials::basic("alice", "wonderland"))
    };
    let client = client(options);
    let repository = repo(&host, "token/app");
    let image = sample_image(11, 10_000);
    push_image(&client, &repository, &image, "v1").await;
    let fetched = client
        .get_manifest(&repository.tagged("v1").unwrap())
        .await
        .unwrap();
    assert_eq!(fetched.bytes, image.index.bytes);
    let stats = registry.issuer().unwrap().stats();
    Some((stats.get_requests(), stats.post_requests()))
}

#[tokio::test]
async fn tokens_by_get_with_basic_credentials() {
    let Some((gets, posts)) = token_round_trip(TokenMethod::Get, token_options()).await else {
        return;
    };
    assert!(gets >= 1);
    assert_eq!(posts, 0);
}

#[tokio::test]
async fn tokens_by_post_with_a_password_grant() {
    let Some((gets, posts)) = token_round_trip(TokenMethod::Post, token_options()).await else {
        return;
    };
    assert_eq!(gets, 0);
    assert!(posts >= 1);
}

#[tokio::test]
async fn auto_falls_back_to_post_when_get_is_not_served() {
    let issuer = IssuerOptions {
        accept_get: false,
        ..token_options()
    };
    let Some((gets, posts)) = token_round_trip(TokenMethod::Auto, issuer).await else {
        return;
    };
    assert!(gets >= 1, "GET was tried first");
    assert!(posts >= 1, "POST served the token");
}

#[tokio::test]
async fn post_falls_back_to_get_when_post_is_not_served() {
    let issuer = IssuerOptions {
        accept_post: false,
        ..token_options()
    };
    let Some((gets, posts)) = token_round_trip(TokenMethod::Post, issuer).await else {
        return;
    };
    assert!(posts >= 1, "POST was tried first");
    assert!(gets >= 1, "GET served the token");
}

#[tokio::test]
async fn tokens_are_cached_per_scope() {
    let Some(registry) = start(RegistryOptions::token(token_options())) else {
        return;
    };
    let host = registry.host();
    let client = client(with_credentials(
        &host,
        Credentials::basic("alice", "wonderland"),
    ));
    let stats = registry.issuer().unwrap().stats();
    let a = repo(&host, "cache/a");
    let b = repo(&host, "cache/b");
    let blob = Blob::new(bytes_of(12, 1000));
    for _ in 0..3 {
        assert_eq!(client.blob_exists(&a, &blob.digest).await.unwrap(), None);
    }
    assert_eq!(
        stats.get_requests(),
        1,
        "one token for three requests in one scope"
    );
    // Parallel requests in a new scope share one new token.
    let (x, y) = tokio::join!(
        client.blob_exists(&b, &blob.digest),
        client.blob_exists(&b, &blob.digest)
    );
    assert_eq!((x.unwrap(), y.unwrap()), (None, None));
    assert_eq!(stats.get_requests(), 2);
    // A push scope covers pull, so pulling after pushing needs no new token.
    client
        .push_blob(
            &a,
            &blob.digest,
            blob.size(),
            &BytesSource(blob.bytes.clone()),
            &PushBlobOptions::default(),
        )
        .await
        .unwrap();
    let after_push = stats.get_requests();
    client.fetch_blob(&a, &blob.digest, 0).await.unwrap();
    assert_eq!(stats.get_requests(), after_push);
}

#[tokio::test]
async fn expired_tokens_are_renewed() {
    let issuer = IssuerOptions {
        expires_in: 1,
        ..token_options()
    };
    let Some(registry) = start(RegistryOptions::token(issuer)) else {
        return;
    };
    let host = registry.host();
    let client = client(with_credentials(
        &host,
        Credentials::basic("alice", "wonderland"),
    ));
    let repository = repo(&host, "expiry/app");
    let digest = hoist_content::Digest::sha256_of(b"x");
    client.blob_exists(&repository, &digest).await.unwrap();
    assert_eq!(registry.issuer().unwrap().stats().get_requests(), 1);
    // The token's lifetime is the thing under test: it has to pass.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    client.blob_exists(&repository, &digest).await.unwrap();
    assert_eq!(registry.issuer().unwrap().stats().get_requests(), 2);
}

#[tokio::test]
async fn a_pull_only_user_is_denied_a_push() {
    let Some(registry) = start(RegistryOptions::token(token_options())) else {
        return;
    };
    let host = registry.host();
    let client = client(with_credentials(
        &host,
        Credentials::basic("bob", "builder"),
    ));
    let repository = repo(&host, "denied/app");
    let blob = Blob::new(bytes_of(13, 100));
    let error = client
        .push_blob(
            &repository,
            &blob.digest,
            blob.size(),
            &BytesSource(blob.bytes.clone()),
            &PushBlobOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Denied, "{error}");
    assert!(error.to_string().contains(&host), "{error}");
}

#[tokio::test]
async fn anonymous_and_wrong_credentials_are_unauthenticated_with_tokens() {
    let Some(registry) = start(RegistryOptions::token(token_options())) else {
        return;
    };
    let host = registry.host();
    let repository = repo(&host, "who/app");
    let anonymous = client(fast_options());
    let error = anonymous
        .resolve(&repository.tagged("v1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");
    let wrong = client(with_credentials(&host, Credentials::basic("alice", "nope")));
    let error = wrong
        .resolve(&repository.tagged("v1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");
    assert!(
        error.to_string().contains("refused the credentials"),
        "{error}"
    );
    assert!(
        !error.to_string().contains("nope"),
        "the password leaked into: {error}"
    );
}

#[tokio::test]
async fn anonymous_pulls_work_when_the_issuer_allows_them() {
    let issuer = IssuerOptions {
        anonymous_actions: vec!["pull".to_owned()],
        ..token_options()
    };
    let Some(registry) = start(RegistryOptions::token(issuer)) else {
        return;
    };
    let host = registry.host();
    let repository = repo(&host, "public/app");
    let image = sample_image(14, 1000);
    push_image(
        &client(with_credentials(
            &host,
            Credentials::basic("alice", "wonderland"),
        )),
        &repository,
        &image,
        "v1",
    )
    .await;
    let anonymous = client(fast_options());
    let fetched = anonymous
        .get_manifest(&repository.tagged("v1").unwrap())
        .await
        .unwrap();
    assert_eq!(fetched.bytes, image.index.bytes);
}

#[tokio::test]
async fn identity_tokens_are_exchanged_by_refresh_grant() {
    let issuer = IssuerOptions {
        refresh_tokens: vec![("stored-refresh".to_owned(), "alice".to_owned())],
        ..token_options()
    };
    let Some(registry) = start(RegistryOptions::token(issuer)) else {
        return;
    };
    let host = registry.host();
    let client = client(with_credentials(
        &host,
        Credentials::IdentityToken(Secret::new("stored-refresh")),
    ));
    let repository = repo(&host, "refresh/app");
    push_image(&client, &repository, &sample_image(15, 1000), "v1").await;
    let stats = registry.issuer().unwrap().stats();
    assert!(stats.post_requests() >= 1);
    assert_eq!(stats.get_requests(), 0);
}

#[tokio::test]
async fn credentials_come_from_docker_config_json() {
    let Some(registry) = start(RegistryOptions::token(token_options())) else {
        return;
    };
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    // "alice:wonderland"
    std::fs::write(
        &path,
        format!(r#"{{"auths":{{"http://{host}":{{"auth":"YWxpY2U6d29uZGVybGFuZA=="}}}}}}"#),
    )
    .unwrap();
    let client = client(fast_options().with_credentials(DockerConfig::load(&path).unwrap()));
    let repository = repo(&host, "config/app");
    let image = sample_image(16, 1000);
    push_image(&client, &repository, &image, "v1").await;
    assert_eq!(
        client
            .resolve(&repository.tagged("v1").unwrap())
            .await
            .unwrap()
            .digest,
        image.index.digest
    );
}

#[tokio::test]
async fn a_mount_token_covers_the_source_repository() {
    let Some(registry) = start(RegistryOptions::token(token_options())) else {
        return;
    };
    let host = registry.host();
    let client = client(with_credentials(
        &host,
        Credentials::basic("alice", "wonderland"),
    ));
    let source = repo(&host, "mount/source");
    let target = repo(&host, "mount/target");
    let blob = Blob::new(bytes_of(17, 5000));
    client
        .push_blob(
            &source,
            &blob.digest,
            blob.size(),
            &BytesSource(blob.bytes.clone()),
            &PushBlobOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        client
            .mount_blob(&target, &blob.digest, &source)
            .await
            .unwrap()
    );
    assert_eq!(
        client.blob_exists(&target, &blob.digest).await.unwrap(),
        Some(blob.size())
    );
}
