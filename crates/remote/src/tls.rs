//! rustls configurations per endpoint: the system's roots (through
//! `rustls-platform-verifier`, loaded on the first handshake) plus the
//! endpoint's extra CAs, an optional
//! client certificate, or no verification at all when asked. The crypto
//! provider is `ring`, passed explicitly: no process-wide default is
//! installed, so an embedding program keeps its own.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::error::{Error, ErrorKind, Result};
use crate::hosts::TlsSettings;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the client TLS configuration for one endpoint.
///
/// # Errors
/// [`ErrorKind::InvalidArgument`] naming the file when a CA or client
/// certificate cannot be read or parsed.
pub(crate) fn client_config(settings: &TlsSettings) -> Result<rustls::ClientConfig> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorKind::InvalidArgument, "configuring TLS").with_source(e))?;
    let trust = if settings.skip_verify {
        Trust::Any
    } else {
        let mut extra = Vec::new();
        for path in &settings.ca {
            let certificates = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!("reading CA certificates from {}", path.display()),
                    )
                    .with_source(e)
                })?;
            if certificates.is_empty() {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("{} holds no PEM certificate", path.display()),
                ));
            }
            extra.extend(certificates);
        }
        Trust::Roots {
            extra,
            verifier: OnceLock::new(),
        }
    };
    let verifier = Arc::new(EndpointVerifier {
        trust,
        provider: Arc::clone(&provider),
    });
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match &settings.client {
        None => builder.with_no_client_auth(),
        Some((cert_path, key_path)) => {
            let chain = CertificateDer::pem_file_iter(cert_path)
                .and_then(|iter| iter.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!("reading a client certificate from {}", cert_path.display()),
                    )
                    .with_source(e)
                })?;
            let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("reading a client key from {}", key_path.display()),
                )
                .with_source(e)
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("using client certificate {}", cert_path.display()),
                )
                .with_source(e)
            })?
        }
    };
    // The ALPN offer (HTTP/2 or not) is the HTTP client's choice: see
    // `transport::HttpClients`.
    Ok(config)
}

/// What an endpoint trusts.
#[derive(Debug)]
enum Trust {
    /// Any certificate (`skip_verify = true`).
    Any,
    /// The system's roots plus `extra`, through `rustls-platform-verifier`,
    /// loaded on the first handshake: reading the system's roots costs
    /// ~7–18 ms, which a pull over plain HTTP (a loopback registry) would
    /// pay for nothing in every process.
    Roots {
        extra: Vec<CertificateDer<'static>>,
        /// The platform verifier, or why there is none (no system roots and
        /// no CA of the host's own: every certificate is refused, saying so,
        /// while plain HTTP keeps working).
        verifier: OnceLock<std::result::Result<rustls_platform_verifier::Verifier, String>>,
    },
}

/// The certificate verifier of one endpoint; see [`Trust`]. Handshake
/// signatures are checked with the provider's algorithms whatever the
/// trust, so the handshake stays well-formed.
#[derive(Debug)]
struct EndpointVerifier {
    trust: Trust,
    provider: Arc<CryptoProvider>,
}

impl EndpointVerifier {
    /// The platform verifier, loading it on first use.
    fn platform(&self) -> Option<&std::result::Result<rustls_platform_verifier::Verifier, String>> {
        match &self.trust {
            Trust::Any => None,
            Trust::Roots { extra, verifier } => Some(verifier.get_or_init(|| {
                rustls_platform_verifier::Verifier::new_with_extra_roots(
                    extra.iter().cloned(),
                    Arc::clone(&self.provider),
                )
                .map_err(|e| {
                    format!(
                        "no trusted root certificates ({e}); install ca-certificates or name a CA in certs.d"
                    )
                })
            })),
        }
    }
}

impl ServerCertVerifier for EndpointVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self.platform() {
            None => Ok(ServerCertVerified::assertion()),
            Some(Ok(verifier)) => verifier.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
            Some(Err(reason)) => Err(rustls::Error::General(reason.clone())),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_ca_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here").unwrap();
        let error = client_config(&TlsSettings {
            ca: vec![empty.clone()],
            ..TlsSettings::default()
        })
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert!(error.to_string().contains("empty.pem"), "{error}");
        let missing = dir.path().join("missing.pem");
        let error = client_config(&TlsSettings {
            ca: vec![missing],
            ..TlsSettings::default()
        })
        .unwrap_err();
        assert!(error.to_string().contains("missing.pem"), "{error}");
    }

    #[test]
    fn default_and_skip_verify_configs_build() {
        assert!(client_config(&TlsSettings::default()).is_ok());
        assert!(
            client_config(&TlsSettings {
                skip_verify: true,
                ..TlsSettings::default()
            })
            .is_ok()
        );
    }
}
