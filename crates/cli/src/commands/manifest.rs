//! `hoist manifest inspect` (remote) and `hoist manifest create` (local).

use anyhow::Context as _;
use hoist::AssembleRequest;

use crate::args::{ManifestCreateArgs, ManifestInspectArgs};
use crate::context::Context;
use crate::inputs::{image_name, parse_reference};
use std::io::Write as _;

use crate::output::{print_json, print_line};

/// `hoist manifest create DST SRC... [--amend]`: one index listing every
/// platform of the sources; a platform two sources hold is an error.
///
/// # Errors
/// Bad input (exit 2), an unknown source, a duplicate platform, DST
/// existing without `--amend`.
pub fn create(context: &Context, args: &ManifestCreateArgs) -> anyhow::Result<()> {
    let destination = image_name(&args.destination)?;
    let sources = args
        .sources
        .iter()
        .map(|s| image_name(s))
        .collect::<Result<Vec<_>, _>>()?;
    let store = context.open_store()?;
    let refs: Vec<&str> = sources.iter().map(String::as_str).collect();
    let assembled = store
        .assemble(
            &destination,
            &refs,
            &AssembleRequest::new().amend(args.amend),
        )
        .with_context(|| format!("creating {destination}"))?;
    let platforms: Vec<String> = assembled
        .entries
        .iter()
        .filter_map(|e| e.platform().map(ToString::to_string))
        .collect();
    eprintln!(
        "{destination}: {} ({})",
        assembled.target.digest,
        platforms.join(", ")
    );
    print_line(assembled.target.digest.as_ref())
}

/// `hoist manifest inspect REF [--raw]`.
///
/// # Errors
/// Bad input (exit 2), registry errors.
pub fn inspect(context: &Context, args: &ManifestInspectArgs) -> anyhow::Result<()> {
    let reference = parse_reference(&args.reference)?;
    crate::diagnostic::note_registry(reference.registry());
    let store = context.open_remote_store()?;
    let client = store.client()?;
    let manifest = context
        .runtime()?
        .block_on(client.get_manifest(&reference))
        .with_context(|| format!("reading the manifest of {reference}"))?;
    if args.raw {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(&manifest.bytes)
            .and_then(|()| stdout.flush())
            .context("writing to stdout")?;
        return Ok(());
    }
    eprintln!(
        "{reference}: {} {} ({} bytes)",
        manifest.descriptor.media_type, manifest.descriptor.digest, manifest.descriptor.size
    );
    match serde_json::from_slice::<serde_json::Value>(&manifest.bytes) {
        Ok(value) => print_json(&value),
        Err(_) => print_line(&String::from_utf8_lossy(&manifest.bytes)),
    }
}
