//! `hoist image referrers`.

use hoist::{Platforms, Referrer};
use serde::Serialize;

use crate::args::{Format, ImageReferrersArgs};
use crate::context::Context;
use crate::inputs::{image_name, parse_platform};
use crate::output::{Table, print_json, size};

/// One referrer, as `image referrers --format json` prints it.
#[derive(Debug, Serialize)]
pub struct ReferrerJson {
    /// The digest of the manifest it refers to.
    pub subject: String,
    /// The referrer's digest.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its artifact type (the manifest's, or its config's media type).
    pub artifact_type: Option<String>,
    /// The manifest's annotations.
    pub annotations: std::collections::BTreeMap<String, String>,
}

impl From<&Referrer> for ReferrerJson {
    fn from(referrer: &Referrer) -> ReferrerJson {
        ReferrerJson {
            subject: referrer.subject.to_string(),
            digest: referrer.descriptor.digest.to_string(),
            media_type: referrer.descriptor.media_type.clone(),
            size: referrer.descriptor.size,
            artifact_type: referrer.descriptor.artifact_type.clone(),
            annotations: referrer.descriptor.annotations.clone(),
        }
    }
}

/// `hoist image referrers REF [--platform P] [--artifact-type T] [--format json]`.
///
/// # Errors
/// Bad input (exit 2), an unknown image or platform, store errors.
pub fn referrers(context: &Context, args: &ImageReferrersArgs) -> anyhow::Result<()> {
    let name = image_name(&args.reference)?;
    let platforms = match &args.platform {
        Some(text) => Platforms::Only(vec![parse_platform(text)?]),
        None => Platforms::All,
    };
    let store = context.open_store()?;
    let found = store.image_referrers(&name, &platforms, args.artifact_type.as_deref())?;
    let rows: Vec<ReferrerJson> = found.iter().map(ReferrerJson::from).collect();
    match args.format {
        Format::Json => print_json(&rows),
        Format::Table => {
            let mut table =
                Table::new(&["SUBJECT", "DIGEST", "ARTIFACT TYPE", "SIZE", "ANNOTATIONS"]);
            for row in &rows {
                let annotations: Vec<String> = row
                    .annotations
                    .iter()
                    .map(|(key, value)| format!("{key}={value}"))
                    .collect();
                table.row(vec![
                    row.subject.clone(),
                    row.digest.clone(),
                    row.artifact_type.clone().unwrap_or_else(|| "-".to_owned()),
                    size(row.size),
                    annotations.join(","),
                ]);
            }
            table.print()
        }
    }
}
