//! Interop with the real tools, both ways: what hoist saves, skopeo, ctr and
//! umoci read; what skopeo and ctr write, hoist loads. Digests are preserved
//! both ways. Under `CI=true` a missing tool fails the test; elsewhere the
//! test says loudly that it is skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use hoist_image::{Image, LoadOptions, SaveOptions, check_all, load, load_dir, save};
use serde_json::Value;

use crate::fixture::{Built, Spec, TestStore, build};

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The tool's path, or `None` (skipping, loudly) outside CI; panics under CI.
fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(!is_ci(), "{name} is not installed, and CI=true requires it");
        let test = std::thread::current()
            .name()
            .unwrap_or("this test")
            .to_owned();
        eprintln!("SKIPPED {test}: {name} is not installed (under CI=true this fails)");
    }
    found
}

/// Runs a command and returns its standard output; panics with its stderr on failure.
fn run(command: &mut Command) -> String {
    let output = command.stdin(Stdio::null()).output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn save_file(t: &TestStore, images: &[Image], options: &SaveOptions, path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut out = std::io::BufWriter::new(file);
    save(&t.store, images, options, &mut out).unwrap();
    drop(out);
}

fn multi_platform(t: &TestStore, docker: bool) -> Built {
    let spec = Spec::new(&["linux/amd64", "linux/arm64", "linux/s390x"]);
    let spec = if docker {
        spec.docker()
    } else {
        spec.attestations()
    };
    build(&t.store, &spec)
}

/// The digest `index.json` of an OCI layout directory lists first.
fn layout_target(dir: &Path) -> String {
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn skopeo_reads_hoist_archives_and_hoist_reads_skopeos() {
    let Some(skopeo) = tool("skopeo") else { return };
    let skopeo_copy = |from: String, to: String, extra: &[&str]| {
        run(Command::new(&skopeo)
            .args(["--insecure-policy", "copy"])
            .args(extra)
            .arg(from)
            .arg(to));
    };
    let work = tempfile::tempdir().unwrap();
    let t = TestStore::new();
    let built = multi_platform(&t, false);
    let saved = work.path().join("hoist.tar");
    save_file(&t, &[built.image()], &SaveOptions::default(), &saved);

    // hoist -> skopeo: an OCI layout directory, digests kept.
    let dir = work.path().join("layout");
    let all = ["--all", "--preserve-digests"];
    skopeo_copy(
        format!("oci-archive:{}", saved.display()),
        format!("oci:{}:copied", dir.display()),
        &all,
    );
    assert_eq!(layout_target(&dir), built.index.digest.to_string());

    // skopeo -> hoist: the directory, and an oci-archive skopeo writes.
    let back = TestStore::new();
    let loaded = load_dir(&back.store, &dir, &LoadOptions::default()).unwrap();
    assert_eq!(loaded.images[0].target.digest, built.index.digest);
    assert!(
        check_all(
            &back.store,
            &Image::new("x", loaded.images[0].target.clone())
        )
        .unwrap()
        .is_complete()
    );

    let archive = work.path().join("skopeo.tar");
    skopeo_copy(
        format!("oci:{}:copied", dir.display()),
        format!("oci-archive:{}:example.com/app:2.0", archive.display()),
        &all,
    );
    let back = TestStore::new();
    let loaded = load(
        &back.store,
        std::fs::File::open(&archive).unwrap(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        loaded.images[0].name.as_deref(),
        Some("example.com/app:2.0")
    );
    assert_eq!(loaded.images[0].target.digest, built.index.digest);
    assert!(
        check_all(
            &back.store,
            &Image::new("x", loaded.images[0].target.clone())
        )
        .unwrap()
        .is_complete()
    );
}

#[test]
fn skopeo_reads_docker_media_types_from_hoist_and_hoist_reads_docker_archives() {
    let Some(skopeo) = tool("skopeo") else { return };
    let work = tempfile::tempdir().unwrap();
    let t = TestStore::new();
    let built = multi_platform(&t, true);
    let saved = work.path().join("hoist.tar");
    save_file(&t, &[built.image()], &SaveOptions::default(), &saved);

    // skopeo sees the Docker manifest list byte for byte and copies every
    // platform out of the archive (its own `dir:` format keeps Docker types).
    let raw = run(Command::new(&skopeo)
        .args(["inspect", "--raw"])
        .arg(format!("oci-archive:{}", saved.display())));
    assert_eq!(raw.as_bytes(), built.index_bytes.as_slice());
    let dir = work.path().join("dir");
    run(Command::new(&skopeo)
        .args(["--insecure-policy", "copy", "--all", "--preserve-digests"])
        .arg(format!("oci-archive:{}", saved.display()))
        .arg(format!("dir:{}", dir.display())));
    assert_eq!(
        std::fs::read(dir.join("manifest.json")).unwrap(),
        built.index_bytes
    );

    // skopeo writes a docker-archive (docker save format) of one platform,
    // with the layers decompressed; hoist loads it with the config digest
    // kept and each layer's digest equal to its diff ID.
    let docker_archive = work.path().join("docker.tar");
    run(Command::new(&skopeo)
        .args([
            "--insecure-policy",
            "--override-os",
            "linux",
            "--override-arch",
            "arm64",
            "copy",
        ])
        .arg(format!("oci-archive:{}", saved.display()))
        .arg(format!(
            "docker-archive:{}:example.com/app:1.0",
            docker_archive.display()
        )));
    let back = TestStore::new();
    let loaded = load(
        &back.store,
        std::fs::File::open(&docker_archive).unwrap(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(loaded.images.len(), 1);
    assert_eq!(
        loaded.images[0].name.as_deref(),
        Some("example.com/app:1.0")
    );
    let document = hoist_image::read_document(&back.store, &loaded.images[0].target).unwrap();
    let manifest = document.as_manifest().unwrap();
    let arm64 = built.platform("linux/arm64");
    assert_eq!(manifest.config().digest, arm64.config.digest);
    let config: Value = serde_json::from_slice(&back.read(&arm64.config.digest)).unwrap();
    let layers: Vec<String> = manifest
        .layers()
        .iter()
        .map(|l| l.digest.to_string())
        .collect();
    let diff_ids: Vec<String> = config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    assert_eq!(layers, diff_ids);
    assert!(
        manifest
            .layers()
            .iter()
            .all(|l| l.media_type == hoist_image::media_type::DOCKER_LAYER)
    );
    assert!(
        check_all(
            &back.store,
            &Image::new("x", loaded.images[0].target.clone())
        )
        .unwrap()
        .is_complete()
    );
}

#[test]
fn umoci_unpacks_a_single_platform_save() {
    let Some(umoci) = tool("umoci") else { return };
    let work = tempfile::tempdir().unwrap();
    let t = TestStore::new();
    let built = build(&t.store, &Spec::new(&["linux/amd64"]));
    let saved = work.path().join("one.tar");
    save_file(
        &t,
        &[built.platforms[0].image("example.com/one:1.0")],
        &SaveOptions::default(),
        &saved,
    );
    let layout = work.path().join("layout");
    tar::Archive::new(std::fs::File::open(&saved).unwrap())
        .unpack(&layout)
        .unwrap();
    let tags = run(Command::new(&umoci).args(["ls", "--layout"]).arg(&layout));
    assert_eq!(tags.trim(), "1.0");
    let bundle = work.path().join("bundle");
    run(Command::new(&umoci)
        .args(["unpack", "--image"])
        .arg(format!("{}:1.0", layout.display()))
        .arg(&bundle));
    // testkit's layers: the shared one, then the platform's own.
    assert!(bundle.join("rootfs/shared/file-0000.bin").is_file());
    assert!(bundle.join("rootfs/linux/amd64-0/file-0000.bin").is_file());
}

#[test]
fn ctr_imports_hoist_archives_and_hoist_loads_ctr_exports() {
    let Some(containerd) = hoist_testkit::Containerd::start().unwrap() else {
        return;
    };
    for (docker, name) in [
        (false, "example.com/app:1.0"),
        (true, "example.com/docker:1.0"),
    ] {
        let work = tempfile::tempdir().unwrap();
        let t = TestStore::new();
        let built = multi_platform(&t, docker);
        let image = Image::new(name, built.index.clone());
        let saved = work.path().join("hoist.tar");
        save_file(&t, &[image], &SaveOptions::default(), &saved);

        // hoist -> ctr: imported under its name, digest kept.
        containerd
            .ctr(&[
                "images",
                "import",
                "--all-platforms",
                "--no-unpack",
                saved.to_str().unwrap(),
            ])
            .unwrap();
        let listing = containerd.ctr(&["images", "ls"]).unwrap();
        let line = listing
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} not in ctr's images:\n{listing}"));
        assert!(line.contains(&built.index.digest.to_string()), "{line}");
        containerd
            .ctr(&[
                "content",
                "get",
                built.platform("linux/s390x").own_layer().digest.as_str(),
            ])
            .unwrap();

        // ctr -> hoist: the export loads with the same digest and name.
        let exported = work.path().join("ctr.tar");
        containerd
            .ctr(&[
                "images",
                "export",
                "--all-platforms",
                exported.to_str().unwrap(),
                name,
            ])
            .unwrap();
        let back = TestStore::new();
        let loaded = load(
            &back.store,
            std::fs::File::open(&exported).unwrap(),
            &LoadOptions::default(),
        )
        .unwrap();
        assert_eq!(loaded.images.len(), 1);
        assert_eq!(loaded.images[0].name.as_deref(), Some(name));
        assert_eq!(loaded.images[0].target.digest, built.index.digest);
        assert!(
            check_all(
                &back.store,
                &Image::new(name, loaded.images[0].target.clone())
            )
            .unwrap()
            .is_complete()
        );
    }
}
