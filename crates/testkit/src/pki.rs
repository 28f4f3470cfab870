//! Keys and certificates made with the `openssl` command line, in a temp dir:
//! the token issuer's RSA signing key and self-signed certificate, and a CA
//! with a server certificate for `127.0.0.1` / `localhost` for TLS tests.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::tools::{require_tool, run};

/// The token issuer's key and certificate.
#[derive(Debug, Clone)]
pub struct SigningIdentity {
    /// The RSA private key as PKCS#8 DER (what `ring` loads).
    pub key_pkcs8_der: Vec<u8>,
    /// The self-signed certificate as DER (what goes into the JWT's `x5c`).
    pub cert_der: Vec<u8>,
    /// The certificate as PEM, the registry's `rootcertbundle`.
    pub cert_pem_path: PathBuf,
}

/// A CA and a server certificate it signed, as PEM files.
#[derive(Debug, Clone)]
pub struct ServerCertificates {
    /// The CA certificate (what a client must trust).
    pub ca_cert: PathBuf,
    /// The server certificate, valid for `127.0.0.1` and `localhost`.
    pub server_cert: PathBuf,
    /// The server's private key.
    pub server_key: PathBuf,
    /// A client certificate signed by the same CA (for registries that
    /// require one), and its key.
    pub client_cert: PathBuf,
    /// The client certificate's private key.
    pub client_key: PathBuf,
}

fn openssl() -> Result<PathBuf> {
    require_tool("openssl")?.ok_or_else(|| Error::ToolMissing {
        tool: "openssl".to_owned(),
    })
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| Error::Other(format!("non-UTF-8 path {}", path.display())))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io("reading", path, e))
}

/// Makes an RSA-2048 key and a self-signed certificate for signing tokens.
///
/// # Errors
/// When `openssl` is missing or fails, or the files cannot be read.
pub fn make_signing_identity(dir: &Path) -> Result<SigningIdentity> {
    let openssl = openssl()?;
    let key_pem = dir.join("issuer.key");
    let cert_pem = dir.join("issuer.crt");
    let key_der = dir.join("issuer.pk8");
    let cert_der = dir.join("issuer.der");
    run(
        &openssl,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            path_str(&key_pem)?,
            "-out",
            path_str(&cert_pem)?,
            "-days",
            "2",
            "-subj",
            "/CN=hoist-testkit-token-issuer",
        ],
        None,
    )?;
    run(
        &openssl,
        &[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            path_str(&key_pem)?,
            "-outform",
            "DER",
            "-out",
            path_str(&key_der)?,
        ],
        None,
    )?;
    run(
        &openssl,
        &[
            "x509",
            "-in",
            path_str(&cert_pem)?,
            "-outform",
            "DER",
            "-out",
            path_str(&cert_der)?,
        ],
        None,
    )?;
    Ok(SigningIdentity {
        key_pkcs8_der: read(&key_der)?,
        cert_der: read(&cert_der)?,
        cert_pem_path: cert_pem,
    })
}

/// Makes a CA and a server certificate for `127.0.0.1` and `localhost`.
///
/// # Errors
/// When `openssl` is missing or fails.
pub fn make_server_certificates(dir: &Path) -> Result<ServerCertificates> {
    let openssl = openssl()?;
    let ca_key = dir.join("ca.key");
    let ca_cert = dir.join("ca.crt");
    let server_key = dir.join("server.key");
    let server_csr = dir.join("server.csr");
    let server_cert = dir.join("server.crt");
    let extensions = dir.join("server.ext");
    std::fs::write(
        &extensions,
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| Error::io("writing", &extensions, e))?;
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-keyout",
        path_str(&ca_key)?,
        "-out",
        path_str(&ca_cert)?,
        "-days",
        "2",
        "-subj",
        "/CN=hoist-testkit-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&openssl, &args, None)?;
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        path_str(&server_key)?,
        "-out",
        path_str(&server_csr)?,
        "-subj",
        "/CN=localhost",
    ]);
    run(&openssl, &args, None)?;
    sign(
        &openssl,
        &server_csr,
        &ca_cert,
        &ca_key,
        &server_cert,
        &extensions,
    )?;
    let client_key = dir.join("client.key");
    let client_csr = dir.join("client.csr");
    let client_cert = dir.join("client.cert");
    let client_extensions = dir.join("client.ext");
    std::fs::write(
        &client_extensions,
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
    )
    .map_err(|e| Error::io("writing", &client_extensions, e))?;
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        path_str(&client_key)?,
        "-out",
        path_str(&client_csr)?,
        "-subj",
        "/CN=hoist-test-client",
    ]);
    run(&openssl, &args, None)?;
    sign(
        &openssl,
        &client_csr,
        &ca_cert,
        &ca_key,
        &client_cert,
        &client_extensions,
    )?;
    Ok(ServerCertificates {
        ca_cert,
        server_cert,
        server_key,
        client_cert,
        client_key,
    })
}

/// Signs `csr` with the CA into `out`, with the extensions in `extensions`.
fn sign(
    openssl: &Path,
    csr: &Path,
    ca_cert: &Path,
    ca_key: &Path,
    out: &Path,
    extensions: &Path,
) -> Result<()> {
    run(
        openssl,
        &[
            "x509",
            "-req",
            "-in",
            path_str(csr)?,
            "-CA",
            path_str(ca_cert)?,
            "-CAkey",
            path_str(ca_key)?,
            "-CAcreateserial",
            "-out",
            path_str(out)?,
            "-days",
            "2",
            "-extfile",
            path_str(extensions)?,
        ],
        None,
    )?;
    Ok(())
}
