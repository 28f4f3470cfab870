//! Conversions to and from `oci_spec::image::Platform`.
//!
//! Both ways are lossless for the fields the OCI spec defines, except the
//! reserved `features` field, which [`Platform`] does not carry. Neither
//! direction normalizes.

use oci_spec::image::{Arch, Os, Platform as OciPlatform};

use crate::Platform;

impl From<&OciPlatform> for Platform {
    fn from(oci: &OciPlatform) -> Self {
        Platform {
            os: oci.os().to_string(),
            architecture: oci.architecture().to_string(),
            variant: oci.variant().clone(),
            os_version: oci.os_version().clone(),
            os_features: oci.os_features().clone().unwrap_or_default(),
        }
    }
}

impl From<OciPlatform> for Platform {
    fn from(oci: OciPlatform) -> Self {
        Platform::from(&oci)
    }
}

impl From<&Platform> for OciPlatform {
    fn from(platform: &Platform) -> Self {
        let mut oci = OciPlatform::default();
        oci.set_os(Os::from(platform.os.as_str()));
        oci.set_architecture(oci_arch(&platform.architecture));
        oci.set_variant(platform.variant.clone());
        oci.set_os_version(platform.os_version.clone());
        oci.set_os_features(
            (!platform.os_features.is_empty()).then(|| platform.os_features.clone()),
        );
        oci
    }
}

impl From<Platform> for OciPlatform {
    fn from(platform: Platform) -> Self {
        OciPlatform::from(&platform)
    }
}

/// oci-spec's `Arch` for a `GOARCH` name. oci-spec 0.10 reads `armbe` as
/// `arm64be`; that one name is mapped here by hand.
fn oci_arch(architecture: &str) -> Arch {
    match architecture {
        "armbe" => Arch::ARMbe,
        other => Arch::from(other),
    }
}
