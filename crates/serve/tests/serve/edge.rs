//! TLS and basic auth in front of the registry, checked by real clients
//! (skopeo verifying the certificate against a test CA, hoist trusting it
//! through a certs.d folder) and by raw requests for the refusals.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hoist::content::Digest;
use hoist::{CredentialsSource, Platforms, PullOptions, Store, StoreOptions};
use hoist_serve::{ServeOptions, ServerHandle, TlsFiles};
use hoist_testkit::ServerCertificates;

use crate::support::{fixture, load, request, run, store};

fn tool(name: &str) -> Option<PathBuf> {
    hoist_testkit::require_tool(name).unwrap()
}

/// A test CA and a server certificate for 127.0.0.1, or `None` (after a
/// loud line) without openssl outside CI.
fn certificates(dir: &Path) -> Option<ServerCertificates> {
    tool("openssl")?;
    Some(hoist_testkit::make_server_certificates(dir).unwrap())
}

async fn serve_with(store: &Store, options: ServeOptions) -> ServerHandle {
    hoist_serve::serve(
        store.clone(),
        options.listen("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap()
}

fn htpasswd(dir: &Path, user: &str, password: &str) -> PathBuf {
    let path = dir.join("htpasswd");
    let hash = bcrypt::hash(password, 5).unwrap();
    std::fs::write(&path, format!("{user}:{hash}\n")).unwrap();
    path
}

/// What `skopeo copy --all` made of the index: its digest.
fn copied_index_digest(copy: &Path) -> String {
    let index = std::fs::read(copy.join("manifest.json")).unwrap();
    Digest::sha256_of(&index).as_str().to_owned()
}

fn skopeo_copy(skopeo: &Path, source: &str, destination: &Path, extra: &[&str]) -> bool {
    let destination = format!("dir:{}", destination.display());
    let mut args = vec!["copy", "--all", "--retry-times", "0"];
    args.extend(extra);
    args.extend([source, destination.as_str()]);
    std::process::Command::new(skopeo)
        .args(&args)
        .output()
        .unwrap()
        .status
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_skopeo_and_hoist_verify_the_certificate_against_the_ca() {
    let Some(skopeo) = tool("skopeo") else { return };
    let pki = tempfile::tempdir().unwrap();
    let Some(certs) = certificates(pki.path()) else {
        return;
    };
    let (_dir, served) = store();
    let fixture = fixture(31, 64 * 1024);
    load(&served, &fixture, "registry.example/team/app:1");
    let server = serve_with(
        &served,
        ServeOptions::default().tls(TlsFiles::new(&certs.server_cert, &certs.server_key)),
    )
    .await;
    let host = server.local_addr().to_string();

    // skopeo: the CA as its cert dir, verification on (its default).
    let ca_dir = tempfile::tempdir().unwrap();
    std::fs::copy(&certs.ca_cert, ca_dir.path().join("ca.crt")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let source = format!("docker://{host}/team/app:1");
    let (skopeo_in, source_in, ca_in, copy) = (
        skopeo.clone(),
        source.clone(),
        ca_dir.path().display().to_string(),
        out.path().join("copy"),
    );
    let copy_in = copy.clone();
    tokio::task::spawn_blocking(move || {
        run(
            &skopeo_in,
            &[
                "copy",
                "--all",
                "--src-cert-dir",
                &ca_in,
                &source_in,
                &format!("dir:{}", copy_in.display()),
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(copied_index_digest(&copy), fixture.index.digest);

    // Without the CA, skopeo refuses the certificate.
    let refused = out.path().join("refused");
    let refused_in = refused.clone();
    let verified =
        tokio::task::spawn_blocking(move || skopeo_copy(&skopeo, &source, &refused_in, &[]))
            .await
            .unwrap();
    assert!(
        !verified,
        "skopeo accepted a certificate no trusted CA signed"
    );

    // hoist: the CA in a certs.d folder for this host.
    let hosts = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(hosts.path().join(&host)).unwrap();
    std::fs::copy(&certs.ca_cert, hosts.path().join(&host).join("ca.crt")).unwrap();
    let puller_dir = tempfile::tempdir().unwrap();
    let puller = Store::open(
        puller_dir.path().join("root"),
        StoreOptions::default()
            .credentials(CredentialsSource::Anonymous)
            .hosts_dir(hosts.path()),
    )
    .unwrap();
    let reference = format!("{host}/team/app:1");
    let report = puller
        .pull(
            &reference,
            &PullOptions::new(Platforms::All),
            Arc::new(hoist::NoProgress),
        )
        .await
        .unwrap();
    assert_eq!(report.target.digest.as_str(), fixture.index.digest);
    assert!(
        puller
            .check(&report.name, &Platforms::All)
            .unwrap()
            .is_complete()
    );

    // A plain-HTTP request to the TLS port gets no HTTP answer.
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut raw).await;
    assert!(!raw.starts_with(b"HTTP/1.1 200"), "plain HTTP was served");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_lets_in_only_listed_users() {
    let (_dir, served) = store();
    let fixture = fixture(32, 64 * 1024);
    load(&served, &fixture, "registry.example/team/app:1");
    let files = tempfile::tempdir().unwrap();
    let htpasswd = htpasswd(files.path(), "alice", "s3cret");
    let server = serve_with(&served, ServeOptions::default().htpasswd(&htpasswd)).await;

    let basic = |user: &str, password: &str| {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    let manifest = "/v2/team/app/manifests/1";
    for (what, headers) in [
        ("no credentials", vec![]),
        ("a wrong password", vec![basic("alice", "wrong")]),
        ("an unknown user", vec![basic("bob", "s3cret")]),
        ("not Basic", vec!["Bearer abc".to_owned()]),
    ] {
        for target in ["/v2/", manifest] {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|h| ("Authorization", h.as_str()))
                .collect();
            let answer = request(&server, "GET", target, &headers).await;
            assert_eq!(answer.status, 401, "{what} on {target}");
            assert_eq!(
                answer.header("www-authenticate"),
                Some("Basic realm=\"hoist\""),
                "{what}"
            );
            assert_eq!(answer.error_code(), "UNAUTHORIZED", "{what}");
        }
    }
    let right = basic("alice", "s3cret");
    let answer = request(&server, "GET", manifest, &[("Authorization", &right)]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("docker-content-digest"),
        Some(fixture.index.digest.as_str())
    );

    if let Some(skopeo) = tool("skopeo") {
        let source = format!("docker://{}/team/app:1", server.local_addr());
        let out = tempfile::tempdir().unwrap();
        let root = out.path().to_owned();
        let (copied, wrong, anonymous) = tokio::task::spawn_blocking(move || {
            let plain = "--src-tls-verify=false";
            (
                skopeo_copy(
                    &skopeo,
                    &source,
                    &root.join("copy"),
                    &[plain, "--src-creds", "alice:s3cret"],
                ),
                skopeo_copy(
                    &skopeo,
                    &source,
                    &root.join("wrong"),
                    &[plain, "--src-creds", "alice:nope"],
                ),
                skopeo_copy(&skopeo, &source, &root.join("anonymous"), &[plain]),
            )
        })
        .await
        .unwrap();
        assert!(copied, "skopeo with the right credentials failed");
        assert!(!wrong, "skopeo with a wrong password copied");
        assert!(!anonymous, "skopeo without credentials copied");
        assert_eq!(
            copied_index_digest(&out.path().join("copy")),
            fixture.index.digest
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn basic_auth_in_clear_text_off_loopback_is_refused() {
    let (_dir, served) = store();
    let files = tempfile::tempdir().unwrap();
    let htpasswd = htpasswd(files.path(), "alice", "s3cret");
    let error = hoist_serve::serve(
        served.clone(),
        ServeOptions::default()
            .listen("0.0.0.0:0".parse().unwrap())
            .htpasswd(&htpasswd),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), hoist_serve::ErrorKind::InvalidArgument);
    assert!(error.to_string().contains("clear text"), "{error}");

    // A bad htpasswd file is named, and nothing listens.
    std::fs::write(&htpasswd, "alice:plain\n").unwrap();
    let error = hoist_serve::serve(
        served,
        ServeOptions::default()
            .listen("127.0.0.1:0".parse().unwrap())
            .htpasswd(&htpasswd),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), hoist_serve::ErrorKind::InvalidArgument);
    assert!(
        error.to_string().contains(&htpasswd.display().to_string()),
        "{error}"
    );
}

#[tokio::test]
async fn a_key_that_does_not_match_the_certificate_is_refused() {
    let pki = tempfile::tempdir().unwrap();
    let Some(certs) = certificates(pki.path()) else {
        return;
    };
    let (_dir, served) = store();
    let error = hoist_serve::serve(
        served,
        ServeOptions::default()
            .listen("127.0.0.1:0".parse().unwrap())
            .tls(TlsFiles::new(&certs.server_cert, &certs.client_key)),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), hoist_serve::ErrorKind::InvalidArgument);
    assert!(
        error
            .to_string()
            .contains(&certs.client_key.display().to_string()),
        "{error}"
    );
}

#[tokio::test]
async fn a_client_that_never_finishes_the_handshake_is_cut_off() {
    let pki = tempfile::tempdir().unwrap();
    let Some(certs) = certificates(pki.path()) else {
        return;
    };
    let (_dir, served) = store();
    let mut options =
        ServeOptions::default().tls(TlsFiles::new(&certs.server_cert, &certs.server_key));
    options.header_read_timeout = std::time::Duration::from_millis(200);
    let server = serve_with(&served, options).await;
    // Connected, silent: the server closes the connection (read sees the
    // end) rather than keep the slot forever.
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        tokio::io::AsyncReadExt::read(&mut stream, &mut byte),
    )
    .await
    .expect("the silent connection was never closed");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    server.shutdown().await;
}
