//! Finding the external programs the tests drive, and the skip-or-fail rule.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Whether this run is CI (`CI=true`), where a missing tool fails the test.
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Finds `name` on `PATH` (or `/usr/bin`, `/usr/sbin`).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Finds a tool a test needs. Missing: under CI an error; otherwise `None`
/// after a loud line on standard error naming the test that is skipped.
///
/// # Errors
/// [`Error::ToolMissing`] when the tool is absent and [`is_ci`] holds.
pub fn require_tool(name: &str) -> Result<Option<PathBuf>> {
    match find_tool(name) {
        Some(path) => Ok(Some(path)),
        None if is_ci() => Err(Error::ToolMissing {
            tool: name.to_owned(),
        }),
        None => {
            let test = std::thread::current()
                .name()
                .unwrap_or("this test")
                .to_owned();
            eprintln!(
                "SKIPPED {test}: {name} is not installed (install it with `cargo xtask deps`; under CI=true this fails)"
            );
            Ok(None)
        }
    }
}

/// Runs a program to completion, returning its standard output.
///
/// # Errors
/// [`Error::Command`] when it cannot start or exits non-zero.
pub(crate) fn run(program: &Path, args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let command_line = format!("{} {}", program.display(), args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Command {
            command: command_line.clone(),
            detail: e.to_string(),
        })?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input).map_err(|e| Error::Command {
            command: command_line.clone(),
            detail: format!("writing standard input: {e}"),
        })?;
    }
    let output = child.wait_with_output().map_err(|e| Error::Command {
        command: command_line.clone(),
        detail: e.to_string(),
    })?;
    if !output.status.success() {
        return Err(Error::Command {
            command: command_line,
            detail: format!(
                "{}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Ok(output.stdout)
}
