//! Referrers in archives: `save` writes those of what it saves into the OCI
//! layout (one unnamed `index.json` entry each, as `oras copy -r
//! --to-oci-layout` lays them out), `load` stores them only when asked,
//! GC holds them with their subjects, skopeo still reads the layout, and
//! `image convert` keeps the kept platforms' referrers reachable.

use std::collections::BTreeSet;
use std::io::Read as _;

use hoist::content::Digest;
use hoist::platform::parse;
use hoist::{ArchiveLoadOptions, Platforms, ReferrersOptions, Store};
use hoist_testkit::FixtureBlob;
use hoist_testkit::referrers::{
    PlatformArtifacts, SIGNATURE, SignedImage, SignedImageSpec, manifest_digests, signature_of,
    write_oras_layout,
};

use crate::support::{fixture_spec, gc_freed, referrer_digests, run, store, stored};

const NAME: &str = "example.com/signed:1";

/// A 4-platform image with a signature of its index, an SBOM per platform
/// and a signature of each SBOM.
fn signed_image(seed: u64) -> SignedImage {
    SignedImageSpec::new(fixture_spec(seed))
        .every_platform(PlatformArtifacts::SignedSbom)
        .generate()
        .unwrap()
}

/// A store holding `signed` as `NAME` with every referrer, loaded from an
/// oras-style layout directory.
fn loaded(signed: &SignedImage) -> (tempfile::TempDir, Store) {
    let (dir, store) = store();
    let layout = tempfile::tempdir().unwrap();
    write_oras_layout(layout.path(), &signed.fixture, "1", &signed.all()).unwrap();
    let options = ArchiveLoadOptions::new()
        .name(Some("example.com/signed"))
        .referrers(true);
    let report = store.load_path_with(layout.path(), &options).unwrap();
    assert_eq!(report.names, vec![NAME.to_owned()]);
    assert!(report.unnamed.is_empty(), "{:?}", report.unnamed);
    assert_eq!(report.loaded.referrers.len(), 9);
    assert_eq!(
        listed_referrers(&store, NAME),
        manifest_digests(signed.all()),
        "every referrer of the layout is listed"
    );
    (dir, store)
}

/// The referrers `store` lists for the image `name`, every platform.
fn listed_referrers(store: &Store, name: &str) -> BTreeSet<String> {
    referrer_digests(&store.image_referrers(name, &Platforms::All, None).unwrap())
}

/// The digests of descriptors an archive summary or report names.
fn descriptor_digests(descriptors: &[hoist::image::Descriptor]) -> BTreeSet<String> {
    descriptors.iter().map(|d| d.digest.to_string()).collect()
}

fn read_blob(store: &Store, digest: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    store
        .content_get(&digest.parse::<Digest>().unwrap())
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

fn two_platforms() -> Platforms {
    Platforms::Only(vec![
        parse("linux/amd64").unwrap(),
        parse("linux/arm64").unwrap(),
    ])
}

const KEPT: [&str; 2] = ["linux/amd64", "linux/arm64/v8"];

/// Saves `NAME` with its referrers (those of `types`, all when empty).
fn save(
    store: &Store,
    platforms: &Platforms,
    types: &[&str],
) -> (Vec<u8>, hoist::image::SaveSummary) {
    let mut tar = Vec::new();
    let referrers = ReferrersOptions::of_types(types.iter().map(|t| (*t).to_owned()).collect());
    let summary = store
        .save_with_referrers(&[NAME], platforms, Some(&referrers), &mut tar)
        .unwrap();
    (tar, summary)
}

/// `index.json` of a saved tar (hoist writes it right after `oci-layout`).
fn index_json(tar: &[u8]) -> serde_json::Value {
    let start = find(tar, br#"{"manifests":"#).expect("no index.json in the archive");
    let mut stream = serde_json::Deserializer::from_slice(&tar[start..]).into_iter();
    stream.next().unwrap().unwrap()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn a_reduced_save_carries_exactly_the_saved_platforms_referrers_into_a_second_store() {
    let signed = signed_image(61);
    let (_dir, source) = loaded(&signed);
    let (tar, summary) = save(&source, &two_platforms(), &[]);

    // The kept platforms' SBOMs and their signatures; the index's
    // signature describes the index with every platform, which the archive
    // replaces by a reduced one: left out, and counted.
    let kept = manifest_digests(signed.of(&KEPT));
    assert_eq!(kept.len(), 4);
    assert_eq!(descriptor_digests(&summary.referrers), kept);
    let left_behind: Vec<String> = summary
        .referrers_left_behind
        .iter()
        .map(|r| r.digest.to_string())
        .collect();
    assert_eq!(
        left_behind,
        vec![signed.index_signature().manifest.digest.clone()]
    );

    // index.json: the image, then one unnamed entry per referrer with its
    // artifactType and annotations, as oras lays them out.
    let index = index_json(&tar);
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1 + 4, "{index}");
    for entry in &entries[1..] {
        let digest = entry["digest"].as_str().unwrap();
        let artifact = signed
            .all()
            .into_iter()
            .find(|a| a.manifest.digest == digest)
            .unwrap();
        assert_eq!(entry["artifactType"], artifact.artifact_type.as_str());
        assert_eq!(
            entry["annotations"],
            serde_json::Value::Object(artifact.annotations.clone())
        );
        assert_eq!(entry["size"], artifact.manifest.size());
        assert_eq!(entry["mediaType"], hoist_testkit::oci::MANIFEST);
        assert!(entry.get("platform").is_none(), "{entry}");
    }

    let (_dir2, target) = store();
    let options = ArchiveLoadOptions::new().referrers(true);
    let report = target.load_with(tar.as_slice(), &options).unwrap();
    assert_eq!(report.names, vec![NAME.to_owned()]);
    assert!(report.unnamed.is_empty(), "{:?}", report.unnamed);
    assert!(report.held_by.is_none());
    assert!(target.leases().unwrap().is_empty());
    assert_eq!(descriptor_digests(&report.loaded.referrers), kept);
    assert_eq!(listed_referrers(&target, NAME), kept);

    // Byte for byte, blobs and all; nothing of the dropped platforms or of
    // the index signature came.
    let here = stored(&target);
    for artifact in signed.of(&KEPT) {
        for blob in [&artifact.manifest, &artifact.config, &artifact.payload] {
            assert_eq!(
                read_blob(&target, &blob.digest),
                blob.bytes,
                "{}",
                blob.digest
            );
        }
    }
    for artifact in signed.of(&["linux/arm/v7", "linux/s390x"]) {
        assert!(!here.contains(&artifact.manifest.digest));
        assert!(!here.contains(&artifact.payload.digest));
    }
    assert!(!here.contains(&signed.index_signature().manifest.digest));
    assert!(!here.contains(&signed.index_signature().payload.digest));

    // GC keeps them while the image is named; fsck finds nothing.
    let kept_by_gc = target.gc(false).unwrap();
    assert!(kept_by_gc.blobs.is_empty(), "{kept_by_gc:?}");
    assert_eq!(listed_referrers(&target, NAME), kept);
    assert!(target.fsck().unwrap().is_clean());

    // Removing the image frees them with it.
    target.remove(NAME, None).unwrap();
    let freed = gc_freed(&target);
    assert!(kept.is_subset(&freed), "{freed:?}");
    assert!(stored(&target).is_empty());
    assert!(target.fsck().unwrap().is_clean());
}

#[test]
fn a_whole_save_carries_the_index_signature_and_types_filter_at_every_level() {
    let signed = signed_image(62);
    let (_dir, source) = loaded(&signed);
    let (tar, summary) = save(&source, &Platforms::All, &[]);
    assert_eq!(summary.referrers.len(), 9);
    assert!(summary.referrers_left_behind.is_empty());

    let (_dir2, target) = store();
    let report = target
        .load_with(tar.as_slice(), &ArchiveLoadOptions::new().referrers(true))
        .unwrap();
    assert_eq!(report.loaded.referrers.len(), 9);
    assert_eq!(
        listed_referrers(&target, NAME),
        manifest_digests(signed.all())
    );
    // The index's signature is listed with the index it signs.
    let index_digest: Digest = signed.fixture.index.digest.parse().unwrap();
    let on_index = target.referrers(&index_digest, None).unwrap();
    assert_eq!(on_index.len(), 1);
    assert_eq!(
        on_index[0].descriptor.digest.to_string(),
        signed.index_signature().manifest.digest
    );

    // Signatures only: the SBOMs' signatures are found through the SBOMs,
    // which are not chosen.
    let (_, signatures) = save(&source, &Platforms::All, &[SIGNATURE]);
    assert_eq!(
        descriptor_digests(&signatures.referrers),
        manifest_digests([signed.index_signature()])
    );
}

#[test]
fn load_without_referrers_stores_none_and_counts_what_it_skipped() {
    let signed = signed_image(63);
    let (_dir, source) = loaded(&signed);
    let (tar, _) = save(&source, &two_platforms(), &[]);

    let (_dir2, target) = store();
    let report = target.load(tar.as_slice(), None).unwrap();
    assert_eq!(report.names, vec![NAME.to_owned()]);
    assert!(report.unnamed.is_empty(), "{:?}", report.unnamed);
    assert_eq!(report.loaded.referrers_skipped, 4);
    assert!(report.loaded.referrers.is_empty());
    assert!(listed_referrers(&target, NAME).is_empty());
    // Their configs and payloads streamed in under the load's lease, which
    // is gone: the next GC takes them, and the manifests were never stored.
    target.gc(false).unwrap();
    let here = stored(&target);
    for artifact in signed.all() {
        assert!(!here.contains(&artifact.manifest.digest));
        assert!(!here.contains(&artifact.payload.digest));
    }
    assert!(target.fsck().unwrap().is_clean());

    // A layout directory too.
    let (_dir3, target) = store();
    let layout = tempfile::tempdir().unwrap();
    write_oras_layout(layout.path(), &signed.fixture, "1", &signed.all()).unwrap();
    let report = target
        .load_path(layout.path(), Some("example.com/signed"))
        .unwrap();
    assert_eq!(report.names, vec![NAME.to_owned()]);
    assert!(report.unnamed.is_empty(), "{:?}", report.unnamed);
    assert_eq!(report.loaded.referrers_skipped, 9);
    let here = stored(&target);
    for artifact in signed.all() {
        assert!(!here.contains(&artifact.manifest.digest));
        assert!(!here.contains(&artifact.payload.digest));
    }
}

#[test]
fn a_referrer_whose_subject_is_nowhere_is_left_out_and_reported() {
    let signed = signed_image(64);
    let bytes = br#"{"schemaVersion":2,"note":"not in the archive"}"#.to_vec();
    let stranger = FixtureBlob {
        media_type: hoist_testkit::oci::MANIFEST.to_owned(),
        digest: Digest::sha256_of(&bytes).to_string(),
        bytes,
    };
    let orphan = signature_of(&stranger, "a manifest nobody has");
    let layout = tempfile::tempdir().unwrap();
    let mut artifacts = signed.of(&["linux/s390x"]);
    artifacts.push(&orphan);
    write_oras_layout(layout.path(), &signed.fixture, "1", &artifacts).unwrap();

    let (_dir, target) = store();
    let options = ArchiveLoadOptions::new()
        .name(Some("example.com/signed"))
        .referrers(true);
    let report = target.load_path_with(layout.path(), &options).unwrap();
    assert_eq!(report.names, vec![NAME.to_owned()]);
    assert_eq!(report.loaded.referrers.len(), 2);
    let orphans: Vec<String> = report
        .loaded
        .referrers_without_subject
        .iter()
        .map(|r| r.digest.to_string())
        .collect();
    assert_eq!(orphans, vec![orphan.manifest.digest.clone()]);
    assert!(!stored(&target).contains(&orphan.manifest.digest));
    target.gc(false).unwrap();
    assert!(target.fsck().unwrap().is_clean());
}

#[test]
fn a_corrupted_referrer_blob_fails_the_load_naming_it_and_names_nothing() {
    let signed = signed_image(65);
    let (_dir, source) = loaded(&signed);
    let (mut tar, _) = save(&source, &two_platforms(), &[]);
    let amd = signed.platform("linux/amd64");
    let payload = &amd.sbom_signature().payload;
    let at = find(&tar, &payload.bytes).expect("the payload is in the archive");
    tar[at] ^= 0x20;

    let (_dir2, target) = store();
    let error = target
        .load_with(tar.as_slice(), &ArchiveLoadOptions::new().referrers(true))
        .unwrap_err();
    assert!(error.is_data_loss(), "{error}");
    let hex = payload.digest.trim_start_matches("sha256:");
    assert!(error.to_string().contains(hex), "{error}");
    assert!(target.list_images(None).unwrap().is_empty());
    assert!(
        target
            .referrers(&amd.manifest.digest.parse().unwrap(), None)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn skopeo_reads_a_layout_that_carries_referrers() {
    let Some(skopeo) = hoist_testkit::require_tool("skopeo").unwrap() else {
        return;
    };
    let skopeo = skopeo.to_str().unwrap();
    let signed = signed_image(66);
    let (_dir, source) = loaded(&signed);
    let (tar, _) = save(&source, &Platforms::All, &[]);
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("signed.tar");
    std::fs::write(&archive, &tar).unwrap();

    // The extra index.json entries do not disturb skopeo: it finds the
    // image by its tag, byte for byte, and copies one platform out.
    let raw = run(
        skopeo,
        &[
            "inspect",
            "--raw",
            &format!("oci-archive:{}:1", archive.display()),
        ],
    );
    assert_eq!(
        Digest::sha256_of(raw.as_bytes()).to_string(),
        signed.fixture.index.digest
    );
    let copied = out.path().join("copied");
    run(
        skopeo,
        &[
            "copy",
            "--override-arch",
            "arm64",
            &format!("oci-archive:{}:1", archive.display()),
            &format!("oci:{}:arm", copied.display()),
        ],
    );
    let arm = &signed.fixture.images[1];
    assert_eq!(arm.platform.to_text(), "linux/arm64/v8");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(copied.join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["digest"],
        arm.manifest.digest.as_str()
    );
}

#[test]
fn image_convert_keeps_the_kept_platforms_referrers_reachable() {
    let signed = signed_image(67);
    let (_dir, store) = loaded(&signed);
    let slim = "example.com/signed:slim";
    store.reduce(NAME, &two_platforms(), slim, false).unwrap();
    store.remove(NAME, None).unwrap();
    let freed = gc_freed(&store);

    // The kept manifests' digests are unchanged, so their referrers stay
    // held by them; the dropped platforms' and the old index's go.
    let kept = manifest_digests(signed.of(&KEPT));
    assert_eq!(listed_referrers(&store, slim), kept);
    let here = stored(&store);
    assert!(kept.is_subset(&here));
    let dropped = manifest_digests(signed.of(&["linux/arm/v7", "linux/s390x"]));
    assert!(dropped.is_subset(&freed), "{freed:?}");
    assert!(freed.contains(&signed.index_signature().manifest.digest));
    assert!(store.fsck().unwrap().is_clean());
}

#[test]
fn ctr_imports_an_archive_that_carries_referrers_as_its_one_image() {
    let Some(containerd) = hoist_testkit::Containerd::start().unwrap() else {
        return;
    };
    let signed = signed_image(68);
    let (_dir, source) = loaded(&signed);
    let (tar, summary) = save(&source, &Platforms::All, &[]);
    assert_eq!(summary.referrers.len(), 9);
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("signed.tar");
    std::fs::write(&archive, &tar).unwrap();

    // containerd names what index.json names: the image, digest kept; the
    // unnamed referrer entries make no images.
    containerd
        .ctr(&[
            "images",
            "import",
            "--all-platforms",
            "--no-unpack",
            archive.to_str().unwrap(),
        ])
        .unwrap();
    let listing = containerd.ctr(&["images", "ls", "-q"]).unwrap();
    let names: Vec<&str> = listing.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(names, vec![NAME], "{listing}");
    let listing = containerd.ctr(&["images", "ls"]).unwrap();
    assert!(listing.contains(&signed.fixture.index.digest), "{listing}");
}
