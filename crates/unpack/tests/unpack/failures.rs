//! Refusals: each names what was wrong, and leaves nothing at `dest`.

use hoist_testkit::layers::{LayerCompression, TestImage, layer};

use crate::support::*;

#[test]
fn a_layer_whose_diff_id_does_not_match_is_named_and_nothing_is_left() {
    let good = layer(
        &build(|l| l.file("a", b"a").map(|_| ())).finish().unwrap(),
        LayerCompression::Gzip,
    )
    .unwrap();
    let mut bad = layer(
        &build(|l| l.file("b", b"b").map(|_| ())).finish().unwrap(),
        LayerCompression::Gzip,
    )
    .unwrap();
    bad.diff_id = hoist_testkit::layers::sha256(b"something else");
    let bad_digest = bad.digest.clone();
    let scratch = store(&TestImage::new(vec![good, bad], serde_json::json!({})).unwrap());
    let error = scratch.unpack(&native()).unwrap_err();
    assert!(error.is_data_loss(), "{error}");
    assert!(error.to_string().contains(&bad_digest), "{error}");
    assert!(error.to_string().contains("(2 of 2)"), "{error}");
    assert_eq!(error.digest().map(|d| d.to_string()), Some(bad_digest));
    assert!(
        !scratch.dest().exists(),
        "dest exists after a failed unpack"
    );
    let left: Vec<_> = std::fs::read_dir(scratch.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("store")],
        "staging left behind"
    );
}

#[test]
fn unknown_and_non_distributable_layer_types_are_refused_by_name() {
    for media_type in [
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
        "application/octet-stream",
    ] {
        let mut l = layer(
            &build(|l| l.file("a", b"a").map(|_| ())).finish().unwrap(),
            LayerCompression::Gzip,
        )
        .unwrap();
        l.media_type = media_type.to_owned();
        let digest = l.digest.clone();
        let scratch = store(&TestImage::new(vec![l], serde_json::json!({})).unwrap());
        let error = scratch.unpack(&native()).unwrap_err();
        assert!(error.is_unsupported(), "{media_type}: {error}");
        assert!(error.to_string().contains(&digest), "{error}");
        assert!(error.to_string().contains(media_type), "{error}");
        assert!(!scratch.dest().exists());
    }
}

#[test]
fn a_corrupt_layer_is_an_error_and_leaves_nothing() {
    let mut l = layer(
        &build(|l| l.file("a", &[1u8; 10_000]).map(|_| ()))
            .finish()
            .unwrap(),
        LayerCompression::Gzip,
    )
    .unwrap();
    // Valid as a blob (its digest is recomputed), broken as gzip.
    let cut = l.bytes.len() / 2;
    l.bytes.truncate(cut);
    l.digest = hoist_testkit::layers::sha256(&l.bytes);
    let scratch = store(&TestImage::new(vec![l], serde_json::json!({})).unwrap());
    let error = scratch.unpack(&native()).unwrap_err();
    assert!(error.to_string().contains("layer sha256:"), "{error}");
    assert!(!scratch.dest().exists());
}

#[test]
fn a_missing_layer_blob_is_not_found() {
    let l = layer(
        &build(|l| l.file("a", b"a").map(|_| ())).finish().unwrap(),
        LayerCompression::Gzip,
    )
    .unwrap();
    let digest = l.digest.clone();
    let image = TestImage::new(vec![l], serde_json::json!({})).unwrap();
    let scratch = store(&image);
    hoist_content::Manager::delete(&scratch.store, &digest.parse().unwrap()).unwrap();
    let error = scratch.unpack(&native()).unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(error.to_string().contains(&digest), "{error}");
    assert!(!scratch.dest().exists());
}

#[test]
fn a_destination_that_is_a_file_is_refused() {
    let scratch = stack(vec![build(|l| l.file("a", b"a").map(|_| ()))]);
    std::fs::write(scratch.dest(), b"mine").unwrap();
    let error = scratch.unpack(&native().replace(true)).unwrap_err();
    assert!(error.is_already_exists(), "{error}");
    assert_eq!(std::fs::read(scratch.dest()).unwrap(), b"mine");
}
