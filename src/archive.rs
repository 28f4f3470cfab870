//! Save images to an archive and load archives into the store. A load
//! writes under its own lease and creates the names last, once the image
//! crate has verified everything the archive's indexes reach.

use std::io::{Read, Write};
use std::path::Path;
use std::time::SystemTime;

use hoist_image::{LoadOptions, Loaded, LoadedImage, ReferrerSelection, SaveOptions, SaveSummary};

use crate::error::{Error, ErrorKind, Result};
use crate::platforms::Platforms;
use crate::referrers::ReferrersOptions;
use crate::store::Store;

/// How [`Store::load_with`] and [`Store::load_path_with`] read an archive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArchiveLoadOptions {
    /// Names what the archive leaves unnamed, as `name` of [`Store::load`].
    pub name: Option<String>,
    /// Also store the referrers (signatures, SBOMs) the archive lists, as
    /// `hoist save --referrers` and `oras copy -r --to-oci-layout` write
    /// them. Off: they are recognized and left out (counted in
    /// [`Loaded::referrers_skipped`]); never named either way.
    pub referrers: bool,
}

impl ArchiveLoadOptions {
    /// No name, no referrers.
    pub fn new() -> ArchiveLoadOptions {
        ArchiveLoadOptions::default()
    }

    /// Names what the archive leaves unnamed.
    pub fn name(mut self, name: Option<&str>) -> Self {
        self.name = name.map(str::to_owned);
        self
    }

    /// Stores the archive's referrers too.
    pub fn referrers(mut self, referrers: bool) -> Self {
        self.referrers = referrers;
        self
    }
}

/// What [`Store::load`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    /// What the image crate stored and found.
    pub loaded: Loaded,
    /// The names created or moved, in archive order.
    pub names: Vec<String>,
    /// The images the archive left unnamed and no name was given for.
    pub unnamed: Vec<LoadedImage>,
    /// What holds the unnamed images' content, when there are any: the
    /// load's lease is kept until it expires, so a second load that names
    /// them finds every blob already stored, and GC removes nothing meanwhile.
    pub held_by: Option<HeldContent>,
}

impl LoadReport {
    /// The unnamed images as `tag v1 (sha256:…), sha256:…`, for messages.
    pub fn describe_unnamed(&self) -> String {
        describe_unnamed(&self.unnamed)
    }
}

/// A lease kept after an operation, and when it lets go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldContent {
    /// The lease's id (`hoist lease ls` lists it, `hoist lease rm` drops it).
    pub lease: String,
    /// When it expires, after which GC may collect what only it holds.
    pub expires_at: Option<SystemTime>,
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
        self.save_with_referrers(names, platforms, None, out)
    }

    /// As [`Store::save`], and with `referrers` also the stored referrers
    /// (signatures, SBOMs) of every manifest and index saved, recursively,
    /// of the chosen artifact types: each a blob with its own unnamed
    /// `index.json` entry carrying its `artifactType` and annotations, as
    /// `oras copy -r --to-oci-layout` writes them. Only the saved
    /// platforms' referrers go; an index reduced to some platforms is a new
    /// document, so the referrers of the original index are left out and
    /// listed ([`SaveSummary::referrers_left_behind`]): they sign bytes the
    /// archive does not hold.
    ///
    /// # Errors
    /// As [`Store::save`]; failed precondition when a referrer's blobs are
    /// not all stored.
    pub fn save_with_referrers<W: Write>(
        &self,
        names: &[&str],
        platforms: &Platforms,
        referrers: Option<&ReferrersOptions>,
        out: W,
    ) -> Result<SaveSummary> {
        let content = self.content();
        let mut images = Vec::new();
        let mut matchers = Vec::new();
        for name in names {
            let image = crate::images::documents_of(&self.image(name)?);
            // Each image resolves the choice on its own: "the host's
            // platform" may be amd64 in one index and 386 in another. All
            // platforms need no resolving: the image goes whole.
            matchers.push(if platforms.is_all() {
                hoist_platform::all()
            } else {
                crate::platforms::resolve(&content, &image, platforms)?.matcher
            });
            images.push(image);
        }
        let options = SaveOptions {
            platforms: matchers,
            referrers: referrers.map(|r| ReferrerSelection::of_types(r.artifact_types.clone())),
            ..SaveOptions::default()
        };
        Ok(hoist_image::save(&content, &images, &options, out)?)
    }

    /// Loads an archive (OCI layout tar, `docker save` tar, plain or gzip)
    /// from `reader`.
    ///
    /// `name` names what the archive leaves unnamed (entries whose only name
    /// is a bare tag, as `skopeo copy … oci-archive:FILE:TAG` writes them,
    /// or none at all): a repository such as `example.com/app` names each
    /// bare-tagged entry `example.com/app:<tag>` (ctr's `--base-name`); a
    /// full reference with a tag or digest names the archive's one unnamed
    /// entry. Names the archive gives itself are kept either way. What stays
    /// unnamed is held by the load's lease until it expires
    /// ([`LoadReport::held_by`]), so a second load with a name moves nothing
    /// again.
    ///
    /// # Errors
    /// Invalid argument or data loss for a malformed or lying archive (then
    /// nothing is named); invalid argument when `name` is a full reference
    /// but several entries are unnamed; store errors.
    pub fn load<R: Read>(&self, reader: R, name: Option<&str>) -> Result<LoadReport> {
        self.load_with(reader, &ArchiveLoadOptions::new().name(name))
    }

    /// As [`Store::load`], with referrers when `options` asks for them:
    /// the archive's referrer entries are stored (held by their subjects,
    /// as pulled ones are), never named, and not reported as unnamed
    /// images. A referrer whose subject is neither in the archive nor in
    /// the store is left out and reported
    /// ([`Loaded::referrers_without_subject`]): nothing would hold it.
    ///
    /// # Errors
    /// As [`Store::load`].
    pub fn load_with<R: Read>(
        &self,
        reader: R,
        options: &ArchiveLoadOptions,
    ) -> Result<LoadReport> {
        let lease = self.begin("load")?;
        let loaded = hoist_image::load(&lease.content(), reader, &load_options(options))?;
        self.name_loaded(loaded, options.name.as_deref(), lease)
    }

    /// Loads `path`: an OCI layout directory, or an archive file; `name` as
    /// for [`Store::load`].
    ///
    /// # Errors
    /// As [`Store::load`]; I/O errors opening `path`.
    pub fn load_path(&self, path: &Path, name: Option<&str>) -> Result<LoadReport> {
        self.load_path_with(path, &ArchiveLoadOptions::new().name(name))
    }

    /// As [`Store::load_path`], with the options of [`Store::load_with`].
    ///
    /// # Errors
    /// As [`Store::load_path`].
    pub fn load_path_with(&self, path: &Path, options: &ArchiveLoadOptions) -> Result<LoadReport> {
        if path.is_dir() {
            let lease = self.begin("load")?;
            let loaded = hoist_image::load_dir(&lease.content(), path, &load_options(options))?;
            return self.name_loaded(loaded, options.name.as_deref(), lease);
        }
        let file = std::fs::File::open(path).map_err(|e| Error::io("opening", path, e))?;
        self.load_with(file, options)
    }

    /// Names what a load stored. When everything got a name, the lease goes:
    /// the names are the roots from then on. Otherwise the lease is kept, to
    /// expire on its own, holding what stayed unnamed.
    fn name_loaded(
        &self,
        mut loaded: Loaded,
        name: Option<&str>,
        lease: crate::store::WriteLease,
    ) -> Result<LoadReport> {
        if let Some(full) = name.filter(|n| is_full_name(n)) {
            let mut unnamed = loaded.images.iter_mut().filter(|i| i.name.is_none());
            match (unnamed.next(), unnamed.next()) {
                (Some(image), None) => image.name = Some(full.to_owned()),
                (Some(_), Some(_)) => {
                    let listed =
                        describe_unnamed(loaded.images.iter().filter(|i| i.name.is_none()));
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "{full} can name one image, but the archive leaves several unnamed ({listed}); \
                             give a repository without a tag to name each <repository>:<tag>"
                        ),
                    ));
                }
                (None, _) => {}
            }
        }
        let mut names = Vec::new();
        let mut unnamed = Vec::new();
        for image in &loaded.images {
            match &image.name {
                Some(name) => {
                    self.set_image(name, &image.target)?;
                    names.push(name.clone());
                }
                None => unnamed.push(image.clone()),
            }
        }
        let held_by = if unnamed.is_empty() {
            lease.finish()?;
            None
        } else {
            let kept = lease.keep();
            kept.map(|lease| HeldContent {
                expires_at: lease.expires_at(),
                lease: lease.id,
            })
        };
        Ok(LoadReport {
            loaded,
            names,
            unnamed,
            held_by,
        })
    }
}

/// A name with a tag or digest names one image; a bare repository is a
/// prefix for bare tags.
fn is_full_name(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or(name);
    last.contains([':', '@'])
}

/// The image crate's options: a repository becomes the prefix of bare
/// tags; a full name is given out after the load.
fn load_options(options: &ArchiveLoadOptions) -> LoadOptions {
    LoadOptions {
        name_prefix: options
            .name
            .as_deref()
            .filter(|n| !is_full_name(n))
            .map(str::to_owned),
        referrers: options.referrers,
    }
}

/// `tag v1 (sha256:…), sha256:…` for messages about unnamed entries.
fn describe_unnamed<'a>(images: impl IntoIterator<Item = &'a LoadedImage>) -> String {
    images
        .into_iter()
        .map(|image| match &image.ref_name {
            Some(tag) => format!("tag {tag} ({})", image.target.digest),
            None => image.target.digest.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
