//! The config file: settings that would otherwise be repeated on every
//! command line. Read from `$HOIST_CONFIG`, else
//! `$XDG_CONFIG_HOME/hoist/config.toml`, else `~/.config/hoist/config.toml`;
//! a missing file (at the default places) means the defaults. Unknown keys
//! and bad TOML are errors naming the file (exit 2): a setting that is
//! silently ignored is worse than none.
//!
//! ```toml
//! [transfer]
//! # pull, push and copy take referrers along unless --no-referrers
//! referrers = true
//! # speak only HTTP/1.1 to registries, even where TLS offers HTTP/2
//! http2 = false
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::exit::UsageError;

/// The variable naming the config file.
pub const CONFIG_ENV: &str = "HOIST_CONFIG";

/// The settings, defaults filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Settings of pull, push and copy.
    #[serde(default)]
    pub transfer: Transfer,
}

/// `[transfer]`: settings of pull, push and copy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// Take referrers along as if `--referrers` were given.
    #[serde(default)]
    pub referrers: bool,
    /// Offer HTTP/2 to TLS registries (reads only; uploads are HTTP/1.1
    /// whatever this says); `false` keeps every exchange on HTTP/1.1.
    #[serde(default = "yes")]
    pub http2: bool,
}

impl Default for Transfer {
    fn default() -> Self {
        Transfer {
            referrers: false,
            http2: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// Where the config file is: `$HOIST_CONFIG` (which must then exist), else
/// under `$XDG_CONFIG_HOME`, else under `~/.config`; `None` when there is
/// no home to look in.
fn location() -> Option<(PathBuf, bool)> {
    if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Some((PathBuf::from(path), true));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|p| !p.is_empty())
                .map(|home| PathBuf::from(home).join(".config"))
        })?;
    Some((base.join("hoist").join("config.toml"), false))
}

/// Reads the config file, or the defaults when there is none.
///
/// # Errors
/// A [`UsageError`] naming the file when it cannot be read, is not TOML, or
/// has a key hoist does not know; or when `$HOIST_CONFIG` names a file that
/// does not exist.
pub fn load() -> anyhow::Result<Config> {
    let Some((path, named)) = location() else {
        return Ok(Config::default());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => Ok(Config::default()),
        Err(e) => Err(UsageError(format!(
            "cannot read the config file {} ({CONFIG_ENV}): {e}",
            path.display()
        ))
        .into()),
    }
}

fn parse(path: &Path, text: &str) -> anyhow::Result<Config> {
    toml::from_str::<Config>(text).map_err(|e| {
        let message = e.message().trim_end();
        let place = e
            .span()
            .map(|span| {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!(" (line {line})")
            })
            .unwrap_or_default();
        UsageError(format!(
            "invalid config file {}{place}: {message}",
            path.display()
        ))
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> anyhow::Result<Config> {
        parse(Path::new("/etc/hoist.toml"), text)
    }

    #[test]
    fn an_empty_file_is_the_defaults_and_transfer_referrers_turns_them_on() {
        assert_eq!(parsed("").unwrap(), Config::default());
        let on = parsed("[transfer]\nreferrers = true\n").unwrap();
        assert!(on.transfer.referrers);
        assert!(on.transfer.http2);
        let http1 = parsed("[transfer]\nhttp2 = false\n").unwrap();
        assert!(!http1.transfer.http2 && !http1.transfer.referrers);
    }

    #[test]
    fn unknown_keys_and_bad_toml_name_the_file_and_the_line() {
        let unknown = parsed("[transfer]\nreferers = true\n").unwrap_err();
        let text = unknown.to_string();
        assert!(text.contains("/etc/hoist.toml"), "{text}");
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("referers"), "{text}");
        assert!(unknown.is::<UsageError>());
        let top = parsed("referrers = true\n").unwrap_err().to_string();
        assert!(top.contains("referrers"), "{top}");
        let bad = parsed("[transfer\n").unwrap_err().to_string();
        assert!(bad.contains("/etc/hoist.toml"), "{bad}");
        let wrong_type = parsed("[transfer]\nreferrers = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert!(wrong_type.contains("line 2"), "{wrong_type}");
    }
}
