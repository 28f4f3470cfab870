//! Building layer stacks into a store, unpacking them, and reading trees back.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use hoist_content::{Digest, LocalStore, write_blob};
use hoist_image::{Document, Manifest};
use hoist_testkit::layers::{LayerBuilder, LayerCompression, TestImage, TestLayer, layer};
use hoist_unpack::{NoProgress, Result, UnpackOptions, Unpacked, unpack};

/// A store holding one image, and a scratch directory to unpack into.
pub struct Scratch {
    pub dir: tempfile::TempDir,
    pub store: LocalStore,
    pub manifest: Manifest,
}

impl Scratch {
    pub fn dest(&self) -> PathBuf {
        self.dir.path().join("dest")
    }

    pub fn unpack(&self, options: &UnpackOptions) -> Result<Unpacked> {
        unpack(
            &self.store,
            &self.manifest,
            &self.dest(),
            options,
            &NoProgress,
        )
    }
}

/// Stores `image` and parses its manifest.
pub fn store(image: &TestImage) -> Scratch {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path().join("store")).unwrap();
    for (digest, bytes) in image.blobs() {
        let digest: Digest = digest.parse().unwrap();
        write_blob(
            &store,
            digest.hex(),
            bytes,
            &digest,
            bytes.len() as u64,
            Default::default(),
        )
        .unwrap();
    }
    let document = Document::from_bytes(image.manifest.clone(), None).unwrap();
    let manifest = document.as_manifest().unwrap().clone();
    Scratch {
        dir,
        store,
        manifest,
    }
}

/// An image of the layers `build` writes, gzip-compressed.
pub fn stack(layers: Vec<LayerBuilder>) -> Scratch {
    stack_with(layers, LayerCompression::Gzip, serde_json::json!({}))
}

pub fn stack_with(
    layers: Vec<LayerBuilder>,
    compression: LayerCompression,
    run: serde_json::Value,
) -> Scratch {
    let layers: Vec<TestLayer> = layers
        .into_iter()
        .map(|b| layer(&b.finish().unwrap(), compression).unwrap())
        .collect();
    store(&TestImage::new(layers, run).unwrap())
}

/// One layer from a closure.
pub fn build(f: impl FnOnce(&mut LayerBuilder) -> hoist_testkit::Result<()>) -> LayerBuilder {
    let mut builder = LayerBuilder::new();
    f(&mut builder).unwrap();
    builder
}

pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// What the test runs as: keeping owners when root, rootless otherwise.
pub fn native() -> UnpackOptions {
    UnpackOptions::new().rootless(!is_root())
}

/// Every path under `root` (relative, sorted) with its type letter.
pub fn listing(root: &Path) -> BTreeMap<String, char> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, char>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        let letter = if kind.is_dir() {
            'd'
        } else if kind.is_symlink() {
            'l'
        } else if kind.is_fifo() {
            'p'
        } else if kind.is_char_device() {
            'c'
        } else if kind.is_block_device() {
            'b'
        } else {
            'f'
        };
        out.insert(
            path.strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            letter,
        );
        if kind.is_dir() {
            walk(root, &path, out);
        }
    }
}

pub fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

pub fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    match rustix::fs::lgetxattr(path, name, &mut buf) {
        Ok(n) => {
            buf.truncate(n);
            Some(buf)
        }
        Err(_) => None,
    }
}

/// A directory outside every unpack with one file whose content and mtime
/// must never change.
pub struct Sentinel {
    pub dir: PathBuf,
    pub file: PathBuf,
}

impl Sentinel {
    pub fn plant(base: &Path) -> Sentinel {
        let dir = base.join("outside");
        std::fs::create_dir(&dir).unwrap();
        let file = dir.join("sentinel");
        std::fs::write(&file, b"keep").unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(12345);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(old)
            .unwrap();
        Sentinel { dir, file }
    }

    /// Asserts nothing outside changed: the sentinel's content and mtime,
    /// and the directory holds nothing else.
    pub fn assert_untouched(&self) {
        assert_eq!(
            std::fs::read(&self.file).unwrap(),
            b"keep",
            "the sentinel's content changed"
        );
        let meta = std::fs::symlink_metadata(&self.file).unwrap();
        assert!(meta.is_file(), "the sentinel is no longer a file");
        assert_eq!(meta.mtime(), 12345, "the sentinel's mtime changed");
        assert_eq!(meta.nlink(), 1, "something hard-linked the sentinel");
        let names: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            vec!["sentinel".to_owned()],
            "something was created outside"
        );
    }
}
