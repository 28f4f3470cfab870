//! HTTPS: a private CA from a certs.d directory, skip_verify, insecure
//! hosts, and mirrors from hosts.toml.

use hoist_remote::{ClientOptions, ErrorKind};
use hoist_testkit::RegistryOptions;

use crate::support::*;

fn certs_dir_with(host: &str, files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(host);
    std::fs::create_dir(&dir).unwrap();
    for (name, contents) in files {
        std::fs::write(dir.join(name), contents).unwrap();
    }
    root
}

#[tokio::test]
async fn a_private_ca_from_certs_d_is_trusted() {
    let Some(registry) = start(RegistryOptions::plain().with_tls()) else {
        return;
    };
    let host = registry.host();
    let ca = std::fs::read(registry.ca_cert().unwrap()).unwrap();
    let certs = certs_dir_with(&host, &[("ca.crt", &ca)]);
    let client = client(fast_options().with_hosts_dir(certs.path()));
    let repository = repo(&host, "tls/app");
    let image = sample_image(30, 10_000);
    push_image(&client, &repository, &image, "v1").await;
    let mut stream = client
        .fetch_blob(&repository, &image.layer.digest, 0)
        .await
        .unwrap();
    assert_eq!(read_all(&mut stream).await.unwrap(), image.layer.bytes);
}

#[tokio::test]
async fn an_unknown_ca_is_refused_with_the_reason() {
    let Some(registry) = start(RegistryOptions::plain().with_tls()) else {
        return;
    };
    let client = client(fast_options());
    let error = client
        .resolve(&repo(&registry.host(), "tls/app").tagged("v1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
    let text = error.to_string_with_causes().to_lowercase();
    assert!(
        text.contains("certificate") || text.contains("issuer"),
        "{error}"
    );
}

#[tokio::test]
async fn skip_verify_and_insecure_hosts_accept_any_certificate() {
    let Some(registry) = start(RegistryOptions::plain().with_tls()) else {
        return;
    };
    let host = registry.host();
    let certs = certs_dir_with(&host, &[("hosts.toml", b"skip_verify = true\n")]);
    let via_toml = client(fast_options().with_hosts_dir(certs.path()));
    let reference = repo(&host, "tls/app").tagged("v1").unwrap();
    assert!(
        via_toml
            .resolve(&reference)
            .await
            .unwrap_err()
            .is_not_found()
    );
    let via_option = client(fast_options().with_insecure(host.clone()));
    assert!(
        via_option
            .resolve(&reference)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn pulls_go_through_a_mirror_from_hosts_toml() {
    let Some(mirror) = start(RegistryOptions::plain()) else {
        return;
    };
    // The mirror holds the image under the same repository name.
    let image = sample_image(31, 10_000);
    push_image(
        &client(fast_options()),
        &repo(&mirror.host(), "team/app"),
        &image,
        "v1",
    )
    .await;
    // The registry itself does not exist; only its mirror answers.
    let upstream = "registry.invalid:5000";
    let toml = format!(
        "server = \"https://{upstream}\"\n[host.\"http://{}\"]\n  capabilities = [\"pull\", \"resolve\"]\n",
        mirror.host()
    );
    let certs = certs_dir_with(upstream, &[("hosts.toml", toml.as_bytes())]);
    let client = client(ClientOptions {
        hosts_dir: Some(certs.path().to_owned()),
        ..fast_options()
    });
    let repository = repo(upstream, "team/app");
    let fetched = client
        .get_manifest(&repository.tagged("v1").unwrap())
        .await
        .unwrap();
    assert_eq!(fetched.bytes, image.index.bytes);
    let mut stream = client
        .fetch_blob(&repository, &image.layer.digest, 0)
        .await
        .unwrap();
    assert_eq!(read_all(&mut stream).await.unwrap(), image.layer.bytes);
}

#[tokio::test]
async fn client_certificates_from_certs_d_are_presented() {
    let Some(registry) = start(RegistryOptions::plain().with_client_certs()) else {
        return;
    };
    let host = registry.host();
    let ca = std::fs::read(registry.ca_cert().unwrap()).unwrap();
    let (cert, key) = registry.client_cert().unwrap();
    let reference = repo(&host, "mtls/app").tagged("v1").unwrap();

    let without = certs_dir_with(&host, &[("ca.crt", &ca)]);
    let error = client(fast_options().with_hosts_dir(without.path()))
        .resolve(&reference)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");

    // Docker's layout: client.cert + client.key beside the CA.
    let docker_style = certs_dir_with(
        &host,
        &[
            ("ca.crt", &ca),
            ("client.cert", &std::fs::read(cert).unwrap()),
            ("client.key", &std::fs::read(key).unwrap()),
        ],
    );
    let error = client(fast_options().with_hosts_dir(docker_style.path()))
        .resolve(&reference)
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "the handshake should pass: {error}");

    // containerd's layout: named in hosts.toml.
    let toml = format!(
        "server = \"https://{host}\"\nca = \"{}\"\nclient = [[\"{}\", \"{}\"]]\n",
        registry.ca_cert().unwrap().display(),
        cert.display(),
        key.display()
    );
    let containerd_style = certs_dir_with(&host, &[("hosts.toml", toml.as_bytes())]);
    let error = client(fast_options().with_hosts_dir(containerd_style.path()))
        .resolve(&reference)
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "the handshake should pass: {error}");
}
