//! Where and how to reach a registry: a per-host directory in the spirit of
//! containerd's `certs.d/<host>/hosts.toml` (mirrors, CA certificates,
//! client certificates, `skip_verify`), Docker's `certs.d` files (`*.crt`,
//! `*.cert` + `*.key`), and the rule for plain HTTP: only for loopback hosts
//! or hosts the user names insecure.

mod file;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::reference::{DOCKER_HUB, DOCKER_HUB_API_HOST};

pub use file::parse_hosts_toml;

/// What an endpoint may be used for (containerd's capabilities).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Fetch blobs and manifests by digest.
    pub pull: bool,
    /// Resolve tags to digests.
    pub resolve: bool,
    /// Push.
    pub push: bool,
}

impl Capabilities {
    /// Everything: what the registry's own server can do.
    pub const ALL: Capabilities = Capabilities {
        pull: true,
        resolve: true,
        push: true,
    };
    /// containerd's default for a mirror: pull and resolve.
    pub const MIRROR: Capabilities = Capabilities {
        pull: true,
        resolve: true,
        push: false,
    };
}

/// TLS settings of one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TlsSettings {
    /// Extra CA certificates (PEM files), trusted beside the system's roots.
    pub ca: Vec<PathBuf>,
    /// A client certificate and its key (PEM files), if the server wants one.
    pub client: Option<(PathBuf, PathBuf)>,
    /// Accept any server certificate. For test setups only.
    pub skip_verify: bool,
}

/// How the scheme of an endpoint was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemePolicy {
    /// Exactly the URL's scheme.
    Fixed,
    /// HTTPS first; plain HTTP if the server does not speak TLS. Only for
    /// loopback hosts and hosts named insecure.
    HttpsThenHttp,
}

/// One place a registry's API is served: the server itself or a mirror.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `scheme://host[:port]` and the API's base path (normally `/v2`).
    pub base: url::Url,
    /// What it may be used for.
    pub capabilities: Capabilities,
    /// Its TLS settings.
    pub tls: TlsSettings,
    /// Headers to send with every request.
    pub headers: Vec<(String, String)>,
    /// Whether a failed HTTPS attempt may fall back to HTTP.
    pub scheme: SchemePolicy,
    /// Whether this is a mirror (tried before the server, for pulls only).
    pub is_mirror: bool,
}

impl Endpoint {
    /// `host[:port]` of the endpoint, the key for its credentials and tokens.
    pub fn authority(&self) -> String {
        authority(&self.base)
    }
}

pub(crate) fn authority(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Every endpoint of one registry, mirrors first.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// The endpoints in the order they are tried.
    pub endpoints: Vec<Endpoint>,
}

impl HostConfig {
    /// Endpoints usable for `wanted` (e.g. push), in order.
    pub fn for_capability(&self, wanted: impl Fn(&Capabilities) -> bool) -> Vec<&Endpoint> {
        self.endpoints
            .iter()
            .filter(|e| wanted(&e.capabilities))
            .collect()
    }
}

/// Whether `registry` (`host[:port]`) is on the loopback interface.
pub fn is_loopback(registry: &str) -> bool {
    let host = host_of(registry);
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn host_of(registry: &str) -> &str {
    if let Some(rest) = registry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    registry.rsplit_once(':').map_or(registry, |(host, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            host
        } else {
            registry
        }
    })
}

/// Builds the host configuration of `registry`.
///
/// `hosts_dir` is the `certs.d` root (absent: defaults only). `insecure`
/// lists hosts for which plain HTTP, and HTTPS without verification, are
/// acceptable.
///
/// # Errors
/// [`ErrorKind::InvalidArgument`] when the host's `hosts.toml` is invalid,
/// [`ErrorKind::Io`] when it cannot be read.
pub fn host_config(
    registry: &str,
    hosts_dir: Option<&Path>,
    insecure: &[String],
) -> Result<HostConfig> {
    let api_host = if registry == DOCKER_HUB {
        DOCKER_HUB_API_HOST
    } else {
        registry
    };
    let named_insecure = insecure.iter().any(|h| h == registry);
    let relaxed = named_insecure || is_loopback(registry);
    let default_server = || -> Result<Endpoint> {
        Ok(Endpoint {
            base: parse_url(&format!("https://{api_host}/v2"), registry)?,
            capabilities: Capabilities::ALL,
            tls: TlsSettings {
                skip_verify: named_insecure,
                ..TlsSettings::default()
            },
            headers: Vec::new(),
            scheme: if relaxed {
                SchemePolicy::HttpsThenHttp
            } else {
                SchemePolicy::Fixed
            },
            is_mirror: false,
        })
    };
    let Some(dir) = hosts_dir.and_then(|root| host_directory(root, registry)) else {
        return Ok(HostConfig {
            endpoints: vec![default_server()?],
        });
    };
    let toml_path = dir.join("hosts.toml");
    let legacy = legacy_tls(&dir)?;
    let mut config = match fs_err::read_to_string(&toml_path) {
        Ok(text) => parse_hosts_toml(&text, &dir, &toml_path, default_server()?)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => HostConfig {
            endpoints: vec![default_server()?],
        },
        Err(e) => return Err(Error::new(ErrorKind::Io, "reading a hosts.toml").with_source(e)),
    };
    for endpoint in config.endpoints.iter_mut().filter(|e| !e.is_mirror) {
        // Docker's certs.d files add to what hosts.toml says.
        endpoint.tls.ca.extend(legacy.ca.iter().cloned());
        if endpoint.tls.client.is_none() {
            endpoint.tls.client = legacy.client.clone();
        }
        endpoint.tls.skip_verify |= named_insecure;
    }
    Ok(config)
}

pub(crate) fn parse_url(text: &str, registry: &str) -> Result<url::Url> {
    url::Url::parse(text).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("invalid endpoint URL {text:?} for {registry}"),
        )
        .with_source(e)
    })
}

/// containerd's lookup: `<root>/<host:port>`, else `<root>/_default`.
fn host_directory(root: &Path, registry: &str) -> Option<PathBuf> {
    [root.join(registry), root.join("_default")]
        .into_iter()
        .find(|dir| dir.is_dir())
}

/// Docker's `certs.d/<host>/` files: `*.crt` CAs, `*.cert` + `*.key` pairs.
fn legacy_tls(dir: &Path) -> Result<TlsSettings> {
    let mut settings = TlsSettings::default();
    let entries = fs_err::read_dir(dir)
        .map_err(|e| Error::new(ErrorKind::Io, "listing a certs.d directory").with_source(e))?;
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    for path in names {
        match path.extension().and_then(|e| e.to_str()) {
            Some("crt") => settings.ca.push(path),
            Some("cert") => {
                let key = path.with_extension("key");
                if key.is_file() {
                    settings.client = Some((path, key));
                } else {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "client certificate {} has no key {}",
                            path.display(),
                            key.display()
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognized() {
        for host in [
            "127.0.0.1:5000",
            "localhost",
            "localhost:80",
            "[::1]:5000",
            "127.3.2.1",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "example.com",
            "10.0.0.1:5000",
            "docker.io",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn defaults_are_https_with_http_fallback_only_where_allowed() {
        let public = host_config("registry.example.com", None, &[]).unwrap();
        assert_eq!(public.endpoints.len(), 1);
        assert_eq!(
            public.endpoints[0].base.as_str(),
            "https://registry.example.com/v2"
        );
        assert_eq!(public.endpoints[0].scheme, SchemePolicy::Fixed);
        let hub = host_config("docker.io", None, &[]).unwrap();
        assert_eq!(
            hub.endpoints[0].base.as_str(),
            "https://registry-1.docker.io/v2"
        );
        let local = host_config("127.0.0.1:5000", None, &[]).unwrap();
        assert_eq!(local.endpoints[0].scheme, SchemePolicy::HttpsThenHttp);
        assert!(!local.endpoints[0].tls.skip_verify);
        let insecure =
            host_config("lab.example:5000", None, &["lab.example:5000".to_owned()]).unwrap();
        assert_eq!(insecure.endpoints[0].scheme, SchemePolicy::HttpsThenHttp);
        assert!(insecure.endpoints[0].tls.skip_verify);
    }

    #[test]
    fn docker_certs_d_files_are_picked_up() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("reg.example:5000");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("ca.crt"), "x").unwrap();
        std::fs::write(dir.join("client.cert"), "x").unwrap();
        std::fs::write(dir.join("client.key"), "x").unwrap();
        let config = host_config("reg.example:5000", Some(root.path()), &[]).unwrap();
        let server = &config.endpoints[0];
        assert_eq!(server.tls.ca, vec![dir.join("ca.crt")]);
        assert_eq!(
            server.tls.client,
            Some((dir.join("client.cert"), dir.join("client.key")))
        );
        std::fs::remove_file(dir.join("client.key")).unwrap();
        let error = host_config("reg.example:5000", Some(root.path()), &[]).unwrap_err();
        assert!(error.to_string().contains("client.cert"), "{error}");
    }
}
