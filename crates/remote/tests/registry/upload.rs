//! Blob uploads: monolithic, chunked, skipped when present, mounted across
//! repositories, and refused when the bytes are not the digest's.

use hoist_content::Digest;
use hoist_remote::{
    BlobPushed, BytesSource, ClientOptions, ErrorKind, FileSource, PushBlobOptions, UploadMode,
};
use hoist_testkit::RegistryOptions;

use crate::support::*;

async fn round_trip(mode: UploadMode, chunk_size: u64, length: usize) {
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let client = client(ClientOptions {
        chunk_size,
        ..fast_options()
    });
    let repository = repo(&registry.host(), "uploads");
    let blob = Blob::new(bytes_of(length as u64, length));
    let options = PushBlobOptions {
        mode,
        ..PushBlobOptions::default()
    };
    let source = BytesSource(blob.bytes.clone());
    let pushed = client
        .push_blob(&repository, &blob.digest, blob.size(), &source, &options)
        .await
        .unwrap();
    assert_eq!(pushed, BlobPushed::Uploaded);
    let again = client
        .push_blob(&repository, &blob.digest, blob.size(), &source, &options)
        .await
        .unwrap();
    assert_eq!(again, BlobPushed::AlreadyPresent);
    let mut stream = client
        .fetch_blob(&repository, &blob.digest, 0)
        .await
        .unwrap();
    assert_eq!(read_all(&mut stream).await.unwrap(), blob.bytes);
}

#[tokio::test]
async fn monolithic_uploads_round_trip() {
    round_trip(UploadMode::Monolithic, 1 << 20, 700_001).await;
}

#[tokio::test]
async fn chunked_uploads_round_trip_in_several_patches() {
    round_trip(UploadMode::Chunked, 64 * 1024, 300_000).await;
}

#[tokio::test]
async fn empty_blobs_upload_both_ways() {
    round_trip(UploadMode::Chunked, 64 * 1024, 0).await;
    round_trip(UploadMode::Monolithic, 64 * 1024, 0).await;
}

#[tokio::test]
async fn uploads_stream_from_files() {
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let client = client(fast_options());
    let repository = repo(&registry.host(), "files");
    let dir = tempfile::tempdir().unwrap();
    let blob = Blob::new(bytes_of(9, 2_000_000));
    let path = dir.path().join("blob");
    std::fs::write(&path, &blob.bytes).unwrap();
    let pushed = client
        .push_blob(
            &repository,
            &blob.digest,
            blob.size(),
            &FileSource(path),
            &PushBlobOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(pushed, BlobPushed::Uploaded);
    assert_eq!(
        client.blob_exists(&repository, &blob.digest).await.unwrap(),
        Some(blob.size())
    );
}

#[tokio::test]
async fn bytes_that_are_not_the_digest_are_refused() {
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let client = client(fast_options());
    let repository = repo(&registry.host(), "liars");
    let claimed = Digest::sha256_of(b"something else");
    for mode in [UploadMode::Monolithic, UploadMode::Chunked] {
        let options = PushBlobOptions {
            mode,
            ..PushBlobOptions::default()
        };
        let error = client
            .push_blob(
                &repository,
                &claimed,
                5,
                &BytesSource("hello".into()),
                &options,
            )
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::DigestMismatch, "{mode:?}: {error}");
        assert_eq!(error.registry_code(), Some("DIGEST_INVALID"));
    }
    assert_eq!(
        client.blob_exists(&repository, &claimed).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn blobs_mount_across_repositories_and_fall_back_to_upload() {
    let Some(registry) = start(RegistryOptions::plain()) else {
        return;
    };
    let client = client(fast_options());
    let source_repo = repo(&registry.host(), "origin/app");
    let target_repo = repo(&registry.host(), "copy/app");
    let blob = Blob::new(bytes_of(5, 50_000));
    let bytes = BytesSource(blob.bytes.clone());
    client
        .push_blob(
            &source_repo,
            &blob.digest,
            blob.size(),
            &bytes,
            &PushBlobOptions::default(),
        )
        .await
        .unwrap();

    assert!(
        client
            .mount_blob(&target_repo, &blob.digest, &source_repo)
            .await
            .unwrap()
    );
    assert_eq!(
        client
            .blob_exists(&target_repo, &blob.digest)
            .await
            .unwrap(),
        Some(blob.size())
    );

    // Mounting what the source does not have: 202, the session is
    // cancelled, nothing appears.
    let unknown = Blob::new(bytes_of(6, 10));
    assert!(
        !client
            .mount_blob(&target_repo, &unknown.digest, &source_repo)
            .await
            .unwrap()
    );
    assert_eq!(
        client
            .blob_exists(&target_repo, &unknown.digest)
            .await
            .unwrap(),
        None
    );

    // push_blob with a mount source: mounted when possible, uploaded when not.
    let third = repo(&registry.host(), "third/app");
    let with_mount = PushBlobOptions {
        mount_from: Some(source_repo.clone()),
        ..PushBlobOptions::default()
    };
    let pushed = client
        .push_blob(&third, &blob.digest, blob.size(), &bytes, &with_mount)
        .await
        .unwrap();
    assert_eq!(pushed, BlobPushed::Mounted);
    let pushed = client
        .push_blob(
            &third,
            &unknown.digest,
            unknown.size(),
            &BytesSource(unknown.bytes.clone()),
            &with_mount,
        )
        .await
        .unwrap();
    assert_eq!(pushed, BlobPushed::Uploaded);
}
