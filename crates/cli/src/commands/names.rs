//! `hoist tag` and `hoist rmi`: names only; content stays until a
//! collection finds it unreferenced.

use anyhow::Context as _;

use crate::args::{RmiArgs, TagArgs};
use crate::context::Context;
use crate::inputs::image_name;
use crate::output::print_line;

/// `hoist tag SRC DST`.
///
/// # Errors
/// Bad input (exit 2), an unknown SRC, store errors.
pub fn tag(context: &Context, args: &TagArgs) -> anyhow::Result<()> {
    let source = image_name(&args.source)?;
    let destination = image_name(&args.destination)?;
    let store = context.open_store()?;
    store
        .tag(&source, &destination)
        .with_context(|| format!("tagging {source} as {destination}"))?;
    Ok(())
}

/// `hoist rmi REF... [-f]`: every name is checked before any is removed,
/// so a typo in the third name removes nothing.
///
/// # Errors
/// Bad input (exit 2), an unknown name (unless `-f`), store errors.
pub fn rmi(context: &Context, args: &RmiArgs) -> anyhow::Result<()> {
    let names = args
        .references
        .iter()
        .map(|r| image_name(r))
        .collect::<Result<Vec<_>, _>>()?;
    let store = context.open_store()?;
    let mut targets = Vec::new();
    for name in &names {
        match store.image(name) {
            Ok(record) => targets.push((name, record.target.digest)),
            Err(e) if e.is_not_found() && args.force => {}
            Err(e) => return Err(anyhow::Error::new(e).context(format!("removing {name}"))),
        }
    }
    for (name, digest) in targets {
        match store.remove(name, Some(&digest)) {
            Ok(()) => print_line(&format!("Untagged: {name}"))?,
            Err(e) if e.is_not_found() && args.force => {}
            Err(e) => return Err(anyhow::Error::new(e).context(format!("removing {name}"))),
        }
    }
    Ok(())
}
