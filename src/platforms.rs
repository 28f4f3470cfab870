//! [`Platforms`]: which platforms of an image an operation concerns, and
//! how each choice picks an index's entries.

use std::fmt;

use hoist_content::{Manager, Provider};
use hoist_image::{Entry, Image};
use hoist_platform::{Platform, PlatformMatcher};

use crate::error::Result;

/// Which platforms an operation takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Platforms {
    /// Every manifest the image lists (attestations included).
    #[default]
    All,
    /// The one manifest this machine runs best (containerd's default).
    Host,
    /// Exactly these platforms (normalized; no fallbacks), each of which
    /// must be present.
    Only(Vec<Platform>),
}

impl Platforms {
    /// The matcher the image crate uses for this choice.
    pub fn matcher(&self) -> PlatformMatcher {
        match self {
            Platforms::All => hoist_platform::all(),
            Platforms::Host => hoist_platform::host(),
            Platforms::Only(list) => hoist_platform::any(list.iter().cloned()),
        }
    }

    /// True for [`Platforms::All`].
    pub fn is_all(&self) -> bool {
        matches!(self, Platforms::All)
    }
}

impl fmt::Display for Platforms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Platforms::All => f.write_str("all platforms"),
            Platforms::Host => write!(f, "{} (host)", Platform::host()),
            Platforms::Only(list) => {
                let names: Vec<String> = list.iter().map(ToString::to_string).collect();
                f.write_str(&names.join(", "))
            }
        }
    }
}

/// The entries of `image` that `platforms` picks, in index order, each once.
/// The image's top document must be stored; its manifests need not be.
///
/// # Errors
/// The image crate's selection errors: not-found with the available
/// platforms for a platform it lacks, not-found for an empty index.
pub(crate) fn select<S: Provider + Manager + ?Sized>(
    store: &S,
    image: &Image,
    platforms: &Platforms,
) -> Result<Vec<Entry>> {
    let mut picked: Vec<Entry> = Vec::new();
    match platforms {
        Platforms::All => {
            // Selecting with `all` fails on an empty index with the image
            // crate's own error, which callers render with a hint.
            hoist_image::select_manifest(store, image, &hoist_platform::all())?;
            let report = hoist_image::platform_report(store, image)?;
            picked.extend(report.entries.into_iter().map(|row| row.entry));
        }
        Platforms::Host => {
            picked.push(hoist_image::select_manifest(
                store,
                image,
                &hoist_platform::host(),
            )?);
        }
        Platforms::Only(list) => {
            for platform in list {
                let matcher = hoist_platform::only_strict(platform.clone());
                let entry = hoist_image::select_manifest(store, image, &matcher)?;
                if !picked
                    .iter()
                    .any(|e| e.descriptor.digest == entry.descriptor.digest)
                {
                    picked.push(entry);
                }
            }
        }
    }
    Ok(picked)
}
