//! A real `docker-registry` (CNCF distribution 2.8) per test, on a free
//! loopback port with its own storage, in one of three auth modes, with or
//! without TLS. It stops when its guard drops.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::issuer::{ISSUER, IssuerOptions, SERVICE, TokenIssuer};
use crate::latency::LatencyProxy;
use crate::pki::{ServerCertificates, make_server_certificates, make_signing_identity};
use crate::tools::{find_tool, require_tool, run};

/// How long a registry may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How the registry authenticates clients.
#[derive(Debug, Clone, Default)]
pub enum RegistryAuth {
    /// Anyone may pull and push.
    #[default]
    None,
    /// htpasswd (bcrypt) Basic auth for these `(user, password)` pairs.
    Basic {
        /// The accepted users.
        users: Vec<(String, String)>,
    },
    /// Bearer tokens from a [`TokenIssuer`] the testkit starts beside it.
    Token(IssuerOptions),
}

/// What kind of registry to start.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// The auth mode.
    pub auth: RegistryAuth,
    /// Serve HTTPS with a certificate from a fresh test CA.
    pub tls: bool,
    /// With `tls`: require a client certificate signed by that CA.
    pub require_client_cert: bool,
    /// In token mode: advertise the issuer through a [`LatencyProxy`]
    /// adding this round-trip time, as a token service is as far away as
    /// its registry (none by default: the issuer is on loopback).
    pub realm_rtt: Option<Duration>,
}

impl RegistryOptions {
    /// No auth, plain HTTP.
    pub fn plain() -> RegistryOptions {
        RegistryOptions::default()
    }

    /// htpasswd Basic auth with one user.
    pub fn basic(user: &str, password: &str) -> RegistryOptions {
        RegistryOptions {
            auth: RegistryAuth::Basic {
                users: vec![(user.to_owned(), password.to_owned())],
            },
            ..RegistryOptions::default()
        }
    }

    /// Token auth through a test issuer.
    pub fn token(options: IssuerOptions) -> RegistryOptions {
        RegistryOptions {
            auth: RegistryAuth::Token(options),
            ..RegistryOptions::default()
        }
    }

    /// In token mode, the issuer as far as `rtt` away.
    pub fn with_realm_rtt(mut self, rtt: Duration) -> RegistryOptions {
        self.realm_rtt = Some(rtt);
        self
    }

    /// The same, served over HTTPS.
    pub fn with_tls(mut self) -> RegistryOptions {
        self.tls = true;
        self
    }

    /// Served over HTTPS, and only to clients with a certificate from the
    /// test CA ([`Registry::client_cert`]).
    pub fn with_client_certs(mut self) -> RegistryOptions {
        self.tls = true;
        self.require_client_cert = true;
        self
    }
}

/// A running `docker-registry`; killed, and its storage removed, on drop.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    port: u16,
    tls: Option<ServerCertificates>,
    issuer: Option<TokenIssuer>,
    _realm_proxy: Option<LatencyProxy>,
    log_path: PathBuf,
    storage: PathBuf,
    // Last: removed after the process is gone.
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry. `Ok(None)` (after a loud line on standard error)
    /// when `docker-registry` is not installed and this is not CI.
    ///
    /// # Errors
    /// Under `CI=true` when a tool is missing; when the registry cannot start.
    pub fn start(options: RegistryOptions) -> Result<Option<Registry>> {
        let Some(program) = require_tool("docker-registry")? else {
            return Ok(None);
        };
        if matches!(options.auth, RegistryAuth::Basic { .. }) && require_tool("htpasswd")?.is_none()
        {
            return Ok(None);
        }
        let mut last_error = None;
        // A port picked free can be taken before the registry binds it; try a
        // few times before giving up.
        for _ in 0..4 {
            match Registry::start_on(&program, &options, free_port()?) {
                Ok(registry) => return Ok(Some(registry)),
                Err(Error::NotReady { detail, what })
                    if detail.contains("address already in use") =>
                {
                    last_error = Some(Error::NotReady { detail, what });
                }
                Err(other) => return Err(other),
            }
        }
        Err(last_error.unwrap_or_else(|| Error::Other("the registry did not start".to_owned())))
    }

    fn start_on(program: &Path, options: &RegistryOptions, port: u16) -> Result<Registry> {
        let dir = tempfile::Builder::new()
            .prefix("hoist-registry-")
            .tempdir()
            .map_err(|e| Error::io("creating a temp dir in", std::env::temp_dir(), e))?;
        let storage = dir.path().join("storage");
        std::fs::create_dir(&storage).map_err(|e| Error::io("creating", &storage, e))?;
        let mut config = format!(
            "version: 0.1\n\
             log:\n  level: info\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n  redirect:\n    disable: true\n\
             health:\n  storagedriver:\n    enabled: false\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: hoist-testkit-secret\n",
            storage = storage.display()
        );
        let tls = if options.tls {
            let certificates = make_server_certificates(dir.path())?;
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                certificates.server_cert.display(),
                certificates.server_key.display()
            ));
            if options.require_client_cert {
                config.push_str(&format!(
                    "    clientcas:\n      - {}\n",
                    certificates.ca_cert.display()
                ));
            }
            Some(certificates)
        } else {
            None
        };
        let mut issuer = None;
        let mut realm_proxy = None;
        match &options.auth {
            RegistryAuth::None => {}
            RegistryAuth::Basic { users } => {
                let htpasswd_path = dir.path().join("htpasswd");
                write_htpasswd(&htpasswd_path, users)?;
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: hoist-test-realm\n    path: {}\n",
                    htpasswd_path.display()
                ));
            }
            RegistryAuth::Token(issuer_options) => {
                let identity = make_signing_identity(dir.path())?;
                let started = TokenIssuer::start(issuer_options.clone(), &identity)?;
                let mut realm = started.realm().to_owned();
                if let Some(rtt) = options.realm_rtt {
                    let issuer_host = realm
                        .trim_start_matches("http://")
                        .split('/')
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let proxy = LatencyProxy::start(&issuer_host, rtt)?;
                    realm = realm.replacen(&issuer_host, &proxy.host(), 1);
                    realm_proxy = Some(proxy);
                }
                config.push_str(&format!(
                    "auth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
                    identity.cert_pem_path.display()
                ));
                issuer = Some(started);
            }
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).map_err(|e| Error::io("writing", &config_path, e))?;
        let log_path = dir.path().join("registry.log");
        let log = File::create(&log_path).map_err(|e| Error::io("creating", &log_path, e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| Error::io("duplicating", &log_path, e))?;
        let child = Command::new(program)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| Error::Command {
                command: format!("{} serve {}", program.display(), config_path.display()),
                detail: e.to_string(),
            })?;
        let mut registry = Registry {
            child,
            port,
            tls,
            issuer,
            _realm_proxy: realm_proxy,
            log_path,
            storage,
            dir,
        };
        registry.wait_until_listening()?;
        Ok(registry)
    }

    /// Waits for the registry's own "listening on" log line. A connection
    /// that succeeds proves nothing: the port was free when picked, and
    /// another test's server may have bound it since, while this registry
    /// exits with "address already in use" (seen in CI: the test then talked
    /// to a stranger). The line is logged only once this process holds the
    /// port.
    fn wait_until_listening(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let listening = format!("listening on 127.0.0.1:{}", self.port);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Error::NotReady {
                    what: format!("docker-registry on port {}", self.port),
                    detail: format!("exited with {status}: {}", self.log()),
                });
            }
            if self.log().contains(&listening) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::NotReady {
                    what: format!("docker-registry on port {}", self.port),
                    detail: format!("not listening after {START_TIMEOUT:?}: {}", self.log()),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `127.0.0.1:<port>`, the registry part of a reference.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's process id (for tests and benches that watch it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>` or `https://…` when serving TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.host())
    }

    /// The CA certificate (PEM) a client must trust, when serving TLS.
    pub fn ca_cert(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca_cert.as_path())
    }

    /// A client certificate and key (PEM) from the test CA, when serving TLS.
    pub fn client_cert(&self) -> Option<(&Path, &Path)> {
        self.tls
            .as_ref()
            .map(|t| (t.client_cert.as_path(), t.client_key.as_path()))
    }

    /// The token issuer, in token mode.
    pub fn issuer(&self) -> Option<&TokenIssuer> {
        self.issuer.as_ref()
    }

    /// The registry's storage root (for tests that look at what it stored).
    pub fn storage_dir(&self) -> &Path {
        &self.storage
    }

    /// A scratch directory that lives as long as the registry.
    pub fn scratch_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The registry's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Errors here mean the process is already gone; nothing to clean.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::net("finding a free loopback port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::net("reading a bound port", e))
}

/// Writes bcrypt entries (the only kind distribution accepts) with the lowest
/// cost, since the registry checks the hash on every request.
fn write_htpasswd(path: &Path, users: &[(String, String)]) -> Result<()> {
    let program = find_tool("htpasswd").ok_or_else(|| Error::ToolMissing {
        tool: "htpasswd".to_owned(),
    })?;
    let mut contents = Vec::new();
    for (user, password) in users {
        let line = run(&program, &["-nbB", "-C", "4", user, password], None)?;
        contents.extend_from_slice(String::from_utf8_lossy(&line).trim().as_bytes());
        contents.push(b'\n');
    }
    std::fs::write(path, contents).map_err(|e| Error::io("writing", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CI failure this guards against: a port picked free was bound by
    /// another test's server before the registry bound it, and a successful
    /// connection made the stranger pass for the registry.
    #[test]
    fn a_port_someone_else_took_is_reported_not_mistaken_for_the_registry() {
        let Some(program) = require_tool("docker-registry").unwrap() else {
            return;
        };
        let stranger = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = stranger.local_addr().unwrap().port();
        let error = match Registry::start_on(&program, &RegistryOptions::plain(), port) {
            Ok(_) => panic!("a registry was reported ready on a port it could not bind"),
            Err(error) => error,
        };
        assert!(
            error.to_string().contains("address already in use"),
            "{error}"
        );
    }
}
