//! Normalization: one spelling for every alias, so platforms compare by value.
//!
//! The table is containerd's (`platforms/database.go`), applied case-insensitively.

use crate::Platform;

/// `platform` with every alias replaced by its canonical spelling.
///
/// - OS: lower-cased; `macos` -> `darwin`.
/// - Architecture and variant: lower-cased, then
///   `x86_64`/`x86-64` -> `amd64` (variant `v1` -> none);
///   `i386` -> `386` (variant dropped);
///   `aarch64` -> `arm64`; `arm64` variant `8`/`v8`/`v8.0` -> none, `9`/`9.0`/`v9.0` -> `v9`;
///   `armhf` -> `arm/v7`; `armel` -> `arm/v6`;
///   `arm` with no variant or `7` -> `arm/v7`, `5`/`6`/`8` -> `v5`/`v6`/`v8`.
/// - An empty variant or OS version becomes `None`.
/// - OS features: sorted, duplicates and empty entries removed.
///
/// Unlike containerd, an empty OS stays empty instead of becoming the host's:
/// an index entry without an OS must not look like one built for this host.
///
/// Normalizing twice changes nothing.
pub fn normalize(mut platform: Platform) -> Platform {
    platform.os = normalize_os(&platform.os);
    let (architecture, variant) = normalize_arch(&platform.architecture, platform.variant_str());
    platform.architecture = architecture;
    platform.variant = (!variant.is_empty()).then_some(variant);
    if platform.os_version.as_deref() == Some("") {
        platform.os_version = None;
    }
    platform.os_features.retain(|feature| !feature.is_empty());
    platform.os_features.sort_unstable();
    platform.os_features.dedup();
    platform
}

/// The canonical spelling of an OS name.
pub(crate) fn normalize_os(os: &str) -> String {
    let os = os.to_ascii_lowercase();
    match os.as_str() {
        "macos" => "darwin".to_owned(),
        _ => os,
    }
}

/// The canonical spelling of an architecture and its variant (`""` = none).
pub(crate) fn normalize_arch(architecture: &str, variant: &str) -> (String, String) {
    let architecture = architecture.to_ascii_lowercase();
    let variant = variant.to_ascii_lowercase();
    let (architecture, variant): (&str, &str) = match architecture.as_str() {
        "i386" => ("386", ""),
        "x86_64" | "x86-64" | "amd64" => ("amd64", if variant == "v1" { "" } else { &variant }),
        "aarch64" | "arm64" => (
            "arm64",
            match variant.as_str() {
                "8" | "v8" | "v8.0" => "",
                "9" | "9.0" | "v9.0" => "v9",
                other => other,
            },
        ),
        "armhf" => ("arm", "v7"),
        "armel" => ("arm", "v6"),
        "arm" => (
            "arm",
            match variant.as_str() {
                "" | "7" => "v7",
                "5" => "v5",
                "6" => "v6",
                "8" => "v8",
                other => other,
            },
        ),
        other => (other, &variant),
    };
    (architecture.to_owned(), variant.to_owned())
}
