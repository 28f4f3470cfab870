//! [`Descriptor`]: what points at a blob, read faithfully from JSON.

use std::collections::BTreeMap;

use hoist_content::Digest;
use hoist_platform::Platform;
use serde::{Deserialize, Serialize};

use crate::annotations;

/// An OCI content descriptor: media type, digest and size of a blob, and
/// optionally its platform and annotations.
///
/// Unlike `oci_spec::image::Descriptor` it keeps everything it was read with:
/// the platform's `os.version` and `os.features`, and any field hoist does not
/// know (kept in [`extra`](Self::extra)), so an entry copied from one index
/// into a new one loses nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The blob's media type, e.g. `application/vnd.oci.image.manifest.v1+json`.
    pub media_type: String,
    /// The blob's digest.
    pub digest: Digest,
    /// The blob's size in bytes.
    pub size: u64,
    /// The platform the blob is for (entries of an index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Annotations, sorted by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// URLs the blob may be fetched from (non-distributable layers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// The artifact type of the manifest this descriptor points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Every other field, kept as read (`data`, vendor extensions, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Descriptor {
    /// A descriptor with just a media type, a digest and a size.
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Self {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            platform: None,
            annotations: BTreeMap::new(),
            urls: Vec::new(),
            artifact_type: None,
            extra: serde_json::Map::new(),
        }
    }

    /// This descriptor with `platform` set.
    #[must_use]
    pub fn with_platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    /// This descriptor with the annotation `key` set to `value`.
    #[must_use]
    pub fn with_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The annotation `key`, if set.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    /// True for a buildx attestation manifest (`vnd.docker.reference.type=attestation-manifest`).
    pub fn is_attestation(&self) -> bool {
        self.annotation(annotations::DOCKER_REFERENCE_TYPE)
            == Some(annotations::ATTESTATION_MANIFEST)
    }

    /// The manifest an attestation is about (`vnd.docker.reference.digest`), if
    /// this is an attestation and the annotation holds a valid digest.
    pub fn attestation_subject(&self) -> Option<Digest> {
        if !self.is_attestation() {
            return None;
        }
        self.annotation(annotations::DOCKER_REFERENCE_DIGEST)?
            .parse()
            .ok()
    }

    /// The descriptor as a JSON value with all its fields.
    pub fn to_json(&self) -> serde_json::Value {
        // Serializing a struct of strings, numbers, maps and a `Platform`
        // cannot fail; `Null` is unreachable.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";

    #[test]
    fn keeps_os_version_features_and_unknown_fields() {
        let json = format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{DIGEST}","size":7,
               "platform":{{"os":"windows","architecture":"amd64","os.version":"10.0.17763.1",
                            "os.features":["win32k"]}},
               "data":"e30=","x-vendor":{{"a":1}}}}"#
        );
        let descriptor: Descriptor = serde_json::from_str(&json).unwrap();
        let platform = descriptor.platform.clone().unwrap();
        assert_eq!(platform.os_version.as_deref(), Some("10.0.17763.1"));
        assert_eq!(platform.os_features, vec!["win32k".to_string()]);
        assert_eq!(descriptor.extra["data"], "e30=");
        let back = descriptor.to_json();
        assert_eq!(back["platform"]["os.version"], "10.0.17763.1");
        assert_eq!(back["x-vendor"]["a"], 1);
        let again: Descriptor = serde_json::from_value(back).unwrap();
        assert_eq!(again, descriptor);
    }

    #[test]
    fn recognizes_attestations() {
        let subject: Digest = DIGEST.parse().unwrap();
        let attestation = Descriptor::new(crate::media_type::OCI_MANIFEST, subject.clone(), 1)
            .with_platform(Platform::new("unknown", "unknown"))
            .with_annotation(
                annotations::DOCKER_REFERENCE_TYPE,
                annotations::ATTESTATION_MANIFEST,
            )
            .with_annotation(annotations::DOCKER_REFERENCE_DIGEST, DIGEST);
        assert!(attestation.is_attestation());
        assert_eq!(attestation.attestation_subject(), Some(subject.clone()));
        let plain = Descriptor::new(crate::media_type::OCI_MANIFEST, subject, 1);
        assert!(!plain.is_attestation());
        assert_eq!(plain.attestation_subject(), None);
    }

    #[test]
    fn rejects_a_bad_digest() {
        let json = r#"{"mediaType":"x","digest":"sha256:abc","size":1}"#;
        assert!(serde_json::from_str::<Descriptor>(json).is_err());
    }
}
