//! Docker's credential-helper protocol: `docker-credential-<name> get`
//! reads a server URL on stdin and answers `{"Username","Secret"}`;
//! `store` reads `{"ServerURL","Username","Secret"}`; `erase` reads the
//! server URL. A helper that has nothing says `credentials not found` and
//! exits non-zero. `Username: "<token>"` marks an identity token.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::auth::credentials::{Credentials, Secret};
use crate::error::{Error, ErrorKind, Result};

/// What a helper says when it holds nothing for a server.
const NOT_FOUND: &str = "credentials not found";

/// The user name helpers use for an identity token.
pub(super) const TOKEN_USER: &str = "<token>";

/// One helper program, named by a `config.json`.
pub(super) struct Helper<'a> {
    program_name: String,
    program: PathBuf,
    /// The `config.json` that named it, for errors.
    origin: &'a Path,
}

impl<'a> Helper<'a> {
    /// `docker-credential-<name>`, in `dir` when given, else on `PATH`.
    pub(super) fn new(name: &str, dir: Option<&Path>, origin: &'a Path) -> Helper<'a> {
        let program_name = format!("docker-credential-{name}");
        let program = match dir {
            Some(dir) => dir.join(&program_name),
            None => PathBuf::from(&program_name),
        };
        Helper {
            program_name,
            program,
            origin,
        }
    }

    /// The credentials it holds for `server_url`; `None` when it has none.
    ///
    /// # Errors
    /// [`ErrorKind::Unauthenticated`] when it cannot be run, fails, or
    /// answers something else than the protocol's JSON.
    pub(super) fn get(&self, server_url: &str, host: &str) -> Result<Option<Credentials>> {
        let failed = |detail: String| self.error(ErrorKind::Unauthenticated, "", host, detail);
        let output = self.run("get", server_url).map_err(failed)?;
        if !output.status.success() {
            if String::from_utf8_lossy(&output.stdout).contains(NOT_FOUND) {
                return Ok(None);
            }
            return Err(failed(format!("{}: {}", output.status, message(&output))));
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(rename = "Username", default)]
            username: String,
            #[serde(rename = "Secret", default)]
            secret: String,
        }
        let answer: Answer = serde_json::from_slice(&output.stdout)
            .map_err(|e| failed(format!("its answer is not the expected JSON: {e}")))?;
        Ok(Some(if answer.username == TOKEN_USER {
            Credentials::IdentityToken(Secret::new(answer.secret))
        } else {
            Credentials::Basic {
                username: answer.username,
                password: Secret::new(answer.secret),
            }
        }))
    }

    /// Gives it `username`/`secret` for `server_url`.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when it cannot be run or fails.
    pub(super) fn store(
        &self,
        server_url: &str,
        host: &str,
        username: &str,
        secret: &str,
    ) -> Result<()> {
        let failed = |detail: String| self.error(ErrorKind::Io, " store", host, detail);
        let input = serde_json::json!({
            "ServerURL": server_url,
            "Username": username,
            "Secret": secret,
        })
        .to_string();
        let output = self.run("store", &input).map_err(failed)?;
        if !output.status.success() {
            return Err(failed(format!("{}: {}", output.status, message(&output))));
        }
        Ok(())
    }

    /// Makes it forget `server_url`; `false` when it held nothing.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when it cannot be run or fails.
    pub(super) fn erase(&self, server_url: &str, host: &str) -> Result<bool> {
        let failed = |detail: String| self.error(ErrorKind::Io, " erase", host, detail);
        let output = self.run("erase", server_url).map_err(failed)?;
        if output.status.success() {
            return Ok(true);
        }
        if message(&output).contains(NOT_FOUND) {
            return Ok(false);
        }
        Err(failed(format!("{}: {}", output.status, message(&output))))
    }

    /// Runs `<program> <action>` with `input` on stdin; the error is the
    /// detail of what went wrong.
    fn run(&self, action: &str, input: &str) -> std::result::Result<Output, String> {
        let mut child = Command::new(&self.program)
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run it: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            match stdin.write_all(input.as_bytes()) {
                // A helper may exit without reading; its status says why.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(format!("writing its input: {e}"));
                }
                _ => {}
            }
        }
        child
            .wait_with_output()
            .map_err(|e| format!("waiting for it: {e}"))
    }

    fn error(&self, kind: ErrorKind, action: &str, host: &str, detail: String) -> Error {
        Error::new(
            kind,
            format!(
                "credential helper {}{action} (from {}) for {host}: {detail}",
                self.program_name,
                self.origin.display()
            ),
        )
    }
}

/// Its stdout and stderr, trimmed, on one line.
fn message(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    format!("{} {}", stdout.trim(), stderr.trim())
        .trim()
        .to_owned()
}
