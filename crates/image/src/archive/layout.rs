//! The OCI image layout's fixed files and paths.

use hoist_content::Digest;
use serde::Deserialize;

use crate::error::{Error, ErrorKind, Result};

/// The layout marker file.
pub(crate) const LAYOUT_FILE: &str = "oci-layout";
/// The layout's index.
pub(crate) const INDEX_FILE: &str = "index.json";
/// Docker's list of images in a `docker save` archive.
pub(crate) const DOCKER_MANIFEST_FILE: &str = "manifest.json";
/// The layout version hoist writes and reads.
pub(crate) const LAYOUT_VERSION: &str = "1.0.0";
/// The content of `oci-layout`.
pub(crate) const LAYOUT_JSON: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;

/// `blobs/<alg>/<hex>`.
pub(crate) fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.hex())
}

/// The digest a `blobs/<alg>/<hex>` path names, if it is one.
pub(crate) fn digest_of_blob_path(path: &str) -> Option<Digest> {
    let rest = path.strip_prefix("blobs/")?;
    let (algorithm, hex) = rest.split_once('/')?;
    format!("{algorithm}:{hex}").parse().ok()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Layout {
    image_layout_version: String,
}

/// Checks the content of `oci-layout`.
pub(crate) fn check_layout(raw: &[u8]) -> Result<()> {
    let layout: Layout = serde_json::from_slice(raw).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{LAYOUT_FILE} is not valid: {e}"),
        )
        .with_source(e)
    })?;
    if layout.image_layout_version != LAYOUT_VERSION {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{LAYOUT_FILE} says version {}, hoist reads {LAYOUT_VERSION}",
                layout.image_layout_version
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_paths_round_trip() {
        let digest = Digest::sha256_of(b"x");
        assert_eq!(digest_of_blob_path(&blob_path(&digest)), Some(digest));
        assert_eq!(digest_of_blob_path("blobs/sha256/zz"), None);
        assert_eq!(digest_of_blob_path("blobs/sha256"), None);
        assert_eq!(digest_of_blob_path("index.json"), None);
    }

    #[test]
    fn layout_version_is_checked() {
        assert!(check_layout(LAYOUT_JSON.as_bytes()).is_ok());
        assert!(
            check_layout(br#"{"imageLayoutVersion":"2.0.0"}"#)
                .unwrap_err()
                .is_unsupported()
        );
        assert!(check_layout(b"{}").unwrap_err().is_invalid_argument());
    }
}
