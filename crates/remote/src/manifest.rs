//! Manifests: resolve a reference (`HEAD`, then `GET` when the `HEAD` says
//! too little), fetch by tag or digest with the digest and the size limit
//! checked, push by digest or by tag.

use bytes::Bytes;
use hoist_content::Digest;
use hoist_oci::Descriptor;
use reqwest::Method;

use crate::auth::scope::Scopes;
use crate::client::{Call, CallBody, Client, Need, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::media_type::{MANIFEST_ACCEPT, declared_media_type, essence, is_manifest_type};
use crate::reference::{Reference, Repository};
use crate::transport::{read_limited, status_error};

/// A manifest's exact bytes and what they are.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Media type, digest and size.
    pub descriptor: Descriptor,
    /// The bytes as the registry served them (verified against the digest).
    pub bytes: Bytes,
}

/// What a registry answered to a manifest push.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushedManifest {
    /// Media type, digest and size of what was pushed.
    pub descriptor: Descriptor,
    /// The `OCI-Subject` header of the answer: a registry with the referrers
    /// API sends it when the manifest had a `subject` it indexed, so the
    /// pusher need not maintain the fallback tag.
    pub oci_subject: Option<Digest>,
}

/// Where a manifest is pushed: by digest (children of an index) or by tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestTarget<'a> {
    /// `PUT /v2/<name>/manifests/<digest>`.
    Digest,
    /// `PUT /v2/<name>/manifests/<tag>`.
    Tag(&'a str),
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

impl Client {
    /// Resolves `reference` to a descriptor with `HEAD` (and `GET` when the
    /// registry's `HEAD` lacks a digest or media type).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when the registry has no such manifest;
    /// [`ErrorKind::DigestMismatch`] when a pinned digest disagrees with the
    /// registry's; auth, transport and size errors as for every call.
    pub async fn resolve(&self, reference: &Reference) -> Result<Descriptor> {
        let need = if reference.digest().is_some() {
            Need::Pull
        } else {
            Need::Resolve
        };
        self.on_targets(reference.registry(), need, move |target| async move {
            self.resolve_at(&target, reference).await
        })
        .await
    }

    async fn resolve_at(&self, target: &Target, reference: &Reference) -> Result<Descriptor> {
        let context = format!("resolving {reference}");
        let url = target.url(&format!(
            "/{}/manifests/{}",
            reference.repository(),
            reference.manifest_selector()
        ))?;
        let call = Call::new(
            Method::HEAD,
            url,
            Scopes::pull(reference.repository()),
            context.clone(),
        )
        .header("Accept", MANIFEST_ACCEPT);
        let response = self.execute(target, call).await?;
        let status = response.status().as_u16();
        if status == 404 {
            return Err(not_found(reference));
        }
        if status != 200 {
            // Some registries do not answer HEAD; GET tells the same.
            return Ok(self.get_at(target, reference).await?.descriptor);
        }
        let digest =
            header(&response, "docker-content-digest").and_then(|d| d.parse::<Digest>().ok());
        let media_type = header(&response, "content-type")
            .map(essence)
            .filter(|m| is_manifest_type(m));
        let size = header(&response, "content-length").and_then(|l| l.parse::<u64>().ok());
        match (digest, media_type, size) {
            (Some(digest), Some(media_type), Some(size)) => {
                if let Some(pinned) = reference.digest()
                    && *pinned != digest
                {
                    return Err(Error::new(
                        ErrorKind::DigestMismatch,
                        format!("{context}: the registry names digest {digest}"),
                    ));
                }
                if size > self.inner.options.max_manifest_size {
                    return Err(too_large(
                        reference,
                        size,
                        self.inner.options.max_manifest_size,
                    ));
                }
                Ok(Descriptor::new(media_type, digest, size))
            }
            _ => Ok(self.get_at(target, reference).await?.descriptor),
        }
    }

    /// Fetches the manifest `digest` from `repository`, verified.
    ///
    /// # Errors
    /// As [`Client::get_manifest`].
    pub async fn fetch_manifest(
        &self,
        repository: &Repository,
        digest: &Digest,
    ) -> Result<Manifest> {
        let reference = &repository.pinned(digest.clone());
        self.on_targets(
            repository.registry(),
            Need::Pull,
            move |target| async move { self.get_at(&target, reference).await },
        )
        .await
    }

    /// Fetches what `reference` names with one `GET` (by tag or digest),
    /// verified against the pinned digest, or else against the registry's
    /// `Docker-Content-Digest`: one round trip where `HEAD` and then `GET` by
    /// digest take two, which is what a far registry makes count.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`]; [`ErrorKind::TooLarge`] past
    /// [`crate::ClientOptions::max_manifest_size`];
    /// [`ErrorKind::DigestMismatch`] when the bytes do not hash to the
    /// pinned digest or to the registry's `Docker-Content-Digest`.
    pub async fn get_manifest(&self, reference: &Reference) -> Result<Manifest> {
        let need = if reference.digest().is_some() {
            Need::Pull
        } else {
            Need::Resolve
        };
        self.on_targets(reference.registry(), need, move |target| async move {
            self.get_at(&target, reference).await
        })
        .await
    }

    async fn get_at(&self, target: &Target, reference: &Reference) -> Result<Manifest> {
        let context = format!("fetching manifest {reference}");
        let limit = self.inner.options.max_manifest_size;
        let url = target.url(&format!(
            "/{}/manifests/{}",
            reference.repository(),
            reference.manifest_selector()
        ))?;
        let call = Call::new(
            Method::GET,
            url,
            Scopes::pull(reference.repository()),
            context.clone(),
        )
        .header("Accept", MANIFEST_ACCEPT);
        let response = self.execute(target, call).await?;
        let status = response.status().as_u16();
        if status == 404 {
            return Err(not_found(reference));
        }
        if status != 200 {
            return Err(status_error(response, context).await);
        }
        if let Some(length) =
            header(&response, "content-length").and_then(|l| l.parse::<u64>().ok())
            && length > limit
        {
            return Err(too_large(reference, length, limit));
        }
        let announced =
            header(&response, "docker-content-digest").and_then(|d| d.parse::<Digest>().ok());
        let content_type = header(&response, "content-type").map(|c| essence(c).to_owned());
        let bytes = read_limited(response, limit).await.ok_or_else(|| {
            Error::new(
                ErrorKind::TooLarge,
                format!("{context}: larger than the {limit}-byte manifest limit, or cut off"),
            )
        })?;
        let expected = reference.digest().or(announced.as_ref());
        let digest = match expected {
            Some(expected) => {
                let computed = Digest::of(expected.algorithm(), &bytes);
                if computed != *expected {
                    return Err(Error::new(
                        ErrorKind::DigestMismatch,
                        format!("{context}: the body hashes to {computed}, expected {expected}"),
                    ));
                }
                computed
            }
            None => Digest::sha256_of(&bytes),
        };
        if let (Some(pinned), Some(announced)) = (reference.digest(), &announced)
            && pinned.algorithm() == announced.algorithm()
            && pinned != announced
        {
            return Err(Error::new(
                ErrorKind::DigestMismatch,
                format!("{context}: the registry announces {announced}"),
            ));
        }
        let media_type = content_type
            .filter(|m| is_manifest_type(m))
            .or_else(|| declared_media_type(&bytes))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Protocol,
                    format!("{context}: the manifest has no media type"),
                )
            })?;
        Ok(Manifest {
            descriptor: Descriptor::new(media_type, digest, bytes.len() as u64),
            bytes,
        })
    }

    /// Whether `repository`, at the endpoint pushes go to, holds the
    /// manifest `digest` (`HEAD` by digest). A registry accepts a manifest
    /// only once every blob it names is in the repository, so a push can
    /// skip the blobs of a manifest that is there, as containerd's does.
    ///
    /// # Errors
    /// Auth and transport errors; any answer but 200 or 404.
    pub async fn manifest_exists(&self, repository: &Repository, digest: &Digest) -> Result<bool> {
        let context = format!("asking {repository} for manifest {digest}");
        let found = self
            .head_where_pushes_go(repository, digest.as_str(), context)
            .await?;
        Ok(found.is_some())
    }

    /// The digest `tag` of `repository` names at the endpoint pushes go to
    /// (`HEAD` by tag, with the push's scopes so no second token is
    /// needed): `None` when the tag does not exist or the registry's answer
    /// names no digest. A push asks it alongside its other questions, and
    /// writes nothing when the tag already names what it would push.
    ///
    /// # Errors
    /// Auth and transport errors; any answer but 200 or 404.
    pub async fn tag_digest(&self, repository: &Repository, tag: &str) -> Result<Option<Digest>> {
        let context = format!("asking {repository} what tag {tag} names");
        let found = self.head_where_pushes_go(repository, tag, context).await?;
        Ok(found.flatten())
    }

    /// `HEAD` of manifest `selector` at the push endpoint, with push scopes:
    /// `None` on 404, else the `Docker-Content-Digest` it names (if any).
    async fn head_where_pushes_go(
        &self,
        repository: &Repository,
        selector: &str,
        context: String,
    ) -> Result<Option<Option<Digest>>> {
        let endpoint = self.push_target(repository).await?;
        let url = endpoint.url(&format!("/{}/manifests/{selector}", repository.name()))?;
        let call = Call::new(
            Method::HEAD,
            url,
            Scopes::push(repository.name()),
            context.clone(),
        )
        .header("Accept", MANIFEST_ACCEPT);
        let response = self.execute(&endpoint, call).await?;
        match response.status().as_u16() {
            200 => Ok(Some(
                header(&response, "docker-content-digest").and_then(|d| d.parse().ok()),
            )),
            404 => Ok(None),
            _ => Err(status_error(response, context).await),
        }
    }

    /// Pushes a manifest's exact bytes to `repository`, by digest or by tag,
    /// with its media type, and checks the registry computed the same digest.
    ///
    /// # Errors
    /// [`ErrorKind::TooLarge`] past the manifest limit (nothing is sent);
    /// [`ErrorKind::FailedPrecondition`] when the registry lacks a blob or
    /// child manifest it names (`MANIFEST_BLOB_UNKNOWN`);
    /// [`ErrorKind::DigestMismatch`] when the registry's digest differs.
    pub async fn put_manifest(
        &self,
        repository: &Repository,
        target: ManifestTarget<'_>,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<Descriptor> {
        Ok(self
            .put_manifest_answered(repository, target, media_type, bytes)
            .await?
            .descriptor)
    }

    /// [`Client::put_manifest`], also returning what the answer says about
    /// the referrers API (its `OCI-Subject` header).
    ///
    /// # Errors
    /// As [`Client::put_manifest`].
    pub async fn put_manifest_answered(
        &self,
        repository: &Repository,
        target: ManifestTarget<'_>,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<PushedManifest> {
        let digest = Digest::sha256_of(&bytes);
        let selector = match target {
            ManifestTarget::Digest => digest.to_string(),
            ManifestTarget::Tag(tag) => repository.tagged(tag)?.tag().unwrap_or(tag).to_owned(),
        };
        let context = format!("pushing manifest {digest} to {repository}:{selector}");
        let limit = self.inner.options.max_manifest_size;
        if bytes.len() as u64 > limit {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!(
                    "{context}: {} bytes is over the {limit}-byte manifest limit",
                    bytes.len()
                ),
            ));
        }
        let targets = self.targets(repository.registry(), Need::Push).await?;
        let Some(endpoint) = targets.first() else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{context}: no push endpoint"),
            ));
        };
        let url = endpoint.url(&format!("/{}/manifests/{selector}", repository.name()))?;
        let size = bytes.len() as u64;
        let call = Call::new(
            Method::PUT,
            url,
            Scopes::push(repository.name()),
            context.clone(),
        )
        .header("Content-Type", media_type)
        .body(CallBody::Bytes(bytes));
        let response = self.execute(endpoint, call).await?;
        let status = response.status().as_u16();
        if status != 201 && status != 200 {
            return Err(status_error(response, context).await);
        }
        if let Some(announced) =
            header(&response, "docker-content-digest").and_then(|d| d.parse::<Digest>().ok())
            && announced != digest
        {
            return Err(Error::new(
                ErrorKind::DigestMismatch,
                format!("{context}: the registry stored it as {announced}"),
            ));
        }
        let oci_subject = header(&response, "oci-subject").and_then(|d| d.parse::<Digest>().ok());
        Ok(PushedManifest {
            descriptor: Descriptor::new(media_type, digest, size),
            oci_subject,
        })
    }
}

fn not_found(reference: &Reference) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("manifest {reference} not found"),
    )
    .with_status(404)
}

fn too_large(reference: &Reference, size: u64, limit: u64) -> Error {
    Error::new(
        ErrorKind::TooLarge,
        format!("manifest {reference} is {size} bytes, over the {limit}-byte limit"),
    )
}
