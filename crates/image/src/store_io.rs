//! Reading documents and configs from a content store, checking presence, and
//! writing new documents with the labels the garbage collector follows.

use std::io::Read;

use hoist_content::{Digest, Ingester, Manager, Provider};
use hoist_platform::Platform;
use serde_json::Value;

use crate::Descriptor;
use crate::document::{self, Document, MAX_DOCUMENT_SIZE};
use crate::error::{Detail, Error, ErrorKind, Result};

/// The largest image config hoist reads. Configs carry the build history and
/// can outgrow a manifest; 16 MiB is far above any seen in practice and
/// still bounds what one read holds in memory.
pub const MAX_CONFIG_SIZE: u64 = 16 * 1024 * 1024;

/// Reads and parses the manifest or index `descriptor` points at.
///
/// # Errors
/// Not-found if the blob is absent; data-loss if its size or digest is not
/// the descriptor's; the parse errors of [`Document::parse`].
pub fn read_document<P: Provider + ?Sized>(
    provider: &P,
    descriptor: &Descriptor,
) -> Result<Document> {
    if descriptor.size > MAX_DOCUMENT_SIZE {
        return Err(document::too_big(&descriptor.digest, descriptor.size));
    }
    let raw = read_small(provider, descriptor, MAX_DOCUMENT_SIZE, "document")?;
    Document::parse(raw, descriptor)
}

/// Reads the platform an image config declares (`os`, `architecture`,
/// `variant`, `os.version`, `os.features`), normalized.
///
/// # Errors
/// Not-found if the config is absent; data-loss if its size is not the
/// descriptor's; invalid-argument if it is not a JSON object.
pub fn read_config_platform<P: Provider + ?Sized>(
    provider: &P,
    config: &Descriptor,
) -> Result<Platform> {
    let raw = read_small(provider, config, MAX_CONFIG_SIZE, "config")?;
    let digest = &config.digest;
    let actual = Digest::of(digest.algorithm(), &raw);
    if &actual != digest {
        return Err(Error::new(
            ErrorKind::DataLoss,
            format!("config {digest} has the wrong content: its bytes hash to {actual}"),
        )
        .with_digest(digest)
        .with_detail(Detail::DigestMismatch {
            expected: digest.clone(),
            actual,
        }));
    }
    platform_of_config(&raw).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("config {digest} does not name a platform: {e}"),
        )
        .with_digest(digest)
        .with_source(e)
    })
}

/// The platform a config's bytes declare, normalized.
pub(crate) fn platform_of_config(raw: &[u8]) -> std::result::Result<Platform, serde_json::Error> {
    let platform: Platform = serde_json::from_slice(raw)?;
    Ok(platform.normalized())
}

/// Reads a whole blob of at most `cap` bytes, checking its size against the descriptor's.
pub(crate) fn read_small<P: Provider + ?Sized>(
    provider: &P,
    descriptor: &Descriptor,
    cap: u64,
    what: &str,
) -> Result<Vec<u8>> {
    let digest = &descriptor.digest;
    if descriptor.size > cap {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{what} {digest} is {} bytes, over hoist's {} MiB limit",
                descriptor.size,
                cap / (1024 * 1024)
            ),
        )
        .with_digest(digest));
    }
    let mut reader = provider
        .reader(digest)
        .map_err(|e| Error::content(format!("reading {what} {digest}"), e).with_digest(digest))?;
    if reader.size() != descriptor.size {
        return Err(size_mismatch(what, digest, descriptor.size, reader.size()));
    }
    let mut raw = Vec::with_capacity(usize::try_from(descriptor.size).unwrap_or(0));
    (&mut reader)
        .take(cap + 1)
        .read_to_end(&mut raw)
        .map_err(|e| {
            Error::new(ErrorKind::Io, format!("reading {what} {digest}: {e}"))
                .with_digest(digest)
                .with_source(e)
        })?;
    if raw.len() as u64 != descriptor.size {
        return Err(size_mismatch(
            what,
            digest,
            descriptor.size,
            raw.len() as u64,
        ));
    }
    Ok(raw)
}

fn size_mismatch(what: &str, digest: &Digest, expected: u64, actual: u64) -> Error {
    Error::new(
        ErrorKind::DataLoss,
        format!("{what} {digest} is {actual} bytes, but its descriptor says {expected}"),
    )
    .with_digest(digest)
    .with_detail(Detail::SizeMismatch { expected, actual })
}

/// True if the blob `digest` is committed in the store.
///
/// # Errors
/// Any store error other than not-found.
pub fn exists<M: Manager + ?Sized>(manager: &M, digest: &Digest) -> Result<bool> {
    match manager.info(digest) {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(Error::content(format!("looking up {digest}"), e).with_digest(digest)),
    }
}

/// The stored size of `digest`, or `None` when it is absent.
pub(crate) fn stored_size<M: Manager + ?Sized>(
    manager: &M,
    digest: &Digest,
) -> Result<Option<u64>> {
    match manager.info(digest) {
        Ok(info) => Ok(Some(info.size)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(Error::content(format!("looking up {digest}"), e).with_digest(digest)),
    }
}

/// Stores a new manifest or index, byte for byte, with the
/// `containerd.io/gc.ref.content.*` labels of its children, and returns it parsed.
/// Writing a document that is already stored is a success.
///
/// # Errors
/// The parse errors of [`Document::from_bytes`]; the store's errors.
pub fn write_document<I: Ingester + ?Sized>(
    ingester: &I,
    raw: Vec<u8>,
    media_type: &str,
) -> Result<Document> {
    let document = Document::from_bytes(raw, Some(media_type))?;
    store_document(ingester, &document)?;
    Ok(document)
}

/// Stores `document`'s raw bytes with its GC labels.
pub(crate) fn store_document<I: Ingester + ?Sized>(
    ingester: &I,
    document: &Document,
) -> Result<()> {
    let digest = document.digest();
    let raw = document.raw();
    // The blob store makes the bytes durable and publishes them with one
    // rename; the labels travel with that commit, so a reader never sees the
    // document without the edges that keep its children alive.
    hoist_content::write_blob(
        ingester,
        &format!("hoist-document-{}", digest.hex()),
        raw,
        digest,
        raw.len() as u64,
        document.gc_labels(),
    )
    .map(drop)
    .map_err(|e| Error::content(format!("storing document {digest}"), e).with_digest(digest))
}

/// Serializes `value` compactly with every object's keys sorted, so a new
/// document has one byte form whatever the order it was built in (and
/// whatever features of serde_json other crates turn on).
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            out.push(b'{');
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(&Value::String(key.clone()), out);
                out.push(b':');
                if let Some(child) = map.get(key) {
                    write_canonical(child, out);
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Value, out: &mut Vec<u8>) {
    // Writing a string, number, bool or null into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let value: Value =
            serde_json::from_str(r#"{"b":1,"a":{"z":[{"y":1,"x":"\u00e9\n"}],"c":null}}"#).unwrap();
        assert_eq!(
            String::from_utf8(canonical_json(&value)).unwrap(),
            "{\"a\":{\"c\":null,\"z\":[{\"x\":\"é\\n\",\"y\":1}]},\"b\":1}"
        );
    }

    #[test]
    fn config_platform_keeps_os_version_and_normalizes() {
        let raw =
            br#"{"architecture":"aarch64","os":"linux","variant":"v8","rootfs":{"type":"layers"}}"#;
        let platform = platform_of_config(raw).unwrap();
        assert_eq!(platform.to_string(), "linux/arm64");
        let raw = br#"{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1"}"#;
        assert_eq!(
            platform_of_config(raw).unwrap().os_version.as_deref(),
            Some("10.0.17763.1")
        );
    }
}
