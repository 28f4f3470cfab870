//! TLS for the listener: a certificate chain and its private key, read
//! once at start, served with rustls through tokio-rustls. The crypto
//! provider is `ring`, passed explicitly as `hoist-remote` does for its
//! client: one TLS stack in the tree, and no process-wide default
//! installed, so an embedding program keeps its own.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};

/// The PEM files a server presents: its certificate (chain) and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server certificate, then any intermediates, as PEM.
    pub cert: PathBuf,
    /// The certificate's private key as PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl TlsFiles {
    /// The certificate chain in `cert` and the key in `key`.
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> TlsFiles {
        TlsFiles {
            cert: cert.into(),
            key: key.into(),
        }
    }
}

fn invalid(path: &Path, reason: impl Into<String>) -> Error {
    Error::Tls {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Reads and checks the files: a chain of at least one certificate, a key,
/// and the key matching the certificate.
///
/// # Errors
/// [`Error::Tls`] naming the file that is missing, unreadable, holds no
/// PEM object of the kind expected, or (the key) does not match.
pub(crate) fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor> {
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|iter| iter.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| invalid(&files.cert, format!("cannot read a PEM certificate: {e}")))?;
    if chain.is_empty() {
        return Err(invalid(&files.cert, "holds no PEM certificate"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| invalid(&files.key, format!("cannot read a PEM private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(&files.cert, format!("configuring TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            invalid(
                &files.key,
                format!(
                    "does not serve with certificate {}: {e}",
                    files.cert.display()
                ),
            )
        })?;
    // HTTP/1.1 only, as the connections are served.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "no PEM here").unwrap();
        let missing = dir.path().join("missing.pem");
        for (files, named) in [
            (TlsFiles::new(&missing, &junk), &missing),
            (TlsFiles::new(&junk, &junk), &junk),
        ] {
            let Err(error) = acceptor(&files) else {
                panic!("{files:?} was accepted")
            };
            assert!(matches!(error, Error::Tls { ref path, .. } if path == named));
            assert!(
                error.to_string().contains(&named.display().to_string()),
                "{error}"
            );
        }
    }
}
