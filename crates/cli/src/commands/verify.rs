//! `hoist verify REF --platform P... [--remote]`: exit 0 only when every
//! platform is present and complete locally, or, with `--remote`, when the
//! registry's tag resolves to an index listing every one; exit 3 when not.

use serde_json::json;

use crate::args::{Format, VerifyArgs};
use crate::context::Context;
use crate::diagnostic::note_registry;
use crate::exit::UsageError;
use crate::inputs::{image_name, parse_reference, platform_list};
use crate::output::{print_json, print_line};

/// Runs `hoist verify`.
///
/// # Errors
/// Bad input (exit 2), a platform missing or incomplete, or a remote tag
/// that is not an index (exit 3), other failures (exit 1).
pub fn run(context: &Context, args: &VerifyArgs) -> anyhow::Result<()> {
    let platforms = platform_list(&args.platforms)?;
    if platforms.is_empty() {
        return Err(UsageError("verify needs at least one --platform".to_owned()).into());
    }
    let store;
    let report = if args.remote {
        let reference = parse_reference(&args.reference)?;
        note_registry(reference.registry());
        store = context.open_remote_store()?;
        context
            .runtime()?
            .block_on(store.verify_remote(&reference.to_string(), &platforms))?
    } else {
        let name = image_name(&args.reference)?;
        store = context.open_store()?;
        store.verify_local(&name, &platforms)?
    };
    let required: Vec<String> = report.required.iter().map(ToString::to_string).collect();
    let available: Vec<String> = report.available.iter().map(ToString::to_string).collect();
    match args.format {
        Format::Json => print_json(&json!({
            "ok": true,
            "subject": report.subject,
            "remote": args.remote,
            "required": required,
            "available": available,
        })),
        Format::Table => print_line(&format!(
            "ok: {} holds {} (available: {})",
            report.subject,
            required.join(", "),
            available.join(", ")
        )),
    }
}
