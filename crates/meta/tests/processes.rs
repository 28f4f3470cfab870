//! Several processes on one root: real child processes (this test binary,
//! re-run on its ignored `child_process` test) write, list and collect while
//! the parent does too. Every operation must succeed: a process that needs the
//! database waits for the one that has it, and no RocksDB lock error reaches
//! anyone.

// Helpers outside #[test] functions (child processes, factories) unwrap too:
// a failure is the test's failure, reported by the panic.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use hoist_content::{ContentWriter, Digest, Ingester, Manager, WriterOptions};
use hoist_meta::{Descriptor, GcOptions, Image, ImageFilter, LeaseOptions, MetaStore};

const ENTRY: &str = "child_process";

/// The child side. Jobs (whitespace separated):
/// - `long-write <root> <size>`: under a lease, write half of a blob, print
///   `READY`, wait for a line on stdin, write the rest, commit, name it
///   `long:1`, drop the lease, print `DONE <digest>`.
/// - `churn <root> <tag> <rounds>`: write blobs under leases, name, list,
///   tag, delete and collect, `rounds` times; print `DONE`.
/// - `hold <root>`: create an image while paused inside the database (with
///   `HOIST_META_PAUSE_AT`), so the database stays held until killed.
#[test]
#[ignore = "entry point of the child processes the tests spawn"]
fn child_process() {
    let Some(job) = child_job() else {
        eprintln!("{CHILD_JOB} is not set: this test is only a child-process entry point");
        return;
    };
    let words: Vec<&str> = job.split_whitespace().collect();
    match words.as_slice() {
        ["long-write", root, size] => long_write(Path::new(root), size.parse().unwrap()),
        ["churn", root, tag, rounds] => {
            churn(Path::new(root), tag, rounds.parse().unwrap());
            println!("DONE");
        }
        ["hold", root] => {
            let store = MetaStore::open(root).unwrap();
            let images = store.namespace("default").unwrap().images();
            images
                .create(Image::new(
                    "held:1",
                    Descriptor::new(MANIFEST, Digest::sha256_of(b"h"), 1),
                ))
                .unwrap();
            unreachable!("the job pauses inside the create");
        }
        other => panic!("unknown job {other:?}"),
    }
}

fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn long_write(root: &Path, size: usize) {
    let store = MetaStore::open(root).unwrap();
    let ns = store.namespace("default").unwrap();
    let lease = ns
        .leases()
        .create(LeaseOptions::new().expires_in(Duration::from_secs(600)))
        .unwrap();
    let bytes = pattern(size);
    let digest = Digest::sha256_of(&bytes);
    let content = ns.content(Some(&lease));
    let mut writer = content
        .writer(
            WriterOptions::new("long-write")
                .expected(digest.clone())
                .total(size as u64),
        )
        .unwrap();
    writer.write_all(&bytes[..size / 2]).unwrap();
    println!("READY");
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).unwrap();
    writer.write_all(&bytes[size / 2..]).unwrap();
    let committed = writer
        .commit(size as u64, None, Default::default())
        .unwrap();
    assert_eq!(committed, digest);
    ns.images()
        .create(Image::new(
            "long:1",
            Descriptor::new(LAYER, digest.clone(), size as u64),
        ))
        .unwrap();
    ns.leases().delete(&lease.id).unwrap();
    println!("DONE {digest}");
    std::io::stdout().flush().unwrap();
}

/// Mixed work on one root; panics (fails the process) on any error.
fn churn(root: &Path, tag: &str, rounds: usize) {
    let store = MetaStore::open(root).unwrap();
    let ns = store.namespace("default").unwrap();
    for round in 0..rounds {
        let lease = ns
            .leases()
            .create(LeaseOptions::new().expires_in(Duration::from_secs(600)))
            .unwrap();
        let content = ns.content(Some(&lease));
        let manifest = put(&content, format!("{tag} manifest {round}").as_bytes(), &[]);
        let name = format!("{tag}:{round}");
        ns.images()
            .create(Image::new(
                name.clone(),
                Descriptor::new(MANIFEST, manifest.clone(), 3),
            ))
            .unwrap();
        ns.leases().delete(&lease.id).unwrap();
        assert!(
            ns.images()
                .list(&ImageFilter::all().name_prefix(tag))
                .unwrap()
                .len()
                > round / 2
        );
        ns.images().tag(&name, &format!("{tag}:latest")).unwrap();
        if round % 2 == 1 {
            ns.images().delete(&format!("{tag}:{}", round - 1)).unwrap();
        }
        if round % 4 == 3 {
            store.gc(GcOptions::new()).unwrap();
        }
        // What this process named is intact, whoever collected meanwhile.
        assert!(ns.content(None).info(&manifest).is_ok());
        if round == 0 {
            println!("STARTED");
            std::io::stdout().flush().unwrap();
        }
    }
}

#[test]
fn a_long_write_in_one_process_while_another_lists_writes_and_collects() {
    let fx = fresh();
    let root = fx.root();
    let size = 3 << 20;
    let mut child = spawn(ENTRY, &format!("long-write {} {size}", root.display()), &[]);
    child.wait_for("READY");

    // Meanwhile, here: list, write, name, collect — none of it waits for the
    // child's write, which holds no database lock between its calls.
    let started = Instant::now();
    let ns = fx.ns("default");
    assert!(ns.images().list(&ImageFilter::all()).unwrap().is_empty());
    let lease = ns.leases().create(LeaseOptions::new()).unwrap();
    let graph = write_image(&ns.content(Some(&lease)), "parent", &["linux/amd64"]);
    name_image(&ns, "parent:1", &graph);
    ns.leases().delete(&lease.id).unwrap();
    let report = fx.store.gc(GcOptions::new()).unwrap();
    assert!(
        report.ingests.is_empty(),
        "the child's live ingest is kept: {report:?}"
    );
    assert!(report.local_ingests.is_empty(), "{report:?}");
    let statuses = hoist_content::IngestManager::list_statuses(&ns.content(None)).unwrap();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].offset, (size / 2) as u64);
    let parent_time = started.elapsed();

    child.send("go");
    let digest: Digest = child.wait_for("DONE").parse().unwrap();
    child.wait_success();
    assert_eq!(ns.images().get("long:1").unwrap().target.digest, digest);
    fx.store.gc(GcOptions::new()).unwrap();
    assert_eq!(ns.content(None).info(&digest).unwrap().size, size as u64);
    assert!(ns.images().get("parent:1").is_ok());
    let fsck = fx.store.fsck().unwrap();
    assert!(fsck.is_clean(), "{fsck}");
    assert!(parent_time < Duration::from_secs(30), "{parent_time:?}");
}

#[test]
fn processes_contending_for_the_database_all_succeed() {
    let fx = fresh();
    let root = fx.root();
    let rounds = 12;
    let children: Vec<_> = ["left", "right"]
        .iter()
        .map(|tag| {
            spawn(
                ENTRY,
                &format!("churn {} {tag} {rounds}", root.display()),
                &[],
            )
        })
        .collect();
    // The parent churns too, in this process, at the same time.
    churn(&root, "parent", rounds);
    for mut child in children {
        child.wait_for("DONE");
        child.wait_success();
    }
    let ns = fx.ns("default");
    for tag in ["left", "right", "parent"] {
        let names: Vec<String> = ns
            .images()
            .list(&ImageFilter::all().name_prefix(format!("{tag}:")))
            .unwrap()
            .into_iter()
            .map(|i| i.name)
            .collect();
        // Odd rounds delete the previous round's name.
        let mut expected: Vec<String> = (0..rounds)
            .filter(|r| r % 2 == 1)
            .map(|r| format!("{tag}:{r}"))
            .collect();
        expected.push(format!("{tag}:latest"));
        expected.sort();
        assert_eq!(names, expected);
    }
    fx.store.gc(GcOptions::new()).unwrap();
    // Exactly what the remaining names point at survives.
    let targets: std::collections::BTreeSet<Digest> = ns
        .images()
        .list(&ImageFilter::all())
        .unwrap()
        .into_iter()
        .map(|i| i.target.digest)
        .collect();
    assert_eq!(recorded_set(&ns), targets);
    assert_eq!(disk_set(&fx.store), targets);
    let fsck = fx.store.fsck().unwrap();
    assert!(fsck.is_clean(), "{fsck}");
}

#[test]
fn a_process_stuck_inside_the_database_makes_others_wait_not_fail() {
    let fx = fresh();
    let root = fx.root();
    let mut child = spawn(
        ENTRY,
        &format!("hold {}", root.display()),
        &[(hoist_meta::PAUSE_AT, "image-create:after-batch")],
    );
    child.wait_paused("image-create:after-batch");
    // The lock file says who holds the database, for the waiting log line.
    let note = std::fs::read_to_string(root.join("meta").join("lock")).unwrap();
    assert!(note.contains(&format!("pid {}", child.pid())), "{note}");

    let (done, finished) = mpsc::channel();
    let store = fx.store.clone();
    let waiter = std::thread::spawn(move || {
        let result = store
            .namespace("default")
            .unwrap()
            .images()
            .list(&ImageFilter::all());
        done.send(()).unwrap();
        result
    });
    // Still waiting after a while: it neither fails nor gets in.
    assert!(finished.recv_timeout(Duration::from_millis(300)).is_err());
    child.kill();
    // The kernel dropped the dead holder's lock: the waiter gets in, and sees
    // the batch the child wrote before it was killed.
    finished.recv_timeout(Duration::from_secs(60)).unwrap();
    let images = waiter.join().unwrap().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].name, "held:1");
}

#[test]
fn the_database_is_handed_over_promptly_between_idle_processes() {
    // A process keeps the database open while idle (linger), but lets go as
    // soon as another asks: the second process's first call is not delayed
    // by the linger time.
    let fx = fresh();
    let mut options = manual_gc();
    options.linger = Duration::from_secs(3600);
    let dir = tempfile::tempdir().unwrap();
    let lingering = MetaStore::open_with(dir.path(), options).unwrap();
    lingering
        .namespace("default")
        .unwrap()
        .images()
        .create(Image::new(
            "first:1",
            Descriptor::new(MANIFEST, Digest::sha256_of(b"f"), 1),
        ))
        .unwrap();
    let _ = fx;
    let started = Instant::now();
    let mut child = spawn(
        ENTRY,
        &format!("churn {} child 1", dir.path().display()),
        &[],
    );
    child.wait_for("DONE");
    child.wait_success();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    // And this process gets it back.
    let images = lingering
        .namespace("default")
        .unwrap()
        .images()
        .list(&ImageFilter::all())
        .unwrap();
    assert_eq!(images.len(), 3, "{images:?}");
}

/// While another process works without pause, each call here waits for
/// about one hand-over (the other finishes its call, closes, this one opens),
/// not for the other to run out of work: the process that lets go does not
/// take the database back before the waiter had it.
#[test]
fn a_busy_process_does_not_starve_another() {
    let fx = fresh();
    let root = fx.root();
    let mut child = spawn(ENTRY, &format!("churn {} busy 200", root.display()), &[]);
    child.wait_for("STARTED");
    let images = fx.ns("default").images();
    let count = || {
        images
            .list(&ImageFilter::all().name_prefix("busy:"))
            .unwrap()
            .len()
    };
    let before = count();
    let mut waits = Vec::new();
    let busy_for = Instant::now();
    while busy_for.elapsed() < Duration::from_millis(500) {
        let started = Instant::now();
        count();
        waits.push(started.elapsed());
    }
    let after = count();
    waits.sort();
    let worst = waits[waits.len() - 1];
    assert!(worst < Duration::from_secs(3), "waits {waits:?}");
    child.wait_for("DONE");
    child.wait_success();
    assert!(
        after > before,
        "the child worked meanwhile: {before} -> {after}"
    );
    assert!(fx.store.fsck().unwrap().is_clean());
}
