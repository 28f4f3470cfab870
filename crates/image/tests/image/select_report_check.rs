//! Platform selection, the platform report, and check.

use hoist_content::Manager;
use hoist_image::media_type as mt;
use hoist_image::{
    Detail, EntryKind, ErrorKind, Image, LocalState, check_all, check_platform, platform_report,
    select_manifest,
};
use hoist_platform::{Platform, all, only, only_strict, parse};

use crate::fixture::{Spec, TestStore, build, put_document};

#[test]
fn selects_the_best_manifest_like_containerd() {
    let t = TestStore::new();
    let built = build(
        &t.store,
        &Spec::new(&["linux/amd64", "linux/arm/v7", "linux/arm64"]).attestations(),
    );
    let image = built.image();
    let chosen = select_manifest(&t.store, &image, &only(parse("linux/arm64").unwrap())).unwrap();
    assert_eq!(
        chosen.descriptor.digest,
        built.platform("linux/arm64").entry.digest
    );
    assert_eq!(
        chosen.kind,
        EntryKind::Platform(parse("linux/arm64").unwrap())
    );
    assert_eq!(chosen.index.as_ref(), Some(&built.index.digest));
    // arm64/v8 is arm64.
    let chosen =
        select_manifest(&t.store, &image, &only(parse("linux/arm64/v8").unwrap())).unwrap();
    assert_eq!(
        chosen.descriptor.digest,
        built.platform("linux/arm64").entry.digest
    );
    // arm/v8 falls back to arm/v7.
    let chosen = select_manifest(&t.store, &image, &only(parse("linux/arm/v8").unwrap())).unwrap();
    assert_eq!(
        chosen.descriptor.digest,
        built.platform("linux/arm/v7").entry.digest
    );
}

#[test]
fn a_missing_platform_names_what_is_available() {
    let t = TestStore::new();
    let built = build(
        &t.store,
        &Spec::new(&["linux/amd64", "linux/s390x"]).attestations(),
    );
    let image = built.image();
    let error = select_manifest(
        &t.store,
        &image,
        &only_strict(parse("linux/arm64/v8").unwrap()),
    )
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(
        error.to_string(),
        format!(
            "no manifest for linux/arm64 in example.com/app:1.0 (index {}); available: linux/amd64, linux/s390x",
            built.index.digest
        )
    );
    assert_eq!(
        error.available_platforms().unwrap(),
        &[parse("linux/amd64").unwrap(), parse("linux/s390x").unwrap()]
    );
    assert!(matches!(
        error.detail(),
        Some(Detail::NoMatchingPlatform { reference, index, .. })
            if reference == "example.com/app:1.0" && *index == built.index.digest
    ));
}

#[test]
fn an_empty_index_has_its_own_message() {
    let t = TestStore::new();
    let index = put_document(
        &t.store,
        mt::OCI_INDEX,
        br#"{"manifests":[],"schemaVersion":2}"#,
    );
    let image = Image::new("example.com/app:1.0", index.clone());
    let error =
        select_manifest(&t.store, &image, &only(parse("linux/amd64").unwrap())).unwrap_err();
    assert!(error.is_not_found());
    assert_eq!(
        error.to_string(),
        format!(
            "index {} of example.com/app:1.0 lists no manifests",
            index.digest
        )
    );
    assert!(matches!(error.detail(), Some(Detail::EmptyIndex { .. })));
}

#[test]
fn a_lone_manifest_is_selected_by_its_config() {
    let t = TestStore::new();
    let built = build(&t.store, &Spec::new(&["linux/arm64"]));
    let image = built.platforms[0].image("example.com/app:arm");
    let chosen = select_manifest(&t.store, &image, &only(parse("linux/arm64").unwrap())).unwrap();
    assert_eq!(
        chosen.kind,
        EntryKind::Platform(parse("linux/arm64").unwrap())
    );
    assert_eq!(chosen.index, None);
    let error =
        select_manifest(&t.store, &image, &only(parse("linux/amd64").unwrap())).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "no manifest for linux/amd64 in example.com/app:arm (manifest {}); available: linux/arm64",
            image.target.digest
        )
    );
}

#[test]
fn an_absent_image_is_not_found() {
    let t = TestStore::new();
    let built = build(&t.store, &Spec::new(&["linux/amd64"]));
    t.delete(&built.index.digest);
    let error = select_manifest(&t.store, &built.image(), &all()).unwrap_err();
    assert!(error.is_not_found());
    assert_eq!(
        error.to_string(),
        format!(
            "{} of example.com/app:1.0 is not stored locally",
            built.index.digest
        )
    );
}

#[test]
fn the_report_shows_every_platform_its_state_and_attestations() {
    let t = TestStore::new();
    let built = build(
        &t.store,
        &Spec::new(&["linux/amd64", "linux/arm64", "linux/s390x"]).attestations(),
    );
    let arm64 = built.platform("linux/arm64");
    let s390x = built.platform("linux/s390x");
    t.delete(&arm64.own_layer().digest);
    t.delete(&arm64.config.digest);
    t.delete(&s390x.entry.digest);

    let report = platform_report(&t.store, &built.image()).unwrap();
    assert!(report.is_index);
    assert_eq!(report.entries.len(), 6);
    let rows: Vec<(String, String)> = report
        .entries
        .iter()
        .map(|row| (row.entry.kind.to_string(), row.state.to_string()))
        .collect();
    assert_eq!(
        rows,
        [
            ("linux/amd64", "complete"),
            ("linux/arm64", "missing 2 blobs"),
            ("linux/s390x", "absent"),
            ("attestation", "complete"),
            ("attestation", "complete"),
            ("attestation", "complete"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(
        report.entries[1].state,
        LocalState::Missing(vec![arm64.config.clone(), arm64.own_layer().clone()])
    );
    assert_eq!(report.platforms().count(), 3);
    assert_eq!(report.attestations().count(), 3);
    assert!(matches!(
        &report.entries[4].entry.kind,
        EntryKind::Attestation { subject: Some(s) } if *s == arm64.entry.digest
    ));
    assert_eq!(
        report.entries[0].entry.descriptor.digest,
        built.platform("linux/amd64").entry.digest
    );
}

#[test]
fn the_report_of_a_lone_manifest_reads_its_config() {
    let t = TestStore::new();
    let built = build(&t.store, &Spec::new(&["linux/arm/v7"]));
    let report = platform_report(&t.store, &built.platforms[0].image("x:1")).unwrap();
    assert!(!report.is_index);
    assert_eq!(report.entries.len(), 1);
    assert_eq!(
        report.entries[0].entry.kind,
        EntryKind::Platform(parse("linux/arm/v7").unwrap())
    );
    assert!(report.entries[0].state.is_complete());
    // Without its config the platform cannot be told, and the state says why.
    t.delete(&built.platforms[0].config.digest);
    let report = platform_report(&t.store, &built.platforms[0].image("x:1")).unwrap();
    assert_eq!(report.entries[0].entry.kind, EntryKind::Unknown);
    assert_eq!(report.entries[0].state.to_string(), "missing 1 blob");
}

#[test]
fn entries_without_a_platform_are_read_from_their_config() {
    let t = TestStore::new();
    let built = build(&t.store, &Spec::new(&["linux/ppc64le"]));
    let mut entry = built.platforms[0].entry.clone();
    entry.platform = None;
    let index =
        serde_json::json!({"schemaVersion": 2, "mediaType": mt::OCI_INDEX, "manifests": [entry]});
    let index = put_document(
        &t.store,
        mt::OCI_INDEX,
        &serde_json::to_vec(&index).unwrap(),
    );
    let image = Image::new("x:1", index);
    let chosen = select_manifest(&t.store, &image, &only(parse("linux/ppc64le").unwrap())).unwrap();
    assert_eq!(
        chosen.kind,
        EntryKind::Platform(Platform::new("linux", "ppc64le"))
    );
}

#[test]
fn check_lists_required_present_and_missing_blobs() {
    let t = TestStore::new();
    let built = build(
        &t.store,
        &Spec::new(&["linux/amd64", "linux/arm64"]).attestations(),
    );
    let image = built.image();
    let amd64 = built.platform("linux/amd64");
    let arm64 = built.platform("linux/arm64");

    let report = check_platform(&t.store, &image, &only(parse("linux/amd64").unwrap())).unwrap();
    assert!(report.is_complete());
    let required: Vec<_> = report.required.iter().map(|d| d.digest.clone()).collect();
    assert_eq!(
        required,
        vec![
            built.index.digest.clone(),
            amd64.entry.digest.clone(),
            amd64.config.digest.clone(),
            amd64.layers[0].digest.clone(),
            amd64.layers[1].digest.clone(),
        ]
    );
    assert_eq!(report.present.len(), 5);

    t.delete(&arm64.own_layer().digest);
    let report = check_platform(&t.store, &image, &only(parse("linux/arm64").unwrap())).unwrap();
    assert!(!report.is_complete());
    assert_eq!(report.missing, vec![arm64.own_layer().clone()]);
    assert_eq!(report.present.len(), 4);

    let report = check_all(&t.store, &image).unwrap();
    // index + 2 x (manifest, config, own layer) + shared layer + 2 x (attestation, config, statement)
    // (the attestations share one config: same bytes).
    assert_eq!(report.required.len(), 1 + 2 * 3 + 1 + 2 * 2 + 1);
    assert_eq!(report.missing, vec![arm64.own_layer().clone()]);

    // An absent manifest hides its children; an absent index is reported, not an error.
    t.delete(&arm64.entry.digest);
    let report = check_platform(&t.store, &image, &only(parse("linux/arm64").unwrap())).unwrap();
    assert_eq!(report.missing, vec![arm64.entry.clone()]);
    t.store.delete(&built.index.digest).unwrap();
    let report = check_all(&t.store, &image).unwrap();
    assert_eq!(report.required, vec![built.index.clone()]);
    assert_eq!(report.missing, vec![built.index.clone()]);

    // A platform that is not there at all is an error naming what is.
    let t = TestStore::new();
    let built = build(&t.store, &Spec::new(&["linux/amd64"]));
    let error = check_platform(
        &t.store,
        &built.image(),
        &only_strict(parse("linux/386").unwrap()),
    )
    .unwrap_err();
    assert!(
        error.to_string().ends_with("available: linux/amd64"),
        "{error}"
    );
}
