//! [`Platforms`]: which platforms of an image an operation concerns, and
//! the one rule that turns that choice into index entries.
//!
//! Every operation that takes platforms (pull, push, copy, save, convert,
//! check, verify) resolves the choice against the image first, with
//! [`resolve`], and then works only with what it returns: the chosen entries
//! and a *strict* matcher accepting exactly their platforms. Fallbacks (an
//! amd64 machine also runs 386, an arm64 one arm/v7) only rank the candidates
//! of a host choice; they never add entries. This is containerd's
//! `DefaultStrict`, as nerdctl uses it for push and save: an index listing
//! linux/amd64 and linux/386 pushed from an amd64 machine keeps linux/amd64
//! alone.

use std::fmt;

use hoist_content::{Digest, Manager, Provider};
use hoist_image::{Entry, EntryKind, Image};
use hoist_platform::{Platform, PlatformMatcher};

use crate::error::Result;

/// Which platforms an operation takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Platforms {
    /// Every manifest the image lists (attestations included).
    #[default]
    All,
    /// The one manifest this machine runs best (containerd's default): the
    /// closest match wins, and only that one entry is taken.
    Host,
    /// Exactly these platforms (normalized; no fallbacks), each of which
    /// must be present.
    Only(Vec<Platform>),
}

impl Platforms {
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

/// A platform choice resolved against one image.
#[derive(Debug, Clone)]
pub(crate) struct Selection {
    /// The chosen entries, in index order, each once, followed by the
    /// attestation manifests about them (buildx's provenance and SBOMs,
    /// which travel with the platforms they describe).
    pub entries: Vec<Entry>,
    /// Accepts exactly the chosen entries' platforms, never a fallback;
    /// [`hoist_platform::all`] for [`Platforms::All`].
    pub matcher: PlatformMatcher,
}

/// Resolves `platforms` against `image`: which entries it takes, and the
/// strict matcher that reduces, checks and saves exactly those. The image's
/// top document must be stored; its manifests need not be.
///
/// # Errors
/// The image crate's selection errors: not-found with the available
/// platforms for a platform it lacks, not-found for an empty index.
pub(crate) fn resolve<S: Provider + Manager + ?Sized>(
    store: &S,
    image: &Image,
    platforms: &Platforms,
) -> Result<Selection> {
    let mut entries = select(store, image, platforms)?;
    let matcher = match platforms {
        Platforms::All => hoist_platform::all(),
        // A lone manifest whose platform cannot be told was taken as it is;
        // there is nothing else it could match.
        Platforms::Host | Platforms::Only(_) if entries.iter().any(|e| e.platform().is_none()) => {
            hoist_platform::all()
        }
        Platforms::Host | Platforms::Only(_) => {
            hoist_platform::any(entries.iter().filter_map(|e| e.platform().cloned()))
        }
    };
    if !platforms.is_all() {
        let chosen: Vec<Digest> = entries
            .iter()
            .map(|e| e.descriptor.digest.clone())
            .collect();
        let report = hoist_image::platform_report(store, image)?;
        entries.extend(report.entries.into_iter().map(|row| row.entry).filter(|entry| {
            matches!(&entry.kind, EntryKind::Attestation { subject: Some(subject) } if chosen.contains(subject))
        }));
    }
    Ok(Selection { entries, matcher })
}

/// The entries of `image` that `platforms` picks, in index order, each once.
fn select<S: Provider + Manager + ?Sized>(
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
            // The fallback matcher ranks; `select_manifest` takes its best.
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
