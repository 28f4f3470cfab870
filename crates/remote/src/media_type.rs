//! Reading what a registry says a manifest is. The media types themselves
//! are the shared table of `hoist-oci`, re-exported here.

pub use hoist_oci::media_type::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, MANIFEST_ACCEPT, OCI_INDEX, OCI_MANIFEST, essence,
    is_manifest_type,
};

/// The `mediaType` field of a JSON document, when it has one.
pub(crate) fn declared_media_type(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
    }
    serde_json::from_slice::<Probe>(body).ok()?.media_type
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_content_type_has_its_parameters_stripped_and_a_body_its_media_type_read() {
        assert_eq!(
            essence("application/json; charset=utf-8"),
            "application/json"
        );
        assert_eq!(
            declared_media_type(br#"{"mediaType":"x","schemaVersion":2}"#).as_deref(),
            Some("x")
        );
    }
}
