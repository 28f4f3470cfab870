//! `Store::unpack`: one platform of a stored image into a directory, the
//! diff_ids recorded on the layers' content records.

use hoist::platform::parse;
use hoist::{Platforms, UNCOMPRESSED_LABEL, UnpackOptions};

use crate::support::{fixture, load_fixture, store};

#[test]
fn unpack_picks_one_platform_and_labels_its_layers_with_their_diff_ids() {
    let (dir, store) = store();
    let fixture = fixture(31);
    load_fixture(&store, &fixture, "example.com/unpack/app:1");
    let dest = dir.path().join("rootfs");
    let arm64 = Platforms::Only(vec![parse("linux/arm64").unwrap()]);
    let unpacked = store
        .unpack(
            "example.com/unpack/app:1",
            &arm64,
            &dest,
            &UnpackOptions::new().rootless(true),
        )
        .unwrap();
    let image = &fixture.images[1];
    assert_eq!(unpacked.manifest.to_string(), image.manifest.digest);
    assert_eq!(unpacked.layers.len(), image.layers.len());
    let config: serde_json::Value = serde_json::from_slice(&image.config.bytes).unwrap();
    let content = store.namespace_handle().content(None);
    for (i, layer) in unpacked.layers.iter().enumerate() {
        assert_eq!(layer.digest.to_string(), image.layers[i].digest);
        assert_eq!(layer.diff_id.to_string(), config["rootfs"]["diff_ids"][i]);
        let info = hoist::content::Manager::info(&content, &layer.digest).unwrap();
        assert_eq!(
            info.labels.get(UNCOMPRESSED_LABEL),
            Some(&layer.diff_id.to_string())
        );
    }
    // The arm64 layer's files, not another platform's.
    assert!(dest.join("linux/arm64/v8-0/file-0000.bin").is_file());
    assert!(!dest.join("linux/amd64-0").exists());
}

#[test]
fn unpack_refuses_a_choice_of_several_manifests_and_names_a_missing_platform() {
    let (dir, store) = store();
    load_fixture(&store, &fixture(32), "example.com/unpack/app:2");
    let dest = dir.path().join("rootfs");
    let error = store
        .unpack(
            "example.com/unpack/app:2",
            &Platforms::All,
            &dest,
            &UnpackOptions::new(),
        )
        .unwrap_err();
    assert!(error.is_invalid_argument(), "{error}");
    assert!(
        error.to_string().contains("one platform at a time"),
        "{error}"
    );
    let riscv = Platforms::Only(vec![parse("linux/riscv64").unwrap()]);
    let error = store
        .unpack(
            "example.com/unpack/app:2",
            &riscv,
            &dest,
            &UnpackOptions::new(),
        )
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(error.to_string().contains("linux/riscv64"), "{error}");
    assert!(!dest.exists());
    let error = store
        .unpack(
            "example.com/unpack/none:1",
            &riscv,
            &dest,
            &UnpackOptions::new(),
        )
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}
