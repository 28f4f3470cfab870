//! [`CompactDigest`]: a digest as the GC holds it in memory.
//!
//! A GC holds every content record of every namespace at once (100,000 in
//! the benchmark). Keeping SHA-256 digests as 32 bytes inline instead of
//! 71-byte heap strings makes loading, hashing and freeing them cheap; other
//! digests (SHA-512, or anything odd a label names) stay strings.

use std::fmt;
use std::hash::Hasher;

use crate::fasthash::FxHasher;

/// A digest string, compactly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum CompactDigest {
    /// `sha256:<64 lowercase hex digits>`, as bytes.
    Sha256([u8; 32]),
    /// Any other string.
    Other(Box<str>),
}

impl CompactDigest {
    /// The key of `digest` (any string: a dead edge's label may hold junk).
    pub(crate) fn parse(digest: &str) -> CompactDigest {
        match digest.strip_prefix("sha256:").and_then(sha256_from_hex) {
            Some(bytes) => CompactDigest::Sha256(bytes),
            None => CompactDigest::Other(digest.into()),
        }
    }

    /// The key of a file named `hex` in the directory of `algorithm`.
    pub(crate) fn from_file_name(algorithm: &str, hex: &str) -> CompactDigest {
        match (algorithm, sha256_from_hex(hex)) {
            ("sha256", Some(bytes)) => CompactDigest::Sha256(bytes),
            _ => CompactDigest::Other(format!("{algorithm}:{hex}").into()),
        }
    }
}

impl CompactDigest {
    /// A hash of the key. A SHA-256 is as evenly spread as any hash of it
    /// would be, so its first 8 bytes serve as they are.
    pub(crate) fn spread(&self) -> u64 {
        match self {
            CompactDigest::Sha256([a, b, c, d, e, f, g, h, ..]) => {
                u64::from_le_bytes([*a, *b, *c, *d, *e, *f, *g, *h])
            }
            CompactDigest::Other(text) => {
                let mut hasher = FxHasher::default();
                hasher.write(text.as_bytes());
                hasher.finish()
            }
        }
    }
}

impl fmt::Display for CompactDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompactDigest::Sha256(bytes) => {
                // One write of the whole digest: a collection formats one
                // per record it removes, and a write per byte added up.
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                let mut text =
                    *b"sha256:0000000000000000000000000000000000000000000000000000000000000000";
                for (pair, byte) in text[7..].chunks_exact_mut(2).zip(bytes) {
                    pair[0] = DIGITS[usize::from(byte >> 4)];
                    pair[1] = DIGITS[usize::from(byte & 0x0f)];
                }
                // Only ASCII went in.
                f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
            }
            CompactDigest::Other(text) => f.write_str(text),
        }
    }
}

/// Decodes exactly 64 lowercase hex digits (the only form a valid SHA-256
/// digest takes; anything else is kept as a string and so never equals one).
fn sha256_from_hex(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    let mut invalid = 0u8;
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        let (high, low) = (NIBBLE[usize::from(pair[0])], NIBBLE[usize::from(pair[1])]);
        invalid |= high | low;
        *byte = (high << 4) | (low & 0x0f);
    }
    // Any non-digit set the high bit somewhere.
    (invalid & 0x80 == 0).then_some(bytes)
}

/// The value of each lowercase hex digit; 0x80 for every other byte. (A
/// table, because a GC decodes one digest per record and per file.)
const NIBBLE: [u8; 256] = {
    let mut table = [0x80u8; 256];
    let mut c = 0;
    while c < 10 {
        table[b'0' as usize + c] = c as u8;
        c += 1;
    }
    let mut c = 0;
    while c < 6 {
        table[b'a' as usize + c] = 10 + c as u8;
        c += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_odd_strings() {
        let digest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let key = CompactDigest::parse(digest);
        assert!(matches!(key, CompactDigest::Sha256(_)));
        assert_eq!(key.to_string(), digest);
        assert_eq!(CompactDigest::from_file_name("sha256", &digest[7..]), key);
        let upper = digest.to_uppercase().replace("SHA256", "sha256");
        assert!(matches!(
            CompactDigest::parse(&upper),
            CompactDigest::Other(_)
        ));
        assert_ne!(CompactDigest::parse(&upper), key);
        assert_eq!(
            CompactDigest::parse("not a digest").to_string(),
            "not a digest"
        );
        assert_eq!(
            CompactDigest::from_file_name("sha512", "ab").to_string(),
            "sha512:ab"
        );
    }
}
