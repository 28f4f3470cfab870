//! fsck's classification: each kind of damage and each kind of debris,
//! built deliberately, is reported in its group; debris is gone after a GC,
//! damage is not.

// Helpers outside `#[test]` functions unwrap too: a failure is the test's.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use common::*;
use hoist_content::{ContentWriter, Digest, Ingester, Manager, WriterOptions};
use hoist_meta::{
    Damage, Debris, Descriptor, FsckOptions, FsckReport, GcOptions, Image, LeaseOptions, MetaStore,
    Resource,
};

/// A store holding one named image (index, manifest, config, layer).
fn with_image() -> (Fixture, ImageGraph) {
    let fx = fresh();
    let ns = fx.ns("default");
    let lease = ns.leases().create(LeaseOptions::new().id("pull")).unwrap();
    let graph = write_image(&ns.content(Some(&lease)), "fsck", &["linux/amd64"]);
    name_image(&ns, "app:1", &graph);
    ns.leases().delete("pull").unwrap();
    let report = fx.store.fsck().unwrap();
    assert!(report.is_clean(), "{report}");
    (fx, graph)
}

/// Asserts `report` holds debris only, collects, and asserts fsck is then
/// clean.
fn collected_to_clean(store: &MetaStore, report: &FsckReport) {
    assert!(!report.is_damaged(), "{report}");
    assert!(!report.debris.is_empty(), "{report}");
    store.gc(GcOptions::new()).unwrap();
    let after = store.fsck().unwrap();
    assert!(after.is_clean(), "{after}");
}

/// Writes raw key-value pairs into the root's RocksDB, as a disk fault or a
/// foreign program would; the store must be closed.
fn put_raw(root: &Path, pairs: &[(&[u8], &[u8])]) {
    let db = rocksdb::DB::open_default(root.join("meta/db")).unwrap();
    for (key, value) in pairs {
        db.put(key, value).unwrap();
    }
    db.flush().unwrap();
}

/// Replaces the bytes of a published (read-only) blob file.
fn overwrite_blob(store: &MetaStore, digest: &Digest, bytes: &[u8]) {
    let path = store.local_store().blob_path(digest);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&path, bytes).unwrap();
}

// --- damage ---

#[test]
fn a_blob_whose_bytes_do_not_hash_to_its_name_is_damage_found_by_verify() {
    let (fx, graph) = with_image();
    let layer = &graph.layers[0];
    let path = fx.store.local_store().blob_path(layer);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] ^= 0xff;
    overwrite_blob(&fx.store, layer, &bytes);

    // The default checks read no blob's bytes: same size, nothing seen.
    let report = fx.store.fsck().unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.checked.digests_verified, 0);

    let report = fx.store.fsck_with(&FsckOptions::verify_digests()).unwrap();
    assert_eq!(
        report.damage,
        [Damage::WrongDigest {
            digest: layer.clone(),
            actual: Digest::sha256_of(&bytes),
            path: path.clone(),
        }],
        "{report}"
    );
    assert!(report.debris.is_empty(), "{report}");
    assert_eq!(report.checked.digests_verified, graph.all().len() as u64);
    let text = report.to_string();
    assert!(
        text.contains("damage:") && text.contains(layer.as_str()),
        "{text}"
    );
    assert!(text.contains(path.to_str().unwrap()), "{text}");
    // A collection does not repair it.
    fx.store.gc(GcOptions::new()).unwrap();
    let again = fx.store.fsck_with(&FsckOptions::verify_digests()).unwrap();
    assert!(again.is_damaged(), "{again}");
}

#[test]
fn a_blob_file_of_another_size_than_its_record_is_damage() {
    let (fx, graph) = with_image();
    let config = &graph.configs[0];
    let path = fx.store.local_store().blob_path(config);
    let mut bytes = std::fs::read(&path).unwrap();
    let recorded = bytes.len() as u64;
    bytes.extend_from_slice(b"tail");
    overwrite_blob(&fx.store, config, &bytes);

    let report = fx.store.fsck().unwrap();
    assert_eq!(
        report.damage,
        [Damage::WrongSize {
            namespace: "default".into(),
            digest: config.clone(),
            path,
            recorded,
            on_disk: recorded + 4,
        }],
        "{report}"
    );
    assert!(report.debris.is_empty(), "{report}");
    // One finding per file: verify does not add a digest mismatch for it.
    let verified = fx.store.fsck_with(&FsckOptions::verify_digests()).unwrap();
    assert_eq!(verified.damage, report.damage, "{verified}");
}

#[test]
fn a_record_whose_blob_file_is_missing_is_damage() {
    let (fx, graph) = with_image();
    let manifest = &graph.manifests[0];
    let path = fx.store.local_store().blob_path(manifest);
    std::fs::remove_file(&path).unwrap();

    let report = fx.store.fsck().unwrap();
    assert_eq!(
        report.damage,
        [Damage::MissingBlob {
            namespace: "default".into(),
            digest: manifest.clone(),
            path,
        }],
        "{report}"
    );
    assert!(report.debris.is_empty(), "{report}");
    fx.store.gc(GcOptions::new()).unwrap();
    assert_eq!(fx.store.fsck().unwrap().damage, report.damage);
}

#[test]
fn an_image_whose_target_is_missing_is_damage() {
    let (fx, graph) = with_image();
    let ns = fx.ns("default");
    // A name pointing at a manifest the store never had.
    let never = Digest::sha256_of(b"never written");
    ns.images()
        .create(Image::new(
            "ghost:1",
            Descriptor::new(MANIFEST, never.clone(), 13),
        ))
        .unwrap();
    // And one whose target's record was removed behind it.
    ns.content(None).delete(&graph.index).unwrap();

    let report = fx.store.fsck().unwrap();
    assert_eq!(
        report.damage,
        [
            Damage::MissingTarget {
                namespace: "default".into(),
                image: "app:1".into(),
                target: graph.index.clone(),
            },
            Damage::MissingTarget {
                namespace: "default".into(),
                image: "ghost:1".into(),
                target: never,
            },
        ],
        "{report}"
    );
    // The index's file is still there, now without a record: debris.
    assert_eq!(
        report.debris,
        [Debris::UnrecordedBlob {
            digest: graph.index.clone(),
            path: fx.store.local_store().blob_path(&graph.index),
        }]
    );
}

#[test]
fn records_that_do_not_decode_are_damage_and_the_other_checks_go_on() {
    let (fx, graph) = with_image();
    let root = fx.root();
    let Fixture { dir, store } = fx;
    drop(store);
    let bad_blob = Digest::sha256_of(b"bad record");
    let image_key = b"image\0default\0broken:1\0".as_slice();
    let blob_key = format!("blob\0default\0{bad_blob}\0");
    let lease_key = b"lease\0default\0l1\0".as_slice();
    let resource_key = b"lease-res\0default\0l1\0mystery\0x\0".as_slice();
    put_raw(
        &root,
        &[
            (image_key, b"not json"),
            (blob_key.as_bytes(), br#"{"size":"twelve"}"#),
            (lease_key, b"{"),
            (resource_key, b""),
            (b"ns\0other\0", b"[]"),
            // A well-formed value under a key that names no digest.
            (
                b"blob\0default\0not-a-digest\0",
                br#"{"size":1,"created":0,"updated":0}"#,
            ),
        ],
    );
    let store = MetaStore::open_with(dir.path(), manual_gc()).unwrap();

    let report = store.fsck().unwrap();
    let keys: Vec<&str> = report
        .damage
        .iter()
        .map(|damage| match damage {
            Damage::UndecodableRecord { key, reason } => {
                assert!(!reason.is_empty());
                key.as_str()
            }
            other => panic!("unexpected damage {other}"),
        })
        .collect();
    let mut expected = vec![
        "image/default/broken:1/".to_owned(),
        format!("blob/default/{bad_blob}/"),
        "blob/default/not-a-digest/".to_owned(),
        "lease/default/l1/".to_owned(),
        "lease-res/default/l1/mystery/x/".to_owned(),
        "ns/other/".to_owned(),
    ];
    expected.sort();
    assert_eq!(keys, expected, "{report}");
    // The readable records were still checked.
    assert_eq!(report.checked.images, 1);
    assert_eq!(report.checked.content_records, graph.all().len() as u64 + 1);
    assert!(report.debris.is_empty(), "{report}");
    assert!(report.to_string().contains("broken:1"), "{report}");

    // A collection refuses to sweep past a record it cannot read (it may be
    // a root) and deletes nothing.
    let junk = put(
        &store.namespace("default").unwrap().content(None),
        b"junk",
        &[],
    );
    let error = store.gc(GcOptions::new()).unwrap_err();
    assert!(error.is_data_loss(), "{error}");
    assert!(on_disk(&store, &junk));
}

// --- debris ---

#[test]
fn a_blob_file_without_a_record_is_debris() {
    let (fx, _) = with_image();
    let bytes = b"renamed into place, then killed before the record";
    let digest = Digest::sha256_of(bytes);
    hoist_content::write_blob(
        fx.store.local_store(),
        "stray",
        &bytes[..],
        &digest,
        bytes.len() as u64,
        Default::default(),
    )
    .unwrap();
    let report = fx.store.fsck().unwrap();
    assert_eq!(
        report.debris,
        [Debris::UnrecordedBlob {
            path: fx.store.local_store().blob_path(&digest),
            digest: digest.clone(),
        }],
        "{report}"
    );
    assert!(report.to_string().contains("debris"), "{report}");
    collected_to_clean(&fx.store, &report);
    assert!(!on_disk(&fx.store, &digest));
}

#[test]
fn a_local_ingest_without_a_record_is_debris() {
    let (fx, _) = with_image();
    let mut orphan = fx
        .store
        .local_store()
        .writer(WriterOptions::new("default/record-lost"))
        .unwrap();
    std::io::Write::write_all(&mut orphan, b"partial").unwrap();
    orphan.close().unwrap();
    let report = fx.store.fsck().unwrap();
    assert_eq!(
        report.debris,
        [Debris::UnownedIngest {
            reference: "default/record-lost".into()
        }],
        "{report}"
    );
    collected_to_clean(&fx.store, &report);
}

#[test]
fn an_expired_ingest_is_debris() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = manual_gc();
    options.ingest_expiry = Duration::ZERO;
    let store = MetaStore::open_with(dir.path(), options).unwrap();
    let content = store.namespace("default").unwrap().content(None);
    let mut writer = content.writer(WriterOptions::new("abandoned")).unwrap();
    std::io::Write::write_all(&mut writer, b"half a blob").unwrap();
    writer.close().unwrap();
    std::thread::sleep(Duration::from_millis(5));

    let report = store.fsck().unwrap();
    assert_eq!(
        report.debris,
        [Debris::ExpiredIngest {
            namespace: "default".into(),
            reference: "abandoned".into()
        }],
        "{report}"
    );
    collected_to_clean(&store, &report);
}

#[test]
fn an_expired_lease_and_what_it_held_are_debris() {
    let (fx, _) = with_image();
    let ns = fx.ns("default");
    let live = ns.leases().create(LeaseOptions::new().id("dead")).unwrap();
    let held = put(
        &ns.content(Some(&live)),
        b"held by a dead process's lease",
        &[],
    );
    let content = ns.content(Some(&live));
    let mut writer = content.writer(WriterOptions::new("in-flight")).unwrap();
    std::io::Write::write_all(&mut writer, b"partial").unwrap();
    writer.close().unwrap();
    // Its process died; its time ran out since.
    ns.leases().delete("dead").unwrap();
    ns.leases()
        .create(
            LeaseOptions::new()
                .id("dead")
                .expires_at(SystemTime::now() - Duration::from_secs(1)),
        )
        .unwrap();
    ns.leases()
        .add_resource("dead", &Resource::Content(held.clone()))
        .unwrap();
    ns.leases()
        .add_resource("dead", &Resource::Ingest("in-flight".into()))
        .unwrap();

    let report = fx.store.fsck().unwrap();
    assert_eq!(
        report.debris,
        [
            Debris::ExpiredIngest {
                namespace: "default".into(),
                reference: "in-flight".into()
            },
            Debris::ExpiredLease {
                namespace: "default".into(),
                id: "dead".into(),
                resources: 2
            },
        ],
        "{report}"
    );
    collected_to_clean(&fx.store, &report);
    assert!(!on_disk(&fx.store, &held));
    assert!(ns.leases().get("dead").unwrap_err().is_not_found());
}

#[test]
fn lease_resources_without_their_lease_are_debris() {
    let (fx, graph) = with_image();
    let root = fx.root();
    let Fixture { dir, store } = fx;
    drop(store);
    let key = format!("lease-res\0default\0gone\0content\0{}\0", graph.index);
    put_raw(&root, &[(key.as_bytes(), b"")]);
    let store = MetaStore::open_with(dir.path(), manual_gc()).unwrap();

    let report = store.fsck().unwrap();
    assert_eq!(
        report.debris,
        [Debris::OrphanLeaseResources {
            namespace: "default".into(),
            id: "gone".into(),
            resources: 1
        }],
        "{report}"
    );
    collected_to_clean(&store, &report);
    // The image it named is untouched.
    assert!(on_disk(&store, &graph.index));
}

#[test]
fn a_referrer_whose_subject_is_not_recorded_is_debris() {
    let (fx, _) = with_image();
    let ns = fx.ns("default");
    let lease = ns.leases().create(LeaseOptions::new().id("pull")).unwrap();
    let absent = Digest::sha256_of(b"a subject never stored");
    // A pull that stored a referrer before its subject, then died.
    let referrer = put(
        &ns.content(Some(&lease)),
        b"a signature of a subject never stored",
        &[("containerd.io/gc.bref.content.subject", absent.as_str())],
    );
    ns.leases().delete("pull").unwrap();

    let report = fx.store.fsck().unwrap();
    assert_eq!(
        report.debris,
        [Debris::ReferrerWithoutSubject {
            namespace: "default".into(),
            digest: referrer.to_string(),
            subject: absent.to_string(),
        }],
        "{report}"
    );
    assert!(report.to_string().contains("its subject"), "{report}");
    collected_to_clean(&fx.store, &report);
    assert!(!on_disk(&fx.store, &referrer));
}
