//! HTTPS registries from the command line: a certificate no trusted CA signed
//! is refused with one clear error line and nothing stored; `--insecure-registry`
//! accepts it; `--hosts-dir` trusts the registry's CA from a certs.d folder.

use hoist_testkit::RegistryOptions;

use crate::support::{Env, fixture_archive, platforms, registry};

#[test]
fn https_registries_need_a_trusted_ca_or_an_explicit_insecure_host() {
    let Some(registry) = registry(RegistryOptions::plain().with_tls()) else {
        return;
    };
    let host = registry.host();
    let app = format!("{host}/tls/app:1");
    let env = Env::new();
    let (archive, fixture) = fixture_archive(
        &env,
        "tls.tar",
        &app,
        &platforms(23, &["linux/amd64", "linux/arm64/v8"]),
    );
    env.ok(&["load", "-q", "-i", archive.to_str().unwrap()]);

    // The registry's CA is nobody's: refused, saying so and naming the host.
    let line = env.fails(&["push", "-q", &app, "--all-platforms"], 1);
    assert!(line.contains(&host), "{line}");
    assert!(line.to_lowercase().contains("certificate"), "{line}");

    // Named insecure: the certificate is not checked (the flag is global).
    env.ok(&[
        "--insecure-registry",
        &host,
        "push",
        "-q",
        &app,
        "--all-platforms",
    ]);

    // Another store pulls it: refused without trust, nothing named...
    let other = Env::new();
    let line = other.fails(&["pull", "-q", &app, "--all-platforms"], 1);
    assert!(line.to_lowercase().contains("certificate"), "{line}");
    assert_eq!(other.json(&["images"]).as_array().map(Vec::len), Some(0));

    // ...and trusted through a certs.d folder holding the registry's CA.
    let certs = other.path().join("certs.d");
    let host_dir = certs.join(&host);
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::copy(registry.ca_cert().unwrap(), host_dir.join("ca.crt")).unwrap();
    other.ok(&[
        "pull",
        "-q",
        &app,
        "--all-platforms",
        "--hosts-dir",
        certs.to_str().unwrap(),
    ]);
    let images = other.json(&["images"]);
    assert_eq!(images[0]["name"], app.as_str());
    assert_eq!(images[0]["digest"], fixture.index.digest);
    assert_eq!(images[0]["platforms_complete"], 2);
}
