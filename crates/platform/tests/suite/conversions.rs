//! oci-spec conversions and the OCI JSON form.

use hoist_platform::Platform;
use oci_spec::image::{Arch, Os, Platform as OciPlatform};

use crate::{p, raw};

#[test]
fn converts_to_and_from_oci_spec_without_loss() {
    let platforms = [
        raw("linux", "amd64", None),
        raw("linux", "arm", Some("v7")),
        raw("linux", "arm64", Some("v8")),
        raw("linux", "armbe", None),
        raw("linux", "386", None),
        raw("unknown", "unknown", None),
        raw("plan10", "quantum", Some("q1")),
        raw("windows", "amd64", None)
            .with_os_version("10.0.17763.1234")
            .with_os_features(["win32k"]),
    ];
    for platform in platforms {
        let oci = OciPlatform::from(&platform);
        assert_eq!(oci.os().to_string(), platform.os);
        assert_eq!(oci.architecture().to_string(), platform.architecture);
        assert_eq!(Platform::from(&oci), platform);
        assert_eq!(
            Platform::from(OciPlatform::from(platform.clone())),
            platform
        );
    }
}

#[test]
fn oci_spec_enums_map_to_go_names() {
    assert_eq!(
        OciPlatform::from(p("linux/amd64")).architecture(),
        &Arch::Amd64
    );
    assert_eq!(
        OciPlatform::from(p("linux/386")).architecture(),
        &Arch::i386
    );
    assert_eq!(
        OciPlatform::from(p("linux/armbe")).architecture(),
        &Arch::ARMbe
    );
    assert_eq!(OciPlatform::from(p("windows/arm64")).os(), &Os::Windows);
    let empty_features = OciPlatform::from(p("linux/amd64"));
    assert_eq!(empty_features.os_features(), &None);
    assert_eq!(empty_features.variant(), &None);
    assert_eq!(empty_features.os_version(), &None);
}

#[test]
fn serde_uses_oci_field_names() {
    let platform = raw("windows", "amd64", Some("v2"))
        .with_os_version("10.0.17763.1234")
        .with_os_features(["win32k"]);
    let json = serde_json::to_value(&platform).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "os": "windows",
            "architecture": "amd64",
            "variant": "v2",
            "os.version": "10.0.17763.1234",
            "os.features": ["win32k"],
        })
    );
    assert_eq!(serde_json::from_value::<Platform>(json).unwrap(), platform);
}

#[test]
fn serde_leaves_out_absent_optional_fields() {
    let json = serde_json::to_string(&raw("linux", "amd64", None)).unwrap();
    assert_eq!(json, r#"{"os":"linux","architecture":"amd64"}"#);
}

#[test]
fn deserializing_tolerates_what_real_indexes_contain() {
    let cases = [
        // Fields in any order, unknown and reserved fields ignored.
        (
            r#"{"architecture":"arm","variant":"v7","os":"linux","features":["sse4"],"x":1}"#,
            raw("linux", "arm", Some("v7")),
        ),
        // Explicit nulls.
        (
            r#"{"os":"linux","architecture":"amd64","variant":null,"os.version":null,"os.features":null}"#,
            raw("linux", "amd64", None),
        ),
        // buildx attestation entries.
        (
            r#"{"architecture":"unknown","os":"unknown"}"#,
            raw("unknown", "unknown", None),
        ),
        // A malformed entry without os: reads as empty, which never matches.
        (r#"{"architecture":"amd64"}"#, raw("", "amd64", None)),
        (r#"{}"#, Platform::default()),
    ];
    for (json, expected) in cases {
        assert_eq!(
            serde_json::from_str::<Platform>(json).unwrap(),
            expected,
            "{json}"
        );
    }
    assert!(serde_json::from_str::<Platform>(r#"{"os":1}"#).is_err());
}
