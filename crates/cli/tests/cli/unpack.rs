//! `hoist unpack`: against the real umoci (the same image unpacked by both
//! gives equal trees and agreeing config.json files), and the command's
//! own output and refusals.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use hoist::content::Digest;
use hoist_testkit::layers::{EntryMeta, LayerBuilder, LayerCompression, TestImage, layer};
use hoist_testkit::require_tool;

use crate::support::{Env, one_error_line};

const NAME: &str = "localhost/interop/app:1";

/// An image exercising what both unpackers must agree on: owners, set-id
/// and sticky modes, symlinks, hard links within and across layers, FIFOs,
/// whiteouts of files and whole directories, an opaque directory with
/// content re-created after its marker, a file replaced by a directory, a
/// symlink replaced by a directory, long names, empty files, user xattrs.
/// No device nodes: rootless, umoci leaves an empty file where hoist
/// leaves nothing (both documented).
fn interop_image(with_device: bool) -> TestImage {
    let long = format!(
        "usr/share/{}/{}",
        "long-directory-name".repeat(4),
        "f".repeat(120)
    );
    let mut base = LayerBuilder::new();
    base.dir("etc").unwrap();
    base.file(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
    )
    .unwrap();
    base.file("etc/group", b"root:x:0:\napp:x:1000:\nextra:x:2000:app\n")
        .unwrap();
    base.dir_with("bin", &EntryMeta::mode(0o755)).unwrap();
    base.file_with("bin/busybox", b"#!/bin/busybox\n", &EntryMeta::mode(0o4755))
        .unwrap();
    base.hard_link("bin/sh", "bin/busybox").unwrap();
    base.symlink("bin/ls", "busybox").unwrap();
    base.dir_with("home/app", &EntryMeta::mode(0o750).owner(1000, 1000))
        .unwrap();
    base.file_with(
        "home/app/.profile",
        b"export X=1\n",
        &EntryMeta::mode(0o640).owner(1000, 2000),
    )
    .unwrap();
    base.dir_with("tmp", &EntryMeta::mode(0o1777)).unwrap();
    base.file_with("var/lib/state", b"", &EntryMeta::mode(0o2755).owner(0, 50))
        .unwrap();
    base.file("var/cache/old", b"old cache").unwrap();
    base.file("var/cache/sub/deeper", b"deeper").unwrap();
    base.file("opt/gone/a", b"a").unwrap();
    base.file("opt/gone/b/c", b"c").unwrap();
    base.file("opt/file-then-dir", b"file").unwrap();
    base.symlink("opt/link-then-dir", "/etc").unwrap();
    base.fifo("run/fifo").unwrap();
    base.file(&long, b"long name").unwrap();
    base.file_with(
        "etc/labelled",
        b"x",
        &EntryMeta::mode(0o644).xattr("user.hoist", b"yes"),
    )
    .unwrap();
    if with_device {
        base.char_device("dev/null", 1, 3).unwrap();
    }

    let mut upper = LayerBuilder::new();
    upper.whiteout("opt/gone").unwrap();
    upper.dir("var/cache").unwrap();
    upper.opaque("var/cache").unwrap();
    upper.file("var/cache/new", b"new cache").unwrap();
    upper.dir("opt/file-then-dir").unwrap();
    upper.file("opt/file-then-dir/inside", b"inside").unwrap();
    upper.dir("opt/link-then-dir").unwrap();
    upper.hard_link("usr/bin/sh-again", "bin/busybox").unwrap();
    upper.whiteout("etc/group-missing").unwrap();
    upper
        .file_with(
            "bin/tool",
            &vec![42u8; 200_000],
            &EntryMeta::mode(0o755).owner(1000, 1000),
        )
        .unwrap();

    let layers = vec![
        layer(&base.finish().unwrap(), LayerCompression::Gzip).unwrap(),
        layer(&upper.finish().unwrap(), LayerCompression::Gzip).unwrap(),
    ];
    TestImage::new(
        layers,
        serde_json::json!({
            "User": "app", "Env": ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"],
            "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["exec app"], "WorkingDir": "/home/app",
            "StopSignal": "SIGQUIT",
        }),
    )
    .unwrap()
}

/// Type, mode, size, content digest, symlink target and the rootless owner
/// record of every path; and the hard-link groups.
type Snapshot = (BTreeMap<String, String>, Vec<Vec<String>>);

fn snapshot(root: &Path) -> Snapshot {
    let mut paths = BTreeMap::new();
    let mut inodes: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    walk(root, root, &mut paths, &mut inodes);
    let mut groups: Vec<Vec<String>> = inodes.into_values().filter(|g| g.len() > 1).collect();
    for group in &mut groups {
        group.sort();
    }
    groups.sort();
    (paths, groups)
}

fn walk(
    root: &Path,
    dir: &Path,
    paths: &mut BTreeMap<String, String>,
    inodes: &mut BTreeMap<u64, Vec<String>>,
) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let kind = meta.file_type();
        let mut line = format!("mode={:o}", meta.mode() & 0o7777);
        if kind.is_dir() {
            line = format!("dir {line}");
        } else if kind.is_symlink() {
            line = format!(
                "symlink -> {}",
                std::fs::read_link(&path).unwrap().display()
            );
        } else if kind.is_fifo() {
            line = format!("fifo {line}");
        } else if kind.is_char_device() {
            line = format!("char {line} rdev={}", meta.rdev());
        } else {
            let content = std::fs::read(&path).unwrap();
            line = format!(
                "file {line} size={} {}",
                meta.len(),
                Digest::sha256_of(&content)
            );
            inodes.entry(meta.ino()).or_default().push(relative.clone());
        }
        if !kind.is_symlink() {
            for name in ["user.rootlesscontainers", "user.hoist"] {
                let mut value = vec![0u8; 64];
                if let Ok(n) = rustix::fs::lgetxattr(&path, name, &mut value) {
                    line.push_str(&format!(" {name}={:?}", &value[..n]));
                }
            }
            if !rootless_uids(root) {
                line.push_str(&format!(" owner={}:{}", meta.uid(), meta.gid()));
            }
        }
        paths.insert(relative, line);
        if kind.is_dir() {
            walk(root, &path, paths, inodes);
        }
    }
}

/// Rootless trees are compared without owners (both are the test's user).
fn rootless_uids(root: &Path) -> bool {
    root.to_string_lossy().contains("rootless")
}

fn runtime_process(bundle: &Path) -> serde_json::Value {
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("config.json")).unwrap()).unwrap();
    let process = &config["process"];
    serde_json::json!({
        "args": process["args"], "env": process["env"], "cwd": process["cwd"], "user": process["user"],
        "stopSignal": config["annotations"]["org.opencontainers.image.stopSignal"],
        "uidMappings": config["linux"]["uidMappings"], "namespaces": config["linux"]["namespaces"],
    })
}

fn compare_with_umoci(rootless: bool) {
    let Some(umoci) = require_tool("umoci").unwrap() else {
        return;
    };
    let env = Env::new();
    let layout = env.path().join("layout");
    interop_image(!rootless)
        .write_oci_layout(&layout, NAME, "1")
        .unwrap();
    env.hoist(&["load", "-i", layout.to_str().unwrap()])
        .assert()
        .success();

    let mode = if rootless { "rootless" } else { "root" };
    let ours = env.path().join(format!("hoist-{mode}"));
    let theirs = env.path().join(format!("umoci-{mode}"));
    let mut args = vec![
        "unpack",
        NAME,
        ours.to_str().unwrap(),
        "--platform",
        "linux/amd64",
        "--bundle",
        "-q",
    ];
    if rootless {
        args.push("--rootless");
    }
    env.hoist(&args).assert().success();
    let mut umoci_args = vec!["unpack"];
    if rootless {
        umoci_args.push("--rootless");
    }
    let image_arg = format!("{}:1", layout.display());
    umoci_args.extend(["--image", &image_arg, theirs.to_str().unwrap()]);
    let output = std::process::Command::new(umoci)
        .args(&umoci_args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "umoci: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let (our_paths, our_links) = snapshot(&ours.join("rootfs"));
    let (their_paths, their_links) = snapshot(&theirs.join("rootfs"));
    // Implied directories (no entry of their own) are 0755 in both.
    for (path, line) in &their_paths {
        assert_eq!(
            our_paths.get(path),
            Some(line),
            "{mode}: {path} differs from umoci's"
        );
    }
    assert_eq!(
        our_paths.len(),
        their_paths.len(),
        "{mode}: hoist has paths umoci has not: {:?}",
        our_paths
            .keys()
            .filter(|p| !their_paths.contains_key(*p))
            .collect::<Vec<_>>()
    );
    assert_eq!(our_links, their_links, "{mode}: hard-link groups differ");
    assert_eq!(
        our_links,
        vec![vec![
            "bin/busybox".to_owned(),
            "bin/sh".to_owned(),
            "usr/bin/sh-again".to_owned()
        ]]
    );
    assert!(our_paths.contains_key("var/cache/new") && !our_paths.contains_key("var/cache/old"));
    assert!(!our_paths.contains_key("opt/gone"));
    assert_eq!(
        runtime_process(&ours),
        runtime_process(&theirs),
        "{mode}: config.json differs"
    );
}

#[test]
fn a_rootless_bundle_equals_umocis() {
    compare_with_umoci(true);
}

#[test]
fn a_bundle_keeping_owners_equals_umocis() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIPPED: keeping owners needs root");
        return;
    }
    compare_with_umoci(false);
}

fn loaded_env() -> Env {
    let env = Env::new();
    let layout = env.path().join("layout");
    interop_image(false)
        .write_oci_layout(&layout, NAME, "1")
        .unwrap();
    env.hoist(&["load", "-i", layout.to_str().unwrap()])
        .assert()
        .success();
    env
}

#[test]
fn json_reports_layers_files_bytes_and_skipped_devices() {
    let env = loaded_env();
    let dest = env.path().join("rootfs");
    let output = env
        .hoist(&[
            "unpack",
            NAME,
            dest.to_str().unwrap(),
            "--platform",
            "linux/amd64",
            "--rootless",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["layers"].as_array().unwrap().len(), 2);
    assert_eq!(result["rootless"], true);
    assert_eq!(result["bundle"], false);
    assert_eq!(result["totals"]["skipped_devices"], 0);
    assert!(result["totals"]["files"].as_u64().unwrap() >= 15);
    assert_eq!(result["totals"]["whiteouts"], 3);
    assert!(result["layers"][1]["bytes"].as_u64().unwrap() >= 200_000);
    assert!(
        result["layers"][0]["diff_id"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(dest.join("bin/busybox").is_file());
}

#[test]
fn a_full_directory_is_refused_unless_forced() {
    let env = loaded_env();
    let dest = env.path().join("full");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("mine"), b"mine").unwrap();
    let args = [
        "unpack",
        NAME,
        dest.to_str().unwrap(),
        "--platform",
        "linux/amd64",
        "--rootless",
        "-q",
    ];
    let output = env.hoist(&args).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error = one_error_line(&output.stderr);
    assert!(error.contains("not empty"), "{error}");
    assert_eq!(std::fs::read(dest.join("mine")).unwrap(), b"mine");

    let mut forced = args.to_vec();
    forced.push("--force");
    env.hoist(&forced).assert().success();
    assert!(!dest.join("mine").exists());
    assert!(dest.join("etc/passwd").is_file());
}

#[test]
fn a_platform_the_image_lacks_is_named() {
    let env = loaded_env();
    let dest = env.path().join("nowhere");
    let output = env
        .hoist(&[
            "unpack",
            NAME,
            dest.to_str().unwrap(),
            "--platform",
            "linux/s390x",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("linux/s390x"), "{text}");
    assert!(!dest.exists());
}

#[test]
fn a_killed_unpack_leaves_nothing_at_dest() {
    // One 64 MiB layer of incompressible files: long enough to be killed
    // while its files are being written.
    let mut seed = 0x2545_F491_4F6C_DD1D_u64;
    let mut builder = LayerBuilder::new();
    for f in 0..16 {
        let chunk: Vec<u8> = (0..4 * 1024 * 1024 / 8)
            .flat_map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed.to_le_bytes()
            })
            .collect();
        builder.file(&format!("big/{f}"), &chunk).unwrap();
    }
    let image = TestImage::new(
        vec![layer(&builder.finish().unwrap(), LayerCompression::None).unwrap()],
        serde_json::json!({}),
    )
    .unwrap();
    let env = Env::new();
    let layout = env.path().join("layout");
    image.write_oci_layout(&layout, NAME, "1").unwrap();
    env.hoist(&["load", "-i", layout.to_str().unwrap()])
        .assert()
        .success();

    for attempt in 0..5 {
        let dest = env.path().join(format!("dest-{attempt}"));
        let mut child = env
            .hoist_std(&[
                "unpack",
                NAME,
                dest.to_str().unwrap(),
                "--platform",
                "linux/amd64",
                "--rootless",
                "-q",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let staging = loop {
            let staging = std::fs::read_dir(env.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(".hoist-unpack-")
                });
            if let Some(staging) = staging.filter(|s| s.join("big").exists()) {
                break Some(staging);
            }
            if child.try_wait().unwrap().is_some() || started.elapsed().as_secs() > 30 {
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        child.kill().unwrap();
        let status = child.wait().unwrap();
        if status.success() || staging.is_none() {
            // It finished before the kill landed: nothing to judge; again.
            let _ = std::fs::remove_dir_all(&dest);
            continue;
        }
        assert!(!dest.exists(), "a killed unpack left {}", dest.display());
        assert!(
            staging.unwrap().exists(),
            "the staging directory is what a kill leaves"
        );
        return;
    }
    panic!("the unpack always finished before it could be killed");
}
