//! Tests of the local store's on-disk protocol: the layout after a commit,
//! and recovery from each point where a crash can interrupt one.

use std::fs::{self, Permissions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use super::LocalStore;
use super::durable;
use super::ingest::IngestState;
use crate::digest::Digest;
use crate::records::{Labels, WriterOptions};
use crate::store::{ContentWriter, IngestManager, Ingester, Manager};

fn store() -> (tempfile::TempDir, LocalStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path().join("nested/root")).unwrap();
    (dir, store)
}

#[test]
fn a_commit_leaves_a_read_only_blob_and_no_ingest_or_lock() {
    let (_dir, store) = store();
    let digest = Digest::sha256_of(b"laid out");
    let mut writer = store
        .writer(WriterOptions::new("layout").expected(digest.clone()))
        .unwrap();
    writer.write_all(b"laid out").unwrap();
    let ingest = store.layout.ingest("layout");
    assert!(ingest.data.exists() && ingest.state.exists() && ingest.lock.exists());
    assert!(store.layout.digest_lock(&digest).exists());
    writer.commit(8, None, Labels::new()).unwrap();

    let blob = store.root().join("blobs/sha256").join(digest.hex());
    assert_eq!(blob, store.blob_path(&digest));
    assert_eq!(fs::read(&blob).unwrap(), b"laid out");
    assert_eq!(
        fs::metadata(&blob).unwrap().permissions().mode() & 0o777,
        0o444
    );
    assert!(!ingest.dir.exists());
    assert!(!store.layout.digest_lock(&digest).exists());
    assert_eq!(fs::read_dir(store.layout.ingest_root()).unwrap().count(), 0);
}

#[test]
fn a_data_reader_follows_the_writes_and_outlives_the_commit() {
    use std::os::unix::fs::FileExt;
    let (_dir, store) = store();
    let digest = Digest::sha256_of(b"followed bytes");
    let mut writer = store
        .writer(WriterOptions::new("follow").expected(digest.clone()))
        .unwrap();
    let reader = writer.data_reader().unwrap();
    writer.write_all(b"followed").unwrap();
    let mut buf = [0; 14];
    assert_eq!(reader.read_at(&mut buf, 0).unwrap(), 8);
    writer.write_all(b" bytes").unwrap();
    writer.commit(14, None, Labels::new()).unwrap();
    // The ingest is gone; the descriptor reads the published blob's inode.
    assert!(!store.layout.ingest("follow").data.exists());
    assert_eq!(reader.read_at(&mut buf, 0).unwrap(), 14);
    assert_eq!(&buf, b"followed bytes");
}

#[test]
fn a_sync_midway_keeps_the_ingest_writable_and_the_commit_whole() {
    let (_dir, store) = store();
    // Past the writeback window, so a background flusher runs and the sync
    // must stop it; then more bytes start another.
    let first = vec![7u8; 20 << 20];
    let second = vec![9u8; 20 << 20];
    let whole = [first.as_slice(), second.as_slice()].concat();
    let digest = Digest::sha256_of(&whole);
    let mut writer = store
        .writer(WriterOptions::new("synced").expected(digest.clone()))
        .unwrap();
    writer.write_all(&first).unwrap();
    writer.sync().unwrap();
    assert_eq!(writer.status().unwrap().offset, first.len() as u64);
    writer.write_all(&second).unwrap();
    writer.sync().unwrap();
    writer.sync().unwrap();
    assert_eq!(
        writer
            .commit(whole.len() as u64, None, Labels::new())
            .unwrap(),
        digest
    );
    assert_eq!(fs::read(store.blob_path(&digest)).unwrap(), whole);
}

#[test]
fn crash_after_fsync_before_publish_resumes_a_read_only_data_file() {
    let (_dir, store) = store();
    let mut writer = store.writer(WriterOptions::new("r")).unwrap();
    writer.write_all(b"almost").unwrap();
    drop(writer);
    let data = store.layout.ingest("r").data;
    fs::set_permissions(&data, Permissions::from_mode(0o444)).unwrap();

    let mut writer = store.writer(WriterOptions::new("r")).unwrap();
    assert_eq!(writer.offset(), 6);
    writer.write_all(b" done").unwrap();
    let digest = writer.commit(11, None, Labels::new()).unwrap();
    assert_eq!(digest, Digest::sha256_of(b"almost done"));
}

#[test]
fn crash_inside_the_link_fallback_never_writes_into_the_blob() {
    let (_dir, store) = store();
    let digest = Digest::sha256_of(b"published");
    let mut writer = store.writer(WriterOptions::new("first")).unwrap();
    writer.write_all(b"published").unwrap();
    writer.commit(9, None, Labels::new()).unwrap();
    // What a crash between link() and unlink() leaves: an ingest whose data
    // is a second name of the blob.
    let paths = store.layout.ingest("linked");
    fs::create_dir(&paths.dir).unwrap();
    IngestState::new("linked", None, None)
        .write(&paths)
        .unwrap();
    fs::hard_link(store.blob_path(&digest), &paths.data).unwrap();

    let mut writer = store.writer(WriterOptions::new("linked")).unwrap();
    assert_eq!(writer.offset(), 0, "the shared file is not resumed");
    writer.write_all(b"other bytes").unwrap();
    writer.abort().unwrap();
    assert_eq!(fs::read(store.blob_path(&digest)).unwrap(), b"published");
}

#[test]
fn crash_after_publish_before_ingest_removal_is_already_exists() {
    let (_dir, store) = store();
    let digest = Digest::sha256_of(b"done");
    let mut writer = store.writer(WriterOptions::new("other")).unwrap();
    writer.write_all(b"done").unwrap();
    writer.commit(4, None, Labels::new()).unwrap();
    // The ingest that published it, minus its data (renamed away), remains.
    let paths = store.layout.ingest("leftover");
    fs::create_dir(&paths.dir).unwrap();
    IngestState::new("leftover", Some(digest.clone()), Some(4))
        .write(&paths)
        .unwrap();

    let err = store
        .writer(WriterOptions::new("leftover"))
        .expect_err("the stored expected digest is committed");
    assert!(err.is_already_exists(), "{err}");
    assert!(!paths.dir.exists(), "the useless ingest is removed");
}

#[test]
fn an_ingest_without_state_starts_over() {
    let (_dir, store) = store();
    let paths = store.layout.ingest("half-created");
    fs::create_dir(&paths.dir).unwrap();
    fs::write(&paths.data, b"orphan bytes").unwrap();
    assert!(store.status("half-created").unwrap_err().is_not_found());
    let writer = store.writer(WriterOptions::new("half-created")).unwrap();
    assert_eq!(writer.offset(), 0);
    writer.abort().unwrap();
}

#[test]
fn leftovers_of_killed_processes_are_swept() {
    let (_dir, store) = store();
    // Trash of an interrupted removal.
    let trash = store.layout.ingest_root().join(".trash-abc-1-0");
    fs::create_dir(&trash).unwrap();
    fs::write(trash.join("data"), b"x").unwrap();
    // A digest lock file nobody holds, and an orphan ingest directory.
    let digest = Digest::sha256_of(b"never finished");
    fs::write(store.layout.digest_lock(&digest), b"").unwrap();
    let orphan = store.layout.ingest("orphan");
    fs::create_dir(&orphan.dir).unwrap();

    let reopened = LocalStore::open(store.root()).unwrap();
    assert!(!trash.exists());
    assert!(reopened.abort_idle(Duration::ZERO).unwrap().is_empty());
    assert!(!store.layout.digest_lock(&digest).exists());
    assert!(!orphan.dir.exists());
}

#[test]
fn junk_in_blobs_is_not_listed() {
    let (_dir, store) = store();
    fs::write(
        store
            .layout
            .blobs_dir(crate::Algorithm::Sha256)
            .join("not-a-digest"),
        b"",
    )
    .unwrap();
    let mut seen = 0;
    store
        .walk(&crate::Filter::all(), &mut |_| {
            seen += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, 0);
}

#[test]
fn an_open_ingest_waits_for_no_disk_until_close_makes_it_durable() {
    let (_dir, store) = store();
    durable::tests::take_synced();
    let mut writer = store.writer(WriterOptions::new("kept")).unwrap();
    writer.write_all(b"resume me").unwrap();
    assert_eq!(
        durable::tests::take_synced(),
        Vec::<PathBuf>::new(),
        "opening and writing an ingest fsyncs nothing"
    );
    writer.close().unwrap();
    let paths = store.layout.ingest("kept");
    let synced = durable::tests::take_synced();
    for path in [&paths.state, &paths.dir, &store.layout.ingest_root()] {
        assert!(
            synced.contains(path),
            "{} not synced: {synced:?}",
            path.display()
        );
    }
    let writer = store.writer(WriterOptions::new("kept")).unwrap();
    assert_eq!(writer.offset(), 9, "the closed ingest resumes");
    writer.abort().unwrap();
}

#[test]
fn a_commit_fsyncs_the_data_unless_a_sync_covered_every_byte() {
    let (_dir, store) = store();
    let data_synced_at_commit = |steps: &dyn Fn(&mut dyn ContentWriter), whole: &[u8]| {
        let reference = format!("case-{}", Digest::sha256_of(whole).hex());
        let mut writer = store.writer(WriterOptions::new(&reference)).unwrap();
        steps(&mut writer);
        let data = store.layout.ingest(&reference).data;
        durable::tests::take_synced();
        let digest = writer
            .commit(whole.len() as u64, None, Labels::new())
            .unwrap();
        assert_eq!(digest, Digest::sha256_of(whole));
        assert_eq!(fs::read(store.blob_path(&digest)).unwrap(), whole);
        durable::tests::take_synced().contains(&data)
    };
    assert!(data_synced_at_commit(
        &|w| w.write_all(b"never synced").unwrap(),
        b"never synced"
    ));
    assert!(!data_synced_at_commit(
        &|w| {
            w.write_all(b"synced whole").unwrap();
            w.sync().unwrap();
        },
        b"synced whole"
    ));
    assert!(data_synced_at_commit(
        &|w| {
            w.write_all(b"synced, ").unwrap();
            w.sync().unwrap();
            w.write_all(b"then more").unwrap();
        },
        b"synced, then more"
    ));
    // Back to the synced length, with other bytes: the sync covered none of them.
    assert!(data_synced_at_commit(
        &|w| {
            w.write_all(b"abcd").unwrap();
            w.sync().unwrap();
            w.truncate(2).unwrap();
            w.write_all(b"xy").unwrap();
        },
        b"abxy"
    ));
}

#[test]
fn an_ingest_whose_state_a_power_cut_emptied_or_garbled_starts_over() {
    let (_dir, store) = store();
    for (i, junk) in [&b""[..], b"{\"version\":1,\"refer", b"\0\0\0\0"]
        .into_iter()
        .enumerate()
    {
        let reference = format!("cut-{i}");
        let paths = store.layout.ingest(&reference);
        fs::create_dir(&paths.dir).unwrap();
        fs::write(&paths.state, junk).unwrap();
        fs::write(&paths.data, b"bytes of unknown origin").unwrap();
        let mut writer = store.writer(WriterOptions::new(&reference)).unwrap();
        assert_eq!(writer.offset(), 0, "{junk:?}: not resumed");
        let fresh = format!("fresh bytes {i}");
        writer.write_all(fresh.as_bytes()).unwrap();
        let digest = writer
            .commit(fresh.len() as u64, None, Labels::new())
            .unwrap();
        assert_eq!(
            fs::read(store.blob_path(&digest)).unwrap(),
            fresh.as_bytes()
        );
    }
}
