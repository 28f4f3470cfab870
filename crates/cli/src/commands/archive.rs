//! `hoist save` and `hoist load`.

use std::io::Write as _;

use anyhow::Context as _;
use hoist::Platforms;

use crate::args::{LoadArgs, SaveArgs};
use crate::context::Context;
use crate::inputs::{PlatformChoice, image_name, platform_choice};
use crate::output::{print_line, size};

/// `hoist save -o FILE REF... [--platform P]... [--all-platforms]`: the
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
    let platforms = match platform_choice(&args.platforms)? {
        PlatformChoice::Default | PlatformChoice::All => Platforms::All,
        PlatformChoice::Only(list) => Platforms::Only(list),
    };
    let store = context.open_store()?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let summary = if args.output.as_os_str() == "-" {
        let stdout = std::io::stdout().lock();
        let mut out = std::io::BufWriter::new(stdout);
        let summary = store.save(&refs, &platforms, &mut out)?;
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
        let summary = store.save(&refs, &platforms, &mut out)?;
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
    eprintln!(
        "saved {} image(s), {} blobs, {}",
        summary.images.len(),
        summary.blobs,
        size(summary.blob_bytes)
    );
    Ok(())
}

/// `hoist load -i FILE [-q]`: prints each name loaded.
///
/// # Errors
/// A missing or unreadable file, a malformed archive (nothing is named
/// then), store errors.
pub fn load(context: &Context, args: &LoadArgs) -> anyhow::Result<()> {
    let path = &args.input;
    if !path.exists() {
        anyhow::bail!("cannot load {}: no such file", path.display());
    }
    let store = context.open_store()?;
    let report = store
        .load_path(path, None)
        .with_context(|| format!("loading {}", path.display()))?;
    if !args.quiet {
        eprintln!(
            "loaded {} blobs from {}",
            report.loaded.blobs,
            path.display()
        );
    }
    for name in &report.names {
        print_line(&format!("Loaded image: {name}"))?;
    }
    if report.names.is_empty() && !args.quiet {
        eprintln!("the archive names no image; its content is stored without a name");
    }
    Ok(())
}
