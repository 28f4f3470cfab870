//! What else a platform runs, best first (containerd's `platformVector`):
//! the fallbacks of non-strict matching.

use crate::{Platform, normalize};

/// The highest x86-64 microarchitecture level (`GOAMD64`: v1 .. v4).
const HIGHEST_AMD64_LEVEL: u32 = 4;
/// The highest 32-bit arm version a platform names (`arm/v8`: arm64 CPUs in
/// 32-bit mode).
const HIGHEST_ARM_VERSION: u32 = 8;

/// `platform` (normalized) followed by the platforms it also runs, in order
/// of preference:
///
/// - `amd64/vN`: `amd64/v(N-1)` .. `amd64` (v1), then `386`;
/// - `arm/vN` (N > 5): `arm/v(N-1)` .. `arm/v5`;
/// - `arm64/vX.Y`: the arm64 variants it includes, newest first (a v9.x also
///   runs v8.(x+5) and below), then `arm/v8` .. `arm/v5`;
/// - anything else: only itself.
///
/// Every entry keeps the OS, OS version and OS features of `platform`.
/// Unlike containerd, an arm64 variant outside `v8`..`v8.9`, `v9`..`v9.7`
/// yields the platform itself instead of nothing, so matching stays reflexive.
/// Also unlike containerd, the fallbacks of a variant above the highest that
/// exists start at that highest (`amd64/v9` runs `amd64/v4` .. `amd64`):
/// the variant comes from user input and index entries, and
/// `arm/v4000000000` must not expand to four billion platforms.
pub(crate) fn compatible_platforms(platform: &Platform) -> Vec<Platform> {
    let platform = normalize(platform.clone());
    let with = |architecture: &str, variant: Option<String>| {
        normalize(Platform {
            architecture: architecture.to_owned(),
            variant,
            ..platform.clone()
        })
    };
    let mut platforms = vec![platform.clone()];
    match platform.architecture.as_str() {
        "amd64" => {
            if let Some(level) = numbered_variant(platform.variant_str()) {
                platforms.extend(
                    (1..level.min(HIGHEST_AMD64_LEVEL + 1))
                        .rev()
                        .map(|n| with("amd64", Some(format!("v{n}")))),
                );
            }
            platforms.push(with("386", None));
        }
        "arm" => {
            if let Some(version) = numbered_variant(platform.variant_str()) {
                platforms.extend(
                    (5..version.min(HIGHEST_ARM_VERSION + 1))
                        .rev()
                        .map(|n| with("arm", Some(format!("v{n}")))),
                );
            }
        }
        "arm64" => {
            let variant = platform.variant.as_deref().unwrap_or("v8");
            if let Some(included) = arm64_included_versions(variant) {
                platforms = included
                    .into_iter()
                    .map(|(major, minor)| {
                        let variant = if minor == 0 {
                            format!("v{major}")
                        } else {
                            format!("v{major}.{minor}")
                        };
                        with("arm64", Some(variant))
                    })
                    .collect();
                platforms.extend(compatible_platforms(&with("arm", Some("v8".to_owned()))));
            }
        }
        _ => {}
    }
    platforms
}

/// `N` of a variant spelled `vN`.
fn numbered_variant(variant: &str) -> Option<u32> {
    let digits = variant.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The arm64 versions an arm64 CPU of `variant` runs, newest first, as
/// (major, minor): `v8.x` runs v8.x .. v8.0; `v9.x` runs v9.x .. v9.0 and then
/// v8.(x+5) .. v8.0 (capped at v8.9). `None` for any other variant.
fn arm64_included_versions(variant: &str) -> Option<Vec<(u32, u32)>> {
    let version = variant.strip_prefix('v')?;
    let (major, minor) = match version.split_once('.') {
        Some((major, minor)) => (major, minor),
        None => (version, "0"),
    };
    let minor = match minor {
        "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" => minor.parse::<u32>().ok()?,
        _ => return None,
    };
    let ranges: Vec<(u32, u32)> = match major {
        "8" => vec![(8, minor)],
        "9" if minor <= 7 => vec![(9, minor), (8, (minor + 5).min(9))],
        _ => return None,
    };
    Some(
        ranges
            .into_iter()
            .flat_map(|(major, newest)| (0..=newest).rev().map(move |minor| (major, minor)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatted(platforms: &[Platform]) -> Vec<String> {
        platforms.iter().map(ToString::to_string).collect()
    }

    /// Found by the `platform` fuzz target: `linux/arm/v786717697` expanded
    /// to one platform per version below it, and ran out of memory.
    #[test]
    fn a_huge_variant_number_expands_to_the_variants_that_exist() {
        let arm = Platform::new("linux", "arm").with_variant("v786717697");
        assert_eq!(
            formatted(&compatible_platforms(&arm)),
            [
                "linux/arm/v786717697",
                "linux/arm/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5"
            ]
        );
        let amd64 = Platform::new("linux", "amd64").with_variant(format!("v{}", u32::MAX));
        assert_eq!(
            formatted(&compatible_platforms(&amd64)),
            [
                format!("linux/amd64/v{}", u32::MAX).as_str(),
                "linux/amd64/v4",
                "linux/amd64/v3",
                "linux/amd64/v2",
                "linux/amd64",
                "linux/386"
            ]
        );
    }

    #[test]
    fn variants_that_exist_keep_every_fallback() {
        let arm = Platform::new("linux", "arm").with_variant("v7");
        assert_eq!(
            formatted(&compatible_platforms(&arm)),
            ["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]
        );
        let amd64 = Platform::new("linux", "amd64").with_variant("v3");
        assert_eq!(
            formatted(&compatible_platforms(&amd64)),
            [
                "linux/amd64/v3",
                "linux/amd64/v2",
                "linux/amd64",
                "linux/386"
            ]
        );
    }
}
