//! Property tests: formatting round-trips through parsing to the normalized
//! platform, and every matcher accepts the platform it was built from.

use hoist_platform::{
    Matcher, Platform, format, format_all, normalize, only, only_strict, ordered, parse,
};
use proptest::prelude::*;

/// `text` with the case of each ASCII letter flipped where `bits` says so.
fn mix_case(text: &str, bits: u64) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            if bits >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// Known names and aliases in random case, or arbitrary valid components.
fn name(known: &'static [&'static str], free: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (prop::sample::select(known), any::<u64>()).prop_map(|(s, bits)| mix_case(s, bits)),
        1 => free,
    ]
}

fn os() -> impl Strategy<Value = String> {
    name(
        &["linux", "windows", "darwin", "macos", "freebsd", "unknown"],
        "[A-Za-z0-9_-]{1,8}",
    )
}

fn architecture() -> impl Strategy<Value = String> {
    name(
        &[
            "amd64", "x86_64", "x86-64", "386", "i386", "arm64", "aarch64", "arm", "armhf",
            "armel", "ppc64le", "s390x", "riscv64", "unknown",
        ],
        "[A-Za-z0-9_.-]{1,8}",
    )
}

fn variant() -> impl Strategy<Value = Option<String>> {
    prop::option::of(name(
        &[
            "", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "5", "6", "7", "8", "9",
            "v8.0", "v8.2", "v8.9", "v9.0", "9.0", "v9.5", "v9.7",
        ],
        "[A-Za-z0-9_.-]{1,6}",
    ))
}

fn os_version() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        "10\\.0\\.(14393|17763|20348|22621|26100)(\\.[0-9]{1,4})?",
        ".{0,12}",
    ])
}

fn os_features() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(prop_oneof!["win32k", "gpu", ".{0,6}"], 0..4)
}

/// Platforms with a valid OS and architecture, not normalized.
fn platform() -> impl Strategy<Value = Platform> {
    (os(), architecture(), variant(), os_version(), os_features()).prop_map(
        |(os, architecture, variant, os_version, os_features)| Platform {
            os,
            architecture,
            variant,
            os_version,
            os_features,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_of_format_is_normalize(platform in platform()) {
        let short = Platform {
            os_version: None,
            os_features: Vec::new(),
            ..platform.clone()
        };
        prop_assert_eq!(parse(&format(&platform)).unwrap(), normalize(short));
    }

    #[test]
    fn parse_of_format_all_is_normalize(platform in platform()) {
        prop_assert_eq!(parse(&format_all(&platform)).unwrap(), normalize(platform));
    }

    #[test]
    fn normalize_is_idempotent(platform in platform()) {
        let once = normalize(platform);
        prop_assert_eq!(normalize(once.clone()), once);
    }

    #[test]
    fn matching_is_reflexive_after_normalization(platform in platform()) {
        let normalized = normalize(platform.clone());
        for (name, matcher) in [
            ("only", only(platform.clone())),
            ("only_strict", only_strict(platform.clone())),
            ("ordered", ordered([platform.clone()])),
            ("any", hoist_platform::any([platform.clone()])),
            ("only of normalized", only(normalized.clone())),
        ] {
            prop_assert!(matcher.matches(&normalized), "{} rejects {:?}", name, normalized);
            prop_assert!(matcher.matches(&platform), "{} rejects {:?}", name, platform);
            prop_assert!(!matcher.less(&normalized, &normalized), "{} orders {:?} before itself", name, normalized);
        }
    }

    #[test]
    fn only_accepts_what_only_strict_accepts(wanted in platform(), candidate in platform()) {
        if only_strict(wanted.clone()).matches(&candidate) {
            prop_assert!(only(wanted).matches(&candidate));
        }
    }

    #[test]
    fn parse_never_panics_and_its_results_round_trip(input in ".{0,24}") {
        if let Ok(platform) = parse(&input) {
            prop_assert_eq!(normalize(platform.clone()), platform.clone());
            prop_assert_eq!(parse(&format_all(&platform)).unwrap(), platform);
        } else {
            let error = parse(&input).unwrap_err();
            prop_assert!(error.is_invalid_argument());
            let quoted = format!("{input:?}");
            prop_assert!(error.to_string().contains(&quoted), "{} lacks {}", error, quoted);
        }
    }

    #[test]
    fn parse_never_panics_on_specifier_shaped_input(
        input in "[A-Za-z0-9_.%+()/*-]{0,24}",
    ) {
        if let Ok(platform) = parse(&input) {
            prop_assert_eq!(parse(&format_all(&platform)).unwrap(), platform);
        }
    }
}
