//! `hoist lease ls | create | rm`.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::args::{Format, LeaseCreateArgs, LeaseLsArgs, LeaseRmArgs};
use crate::context::Context;
use crate::exit::UsageError;
use crate::inputs::parse_duration;
use crate::output::{Table, print_json, print_line, rfc3339};

/// How long `lease create` leases live unless `--expires` says.
const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

/// One lease in `lease ls --format json`.
#[derive(Debug, Serialize)]
pub struct LeaseJson {
    /// Its id.
    pub id: String,
    /// When it was created (RFC 3339).
    pub created: String,
    /// When it expires (RFC 3339), or `null` if never.
    pub expires: Option<String>,
    /// Whether it has expired (the next GC deletes it).
    pub expired: bool,
    /// Its labels.
    pub labels: std::collections::BTreeMap<String, String>,
}

/// `hoist lease ls`.
///
/// # Errors
/// Store errors.
pub fn ls(context: &Context, args: &LeaseLsArgs) -> anyhow::Result<()> {
    let store = context.open_store()?;
    let leases: Vec<LeaseJson> = store
        .leases()?
        .into_iter()
        .map(|lease| LeaseJson {
            expires: lease.expires_at().map(rfc3339),
            expired: lease.is_expired(),
            created: rfc3339(lease.created_at),
            labels: lease.labels.clone().into_iter().collect(),
            id: lease.id,
        })
        .collect();
    match args.format {
        Format::Json => print_json(&leases),
        Format::Table => {
            let mut table = Table::new(&["ID", "CREATED", "EXPIRES", "LABELS"]);
            for lease in &leases {
                let labels: Vec<String> = lease
                    .labels
                    .iter()
                    .map(|(key, value)| format!("{key}={value}"))
                    .collect();
                let expires = match (&lease.expires, lease.expired) {
                    (Some(at), true) => format!("{at} (expired)"),
                    (Some(at), false) => at.clone(),
                    (None, _) => "never".to_owned(),
                };
                table.row(vec![
                    lease.id.clone(),
                    lease.created.clone(),
                    expires,
                    labels.join(","),
                ]);
            }
            table.print()
        }
    }
}

/// `hoist lease create [--id ID] [--expires DURATION]`: prints the id.
///
/// # Errors
/// Bad input (exit 2), an id already taken, store errors.
pub fn create(context: &Context, args: &LeaseCreateArgs) -> anyhow::Result<()> {
    let ttl = match &args.expires {
        Some(text) => parse_duration(text)?,
        None => DEFAULT_TTL,
    };
    if let Some(id) = &args.id
        && id.trim().is_empty()
    {
        return Err(UsageError("the lease id must not be empty".to_owned()).into());
    }
    let store = context.open_store()?;
    let lease = store.lease_create(args.id.as_deref(), Some(ttl))?;
    let until = SystemTime::now() + ttl;
    eprintln!("lease {} expires at {}", lease.id, rfc3339(until));
    print_line(&lease.id)
}

/// `hoist lease rm ID...`.
///
/// # Errors
/// An unknown lease, store errors.
pub fn rm(context: &Context, args: &LeaseRmArgs) -> anyhow::Result<()> {
    let store = context.open_store()?;
    for id in &args.ids {
        store.lease_remove(id)?;
        print_line(id)?;
    }
    Ok(())
}
