//! Documents: parsing, raw bytes, media-type equivalence, refusals, GC labels.

use hoist_content::{Digest, LocalStore};
use hoist_image::media_type as mt;
use hoist_image::{
    Descriptor, Document, ErrorKind, MAX_DOCUMENT_SIZE, read_document, write_document,
};
use serde_json::json;

use crate::fixture::{Spec, TestStore, build};
use crate::recording::RecordingStore;

fn descriptor_of(bytes: &[u8], media_type: &str) -> Descriptor {
    Descriptor::new(media_type, Digest::sha256_of(bytes), bytes.len() as u64)
}

#[test]
fn oci_and_docker_documents_parse_to_the_same_shape() {
    for docker in [false, true] {
        let t = TestStore::new();
        let spec = Spec::new(&["linux/amd64", "linux/arm64"]);
        let built = build(&t.store, &if docker { spec.docker() } else { spec });
        let index = read_document(&t.store, &built.index).unwrap();
        let Document::Index(parsed) = &index else {
            panic!("an index was expected");
        };
        assert_eq!(parsed.manifests().len(), 2);
        assert_eq!(index.raw(), built.index_bytes.as_slice());
        assert_eq!(index.digest(), &built.index.digest);
        let amd64 = built.platform("linux/amd64");
        let manifest = read_document(&t.store, &amd64.entry).unwrap();
        let manifest = manifest.as_manifest().expect("a manifest");
        assert_eq!(manifest.config(), &amd64.config);
        assert_eq!(manifest.layers(), amd64.layers.as_slice());
        assert!(manifest.is_image());
        assert_eq!(
            manifest.descriptor().media_type,
            if docker {
                mt::DOCKER_MANIFEST
            } else {
                mt::OCI_MANIFEST
            }
        );
        // The oci-spec typed view is available too.
        assert_eq!(manifest.oci().layers().len(), 2);
    }
}

#[test]
fn raw_bytes_are_kept_and_unknown_fields_survive() {
    let raw = br#"{ "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "x-extension": {"b": 1, "a": 2},
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
          "digest": "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b", "size": 10,
          "platform": {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.1"},
          "x-entry": true}] }"#
        .to_vec();
    let document = Document::from_bytes(raw.clone(), None).unwrap();
    assert_eq!(document.raw(), raw.as_slice());
    assert_eq!(document.digest(), &Digest::sha256_of(&raw));
    let index = document.as_index().unwrap();
    let entry = &index.manifests()[0];
    assert_eq!(
        entry.platform.as_ref().unwrap().os_version.as_deref(),
        Some("10.0.20348.1")
    );
    assert_eq!(entry.extra["x-entry"], json!(true));
}

#[test]
fn schema1_is_refused_with_a_clear_message() {
    let raw = br#"{"schemaVersion":1,"name":"library/app","tag":"1","fsLayers":[],"history":[]}"#
        .to_vec();
    let descriptor = descriptor_of(&raw, mt::DOCKER_SCHEMA1_SIGNED_MANIFEST);
    let error = Document::parse(raw, &descriptor).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    assert_eq!(
        error.to_string(),
        format!(
            "manifest {} is a Docker schema 1 manifest, which hoist does not read; convert the image to \
             schema 2 or OCI (e.g. `skopeo copy --format v2s2`) or rebuild it",
            descriptor.digest
        )
    );
    // Even when the descriptor does not say so.
    let raw = br#"{"schemaVersion":1,"fsLayers":[]}"#.to_vec();
    assert!(
        Document::from_bytes(raw, None)
            .unwrap_err()
            .is_unsupported()
    );
}

#[test]
fn documents_over_4_mib_are_refused() {
    let mut raw = br#"{"schemaVersion":2,"manifests":[],"annotations":{"pad":""#.to_vec();
    raw.resize(MAX_DOCUMENT_SIZE as usize + 1 - 3, b'x');
    raw.extend_from_slice(br#""}}"#);
    assert_eq!(raw.len() as u64, MAX_DOCUMENT_SIZE + 1);
    let digest = Digest::sha256_of(&raw);
    let error = Document::from_bytes(raw, None).unwrap_err();
    assert!(error.is_unsupported());
    assert_eq!(
        error.to_string(),
        format!(
            "document {digest} is 4194305 bytes, over the 4 MiB limit for manifests and indexes"
        )
    );
    // Refused from the store before reading, too.
    let t = TestStore::new();
    let descriptor = Descriptor::new(mt::OCI_MANIFEST, digest, MAX_DOCUMENT_SIZE + 1);
    assert!(
        read_document(&t.store, &descriptor)
            .unwrap_err()
            .is_unsupported()
    );
}

#[test]
fn a_document_must_match_its_descriptor() {
    let raw = br#"{"schemaVersion":2,"manifests":[]}"#.to_vec();
    let mut descriptor = descriptor_of(&raw, mt::OCI_INDEX);
    descriptor.size += 1;
    let error = Document::parse(raw.clone(), &descriptor).unwrap_err();
    assert!(error.is_data_loss());
    let descriptor = Descriptor::new(mt::OCI_INDEX, Digest::sha256_of(b"other"), raw.len() as u64);
    let error = Document::parse(raw.clone(), &descriptor).unwrap_err();
    assert!(error.is_data_loss());
    assert!(
        error.to_string().contains("has the wrong content"),
        "{error}"
    );
    // Declared an index, but the body is a manifest.
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","digest":"sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b","size":1},"layers":[]}"#.to_vec();
    let error =
        Document::parse(manifest.clone(), &descriptor_of(&manifest, mt::OCI_INDEX)).unwrap_err();
    assert!(error.is_invalid_argument());
    assert!(
        error
            .to_string()
            .ends_with("says it is a manifest but was described as an index"),
        "{error}"
    );
}

#[test]
fn garbage_is_invalid_not_a_panic() {
    for raw in [
        &b"not json"[..],
        b"[1,2]",
        b"{}",
        b"{\"schemaVersion\":3}",
        b"{\"schemaVersion\":2}",
    ] {
        let error = Document::from_bytes(raw.to_vec(), None).unwrap_err();
        assert!(error.is_invalid_argument(), "{error}");
    }
    let bad_digest =
        br#"{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:zz","size":1}]}"#;
    assert!(
        Document::from_bytes(bad_digest.to_vec(), None)
            .unwrap_err()
            .is_invalid_argument()
    );
}

#[test]
fn artifacts_and_attestations_are_manifests_that_are_not_images() {
    let t = TestStore::new();
    let built = build(&t.store, &Spec::new(&["linux/amd64"]).attestations());
    let attestation = built.platforms[0].attestation.clone().unwrap();
    let document = read_document(&t.store, &attestation.entry).unwrap();
    let manifest = document.as_manifest().unwrap();
    assert_eq!(manifest.layers()[0].media_type, mt::IN_TOTO);
    assert!(attestation.entry.is_attestation());
    assert_eq!(
        attestation.entry.attestation_subject(),
        Some(built.platforms[0].entry.digest.clone())
    );

    let artifact = json!({
        "schemaVersion": 2,
        "mediaType": mt::OCI_MANIFEST,
        "artifactType": "application/vnd.example.sbom",
        "config": {"mediaType": mt::OCI_EMPTY, "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2},
        "layers": [{"mediaType": "application/spdx+json", "digest": built.shared_layer.digest, "size": 1}],
        "subject": built.platforms[0].entry,
    });
    let document = Document::from_bytes(serde_json::to_vec(&artifact).unwrap(), None).unwrap();
    let manifest = document.as_manifest().unwrap();
    assert!(!manifest.is_image());
    assert_eq!(
        manifest.artifact_type(),
        Some("application/vnd.example.sbom")
    );
    assert_eq!(
        manifest.subject().map(|s| &s.digest),
        Some(&built.platforms[0].entry.digest)
    );

    let draft = json!({"schemaVersion": 2, "mediaType": mt::OCI_ARTIFACT_MANIFEST, "blobs": []});
    let error = Document::from_bytes(serde_json::to_vec(&draft).unwrap(), None).unwrap_err();
    assert!(error.is_unsupported());
}

#[test]
fn writing_documents_sets_gc_ref_labels() {
    let dir = tempfile::tempdir().unwrap();
    let store = RecordingStore::new(LocalStore::open(dir.path()).unwrap());
    let built = build(&store, &Spec::new(&["linux/amd64", "linux/arm64"]));
    let amd64 = built.platform("linux/amd64");
    let labels = store.labels_of(&amd64.entry.digest);
    let expected: Vec<(String, String)> = vec![
        (
            "containerd.io/gc.ref.content.config".into(),
            amd64.config.digest.to_string(),
        ),
        (
            "containerd.io/gc.ref.content.l.0".into(),
            amd64.layers[0].digest.to_string(),
        ),
        (
            "containerd.io/gc.ref.content.l.1".into(),
            amd64.layers[1].digest.to_string(),
        ),
    ];
    assert_eq!(labels.into_iter().collect::<Vec<_>>(), expected);
    let labels = store.labels_of(&built.index.digest);
    let expected: Vec<(String, String)> = vec![
        (
            "containerd.io/gc.ref.content.m.0".into(),
            built.platforms[0].entry.digest.to_string(),
        ),
        (
            "containerd.io/gc.ref.content.m.1".into(),
            built.platforms[1].entry.digest.to_string(),
        ),
    ];
    assert_eq!(labels.into_iter().collect::<Vec<_>>(), expected);
    // Layers and configs carry none.
    assert!(store.labels_of(&amd64.config.digest).is_empty());

    // write_document stores byte for byte and refuses what is not a document.
    let document = write_document(&store, built.index_bytes.clone(), mt::OCI_INDEX).unwrap();
    assert_eq!(document.digest(), &built.index.digest);
    assert!(
        write_document(&store, b"{}".to_vec(), mt::OCI_INDEX)
            .unwrap_err()
            .is_invalid_argument()
    );
}
