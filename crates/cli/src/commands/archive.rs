//! `hoist save` and `hoist load`.

use std::io::Write as _;

use anyhow::Context as _;

use crate::args::{LoadArgs, SaveArgs};
use crate::context::Context;
use crate::diagnostic::note_image;
use crate::exit::UsageError;
use crate::inputs::{image_name, parse_reference, platform_choice};
use crate::output::{print_line, rfc3339, size};

/// `hoist save -o FILE REF... [--platform P]... [--all-platforms]
/// [--referrers [--artifact-type T]...]`: the
/// archive is written to a temporary file beside FILE and renamed over it
/// only when complete, so a failed save leaves no half archive.
///
/// # Errors
/// Bad input (exit 2), an unknown image or platform, an incomplete
/// platform, I/O errors.
pub fn save(context: &Context, args: &SaveArgs) -> anyhow::Result<()> {
    let names = args
        .references
        .iter()
        .map(|r| image_name(r))
        .collect::<Result<Vec<_>, _>>()?;
    let platforms = platform_choice(&args.platforms)?.or_host("saving", |text| eprintln!("{text}"));
    if let [name] = names.as_slice() {
        note_image(name);
    }
    let store = context.open_store()?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let referrers = args
        .referrers
        .then(|| hoist::ReferrersOptions::of_types(args.artifact_types.clone()));
    let save = |out: &mut dyn std::io::Write| {
        store.save_with_referrers(&refs, &platforms, referrers.as_ref(), out)
    };
    let summary = if args.output.as_os_str() == "-" {
        let stdout = std::io::stdout().lock();
        let mut out = std::io::BufWriter::new(stdout);
        let summary = save(&mut out)?;
        out.flush().context("writing the archive to stdout")?;
        summary
    } else {
        let path = &args.output;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        let temp = tempfile::Builder::new()
            .prefix(".hoist-save.")
            .tempfile_in(dir)
            .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
        let mut out = std::io::BufWriter::new(temp);
        let summary = save(&mut out)?;
        let temp = out
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {}", path.display()))?;
        // A temporary file is private (0600); an archive is not secret.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            temp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        // Synced before the rename, so the name never points at a file
        // whose data a crash could lose.
        temp.as_file()
            .sync_all()
            .with_context(|| format!("writing {}", path.display()))?;
        temp.persist(path)
            .with_context(|| format!("writing {}", path.display()))?;
        summary
    };
    let with_referrers = if args.referrers {
        format!(" and {} referrer(s)", summary.referrers.len())
    } else {
        String::new()
    };
    eprintln!(
        "saved {} image(s){with_referrers}, {} blobs, {}",
        summary.images.len(),
        summary.blobs,
        size(summary.blob_bytes)
    );
    if !summary.referrers_left_behind.is_empty() {
        eprintln!(
            "warning: left behind {} referrer(s) of the original index ({}): they describe \
             the index with every platform, and the archive holds one reduced to the \
             platforms saved (--all-platforms keeps them)",
            summary.referrers_left_behind.len(),
            summary
                .referrers_left_behind
                .iter()
                .map(|r| r.digest.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// `hoist load -i FILE [--name REF] [--referrers] [-q]`: prints each name loaded, and
/// says which images the archive left unnamed, how to name them, and until
/// when their content is held.
///
/// # Errors
/// A missing or unreadable file, a malformed archive (nothing is named
/// then), an invalid `--name` (exit 2), store errors.
pub fn load(context: &Context, args: &LoadArgs) -> anyhow::Result<()> {
    let path = &args.input;
    let name = args.name.as_deref().map(load_name).transpose()?;
    if !path.exists() {
        anyhow::bail!("cannot load {}: no such file", path.display());
    }
    let store = context.open_store()?;
    let options = hoist::ArchiveLoadOptions::new()
        .name(name.as_deref())
        .referrers(args.referrers);
    let report = store
        .load_path_with(path, &options)
        .with_context(|| format!("loading {}", path.display()))?;
    let loaded = &report.loaded;
    if !args.quiet {
        eprintln!(
            "loaded {} blobs from {} ({} already here)",
            loaded.blobs,
            path.display(),
            loaded.blobs_present
        );
        if !loaded.referrers.is_empty() {
            eprintln!(
                "stored {} referrer(s) (signatures, SBOMs): `hoist image referrers IMAGE` lists them",
                loaded.referrers.len()
            );
        }
        if loaded.referrers_skipped > 0 {
            eprintln!(
                "skipped {} referrer(s) (signatures, SBOMs) the archive lists; load with --referrers to store them",
                loaded.referrers_skipped
            );
        }
        if !loaded.referrers_without_subject.is_empty() {
            eprintln!(
                "left out {} referrer(s) whose subject is neither in the archive nor in the store: {}",
                loaded.referrers_without_subject.len(),
                loaded
                    .referrers_without_subject
                    .iter()
                    .map(|r| r.digest.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    for name in &report.names {
        print_line(&format!("Loaded image: {name}"))?;
    }
    if !report.unnamed.is_empty() && !args.quiet {
        let held = match &report.held_by {
            Some(held) => format!(
                "; their content is held by lease {} until {}",
                held.lease,
                held.expires_at
                    .map_or_else(|| "it is removed".to_owned(), rfc3339)
            ),
            None => String::new(),
        };
        eprintln!(
            "the archive leaves {} image(s) unnamed: {}{held}; name them with \
             `hoist load -i {} --name REPOSITORY` (each REPOSITORY:<tag>) or --name REPOSITORY:TAG for one",
            report.unnamed.len(),
            report.describe_unnamed(),
            path.display()
        );
    }
    Ok(())
}

/// `--name`: a repository stays a repository (normalized, no tag added);
/// a reference with a tag or digest is normalized as any image name.
fn load_name(text: &str) -> Result<String, UsageError> {
    let last = text.rsplit('/').next().unwrap_or(text);
    if last.contains([':', '@']) {
        return image_name(text);
    }
    Ok(parse_reference(text)?.repo().to_string())
}
