//! Image references and digests typed on the command line.

use hoist::remote::{Digest, Reference};

use crate::exit::UsageError;

/// Parses and normalizes a reference as Docker does (`alpine` is
/// `docker.io/library/alpine:latest`).
pub fn parse_reference(text: &str) -> Result<Reference, UsageError> {
    text.parse::<Reference>()
        .map_err(|e| UsageError(e.to_string()))
}

/// A local image name as the store keys it: the reference, normalized
/// (`alpine` is stored as `docker.io/library/alpine:latest`).
pub fn image_name(text: &str) -> Result<String, UsageError> {
    parse_reference(text).map(|reference| reference.to_string())
}

/// Parses a digest (`sha256:<64 hex>`).
pub fn parse_digest(text: &str) -> Result<Digest, UsageError> {
    text.parse::<Digest>()
        .map_err(|e| UsageError(format!("invalid digest {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_normalize_and_bad_ones_say_why() {
        assert_eq!(
            parse_reference("alpine").unwrap().to_string(),
            "docker.io/library/alpine:latest"
        );
        let error = parse_reference("Alpine").unwrap_err();
        assert!(error.0.contains("lowercase"), "{}", error.0);
    }

    #[test]
    fn digests_are_checked() {
        assert!(parse_digest("sha256:abc").is_err());
        let good = format!("sha256:{}", "a".repeat(64));
        assert_eq!(parse_digest(&good).unwrap().to_string(), good);
    }
}
