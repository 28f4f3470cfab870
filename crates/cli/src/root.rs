//! Where the store lives: `--root`, else `$HOIST_ROOT`, else
//! `$XDG_DATA_HOME/hoist`, else `~/.local/share/hoist`. No root privileges
//! are needed for any of them.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::bail;

/// The store's folder from the flag and the environment.
///
/// # Errors
/// When no flag or variable is set and `$HOME` is unknown.
pub fn store_root(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    resolve(flag, |name| std::env::var_os(name))
}

fn resolve(
    flag: Option<PathBuf>,
    env: impl Fn(&str) -> Option<OsString>,
) -> anyhow::Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir);
    }
    let set = |name: &str| env(name).filter(|value| !value.is_empty());
    if let Some(dir) = set("HOIST_ROOT") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = set("XDG_DATA_HOME") {
        return Ok(PathBuf::from(dir).join("hoist"));
    }
    if let Some(home) = set("HOME") {
        return Ok(PathBuf::from(home).join(".local/share/hoist"));
    }
    bail!("no store root: pass --root DIR or set HOIST_ROOT (HOME is not set either)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        }
    }

    #[test]
    fn flag_then_hoist_root_then_xdg_then_home() {
        let all = env(&[
            ("HOIST_ROOT", "/h"),
            ("XDG_DATA_HOME", "/x"),
            ("HOME", "/home/u"),
        ]);
        assert_eq!(
            resolve(Some("/f".into()), &all).unwrap(),
            PathBuf::from("/f")
        );
        assert_eq!(resolve(None, &all).unwrap(), PathBuf::from("/h"));
        let xdg = env(&[
            ("HOIST_ROOT", ""),
            ("XDG_DATA_HOME", "/x"),
            ("HOME", "/home/u"),
        ]);
        assert_eq!(resolve(None, &xdg).unwrap(), PathBuf::from("/x/hoist"));
        let home = env(&[("HOME", "/home/u")]);
        assert_eq!(
            resolve(None, &home).unwrap(),
            PathBuf::from("/home/u/.local/share/hoist")
        );
        assert!(resolve(None, env(&[])).is_err());
    }
}
