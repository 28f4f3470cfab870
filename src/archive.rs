//! Save images to an archive and load archives into the store. A load
//! writes under its own lease and creates the names last, once the image
//! crate has verified everything the archive's indexes reach.

use std::io::{Read, Write};
use std::path::Path;

use hoist_image::{LoadOptions, Loaded, SaveOptions, SaveSummary};

use crate::error::{Error, Result};
use crate::platforms::Platforms;
use crate::store::Store;

/// What [`Store::load`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    /// What the image crate stored and found.
    pub loaded: Loaded,
    /// The names created or moved, in archive order.
    pub names: Vec<String>,
}

impl Store {
    /// Writes the images `names` to `out` as an OCI layout tar (with
    /// Docker's `manifest.json`); with chosen `platforms`, each index is
    /// reduced in the archive only.
    ///
    /// # Errors
    /// Not found for a missing image or platform; failed precondition when
    /// a saved platform is incomplete locally; I/O errors of `out`.
    pub fn save<W: Write>(
        &self,
        names: &[&str],
        platforms: &Platforms,
        out: W,
    ) -> Result<SaveSummary> {
        let mut images = Vec::new();
        for name in names {
            images.push(self.image(name)?.image());
        }
        let options = SaveOptions {
            platforms: (!platforms.is_all()).then(|| platforms.matcher()),
            ..SaveOptions::default()
        };
        Ok(hoist_image::save(&self.content(), &images, &options, out)?)
    }

    /// Loads an archive (OCI layout tar, `docker save` tar, plain or gzip)
    /// from `reader`; entries named only by a tag get `name_prefix:<tag>`.
    ///
    /// # Errors
    /// Invalid argument or data loss for a malformed or lying archive (then
    /// nothing is named); store errors.
    pub fn load<R: Read>(&self, reader: R, name_prefix: Option<&str>) -> Result<LoadReport> {
        let lease = self.begin("load")?;
        let options = LoadOptions {
            name_prefix: name_prefix.map(str::to_owned),
        };
        let loaded = hoist_image::load(&lease.content(), reader, &options)?;
        self.name_loaded(loaded, lease)
    }

    /// Loads `path`: an OCI layout directory, or an archive file.
    ///
    /// # Errors
    /// As [`Store::load`]; I/O errors opening `path`.
    pub fn load_path(&self, path: &Path, name_prefix: Option<&str>) -> Result<LoadReport> {
        if path.is_dir() {
            let lease = self.begin("load")?;
            let options = LoadOptions {
                name_prefix: name_prefix.map(str::to_owned),
            };
            let loaded = hoist_image::load_dir(&lease.content(), path, &options)?;
            return self.name_loaded(loaded, lease);
        }
        let file = std::fs::File::open(path).map_err(|e| Error::io("opening", path, e))?;
        self.load(file, name_prefix)
    }

    /// Names what a load stored, then lets its lease go: the names are the
    /// roots from then on. Unnamed images stay until the next collection.
    fn name_loaded(&self, loaded: Loaded, lease: crate::store::WriteLease) -> Result<LoadReport> {
        let mut names = Vec::new();
        for image in &loaded.images {
            if let Some(name) = &image.name {
                self.set_image(name, &image.target)?;
                names.push(name.clone());
            }
        }
        lease.finish()?;
        Ok(LoadReport { loaded, names })
    }
}
