//! Unpack an image of the store into a root filesystem or an OCI runtime
//! bundle: the platform is chosen as everywhere else (one entry), the
//! unpacking itself is `hoist-unpack`'s, and each layer's uncompressed
//! digest is then recorded on its content record.

use std::path::Path;

use hoist_unpack::{NoProgress, Progress, UnpackOptions, Unpacked};

use crate::error::{Error, ErrorKind, Result};
use crate::platforms::{self, Platforms};
use crate::store::Store;

/// containerd's label for a compressed layer's uncompressed digest (its diff_id).
pub const UNCOMPRESSED_LABEL: &str = "containerd.io/uncompressed";

impl Store {
    /// Unpacks the image `name`, for the one platform `platforms` picks,
    /// into `dest`: see [`hoist_unpack::unpack`] for what is written and the
    /// guarantees (nothing outside `dest`; `dest` whole or absent).
    ///
    /// # Errors
    /// Not found for a missing image, platform or blob; invalid argument
    /// when `platforms` picks more than one manifest; already exists for a
    /// non-empty `dest` without [`UnpackOptions::replace`]; data loss for a
    /// layer whose content does not match the config; unsupported for a
    /// layer type hoist does not apply.
    pub fn unpack(
        &self,
        name: &str,
        platforms: &Platforms,
        dest: &Path,
        options: &UnpackOptions,
    ) -> Result<Unpacked> {
        self.unpack_with_progress(name, platforms, dest, options, &NoProgress)
    }

    /// [`Store::unpack`], reporting each layer to `progress`.
    ///
    /// # Errors
    /// As [`Store::unpack`].
    pub fn unpack_with_progress(
        &self,
        name: &str,
        platforms: &Platforms,
        dest: &Path,
        options: &UnpackOptions,
        progress: &dyn Progress,
    ) -> Result<Unpacked> {
        let record = self.image(name)?;
        let content = self.content();
        // One platform's manifest: the attestations that travel with it hold
        // no filesystem.
        let mut entries: Vec<hoist_image::Entry> =
            platforms::resolve(&content, &crate::images::documents_of(&record), platforms)?
                .entries
                .into_iter()
                .filter(|entry| !entry.is_attestation())
                .collect();
        if entries.len() != 1 {
            let listed: Vec<String> = entries.iter().map(|e| e.kind.to_string()).collect();
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{name} has {} manifests for {platforms} ({}); unpack one platform at a time",
                    entries.len(),
                    listed.join(", ")
                ),
            ));
        }
        let entry = entries.remove(0);
        let document = hoist_image::read_document(&content, &entry.descriptor)?;
        let Some(manifest) = document.as_manifest() else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{name}: {} is not a manifest", entry.descriptor.digest),
            ));
        };
        let unpacked = hoist_unpack::unpack(&content, manifest, dest, options, progress)
            .map_err(|e| Error::from(e).context(name))?;
        // containerd's record of what each compressed layer unpacks to; a
        // failure to write it costs nothing but a recomputation later.
        for layer in &unpacked.layers {
            if layer.digest == layer.diff_id {
                continue;
            }
            let diff_id = layer.diff_id.to_string();
            if let Err(error) = content.update_labels(&layer.digest, |labels| {
                labels.insert(UNCOMPRESSED_LABEL.to_owned(), diff_id);
            }) {
                tracing::warn!("could not label layer {}: {error}", layer.digest);
            }
        }
        Ok(unpacked)
    }
}
