//! Verify that every required platform is there: locally (listed and
//! complete) or on a registry (the tag resolves to an index listing it);
//! and the platforms of a remote image without pulling it.

use hoist_image::Document;
use hoist_platform::Platform;
use hoist_remote::{Client, Repository};

use crate::error::{Error, ErrorKind, Result};
use crate::nested;
use crate::progress::NoProgress;
use crate::store::Store;
use crate::transfer;

/// One manifest a remote index lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteEntry {
    /// The manifest's descriptor as the index lists it.
    pub descriptor: hoist_image::Descriptor,
    /// Its platform (normalized), when the index gives one.
    pub platform: Option<Platform>,
    /// True for a buildx attestation manifest.
    pub attestation: bool,
}

/// The platforms of a remote image, read without pulling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteReport {
    /// The reference as resolved.
    pub reference: String,
    /// What the tag points at.
    pub target: hoist_image::Descriptor,
    /// True for an index (or manifest list).
    pub is_index: bool,
    /// The manifests it lists, those of nested indexes included (empty for
    /// a lone manifest).
    pub entries: Vec<RemoteEntry>,
}

impl RemoteReport {
    /// The platforms listed, attestations and unknown entries left out.
    pub fn platforms(&self) -> Vec<Platform> {
        self.entries
            .iter()
            .filter(|e| !e.attestation)
            .filter_map(|e| e.platform.clone())
            .collect()
    }
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The image or reference verified.
    pub subject: String,
    /// The platforms it holds (locally: complete ones).
    pub available: Vec<Platform>,
    /// The required platforms, all present.
    pub required: Vec<Platform>,
}

impl Store {
    /// Checks that the local image `name` holds every platform in
    /// `required`, each complete.
    ///
    /// # Errors
    /// [`ErrorKind::PlatformMissing`] naming what is absent or incomplete;
    /// not found when there is no such image.
    pub fn verify_local(&self, name: &str, required: &[Platform]) -> Result<VerifyReport> {
        let report = self.platform_report(name)?;
        let available: Vec<Platform> = report
            .entries
            .iter()
            .filter(|row| row.state.is_complete())
            .filter_map(|row| row.entry.platform().cloned())
            .collect();
        let listed: Vec<Platform> = report
            .entries
            .iter()
            .filter_map(|row| row.entry.platform().cloned())
            .collect();
        let mut problems = Vec::new();
        for platform in required {
            let platform = platform.normalized();
            if !listed.contains(&platform) {
                problems.push(format!("{platform} is not listed"));
            } else if !available.contains(&platform) {
                problems.push(format!("{platform} is incomplete locally"));
            }
        }
        finish(name, available, required, problems)
    }

    /// Checks that `reference` on its registry resolves to an index listing
    /// every platform in `required`.
    ///
    /// # Errors
    /// [`ErrorKind::PlatformMissing`] when a platform is absent or the tag
    /// is a lone manifest; registry errors.
    pub async fn verify_remote(
        &self,
        reference: &str,
        required: &[Platform],
    ) -> Result<VerifyReport> {
        let report = self.remote_platforms(reference).await?;
        let available = report.platforms();
        let mut problems = Vec::new();
        if !report.is_index {
            problems.push(format!(
                "{} is a single manifest ({}), not an index",
                report.reference, report.target.digest
            ));
        }
        for platform in required {
            let platform = platform.normalized();
            if !available.contains(&platform) {
                problems.push(format!("{platform} is not listed"));
            }
        }
        finish(&report.reference, available, required, problems)
    }

    /// The platforms `reference` lists on its registry, without pulling.
    ///
    /// # Errors
    /// Registry errors; the parse errors of a malformed document.
    pub async fn remote_platforms(&self, reference: &str) -> Result<RemoteReport> {
        let reference = transfer::parse_reference(reference)?;
        let client = self.client()?;
        let manifest = client.get_manifest(&reference).await?;
        let target = manifest.descriptor.clone();
        let document = Document::parse(manifest.bytes.to_vec(), &target)?;
        let entries = remote_entries(&client, &reference.repo(), &document).await?;
        Ok(RemoteReport {
            reference: reference.to_string(),
            is_index: document.as_index().is_some(),
            target,
            entries,
        })
    }
}

/// The manifests `document` (fetched from `repository`) lists, following
/// nested indexes with the one walker pull uses; empty for a lone manifest.
///
/// # Errors
/// As [`nested::walk`].
pub(crate) async fn remote_entries(
    client: &Client,
    repository: &Repository,
    document: &Document,
) -> Result<Vec<RemoteEntry>> {
    let Some(index) = document.as_index() else {
        return Ok(Vec::new());
    };
    let tree = nested::walk(client, repository, index, &NoProgress).await?;
    Ok(tree
        .entries
        .into_iter()
        .map(|descriptor| RemoteEntry {
            platform: descriptor.platform.as_ref().map(Platform::normalized),
            attestation: descriptor.is_attestation(),
            descriptor,
        })
        .collect())
}

fn finish(
    subject: &str,
    available: Vec<Platform>,
    required: &[Platform],
    problems: Vec<String>,
) -> Result<VerifyReport> {
    if problems.is_empty() {
        return Ok(VerifyReport {
            subject: subject.to_owned(),
            available,
            required: required.iter().map(Platform::normalized).collect(),
        });
    }
    let names: Vec<String> = available.iter().map(ToString::to_string).collect();
    Err(Error::new(
        ErrorKind::PlatformMissing,
        format!(
            "{subject}: {}; available: {}",
            problems.join(", "),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        ),
    ))
}
