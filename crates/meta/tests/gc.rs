//! Garbage collection: the exact set of survivors for each kind of root and
//! edge, across namespaces, and the seed scenario of the issue.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use common::*;
use hoist_content::{ContentWriter, Digest, IngestManager, Ingester, Manager, WriterOptions};
use hoist_meta::{
    Damage, Debris, GC_EXPIRE, GC_ROOT, GcOptions, Image, ImageFilter, LeaseOptions, MetaStore,
    ObjectRef, format_rfc3339,
};

fn set(digests: &[&Digest]) -> BTreeSet<Digest> {
    digests.iter().map(|d| (*d).clone()).collect()
}

/// Junk nothing references, written in `ns` and another namespace.
fn junk(fx: &Fixture, ns: &str, tag: &str) -> BTreeSet<Digest> {
    let content = fx.ns(ns).content(None);
    (0..3)
        .map(|i| put(&content, format!("junk {tag} {i}").as_bytes(), &[]))
        .collect()
}

#[test]
fn image_index_manifests_configs_and_layers_survive_through_labels() {
    let fx = fresh();
    let ns = fx.ns("default");
    let lease = ns.leases().create(LeaseOptions::new().id("pull")).unwrap();
    let graph = write_image(
        &ns.content(Some(&lease)),
        "app",
        &["linux/amd64", "linux/arm64", "linux/arm/v7"],
    );
    name_image(&ns, "example.com/app:1", &graph);
    ns.leases().delete("pull").unwrap();
    let junk = junk(&fx, "default", "a");

    let dry = fx.store.gc(GcOptions::dry_run()).unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.blobs.iter().cloned().collect::<BTreeSet<_>>(), junk);
    let junk_bytes: u64 = junk
        .iter()
        .map(|d| fx.store.local_store().info(d).unwrap().size)
        .sum();
    assert_eq!(dry.bytes_freed, junk_bytes);
    // A dry run removes nothing.
    assert_eq!(recorded_set(&ns).len(), graph.all().len() + junk.len());

    let report = fx.store.gc(GcOptions::new()).unwrap();
    assert_eq!(report.blobs.iter().cloned().collect::<BTreeSet<_>>(), junk);
    assert_eq!(report.bytes_freed, junk_bytes);
    assert_eq!(report.content.len(), junk.len());
    assert_eq!(recorded_set(&ns), graph.all());
    assert_eq!(disk_set(&fx.store), graph.all());
    // Nothing left to do.
    let again = fx.store.gc(GcOptions::new()).unwrap();
    assert!(again.blobs.is_empty() && again.content.is_empty());
    assert_eq!(again.blobs_kept, graph.all().len() as u64);
}

#[test]
fn a_lease_holding_an_ingest_keeps_it_until_the_lease_goes() {
    let dir = tempfile::tempdir().unwrap();
    // Unleased ingests expire at once here: only the lease can keep one.
    let mut options = manual_gc();
    options.ingest_expiry = Duration::ZERO;
    let store = MetaStore::open_with(dir.path(), options).unwrap();
    let ns = store.namespace("default").unwrap();
    let lease = ns.leases().create(LeaseOptions::new().id("push")).unwrap();
    let content = ns.content(Some(&lease));
    let mut writer = content
        .writer(WriterOptions::new("resumable").expected(Digest::sha256_of(b"partial data!")))
        .unwrap();
    std::io::Write::write_all(&mut writer, b"partial").unwrap();
    writer.close().unwrap();
    let mut unleased = ns
        .content(None)
        .writer(WriterOptions::new("unleased"))
        .unwrap();
    std::io::Write::write_all(&mut unleased, b"x").unwrap();
    unleased.close().unwrap();
    let mut fx_junk = Vec::new();
    for i in 0..2 {
        fx_junk.push(put(&ns.content(None), format!("junk {i}").as_bytes(), &[]));
    }

    let report = store.gc(GcOptions::new()).unwrap();
    assert_eq!(
        report.ingests,
        [ObjectRef {
            namespace: "default".into(),
            name: "unleased".into()
        }]
    );
    assert_eq!(report.local_ingests.len(), 1, "{report:?}");
    assert_eq!(
        report.blobs.iter().collect::<BTreeSet<_>>(),
        fx_junk.iter().collect()
    );
    assert_eq!(content.status("resumable").unwrap().offset, 7);
    assert_eq!(store.local_store().list_statuses().unwrap().len(), 1);
    assert!(store.fsck().unwrap().is_clean());

    // Once the lease goes, the ingest (its local data included) goes too.
    ns.leases().delete("push").unwrap();
    let report = store.gc(GcOptions::new()).unwrap();
    assert_eq!(
        report.ingests,
        [ObjectRef {
            namespace: "default".into(),
            name: "resumable".into()
        }]
    );
    assert_eq!(report.local_ingests.len(), 1, "{report:?}");
    assert!(content.status("resumable").unwrap_err().is_not_found());
    assert!(store.local_store().list_statuses().unwrap().is_empty());
    assert!(store.fsck().unwrap().is_clean());
}

#[test]
fn an_unleased_ingest_is_a_root_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = manual_gc();
    options.ingest_expiry = Duration::ZERO;
    let expiring = MetaStore::open_with(dir.path().join("a"), options).unwrap();
    let lasting = MetaStore::open_with(dir.path().join("b"), manual_gc()).unwrap();
    for store in [&expiring, &lasting] {
        let content = store.namespace("default").unwrap().content(None);
        let mut writer = content.writer(WriterOptions::new("slow")).unwrap();
        std::io::Write::write_all(&mut writer, b"some").unwrap();
        writer.close().unwrap();
    }
    let report = lasting.gc(GcOptions::new()).unwrap();
    assert!(report.ingests.is_empty());
    let content = lasting.namespace("default").unwrap().content(None);
    assert_eq!(content.status("slow").unwrap().offset, 4);

    let report = expiring.gc(GcOptions::new()).unwrap();
    assert_eq!(
        report.ingests,
        [ObjectRef {
            namespace: "default".into(),
            name: "slow".into()
        }]
    );
    let content = expiring.namespace("default").unwrap().content(None);
    assert!(content.status("slow").unwrap_err().is_not_found());
}

#[test]
fn a_local_ingest_whose_record_a_power_cut_lost_is_debris() {
    // A writer's ingest record is written without waiting for the disk, so
    // a power cut may keep the local ingest and lose its record: fsck names
    // it, the next GC removes it, and the namespace's own ingests are kept.
    let fx = fresh();
    let content = fx.ns("default").content(None);
    let mut kept = content.writer(WriterOptions::new("recorded")).unwrap();
    std::io::Write::write_all(&mut kept, b"recorded bytes").unwrap();
    kept.close().unwrap();
    let mut orphan = fx
        .store
        .local_store()
        .writer(WriterOptions::new("default/lost-record"))
        .unwrap();
    std::io::Write::write_all(&mut orphan, b"orphan bytes").unwrap();
    orphan.close().unwrap();

    let report = fx.store.fsck().unwrap();
    assert_eq!(
        report.debris,
        [Debris::UnownedIngest {
            reference: "default/lost-record".into()
        }],
        "{report}"
    );
    assert!(!report.is_damaged(), "{report}");
    let report = fx.store.gc(GcOptions::new()).unwrap();
    assert_eq!(report.local_ingests, ["default/lost-record"], "{report:?}");
    assert!(
        fx.store
            .local_store()
            .status("default/lost-record")
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(content.status("recorded").unwrap().offset, 14);
    assert!(fx.store.fsck().unwrap().is_clean());
}

#[test]
fn an_expired_lease_protects_nothing_and_is_removed() {
    let fx = fresh();
    let ns = fx.ns("default");
    let past = ns.leases().create(LeaseOptions::new().id("past")).unwrap();
    let live = ns
        .leases()
        .create(
            LeaseOptions::new()
                .id("live")
                .expires_in(Duration::from_secs(3600)),
        )
        .unwrap();
    let old = put(&ns.content(Some(&past)), b"held by the expired lease", &[]);
    let new = put(&ns.content(Some(&live)), b"held by the live lease", &[]);
    // Expire "past" after the write (a write under an expired lease is refused).
    let leases = ns.leases();
    let expired_at = format_rfc3339(SystemTime::now() - Duration::from_secs(1));
    leases.delete("past").unwrap();
    let past = leases
        .create(LeaseOptions::new().id("past").label(GC_EXPIRE, expired_at))
        .unwrap();
    leases
        .add_resource("past", &hoist_meta::Resource::Content(old.clone()))
        .unwrap();
    assert!(past.is_expired());

    let report = fx.store.gc(GcOptions::new()).unwrap();
    assert_eq!(
        report.leases,
        [ObjectRef {
            namespace: "default".into(),
            name: "past".into()
        }]
    );
    assert_eq!(report.blobs, std::slice::from_ref(&old));
    assert_eq!(recorded_set(&ns), set(&[&new]));
    assert_eq!(disk_set(&fx.store), set(&[&new]));
    assert!(ns.leases().get("past").unwrap_err().is_not_found());
    assert!(ns.leases().get("live").is_ok());
}

#[test]
fn gc_root_content_and_its_references_survive() {
    let fx = fresh();
    let ns = fx.ns("default");
    let content = ns.content(None);
    let child = put(&content, b"child of a root", &[]);
    let grandchild = put(&content, b"grandchild", &[]);
    let middle = put(
        &content,
        b"middle",
        &[("containerd.io/gc.ref.content.x", grandchild.as_str())],
    );
    let root = put(
        &content,
        b"a root",
        &[
            (GC_ROOT, "2026-01-01T00:00:00Z"),
            ("containerd.io/gc.ref.content.a", child.as_str()),
            ("containerd.io/gc.ref.content/b", middle.as_str()),
        ],
    );
    let junk = junk(&fx, "default", "c");
    let report = fx.store.gc(GcOptions::new()).unwrap();
    assert_eq!(report.blobs.iter().cloned().collect::<BTreeSet<_>>(), junk);
    let survivors = set(&[&root, &child, &middle, &grandchild]);
    assert_eq!(recorded_set(&ns), survivors);
    assert_eq!(disk_set(&fx.store), survivors);

    // Without the root label, the whole tree goes.
    content
        .update_labels(&root, |l| {
            l.remove(GC_ROOT);
        })
        .unwrap();
    fx.store.gc(GcOptions::new()).unwrap();
    assert!(recorded_set(&ns).is_empty());
    assert!(disk_set(&fx.store).is_empty());
}

#[test]
fn a_flat_lease_pins_only_what_it_names() {
    let fx = fresh();
    let ns = fx.ns("default");
    let flat = ns
        .leases()
        .create(LeaseOptions::new().id("flat").flat())
        .unwrap();
    let deep = ns.leases().create(LeaseOptions::new().id("deep")).unwrap();
    let setup = ns.leases().create(LeaseOptions::new().id("setup")).unwrap();
    let a = write_image(&ns.content(Some(&setup)), "flat", &["linux/amd64"]);
    let b = write_image(&ns.content(Some(&setup)), "deep", &["linux/amd64"]);
    // Image held only by the flat lease's image entry: target kept, children not.
    let c = write_image(&ns.content(Some(&setup)), "flat-image", &["linux/amd64"]);
    ns.leases()
        .add_resource("flat", &hoist_meta::Resource::Content(a.index.clone()))
        .unwrap();
    ns.leases()
        .add_resource("deep", &hoist_meta::Resource::Content(b.index.clone()))
        .unwrap();
    let expired = format_rfc3339(SystemTime::now() - Duration::from_secs(1));
    ns.images()
        .with_lease(&flat)
        .create(Image::new("only-by-lease:1", c.descriptor()).label(GC_EXPIRE, expired))
        .unwrap();
    let _ = deep;
    ns.leases().delete("setup").unwrap();

    fx.store.gc(GcOptions::new()).unwrap();
    let mut expected = set(&[&a.index, &c.index]);
    expected.extend(b.all());
    assert_eq!(recorded_set(&ns), expected);
    assert_eq!(disk_set(&fx.store), expected);
    // The expired image is kept while a live lease holds it.
    assert!(ns.images().get("only-by-lease:1").is_ok());
}

#[test]
fn dead_edges_are_allowed() {
    let fx = fresh();
    let ns = fx.ns("default");
    let content = ns.content(None);
    let never_fetched = Digest::sha256_of(b"a layer never fetched");
    let present = put(&content, b"present layer", &[]);
    let manifest = put(
        &content,
        b"manifest with a missing layer",
        &[
            ("containerd.io/gc.ref.content.l.0", never_fetched.as_str()),
            ("containerd.io/gc.ref.content.l.1", present.as_str()),
            ("containerd.io/gc.ref.content.l.2", "not even a digest"),
        ],
    );
    ns.images()
        .create(Image::new(
            "partial:1",
            hoist_meta::Descriptor::new(MANIFEST, manifest.clone(), 29),
        ))
        .unwrap();
    // An image whose target was never written is allowed too.
    ns.images()
        .create(Image::new(
            "dangling:1",
            hoist_meta::Descriptor::new(MANIFEST, Digest::sha256_of(b"nothing"), 7),
        ))
        .unwrap();
    let report = fx.store.gc(GcOptions::new()).unwrap();
    assert!(
        report.blobs.is_empty() && report.content.is_empty(),
        "{report:?}"
    );
    assert_eq!(recorded_set(&ns), set(&[&manifest, &present]));
    assert_eq!(ns.images().list(&ImageFilter::all()).unwrap().len(), 2);
    // fsck reports the image whose target is missing.
    let fsck = fx.store.fsck().unwrap();
    assert_eq!(
        fsck.damage,
        [Damage::MissingTarget {
            namespace: "default".into(),
            image: "dangling:1".into(),
            target: Digest::sha256_of(b"nothing"),
        }],
        "{fsck}"
    );
}

#[test]
fn two_namespaces_share_a_blob_file() {
    let fx = fresh();
    let a = fx.ns("a");
    let b = fx.ns("b");
    let lease_a = a.leases().create(LeaseOptions::new().id("l")).unwrap();
    let graph = write_image(&a.content(Some(&lease_a)), "shared", &["linux/amd64"]);
    name_image(&a, "app:1", &graph);
    a.leases().delete("l").unwrap();
    // b writes the same layer (it must supply the bytes) and names nothing.
    let shared_layer = graph.layers[0].clone();
    let b_only = put(&b.content(None), b"only in b", &[]);
    let again = put(&b.content(None), b"shared linux/amd64 layer a", &[]);
    assert_eq!(again, shared_layer);

    let report = fx.store.gc(GcOptions::new()).unwrap();
    // b's records go (nothing roots them); the shared file stays for a.
    let gone: BTreeSet<ObjectRef> = report.content.iter().cloned().collect();
    assert_eq!(
        gone,
        [&b_only, &shared_layer]
            .iter()
            .map(|d| ObjectRef {
                namespace: "b".into(),
                name: d.to_string()
            })
            .collect()
    );
    assert_eq!(report.blobs, std::slice::from_ref(&b_only));
    assert_eq!(recorded_set(&a), graph.all());
    assert!(recorded_set(&b).is_empty());
    assert_eq!(disk_set(&fx.store), graph.all());

    // With a's image gone, the shared file goes as well.
    a.images().delete("app:1").unwrap();
    fx.store.gc(GcOptions::new()).unwrap();
    assert!(disk_set(&fx.store).is_empty());
}

#[test]
fn expired_images_are_not_roots_and_are_removed() {
    let fx = fresh();
    let ns = fx.ns("default");
    let lease = ns.leases().create(LeaseOptions::new().id("l")).unwrap();
    let old = write_image(&ns.content(Some(&lease)), "old", &["linux/amd64"]);
    let new = write_image(&ns.content(Some(&lease)), "new", &["linux/amd64"]);
    let past = format_rfc3339(SystemTime::now() - Duration::from_secs(5));
    let future = format_rfc3339(SystemTime::now() + Duration::from_secs(3600));
    ns.images()
        .create(Image::new("tmp:old", old.descriptor()).label(GC_EXPIRE, past))
        .unwrap();
    ns.images()
        .create(Image::new("tmp:new", new.descriptor()).label(GC_EXPIRE, future))
        .unwrap();
    ns.leases().delete("l").unwrap();
    let report = fx.store.gc(GcOptions::new()).unwrap();
    assert_eq!(
        report.images,
        [ObjectRef {
            namespace: "default".into(),
            name: "tmp:old".into()
        }]
    );
    assert_eq!(recorded_set(&ns), new.all());
    assert_eq!(disk_set(&fx.store), new.all());
    assert!(fx.store.fsck().unwrap().is_clean());
}

#[test]
fn gc_runs_after_enough_deletions_but_never_for_tag_or_rename() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = manual_gc();
    options.gc_after_deletions = Some(3);
    let store = MetaStore::open_with(dir.path(), options).unwrap();
    let ns = store.namespace("default").unwrap();
    let content = ns.content(None);
    let blobs: Vec<Digest> = (0..3)
        .map(|i| put(&content, format!("doomed {i}").as_bytes(), &[]))
        .collect();
    let image_blob = put(&content, b"named", &[]);
    let target = hoist_meta::Descriptor::new(MANIFEST, image_blob.clone(), 5);
    ns.images().create(Image::new("a:1", target)).unwrap();
    // Renames and tags move names around; no GC may run in between.
    for i in 0..10 {
        ns.images()
            .rename(&format!("a:{}", i + 1), &format!("a:{}", i + 2))
            .unwrap();
        ns.images()
            .tag(&format!("a:{}", i + 2), "a:latest")
            .unwrap();
    }
    content.delete(&blobs[0]).unwrap();
    content.delete(&blobs[1]).unwrap();
    // Two deletions: the files are still there.
    assert!(on_disk(&store, &blobs[0]) && on_disk(&store, &blobs[1]));
    content.delete(&blobs[2]).unwrap();
    // The third deletion ran a collection.
    for blob in &blobs {
        assert!(!on_disk(&store, blob), "{blob} collected");
    }
    assert!(on_disk(&store, &image_blob));
    assert_eq!(
        ns.images().get("a:latest").unwrap().target.digest,
        image_blob
    );
}

/// The seed story: nerdctl deleted and recreated a temporary image while a
/// synchronous GC ran, and a push failed with "content digest ... not
/// found". Here: a multi-platform image exists; a reduced index referencing a
/// subset of its platforms is written under a lease; a temporary name is
/// created and deleted; GC runs; nothing referenced by either the original
/// image or the reduced index is gone.
#[test]
fn seed_scenario_reduced_index_survives_a_temporary_name_and_gc() {
    let dir = tempfile::tempdir().unwrap();
    // Collect on every deletion, synchronously, as in the seed story.
    let mut options = manual_gc();
    options.gc_after_deletions = Some(1);
    let store = MetaStore::open_with(dir.path(), options).unwrap();
    let ns = store.namespace("default").unwrap();

    // The multi-platform image, pulled under a lease that is then dropped.
    let pull = ns.leases().create(LeaseOptions::new().id("pull")).unwrap();
    let platforms = [
        "linux/amd64",
        "linux/arm64",
        "linux/arm/v7",
        "linux/ppc64le",
    ];
    let original = write_image(&ns.content(Some(&pull)), "multi", &platforms);
    name_image(&ns, "example.com/app:1", &original);
    ns.leases().delete("pull").unwrap();

    // The push: under its own lease, a reduced index with two of the platforms.
    let push = ns
        .leases()
        .create(
            LeaseOptions::new()
                .id("push")
                .expires_in(Duration::from_secs(3600)),
        )
        .unwrap();
    let keep = [0, 2];
    let (reduced, reduced_size) = write_index(
        &ns.content(Some(&push)),
        &keep.map(|i| original.manifests[i].clone()),
        &keep.map(|i| original.manifest_sizes[i]),
        &keep.map(|i| platforms[i]),
    );
    // A temporary name for it is created and deleted (the delete runs a GC).
    let temporary = ns
        .images()
        .create(Image::new(
            "tmp-reduced:1",
            hoist_meta::Descriptor::new(INDEX, reduced.clone(), reduced_size),
        ))
        .unwrap();
    ns.images().delete(&temporary.name).unwrap();
    // And an explicit GC for good measure.
    store.gc(GcOptions::new()).unwrap();

    // Nothing referenced by either the original or the reduced index is gone.
    let mut referenced = original.all();
    referenced.insert(reduced.clone());
    for digest in &referenced {
        assert!(recorded(&ns, digest), "{digest} is still recorded");
        assert!(on_disk(&store, digest), "{digest} is still on disk");
        let mut reader = hoist_content::Provider::reader(&ns.content(None), digest).unwrap();
        assert_eq!(
            hoist_content::Digest::sha256_of(&{
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut reader, &mut bytes).unwrap();
                bytes
            }),
            *digest
        );
    }
    for i in keep {
        for digest in original.platform_set(i) {
            assert!(recorded(&ns, &digest));
        }
    }
    assert_eq!(recorded_set(&ns), referenced);
    assert!(store.fsck().unwrap().is_clean());

    // Once the push is done and its lease dropped, only the reduced index goes.
    ns.leases().delete("push").unwrap();
    store.gc(GcOptions::new()).unwrap();
    assert!(!recorded(&ns, &reduced) && !on_disk(&store, &reduced));
    assert_eq!(recorded_set(&ns), original.all());
    assert_eq!(disk_set(&store), original.all());
}

#[test]
fn fsck_is_clean_after_gc_and_reports_damage() {
    let fx = fresh();
    let ns = fx.ns("default");
    let lease = ns.leases().create(LeaseOptions::new().id("l")).unwrap();
    let graph = write_image(&ns.content(Some(&lease)), "f", &["linux/amd64"]);
    name_image(&ns, "f:1", &graph);
    ns.leases().delete("l").unwrap();
    let report = fx.store.fsck().unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(
        (
            report.checked.images,
            report.checked.content_records,
            report.checked.blob_files
        ),
        (1, 5, 5)
    );

    // A blob file removed behind the store's back.
    let victim = &graph.layers[0];
    std::fs::remove_file(fx.store.local_store().blob_path(victim)).unwrap();
    let report = fx.store.fsck().unwrap();
    assert!(report.is_damaged());
    assert_eq!(
        report.damage,
        [Damage::MissingBlob {
            namespace: "default".into(),
            digest: victim.clone(),
            path: fx.store.local_store().blob_path(victim),
        }]
    );
    assert!(report.to_string().contains(victim.as_str()), "{report}");
    let err = hoist_content::Provider::reader(&ns.content(None), victim).unwrap_err();
    assert_eq!(err.kind(), hoist_content::ErrorKind::DataLoss, "{err}");

    // A blob without any record: reported, then collected.
    let stray = fx.store.local_store();
    hoist_content::write_blob(
        stray,
        "stray",
        &b"stray bytes"[..],
        &Digest::sha256_of(b"stray bytes"),
        11,
        Default::default(),
    )
    .unwrap();
    let report = fx.store.fsck().unwrap();
    let stray = Digest::sha256_of(b"stray bytes");
    assert!(report.debris.contains(&Debris::UnrecordedBlob {
        path: fx.store.local_store().blob_path(&stray),
        digest: stray,
    }));
    fx.store.gc(GcOptions::new()).unwrap();
    assert!(fx.store.fsck().unwrap().debris.is_empty());
    let _ = ns.content(None).info(&graph.index).unwrap();
}

#[test]
fn a_referrer_is_held_by_its_subject_and_freed_with_it() {
    let fx = fresh();
    let ns = fx.ns("default");
    let lease = ns.leases().create(LeaseOptions::new().id("pull")).unwrap();
    let content = ns.content(Some(&lease));
    let graph = write_image(&content, "signed", &["linux/amd64", "linux/arm64"]);
    let image = name_image(&ns, "example.com/signed:1", &graph);
    let subject = graph.manifests[1].to_string();
    let sig_layer = put(&content, b"signature payload", &[]);
    let signature = put(
        &content,
        b"signature manifest",
        &[
            ("containerd.io/gc.ref.content.l.0", sig_layer.as_str()),
            ("containerd.io/gc.bref.content.subject", &subject),
        ],
    );
    // A signature of the signature: held through the chain.
    let counter = put(
        &content,
        b"counter-signature manifest",
        &[("containerd.io/gc.bref.content.subject", signature.as_str())],
    );
    ns.leases().delete("pull").unwrap();

    let report = fx.store.gc(GcOptions::new()).unwrap();
    assert!(report.blobs.is_empty(), "{report:?}");
    let referrers = set(&[&sig_layer, &signature, &counter]);
    let mut all = graph.all();
    all.extend(referrers.iter().cloned());
    assert_eq!(recorded_set(&ns), all);

    ns.images().delete(&image.name).unwrap();
    let report = fx.store.gc(GcOptions::new()).unwrap();
    all.clear();
    assert_eq!(recorded_set(&ns), all);
    assert!(referrers.iter().all(|d| !on_disk(&fx.store, d)));
    assert!(report.blobs.contains(&signature));
}
