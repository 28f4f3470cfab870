//! What a layer stack becomes: every entry type, whiteouts, opaque
//! directories, replacements, names, metadata.

use std::os::unix::fs::MetadataExt;

use hoist_testkit::layers::{EntryMeta, LayerCompression};
use hoist_unpack::{ROOTLESS_XATTR, UnpackOptions};

use crate::support::*;

#[test]
fn entry_types_modes_owners_and_times() {
    let scratch = stack(vec![build(|l| {
        l.dir_with("bin", &EntryMeta::mode(0o755).mtime(111))?;
        l.file_with(
            "bin/tool",
            b"#!/bin/sh\n",
            &EntryMeta::mode(0o4755).owner(1000, 5).mtime(222),
        )?;
        l.dir_with(
            "secret",
            &EntryMeta::mode(0o700).owner(1000, 1000).mtime(333),
        )?;
        l.file("secret/inner", b"x")?;
        l.dir_with("tmp", &EntryMeta::mode(0o1777))?;
        l.symlink("bin/sh", "/bin/tool")?;
        l.fifo("run/fifo")?;
        l.file("empty", b"")?;
        Ok(())
    })]);
    let unpacked = scratch.unpack(&native()).unwrap();
    let dest = scratch.dest();
    let tree = listing(&dest);
    let expected: Vec<(&str, char)> = vec![
        ("bin", 'd'),
        ("bin/sh", 'l'),
        ("bin/tool", 'f'),
        ("empty", 'f'),
        ("run", 'd'),
        ("run/fifo", 'p'),
        ("secret", 'd'),
        ("secret/inner", 'f'),
        ("tmp", 'd'),
    ];
    assert_eq!(
        tree,
        expected
            .into_iter()
            .map(|(p, k)| (p.to_owned(), k))
            .collect()
    );
    assert_eq!(
        std::fs::read(dest.join("bin/tool")).unwrap(),
        b"#!/bin/sh\n"
    );
    assert_eq!(mode(&dest.join("bin/tool")), 0o4755);
    assert_eq!(mode(&dest.join("secret")), 0o700);
    assert_eq!(mode(&dest.join("tmp")), 0o1777);
    assert_eq!(
        mode(&dest.join("run")),
        0o755,
        "an implied directory is 0755"
    );
    assert_eq!(
        std::fs::read_link(dest.join("bin/sh")).unwrap().to_str(),
        Some("/bin/tool")
    );
    // Directory times are set after their contents were written.
    assert_eq!(std::fs::metadata(dest.join("secret")).unwrap().mtime(), 333);
    assert_eq!(std::fs::metadata(dest.join("bin")).unwrap().mtime(), 111);
    assert_eq!(
        std::fs::metadata(dest.join("bin/tool")).unwrap().mtime(),
        222
    );
    if is_root() {
        let meta = std::fs::metadata(dest.join("bin/tool")).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (1000, 5));
        let meta = std::fs::metadata(dest.join("secret")).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
    }
    assert_eq!(unpacked.layers.len(), 1);
    assert_eq!(unpacked.totals.files, 5);
    assert_eq!(unpacked.totals.directories, 3);
    assert_eq!(unpacked.totals.bytes, 11);
}

#[test]
fn rootless_owns_every_file_and_records_the_images_owners_like_umoci() {
    let scratch = stack(vec![build(|l| {
        l.file_with("home/app/f", b"x", &EntryMeta::mode(0o600).owner(1000, 5))?;
        l.dir_with("home/app", &EntryMeta::mode(0o700).owner(1000, 1000))?;
        l.file("rootfile", b"r")?;
        l.file_with("groupfile", b"g", &EntryMeta::mode(0o644).owner(0, 7))?;
        l.char_device("dev/null", 1, 3)?;
        Ok(())
    })]);
    let unpacked = scratch
        .unpack(&UnpackOptions::new().rootless(true))
        .unwrap();
    let dest = scratch.dest();
    let me = rustix::process::geteuid().as_raw();
    for path in ["home/app/f", "home/app", "rootfile", "groupfile"] {
        assert_eq!(
            std::fs::metadata(dest.join(path)).unwrap().uid(),
            me,
            "{path}"
        );
    }
    assert_eq!(
        xattr(&dest.join("home/app/f"), ROOTLESS_XATTR).unwrap(),
        b"\x08\xe8\x07\x10\x05"
    );
    assert_eq!(
        xattr(&dest.join("home/app"), ROOTLESS_XATTR).unwrap(),
        b"\x08\xe8\x07\x10\xe8\x07"
    );
    assert_eq!(
        xattr(&dest.join("groupfile"), ROOTLESS_XATTR).unwrap(),
        b"\x08\xff\xff\xff\xff\x0f\x10\x07"
    );
    assert_eq!(xattr(&dest.join("rootfile"), ROOTLESS_XATTR), None);
    assert!(unpacked.rootless);
    assert_eq!(unpacked.totals.skipped_devices, 1);
    assert!(
        !dest.join("dev/null").exists(),
        "a rootless unpack makes no device node"
    );
}

#[test]
fn devices_are_made_when_keeping_owners() {
    if !is_root() {
        eprintln!("SKIPPED: device nodes need root");
        return;
    }
    let scratch = stack(vec![build(|l| {
        l.char_device("dev/null", 1, 3)?;
        Ok(())
    })]);
    let unpacked = scratch
        .unpack(&UnpackOptions::new().rootless(false))
        .unwrap();
    let meta = std::fs::symlink_metadata(scratch.dest().join("dev/null")).unwrap();
    assert_eq!(meta.rdev(), rustix::fs::makedev(1, 3));
    assert_eq!(meta.mode() & 0o7777, 0o666);
    assert_eq!(unpacked.totals.skipped_devices, 0);
}

#[test]
fn whiteouts_remove_files_and_whole_directories_of_lower_layers() {
    let scratch = stack(vec![
        build(|l| {
            l.file("keep", b"k")?;
            l.file("gone", b"g")?;
            l.file("dir/a", b"a")?;
            l.file("dir/sub/b", b"b")?;
            l.symlink("link", "keep")?;
            l.file("other/x", b"x")?;
            Ok(())
        }),
        build(|l| {
            l.whiteout("gone")?;
            l.whiteout("dir")?;
            l.whiteout("link")?;
            l.whiteout("other/missing")?;
            l.whiteout("nowhere/missing")?;
            Ok(())
        }),
    ]);
    let unpacked = scratch.unpack(&native()).unwrap();
    let tree = listing(&scratch.dest());
    assert_eq!(
        tree.keys().collect::<Vec<_>>(),
        ["keep", "other", "other/x"]
    );
    assert_eq!(unpacked.layers[1].stats.whiteouts, 5);
}

#[test]
fn opaque_directories_hide_lower_content_but_keep_this_layers() {
    let scratch = stack(vec![
        build(|l| {
            l.file("etc/old", b"o")?;
            l.file("etc/sub/deep", b"d")?;
            l.file("etc/kept-before", b"lower")?;
            Ok(())
        }),
        build(|l| {
            l.dir("etc")?;
            // Written before the marker in the same layer: stays.
            l.file("etc/kept-before", b"upper")?;
            l.opaque("etc")?;
            // Re-created after the marker in the same layer: stays.
            l.file("etc/new", b"n")?;
            l.dir("etc/sub")?;
            Ok(())
        }),
    ]);
    scratch.unpack(&native()).unwrap();
    let dest = scratch.dest();
    let tree = listing(&dest);
    assert_eq!(
        tree.keys().collect::<Vec<_>>(),
        ["etc", "etc/kept-before", "etc/new", "etc/sub"]
    );
    assert_eq!(
        std::fs::read(dest.join("etc/kept-before")).unwrap(),
        b"upper"
    );
}

#[test]
fn a_whiteout_spares_what_its_own_layer_wrote() {
    let scratch = stack(vec![
        build(|l| {
            l.file("d/lower", b"l")?;
            Ok(())
        }),
        build(|l| {
            l.file("d/upper", b"u")?;
            l.whiteout("d")?;
            Ok(())
        }),
    ]);
    scratch.unpack(&native()).unwrap();
    assert_eq!(
        listing(&scratch.dest()).keys().collect::<Vec<_>>(),
        ["d", "d/upper"]
    );
}

#[test]
fn hard_links_join_files_of_this_and_earlier_layers() {
    let scratch = stack(vec![
        build(|l| {
            l.file("usr/bin/base", b"base")?;
            l.hard_link("usr/bin/same-layer", "usr/bin/base")?;
            Ok(())
        }),
        build(|l| {
            l.hard_link("later", "usr/bin/base")?;
            l.hard_link("./via-dot", "./usr/bin/base")?;
            Ok(())
        }),
    ]);
    scratch.unpack(&native()).unwrap();
    let dest = scratch.dest();
    let inode = std::fs::metadata(dest.join("usr/bin/base")).unwrap().ino();
    for path in ["usr/bin/same-layer", "later", "via-dot"] {
        assert_eq!(
            std::fs::metadata(dest.join(path)).unwrap().ino(),
            inode,
            "{path}"
        );
    }
    assert_eq!(std::fs::metadata(dest.join("later")).unwrap().nlink(), 4);
}

#[test]
fn a_symlink_becomes_a_directory_and_back() {
    let scratch = stack(vec![
        build(|l| {
            l.file("real/file", b"r")?;
            l.symlink("x", "real")?;
            Ok(())
        }),
        build(|l| {
            // A directory entry replaces the symlink; it is never followed.
            l.dir("x")?;
            l.file("x/own", b"o")?;
            Ok(())
        }),
        build(|l| {
            l.symlink("x", "/real")?;
            Ok(())
        }),
    ]);
    scratch.unpack(&native()).unwrap();
    let dest = scratch.dest();
    assert_eq!(
        std::fs::read_link(dest.join("x")).unwrap().to_str(),
        Some("/real")
    );
    assert_eq!(
        listing(&dest).keys().collect::<Vec<_>>(),
        ["real", "real/file", "x"]
    );
}

#[test]
fn a_file_becomes_a_directory_and_a_directory_a_file() {
    let scratch = stack(vec![
        build(|l| {
            l.file("a", b"file")?;
            l.file("b/inner", b"i")?;
            Ok(())
        }),
        build(|l| {
            l.dir("a")?;
            l.file("a/child", b"c")?;
            l.file("b", b"now a file")?;
            Ok(())
        }),
    ]);
    scratch.unpack(&native()).unwrap();
    let dest = scratch.dest();
    let tree = listing(&dest);
    assert_eq!(tree.get("a"), Some(&'d'));
    assert_eq!(tree.get("b"), Some(&'f'));
    assert_eq!(std::fs::read(dest.join("b")).unwrap(), b"now a file");
    assert!(!tree.contains_key("b/inner"));
}

#[test]
fn long_names_in_pax_and_gnu_records() {
    let pax_name = format!("pax/{}/{}", "d".repeat(120), "f".repeat(200));
    let link_target = format!("/{pax_name}");
    let scratch = stack(vec![build(|l| {
        l.file(&pax_name, b"pax")?;
        l.symlink("to-long", &link_target)?;
        Ok(())
    })]);
    scratch.unpack(&native()).unwrap();
    let dest = scratch.dest();
    assert_eq!(std::fs::read(dest.join(&pax_name)).unwrap(), b"pax");
    assert_eq!(
        std::fs::read_link(dest.join("to-long")).unwrap().to_str(),
        Some(link_target.as_str())
    );

    // GNU long names, as the tar crate (and GNU tar) write them.
    let gnu_name = format!("gnu/{}", "g".repeat(180));
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(3);
    header.set_mode(0o644);
    tar.append_data(&mut header, &gnu_name, &b"gnu"[..])
        .unwrap();
    let tar = tar.into_inner().unwrap();
    let layer = hoist_testkit::layers::layer(&tar, LayerCompression::None).unwrap();
    let scratch =
        store(&hoist_testkit::layers::TestImage::new(vec![layer], serde_json::json!({})).unwrap());
    scratch.unpack(&native()).unwrap();
    assert_eq!(
        std::fs::read(scratch.dest().join(&gnu_name)).unwrap(),
        b"gnu"
    );
}

#[test]
fn sparse_files_stay_sparse_and_keep_their_content() {
    // A GNU sparse entry, written by the tar crate from a sparse file.
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("sparse");
    let file = std::fs::File::create(&source).unwrap();
    file.set_len(8 * 1024 * 1024).unwrap();
    std::os::unix::fs::FileExt::write_at(&file, b"middle", 4 * 1024 * 1024).unwrap();
    std::os::unix::fs::FileExt::write_at(&file, b"end", 8 * 1024 * 1024 - 3).unwrap();
    drop(file);
    let mut tar = tar::Builder::new(Vec::new());
    tar.sparse(true);
    tar.append_path_with_name(&source, "data/sparse").unwrap();
    let tar = tar.into_inner().unwrap();
    assert!(
        tar.len() < 1024 * 1024,
        "the tar crate wrote the file sparse"
    );
    let layer = hoist_testkit::layers::layer(&tar, LayerCompression::Gzip).unwrap();
    let scratch =
        store(&hoist_testkit::layers::TestImage::new(vec![layer], serde_json::json!({})).unwrap());
    scratch.unpack(&native()).unwrap();
    let unpacked = scratch.dest().join("data/sparse");
    assert_eq!(
        std::fs::read(&unpacked).unwrap(),
        std::fs::read(&source).unwrap()
    );
    let meta = std::fs::metadata(&unpacked).unwrap();
    assert_eq!(meta.len(), 8 * 1024 * 1024);
    assert!(
        meta.blocks() * 512 < 2 * 1024 * 1024,
        "holes were written out: {} blocks",
        meta.blocks()
    );
}

#[test]
fn extended_attributes_are_applied_where_the_file_system_allows() {
    let scratch = stack(vec![build(|l| {
        l.file_with(
            "f",
            b"x",
            &EntryMeta::mode(0o644).xattr("user.greeting", b"hello"),
        )?;
        l.dir_with("d", &EntryMeta::mode(0o755).xattr("user.dir", b"yes"))?;
        Ok(())
    })]);
    let unpacked = scratch.unpack(&native()).unwrap();
    let dest = scratch.dest();
    if unpacked.totals.skipped_xattrs == 0 {
        assert_eq!(xattr(&dest.join("f"), "user.greeting").unwrap(), b"hello");
        assert_eq!(xattr(&dest.join("d"), "user.dir").unwrap(), b"yes");
    } else {
        // The file system keeps no user attributes: both were counted.
        assert_eq!(unpacked.totals.skipped_xattrs, 2);
    }
}

#[test]
fn every_compression_applies_and_is_verified() {
    for compression in [
        LayerCompression::None,
        LayerCompression::Gzip,
        LayerCompression::Zstd,
    ] {
        let scratch = stack_with(
            vec![
                build(|l| {
                    l.file("a", &vec![7u8; 300_000])?;
                    Ok(())
                }),
                build(|l| {
                    l.file("b", b"b")?;
                    Ok(())
                }),
            ],
            compression,
            serde_json::json!({}),
        );
        let unpacked = scratch.unpack(&native()).unwrap();
        assert_eq!(
            std::fs::read(scratch.dest().join("a")).unwrap().len(),
            300_000,
            "{compression:?}"
        );
        assert_eq!(unpacked.totals.bytes, 300_001);
        for (report, layer) in unpacked.layers.iter().zip(scratch.manifest.layers()) {
            assert_eq!(report.digest, layer.digest);
        }
    }
}

#[test]
fn an_entry_for_the_root_sets_its_mode() {
    let scratch = stack(vec![build(|l| {
        l.dir_with("./", &EntryMeta::mode(0o750).mtime(444))?;
        l.file("x", b"x")?;
        Ok(())
    })]);
    scratch.unpack(&native()).unwrap();
    let meta = std::fs::metadata(scratch.dest()).unwrap();
    assert_eq!((meta.mode() & 0o7777, meta.mtime()), (0o750, 444));
}

#[test]
fn an_empty_destination_is_filled_and_a_full_one_replaced_only_when_asked() {
    let scratch = stack(vec![build(|l| {
        l.file("new", b"n")?;
        Ok(())
    })]);
    let dest = scratch.dest();
    std::fs::create_dir(&dest).unwrap();
    scratch.unpack(&native()).unwrap();
    assert!(dest.join("new").is_file());

    // Now full: refused, untouched.
    std::fs::write(dest.join("mine"), b"m").unwrap();
    let error = scratch.unpack(&native()).unwrap_err();
    assert!(error.is_already_exists(), "{error}");
    assert!(
        error.to_string().contains(&dest.display().to_string()),
        "{error}"
    );
    assert!(dest.join("mine").is_file());

    // Replacing swaps the whole tree; nothing of the old one stays, no staging is left.
    scratch.unpack(&native().replace(true)).unwrap();
    assert_eq!(listing(&dest).keys().collect::<Vec<_>>(), ["new"]);
    let leftovers: Vec<String> = std::fs::read_dir(scratch.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".hoist-unpack-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn read_only_directories_are_filled_whited_out_and_replaced() {
    // Rootless as an ordinary user, a 0555 directory must still take its
    // entries, lose them to a whiteout, and go when the tree is replaced.
    let scratch = stack(vec![
        build(|l| {
            l.dir_with("ro", &EntryMeta::mode(0o555))?;
            l.file("ro/a", b"a")?;
            l.file("ro/b", b"b")?;
            l.dir_with("ro/inner", &EntryMeta::mode(0o500))?;
            l.file("ro/inner/c", b"c")?;
            Ok(())
        }),
        build(|l| {
            l.whiteout("ro/a")?;
            Ok(())
        }),
    ]);
    let options = UnpackOptions::new().rootless(true);
    scratch.unpack(&options).unwrap();
    let dest = scratch.dest();
    assert_eq!(
        listing(&dest).keys().collect::<Vec<_>>(),
        ["ro", "ro/b", "ro/inner", "ro/inner/c"]
    );
    assert_eq!(mode(&dest.join("ro")), 0o555);
    assert_eq!(mode(&dest.join("ro/inner")), 0o500);
    scratch.unpack(&options.replace(true)).unwrap();
    assert_eq!(mode(&dest.join("ro")), 0o555);
    let leftovers = std::fs::read_dir(scratch.dir.path()).unwrap().count();
    assert_eq!(leftovers, 2, "only the store and dest remain");
}

#[test]
fn docker_media_types_apply_like_oci_ones() {
    let tar = build(|l| l.file("docker", b"d").map(|_| ()))
        .finish()
        .unwrap();
    let mut plain = hoist_testkit::layers::layer(&tar, LayerCompression::None).unwrap();
    plain.media_type = "application/vnd.docker.image.rootfs.diff.tar".to_owned();
    let tar = build(|l| l.file("docker-gz", b"g").map(|_| ()))
        .finish()
        .unwrap();
    let mut gzip = hoist_testkit::layers::layer(&tar, LayerCompression::Gzip).unwrap();
    gzip.media_type = "application/vnd.docker.image.rootfs.diff.tar.gzip".to_owned();
    let tar = build(|l| l.file("docker-zst", b"z").map(|_| ()))
        .finish()
        .unwrap();
    let mut zstd = hoist_testkit::layers::layer(&tar, LayerCompression::Zstd).unwrap();
    zstd.media_type = "application/vnd.docker.image.rootfs.diff.tar.zstd".to_owned();
    let image =
        hoist_testkit::layers::TestImage::new(vec![plain, gzip, zstd], serde_json::json!({}))
            .unwrap();
    let scratch = store(&image);
    scratch.unpack(&native()).unwrap();
    assert_eq!(
        listing(&scratch.dest()).keys().collect::<Vec<_>>(),
        ["docker", "docker-gz", "docker-zst"]
    );
}

#[test]
fn an_unknown_entry_type_is_refused_by_name() {
    let scratch = stack(vec![build(|l| {
        l.entry(
            tar::EntryType::new(b'V'),
            "volume-label",
            "",
            b"",
            &EntryMeta::mode(0o644),
            (0, 0),
        )
        .map(|_| ())
    })]);
    let error = scratch.unpack(&native()).unwrap_err();
    assert!(error.is_unsupported(), "{error}");
    assert!(error.to_string().contains("volume-label"), "{error}");
    assert!(!scratch.dest().exists());
}
