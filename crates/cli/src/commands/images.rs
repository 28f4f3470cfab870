//! `hoist images` / `hoist image ls`: one row per name with its platforms
//! and how many are complete locally.

use std::time::SystemTime;

use hoist::{ImageSummary, Platforms, Store};
use serde::Serialize;

use crate::args::{Format, ImagesArgs};
use crate::context::Context;
use crate::inputs::parse_reference;
use crate::output::{Table, age, print_json, print_line, rfc3339, short_digest, size};

/// One image in `--format json` (a stable shape: fields are only added).
#[derive(Debug, Serialize)]
pub struct ImageJson {
    /// The full name, e.g. `docker.io/library/alpine:3.20`.
    pub name: String,
    /// The name without tag or digest.
    pub repository: String,
    /// The tag, or `null` for a name pinned by digest.
    pub tag: Option<String>,
    /// The target's digest (the index for a multi-platform image).
    pub digest: String,
    /// The target's media type.
    pub media_type: String,
    /// When the name was created (RFC 3339, UTC).
    pub created: String,
    /// Bytes of the blobs it reaches that are stored here, each counted once.
    pub size: Option<u64>,
    /// Each platform the image lists and whether it is complete here.
    pub platforms: Vec<PlatformJson>,
    /// How many of those are complete here.
    pub platforms_complete: usize,
    /// How many platforms the image lists.
    pub platforms_total: usize,
    /// How many attestation manifests the index lists.
    pub attestations: usize,
}

/// A platform and its local state.
#[derive(Debug, Serialize)]
pub struct PlatformJson {
    /// `os/arch[/variant]`.
    pub platform: String,
    /// Whether its manifest, config and layers are all stored here.
    pub complete: bool,
}

/// Runs `hoist images`.
///
/// # Errors
/// Bad input (exit 2), store errors.
pub fn run(context: &Context, args: &ImagesArgs) -> anyhow::Result<()> {
    let filter = args.reference.as_deref().map(Filter::parse).transpose()?;
    let store = context.open_store()?;
    let prefix = filter.as_ref().map(|f| f.prefix.as_str());
    let rows: Vec<ImageSummary> = store
        .list_images(prefix)?
        .into_iter()
        .filter(|row| filter.as_ref().is_none_or(|f| f.accepts(&row.record.name)))
        .collect();
    if args.quiet {
        for row in &rows {
            print_line(&row.record.name)?;
        }
        return Ok(());
    }
    let images: Vec<ImageJson> = rows.iter().map(|row| to_json(&store, row)).collect();
    match args.format {
        Format::Json => print_json(&images),
        Format::Table => table(&images, args).print(),
    }
}

/// `hoist images REF`: an exact name when REF has a tag or digest, else
/// every tag of the repository.
struct Filter {
    prefix: String,
    exact: bool,
}

impl Filter {
    fn parse(text: &str) -> anyhow::Result<Filter> {
        let reference = parse_reference(text)?;
        let last = text.rsplit('/').next().unwrap_or(text);
        if last.contains(':') || last.contains('@') {
            return Ok(Filter {
                prefix: reference.to_string(),
                exact: true,
            });
        }
        Ok(Filter {
            prefix: format!("{}/{}", reference.registry(), reference.repository()),
            exact: false,
        })
    }

    fn accepts(&self, name: &str) -> bool {
        if self.exact {
            return name == self.prefix;
        }
        name.strip_prefix(&self.prefix)
            .is_some_and(|rest| rest.starts_with(':') || rest.starts_with('@'))
    }
}

fn to_json(store: &Store, row: &ImageSummary) -> ImageJson {
    let name = row.record.name.clone();
    let (repository, tag) = split_name(&name);
    let platforms: Vec<PlatformJson> = row
        .platforms
        .platforms
        .iter()
        .map(|(platform, complete)| PlatformJson {
            platform: platform.to_string(),
            complete: *complete,
        })
        .collect();
    ImageJson {
        repository,
        tag,
        digest: row.record.target.digest.to_string(),
        media_type: row.record.target.media_type.clone(),
        created: rfc3339(row.record.created_at),
        size: stored_size(store, &name),
        platforms_complete: row.platforms.complete(),
        platforms_total: platforms.len(),
        attestations: row.platforms.attestations,
        platforms,
        name,
    }
}

/// The bytes of what the image reaches and is stored, each blob once.
fn stored_size(store: &Store, name: &str) -> Option<u64> {
    let report = store.check(name, &Platforms::All).ok()?;
    Some(report.present.iter().map(|d| d.size).sum())
}

/// `host/repo:tag` -> (`host/repo`, `tag`); `host/repo@digest` ->
/// (`host/repo`, none).
pub fn split_name(name: &str) -> (String, Option<String>) {
    if let Some((repository, _digest)) = name.split_once('@') {
        return (repository.to_owned(), None);
    }
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[slash..].rfind(':') {
        Some(colon) => (
            name[..slash + colon].to_owned(),
            Some(name[slash + colon + 1..].to_owned()),
        ),
        None => (name.to_owned(), None),
    }
}

/// `linux/amd64,linux/arm64 (2/4 local)`: the platforms complete here, and
/// how many of all those listed that is.
pub fn platforms_cell(image: &ImageJson) -> String {
    if image.platforms_total == 0 {
        return "-".to_owned();
    }
    let local: Vec<&str> = image
        .platforms
        .iter()
        .filter(|p| p.complete)
        .map(|p| p.platform.as_str())
        .collect();
    let names = if local.is_empty() {
        "none".to_owned()
    } else {
        local.join(",")
    };
    format!(
        "{names} ({}/{} local)",
        image.platforms_complete, image.platforms_total
    )
}

fn table(images: &[ImageJson], args: &ImagesArgs) -> Table {
    let mut header = vec!["REPOSITORY", "TAG"];
    if args.digests {
        header.push("DIGEST");
    }
    header.extend(["IMAGE ID", "CREATED", "PLATFORMS", "SIZE"]);
    let mut table = Table::new(&header);
    let now = SystemTime::now();
    for image in images {
        let mut row = vec![
            image.repository.clone(),
            image.tag.clone().unwrap_or_else(|| "<none>".to_owned()),
        ];
        if args.digests {
            row.push(image.digest.clone());
        }
        let created = time::OffsetDateTime::parse(
            &image.created,
            &time::format_description::well_known::Rfc3339,
        )
        .map(SystemTime::from)
        .unwrap_or(now);
        row.extend([
            short_digest(&image.digest, args.no_trunc),
            age(created, now),
            platforms_cell(image),
            image.size.map_or_else(|| "-".to_owned(), size),
        ]);
        table.row(row);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_repository_and_tag() {
        assert_eq!(
            split_name("localhost:5000/a/b:1.0"),
            ("localhost:5000/a/b".to_owned(), Some("1.0".to_owned()))
        );
        assert_eq!(
            split_name("localhost:5000/a/b@sha256:00"),
            ("localhost:5000/a/b".to_owned(), None)
        );
        assert_eq!(
            split_name("localhost:5000/a"),
            ("localhost:5000/a".to_owned(), None)
        );
    }

    #[test]
    fn the_platforms_cell_counts_local_ones() {
        let image = ImageJson {
            name: String::new(),
            repository: String::new(),
            tag: None,
            digest: String::new(),
            media_type: String::new(),
            created: String::new(),
            size: None,
            platforms: ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/s390x"]
                .iter()
                .enumerate()
                .map(|(i, p)| PlatformJson {
                    platform: (*p).to_owned(),
                    complete: i < 2,
                })
                .collect(),
            platforms_complete: 2,
            platforms_total: 4,
            attestations: 0,
        };
        assert_eq!(
            platforms_cell(&image),
            "linux/amd64,linux/arm64 (2/4 local)"
        );
    }
}
