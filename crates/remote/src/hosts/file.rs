//! The `hosts.toml` format (containerd's `certs.d/<host>/hosts.toml`):
//!
//! ```toml
//! server = "https://registry.example.com"   # optional; default from the host
//! ca = "ca.pem"                              # or a list; relative to the dir
//! client = [["client.cert", "client.key"]]  # or ["cert", "key"]
//! skip_verify = false
//!
//! [host."https://mirror.example.com"]
//!   capabilities = ["pull", "resolve"]
//!   ca = "/etc/certs/mirror.pem"
//!   override_path = false
//!   [host."https://mirror.example.com".header]
//!     x-custom = "value"
//! ```

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::hosts::{Capabilities, Endpoint, HostConfig, SchemePolicy, TlsSettings, parse_url};

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    server: Option<String>,
    capabilities: Option<Vec<String>>,
    ca: Option<OneOrMany>,
    client: Option<ClientCerts>,
    skip_verify: Option<bool>,
    override_path: Option<bool>,
    header: Option<toml::Table>,
    /// Mirrors; `toml`'s `preserve_order` keeps them in file order, the
    /// order they are tried in.
    host: Option<toml::Table>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one.clone()],
            OneOrMany::Many(many) => many.clone(),
        }
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum ClientCerts {
    /// A combined PEM holding certificate and key.
    One(String),
    /// `["cert", "key"]`.
    Pair(Vec<String>),
    /// `[["cert", "key"], …]`.
    Pairs(Vec<Vec<String>>),
}

/// Parses the text of a `hosts.toml` found in `dir`; `origin` names the file
/// in errors. `default_server` is used when the file names no `server`.
///
/// # Errors
/// [`ErrorKind::InvalidArgument`] naming the file and the problem.
pub fn parse_hosts_toml(
    text: &str,
    dir: &Path,
    origin: &Path,
    default_server: Endpoint,
) -> Result<HostConfig> {
    let invalid = |why: String| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("invalid hosts file {}: {why}", origin.display()),
        )
    };
    let settings: Settings = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let mut endpoints = Vec::new();
    if let Some(hosts) = &settings.host {
        for (url, table) in hosts {
            let mirror: Settings = table
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| invalid(format!("[host.{url:?}]: {e}")))?;
            if mirror.host.is_some() || mirror.server.is_some() {
                return Err(invalid(format!(
                    "[host.{url:?}] cannot hold `server` or `host`"
                )));
            }
            let base = endpoint_base(url, mirror.override_path.unwrap_or(false))
                .map_err(|why| invalid(format!("[host.{url:?}]: {why}")))?;
            endpoints.push(Endpoint {
                base,
                capabilities: capabilities(mirror.capabilities.as_deref(), Capabilities::MIRROR)
                    .map_err(|why| invalid(format!("[host.{url:?}]: {why}")))?,
                tls: tls(&mirror, dir).map_err(|why| invalid(format!("[host.{url:?}]: {why}")))?,
                headers: headers(mirror.header.as_ref()),
                scheme: SchemePolicy::Fixed,
                is_mirror: true,
            });
        }
    }
    let mut server = match &settings.server {
        Some(url) => Endpoint {
            base: endpoint_base(url, settings.override_path.unwrap_or(false))
                .map_err(|why| invalid(format!("server {url:?}: {why}")))?,
            scheme: SchemePolicy::Fixed,
            ..default_server
        },
        None => default_server,
    };
    server.capabilities =
        capabilities(settings.capabilities.as_deref(), Capabilities::ALL).map_err(invalid)?;
    let server_tls = tls(&settings, dir).map_err(invalid)?;
    server.tls.ca.extend(server_tls.ca);
    server.tls.client = server_tls.client.or(server.tls.client);
    server.tls.skip_verify |= server_tls.skip_verify;
    server.headers = headers(settings.header.as_ref());
    endpoints.push(server);
    Ok(HostConfig { endpoints })
}

fn endpoint_base(url: &str, override_path: bool) -> std::result::Result<url::Url, String> {
    let mut base = parse_url(url, "hosts.toml").map_err(|e| e.to_string())?;
    if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
        return Err("an endpoint is http:// or https:// with a host".to_owned());
    }
    if !override_path {
        let path = format!("{}/v2", base.path().trim_end_matches('/'));
        base.set_path(&path);
    }
    Ok(base)
}

fn capabilities(
    names: Option<&[String]>,
    default: Capabilities,
) -> std::result::Result<Capabilities, String> {
    let Some(names) = names else {
        return Ok(default);
    };
    let mut caps = Capabilities::default();
    for name in names {
        match name.as_str() {
            "pull" => caps.pull = true,
            "resolve" => caps.resolve = true,
            "push" => caps.push = true,
            other => {
                return Err(format!(
                    "unknown capability {other:?} (pull, resolve, push)"
                ));
            }
        }
    }
    Ok(caps)
}

fn tls(settings: &Settings, dir: &Path) -> std::result::Result<TlsSettings, String> {
    let resolve = |p: &str| -> PathBuf {
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_owned()
        } else {
            dir.join(path)
        }
    };
    let ca = settings
        .ca
        .as_ref()
        .map(OneOrMany::to_vec)
        .unwrap_or_default()
        .iter()
        .map(|p| resolve(p))
        .collect();
    let client = match &settings.client {
        None => None,
        Some(ClientCerts::One(combined)) => Some((resolve(combined), resolve(combined))),
        Some(ClientCerts::Pair(pair)) => match pair.as_slice() {
            [cert, key] => Some((resolve(cert), resolve(key))),
            [combined] => Some((resolve(combined), resolve(combined))),
            _ => return Err("client is [\"cert\", \"key\"]".to_owned()),
        },
        Some(ClientCerts::Pairs(pairs)) => match pairs.first().map(Vec::as_slice) {
            None => None,
            Some([cert, key]) => Some((resolve(cert), resolve(key))),
            Some([combined]) => Some((resolve(combined), resolve(combined))),
            Some(_) => return Err("client is [[\"cert\", \"key\"]]".to_owned()),
        },
    };
    Ok(TlsSettings {
        ca,
        client,
        skip_verify: settings.skip_verify.unwrap_or(false),
    })
}

fn headers(table: Option<&toml::Table>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in table.into_iter().flatten() {
        match value {
            toml::Value::String(v) => out.push((name.clone(), v.clone())),
            toml::Value::Array(values) => {
                out.extend(
                    values
                        .iter()
                        .filter_map(|v| v.as_str())
                        .map(|v| (name.clone(), v.to_owned())),
                );
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_server() -> Endpoint {
        Endpoint {
            base: url::Url::parse("https://reg.example/v2").unwrap(),
            capabilities: Capabilities::ALL,
            tls: TlsSettings::default(),
            headers: Vec::new(),
            scheme: SchemePolicy::HttpsThenHttp,
            is_mirror: false,
        }
    }

    fn parse(text: &str) -> Result<HostConfig> {
        parse_hosts_toml(
            text,
            Path::new("/certs.d/reg.example"),
            Path::new("/certs.d/reg.example/hosts.toml"),
            default_server(),
        )
    }

    #[test]
    fn mirrors_come_first_in_file_order() {
        let config = parse(
            r#"
server = "https://reg.example:8443"
ca = "ca.pem"
skip_verify = true

[host."https://m2.example"]
  capabilities = ["pull"]
  client = ["/abs/c.cert", "c.key"]
[host."http://m1.example:5000/prefix"]
  override_path = true
  ca = ["a.pem", "/b.pem"]
  [host."http://m1.example:5000/prefix".header]
    x-one = "1"
    x-many = ["a", "b"]
"#,
        )
        .unwrap();
        let urls: Vec<&str> = config.endpoints.iter().map(|e| e.base.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                "https://m2.example/v2",
                "http://m1.example:5000/prefix",
                "https://reg.example:8443/v2"
            ]
        );
        let m2 = &config.endpoints[0];
        assert!(m2.is_mirror);
        assert_eq!(
            m2.capabilities,
            Capabilities {
                pull: true,
                resolve: false,
                push: false
            }
        );
        assert_eq!(
            m2.tls.client,
            Some((
                PathBuf::from("/abs/c.cert"),
                PathBuf::from("/certs.d/reg.example/c.key")
            ))
        );
        let m1 = &config.endpoints[1];
        assert_eq!(m1.capabilities, Capabilities::MIRROR);
        assert_eq!(
            m1.tls.ca,
            vec![
                PathBuf::from("/certs.d/reg.example/a.pem"),
                PathBuf::from("/b.pem")
            ]
        );
        assert_eq!(m1.headers.len(), 3);
        let server = &config.endpoints[2];
        assert!(!server.is_mirror);
        assert_eq!(server.scheme, SchemePolicy::Fixed);
        assert_eq!(server.capabilities, Capabilities::ALL);
        assert!(server.tls.skip_verify);
        assert_eq!(
            server.tls.ca,
            vec![PathBuf::from("/certs.d/reg.example/ca.pem")]
        );
    }

    #[test]
    fn no_server_keeps_the_default() {
        let config = parse("ca = \"/x.pem\"\n").unwrap();
        assert_eq!(config.endpoints.len(), 1);
        assert_eq!(config.endpoints[0].base.as_str(), "https://reg.example/v2");
        assert_eq!(config.endpoints[0].scheme, SchemePolicy::HttpsThenHttp);
        assert_eq!(config.endpoints[0].tls.ca, vec![PathBuf::from("/x.pem")]);
    }

    #[test]
    fn mistakes_name_the_file_and_the_table() {
        let error = parse("[host.\"ftp://m\"]\n").unwrap_err();
        assert!(error.to_string().contains("hosts.toml"), "{error}");
        assert!(error.to_string().contains("ftp://m"), "{error}");
        let error = parse("[host.\"https://m\"]\ncapabilities = [\"fly\"]\n").unwrap_err();
        assert!(error.to_string().contains("fly"), "{error}");
        let error = parse("sever = \"https://typo\"\n").unwrap_err();
        assert!(error.to_string().contains("sever"), "{error}");
        assert!(parse("server = [").is_err());
    }
}
