//! Referrers for tests: OCI 1.1 artifacts (a signature, an SBOM) whose
//! `subject` is a fixture's manifest, a whole signed image built from a
//! [`SignedImageSpec`], the fallback-tag index cosign and oras write on a
//! registry without the referrers API, and a plain-HTTP uploader to put
//! them on a test registry as those tools would.

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;

use crate::error::{Error, Result};
use crate::fixtures::{Fixture, FixtureBlob, FixtureSpec, oci};

/// The media type of the empty config artifacts use (`{}`).
pub const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";

/// The `artifactType` of a cosign signature.
pub const SIGNATURE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// The media type of a cosign signature's payload.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// The `artifactType` (and payload media type) of an SPDX SBOM.
pub const SBOM: &str = "application/spdx+json";

/// The annotation every SBOM of a [`SignedImage`] carries, with
/// [`SBOM_CREATED`] as its value.
pub const CREATED: &str = "org.opencontainers.image.created";

/// The value of [`CREATED`] on every SBOM of a [`SignedImage`].
pub const SBOM_CREATED: &str = "2026-01-01T00:00:00Z";

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

/// A cosign-style signature of `subject` whose payload names `what`.
pub fn signature_of(subject: &FixtureBlob, what: &str) -> FixtureArtifact {
    FixtureArtifact::new(
        subject,
        SIGNATURE,
        SIMPLE_SIGNING,
        format!("signature of {what}").as_bytes(),
        &[("dev.cosignproject.cosign/signature", "MEUCIQ")],
    )
}

/// The manifest digests of `artifacts`.
pub fn manifest_digests<'a>(
    artifacts: impl IntoIterator<Item = &'a FixtureArtifact>,
) -> BTreeSet<String> {
    artifacts
        .into_iter()
        .map(|a| a.manifest.digest.clone())
        .collect()
}

/// Which referrers one platform of a [`SignedImage`] gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformArtifacts {
    /// None at all.
    Nothing,
    /// A signature of its manifest.
    Signature,
    /// An SBOM of its manifest and a signature of the SBOM.
    SignedSbom,
    /// A signature, an SBOM and a signature of the SBOM.
    SignatureAndSignedSbom,
}

impl PlatformArtifacts {
    fn signature(self) -> bool {
        matches!(self, Self::Signature | Self::SignatureAndSignedSbom)
    }

    fn sbom(self) -> bool {
        matches!(self, Self::SignedSbom | Self::SignatureAndSignedSbom)
    }
}

/// How to build a [`SignedImage`]: the image, whether its index is signed,
/// and which referrers each platform gets.
#[derive(Debug, Clone)]
pub struct SignedImageSpec {
    fixture: FixtureSpec,
    index_signature: bool,
    every_platform: PlatformArtifacts,
    platforms: Vec<(String, PlatformArtifacts)>,
}

impl SignedImageSpec {
    /// The image of `fixture` with a signature of its index and, on every
    /// platform, a signature, an SBOM and a signature of the SBOM.
    pub fn new(fixture: FixtureSpec) -> SignedImageSpec {
        SignedImageSpec {
            fixture,
            index_signature: true,
            every_platform: PlatformArtifacts::SignatureAndSignedSbom,
            platforms: Vec::new(),
        }
    }

    /// No signature of the index.
    pub fn without_index_signature(mut self) -> SignedImageSpec {
        self.index_signature = false;
        self
    }

    /// `artifacts` on every platform not named by [`Self::platform`].
    pub fn every_platform(mut self, artifacts: PlatformArtifacts) -> SignedImageSpec {
        self.every_platform = artifacts;
        self
    }

    /// `artifacts` on `platform` (as the fixture spells it, e.g.
    /// `linux/arm64/v8`).
    pub fn platform(mut self, platform: &str, artifacts: PlatformArtifacts) -> SignedImageSpec {
        self.platforms.push((platform.to_owned(), artifacts));
        self
    }

    fn artifacts_of(&self, platform: &str) -> PlatformArtifacts {
        self.platforms
            .iter()
            .rfind(|(p, _)| p == platform)
            .map_or(self.every_platform, |(_, artifacts)| *artifacts)
    }

    /// Generates the image and its referrers; the same spec always gives
    /// the same digests.
    ///
    /// # Errors
    /// As [`Fixture::generate`], or when a platform named by
    /// [`Self::platform`] is not one of the image's.
    pub fn generate(&self) -> Result<SignedImage> {
        let fixture = Fixture::generate(&self.fixture)?;
        for (named, _) in &self.platforms {
            if !fixture
                .images
                .iter()
                .any(|i| &i.platform.to_text() == named)
            {
                return Err(Error::Other(format!(
                    "the signed image has no platform {named}"
                )));
            }
        }
        let index_signature = self.index_signature.then(|| {
            FixtureArtifact::new(
                &fixture.index,
                SIGNATURE,
                SIMPLE_SIGNING,
                b"index signature",
                &[("dev.cosignproject.cosign/signature", "MEUCIQ-index")],
            )
        });
        let platforms = fixture
            .images
            .iter()
            .map(|image| {
                let platform = image.platform.to_text();
                let artifacts = self.artifacts_of(&platform);
                let signature = artifacts
                    .signature()
                    .then(|| signature_of(&image.manifest, &platform));
                let sbom = artifacts.sbom().then(|| {
                    FixtureArtifact::new(
                        &image.manifest,
                        SBOM,
                        SBOM,
                        format!(r#"{{"spdxVersion":"SPDX-2.3","name":"{platform}"}}"#).as_bytes(),
                        &[(CREATED, SBOM_CREATED)],
                    )
                });
                let sbom_signature = sbom
                    .as_ref()
                    .map(|sbom| signature_of(&sbom.manifest, &format!("the SBOM of {platform}")));
                PlatformReferrers {
                    platform,
                    manifest: image.manifest.clone(),
                    signature,
                    sbom,
                    sbom_signature,
                }
            })
            .collect();
        Ok(SignedImage {
            fixture,
            index_signature,
            platforms,
        })
    }
}

/// A fixture image with referrers, as cosign and syft leave one: see
/// [`SignedImageSpec`].
#[derive(Debug, Clone)]
pub struct SignedImage {
    /// The image.
    pub fixture: Fixture,
    index_signature: Option<FixtureArtifact>,
    /// The referrers of each platform, in index order.
    pub platforms: Vec<PlatformReferrers>,
}

impl SignedImage {
    /// The signature of the index.
    ///
    /// # Panics
    /// When the spec asked for none: a mistake in the test.
    pub fn index_signature(&self) -> &FixtureArtifact {
        match &self.index_signature {
            Some(signature) => signature,
            None => panic!("the signed image was built without an index signature"),
        }
    }

    /// The referrers of `platform` (as the fixture spells it, e.g.
    /// `linux/arm64/v8`).
    ///
    /// # Panics
    /// When the image has no such platform: a mistake in the test.
    pub fn platform(&self, platform: &str) -> &PlatformReferrers {
        match self.platforms.iter().find(|p| p.platform == platform) {
            Some(referrers) => referrers,
            None => panic!("the signed image has no platform {platform}"),
        }
    }

    /// Every referrer: the index's signature, then each platform's in
    /// index order.
    pub fn all(&self) -> Vec<&FixtureArtifact> {
        self.index_signature
            .iter()
            .chain(self.platforms.iter().flat_map(PlatformReferrers::artifacts))
            .collect()
    }

    /// The referrers of `platforms`, recursively (an SBOM's signature too).
    pub fn of(&self, platforms: &[&str]) -> Vec<&FixtureArtifact> {
        platforms
            .iter()
            .flat_map(|p| self.platform(p).artifacts())
            .collect()
    }

    /// Every subject with referrers and the fallback-tag index listing
    /// them, as cosign and oras write it.
    pub fn fallback_indexes(&self) -> Vec<(&FixtureBlob, FixtureBlob)> {
        let mut indexes = Vec::new();
        if let Some(signature) = &self.index_signature {
            indexes.push((&self.fixture.index, fallback_index(&[signature])));
        }
        for platform in &self.platforms {
            let direct = platform.direct();
            if !direct.is_empty() {
                indexes.push((&platform.manifest, fallback_index(&direct)));
            }
            if let (Some(sbom), Some(signature)) = (&platform.sbom, &platform.sbom_signature) {
                indexes.push((&sbom.manifest, fallback_index(&[signature])));
            }
        }
        indexes
    }

    /// Uploads every referrer to `repository` on the plain-HTTP registry
    /// `host` and writes the fallback tags, as cosign and oras do on a
    /// registry without the referrers API. The image itself must be there
    /// already.
    ///
    /// # Errors
    /// As [`upload_artifact`] and [`upload_manifest`].
    pub fn upload_referrers(&self, host: &str, repository: &str) -> Result<()> {
        for artifact in self.all() {
            upload_artifact(host, repository, artifact)?;
        }
        for (subject, index) in self.fallback_indexes() {
            upload_manifest(host, repository, Some(&fallback_tag(subject)), &index)?;
        }
        Ok(())
    }
}

/// The referrers of one platform of a [`SignedImage`].
#[derive(Debug, Clone)]
pub struct PlatformReferrers {
    /// The platform, as the fixture spells it (e.g. `linux/arm64/v8`).
    pub platform: String,
    /// Its manifest: the subject of its signature and SBOM.
    pub manifest: FixtureBlob,
    signature: Option<FixtureArtifact>,
    sbom: Option<FixtureArtifact>,
    sbom_signature: Option<FixtureArtifact>,
}

impl PlatformReferrers {
    /// The signature of its manifest.
    ///
    /// # Panics
    /// When the spec gave this platform none: a mistake in the test.
    pub fn signature(&self) -> &FixtureArtifact {
        self.expect(self.signature.as_ref(), "signature")
    }

    /// The SBOM of its manifest.
    ///
    /// # Panics
    /// When the spec gave this platform none: a mistake in the test.
    pub fn sbom(&self) -> &FixtureArtifact {
        self.expect(self.sbom.as_ref(), "SBOM")
    }

    /// The signature of its SBOM.
    ///
    /// # Panics
    /// When the spec gave this platform no SBOM: a mistake in the test.
    pub fn sbom_signature(&self) -> &FixtureArtifact {
        self.expect(self.sbom_signature.as_ref(), "SBOM signature")
    }

    /// Its referrers, recursively: signature, SBOM, the SBOM's signature
    /// (those it has).
    pub fn artifacts(&self) -> Vec<&FixtureArtifact> {
        [&self.signature, &self.sbom, &self.sbom_signature]
            .into_iter()
            .flatten()
            .collect()
    }

    /// The referrers whose subject is its manifest: signature and SBOM
    /// (those it has), what its fallback tag lists.
    pub fn direct(&self) -> Vec<&FixtureArtifact> {
        [&self.signature, &self.sbom]
            .into_iter()
            .flatten()
            .collect()
    }

    fn expect<'a>(&self, artifact: Option<&'a FixtureArtifact>, what: &str) -> &'a FixtureArtifact {
        match artifact {
            Some(artifact) => artifact,
            None => panic!("{} was built without a {what}", self.platform),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SignedImageSpec {
        SignedImageSpec::new(FixtureSpec::four_platforms(5, 1024, 256))
    }

    #[test]
    fn the_spec_chooses_each_platforms_referrers_and_the_fallback_tags_follow() {
        let signed = spec()
            .without_index_signature()
            .every_platform(PlatformArtifacts::Nothing)
            .platform("linux/arm64/v8", PlatformArtifacts::SignatureAndSignedSbom)
            .platform("linux/amd64", PlatformArtifacts::Signature)
            .platform("linux/s390x", PlatformArtifacts::SignedSbom)
            .generate()
            .unwrap();
        assert!(signed.index_signature.is_none());
        let arm = signed.platform("linux/arm64/v8");
        assert_eq!(arm.artifacts().len(), 3);
        assert_eq!(
            manifest_digests(arm.direct()),
            manifest_digests([arm.signature(), arm.sbom()])
        );
        assert_eq!(signed.platform("linux/amd64").artifacts().len(), 1);
        assert!(signed.platform("linux/arm/v7").artifacts().is_empty());
        let s390x = signed.platform("linux/s390x");
        assert!(s390x.signature.is_none());
        assert_eq!(
            manifest_digests(s390x.artifacts()),
            manifest_digests([s390x.sbom(), s390x.sbom_signature()])
        );
        assert_eq!(signed.all().len(), 3 + 1 + 2);
        // Every subject with a referrer has a tag; arm/v7 has none.
        let subjects: BTreeSet<String> = signed
            .fallback_indexes()
            .iter()
            .map(|(subject, _)| subject.digest.clone())
            .collect();
        let expected: BTreeSet<String> = [
            &arm.manifest,
            &arm.sbom().manifest,
            &signed.platform("linux/amd64").manifest,
            &s390x.manifest,
            &s390x.sbom().manifest,
        ]
        .iter()
        .map(|blob| blob.digest.clone())
        .collect();
        assert_eq!(subjects, expected);
    }

    #[test]
    fn by_default_the_index_and_every_platform_are_signed_and_described() {
        let signed = spec().generate().unwrap();
        assert_eq!(signed.all().len(), 1 + 4 * 3);
        assert_eq!(signed.fallback_indexes().len(), 1 + 4 * 2);
        let (subject, index) = &signed.fallback_indexes()[0];
        assert_eq!(subject.digest, signed.fixture.index.digest);
        assert_eq!(
            index.bytes,
            fallback_index(&[signed.index_signature()]).bytes
        );
        assert_eq!(
            signed.platform("linux/amd64").sbom().annotations[CREATED],
            SBOM_CREATED
        );
        assert_eq!(
            spec().generate().unwrap().all()[5].manifest.digest,
            signed.all()[5].manifest.digest,
            "the same spec gives the same digests"
        );
    }

    #[test]
    fn a_platform_the_image_lacks_is_an_error() {
        let error = spec()
            .platform("linux/riscv64", PlatformArtifacts::Signature)
            .generate()
            .unwrap_err();
        assert!(error.to_string().contains("linux/riscv64"), "{error}");
    }
}
