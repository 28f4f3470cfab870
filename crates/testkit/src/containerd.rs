//! A containerd of a test's own: root, state and sockets in a temporary
//! directory, the CRI plugin off, stopped when the guard drops. Interop tests
//! drive it with `ctr` (import, export, pull) to check that what hoist
//! writes, containerd reads, and the other way round.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::tools::{require_tool, run};

/// How long containerd may take to answer `ctr version` after it starts.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// A running containerd; killed and reaped on drop.
#[derive(Debug)]
pub struct Containerd {
    child: Child,
    address: PathBuf,
    ctr: PathBuf,
    dir: tempfile::TempDir,
}

impl Containerd {
    /// Starts containerd and waits until `ctr` gets an answer.
    ///
    /// `Ok(None)` when containerd or ctr is not installed and this is not CI
    /// (a loud line names the skipped test, see [`require_tool`]).
    ///
    /// # Errors
    /// A missing tool under CI, a failure to write the config or start the
    /// daemon, or a daemon that does not answer within 30 s (the error
    /// carries its log).
    pub fn start() -> Result<Option<Containerd>> {
        let Some(daemon) = require_tool("containerd")? else {
            return Ok(None);
        };
        let Some(ctr) = require_tool("ctr")? else {
            return Ok(None);
        };
        let dir = tempfile::tempdir().map_err(|source| Error::Io {
            action: "creating a directory for containerd in",
            path: std::env::temp_dir(),
            source,
        })?;
        let address = dir.path().join("c.sock");
        let config = format!(
            "version = 2\nroot = \"{root}/root\"\nstate = \"{root}/state\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{address}\"\n[ttrpc]\n  address = \"{address}.ttrpc\"\n\
             [debug]\n  address = \"{root}/debug.sock\"\n",
            root = dir.path().display(),
            address = address.display()
        );
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config).map_err(|source| Error::Io {
            action: "writing",
            path: config_path.clone(),
            source,
        })?;
        let log_path = dir.path().join("containerd.log");
        let io_error = |source| Error::Io {
            action: "creating",
            path: log_path.clone(),
            source,
        };
        let log = std::fs::File::create(&log_path).map_err(io_error)?;
        let child = Command::new(&daemon)
            .arg("--config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io_error)?)
            .stderr(log)
            .spawn()
            .map_err(|e| Error::Command {
                command: format!("{} --config {}", daemon.display(), config_path.display()),
                detail: e.to_string(),
            })?;
        let running = Containerd {
            child,
            address,
            ctr,
            dir,
        };
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            let answered = running
                .ctr_command()
                .arg("version")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if answered {
                return Ok(Some(running));
            }
            if Instant::now() >= deadline {
                return Err(Error::NotReady {
                    what: "containerd".into(),
                    detail: std::fs::read_to_string(&log_path).unwrap_or_default(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A `ctr` command aimed at this containerd, in the namespace `hoist-test`.
    pub fn ctr_command(&self) -> Command {
        let mut command = Command::new(&self.ctr);
        command
            .arg("--address")
            .arg(&self.address)
            .args(["--namespace", "hoist-test"]);
        command
    }

    /// Runs `ctr` with `args` to completion and returns its standard output.
    ///
    /// # Errors
    /// [`Error::Command`] when ctr cannot start or exits non-zero.
    pub fn ctr(&self, args: &[&str]) -> Result<String> {
        let mut full: Vec<&str> = Vec::with_capacity(args.len() + 4);
        let address = self.address.to_string_lossy();
        full.extend(["--address", &address, "--namespace", "hoist-test"]);
        full.extend_from_slice(args);
        let stdout = run(&self.ctr, &full, None)?;
        Ok(String::from_utf8_lossy(&stdout).into_owned())
    }

    /// The folder holding containerd's root, state, config and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        // Best effort: a daemon already gone needs no stopping.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
