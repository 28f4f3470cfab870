//! Formatting: the short form, the long form, and the way back.

use hoist_platform::{Platform, format, format_all, parse};

use crate::raw;

#[test]
fn format_writes_os_arch_and_variant() {
    let cases = [
        (raw("linux", "amd64", None), "linux/amd64"),
        (raw("linux", "arm", Some("v7")), "linux/arm/v7"),
        (raw("linux", "arm64", Some("v8")), "linux/arm64/v8"),
        (raw("Linux", "x86_64", None), "Linux/x86_64"),
        (raw("linux", "arm64", Some("")), "linux/arm64"),
        (raw("linux", "", None), "linux"),
        (raw("", "amd64", None), "unknown"),
        (
            raw("windows", "amd64", None)
                .with_os_version("10.0.17763")
                .with_os_features(["win32k"]),
            "windows/amd64",
        ),
    ];
    for (platform, expected) in cases {
        assert_eq!(format(&platform), expected, "{platform:?}");
        assert_eq!(platform.to_string(), expected, "{platform:?}");
        assert_eq!(platform.format(), expected, "{platform:?}");
    }
}

#[test]
fn format_all_adds_os_version_and_features() {
    let cases = [
        (raw("linux", "amd64", None), "linux/amd64"),
        (
            raw("windows", "amd64", None).with_os_version("10.0.17763"),
            "windows(10.0.17763)/amd64",
        ),
        (
            raw("windows", "amd64", None)
                .with_os_version("10.0.17763")
                .with_os_features(["win32k"]),
            "windows(10.0.17763+win32k)/amd64",
        ),
        (
            raw("linux", "arm64", None).with_os_features(["gpu", "avx", "gpu", ""]),
            "linux(+avx+gpu)/arm64",
        ),
        (
            raw("linux", "arm", Some("v7")).with_os_version(""),
            "linux/arm/v7",
        ),
        (
            raw("linux", "amd64", None)
                .with_os_version("1+2/3 (x)")
                .with_os_features(["a%b"]),
            "linux(1%2B2%2F3%20%28x%29+a%25b)/amd64",
        ),
        (raw("", "amd64", None).with_os_version("1"), "unknown"),
    ];
    for (platform, expected) in cases {
        assert_eq!(format_all(&platform), expected, "{platform:?}");
        assert_eq!(platform.format_all(), expected, "{platform:?}");
    }
}

#[test]
fn format_all_output_parses_back() {
    let platform = raw("windows", "amd64", None)
        .with_os_version("10.0.17763 (lts)/+%")
        .with_os_features(["win32k", "a+b", "ü"]);
    assert_eq!(
        parse(&format_all(&platform)).unwrap(),
        platform.normalized()
    );
}

#[test]
fn display_of_a_parsed_platform_is_canonical() {
    for (input, canonical) in [
        ("linux/aarch64/v8", "linux/arm64"),
        ("Linux/ARMHF", "linux/arm/v7"),
        ("macos/x86_64", "darwin/amd64"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/i386", "linux/386"),
    ] {
        assert_eq!(parse(input).unwrap().to_string(), canonical, "{input}");
    }
    assert_eq!(Platform::default().to_string(), "unknown");
}
