//! A `docker-registry` for the demo: plain HTTP on a free 127.0.0.1 port,
//! storage in the demo's folder, stopped when dropped.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry.
pub struct Registry {
    child: Child,
    port: u16,
}

impl Registry {
    /// Starts `bin serve config.yml` in `dir` and waits until its port
    /// accepts connections.
    pub fn start(bin: &Path, dir: &Path) -> Result<Registry, String> {
        std::fs::create_dir_all(dir.join("storage"))
            .map_err(|e| format!("creating {}: {e}", dir.display()))?;
        // The port is picked by binding port 0 and released just before the
        // registry binds it; a race with another program is retried below.
        for _attempt in 0..3 {
            let port = free_port()?;
            let config = dir.join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                    dir.join("storage").display()
                ),
            )
            .map_err(|e| format!("writing {}: {e}", config.display()))?;
            let log_path = dir.join("registry.log");
            let log = std::fs::File::create(&log_path)
                .map_err(|e| format!("creating {}: {e}", log_path.display()))?;
            let log_err = log
                .try_clone()
                .map_err(|e| format!("opening {}: {e}", log_path.display()))?;
            println!(
                "\n$ docker-registry serve {}   # on 127.0.0.1:{port}",
                config.display()
            );
            let child = Command::new(bin)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log_err)
                .spawn()
                .map_err(|e| format!("starting {}: {e}", bin.display()))?;
            let mut registry = Registry { child, port };
            if registry.wait_ready(&log_path, Duration::from_secs(20))? {
                return Ok(registry);
            }
            drop(registry);
            eprintln!(
                "xtask: the registry did not start on port {port}; log:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        Err("docker-registry did not start (see registry.log in the demo folder)".to_owned())
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Waits for the registry's "listening on" log line: a connection that
    /// succeeds could reach another program that took the port after it was
    /// picked, while this registry exits with "address already in use".
    fn wait_ready(&mut self, log_path: &Path, limit: Duration) -> Result<bool, String> {
        let deadline = Instant::now() + limit;
        let listening = format!("listening on 127.0.0.1:{}", self.port);
        while Instant::now() < deadline {
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
            if log.contains(&listening) {
                return Ok(true);
            }
            match self.child.try_wait() {
                Ok(Some(_)) => return Ok(false),
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(format!("watching docker-registry: {e}")),
            }
        }
        Ok(false)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| format!("finding a free port: {e}"))
}
