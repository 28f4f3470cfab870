//! The cases. Each `pub fn` here is a case the macro must list (the guard
//! checks); helpers are private.

use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Barrier;
use std::time::{Duration, SystemTime};

use crate::digest::{Algorithm, Digest};
use crate::error::{ErrorKind, Result};
use crate::filter::Filter;
use crate::reader::BlobReader;
use crate::records::{Labels, WriterOptions};
use crate::store::{ContentWriter, Store};
use crate::testsuite::Suite;
use crate::testsuite::child::{self, Job};
use crate::testsuite::data::Pattern;
use crate::writing::{copy, open_writer_waiting, write_blob};

const MIB: u64 = 1 << 20;

/// Basic write, status, commit and read back.
pub fn basic_write_commit_read<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let content = Pattern::new(1).bytes(300_000);
    let digest = Digest::sha256_of(&content);
    let before = SystemTime::now();
    let mut writer = store
        .writer(
            WriterOptions::new("basic")
                .expected(digest.clone())
                .total(content.len() as u64),
        )
        .unwrap();
    assert_eq!(writer.offset(), 0);
    writer.write_all(&content[..100_000]).unwrap();
    let status = writer.status().unwrap();
    assert_eq!(status.reference, "basic");
    assert_eq!(status.offset, 100_000);
    assert_eq!(status.total, Some(content.len() as u64));
    assert_eq!(status.expected.as_ref(), Some(&digest));
    assert!(status.started_at <= status.updated_at);
    assert!(status.started_at + Duration::from_secs(1) >= before);
    assert_eq!(writer.digest(), Digest::sha256_of(&content[..100_000]));
    // The store sees the ingest too.
    let seen = store.status("basic").unwrap();
    assert_eq!(seen.offset, 100_000);
    assert_eq!(seen.expected.as_ref(), Some(&digest));
    writer.write_all(&content[100_000..]).unwrap();
    let committed = writer
        .commit(content.len() as u64, None, Labels::new())
        .unwrap();
    assert_eq!(committed, digest);

    let info = store.info(&digest).unwrap();
    assert_eq!(info.digest, digest);
    assert_eq!(info.size, content.len() as u64);
    assert!(info.created_at <= SystemTime::now() + Duration::from_secs(1));
    let mut reader = store.reader(&digest).unwrap();
    assert_eq!(reader.size(), content.len() as u64);
    assert_eq!(reader.digest(), &digest);
    assert_eq!(read_all(&mut reader), content);
    assert!(matches!(store.status("basic"), Err(e) if e.is_not_found()));
    assert!(store.list_statuses().unwrap().is_empty());
}

/// A writer for a committed digest is refused before any byte is written.
pub fn writer_for_committed_digest_is_already_exists<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let digest = commit_bytes(&store, "first", b"some content");
    let err = store
        .writer(WriterOptions::new("second").expected(digest.clone()))
        .err()
        .expect("a writer for committed content is refused");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert!(err.to_string().contains(digest.as_str()), "{err}");
    assert!(matches!(store.status("second"), Err(e) if e.is_not_found()));
    // write_blob takes already-exists as success.
    write_blob(
        &store,
        "third",
        &b"some content"[..],
        &digest,
        12,
        Labels::new(),
    )
    .unwrap();
}

/// Committing content that is already there reports already-exists and
/// cleans the ingest; the blob stays intact.
pub fn commit_of_existing_content_is_already_exists<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let digest = commit_bytes(&store, "first", b"twice");
    let mut writer = store.writer(WriterOptions::new("again")).unwrap();
    writer.write_all(b"twice").unwrap();
    let err = writer.commit(5, Some(&digest), Labels::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert!(matches!(store.status("again"), Err(e) if e.is_not_found()));
    assert_eq!(read_all(&mut store.reader(&digest).unwrap()), b"twice");
}

/// A wrong size fails, publishes nothing and keeps the ingest for resume.
pub fn commit_with_wrong_size_fails_and_keeps_the_ingest<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let digest = Digest::sha256_of(b"sized");
    let mut writer = store.writer(WriterOptions::new("sized")).unwrap();
    writer.write_all(b"sized").unwrap();
    let err = writer.commit(6, Some(&digest), Labels::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    assert_absent(&store, &digest);
    assert_eq!(store.status("sized").unwrap().offset, 5);
    // The announced total is checked as well.
    let mut writer = store.writer(WriterOptions::new("total").total(10)).unwrap();
    writer.write_all(b"sized").unwrap();
    let err = writer.commit(5, Some(&digest), Labels::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    assert_absent(&store, &digest);
    // The kept ingest resumes and commits.
    let writer = store.writer(WriterOptions::new("sized")).unwrap();
    assert_eq!(writer.offset(), 5);
    assert_eq!(
        writer.commit(5, Some(&digest), Labels::new()).unwrap(),
        digest
    );
}

/// A wrong digest fails and nothing appears: neither the wrong digest nor the
/// actual one is visible through `info`, `reader` or `walk`.
pub fn commit_with_wrong_digest_publishes_nothing<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let wrong = Digest::sha256_of(b"something else");
    let actual = Digest::sha256_of(b"payload");
    let mut writer = store.writer(WriterOptions::new("mismatch")).unwrap();
    writer.write_all(b"payload").unwrap();
    let err = writer.commit(7, Some(&wrong), Labels::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    assert!(err.to_string().contains(wrong.as_str()), "{err}");
    assert_absent(&store, &wrong);
    assert_absent(&store, &actual);
    // The same through the writer's own expected digest.
    let mut writer = store
        .writer(WriterOptions::new("mismatch-2").expected(wrong.clone()))
        .unwrap();
    writer.write_all(b"payload").unwrap();
    let err = writer.commit(7, None, Labels::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    assert_absent(&store, &wrong);
    assert_absent(&store, &actual);
    assert!(walk_digests(&store, &Filter::all()).is_empty());
    // The expected digest is free again for a correct writer.
    let right = Digest::sha256_of(b"something else");
    write_blob(
        &store,
        "right",
        &b"something else"[..],
        &right,
        14,
        Labels::new(),
    )
    .unwrap();
    assert_eq!(walk_digests(&store, &Filter::all()), vec![right]);
}

/// A closed writer resumes at its offset with the digest state recovered.
pub fn resume_after_close<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let pattern = Pattern::new(2);
    let size = 2 * MIB + 17;
    let digest = pattern.digest(size);
    let options = WriterOptions::new("resume")
        .expected(digest.clone())
        .total(size);
    let mut writer = store.writer(options.clone()).unwrap();
    writer.write_all(&pattern.bytes(MIB as usize + 5)).unwrap();
    writer.close().unwrap();
    let status = store.status("resume").unwrap();
    assert_eq!(status.offset, MIB + 5);
    assert_eq!(status.total, Some(size));
    assert_eq!(status.expected.as_ref(), Some(&digest));

    // Reopen without repeating what is expected: the ingest remembers.
    let writer = store.writer(WriterOptions::new("resume")).unwrap();
    assert_eq!(writer.offset(), MIB + 5);
    assert_eq!(writer.digest(), pattern.digest(MIB + 5));
    let status = writer.status().unwrap();
    assert_eq!(status.expected.as_ref(), Some(&digest));
    assert_eq!(status.total, Some(size));
    let mut source = pattern.reader(size);
    let committed = copy(writer, &mut source, size, &digest, Labels::new()).unwrap();
    assert_eq!(committed, digest);
    assert_eq!(
        source.bytes_read(),
        size - (MIB + 5),
        "copy resumed at the offset"
    );
    assert_eq!(stream_digest(store.reader(&digest).unwrap()), digest);
}

/// Truncating to zero restarts the ingest, also across a close.
pub fn resume_after_truncate<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let content = Pattern::new(3).bytes(70_000);
    let digest = Digest::sha256_of(&content);
    let mut writer = store.writer(WriterOptions::new("trunc")).unwrap();
    writer.write_all(b"garbage that must go").unwrap();
    writer.truncate(0).unwrap();
    assert_eq!(writer.offset(), 0);
    assert_eq!(writer.digest(), Digest::sha256_of(b""));
    writer.write_all(&content[..1000]).unwrap();
    writer.close().unwrap();
    assert_eq!(store.status("trunc").unwrap().offset, 1000);

    let mut writer = store.writer(WriterOptions::new("trunc")).unwrap();
    assert_eq!(writer.offset(), 1000);
    writer.truncate(0).unwrap();
    writer.close().unwrap();
    assert_eq!(store.status("trunc").unwrap().offset, 0);

    let mut writer = store.writer(WriterOptions::new("trunc")).unwrap();
    assert_eq!(writer.offset(), 0);
    writer.write_all(&content).unwrap();
    let committed = writer
        .commit(content.len() as u64, Some(&digest), Labels::new())
        .unwrap();
    assert_eq!(committed, digest);
    assert_eq!(read_all(&mut store.reader(&digest).unwrap()), content);
}

/// A writer started in another process, which closed it and exited, is
/// resumed here at its offset.
pub fn resume_in_a_new_process<S: Store>(suite: &Suite<S>) {
    let dir = scratch();
    let root = dir.path().join("store");
    let pattern = Pattern::new(4);
    let size = 3 * MIB + 123;
    let digest = pattern.digest(size);
    let written = size / 2;
    let job = Job {
        root: root.clone(),
        reference: "child-resume".into(),
        expected: Some(digest.clone()),
        total: Some(size),
        seed: 4,
        bytes: written,
        hang: false,
    };
    let mut process = child::spawn(suite.child_test(), &job, dir.path());
    process.wait_ready();
    process.wait_success();

    let store = suite.open(&root);
    let status = store.status("child-resume").unwrap();
    assert_eq!(status.offset, written);
    assert_eq!(status.expected.as_ref(), Some(&digest));
    let writer = store
        .writer(
            WriterOptions::new("child-resume")
                .expected(digest.clone())
                .total(size),
        )
        .unwrap();
    assert_eq!(writer.offset(), written);
    assert_eq!(writer.digest(), pattern.digest(written));
    let committed = copy(writer, pattern.reader(size), size, &digest, Labels::new()).unwrap();
    assert_eq!(committed, digest);
    assert_eq!(stream_digest(store.reader(&digest).unwrap()), digest);
}

/// A writer process SIGKILLed mid-write leaves an ingest that is not locked
/// (the dead holder blocks nobody) and resumes where the child got to.
pub fn resume_after_the_writer_process_is_killed<S: Store>(suite: &Suite<S>) {
    let dir = scratch();
    let root = dir.path().join("store");
    let pattern = Pattern::new(5);
    let size = 4 * MIB + 1;
    let digest = pattern.digest(size);
    let written = MIB + 4321;
    let job = Job {
        root: root.clone(),
        reference: "child-killed".into(),
        expected: Some(digest.clone()),
        total: Some(size),
        seed: 5,
        bytes: written,
        hang: true,
    };
    let mut process = child::spawn(suite.child_test(), &job, dir.path());
    process.wait_ready();
    process.kill();

    let store = suite.open(&root);
    // Neither the reference nor the digest is blocked by the dead holder.
    let writer = store
        .writer(
            WriterOptions::new("child-killed")
                .expected(digest.clone())
                .total(size),
        )
        .unwrap();
    assert_eq!(writer.offset(), written);
    assert_eq!(writer.digest(), pattern.digest(written));
    let committed = copy(writer, pattern.reader(size), size, &digest, Labels::new()).unwrap();
    assert_eq!(committed, digest);
    assert_eq!(stream_digest(store.reader(&digest).unwrap()), digest);
    assert!(store.list_statuses().unwrap().is_empty());
}

/// A live writer in another process holds its reference and its expected
/// digest; the errors say which pid holds them and since when.
pub fn writer_in_another_process_holds_ref_and_digest<S: Store>(suite: &Suite<S>) {
    let dir = scratch();
    let root = dir.path().join("store");
    let pattern = Pattern::new(6);
    let size = MIB;
    let digest = pattern.digest(size);
    let job = Job {
        root: root.clone(),
        reference: "held-elsewhere".into(),
        expected: Some(digest.clone()),
        total: Some(size),
        seed: 6,
        bytes: 1000,
        hang: true,
    };
    let mut process = child::spawn(suite.child_test(), &job, dir.path());
    let pid = process.wait_ready();
    assert_eq!(pid, process.pid());
    let store = suite.open(&root);

    let err = store
        .writer(WriterOptions::new("held-elsewhere"))
        .err()
        .expect("the reference is held by the child");
    assert_unavailable_by(&err, pid);
    let err = store
        .writer(WriterOptions::new("another-ref").expected(digest.clone()))
        .err()
        .expect("the digest is held by the child");
    assert_unavailable_by(&err, pid);
    assert!(matches!(store.status("another-ref"), Err(e) if e.is_not_found()));
    let err = store.abort("held-elsewhere").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(store.abort_idle(Duration::ZERO).unwrap().is_empty());
    assert_eq!(store.status("held-elsewhere").unwrap().offset, 1000);

    process.kill();
    let writer = store.writer(WriterOptions::new("held-elsewhere")).unwrap();
    assert_eq!(writer.offset(), 1000);
    writer.abort().unwrap();
    assert!(matches!(store.status("held-elsewhere"), Err(e) if e.is_not_found()));
}

/// Two writers on one reference in one process: the second is refused with
/// who and since when; a waiting helper gets the writer once it is released.
pub fn concurrent_writers_on_one_ref<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let before = SystemTime::now();
    let mut first = store.writer(WriterOptions::new("shared-ref")).unwrap();
    first.write_all(b"first writer's bytes").unwrap();
    let err = store
        .writer(WriterOptions::new("shared-ref"))
        .err()
        .expect("the reference is held");
    assert_unavailable_by(&err, std::process::id());
    let since = err.holder().expect("holder").since;
    assert!(since + Duration::from_secs(1) >= before, "since {since:?}");
    let err = open_writer_waiting(
        &store,
        WriterOptions::new("shared-ref"),
        Duration::from_millis(20),
    )
    .err()
    .expect("patience runs out while the writer is held");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");

    let (opened, ()) = std::thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            open_writer_waiting(
                &store,
                WriterOptions::new("shared-ref"),
                Duration::from_secs(120),
            )
        });
        first.write_all(b", more").unwrap();
        first.close().unwrap();
        (waiter.join().unwrap(), ())
    });
    let second = opened.unwrap();
    assert_eq!(
        second.offset(),
        26,
        "the waiter resumes what the first wrote"
    );
    let content = b"first writer's bytes, more";
    assert_eq!(second.digest(), Digest::sha256_of(content));
    let digest = second.commit(26, None, Labels::new()).unwrap();
    assert_eq!(read_all(&mut store.reader(&digest).unwrap()), content);
}

/// Writers of one digest under different references (one layer shared by four
/// platforms): one downloads, the others wait and succeed without reading.
pub fn concurrent_writers_on_one_digest_download_once<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let pattern = Pattern::new(7);
    let size = 3 * MIB;
    let digest = pattern.digest(size);

    // While one writer holds the digest, another reference for it is refused.
    let mut holder = store
        .writer(WriterOptions::new("platform-a").expected(digest.clone()))
        .unwrap();
    let err = store
        .writer(WriterOptions::new("platform-b").expected(digest.clone()))
        .err()
        .expect("the digest is being written");
    assert_unavailable_by(&err, std::process::id());
    assert!(matches!(store.status("platform-b"), Err(e) if e.is_not_found()));
    holder.write_all(&pattern.bytes(1000)).unwrap();
    holder.abort().unwrap();

    let barrier = Barrier::new(4);
    let reads: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["amd64", "arm64", "arm-v7", "ppc64le"]
            .into_iter()
            .map(|platform| {
                let (store, barrier, pattern, digest) = (&store, &barrier, &pattern, &digest);
                scope.spawn(move || {
                    let mut source = pattern.reader(size);
                    barrier.wait();
                    write_blob(
                        store,
                        &format!("pull-{platform}"),
                        &mut source,
                        digest,
                        size,
                        Labels::new(),
                    )
                    .unwrap();
                    source.bytes_read()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        reads.iter().sum::<u64>(),
        size,
        "exactly one download: {reads:?}"
    );
    assert_eq!(reads.iter().filter(|r| **r > 0).count(), 1, "{reads:?}");
    assert_eq!(stream_digest(store.reader(&digest).unwrap()), digest);
    assert!(store.list_statuses().unwrap().is_empty());
}

/// A reader opened before a delete keeps reading; delete is idempotent.
pub fn delete_while_a_reader_is_open<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let content = Pattern::new(8).bytes(200_000);
    let digest = commit_bytes(&store, "doomed", &content);
    let mut reader = store.reader(&digest).unwrap();
    let mut head = vec![0; 1000];
    reader.read_exact(&mut head).unwrap();
    store.delete(&digest).unwrap();
    assert_absent(&store, &digest);
    store.delete(&digest).unwrap();
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    head.extend_from_slice(&rest);
    assert_eq!(head, content);
    let mut tail = [0; 10];
    assert_eq!(reader.read_at(&mut tail, 199_990).unwrap(), 10);
    assert_eq!(tail, content[199_990..]);
    // Never committed: deleting is still fine.
    store.delete(&Digest::sha256_of(b"never there")).unwrap();
}

/// `walk` lists committed blobs (and no ingest), honours filters and stops
/// at the visitor's first error.
pub fn walk_and_filters<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let a = commit_bytes(&store, "a", b"alpha");
    let b = commit_bytes(&store, "b", b"beta");
    let c = commit_bytes(&store, "c", b"gamma");
    let long = commit_with(&store, "long", Algorithm::Sha512, b"delta");
    let mut pending = store.writer(WriterOptions::new("pending")).unwrap();
    pending.write_all(b"not committed").unwrap();

    let mut all = walk_digests(&store, &Filter::all());
    all.sort();
    let mut want = vec![a.clone(), b.clone(), c.clone(), long.clone()];
    want.sort();
    assert_eq!(all, want);
    let mut sha256 = walk_digests(&store, &Filter::all().algorithm(Algorithm::Sha256));
    sha256.sort();
    let mut want256 = vec![a.clone(), b.clone(), c.clone()];
    want256.sort();
    assert_eq!(sha256, want256);
    assert_eq!(
        walk_digests(&store, &Filter::all().algorithm(Algorithm::Sha512)),
        vec![long.clone()]
    );
    assert_eq!(
        walk_digests(&store, &Filter::all().digest_prefix(&a.as_str()[..20])),
        vec![a.clone()]
    );
    assert!(walk_digests(&store, &Filter::all().label("hoist.test/absent", None)).is_empty());

    let mut infos = Vec::new();
    store
        .walk(&Filter::all(), &mut |info| {
            infos.push(info);
            Ok(())
        })
        .unwrap();
    let alpha = infos.iter().find(|i| i.digest == a).expect("a is walked");
    assert_eq!(alpha.size, 5);

    let mut visited = 0;
    let err = store
        .walk(&Filter::all(), &mut |_| {
            visited += 1;
            Err(crate::Error::new(ErrorKind::Internal, "stop here"))
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert_eq!(visited, 1, "the walk stops at the first error");
    pending.abort().unwrap();
}

/// Empty and small blobs, around a page size.
pub fn small_and_empty_blobs<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let empty = Digest::sha256_of(b"");
    let writer = store
        .writer(WriterOptions::new("empty").expected(empty.clone()).total(0))
        .unwrap();
    assert_eq!(writer.commit(0, None, Labels::new()).unwrap(), empty);
    assert_eq!(store.info(&empty).unwrap().size, 0);
    let mut reader = store.reader(&empty).unwrap();
    assert_eq!(reader.size(), 0);
    assert!(read_all(&mut reader).is_empty());
    assert_eq!(reader.read_at(&mut [0; 4], 0).unwrap(), 0);

    let pattern = Pattern::new(9);
    for len in [1, 2, 511, 4095, 4096, 4097, 65_537] {
        let content = pattern.bytes(len);
        let digest = Digest::sha256_of(&content);
        write_blob(
            &store,
            &format!("small-{len}"),
            &content[..],
            &digest,
            len as u64,
            Labels::new(),
        )
        .unwrap();
        assert_eq!(store.info(&digest).unwrap().size, len as u64);
        assert_eq!(read_all(&mut store.reader(&digest).unwrap()), content);
    }
}

/// SHA-512 digests are accepted end to end.
pub fn sha512_blobs<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let content = Pattern::new(10).bytes(100_000);
    let digest = Digest::of(Algorithm::Sha512, &content);
    write_blob(
        &store,
        "sha512",
        &content[..],
        &digest,
        100_000,
        Labels::new(),
    )
    .unwrap();
    assert_eq!(store.info(&digest).unwrap().size, 100_000);
    assert_eq!(read_all(&mut store.reader(&digest).unwrap()), content);
    // A sha512 expectation at commit for a writer opened without one.
    let other = Pattern::new(11).bytes(5000);
    let other_digest = Digest::of(Algorithm::Sha512, &other);
    let mut writer = store.writer(WriterOptions::new("sha512-late")).unwrap();
    writer.write_all(&other).unwrap();
    assert_eq!(
        writer
            .commit(5000, Some(&other_digest), Labels::new())
            .unwrap(),
        other_digest
    );
    assert!(matches!(store.info(&Digest::sha256_of(&other)), Err(e) if e.is_not_found()));
}

/// Random access and seeking on a reader.
pub fn random_access_and_seek<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let content = Pattern::new(12).bytes(150_000);
    let digest = commit_bytes(&store, "random", &content);
    let mut reader = store.reader(&digest).unwrap();
    let mut buf = [0; 100];
    assert_eq!(reader.read_at(&mut buf, 70_000).unwrap(), 100);
    assert_eq!(buf[..], content[70_000..70_100]);
    assert_eq!(reader.read_at(&mut buf, 149_950).unwrap(), 50);
    assert_eq!(buf[..50], content[149_950..]);
    assert_eq!(reader.read_at(&mut buf, 150_000).unwrap(), 0);
    assert_eq!(reader.read_at(&mut buf, u64::MAX).unwrap(), 0);
    assert_eq!(reader.seek(SeekFrom::Start(1234)).unwrap(), 1234);
    reader.read_exact(&mut buf).unwrap();
    assert_eq!(buf[..], content[1234..1334]);
    assert_eq!(reader.seek(SeekFrom::End(-10)).unwrap(), 149_990);
    let mut tail = Vec::new();
    reader.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, content[149_990..]);
    assert_eq!(reader.seek(SeekFrom::Current(-20)).unwrap(), 149_980);
    assert!(reader.seek(SeekFrom::Current(-200_000)).is_err());
    // read_at does not move the stream position.
    assert_eq!(reader.seek(SeekFrom::Start(5)).unwrap(), 5);
    reader.read_at(&mut buf, 1000).unwrap();
    reader.read_exact(&mut buf[..1]).unwrap();
    assert_eq!(buf[0], content[5]);
}

/// Ingests are listed with their status and can be aborted.
pub fn ingest_listing_and_abort<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let expected = Digest::sha256_of(b"unrelated");
    let mut one = store
        .writer(
            WriterOptions::new("one")
                .expected(expected.clone())
                .total(9),
        )
        .unwrap();
    one.write_all(b"unre").unwrap();
    one.close().unwrap();
    let mut two = store
        .writer(WriterOptions::new("two/with:odd chars"))
        .unwrap();
    two.write_all(b"xy").unwrap();

    let statuses = store.list_statuses().unwrap();
    let refs: Vec<_> = statuses.iter().map(|s| s.reference.as_str()).collect();
    assert_eq!(refs, ["one", "two/with:odd chars"]);
    assert_eq!(statuses[0].offset, 4);
    assert_eq!(statuses[0].total, Some(9));
    assert_eq!(statuses[0].expected.as_ref(), Some(&expected));
    assert_eq!(statuses[1].offset, 2);
    assert_eq!(statuses[1].expected, None);

    store.abort("one").unwrap();
    assert!(matches!(store.status("one"), Err(e) if e.is_not_found()));
    assert!(matches!(store.abort("one"), Err(e) if e.is_not_found()));
    assert!(matches!(store.abort("never"), Err(e) if e.is_not_found()));
    // A live writer's ingest cannot be aborted from outside.
    let err = store.abort("two/with:odd chars").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    two.abort().unwrap();
    assert!(store.list_statuses().unwrap().is_empty());
    // The aborted reference starts afresh.
    let writer = store.writer(WriterOptions::new("one")).unwrap();
    assert_eq!(writer.offset(), 0);
    assert_eq!(writer.status().unwrap().expected, None);
    writer.abort().unwrap();
}

/// `abort_idle` removes ingests idle for longer than the age, skipping live ones.
pub fn abort_idle_skips_live_writers<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    for name in ["idle-1", "idle-2"] {
        let mut writer = store.writer(WriterOptions::new(name)).unwrap();
        writer.write_all(name.as_bytes()).unwrap();
        writer.close().unwrap();
    }
    let mut live = store.writer(WriterOptions::new("live")).unwrap();
    live.write_all(b"busy").unwrap();

    assert!(
        store
            .abort_idle(Duration::from_secs(3600))
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.list_statuses().unwrap().len(), 3);
    let aborted = store.abort_idle(Duration::ZERO).unwrap();
    assert_eq!(aborted, ["idle-1", "idle-2"]);
    let left: Vec<_> = store
        .list_statuses()
        .unwrap()
        .into_iter()
        .map(|s| s.reference)
        .collect();
    assert_eq!(left, ["live"]);
    live.write_all(b" still").unwrap();
    let digest = live.commit(10, None, Labels::new()).unwrap();
    assert_eq!(read_all(&mut store.reader(&digest).unwrap()), b"busy still");
}

/// Bad input gets the right error kinds.
pub fn invalid_input_is_rejected<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let err = store
        .writer(WriterOptions::new(""))
        .err()
        .expect("empty ref");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    let bad = "sha256:NOT-A-DIGEST";
    let err = bad.parse::<Digest>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains(bad), "{err}");

    let mut writer = store.writer(WriterOptions::new("check")).unwrap();
    writer.write_all(b"abc").unwrap();
    let err = writer.truncate(4).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    writer.close().unwrap();

    // A resumed ingest keeps what it was opened for.
    let first = Digest::sha256_of(b"first");
    let mut writer = store
        .writer(WriterOptions::new("pinned").expected(first).total(5))
        .unwrap();
    writer.write_all(b"fir").unwrap();
    writer.close().unwrap();
    let err = store
        .writer(WriterOptions::new("pinned").expected(Digest::sha256_of(b"other")))
        .err()
        .expect("another expected digest");
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    let err = store
        .writer(WriterOptions::new("pinned").total(6))
        .err()
        .expect("another total");
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    assert_eq!(store.status("pinned").unwrap().offset, 3);
}

/// `copy` seeks its source to the writer's offset and reads only the rest;
/// a short source fails and keeps what was written.
pub fn copy_resumes_from_the_writer_offset<S: Store>(suite: &Suite<S>) {
    let (_dir, store) = fresh(suite);
    let pattern = Pattern::new(13);
    let size = 300_000;
    let digest = pattern.digest(size);
    let writer = store.writer(WriterOptions::new("copy")).unwrap();
    let err = copy(
        writer,
        pattern.reader(100_000),
        size,
        &digest,
        Labels::new(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    assert_absent(&store, &digest);
    assert_eq!(store.status("copy").unwrap().offset, 100_000);

    let writer = store.writer(WriterOptions::new("copy")).unwrap();
    let mut source = pattern.reader(size);
    assert_eq!(
        copy(writer, &mut source, size, &digest, Labels::new()).unwrap(),
        digest
    );
    assert_eq!(source.bytes_read(), size - 100_000);
    assert_eq!(stream_digest(store.reader(&digest).unwrap()), digest);
    // Copying committed content again is a success.
    let writer = store.writer(WriterOptions::new("copy-again")).unwrap();
    assert_eq!(
        copy(writer, pattern.reader(size), size, &digest, Labels::new()).unwrap(),
        digest
    );
}

/// A 1 GiB blob streams through the store without holding it in memory.
pub fn streaming_a_gib_blob_in_flat_memory<S: Store>(suite: &Suite<S>) {
    const GIB: u64 = 1 << 30;
    let (_dir, store) = fresh(suite);
    let pattern = Pattern::new(14);
    let digest = pattern.digest(GIB);
    let peak_before = peak_rss_bytes();
    let mut source = pattern.reader(GIB);
    write_blob(&store, "gib", &mut source, &digest, GIB, Labels::new()).unwrap();
    assert_eq!(source.bytes_read(), GIB);
    assert_eq!(store.info(&digest).unwrap().size, GIB);
    assert_eq!(stream_digest(store.reader(&digest).unwrap()), digest);
    if let (Some(before), Some(after)) = (peak_before, peak_rss_bytes()) {
        // Other cases may run in this process at the same time; none comes
        // near this bound, and holding the blob would exceed it four times.
        assert!(
            after.saturating_sub(before) < 256 * MIB,
            "peak RSS grew by {} MiB while streaming 1 GiB",
            (after - before) / MIB
        );
    }
    store.delete(&digest).unwrap();
}

// ----- helpers (not cases: no `pub`) -----

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("hoist-content-conformance-")
        .tempdir()
        .expect("a temporary directory")
}

fn fresh<S: Store>(suite: &Suite<S>) -> (tempfile::TempDir, S) {
    let dir = scratch();
    let store = suite.open(&dir.path().join("store"));
    (dir, store)
}

fn commit_bytes<S: Store>(store: &S, reference: &str, content: &[u8]) -> Digest {
    commit_with(store, reference, Algorithm::Sha256, content)
}

fn commit_with<S: Store>(
    store: &S,
    reference: &str,
    algorithm: Algorithm,
    content: &[u8],
) -> Digest {
    let digest = Digest::of(algorithm, content);
    let mut writer = store
        .writer(WriterOptions::new(reference).expected(digest.clone()))
        .unwrap();
    writer.write_all(content).unwrap();
    writer
        .commit(content.len() as u64, None, Labels::new())
        .unwrap()
}

fn read_all(reader: &mut BlobReader) -> Vec<u8> {
    let mut content = Vec::new();
    reader.read_to_end(&mut content).unwrap();
    content
}

fn stream_digest(mut reader: BlobReader) -> Digest {
    let mut digester = crate::Digester::new(reader.digest().algorithm());
    std::io::copy(&mut reader, &mut digester).unwrap();
    digester.finish()
}

fn walk_digests<S: Store>(store: &S, filter: &Filter) -> Vec<Digest> {
    let mut digests = Vec::new();
    store
        .walk(filter, &mut |info| -> Result<()> {
            digests.push(info.digest);
            Ok(())
        })
        .unwrap();
    digests
}

fn assert_absent<S: Store>(store: &S, digest: &Digest) {
    assert!(
        matches!(store.info(digest), Err(e) if e.is_not_found()),
        "{digest} must not be committed"
    );
    assert!(matches!(store.reader(digest), Err(e) if e.is_not_found()));
    assert!(!walk_digests(store, &Filter::all()).contains(digest));
}

fn assert_unavailable_by(err: &crate::Error, pid: u32) {
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let holder = err.holder().unwrap_or_else(|| panic!("no holder in {err}"));
    assert_eq!(holder.pid, pid, "{err}");
    assert!(holder.since <= SystemTime::now() + Duration::from_secs(1));
    let message = err.to_string();
    assert!(message.contains(&format!("pid {pid}")), "{message}");
    assert!(message.contains("since"), "{message}");
}

/// The process's peak resident set (VmHWM), where /proc has it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
