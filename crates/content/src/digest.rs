//! Content digests: `<algorithm>:<lowercase hex>`, validated on construction.

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;

use crate::error::{Error, ErrorKind, Result};

/// A hash algorithm the store accepts. SHA-256 is what registries use; SHA-512
/// is accepted because the OCI image spec registers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256: 64 hex characters.
    Sha256,
    /// SHA-512: 128 hex characters.
    Sha512,
}

impl Algorithm {
    /// Every algorithm, in the order `walk` visits them.
    pub const ALL: [Algorithm; 2] = [Algorithm::Sha256, Algorithm::Sha512];

    /// The name used in digest strings and in the on-disk layout.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// How many hex characters a digest of this algorithm has.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sha256" => Ok(Algorithm::Sha256),
            "sha512" => Ok(Algorithm::Sha512),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("unsupported digest algorithm {s:?} (expected \"sha256\" or \"sha512\")"),
            )),
        }
    }
}

/// A validated content digest such as `sha256:e3b0c442…`.
///
/// Construction (through [`FromStr`], [`Digest::new`] or [`Digester`]) checks the
/// algorithm, the length of the hex part and that it is lowercase hex, so a
/// `Digest` can be used as a file name without further checks.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    /// The whole string, `<alg>:<hex>`.
    text: String,
    algorithm: Algorithm,
}

impl Digest {
    /// Builds a digest from an algorithm and its hex part, validating the hex.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if `hex` is not lowercase hex of the algorithm's length.
    pub fn new(algorithm: Algorithm, hex: &str) -> Result<Digest> {
        let text = format!("{algorithm}:{hex}");
        validate_hex(algorithm, hex, &text)?;
        Ok(Digest { text, algorithm })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part, after the colon.
    pub fn hex(&self) -> &str {
        &self.text[self.algorithm.as_str().len() + 1..]
    }

    /// The whole digest string, `<alg>:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The SHA-256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        let mut digester = Digester::new(Algorithm::Sha256);
        digester.update(bytes);
        digester.finish()
    }

    /// The digest of `bytes` under `algorithm`.
    pub fn of(algorithm: Algorithm, bytes: &[u8]) -> Digest {
        let mut digester = Digester::new(algorithm);
        digester.update(bytes);
        digester.finish()
    }
}

fn validate_hex(algorithm: Algorithm, hex: &str, whole: &str) -> Result<()> {
    if hex.len() != algorithm.hex_len() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "invalid digest {whole:?}: a {algorithm} digest has {} hex characters, this one has {}",
                algorithm.hex_len(),
                hex.len()
            ),
        ));
    }
    if let Some(bad) = hex.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("invalid digest {whole:?}: {bad:?} is not a lowercase hex character"),
        ));
    }
    Ok(())
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Digest> {
        let Some((algorithm, hex)) = s.split_once(':') else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("invalid digest {s:?}: expected \"<algorithm>:<hex>\""),
            ));
        };
        let algorithm: Algorithm = algorithm.parse().map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "invalid digest {s:?}: unsupported algorithm {algorithm:?} (expected \"sha256\" or \"sha512\")"
                ),
            )
        })?;
        validate_hex(algorithm, hex, s)?;
        Ok(Digest {
            text: s.to_owned(),
            algorithm,
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.text)
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Digest, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An incremental hasher producing a [`Digest`].
#[derive(Clone)]
pub struct Digester {
    state: State,
}

#[derive(Clone)]
enum State {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Digester {
    /// A fresh hasher for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Digester {
        let state = match algorithm {
            Algorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => State::Sha512(sha2::Sha512::new()),
        };
        Digester { state }
    }

    /// The algorithm this hasher computes.
    pub fn algorithm(&self) -> Algorithm {
        match self.state {
            State::Sha256(_) => Algorithm::Sha256,
            State::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// Feeds `bytes` to the hash.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            State::Sha256(h) => h.update(bytes),
            State::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest of every byte fed so far.
    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self.state {
            State::Sha256(h) => (Algorithm::Sha256, hex::encode(h.finalize())),
            State::Sha512(h) => (Algorithm::Sha512, hex::encode(h.finalize())),
        };
        Digest {
            text: format!("{algorithm}:{hex}"),
            algorithm,
        }
    }
}

impl fmt::Debug for Digester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Digester")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl std::io::Write for Digester {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn empty_input_has_the_well_known_digest() {
        assert_eq!(Digest::sha256_of(b"").as_str(), EMPTY);
    }

    #[test]
    fn parses_and_exposes_parts() {
        let d: Digest = EMPTY.parse().unwrap();
        assert_eq!(d.algorithm(), Algorithm::Sha256);
        assert_eq!(d.hex().len(), 64);
        assert_eq!(d.to_string(), EMPTY);
        let sha512 = Digest::of(Algorithm::Sha512, b"x");
        let back: Digest = sha512.as_str().parse().unwrap();
        assert_eq!(back, sha512);
        assert_eq!(back.hex().len(), 128);
    }

    #[test]
    fn rejects_bad_strings_and_quotes_them() {
        for bad in [
            "",
            "sha256",
            "md5:abcd",
            "sha256:abc",
            &EMPTY.to_uppercase().replace("SHA256", "sha256"),
            &format!("{EMPTY}0"),
            &EMPTY.replace('e', "g"),
            "sha256:../../../../etc/passwd",
        ] {
            let err = bad.parse::<Digest>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad}");
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn serde_uses_the_string_form() {
        let d: Digest = EMPTY.parse().unwrap();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{EMPTY}\""));
        let back: Digest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert!(serde_json::from_str::<Digest>("\"sha256:zz\"").is_err());
    }
}
