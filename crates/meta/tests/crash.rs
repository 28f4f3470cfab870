//! Crash safety: a child process is SIGKILLed at named points inside image
//! create, lease delete, blob commit and GC (and, separately, at random
//! moments of a busy loop). The store must reopen, keep everything that was
//! referenced, and — after the next GC — pass fsck.

// Helpers outside #[test] functions (child processes, factories) unwrap too:
// a failure is the test's failure, reported by the panic.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use hoist_content::{ContentWriter, Digest, Ingester, Manager, WriterOptions};
use hoist_meta::{Descriptor, GcOptions, Image, ImageFilter, LeaseOptions, MetaStore, PAUSE_AT};

const ENTRY: &str = "child_process";

/// The child side. Jobs: `create-image <root>`, `delete-lease <root>`,
/// `commit <root>`, `gc <root>`, `busy <root> <seed>`. The pause point comes
/// in `HOIST_META_PAUSE_AT`; `busy` loops until killed.
#[test]
#[ignore = "entry point of the child processes the tests spawn"]
fn child_process() {
    let Some(job) = child_job() else {
        eprintln!("{CHILD_JOB} is not set: this test is only a child-process entry point");
        return;
    };
    let words: Vec<&str> = job.split_whitespace().collect();
    let store = MetaStore::open_with(words[1], manual_gc()).unwrap();
    let ns = store.namespace("default").unwrap();
    match words[0] {
        "create-image" => {
            let graph = graph_target(&store);
            ns.images().create(Image::new("crash:1", graph)).unwrap();
        }
        "delete-lease" => ns.leases().delete("held").unwrap(),
        "commit" => {
            let lease = ns.leases().get("held").unwrap();
            put(&ns.content(Some(&lease)), b"committed by the child", &[]);
        }
        "gc" => {
            store.gc(GcOptions::new()).unwrap();
        }
        "busy" => busy(&store, words[2].parse().unwrap()),
        other => panic!("unknown job {other:?}"),
    }
    println!("FINISHED");
}

/// The descriptor of the index `setup` wrote (recorded in a label of the store).
fn graph_target(store: &MetaStore) -> Descriptor {
    let ns = store.namespace("default").unwrap();
    let lease = ns.leases().get("held").unwrap();
    let digest: Digest = lease.labels["index"].parse().unwrap();
    let size = ns.content(None).info(&digest).unwrap().size;
    Descriptor::new(INDEX, digest, size)
}

/// A root with: an image `kept:1` (a full graph), a lease `held` holding a
/// second graph (its index digest in the lease's `index` label), and junk.
struct Setup {
    kept: ImageGraph,
    held: ImageGraph,
    junk: BTreeSet<Digest>,
}

fn setup(fx: &Fixture) -> Setup {
    let ns = fx.ns("default");
    let pull = ns.leases().create(LeaseOptions::new().id("pull")).unwrap();
    let kept = write_image(
        &ns.content(Some(&pull)),
        "kept",
        &["linux/amd64", "linux/arm64"],
    );
    name_image(&ns, "kept:1", &kept);
    ns.leases().delete("pull").unwrap();
    let held_lease = ns
        .leases()
        .create(LeaseOptions::new().id("staging"))
        .unwrap();
    let held = write_image(&ns.content(Some(&held_lease)), "held", &["linux/amd64"]);
    let held_lease = ns
        .leases()
        .create(
            LeaseOptions::new()
                .id("held")
                .label("index", held.index.as_str()),
        )
        .unwrap();
    for digest in held.all() {
        ns.leases()
            .add_resource(&held_lease.id, &hoist_meta::Resource::Content(digest))
            .unwrap();
    }
    ns.leases().delete("staging").unwrap();
    let junk = (0..3)
        .map(|i| put(&ns.content(None), format!("junk {i}").as_bytes(), &[]))
        .collect();
    Setup { kept, held, junk }
}

/// Runs `job` in a child that pauses at `point`, kills it there, reopens.
fn kill_at(fx: &Fixture, job: &str, point: &str) -> MetaStore {
    let root = fx.root();
    let mut child = spawn(
        ENTRY,
        &format!("{job} {}", root.display()),
        &[(PAUSE_AT, point)],
    );
    child.wait_paused(point);
    child.kill();
    MetaStore::open_with(&root, manual_gc()).unwrap()
}

/// After a crash: the store opens, fsck finds debris at most (a crash never
/// damages), a GC runs, fsck is clean, and what must survive did.
fn check_recovers(store: &MetaStore, must_survive: &BTreeSet<Digest>) {
    let ns = store.namespace("default").unwrap();
    let before = store
        .fsck_with(&hoist_meta::FsckOptions::verify_digests())
        .unwrap();
    assert!(!before.is_damaged(), "{before}");
    store.gc(GcOptions::new()).unwrap();
    let fsck = store.fsck().unwrap();
    assert!(fsck.is_clean(), "{fsck}");
    for digest in must_survive {
        assert!(recorded(&ns, digest), "{digest} survived the crash");
        let mut reader = hoist_content::Provider::reader(&ns.content(None), digest).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut bytes).unwrap();
        assert_eq!(Digest::sha256_of(&bytes), *digest);
    }
}

#[test]
fn killed_during_image_create() {
    for (point, created) in [
        ("image-create:before-batch", false),
        ("image-create:after-batch", true),
    ] {
        let fx = fresh();
        let s = setup(&fx);
        let store = kill_at(&fx, "create-image", point);
        let ns = store.namespace("default").unwrap();
        assert_eq!(ns.images().get("crash:1").is_ok(), created, "{point}");
        let mut survivors = s.kept.all();
        survivors.extend(s.held.all());
        check_recovers(&store, &survivors);
        assert_eq!(
            ns.images().list(&ImageFilter::all()).unwrap().len(),
            1 + created as usize
        );
        // Junk goes either way; the new name, when it landed, keeps its graph.
        for digest in &s.junk {
            assert!(!on_disk(&store, digest));
        }
        ns.leases().delete("held").unwrap();
        store.gc(GcOptions::new()).unwrap();
        for digest in s.held.all() {
            assert_eq!(recorded(&ns, &digest), created, "{point}: {digest}");
        }
        assert!(store.fsck().unwrap().is_clean());
    }
}

#[test]
fn killed_during_lease_delete() {
    for (point, deleted) in [
        ("lease-delete:before-batch", false),
        ("lease-delete:after-batch", true),
    ] {
        let fx = fresh();
        let s = setup(&fx);
        let store = kill_at(&fx, "delete-lease", point);
        let ns = store.namespace("default").unwrap();
        assert_eq!(ns.leases().get("held").is_err(), deleted, "{point}");
        let survivors = if deleted {
            s.kept.all()
        } else {
            let mut all = s.kept.all();
            all.extend(s.held.all());
            all
        };
        check_recovers(&store, &survivors);
        assert_eq!(recorded_set(&ns), survivors, "{point}");
        assert_eq!(disk_set(&store), survivors, "{point}");
        // A half-done delete left no resource list behind.
        if deleted {
            assert!(ns.leases().resources("held").unwrap_err().is_not_found());
        }
    }
}

#[test]
fn killed_during_commit() {
    let bytes = b"committed by the child";
    let digest = Digest::sha256_of(bytes);
    for (point, committed) in [
        ("commit:before-publish", false),
        ("commit:after-publish", false),
        ("commit:after-record", true),
    ] {
        let fx = fresh();
        let s = setup(&fx);
        let store = kill_at(&fx, "commit", point);
        let ns = store.namespace("default").unwrap();
        assert_eq!(recorded(&ns, &digest), committed, "{point}");
        let mut survivors = s.kept.all();
        survivors.extend(s.held.all());
        if committed {
            survivors.insert(digest.clone());
            // Recorded on the lease in the same batch as the record.
            assert!(
                ns.leases()
                    .resources("held")
                    .unwrap()
                    .contains(&hoist_meta::Resource::Content(digest.clone())),
                "{point}"
            );
        }
        check_recovers(&store, &survivors);
        assert_eq!(recorded_set(&ns), survivors, "{point}");
        assert_eq!(disk_set(&store), survivors, "{point}");
        // The ingest the dead writer left can be resumed (or is already gone)
        // and the blob written again.
        let lease = ns.leases().get("held").unwrap();
        let content = ns.content(Some(&lease));
        match content.writer(
            WriterOptions::new(format!("put-{}", &digest.hex()[..12])).expected(digest.clone()),
        ) {
            Ok(mut writer) => {
                let offset = writer.offset() as usize;
                std::io::Write::write_all(&mut writer, &bytes[offset..]).unwrap();
                writer
                    .commit(bytes.len() as u64, None, Default::default())
                    .unwrap();
            }
            Err(error) => assert!(committed && error.is_already_exists(), "{point}: {error}"),
        }
        assert!(recorded(&ns, &digest));
        assert!(store.fsck().unwrap().is_clean());
    }
}

#[test]
fn killed_during_gc() {
    for point in ["gc:after-mark", "gc:after-batch", "gc:after-first-file"] {
        let fx = fresh();
        let s = setup(&fx);
        let store = kill_at(&fx, "gc", point);
        let mut survivors = s.kept.all();
        survivors.extend(s.held.all());
        check_recovers(&store, &survivors);
        let ns = store.namespace("default").unwrap();
        assert_eq!(recorded_set(&ns), survivors, "{point}");
        assert_eq!(disk_set(&store), survivors, "{point}");
        assert!(ns.images().get("kept:1").is_ok());
    }
}

/// The child loops over every kind of write until killed.
fn busy(store: &MetaStore, seed: u64) {
    let ns = store.namespace("default").unwrap();
    let mut round = seed * 1_000_000;
    loop {
        round += 1;
        let lease = ns
            .leases()
            .create(LeaseOptions::new().expires_in(Duration::from_secs(3600)))
            .unwrap();
        let content = ns.content(Some(&lease));
        let layer = put(&content, format!("busy layer {round}").as_bytes(), &[]);
        let manifest = put(
            &content,
            format!("busy manifest {round}").as_bytes(),
            &[("containerd.io/gc.ref.content.l.0", layer.as_str())],
        );
        let mut partial = content
            .writer(WriterOptions::new(format!("partial-{round}")))
            .unwrap();
        std::io::Write::write_all(&mut partial, b"partial").unwrap();
        partial.close().unwrap();
        let name = format!("busy:{round}");
        ns.images()
            .create(Image::new(
                name.clone(),
                Descriptor::new(MANIFEST, manifest, 20),
            ))
            .unwrap();
        ns.images().tag(&name, "busy:latest").unwrap();
        ns.leases().delete(&lease.id).unwrap();
        if round.is_multiple_of(3) {
            ns.images().delete(&name).unwrap();
        }
        if round.is_multiple_of(5) {
            store.gc(GcOptions::new()).unwrap();
        }
        if round == seed * 1_000_000 + 1 {
            println!("WORKING");
            std::io::Write::flush(&mut std::io::stdout()).unwrap();
        }
    }
}

#[test]
fn killed_at_random_moments_of_a_busy_loop() {
    let fx = fresh();
    let s = setup(&fx);
    let root = fx.root();
    drop(fx.store);
    // Kill after a varying amount of work: a deterministic spread of delays.
    for (i, delay_ms) in [40u64, 95, 150, 60, 230, 120, 75, 180]
        .into_iter()
        .enumerate()
    {
        let mut child = spawn(ENTRY, &format!("busy {} {}", root.display(), i + 1), &[]);
        // Wait until it works (a first round is done), then let it run a bit.
        child.wait_for("WORKING");
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill();
        let store = MetaStore::open_with(&root, manual_gc()).unwrap();
        let ns = store.namespace("default").unwrap();
        // Every named image keeps its manifest and layer through GC.
        let mut survivors = s.kept.all();
        survivors.extend(s.held.all());
        for image in ns.images().list(&ImageFilter::all()).unwrap() {
            survivors.insert(image.target.digest.clone());
        }
        check_recovers(&store, &survivors);
    }
}
