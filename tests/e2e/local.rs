//! Local operations: list, report, check, tag, remove, reduce, assemble,
//! save and load, leases, gc and fsck, without any registry.

use hoist::Platforms;
use hoist::platform::parse;

use crate::support::{fixture, load_fixture, store};

const NAME: &str = "example.com/app:1";

#[test]
fn loaded_image_lists_every_platform_complete() {
    let (_dir, store) = store();
    let fixture = fixture(1);
    load_fixture(&store, &fixture, NAME);
    let images = store.list_images(None).unwrap();
    assert_eq!(images.len(), 1);
    let summary = &images[0].platforms;
    assert!(summary.is_index);
    assert_eq!(summary.platforms.len(), 4);
    assert_eq!(summary.complete(), 4);
    assert_eq!(
        images[0].record.target.digest.to_string(),
        fixture.index.digest
    );
    let inspection = store.inspect(NAME).unwrap();
    assert_eq!(inspection.document.raw(), &fixture.index.bytes[..]);
    assert!(store.check(NAME, &Platforms::All).unwrap().is_complete());
    let one = Platforms::Only(vec![parse("linux/arm64").unwrap()]);
    assert!(store.check(NAME, &one).unwrap().is_complete());
}

#[test]
fn check_of_an_absent_platform_lists_the_available_ones() {
    let (_dir, store) = store();
    load_fixture(&store, &fixture(2), NAME);
    let error = store
        .check(
            NAME,
            &Platforms::Only(vec![parse("linux/ppc64le").unwrap()]),
        )
        .unwrap_err();
    assert!(error.is_not_found());
    let available = error.image_error().unwrap().available_platforms().unwrap();
    assert_eq!(available.len(), 4);
}

#[test]
fn tag_then_conditional_remove() {
    let (_dir, store) = store();
    let fixture = fixture(3);
    load_fixture(&store, &fixture, NAME);
    let tagged = store.tag(NAME, "example.com/app:latest").unwrap();
    let digest = tagged.target.digest.clone();
    let other = hoist::content::Digest::sha256_of(b"something else");
    let error = store
        .remove("example.com/app:latest", Some(&other))
        .unwrap_err();
    assert!(error.is_failed_precondition());
    store
        .remove("example.com/app:latest", Some(&digest))
        .unwrap();
    assert!(
        store
            .image("example.com/app:latest")
            .unwrap_err()
            .is_not_found()
    );
    assert!(store.image(NAME).is_ok());
}

#[test]
fn reduce_names_the_new_index_and_gc_keeps_both() {
    let (_dir, store) = store();
    load_fixture(&store, &fixture(4), NAME);
    let two = Platforms::Only(vec![
        parse("linux/amd64").unwrap(),
        parse("linux/s390x").unwrap(),
    ]);
    let reduced = store
        .reduce(NAME, &two, "example.com/app:small", false)
        .unwrap();
    assert_eq!(reduced.kept.len(), 2);
    let report = store.gc(false).unwrap();
    assert!(report.blobs.is_empty(), "gc removed {:?}", report.blobs);
    let small = store.platform_report("example.com/app:small").unwrap();
    assert_eq!(small.entries.len(), 2);
    assert!(small.entries.iter().all(|row| row.state.is_complete()));
    assert!(store.leases().unwrap().is_empty());
    assert!(store.fsck().unwrap().is_clean());
}

#[test]
fn assemble_from_reduced_images_and_amend() {
    let (_dir, store) = store();
    load_fixture(&store, &fixture(5), NAME);
    for (platform, name) in [("linux/amd64", "x:amd64"), ("linux/arm64", "x:arm64")] {
        let only = Platforms::Only(vec![parse(platform).unwrap()]);
        store.reduce(NAME, &only, name, true).unwrap();
    }
    let request = hoist::AssembleRequest::new();
    let assembled = store.assemble("x:multi", &["x:amd64"], &request).unwrap();
    assert_eq!(assembled.entries.len(), 1);
    let error = store
        .assemble("x:multi", &["x:arm64"], &request)
        .unwrap_err();
    assert!(error.is_already_exists());
    let amended = store
        .assemble("x:multi", &["x:arm64"], &request.clone().amend(true))
        .unwrap();
    assert_eq!(amended.entries.len(), 2);
    assert_eq!(
        store.image("x:multi").unwrap().target.digest,
        amended.target.digest
    );
}

#[test]
fn save_then_load_into_another_store_keeps_the_digest() {
    let (_dir, store) = store();
    let fixture = fixture(6);
    load_fixture(&store, &fixture, NAME);
    let mut archive = Vec::new();
    store.save(&[NAME], &Platforms::All, &mut archive).unwrap();
    let (_other_dir, other) = crate::support::store();
    let report = other.load(&archive[..], None).unwrap();
    assert_eq!(report.names, vec![NAME.to_owned()]);
    assert_eq!(
        other.image(NAME).unwrap().target.digest.to_string(),
        fixture.index.digest
    );
    assert!(other.leases().unwrap().is_empty());
}

#[test]
fn a_failed_load_names_nothing_and_leaves_no_lease() {
    let (_dir, store) = store();
    let error = store.load(&b"not a tar at all"[..], None).unwrap_err();
    // A short garbage stream reads as a broken tar (the image crate calls
    // that an I/O error); either way nothing may be named.
    assert!(
        matches!(
            error.kind(),
            hoist::ErrorKind::InvalidArgument | hoist::ErrorKind::Io
        ),
        "{error:?}"
    );
    assert!(store.list_images(None).unwrap().is_empty());
    assert!(store.leases().unwrap().is_empty());
}

#[test]
fn content_and_leases_round_trip() {
    let (_dir, store) = store();
    let fixture = fixture(7);
    load_fixture(&store, &fixture, NAME);
    let blobs = store.content_list().unwrap();
    assert_eq!(blobs.len(), fixture.blobs().len());
    let lease = store
        .lease_create(Some("mine"), Some(std::time::Duration::from_secs(60)))
        .unwrap();
    assert_eq!(store.leases().unwrap().len(), 1);
    store.lease_remove(&lease.id).unwrap();
    assert!(store.leases().unwrap().is_empty());
    assert_eq!(store.namespaces().unwrap(), vec!["default".to_owned()]);
    store.remove(NAME, None).unwrap();
    let dry = store.gc(true).unwrap();
    assert_eq!(dry.blobs.len(), fixture.blobs().len());
    assert_eq!(store.content_list().unwrap().len(), fixture.blobs().len());
    let report = store.gc(false).unwrap();
    assert_eq!(report.blobs.len(), fixture.blobs().len());
    assert!(store.content_list().unwrap().is_empty());
}

/// `StoreOptions::http1_only` reaches the registry client the store builds
/// (the client's own tests show what it then offers a TLS registry).
#[test]
fn the_store_passes_http1_only_to_its_registry_client() {
    let dir = tempfile::tempdir().unwrap();
    let default = hoist::Store::open(dir.path().join("a"), hoist::StoreOptions::default()).unwrap();
    assert!(!default.client().unwrap().options().http1_only);
    let http1 = hoist::Store::open(
        dir.path().join("b"),
        hoist::StoreOptions::default().http1_only(true),
    )
    .unwrap();
    assert!(http1.client().unwrap().options().http1_only);
}
