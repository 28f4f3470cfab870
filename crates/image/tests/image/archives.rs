//! Save and load: round trips, Docker's manifest.json, docker save archives,
//! directories, and everything a hostile archive may try.

use std::io::Write;

use hoist_content::Digest;
use hoist_image::media_type as mt;
use hoist_image::{
    ArchiveFormat, Image, LoadOptions, ReduceOptions, SaveOptions, check_all, load, load_dir,
    read_document, reduce, save,
};
use hoist_platform::{any, only_strict, parse};
use serde_json::{Value, json};
use tar::EntryType;

use crate::fixture::{Spec, TestStore, build, layer_tar, noise};
use crate::tarkit::{RawEntry, read_entries, rewrite, write_entries};

fn save_to_vec(t: &TestStore, images: &[Image], options: &SaveOptions) -> Vec<u8> {
    let mut out = Vec::new();
    save(&t.store, images, options, &mut out).unwrap();
    out
}

fn json_entry(tar: &[u8], name: &str) -> Value {
    let entry = read_entries(tar)
        .into_iter()
        .find(|e| e.name() == name)
        .unwrap_or_else(|| panic!("no {name} in the archive"));
    serde_json::from_slice(&entry.data).unwrap()
}

fn names(tar: &[u8]) -> Vec<String> {
    read_entries(tar).iter().map(|e| e.name()).collect()
}

#[test]
fn save_then_load_round_trips_every_platform_byte_for_byte() {
    let source = TestStore::new();
    let built = build(
        &source.store,
        &Spec::new(&["linux/amd64", "linux/arm64", "linux/s390x"]).attestations(),
    );
    let tar = save_to_vec(&source, &[built.image()], &SaveOptions::default());

    let entries = names(&tar);
    assert_eq!(
        &entries[..4],
        ["oci-layout", "index.json", "blobs/", "blobs/sha256/"]
    );
    // index + 3 x (manifest, config, own layer) + shared + 3 attestations + 1 shared config + 3 statements
    assert_eq!(entries.len() - 4, 1 + 9 + 1 + 3 + 1 + 3);
    assert!(
        !entries.contains(&"manifest.json".to_string()),
        "multi-platform: no docker manifest.json"
    );
    let index = json_entry(&tar, "index.json");
    assert_eq!(
        index,
        json!({
            "schemaVersion": 2,
            "mediaType": mt::OCI_INDEX,
            "manifests": [{
                "mediaType": mt::OCI_INDEX,
                "digest": built.index.digest,
                "size": built.index.size,
                "annotations": {
                    "io.containerd.image.name": "example.com/app:1.0",
                    "org.opencontainers.image.ref.name": "1.0",
                },
            }],
        })
    );
    // The same images give the same bytes.
    assert_eq!(
        save_to_vec(&source, &[built.image()], &SaveOptions::default()),
        tar
    );

    let target = TestStore::new();
    let loaded = load(&target.store, tar.as_slice(), &LoadOptions::default()).unwrap();
    assert_eq!(loaded.format, ArchiveFormat::OciLayout);
    assert_eq!(loaded.images.len(), 1);
    assert_eq!(
        loaded.images[0].name.as_deref(),
        Some("example.com/app:1.0")
    );
    assert_eq!(loaded.images[0].target, built.index);
    assert_eq!(loaded.blobs, 18);
    let image = Image::new("example.com/app:1.0", loaded.images[0].target.clone());
    let report = check_all(&target.store, &image).unwrap();
    assert!(report.is_complete());
    for blob in &report.required {
        assert_eq!(target.read(&blob.digest), source.read(&blob.digest));
    }
}

#[test]
fn saving_chosen_platforms_writes_the_reduced_index() {
    let source = TestStore::new();
    let built = build(
        &source.store,
        &Spec::new(&["linux/amd64", "linux/arm64", "linux/s390x"]).attestations(),
    );
    let matcher = any([parse("linux/amd64").unwrap(), parse("linux/arm64").unwrap()]);
    let options = SaveOptions {
        platforms: vec![matcher.clone()],
        ..SaveOptions::default()
    };
    let mut tar = Vec::new();
    let summary = save(&source.store, &[built.image()], &options, &mut tar).unwrap();
    let reduced = reduce(
        &source.store,
        &built.image(),
        &matcher,
        &ReduceOptions::default(),
    )
    .unwrap();
    assert_eq!(summary.images[0].target.digest, reduced.target.digest);
    let entries = names(&tar);
    let s390x = built.platform("linux/s390x");
    assert!(!entries.contains(&format!("blobs/sha256/{}", s390x.entry.digest.hex())));
    assert!(!entries.contains(&format!("blobs/sha256/{}", built.index.digest.hex())));

    let target = TestStore::new();
    let loaded = load(&target.store, tar.as_slice(), &LoadOptions::default()).unwrap();
    let image = Image::new("x", loaded.images[0].target.clone());
    assert_eq!(image.target.digest, reduced.target.digest);
    assert!(check_all(&target.store, &image).unwrap().is_complete());
    assert!(!target.has(&s390x.own_layer().digest));
}

#[test]
fn single_platform_saves_carry_dockers_manifest_json() {
    let source = TestStore::new();
    let built = build(
        &source.store,
        &Spec::new(&["linux/amd64", "linux/arm64"])
            .named("docker.io/library/app:1")
            .attestations(),
    );
    let lone = build(&source.store, &Spec::new(&["linux/riscv64"]).flavor("lone"));
    // One matcher per image: arm64 of the index, the lone riscv64 whole.
    let options = SaveOptions {
        platforms: vec![
            only_strict(parse("linux/arm64").unwrap()),
            only_strict(parse("linux/riscv64").unwrap()),
        ],
        ..SaveOptions::default()
    };
    let images = [built.image(), lone.platforms[0].image("example.com/lone:2")];
    let mut tar = Vec::new();
    let summary = save(&source.store, &images, &options, &mut tar).unwrap();
    assert!(summary.docker_manifest);
    let arm64 = built.platform("linux/arm64");
    let blob = |d: &Digest| format!("blobs/sha256/{}", d.hex());
    assert_eq!(
        json_entry(&tar, "manifest.json"),
        json!([
            {"Config": blob(&arm64.config.digest), "RepoTags": ["app:1"],
             "Layers": arm64.layers.iter().map(|l| blob(&l.digest)).collect::<Vec<_>>()},
            {"Config": blob(&lone.platforms[0].config.digest), "RepoTags": ["example.com/lone:2"],
             "Layers": lone.platforms[0].layers.iter().map(|l| blob(&l.digest)).collect::<Vec<_>>()},
        ])
    );
    // Without it when asked.
    let options = SaveOptions {
        docker_manifest: false,
        ..options
    };
    let mut tar = Vec::new();
    assert!(
        !save(&source.store, &images, &options, &mut tar)
            .unwrap()
            .docker_manifest
    );
    assert!(!names(&tar).contains(&"manifest.json".to_string()));
}

#[test]
fn save_refuses_incomplete_images_listing_what_is_missing() {
    let t = TestStore::new();
    let built = build(&t.store, &Spec::new(&["linux/amd64", "linux/arm64"]));
    let arm64 = built.platform("linux/arm64");
    t.delete(&arm64.own_layer().digest);
    let mut out = Vec::new();
    let error = save(
        &t.store,
        &[built.image()],
        &SaveOptions::default(),
        &mut out,
    )
    .unwrap_err();
    assert!(error.is_failed_precondition());
    assert_eq!(
        error.to_string(),
        format!(
            "cannot save example.com/app:1.0: blobs missing locally: linux/arm64 (manifest {}): {}",
            arm64.entry.digest,
            arm64.own_layer().digest
        )
    );
    assert!(
        out.is_empty(),
        "nothing is written before everything is known to be there"
    );
    // The complete platform alone saves.
    let options = SaveOptions {
        platforms: vec![only_strict(parse("linux/amd64").unwrap())],
        ..SaveOptions::default()
    };
    assert!(save(&t.store, &[built.image()], &options, &mut out).is_ok());
    assert!(
        save(&t.store, &[], &SaveOptions::default(), Vec::new())
            .unwrap_err()
            .is_invalid_argument()
    );
}

#[test]
fn several_images_share_blobs_in_one_archive() {
    let t = TestStore::new();
    let one = build(
        &t.store,
        &Spec::new(&["linux/amd64"]).named("example.com/one:1"),
    );
    let two = build(
        &t.store,
        &Spec::new(&["linux/amd64", "linux/arm64"])
            .named("example.com/two:2")
            .flavor("two"),
    );
    let tar = save_to_vec(&t, &[one.image(), two.image()], &SaveOptions::default());
    let shared = format!("blobs/sha256/{}", one.shared_layer.digest.hex());
    assert_eq!(names(&tar).iter().filter(|n| **n == shared).count(), 1);
    let target = TestStore::new();
    let loaded = load(&target.store, tar.as_slice(), &LoadOptions::default()).unwrap();
    let loaded_names: Vec<_> = loaded
        .images
        .iter()
        .map(|i| i.name.clone().unwrap())
        .collect();
    assert_eq!(loaded_names, ["example.com/one:1", "example.com/two:2"]);
}

#[test]
fn gzip_compressed_archives_load() {
    let source = TestStore::new();
    let built = build(&source.store, &Spec::new(&["linux/amd64"]));
    let tar = save_to_vec(&source, &[built.image()], &SaveOptions::default());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let compressed = gz.finish().unwrap();
    let target = TestStore::new();
    let loaded = load(
        &target.store,
        compressed.as_slice(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(loaded.images[0].target, built.index);
    // A pipe may hand over the magic number one byte at a time.
    let target = TestStore::new();
    let trickle = Trickle(compressed.as_slice());
    let loaded = load(&target.store, trickle, &LoadOptions::default()).unwrap();
    assert_eq!(loaded.images[0].target, built.index);
}

/// A reader that yields one byte per read.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((byte, rest)), Some(slot)) => {
                *slot = *byte;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn names_come_from_the_annotations_or_a_prefix() {
    let source = TestStore::new();
    let built = build(&source.store, &Spec::new(&["linux/amd64"]));
    let tar = save_to_vec(&source, &[built.image()], &SaveOptions::default());
    let with_index = |annotations: Value| {
        rewrite(&tar, |entries| {
            let index = entries
                .iter_mut()
                .find(|e| e.name() == "index.json")
                .unwrap();
            let mut value: Value = serde_json::from_slice(&index.data).unwrap();
            value["manifests"][0]["annotations"] = annotations;
            index.data = serde_json::to_vec(&value).unwrap();
        })
    };
    let name_of = |tar: &[u8], prefix: Option<&str>| {
        let target = TestStore::new();
        let options = LoadOptions {
            name_prefix: prefix.map(str::to_string),
            ..LoadOptions::default()
        };
        let loaded = load(&target.store, tar, &options).unwrap();
        assert!(loaded.images[0].target.annotations.is_empty());
        loaded.images[0].name.clone()
    };
    // skopeo writes the full reference into ref.name.
    let skopeo = with_index(json!({"org.opencontainers.image.ref.name": "example.com/app:2.0"}));
    assert_eq!(
        name_of(&skopeo, None).as_deref(),
        Some("example.com/app:2.0")
    );
    // A bare tag needs a prefix.
    let bare = with_index(json!({"org.opencontainers.image.ref.name": "2.0"}));
    assert_eq!(name_of(&bare, None), None);
    assert_eq!(
        name_of(&bare, Some("example.com/other")).as_deref(),
        Some("example.com/other:2.0")
    );
    let none = with_index(json!({}));
    assert_eq!(name_of(&none, Some("p")), None);
}

/// A `docker save` archive (legacy layout): `<id>.json` config,
/// `<layer>/layer.tar` uncompressed layers, a symlinked duplicate layer,
/// `manifest.json` and `repositories`.
fn docker_save_archive() -> (Vec<u8>, Vec<u8>, Vec<Vec<u8>>) {
    let config = serde_json::to_vec(&json!({
        "architecture": "arm64", "os": "linux", "variant": "v8",
        "rootfs": {"type": "layers", "diff_ids": []}
    }))
    .unwrap();
    let config_id = Digest::sha256_of(&config);
    let layer_a = layer_tar("a.txt", &noise("a", 3000));
    let layer_b = layer_tar("b.txt", &noise("b", 5_000_000));
    let manifest = json!([{
        "Config": format!("{}.json", config_id.hex()),
        "RepoTags": ["alpine:3", "me/app:1"],
        "Layers": ["aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"],
    }]);
    let entries = vec![
        RawEntry::file("aaa/VERSION", b"1.0"),
        RawEntry::file("aaa/layer.tar", &layer_a),
        RawEntry::file("bbb/layer.tar", &layer_b),
        RawEntry::link("ccc/layer.tar", EntryType::Symlink, "../aaa/layer.tar"),
        RawEntry::file(&format!("{}.json", config_id.hex()), &config),
        RawEntry::file("manifest.json", &serde_json::to_vec(&manifest).unwrap()),
        RawEntry::file("repositories", b"{}"),
    ];
    (write_entries(&entries), config, vec![layer_a, layer_b])
}

#[test]
fn docker_save_archives_load_with_a_synthesized_manifest() {
    let (tar, config, layers) = docker_save_archive();
    let t = TestStore::new();
    let loaded = load(&t.store, tar.as_slice(), &LoadOptions::default()).unwrap();
    assert_eq!(loaded.format, ArchiveFormat::DockerSave);
    let loaded_names: Vec<_> = loaded
        .images
        .iter()
        .map(|i| i.name.clone().unwrap())
        .collect();
    assert_eq!(
        loaded_names,
        ["docker.io/library/alpine:3", "docker.io/me/app:1"]
    );
    let target = &loaded.images[0].target;
    assert_eq!(target.media_type, mt::DOCKER_MANIFEST);
    assert_eq!(target.platform, Some(parse("linux/arm64").unwrap()));
    let document = read_document(&t.store, target).unwrap();
    let manifest = document.as_manifest().unwrap();
    assert_eq!(manifest.config().digest, Digest::sha256_of(&config));
    assert_eq!(manifest.config().media_type, mt::DOCKER_CONFIG);
    let layer_digests: Vec<_> = manifest.layers().iter().map(|l| l.digest.clone()).collect();
    assert_eq!(
        layer_digests,
        vec![
            Digest::sha256_of(&layers[0]),
            Digest::sha256_of(&layers[1]),
            Digest::sha256_of(&layers[0])
        ]
    );
    assert!(
        manifest
            .layers()
            .iter()
            .all(|l| l.media_type == mt::DOCKER_LAYER)
    );
    let image = Image::new("x", target.clone());
    assert!(check_all(&t.store, &image).unwrap().is_complete());
    // The big layer was streamed, not held: it is in the store all the same.
    assert_eq!(t.read(&Digest::sha256_of(&layers[1])), layers[1]);
}

#[test]
fn oci_layout_directories_load() {
    let source = TestStore::new();
    let built = build(
        &source.store,
        &Spec::new(&["linux/amd64", "linux/arm64"]).attestations(),
    );
    let tar = save_to_vec(&source, &[built.image()], &SaveOptions::default());
    let dir = tempfile::tempdir().unwrap();
    tar::Archive::new(tar.as_slice())
        .unpack(dir.path())
        .unwrap();
    let target = TestStore::new();
    let loaded = load_dir(&target.store, dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(loaded.images[0].target, built.index);
    assert_eq!(
        loaded.images[0].name.as_deref(),
        Some("example.com/app:1.0")
    );
    assert!(
        check_all(&target.store, &Image::new("x", built.index.clone()))
            .unwrap()
            .is_complete()
    );

    // A blob file that lies about its content or size, or a link out of the layout.
    let amd64 = built.platform("linux/amd64");
    let layer_path = dir
        .path()
        .join("blobs/sha256")
        .join(amd64.own_layer().digest.hex());
    let good = std::fs::read(&layer_path).unwrap();
    let mut bad = good.clone();
    bad[10] ^= 0xff;
    std::fs::write(&layer_path, &bad).unwrap();
    let error = load_dir(&TestStore::new().store, dir.path(), &LoadOptions::default()).unwrap_err();
    assert!(error.is_data_loss(), "{error}");
    std::fs::write(&layer_path, &good[..good.len() - 1]).unwrap();
    let error = load_dir(&TestStore::new().store, dir.path(), &LoadOptions::default()).unwrap_err();
    assert!(error.is_data_loss(), "{error}");
    assert!(error.to_string().ends_with(&format!(
        "is {} bytes, but its descriptor says {}",
        good.len() - 1,
        good.len()
    )));
    let outside = tempfile::tempdir().unwrap();
    let elsewhere = outside.path().join("layer");
    std::fs::write(&elsewhere, &good).unwrap();
    std::fs::remove_file(&layer_path).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &layer_path).unwrap();
    let error = load_dir(&TestStore::new().store, dir.path(), &LoadOptions::default()).unwrap_err();
    assert!(error.is_invalid_argument());
    assert!(
        error
            .to_string()
            .contains("outside the layout; refusing it"),
        "{error}"
    );
    std::fs::remove_file(&layer_path).unwrap();
    let error = load_dir(&TestStore::new().store, dir.path(), &LoadOptions::default()).unwrap_err();
    assert!(error.is_invalid_argument());
    assert!(error.missing_blobs().is_some());
    let error = load_dir(
        &TestStore::new().store,
        outside.path(),
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("is not an OCI layout: it has no oci-layout"),
        "{error}"
    );
}

/// A saved single-platform archive and the fixture behind it.
fn saved() -> (Vec<u8>, crate::fixture::Built) {
    let source = TestStore::new();
    let built = build(&source.store, &Spec::new(&["linux/amd64"]));
    (
        save_to_vec(&source, &[built.image()], &SaveOptions::default()),
        built,
    )
}

/// Loads `tar` into a fresh store; the error's message.
fn load_error(tar: &[u8]) -> hoist_image::Error {
    let t = TestStore::new();
    load(&t.store, tar, &LoadOptions::default()).unwrap_err()
}

#[test]
fn load_refuses_path_traversal_and_absolute_paths() {
    let (tar, _) = saved();
    let with = |entry: RawEntry| rewrite(&tar, |entries| entries.insert(2, entry));
    let error = load_error(&with(RawEntry::file("../../etc/cron.d/x", b"boom")));
    assert!(error.is_invalid_argument());
    assert_eq!(
        error.to_string(),
        "archive entry \"../../etc/cron.d/x\" climbs out with `..`; refusing the archive"
    );
    let error = load_error(&with(RawEntry::file("/etc/passwd", b"boom")));
    assert_eq!(
        error.to_string(),
        "archive entry \"/etc/passwd\" is an absolute path; refusing the archive"
    );
    let error = load_error(&with(RawEntry::file("blobs/../../x", b"boom")));
    assert!(error.is_invalid_argument());
}

#[test]
fn load_refuses_links_that_leave_the_archive() {
    let (tar, _) = saved();
    let with = |entry: RawEntry| rewrite(&tar, |entries| entries.insert(2, entry));
    let error = load_error(&with(RawEntry::link(
        "blobs/evil",
        EntryType::Symlink,
        "../../../etc/shadow",
    )));
    assert_eq!(
        error.to_string(),
        "archive entry \"blobs/evil\" links to \"../../../etc/shadow\", which leaves the archive; refusing the archive"
    );
    let error = load_error(&with(RawEntry::link(
        "evil",
        EntryType::Symlink,
        "/etc/shadow",
    )));
    assert!(error.to_string().contains("which is absolute"), "{error}");
    let error = load_error(&with(RawEntry::link(
        "evil",
        EntryType::Link,
        "../etc/shadow",
    )));
    assert!(error.is_invalid_argument());
    let error = load_error(&with(RawEntry::link("evil", EntryType::Link, "not-there")));
    assert!(
        error.to_string().contains("comes nowhere before it"),
        "{error}"
    );
    let mut device = RawEntry::file("dev/null", b"");
    device.kind = EntryType::Char;
    let error = load_error(&with(device));
    assert!(
        error
            .to_string()
            .contains("which image archives do not hold"),
        "{error}"
    );
}

#[test]
fn load_refuses_duplicate_entries_with_different_content() {
    let (tar, _) = saved();
    let twice = rewrite(&tar, |entries| {
        let index = entries
            .iter()
            .find(|e| e.name() == "index.json")
            .unwrap()
            .clone();
        let mut other = index.clone();
        other.data = br#"{"schemaVersion":2,"manifests":[]}"#.to_vec();
        entries.push(other);
    });
    let error = load_error(&twice);
    assert!(error.is_invalid_argument());
    assert_eq!(
        error.to_string(),
        "archive entry index.json appears twice with different content; refusing the archive"
    );
    // The same content twice is harmless.
    let same = rewrite(&tar, |entries| {
        let blob = entries
            .iter()
            .rfind(|e| e.name().starts_with("blobs/sha256/"))
            .unwrap()
            .clone();
        entries.push(blob);
    });
    assert!(
        load(
            &TestStore::new().store,
            same.as_slice(),
            &LoadOptions::default()
        )
        .is_ok()
    );
    // A blob given twice with different bytes.
    let blob_twice = rewrite(&tar, |entries| {
        let mut blob = entries
            .iter()
            .rfind(|e| e.name().starts_with("blobs/sha256/"))
            .unwrap()
            .clone();
        blob.data[0] ^= 1;
        entries.push(blob);
    });
    assert!(
        load_error(&blob_twice)
            .to_string()
            .contains("appears twice with different content")
    );
}

#[test]
fn load_refuses_blobs_whose_digest_or_size_lies() {
    let (tar, built) = saved();
    let layer = built.platforms[0].own_layer().clone();
    let layer_name = format!("blobs/sha256/{}", layer.digest.hex());
    let corrupt = rewrite(&tar, |entries| {
        let entry = entries.iter_mut().find(|e| e.name() == layer_name).unwrap();
        entry.data[20] ^= 0xff;
    });
    let error = load_error(&corrupt);
    assert!(error.is_data_loss(), "{error}");
    assert!(
        error.to_string().starts_with(&format!(
            "archive entry {layer_name} does not hold the blob its name says"
        )),
        "{error}"
    );
    // A descriptor whose size lies about a (correct) blob.
    let manifest = built.platforms[0].entry.clone();
    let lying = rewrite(&tar, |entries| {
        let index = entries
            .iter_mut()
            .find(|e| e.name() == "index.json")
            .unwrap();
        let mut value: Value = serde_json::from_slice(&index.data).unwrap();
        value["manifests"][0]["size"] = json!(built.index.size + 1);
        index.data = serde_json::to_vec(&value).unwrap();
    });
    let error = load_error(&lying);
    assert!(error.is_data_loss(), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "blob {} of example.com/app:1.0 is {} bytes, but its descriptor says {}",
            built.index.digest,
            built.index.size,
            built.index.size + 1
        )
    );
    let _ = manifest;
}

#[test]
fn load_refuses_an_index_pointing_at_missing_blobs_and_names_nothing() {
    let (tar, built) = saved();
    let layer = built.platforms[0].own_layer().clone();
    let layer_name = format!("blobs/sha256/{}", layer.digest.hex());
    let without = rewrite(&tar, |entries| entries.retain(|e| e.name() != layer_name));
    let t = TestStore::new();
    let error = load(&t.store, without.as_slice(), &LoadOptions::default()).unwrap_err();
    assert!(error.is_invalid_argument());
    assert_eq!(
        error.to_string(),
        format!(
            "index.json points at blobs the archive does not hold: blobs missing locally: linux/amd64 (manifest {}): {}",
            built.platforms[0].entry.digest, layer.digest
        )
    );
    assert_eq!(
        error.missing_blobs().unwrap()[0].digests,
        vec![layer.digest]
    );

    let not_an_archive = write_entries(&[RawEntry::file("hello.txt", b"hi")]);
    assert_eq!(
        load_error(&not_an_archive).to_string(),
        "not an image archive: it has neither oci-layout and index.json (OCI layout) nor manifest.json (docker save)"
    );
    let no_index = rewrite(&tar, |entries| entries.retain(|e| e.name() != "index.json"));
    assert_eq!(
        load_error(&no_index).to_string(),
        "the archive has an oci-layout but no index.json"
    );
    let mut zstd = vec![0x28, 0xb5, 0x2f, 0xfd];
    zstd.extend_from_slice(&[0; 64]);
    assert!(load_error(&zstd).is_unsupported());
    let truncated = &tar[..tar.len() / 2];
    assert!(load(&TestStore::new().store, truncated, &LoadOptions::default()).is_err());
}

#[test]
fn docker_archives_naming_missing_files_are_refused() {
    let (tar, _, _) = docker_save_archive();
    let broken = rewrite(&tar, |entries| {
        entries.retain(|e| e.name() != "bbb/layer.tar")
    });
    assert_eq!(
        load_error(&broken).to_string(),
        "manifest.json names bbb/layer.tar, which the archive does not hold"
    );
    let escaping = rewrite(&tar, |entries| {
        let manifest = entries
            .iter_mut()
            .find(|e| e.name() == "manifest.json")
            .unwrap();
        let mut value: Value = serde_json::from_slice(&manifest.data).unwrap();
        value[0]["Layers"][0] = json!("../outside/layer.tar");
        manifest.data = serde_json::to_vec(&value).unwrap();
    });
    assert!(load_error(&escaping).is_invalid_argument());
}

/// An artifact manifest about `subject` (its bytes, and its `index.json`
/// entry as oras writes it), with a `{}` config and one `payload` layer,
/// all three as archive entries.
fn referrer(subject: &hoist_image::Descriptor, payload: &[u8]) -> (Vec<RawEntry>, Value, Digest) {
    let config = b"{}".to_vec();
    let blob = |bytes: &[u8]| {
        let digest = Digest::sha256_of(bytes);
        (
            RawEntry::file(&format!("blobs/sha256/{}", digest.hex()), bytes),
            digest,
        )
    };
    let (config_entry, config_digest) = blob(&config);
    let (payload_entry, payload_digest) = blob(payload);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": mt::OCI_MANIFEST,
        "artifactType": "application/example",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config_digest.to_string(), "size": config.len()},
        "layers": [{"mediaType": "text/plain", "digest": payload_digest.to_string(), "size": payload.len()}],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest.to_string(), "size": subject.size},
        "annotations": {"org.example": "yes"},
    }))
    .unwrap();
    let (manifest_entry, manifest_digest) = blob(&manifest);
    let entry = json!({
        "mediaType": mt::OCI_MANIFEST,
        "digest": manifest_digest.to_string(),
        "size": manifest.len(),
        "artifactType": "application/example",
        "annotations": {"org.example": "yes"},
    });
    (
        vec![config_entry, payload_entry, manifest_entry],
        entry,
        manifest_digest,
    )
}

#[test]
fn referrer_entries_are_stored_only_when_asked_and_never_named() {
    let (tar, built) = saved();
    let manifest = built.platforms[0].entry.clone();
    let (mut entries, sbom_entry, sbom) = referrer(&manifest, b"sbom");
    let sbom_descriptor = hoist_image::Descriptor::new(
        mt::OCI_MANIFEST,
        sbom.clone(),
        sbom_entry["size"].as_u64().unwrap(),
    );
    let (signature_blobs, signature_entry, signature) = referrer(&sbom_descriptor, b"signature");
    entries.extend(signature_blobs);
    let with_referrers = rewrite(&tar, |all| {
        let index = all.iter_mut().find(|e| e.name() == "index.json").unwrap();
        let mut value: Value = serde_json::from_slice(&index.data).unwrap();
        // The signature of the SBOM is listed first: order does not matter.
        let listed = value["manifests"].as_array_mut().unwrap();
        listed.push(signature_entry.clone());
        listed.push(sbom_entry.clone());
        index.data = serde_json::to_vec(&value).unwrap();
        all.extend(entries.clone());
    });

    // Without referrers: recognized, counted, not stored, not images.
    let plain = TestStore::new();
    let loaded = load(
        &plain.store,
        with_referrers.as_slice(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(loaded.images.len(), 1);
    assert_eq!(loaded.referrers_skipped, 2);
    assert!(loaded.referrers.is_empty());
    assert!(!plain.has(&sbom) && !plain.has(&signature));

    // With them: both stored byte for byte, listed as the API lists them.
    let with = TestStore::new();
    let options = LoadOptions {
        referrers: true,
        ..LoadOptions::default()
    };
    let loaded = load(&with.store, with_referrers.as_slice(), &options).unwrap();
    assert_eq!(loaded.images.len(), 1);
    assert_eq!(
        loaded.images[0].name.as_deref(),
        Some("example.com/app:1.0")
    );
    assert_eq!(loaded.referrers_skipped, 0);
    let kept: Vec<&Digest> = loaded.referrers.iter().map(|r| &r.digest).collect();
    assert_eq!(kept, vec![&sbom, &signature]);
    assert_eq!(
        loaded.referrers[0].artifact_type.as_deref(),
        Some("application/example")
    );
    assert!(with.has(&sbom) && with.has(&signature));
    let stored = read_document(&with.store, &sbom_descriptor).unwrap();
    assert_eq!(stored.digest(), &sbom);

    // An entry whose manifest is absent is still known by its artifactType.
    let (_, orphan_entry, orphan) = referrer(&manifest, b"gone");
    let missing = rewrite(&tar, |all| {
        let index = all.iter_mut().find(|e| e.name() == "index.json").unwrap();
        let mut value: Value = serde_json::from_slice(&index.data).unwrap();
        value["manifests"]
            .as_array_mut()
            .unwrap()
            .push(orphan_entry.clone());
        index.data = serde_json::to_vec(&value).unwrap();
    });
    let loaded = load(
        &TestStore::new().store,
        missing.as_slice(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!((loaded.images.len(), loaded.referrers_skipped), (1, 1));
    let error = load(&TestStore::new().store, missing.as_slice(), &options).unwrap_err();
    assert!(error.is_invalid_argument(), "{error}");
    assert!(error.to_string().contains(&orphan.to_string()), "{error}");
}

#[test]
fn regclient_fallback_tag_entries_are_read_as_referrers_in_tars_and_directories() {
    let (tar, built) = saved();
    let manifest = built.platforms[0].entry.clone();
    let (blobs, sbom_entry, sbom) = referrer(&manifest, b"sbom");
    // regctl's ocidir: an index tagged sha256-<hex of the subject> lists
    // the referrers; they have no entry of their own.
    let listing = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": mt::OCI_INDEX,
        "manifests": [sbom_entry],
    }))
    .unwrap();
    let listing_digest = Digest::sha256_of(&listing);
    let regclient = rewrite(&tar, |all| {
        let index = all.iter_mut().find(|e| e.name() == "index.json").unwrap();
        let mut value: Value = serde_json::from_slice(&index.data).unwrap();
        value["manifests"].as_array_mut().unwrap().push(json!({
            "mediaType": mt::OCI_INDEX,
            "digest": listing_digest.to_string(),
            "size": listing.len(),
            "annotations": {
                "org.opencontainers.image.ref.name": format!("sha256-{}", manifest.digest.hex()),
            },
        }));
        index.data = serde_json::to_vec(&value).unwrap();
        all.push(RawEntry::file(
            &format!("blobs/sha256/{}", listing_digest.hex()),
            &listing,
        ));
        all.extend(blobs.clone());
    });
    let with = LoadOptions {
        referrers: true,
        ..LoadOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    tar::Archive::new(regclient.as_slice())
        .unpack(dir.path())
        .unwrap();

    for from_dir in [false, true] {
        let run = |options: &LoadOptions| {
            let t = TestStore::new();
            let loaded = if from_dir {
                load_dir(&t.store, dir.path(), options).unwrap()
            } else {
                load(&t.store, regclient.as_slice(), options).unwrap()
            };
            (loaded, t)
        };
        // The tag is not an image to name: just the image, the SBOM skipped.
        let (loaded, t) = run(&LoadOptions::default());
        assert_eq!(loaded.images.len(), 1, "directory: {from_dir}");
        assert_eq!(loaded.referrers_skipped, 1, "directory: {from_dir}");
        assert!(!t.has(&sbom));
        let (loaded, t) = run(&with);
        assert_eq!(loaded.images.len(), 1, "directory: {from_dir}");
        let kept: Vec<&Digest> = loaded.referrers.iter().map(|r| &r.digest).collect();
        assert_eq!(kept, vec![&sbom], "directory: {from_dir}");
        assert!(t.has(&sbom));
    }

    // An image that merely has such a tag (its children are no referrers)
    // stays an image, left unnamed as any bare tag.
    let tag = format!("sha256-{}", manifest.digest.hex());
    let tagged = rewrite(&tar, |all| {
        let index = all.iter_mut().find(|e| e.name() == "index.json").unwrap();
        let mut value: Value = serde_json::from_slice(&index.data).unwrap();
        value["manifests"][0]["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        index.data = serde_json::to_vec(&value).unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    tar::Archive::new(tagged.as_slice())
        .unpack(dir.path())
        .unwrap();
    for from_dir in [false, true] {
        let t = TestStore::new();
        let loaded = if from_dir {
            load_dir(&t.store, dir.path(), &with).unwrap()
        } else {
            load(&t.store, tagged.as_slice(), &with).unwrap()
        };
        assert_eq!(loaded.images.len(), 1, "directory: {from_dir}");
        assert_eq!(loaded.images[0].ref_name.as_deref(), Some(tag.as_str()));
        assert_eq!(loaded.images[0].target.digest, built.index.digest);
        assert!(loaded.referrers.is_empty());
    }
}
