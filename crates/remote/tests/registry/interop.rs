//! Interop with skopeo at the registry level: what skopeo pushes, this
//! client reads byte for byte; what this client pushes, skopeo reads and
//! copies with digests preserved.

use std::path::Path;
use std::process::Command;

use bytes::Bytes;
use hoist_content::Digest;
use hoist_remote::{BytesSource, ManifestTarget, PushBlobOptions};
use hoist_testkit::{Fixture, FixtureSpec, RegistryOptions, require_tool};

use crate::support::*;

fn skopeo(skopeo: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new(skopeo)
        .arg("--insecure-policy")
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn fixture() -> Fixture {
    Fixture::generate(&FixtureSpec::four_platforms(40, 300_000, 20_000)).unwrap()
}

#[tokio::test]
async fn what_skopeo_pushes_this_client_reads_byte_exact() {
    let Some(skopeo_path) = require_tool("skopeo").unwrap() else {
        return;
    };
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let fixture = fixture();
    let layout = tempfile::tempdir().unwrap();
    fixture.write_oci_layout(layout.path(), "v1").unwrap();
    let source = format!("oci:{}:v1", layout.path().display());
    let destination = format!("docker://{}/interop/from-skopeo:v1", registry.host());
    skopeo(
        &skopeo_path,
        &[
            "copy",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
            &source,
            &destination,
        ],
    );

    let client = client(fast_options());
    let repository = repo(&registry.host(), "interop/from-skopeo");
    let index = client
        .get_manifest(&repository.tagged("v1").unwrap())
        .await
        .unwrap();
    assert_eq!(index.bytes, Bytes::from(fixture.index.bytes.clone()));
    for image in &fixture.images {
        let digest: Digest = image.manifest.digest.parse().unwrap();
        let manifest = client.fetch_manifest(&repository, &digest).await.unwrap();
        assert_eq!(manifest.bytes.as_ref(), image.manifest.bytes.as_slice());
        for blob in image.layers.iter().chain([&image.config]) {
            let digest: Digest = blob.digest.parse().unwrap();
            let mut stream = client.fetch_blob(&repository, &digest, 0).await.unwrap();
            assert_eq!(
                Digest::sha256_of(&read_all(&mut stream).await.unwrap()),
                digest
            );
        }
    }
}

#[tokio::test]
async fn what_this_client_pushes_skopeo_reads_and_copies() {
    let Some(skopeo_path) = require_tool("skopeo").unwrap() else {
        return;
    };
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let fixture = fixture();
    let client = client(fast_options());
    let repository = repo(&registry.host(), "interop/from-hoist");
    for blob in fixture.blobs() {
        let digest: Digest = blob.digest.parse().unwrap();
        if blob.media_type.contains("manifest") || blob.media_type.contains("index") {
            continue;
        }
        client
            .push_blob(
                &repository,
                &digest,
                blob.size(),
                &BytesSource(blob.bytes.clone().into()),
                &PushBlobOptions::default(),
            )
            .await
            .unwrap();
    }
    for image in &fixture.images {
        client
            .put_manifest(
                &repository,
                ManifestTarget::Digest,
                &image.manifest.media_type,
                image.manifest.bytes.clone().into(),
            )
            .await
            .unwrap();
    }
    client
        .put_manifest(
            &repository,
            ManifestTarget::Tag("v1"),
            &fixture.index.media_type,
            fixture.index.bytes.clone().into(),
        )
        .await
        .unwrap();

    let source = format!("docker://{}/interop/from-hoist:v1", registry.host());
    let raw = skopeo(
        &skopeo_path,
        &["inspect", "--raw", "--tls-verify=false", &source],
    );
    assert_eq!(raw, fixture.index.bytes);
    let layout = tempfile::tempdir().unwrap();
    let destination = format!("oci:{}:copied", layout.path().display());
    skopeo(
        &skopeo_path,
        &[
            "copy",
            "--all",
            "--preserve-digests",
            "--src-tls-verify=false",
            &source,
            &destination,
        ],
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["digest"],
        fixture.index.digest.as_str()
    );
}
