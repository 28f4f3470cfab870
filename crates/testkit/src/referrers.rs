//! Referrers for tests: OCI 1.1 artifacts (a signature, an SBOM) whose
//! `subject` is a fixture's manifest, the fallback-tag index cosign and
//! oras write on a registry without the referrers API, and a plain-HTTP
//! uploader to put them on a test registry as those tools would.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;

use crate::error::{Error, Result};
use crate::fixtures::{Fixture, FixtureBlob, oci};

/// The media type of the empty config artifacts use (`{}`).
pub const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";

/// An artifact manifest about a subject, with its config and one layer.
#[derive(Debug, Clone)]
pub struct FixtureArtifact {
    /// The `{}` config.
    pub config: FixtureBlob,
    /// The one layer (the signature, the SBOM document).
    pub payload: FixtureBlob,
    /// The manifest, with `subject` and `artifactType`.
    pub manifest: FixtureBlob,
    /// Its `artifactType`.
    pub artifact_type: String,
    /// Its annotations.
    pub annotations: serde_json::Map<String, serde_json::Value>,
}

impl FixtureArtifact {
    /// An artifact of `artifact_type` about `subject` carrying `payload`
    /// (of media type `payload_type`) and `annotations`.
    pub fn new(
        subject: &FixtureBlob,
        artifact_type: &str,
        payload_type: &str,
        payload: &[u8],
        annotations: &[(&str, &str)],
    ) -> FixtureArtifact {
        let config = FixtureBlob::new(EMPTY_CONFIG, b"{}".to_vec());
        let payload = FixtureBlob::new(payload_type, payload.to_vec());
        let annotations: serde_json::Map<String, serde_json::Value> = annotations
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
            .collect();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": oci::MANIFEST,
            "artifactType": artifact_type,
            "config": config.descriptor(),
            "layers": [payload.descriptor()],
            "subject": subject.descriptor(),
            "annotations": annotations,
        });
        let manifest = FixtureBlob::new(
            oci::MANIFEST,
            serde_json::to_vec(&manifest).unwrap_or_default(),
        );
        FixtureArtifact {
            config,
            payload,
            manifest,
            artifact_type: artifact_type.to_owned(),
            annotations,
        }
    }

    /// Its entry in a referrers list: descriptor, `artifactType`, annotations.
    pub fn entry(&self) -> serde_json::Value {
        let mut entry = self.manifest.descriptor();
        entry["artifactType"] = serde_json::Value::from(self.artifact_type.clone());
        entry["annotations"] = serde_json::Value::Object(self.annotations.clone());
        entry
    }
}

/// The fallback tag of `subject`: `sha256-<hex>`.
pub fn fallback_tag(subject: &FixtureBlob) -> String {
    subject.digest.replacen(':', "-", 1)
}

/// The index a fallback tag holds, listing `artifacts`.
pub fn fallback_index(artifacts: &[&FixtureArtifact]) -> FixtureBlob {
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": oci::INDEX,
        "manifests": artifacts.iter().map(|a| a.entry()).collect::<Vec<_>>(),
    });
    FixtureBlob::new(oci::INDEX, serde_json::to_vec(&index).unwrap_or_default())
}

/// Writes `fixture` as an OCI layout in `dir` (its index named `tag`) with
/// `artifacts` laid out as `oras copy -r --to-oci-layout` writes referrers
/// (oras-go's OCI store): their blobs under `blobs/sha256/`, and each
/// artifact manifest an `index.json` entry of its own, without a name,
/// carrying its `artifactType` and annotations.
///
/// # Errors
/// When a file cannot be read or written.
pub fn write_oras_layout(
    dir: &Path,
    fixture: &Fixture,
    tag: &str,
    artifacts: &[&FixtureArtifact],
) -> Result<()> {
    fixture.write_oci_layout(dir, tag)?;
    let blobs = dir.join("blobs/sha256");
    for artifact in artifacts {
        for blob in [&artifact.config, &artifact.payload, &artifact.manifest] {
            let path = blobs.join(blob.digest.trim_start_matches("sha256:"));
            std::fs::write(&path, &blob.bytes).map_err(|e| Error::io("writing", &path, e))?;
        }
    }
    let path = dir.join("index.json");
    let raw = std::fs::read(&path).map_err(|e| Error::io("reading", &path, e))?;
    let mut index: serde_json::Value = serde_json::from_slice(&raw)
        .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    if let Some(manifests) = index["manifests"].as_array_mut() {
        manifests.extend(artifacts.iter().map(|a| a.entry()));
    }
    let bytes = serde_json::to_vec(&index)
        .map_err(|e| Error::Other(format!("serializing {}: {e}", path.display())))?;
    std::fs::write(&path, bytes).map_err(|e| Error::io("writing", &path, e))
}

/// Uploads `blob` to `repository` on the plain-HTTP registry `host`
/// (`POST` then `PUT`, as skopeo does).
///
/// # Errors
/// A connection error or an answer other than 202 then 201.
pub fn upload_blob(host: &str, repository: &str, blob: &FixtureBlob) -> Result<()> {
    let started = exchange(
        host,
        "POST",
        &format!("/v2/{repository}/blobs/uploads/"),
        None,
        &[],
    )?;
    expect_status(&started, "202", "starting an upload")?;
    let location = header(&started, "location")
        .ok_or_else(|| Error::Other(format!("no Location in {started}")))?;
    let path = match location.find("://") {
        Some(scheme) => {
            let rest = &location[scheme + 3..];
            rest.find('/')
                .map_or("/", |slash| &rest[slash..])
                .to_owned()
        }
        None => location.to_owned(),
    };
    let separator = if path.contains('?') { '&' } else { '?' };
    let put = exchange(
        host,
        "PUT",
        &format!("{path}{separator}digest={}", blob.digest),
        Some("application/octet-stream"),
        &blob.bytes,
    )?;
    expect_status(&put, "201", "finishing an upload")
}

/// Puts `manifest` to `repository` under `tag`, or by digest when `tag`
/// is `None`.
///
/// # Errors
/// A connection error or an answer other than 201.
pub fn upload_manifest(
    host: &str,
    repository: &str,
    tag: Option<&str>,
    manifest: &FixtureBlob,
) -> Result<()> {
    let selector = tag.unwrap_or(&manifest.digest);
    let answer = exchange(
        host,
        "PUT",
        &format!("/v2/{repository}/manifests/{selector}"),
        Some(&manifest.media_type),
        &manifest.bytes,
    )?;
    expect_status(&answer, "201", "putting a manifest")
}

/// Uploads an artifact's blobs, then its manifest by digest.
///
/// # Errors
/// As [`upload_blob`] and [`upload_manifest`].
pub fn upload_artifact(host: &str, repository: &str, artifact: &FixtureArtifact) -> Result<()> {
    upload_blob(host, repository, &artifact.config)?;
    upload_blob(host, repository, &artifact.payload)?;
    upload_manifest(host, repository, None, &artifact.manifest)
}

fn exchange(
    host: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<String> {
    let mut stream =
        TcpStream::connect(host).map_err(|e| Error::Other(format!("connecting to {host}: {e}")))?;
    let content_type = content_type
        .map(|t| format!("Content-Type: {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut answer = String::new();
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .and_then(|()| stream.read_to_string(&mut answer))
        .map_err(|e| Error::Other(format!("{method} {path} on {host}: {e}")))?;
    Ok(answer)
}

fn expect_status(answer: &str, status: &str, what: &str) -> Result<()> {
    if answer.starts_with(&format!("HTTP/1.1 {status}")) {
        Ok(())
    } else {
        Err(Error::Other(format!("{what}: {answer}")))
    }
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    let head = answer.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}
