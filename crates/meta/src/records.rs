//! The values stored under the keys of `keys.rs`: JSON documents, times in
//! nanoseconds since the Unix epoch. Fields may be added (with a serde
//! default); renaming or removing one is a schema change.

use std::collections::BTreeMap;

use hoist_content::{Digest, Labels};
use hoist_oci::Descriptor;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `image\0<ns>\0<name>\0`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ImageRecord {
    pub(crate) target: TargetRecord,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub(crate) labels: Labels,
    pub(crate) created: u64,
    pub(crate) updated: u64,
}

/// An image's target as stored: the descriptor's media type, digest, size
/// and annotations, under the field names of schema version 1. A platform,
/// URLs and unknown fields are the listing index's business and are not
/// recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TargetRecord {
    pub(crate) media_type: String,
    pub(crate) digest: Digest,
    pub(crate) size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) annotations: BTreeMap<String, String>,
}

impl From<&Descriptor> for TargetRecord {
    fn from(descriptor: &Descriptor) -> TargetRecord {
        TargetRecord {
            media_type: descriptor.media_type.clone(),
            digest: descriptor.digest.clone(),
            size: descriptor.size,
            annotations: descriptor.annotations.clone(),
        }
    }
}

impl From<TargetRecord> for Descriptor {
    fn from(record: TargetRecord) -> Descriptor {
        let mut descriptor = Descriptor::new(record.media_type, record.digest, record.size);
        descriptor.annotations = record.annotations;
        descriptor
    }
}

/// `blob\0<ns>\0<digest>\0`: the namespace may read this blob.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ContentRecord {
    pub(crate) size: u64,
    pub(crate) created: u64,
    pub(crate) updated: u64,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub(crate) labels: Labels,
}

/// `ingest\0<ns>\0<ref>\0`: a write in progress (or left for resume).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IngestRecord {
    /// The reference of the ingest in the shared local store.
    pub(crate) backend: String,
    #[serde(default)]
    pub(crate) expected: Option<Digest>,
    #[serde(default)]
    pub(crate) total: Option<u64>,
    /// The lease the ingest was opened under; it lives as long as the lease.
    #[serde(default)]
    pub(crate) lease: Option<String>,
    /// Without a lease: when the ingest stops being a GC root.
    #[serde(default)]
    pub(crate) expires: Option<u64>,
    pub(crate) created: u64,
}

/// `lease\0<ns>\0<id>\0`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LeaseRecord {
    pub(crate) created: u64,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub(crate) labels: Labels,
}

/// `ns\0<ns>\0`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NamespaceRecord {
    pub(crate) created: u64,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub(crate) labels: Labels,
}

/// Serializes a record.
pub(crate) fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(record).map_err(|error| {
        Error::invalid(format!("cannot encode a record: {error}")).with_source(error)
    })
}

/// Deserializes the record stored under `key`.
pub(crate) fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|error| {
        Error::data_loss(format!(
            "metadata record {} does not decode: {error}",
            String::from_utf8_lossy(key).replace('\0', "/")
        ))
        .with_source(error)
    })
}
