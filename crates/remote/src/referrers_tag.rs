//! The writer of the referrers fallback tag: on a registry without the
//! referrers API, the referrers of a manifest are listed by an OCI index
//! tagged `sha256-<hex of the subject>` (the scheme cosign, oras and
//! notation share). Adding to it is a read, a merge (entries written by
//! others stay), a write, and a read back that checks every entry added is
//! listed: the distribution API has no compare-and-swap, so two writers
//! racing on one tag lose an update silently unless someone looks. A lost
//! update is retried a few times, then reported, naming the tag. The
//! argument is in `docs/crates/remote.md` ("Referrers on a registry without
//! the API").

use std::collections::HashSet;

use bytes::Bytes;
use hoist_content::Digest;
use hoist_oci::Descriptor;

use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::manifest::ManifestTarget;
use crate::media_type::{DOCKER_MANIFEST_LIST, OCI_INDEX, essence};
use crate::reference::{Reference, Repository};
use crate::referrers::fallback_tag;

/// How many times a fallback tag's read, merge, write and read back is
/// tried before a lost update is reported.
pub const FALLBACK_TAG_ATTEMPTS: u32 = 5;

/// What adding entries to a fallback tag did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FallbackTagUpdate {
    /// The tag (`sha256-<hex>`).
    pub tag: String,
    /// Whether an index was written (`false`: every entry was listed already).
    pub written: bool,
    /// Entries newly listed by this update.
    pub added: usize,
    /// Entries the tag listed before, kept (others' and earlier pushes').
    pub kept: usize,
    /// Read-merge-write rounds it took (more than one after a lost update).
    pub attempts: u32,
}

/// A fallback tag's index as read: its top-level fields (kept as they are)
/// and its entries.
#[derive(Default)]
struct Listing {
    fields: serde_json::Map<String, serde_json::Value>,
    entries: Vec<Descriptor>,
}

impl Client {
    /// Lists `entries` (referrers of `subject`, already pushed to
    /// `repository` by digest) in the fallback tag `sha256-<hex>`: reads the
    /// tag's index (none yet: an empty one), keeps every entry it lists,
    /// appends those of `entries` it lacks (by digest), writes it, and reads
    /// the tag back. When the read back lacks an entry this call added
    /// (another writer replaced the tag in between), the round is tried
    /// again, up to [`FALLBACK_TAG_ATTEMPTS`] times.
    ///
    /// # Errors
    /// [`ErrorKind::FailedPrecondition`] naming the tag when every round
    /// lost its update, or when the tag holds something other than an index
    /// (it is never overwritten then); the errors of
    /// [`Client::get_manifest`] and [`Client::put_manifest`].
    pub async fn add_to_fallback_tag(
        &self,
        repository: &Repository,
        subject: &Digest,
        entries: &[Descriptor],
    ) -> Result<FallbackTagUpdate> {
        let tag = fallback_tag(subject);
        let reference = repository.tagged(&tag)?;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut listing = self.read_listing(&reference).await?;
            let kept = listing.entries.len();
            let mut listed: HashSet<Digest> =
                listing.entries.iter().map(|e| e.digest.clone()).collect();
            let mut added = 0;
            for entry in entries {
                if listed.insert(entry.digest.clone()) {
                    listing.entries.push(entry.clone());
                    added += 1;
                }
            }
            if added == 0 {
                return Ok(FallbackTagUpdate {
                    tag,
                    written: false,
                    added: 0,
                    kept,
                    attempts: attempt,
                });
            }
            let bytes = listing.to_bytes(&reference)?;
            self.put_manifest(repository, ManifestTarget::Tag(&tag), OCI_INDEX, bytes)
                .await?;
            let now = self.read_listing(&reference).await?;
            let present: HashSet<&Digest> = now.entries.iter().map(|e| &e.digest).collect();
            let lost: Vec<String> = entries
                .iter()
                .filter(|e| !present.contains(&e.digest))
                .map(|e| e.digest.to_string())
                .collect();
            if lost.is_empty() {
                return Ok(FallbackTagUpdate {
                    tag,
                    written: true,
                    added,
                    kept,
                    attempts: attempt,
                });
            }
            if attempt >= FALLBACK_TAG_ATTEMPTS {
                return Err(Error::new(
                    ErrorKind::FailedPrecondition,
                    format!(
                        "the referrers tag {reference} still lacks {} after {attempt} \
                         read-merge-write rounds: another writer replaced it each time \
                         (the registry has no referrers API and no compare-and-swap); \
                         push again once the other writer is done",
                        lost.join(", ")
                    ),
                ));
            }
            tracing::warn!(
                tag = %reference,
                attempt,
                "the referrers tag lost this update to another writer; merging again"
            );
            tokio::time::sleep(self.retry_policy().backoff(attempt)).await;
        }
    }

    /// The index the fallback tag holds, or an empty listing when there is
    /// no such tag.
    async fn read_listing(&self, reference: &Reference) -> Result<Listing> {
        let manifest = match self.get_manifest(reference).await {
            Ok(manifest) => manifest,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Listing::default()),
            Err(e) => return Err(e),
        };
        let media_type = essence(&manifest.descriptor.media_type);
        if media_type != OCI_INDEX && media_type != DOCKER_MANIFEST_LIST {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "the referrers tag {reference} holds a {media_type}, not an index; \
                     hoist does not overwrite it"
                ),
            ));
        }
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&manifest.bytes).map_err(|e| {
                Error::new(
                    ErrorKind::Protocol,
                    format!("the referrers tag {reference} is not a JSON object: {e}"),
                )
            })?;
        let entries = match fields.remove("manifests") {
            Some(value) => serde_json::from_value::<Vec<Descriptor>>(value).map_err(|e| {
                Error::new(
                    ErrorKind::Protocol,
                    format!("the referrers tag {reference} lists an invalid entry: {e}"),
                )
            })?,
            None => Vec::new(),
        };
        Ok(Listing { fields, entries })
    }
}

impl Listing {
    /// The index to write: the fields read (annotations and any others
    /// kept), as an OCI index, with the merged entries. serde_json's map
    /// sorts keys, so the same listing is always the same bytes.
    fn to_bytes(&self, reference: &Reference) -> Result<Bytes> {
        let mut fields = self.fields.clone();
        fields.insert("schemaVersion".to_owned(), serde_json::Value::from(2));
        fields.insert("mediaType".to_owned(), serde_json::Value::from(OCI_INDEX));
        let entries = serde_json::to_value(&self.entries).map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!("writing the referrers index of {reference}: {e}"),
            )
        })?;
        fields.insert("manifests".to_owned(), entries);
        serde_json::to_vec(&fields).map(Bytes::from).map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!("writing the referrers index of {reference}: {e}"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_keeps_unknown_fields_and_writes_an_oci_index() {
        let reference: Reference = "localhost/a:sha256-00".parse().unwrap();
        let mut fields = serde_json::Map::new();
        fields.insert(
            "annotations".to_owned(),
            serde_json::json!({"org.example": "kept"}),
        );
        let mut entry = Descriptor::new(
            "application/vnd.oci.image.manifest.v1+json",
            Digest::sha256_of(b"sig"),
            3,
        );
        entry.artifact_type = Some("application/example".to_owned());
        let listing = Listing {
            fields,
            entries: vec![entry],
        };
        let bytes = listing.to_bytes(&reference).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["schemaVersion"], 2);
        assert_eq!(value["mediaType"], OCI_INDEX);
        assert_eq!(value["annotations"]["org.example"], "kept");
        assert_eq!(value["manifests"][0]["artifactType"], "application/example");
        assert_eq!(listing.to_bytes(&reference).unwrap(), bytes);
    }
}
