//! The content store conformance suite, run against a namespace of the meta
//! store (the same cases the local store passes), plus the cases that only a
//! namespaced store has: visibility and deletion across namespaces.

// Helpers outside #[test] functions (child processes, factories) unwrap too:
// a failure is the test's failure, reported by the panic.
#![allow(clippy::unwrap_used)]

/// The suite, against namespace "conformance" of a fresh root.
mod namespaced {
    fn open(root: &std::path::Path) -> hoist_meta::Content {
        hoist_meta::MetaStore::open(root)
            .unwrap()
            .namespace("conformance")
            .unwrap()
            .content(None)
    }
    hoist_content::content_store_conformance!(open);
}

/// The suite again, with every write recorded on a lease.
mod leased {
    fn open(root: &std::path::Path) -> hoist_meta::Content {
        let ns = hoist_meta::MetaStore::open(root)
            .unwrap()
            .namespace("leased")
            .unwrap();
        let lease = match ns.leases().get("conformance") {
            Ok(lease) => lease,
            Err(_) => ns
                .leases()
                .create(hoist_meta::LeaseOptions::new().id("conformance"))
                .unwrap(),
        };
        ns.content(Some(&lease))
    }
    hoist_content::content_store_conformance!(open);
}

/// What only a namespaced store has: blobs and ingests are per namespace,
/// the files are shared.
mod cross_namespace {
    use std::io::{Read, Write};

    use hoist_content::{
        ContentWriter, Digest, ErrorKind, Filter, IngestManager, Ingester, Manager, Provider,
        WriterOptions, write_blob,
    };
    use hoist_meta::{GcOptions, MetaStore};

    fn store() -> (tempfile::TempDir, MetaStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::open(dir.path()).unwrap();
        (dir, store)
    }

    fn walked(content: &hoist_meta::Content) -> Vec<Digest> {
        let mut digests = Vec::new();
        content
            .walk(&Filter::all(), &mut |info| {
                digests.push(info.digest);
                Ok(())
            })
            .unwrap();
        digests
    }

    #[test]
    fn a_blob_written_in_a_is_invisible_in_b_until_b_records_it() {
        let (_dir, store) = store();
        let a = store.namespace("a").unwrap().content(None);
        let b = store.namespace("b").unwrap().content(None);
        let bytes = b"written in a";
        let digest = Digest::sha256_of(bytes);
        write_blob(&a, "w", &bytes[..], &digest, 12, Default::default()).unwrap();

        assert!(matches!(b.info(&digest), Err(e) if e.is_not_found()));
        assert!(matches!(b.reader(&digest), Err(e) if e.is_not_found()));
        assert!(walked(&b).is_empty());
        // b may not claim it without the bytes: its writer opens (no
        // already-exists), and wrong bytes fail the commit.
        let mut writer = b
            .writer(WriterOptions::new("claim").expected(digest.clone()))
            .unwrap();
        writer.write_all(b"not the bytes").unwrap();
        let err = writer.commit(13, None, Default::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
        assert!(matches!(b.info(&digest), Err(e) if e.is_not_found()));
        assert!(matches!(b.status("claim"), Err(e) if e.is_not_found()));

        // With the right bytes b records it; the file on disk is the same one.
        write_blob(&b, "w", &bytes[..], &digest, 12, Default::default()).unwrap();
        let mut read = Vec::new();
        b.reader(&digest).unwrap().read_to_end(&mut read).unwrap();
        assert_eq!(read, bytes);
        assert_eq!(walked(&b), std::slice::from_ref(&digest));
        // Writing it again in b is already-exists, as in any store.
        let err = b
            .writer(WriterOptions::new("again").expected(digest.clone()))
            .err()
            .unwrap();
        assert!(err.is_already_exists(), "{err}");
    }

    #[test]
    fn deleting_in_b_leaves_a_intact() {
        let (_dir, store) = store();
        let a = store.namespace("a").unwrap();
        let b = store.namespace("b").unwrap();
        let bytes = b"in both";
        let digest = Digest::sha256_of(bytes);
        for ns in [&a, &b] {
            let content = ns.content(None);
            write_blob(&content, "w", &bytes[..], &digest, 7, Default::default()).unwrap();
        }
        // Keep a's copy rooted so GC has a reason to keep the file.
        a.content(None)
            .update_labels(&digest, |l| {
                l.insert(hoist_meta::GC_ROOT.into(), "1".into());
            })
            .unwrap();
        b.content(None).delete(&digest).unwrap();
        assert!(matches!(b.content(None).info(&digest), Err(e) if e.is_not_found()));
        store.gc(GcOptions::new()).unwrap();
        let mut read = Vec::new();
        a.content(None)
            .reader(&digest)
            .unwrap()
            .read_to_end(&mut read)
            .unwrap();
        assert_eq!(read, bytes);
        assert!(store.local_store().info(&digest).is_ok());
        // Deleting in a as well lets GC remove the file.
        a.content(None).delete(&digest).unwrap();
        store.gc(GcOptions::new()).unwrap();
        assert!(
            store
                .local_store()
                .info(&digest)
                .unwrap_err()
                .is_not_found()
        );
    }

    #[test]
    fn an_ingest_resumed_after_another_namespace_published_the_blob() {
        let (_dir, store) = store();
        let a = store.namespace("a").unwrap().content(None);
        let b = store.namespace("b").unwrap().content(None);
        let bytes = b"published meanwhile";
        let digest = Digest::sha256_of(bytes);
        let mut partial = b
            .writer(WriterOptions::new("slow").expected(digest.clone()))
            .unwrap();
        partial.write_all(&bytes[..5]).unwrap();
        partial.close().unwrap();
        write_blob(&a, "fast", &bytes[..], &digest, 19, Default::default()).unwrap();
        // b resumes: it is not told "already exists" (it has no record), and
        // after writing the bytes it has one.
        write_blob(&b, "slow", &bytes[..], &digest, 19, Default::default()).unwrap();
        assert_eq!(b.info(&digest).unwrap().size, 19);
        assert!(b.list_statuses().unwrap().is_empty());
        let fsck = store.fsck().unwrap();
        assert!(fsck.is_clean(), "{fsck}");
    }

    #[test]
    fn ingests_are_per_namespace() {
        let (_dir, store) = store();
        let a = store.namespace("a").unwrap().content(None);
        let b = store.namespace("b").unwrap().content(None);
        let mut in_a = a.writer(WriterOptions::new("same-ref")).unwrap();
        in_a.write_all(b"aaaa").unwrap();
        // The same reference in b is another ingest, not held by a's writer.
        let mut in_b = b.writer(WriterOptions::new("same-ref")).unwrap();
        in_b.write_all(b"bb").unwrap();
        assert_eq!(a.status("same-ref").unwrap().offset, 4);
        assert_eq!(b.status("same-ref").unwrap().offset, 2);
        assert_eq!(a.list_statuses().unwrap().len(), 1);
        in_b.abort().unwrap();
        assert!(matches!(b.status("same-ref"), Err(e) if e.is_not_found()));
        assert_eq!(a.status("same-ref").unwrap().offset, 4);
        let digest = in_a.commit(4, None, Default::default()).unwrap();
        assert_eq!(digest, Digest::sha256_of(b"aaaa"));
        assert!(matches!(b.info(&digest), Err(e) if e.is_not_found()));
    }
}
