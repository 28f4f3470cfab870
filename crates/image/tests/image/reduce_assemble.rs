//! Reduce and assemble.

use std::collections::BTreeMap;

use hoist_content::{Digest, LocalStore};
use hoist_image::media_type as mt;
use hoist_image::{
    AssembleOptions, Detail, Document, EntryKind, ErrorKind, Image, ReduceOptions, assemble,
    read_document, reduce,
};
use hoist_platform::{all, any, only, only_strict, parse};

use crate::fixture::{Spec, TestStore, build, put_document};
use crate::recording::RecordingStore;

fn platforms(list: &[&str]) -> Vec<hoist_platform::Platform> {
    list.iter().map(|p| parse(p).unwrap()).collect()
}

#[test]
fn reduce_keeps_matching_platforms_their_attestations_and_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let store = RecordingStore::new(LocalStore::open(dir.path()).unwrap());
    let built = build(
        &store,
        &Spec::new(&["linux/amd64", "linux/arm64", "linux/s390x"]).attestations(),
    );
    let matcher = any(platforms(&["linux/amd64", "linux/s390x"]));
    let reduced = reduce(&store, &built.image(), &matcher, &ReduceOptions::default()).unwrap();
    assert!(reduced.written);
    assert_eq!(reduced.name, None);
    assert_ne!(reduced.target.digest, built.index.digest);
    assert_eq!(reduced.target.media_type, mt::OCI_INDEX);
    let amd64 = built.platform("linux/amd64");
    let s390x = built.platform("linux/s390x");
    let kept: Vec<&Digest> = reduced.kept.iter().map(|e| &e.descriptor.digest).collect();
    assert_eq!(kept, vec![&amd64.entry.digest, &s390x.entry.digest]);
    assert_eq!(reduced.attestations.len(), 2);

    let document = read_document(&store, &reduced.target).unwrap();
    let index = document.as_index().unwrap();
    let listed: Vec<Digest> = index.manifests().iter().map(|d| d.digest.clone()).collect();
    assert_eq!(
        listed,
        vec![
            amd64.entry.digest.clone(),
            s390x.entry.digest.clone(),
            amd64.attestation.as_ref().unwrap().entry.digest.clone(),
            s390x.attestation.as_ref().unwrap().entry.digest.clone(),
        ]
    );
    // Entries are copied whole: platform and annotations.
    assert_eq!(index.manifests()[0], amd64.entry);
    assert_eq!(
        index.manifests()[2],
        amd64.attestation.as_ref().unwrap().entry
    );
    assert_eq!(
        index
            .annotations()
            .get("org.opencontainers.image.created")
            .map(String::as_str),
        Some("2024-01-01T00:00:00Z")
    );
    // Serialized once, with sorted keys, and labelled for GC.
    assert_eq!(
        document.raw(),
        hoist_image::canonical_json(&serde_json::from_slice(document.raw()).unwrap())
    );
    let labels = store.labels_of(&reduced.target.digest);
    assert_eq!(labels.len(), 4);
    assert_eq!(
        labels["containerd.io/gc.ref.content.m.1"],
        s390x.entry.digest.to_string()
    );

    // Deterministic: the same reduction gives the same digest.
    let again = reduce(&store, &built.image(), &matcher, &ReduceOptions::default()).unwrap();
    assert_eq!(again.target, reduced.target);
}

#[test]
fn reducing_to_every_platform_returns_the_original() {
    let t = TestStore::new();
    let built = build(
        &t.store,
        &Spec::new(&["linux/amd64", "linux/arm64"]).attestations(),
    );
    let reduced = reduce(&t.store, &built.image(), &all(), &ReduceOptions::default()).unwrap();
    assert_eq!(reduced.target, built.index);
    assert!(!reduced.written);
}

#[test]
fn reduce_to_one_platform_keeps_an_index_unless_a_bare_manifest_is_asked() {
    let t = TestStore::new();
    let built = build(
        &t.store,
        &Spec::new(&["linux/amd64", "linux/arm64"]).attestations(),
    );
    let matcher = only_strict(parse("linux/arm64").unwrap());
    let reduced = reduce(
        &t.store,
        &built.image(),
        &matcher,
        &ReduceOptions::default(),
    )
    .unwrap();
    let document = read_document(&t.store, &reduced.target).unwrap();
    assert_eq!(
        document.as_index().unwrap().manifests().len(),
        2,
        "one platform and its attestation"
    );

    let options = ReduceOptions {
        bare_manifest: true,
        name: Some("example.com/app:arm64".into()),
    };
    let bare = reduce(&t.store, &built.image(), &matcher, &options).unwrap();
    assert_eq!(
        bare.target.digest,
        built.platform("linux/arm64").entry.digest
    );
    assert!(!bare.written);
    assert_eq!(bare.name.as_deref(), Some("example.com/app:arm64"));
    assert_eq!(bare.dropped_attestations.len(), 1);

    let error = reduce(&t.store, &built.image(), &all(), &options).unwrap_err();
    assert!(error.is_invalid_argument());
    assert_eq!(
        error.to_string(),
        "a bare manifest needs exactly one platform, but all platforms selects 2 in example.com/app:1.0: linux/amd64, linux/arm64"
    );
}

#[test]
fn reduce_fails_listing_missing_blobs_by_platform() {
    let t = TestStore::new();
    let built = build(
        &t.store,
        &Spec::new(&["linux/amd64", "linux/arm64", "linux/s390x"]),
    );
    let arm64 = built.platform("linux/arm64");
    let s390x = built.platform("linux/s390x");
    t.delete(&arm64.own_layer().digest);
    t.delete(&s390x.entry.digest);
    let matcher = any(platforms(&["linux/arm64", "linux/s390x"]));
    let error = reduce(
        &t.store,
        &built.image(),
        &matcher,
        &ReduceOptions::default(),
    )
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FailedPrecondition);
    assert_eq!(
        error.to_string(),
        format!(
            "cannot reduce example.com/app:1.0 to linux/arm64, linux/s390x: blobs missing locally: \
             linux/arm64 (manifest {}): {}; linux/s390x (manifest {}): {}",
            arm64.entry.digest,
            arm64.own_layer().digest,
            s390x.entry.digest,
            s390x.entry.digest
        )
    );
    let missing = error.missing_blobs().unwrap();
    assert_eq!(missing.len(), 2);
    assert_eq!(missing[0].owner, "linux/arm64");
    // The complete platform alone still reduces.
    let reduced = reduce(
        &t.store,
        &built.image(),
        &only_strict(parse("linux/amd64").unwrap()),
        &ReduceOptions::default(),
    );
    assert!(reduced.is_ok());
}

#[test]
fn reduce_fails_when_nothing_matches() {
    let t = TestStore::new();
    let built = build(&t.store, &Spec::new(&["linux/amd64"]).attestations());
    let error = reduce(
        &t.store,
        &built.image(),
        &only(parse("windows/amd64").unwrap()),
        &ReduceOptions::default(),
    )
    .unwrap_err();
    assert!(error.is_not_found());
    assert_eq!(
        error.to_string(),
        format!(
            "no manifest for windows/amd64 in example.com/app:1.0 (index {}); available: linux/amd64",
            built.index.digest
        )
    );
}

#[test]
fn reduce_drops_attestations_that_are_incomplete() {
    let t = TestStore::new();
    let built = build(
        &t.store,
        &Spec::new(&["linux/amd64", "linux/arm64"]).attestations(),
    );
    let amd64 = built.platform("linux/amd64");
    t.delete(&amd64.attestation.as_ref().unwrap().statement.digest);
    let reduced = reduce(
        &t.store,
        &built.image(),
        &only_strict(parse("linux/amd64").unwrap()),
        &ReduceOptions::default(),
    )
    .unwrap();
    assert!(reduced.attestations.is_empty());
    assert_eq!(reduced.dropped_attestations.len(), 1);
    let document = read_document(&t.store, &reduced.target).unwrap();
    assert_eq!(
        document.as_index().unwrap().manifests(),
        std::slice::from_ref(&amd64.entry)
    );
}

#[test]
fn reduce_keeps_a_docker_manifest_list_a_docker_manifest_list() {
    let t = TestStore::new();
    let built = build(
        &t.store,
        &Spec::new(&["linux/amd64", "linux/arm64"]).docker(),
    );
    let reduced = reduce(
        &t.store,
        &built.image(),
        &only_strict(parse("linux/amd64").unwrap()),
        &ReduceOptions::default(),
    )
    .unwrap();
    assert_eq!(reduced.target.media_type, mt::DOCKER_MANIFEST_LIST);
    let document = read_document(&t.store, &reduced.target).unwrap();
    assert!(matches!(document, Document::Index(_)));
}

#[test]
fn a_lone_manifest_reduces_to_itself() {
    let t = TestStore::new();
    let built = build(&t.store, &Spec::new(&["linux/amd64"]));
    let image = built.platforms[0].image("x:1");
    let reduced = reduce(
        &t.store,
        &image,
        &only(parse("linux/amd64").unwrap()),
        &ReduceOptions::default(),
    )
    .unwrap();
    assert_eq!(reduced.target, image.target);
    assert!(
        reduce(
            &t.store,
            &image,
            &only(parse("linux/arm64").unwrap()),
            &ReduceOptions::default()
        )
        .is_err()
    );
}

fn arch_image(
    t: &TestStore,
    platform: &'static str,
    flavor: &'static str,
) -> (Image, crate::fixture::Built) {
    let built = build(&t.store, &Spec::new(&[platform]).flavor(flavor));
    (
        built.platforms[0].image(&format!(
            "ci.example.com/app:{}",
            platform.replace('/', "-")
        )),
        built,
    )
}

#[test]
fn assemble_builds_one_index_from_per_platform_images() {
    let dir = tempfile::tempdir().unwrap();
    let store = RecordingStore::new(LocalStore::open(dir.path()).unwrap());
    let amd64 = build(&store, &Spec::new(&["linux/amd64"]));
    let arm64 = build(&store, &Spec::new(&["linux/arm64"]).attestations());
    let sources = [amd64.platforms[0].image("ci/app:amd64"), arm64.image()];
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "org.opencontainers.image.revision".to_string(),
        "abc123".to_string(),
    );
    let options = AssembleOptions {
        annotations,
        name: Some("ci/app:1.0".into()),
        ..AssembleOptions::default()
    };
    let assembled = assemble(&store, &sources, &options).unwrap();
    assert_eq!(assembled.name.as_deref(), Some("ci/app:1.0"));
    assert_eq!(assembled.target.media_type, mt::OCI_INDEX);
    let kinds: Vec<String> = assembled
        .entries
        .iter()
        .map(|e| e.kind.to_string())
        .collect();
    assert_eq!(kinds, ["linux/amd64", "linux/arm64", "attestation"]);
    let document = read_document(&store, &assembled.target).unwrap();
    let index = document.as_index().unwrap();
    assert_eq!(
        index.manifests()[0].platform,
        Some(parse("linux/amd64").unwrap())
    );
    assert_eq!(index.manifests()[0].digest, amd64.platforms[0].entry.digest);
    assert_eq!(
        index.manifests()[2],
        arm64.platforms[0].attestation.as_ref().unwrap().entry
    );
    assert_eq!(
        index.annotations()["org.opencontainers.image.revision"],
        "abc123"
    );
    assert_eq!(store.labels_of(&assembled.target.digest).len(), 3);
    // Same inputs, same bytes.
    assert_eq!(
        assemble(&store, &sources, &options).unwrap().target,
        assembled.target
    );
}

#[test]
fn assemble_refuses_two_entries_for_one_platform_unless_asked_to_replace() {
    let t = TestStore::new();
    let (first, first_built) = arch_image(&t, "linux/amd64", "first");
    let (second, second_built) = arch_image(&t, "linux/amd64", "second");
    let (arm, _) = arch_image(&t, "linux/arm64", "");
    let sources = [first.clone(), arm.clone(), second.clone()];
    let error = assemble(&t.store, &sources, &AssembleOptions::default()).unwrap_err();
    assert!(error.is_already_exists());
    assert_eq!(
        error.to_string(),
        format!(
            "linux/amd64 is in both ci.example.com/app:linux-amd64 (manifest {}) and ci.example.com/app:linux-amd64 \
             (manifest {}); ask to replace to keep the later one",
            first_built.platforms[0].entry.digest, second_built.platforms[0].entry.digest
        )
    );
    assert!(matches!(
        error.detail(),
        Some(Detail::DuplicatePlatform { .. })
    ));

    let options = AssembleOptions {
        replace: true,
        ..AssembleOptions::default()
    };
    let assembled = assemble(&t.store, &sources, &options).unwrap();
    let digests: Vec<&Digest> = assembled
        .entries
        .iter()
        .map(|e| &e.descriptor.digest)
        .collect();
    assert_eq!(digests, vec![&arm.target.digest, &second.target.digest]);
    assert_eq!(assembled.replaced.len(), 1);
    assert_eq!(assembled.replaced[0].descriptor.digest, first.target.digest);

    // The same manifest twice is no conflict.
    let assembled = assemble(
        &t.store,
        &[first.clone(), first.clone()],
        &AssembleOptions::default(),
    )
    .unwrap();
    assert_eq!(assembled.entries.len(), 1);
}

#[test]
fn assemble_refuses_an_empty_result_and_unknown_platforms() {
    let t = TestStore::new();
    let error = assemble(&t.store, &[], &AssembleOptions::default()).unwrap_err();
    assert!(error.is_failed_precondition());
    assert_eq!(
        error.to_string(),
        "cannot assemble an index from no images: no manifests to list"
    );
    let empty = put_document(
        &t.store,
        mt::OCI_INDEX,
        br#"{"manifests":[],"schemaVersion":2}"#,
    );
    let error = assemble(
        &t.store,
        &[Image::new("e:1", empty)],
        &AssembleOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot assemble an index from e:1: no manifests to list"
    );

    let (image, built) = arch_image(&t, "linux/amd64", "");
    t.delete(&built.platforms[0].config.digest);
    let error = assemble(&t.store, &[image], &AssembleOptions::default()).unwrap_err();
    assert!(error.is_failed_precondition());
    assert!(
        error.to_string().starts_with("cannot tell the platform of"),
        "{error}"
    );
}

#[test]
fn assembling_docker_manifests_gives_a_docker_manifest_list() {
    let t = TestStore::new();
    let amd64 = build(&t.store, &Spec::new(&["linux/amd64"]).docker());
    let arm64 = build(&t.store, &Spec::new(&["linux/arm64"]).docker());
    let sources = [
        amd64.platforms[0].image("a:1"),
        arm64.platforms[0].image("b:1"),
    ];
    let assembled = assemble(&t.store, &sources, &AssembleOptions::default()).unwrap();
    assert_eq!(assembled.target.media_type, mt::DOCKER_MANIFEST_LIST);
    assert!(
        matches!(assembled.entries[1].kind, EntryKind::Platform(ref p) if p.architecture == "arm64")
    );
}

/// An index whose only entry is `inner` (an index), plus one manifest of its own.
fn wrap_in_an_index(
    store: &TestStore,
    inner: &hoist_image::Descriptor,
    extra: &hoist_image::Descriptor,
) -> hoist_image::Descriptor {
    let bytes = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": mt::OCI_INDEX,
        "manifests": [inner, extra],
    }))
    .unwrap();
    put_document(&store.store, mt::OCI_INDEX, &bytes)
}

#[test]
fn reduce_follows_a_nested_index_and_keeps_the_original_when_nothing_is_dropped() {
    let t = TestStore::new();
    let inner = build(
        &t.store,
        &Spec::new(&["linux/amd64", "linux/arm64"]).named("inner"),
    );
    let outer_only = build(
        &t.store,
        &Spec::new(&["linux/s390x"]).named("outer").flavor("outer"),
    );
    let s390x = outer_only.platform("linux/s390x").entry.clone();
    let outer = wrap_in_an_index(&t, &inner.index, &s390x);
    let image = Image::new("nested".to_owned(), outer.clone());

    // Everything kept: the very same document, nested index and all.
    let reduced = reduce(&t.store, &image, &all(), &ReduceOptions::default()).unwrap();
    assert_eq!(reduced.target, outer);
    assert!(!reduced.written);
    assert_eq!(reduced.kept.len(), 3);

    // One platform of the nested index and the outer one: a new, flat index
    // listing just those manifests.
    let matcher = any(platforms(&["linux/arm64", "linux/s390x"]));
    let reduced = reduce(&t.store, &image, &matcher, &ReduceOptions::default()).unwrap();
    assert!(reduced.written);
    let document = read_document(&t.store, &reduced.target).unwrap();
    let listed: Vec<Digest> = document
        .as_index()
        .unwrap()
        .manifests()
        .iter()
        .map(|d| d.digest.clone())
        .collect();
    assert_eq!(
        listed,
        vec![
            inner.platform("linux/arm64").entry.digest.clone(),
            s390x.digest.clone()
        ]
    );
}
