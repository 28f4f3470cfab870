//! Every alias of DESIGN.md and containerd's database, case-insensitively.

use hoist_platform::{Platform, normalize};

use crate::raw;

/// (os, arch, variant) in, (os, arch, variant) out.
type Case = (
    (&'static str, &'static str, Option<&'static str>),
    (&'static str, &'static str, Option<&'static str>),
);

const ALIASES: &[Case] = &[
    // OS
    (("linux", "amd64", None), ("linux", "amd64", None)),
    (("macos", "arm64", None), ("darwin", "arm64", None)),
    (("MacOS", "arm64", None), ("darwin", "arm64", None)),
    (("Linux", "amd64", None), ("linux", "amd64", None)),
    (("WINDOWS", "amd64", None), ("windows", "amd64", None)),
    // amd64
    (("linux", "x86_64", None), ("linux", "amd64", None)),
    (("linux", "X86_64", None), ("linux", "amd64", None)),
    (("linux", "x86-64", None), ("linux", "amd64", None)),
    (("linux", "AMD64", None), ("linux", "amd64", None)),
    (("linux", "amd64", Some("v1")), ("linux", "amd64", None)),
    (("linux", "amd64", Some("V1")), ("linux", "amd64", None)),
    (("linux", "x86_64", Some("v1")), ("linux", "amd64", None)),
    (
        ("linux", "amd64", Some("v2")),
        ("linux", "amd64", Some("v2")),
    ),
    (
        ("linux", "amd64", Some("V3")),
        ("linux", "amd64", Some("v3")),
    ),
    // 386
    (("linux", "i386", None), ("linux", "386", None)),
    (("linux", "I386", Some("anything")), ("linux", "386", None)),
    (("linux", "386", None), ("linux", "386", None)),
    // arm64
    (("linux", "aarch64", None), ("linux", "arm64", None)),
    (("linux", "AArch64", None), ("linux", "arm64", None)),
    (("linux", "aarch64", Some("v8")), ("linux", "arm64", None)),
    (("linux", "arm64", Some("v8")), ("linux", "arm64", None)),
    (("linux", "arm64", Some("V8")), ("linux", "arm64", None)),
    (("linux", "arm64", Some("8")), ("linux", "arm64", None)),
    (("linux", "arm64", Some("v8.0")), ("linux", "arm64", None)),
    (
        ("linux", "arm64", Some("v8.2")),
        ("linux", "arm64", Some("v8.2")),
    ),
    (
        ("linux", "arm64", Some("9")),
        ("linux", "arm64", Some("v9")),
    ),
    (
        ("linux", "arm64", Some("9.0")),
        ("linux", "arm64", Some("v9")),
    ),
    (
        ("linux", "arm64", Some("v9.0")),
        ("linux", "arm64", Some("v9")),
    ),
    (
        ("linux", "arm64", Some("v9")),
        ("linux", "arm64", Some("v9")),
    ),
    (
        ("linux", "arm64", Some("v9.3")),
        ("linux", "arm64", Some("v9.3")),
    ),
    // 32-bit arm
    (("linux", "armhf", None), ("linux", "arm", Some("v7"))),
    (("linux", "ARMHF", Some("v6")), ("linux", "arm", Some("v7"))),
    (("linux", "armel", None), ("linux", "arm", Some("v6"))),
    (("linux", "armel", Some("v7")), ("linux", "arm", Some("v6"))),
    (("linux", "arm", None), ("linux", "arm", Some("v7"))),
    (("linux", "arm", Some("")), ("linux", "arm", Some("v7"))),
    (("linux", "arm", Some("7")), ("linux", "arm", Some("v7"))),
    (("linux", "ARM", Some("V7")), ("linux", "arm", Some("v7"))),
    (("linux", "arm", Some("5")), ("linux", "arm", Some("v5"))),
    (("linux", "arm", Some("6")), ("linux", "arm", Some("v6"))),
    (("linux", "arm", Some("8")), ("linux", "arm", Some("v8"))),
    (("linux", "arm", Some("v6")), ("linux", "arm", Some("v6"))),
    (("linux", "arm", Some("v4")), ("linux", "arm", Some("v4"))),
    // Others pass through, lower-cased.
    (("linux", "PPC64LE", None), ("linux", "ppc64le", None)),
    (("linux", "s390x", None), ("linux", "s390x", None)),
    (("linux", "riscv64", None), ("linux", "riscv64", None)),
    (("unknown", "unknown", None), ("unknown", "unknown", None)),
    (("freebsd", "amd64", Some("")), ("freebsd", "amd64", None)),
];

#[test]
fn every_alias_normalizes_to_its_canonical_spelling() {
    for &((os, arch, variant), (want_os, want_arch, want_variant)) in ALIASES {
        let normalized = normalize(raw(os, arch, variant));
        assert_eq!(
            normalized,
            raw(want_os, want_arch, want_variant),
            "normalize({os}/{arch}/{variant:?})"
        );
        assert_eq!(
            normalize(normalized.clone()),
            normalized,
            "normalizing {normalized} again changes it"
        );
    }
}

#[test]
fn os_features_are_sorted_deduplicated_and_empty_ones_dropped() {
    let platform =
        Platform::new("windows", "amd64").with_os_features(["win32k", "", "b", "win32k", "a"]);
    assert_eq!(normalize(platform).os_features, ["a", "b", "win32k"]);
}

#[test]
fn empty_os_version_becomes_none_and_others_are_kept() {
    let empty = Platform::new("linux", "amd64").with_os_version("");
    assert_eq!(normalize(empty).os_version, None);
    let windows = Platform::new("windows", "amd64").with_os_version("10.0.17763.1234");
    assert_eq!(
        normalize(windows).os_version.as_deref(),
        Some("10.0.17763.1234")
    );
}

#[test]
fn an_empty_os_stays_empty_instead_of_becoming_the_host() {
    assert_eq!(normalize(Platform::new("", "amd64")).os, "");
}

#[test]
fn normalized_method_matches_the_function() {
    let platform = raw("Linux", "aarch64", Some("8"));
    assert_eq!(platform.normalized(), normalize(platform.clone()));
}
