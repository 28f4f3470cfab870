//! RS256 JSON Web Tokens as distribution's token auth verifies them: the
//! signing certificate travels in the header's `x5c`, and the registry checks
//! it against its `rootcertbundle`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

use crate::error::{Error, Result};

/// Signs claims with an RSA key; the certificate goes into `x5c`.
pub(crate) struct Signer {
    key: RsaKeyPair,
    cert_der: Vec<u8>,
    rng: SystemRandom,
}

impl Signer {
    pub(crate) fn new(key_pkcs8_der: &[u8], cert_der: Vec<u8>) -> Result<Signer> {
        let key = RsaKeyPair::from_pkcs8(key_pkcs8_der)
            .map_err(|e| Error::Other(format!("loading the issuer's RSA key: {e}")))?;
        Ok(Signer {
            key,
            cert_der,
            rng: SystemRandom::new(),
        })
    }

    /// `base64url(header).base64url(claims).base64url(signature)`.
    pub(crate) fn sign(&self, claims: &serde_json::Value) -> Result<String> {
        let header = serde_json::json!({
            "typ": "JWT",
            "alg": "RS256",
            "x5c": [STANDARD.encode(&self.cert_der)],
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|e| Error::Other(format!("signing a token: {e}")))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}
