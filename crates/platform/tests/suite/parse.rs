//! Parsing: accepted forms, host defaults, aliases, and errors that explain.

use hoist_platform::{ACCEPTED_FORMS, ErrorKind, Platform, parse, parse_all};

use crate::raw;

#[test]
fn full_forms_parse_to_normalized_platforms() {
    let cases: &[(&str, Platform)] = &[
        ("linux/amd64", raw("linux", "amd64", None)),
        ("linux/x86_64", raw("linux", "amd64", None)),
        ("linux/x86-64", raw("linux", "amd64", None)),
        ("LINUX/AMD64", raw("linux", "amd64", None)),
        ("linux/amd64/v1", raw("linux", "amd64", None)),
        ("linux/amd64/v3", raw("linux", "amd64", Some("v3"))),
        ("linux/i386", raw("linux", "386", None)),
        ("linux/386", raw("linux", "386", None)),
        ("linux/arm64", raw("linux", "arm64", None)),
        ("linux/arm64/v8", raw("linux", "arm64", None)),
        ("linux/arm64/8", raw("linux", "arm64", None)),
        ("linux/aarch64", raw("linux", "arm64", None)),
        ("linux/aarch64/v8", raw("linux", "arm64", None)),
        ("linux/arm64/v9.0", raw("linux", "arm64", Some("v9"))),
        ("linux/arm64/v8.2", raw("linux", "arm64", Some("v8.2"))),
        ("linux/arm", raw("linux", "arm", Some("v7"))),
        ("linux/arm/7", raw("linux", "arm", Some("v7"))),
        ("linux/arm/v6", raw("linux", "arm", Some("v6"))),
        ("linux/arm/6", raw("linux", "arm", Some("v6"))),
        ("linux/arm/v5", raw("linux", "arm", Some("v5"))),
        ("linux/armhf", raw("linux", "arm", Some("v7"))),
        ("linux/armel", raw("linux", "arm", Some("v6"))),
        ("macos/arm64", raw("darwin", "arm64", None)),
        ("darwin/amd64", raw("darwin", "amd64", None)),
        ("windows/amd64", raw("windows", "amd64", None)),
        ("linux/ppc64le", raw("linux", "ppc64le", None)),
        ("linux/s390x", raw("linux", "s390x", None)),
        ("linux/riscv64", raw("linux", "riscv64", None)),
        // With two or three components, names are not checked against Go's lists.
        ("unknown/unknown", raw("unknown", "unknown", None)),
        ("plan10/quantum/q1", raw("plan10", "quantum", Some("q1"))),
    ];
    for (specifier, expected) in cases {
        assert_eq!(&parse(specifier).unwrap(), expected, "parse({specifier:?})");
        assert_eq!(
            &specifier.parse::<Platform>().unwrap(),
            expected,
            "{specifier:?}.parse()"
        );
    }
}

#[test]
fn os_version_and_features_parse_inside_parentheses() {
    let cases: &[(&str, Platform)] = &[
        (
            "windows(10.0.17763)/amd64",
            raw("windows", "amd64", None).with_os_version("10.0.17763"),
        ),
        (
            "windows(10.0.17763+win32k)/amd64",
            raw("windows", "amd64", None)
                .with_os_version("10.0.17763")
                .with_os_features(["win32k"]),
        ),
        (
            "linux(+gpu+avx)/amd64",
            raw("linux", "amd64", None).with_os_features(["avx", "gpu"]),
        ),
        ("linux()/amd64", raw("linux", "amd64", None)),
        (
            "linux(1%2B2+a%25b)/amd64",
            raw("linux", "amd64", None)
                .with_os_version("1+2")
                .with_os_features(["a%b"]),
        ),
        (
            "Windows(10.0.20348)/AMD64",
            raw("windows", "amd64", None).with_os_version("10.0.20348"),
        ),
    ];
    for (specifier, expected) in cases {
        assert_eq!(&parse(specifier).unwrap(), expected, "parse({specifier:?})");
    }
}

#[test]
fn a_lone_os_takes_the_hosts_architecture() {
    let host = Platform::host();
    for os in ["linux", "Linux", "windows", "darwin", "macos", "freebsd"] {
        let parsed = parse(os).unwrap();
        assert_eq!(
            parsed.os,
            os.to_ascii_lowercase().replace("macos", "darwin")
        );
        assert_eq!(parsed.architecture, host.architecture, "{os}");
        assert_eq!(parsed.variant, host.variant, "{os}");
    }
    let versioned = parse("windows(10.0.17763)").unwrap();
    assert_eq!(versioned.os_version.as_deref(), Some("10.0.17763"));
    assert_eq!(versioned.architecture, host.architecture);
}

#[test]
fn a_lone_architecture_takes_the_hosts_os() {
    let host_os = Platform::host().os;
    let cases = [
        ("amd64", "amd64", None),
        ("x86_64", "amd64", None),
        ("AARCH64", "arm64", None),
        ("arm64", "arm64", None),
        ("arm", "arm", Some("v7")),
        ("armhf", "arm", Some("v7")),
        ("armel", "arm", Some("v6")),
        ("i386", "386", None),
        ("s390x", "s390x", None),
        ("riscv64", "riscv64", None),
    ];
    for (specifier, arch, variant) in cases {
        assert_eq!(
            parse(specifier).unwrap(),
            raw(&host_os, arch, variant),
            "parse({specifier:?})"
        );
    }
}

#[test]
fn bad_strings_are_rejected_with_the_string_and_the_accepted_forms() {
    let cases = [
        ("", "empty"),
        ("linux/", "component 2 of 2 is empty"),
        ("/amd64", "component 1 of 2 is empty"),
        ("linux//v7", "component 2 of 3 is empty"),
        ("*", "wildcards"),
        ("linux/*", "wildcards"),
        ("linux/amd64/v8/extra", "4 components"),
        ("a/b/c/d/e", "5 components"),
        (
            "foo",
            "neither a known operating system nor a known architecture",
        ),
        (
            "Plan10",
            "neither a known operating system nor a known architecture",
        ),
        ("linux/amd 64", "may hold only"),
        ("linux/amd64/v8 ", "may hold only"),
        (" linux/amd64", "OS name may hold only"),
        ("li.nux/amd64", "OS name may hold only"),
        ("linux(10.0/amd64", "must be closed"),
        ("linux(10.0)x/amd64", "must be closed"),
        ("(10.0)/amd64", "OS name is empty"),
        ("linux(10 0)/amd64", "inside the parentheses"),
        ("linux(10.0+)/amd64", "feature after '+' is empty"),
        ("linux(10.0++a)/amd64", "feature after '+' is empty"),
        ("linux(%zz)/amd64", "two hex digits"),
        ("linux(%2)/amd64", "two hex digits"),
        ("linux(%+1)/amd64", "two hex digits"),
        ("linux(%ff)/amd64", "UTF-8"),
    ];
    for (specifier, reason) in cases {
        let error = parse(specifier).expect_err(specifier);
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{specifier:?}");
        assert!(error.is_invalid_argument());
        assert_eq!(error.input(), specifier);
        assert!(
            error.reason().contains(reason),
            "{specifier:?}: {:?} lacks {reason:?}",
            error.reason()
        );
        let message = error.to_string();
        assert!(
            message.contains(&format!("{specifier:?}")),
            "{message} does not quote {specifier:?}"
        );
        assert!(message.contains(ACCEPTED_FORMS), "{message}");
        for form in ["os, arch, os/arch and os/arch/variant", "linux/arm64/v8"] {
            assert!(message.contains(form), "{message} lacks {form:?}");
        }
    }
}

#[test]
fn an_error_message_reads_well() {
    let error = parse("linux/amd64/v8/extra").unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "invalid platform \"linux/amd64/v8/extra\": it has 4 components, at most 3 are \
             allowed; {ACCEPTED_FORMS}"
        )
    );
}

#[test]
fn comma_lists_parse_in_order() {
    assert_eq!(
        parse_all("linux/amd64,linux/arm64").unwrap(),
        [raw("linux", "amd64", None), raw("linux", "arm64", None)]
    );
    assert_eq!(
        parse_all(" linux/arm/v7 , Linux/AArch64/v8,linux/arm64 ").unwrap(),
        [
            raw("linux", "arm", Some("v7")),
            raw("linux", "arm64", None),
            raw("linux", "arm64", None)
        ]
    );
    assert_eq!(
        parse_all("linux/s390x").unwrap(),
        [raw("linux", "s390x", None)]
    );
}

#[test]
fn comma_lists_with_empty_or_bad_entries_are_rejected() {
    for (list, input, reason) in [
        ("", "", "the list is empty"),
        ("  ", "  ", "the list is empty"),
        (
            "linux/amd64,",
            "linux/amd64,",
            "entry 2 of 2 in the list is empty",
        ),
        (
            ",linux/amd64",
            ",linux/amd64",
            "entry 1 of 2 in the list is empty",
        ),
        (
            "a/b, ,c/d",
            "a/b, ,c/d",
            "entry 2 of 3 in the list is empty",
        ),
        ("linux/amd64,linux/", "linux/", "component 2 of 2 is empty"),
        ("linux/amd64,foo", "foo", "neither a known"),
    ] {
        let error = parse_all(list).expect_err(list);
        assert!(error.is_invalid_argument(), "{list:?}");
        assert_eq!(error.input(), input, "{list:?}");
        assert!(error.reason().contains(reason), "{list:?}: {error}");
        assert!(error.to_string().contains(ACCEPTED_FORMS));
    }
}
