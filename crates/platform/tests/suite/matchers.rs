//! Matchers: every fallback of `only`, the strictness of `only_strict`, the
//! preferences of `ordered` and `any`, `all`, `host`, OS features and Windows
//! versions. Tables follow containerd's own tests where they exist.

use hoist_platform::{
    Matcher, Platform, PlatformMatcher, all, any, format_all, host, only, only_strict, ordered,
};

use crate::{p, raw};

/// Candidates every table is checked against, so that a platform missing from
/// a row's "accepted" list is asserted to be rejected.
const CANDIDATES: &[&str] = &[
    "linux/amd64",
    "linux/amd64/v2",
    "linux/amd64/v3",
    "linux/amd64/v4",
    "linux/386",
    "linux/arm64",
    "linux/arm64/v8.1",
    "linux/arm64/v8.2",
    "linux/arm64/v8.5",
    "linux/arm64/v8.6",
    "linux/arm64/v8.9",
    "linux/arm64/v9",
    "linux/arm64/v9.1",
    "linux/arm64/v9.5",
    "linux/arm64/v9.6",
    "linux/arm/v4",
    "linux/arm/v5",
    "linux/arm/v6",
    "linux/arm/v7",
    "linux/arm/v8",
    "linux/arm/v9",
    "linux/ppc64le",
    "linux/s390x",
    "windows/amd64",
    "windows/arm64",
    "darwin/arm64",
    "unknown/unknown",
];

/// Asserts that `matcher` accepts exactly `accepted` among [`CANDIDATES`]
/// (each `accepted` entry must be a candidate, so no row can pass vacuously).
fn assert_accepts_exactly(name: &str, matcher: &PlatformMatcher, accepted: &[&str]) {
    for expected in accepted {
        let canonical = p(expected).to_string();
        assert!(
            CANDIDATES.iter().any(|c| p(c).to_string() == canonical),
            "{expected} is not in CANDIDATES"
        );
    }
    let accepted: Vec<String> = accepted.iter().map(|a| p(a).to_string()).collect();
    for candidate in CANDIDATES {
        let platform = p(candidate);
        let expected = accepted.contains(&platform.to_string());
        assert_eq!(
            matcher.matches(&platform),
            expected,
            "{name}.matches({candidate}) should be {expected}"
        );
    }
}

#[test]
fn only_accepts_every_fallback_and_nothing_else() {
    let table: &[(&str, &[&str])] = &[
        ("linux/amd64", &["linux/amd64", "linux/386"]),
        ("linux/x86_64", &["linux/amd64", "linux/386"]),
        (
            "linux/amd64/v2",
            &["linux/amd64/v2", "linux/amd64", "linux/386"],
        ),
        (
            "linux/amd64/v4",
            &[
                "linux/amd64/v4",
                "linux/amd64/v3",
                "linux/amd64/v2",
                "linux/amd64",
                "linux/386",
            ],
        ),
        ("linux/386", &["linux/386"]),
        ("linux/i386", &["linux/386"]),
        (
            "linux/arm64",
            &[
                "linux/arm64",
                "linux/arm/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5",
            ],
        ),
        (
            "linux/aarch64/v8",
            &[
                "linux/arm64",
                "linux/arm/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5",
            ],
        ),
        (
            "linux/arm64/v8.2",
            &[
                "linux/arm64/v8.2",
                "linux/arm64/v8.1",
                "linux/arm64",
                "linux/arm/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5",
            ],
        ),
        (
            "linux/arm64/v9",
            &[
                "linux/arm64/v9",
                "linux/arm64/v8.5",
                "linux/arm64/v8.2",
                "linux/arm64/v8.1",
                "linux/arm64",
                "linux/arm/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5",
            ],
        ),
        (
            "linux/arm64/v9.5",
            &[
                "linux/arm64/v9.5",
                "linux/arm64/v9.1",
                "linux/arm64/v9",
                "linux/arm64/v8.9",
                "linux/arm64/v8.6",
                "linux/arm64/v8.5",
                "linux/arm64/v8.2",
                "linux/arm64/v8.1",
                "linux/arm64",
                "linux/arm/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5",
            ],
        ),
        (
            "linux/arm/v8",
            &[
                "linux/arm/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5",
            ],
        ),
        (
            "linux/arm/v7",
            &["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"],
        ),
        (
            "linux/arm",
            &["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"],
        ),
        (
            "linux/armhf",
            &["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"],
        ),
        ("linux/arm/v6", &["linux/arm/v6", "linux/arm/v5"]),
        ("linux/armel", &["linux/arm/v6", "linux/arm/v5"]),
        ("linux/arm/v5", &["linux/arm/v5"]),
        ("linux/arm/v4", &["linux/arm/v4"]),
        ("linux/ppc64le", &["linux/ppc64le"]),
        ("windows/amd64", &["windows/amd64"]),
        ("macos/arm64", &["darwin/arm64"]),
        ("unknown/unknown", &["unknown/unknown"]),
    ];
    for (wanted, accepted) in table {
        assert_accepts_exactly(&format!("only({wanted})"), &only(p(wanted)), accepted);
    }
}

#[test]
fn only_strict_accepts_the_platform_alone() {
    let table: &[(&str, &[&str])] = &[
        ("linux/amd64", &["linux/amd64"]),
        ("linux/amd64/v2", &["linux/amd64/v2"]),
        ("linux/386", &["linux/386"]),
        ("linux/arm64", &["linux/arm64"]),
        ("linux/arm64/v8", &["linux/arm64"]),
        ("linux/aarch64", &["linux/arm64"]),
        ("linux/arm64/v8.1", &["linux/arm64/v8.1"]),
        ("linux/arm64/v9", &["linux/arm64/v9"]),
        ("linux/arm64/v9.0", &["linux/arm64/v9"]),
        ("linux/arm64/v9.5", &["linux/arm64/v9.5"]),
        ("linux/arm/v8", &["linux/arm/v8"]),
        ("linux/arm", &["linux/arm/v7"]),
        ("linux/arm/v7", &["linux/arm/v7"]),
        ("linux/arm/v6", &["linux/arm/v6"]),
        ("linux/arm/v5", &["linux/arm/v5"]),
        ("linux/arm/v4", &["linux/arm/v4"]),
        ("windows/amd64", &["windows/amd64"]),
    ];
    for (wanted, accepted) in table {
        assert_accepts_exactly(
            &format!("only_strict({wanted})"),
            &only_strict(p(wanted)),
            accepted,
        );
    }
}

#[test]
fn candidates_are_normalized_before_matching() {
    let matcher = only(p("linux/arm64"));
    for candidate in [
        raw("linux", "arm64", None),
        raw("linux", "arm64", Some("v8")),
        raw("Linux", "AArch64", Some("8")),
        raw("linux", "arm", None),
        raw("linux", "armhf", None),
        raw("linux", "armel", None),
    ] {
        assert!(matcher.matches(&candidate), "{candidate:?}");
    }
    let strict = only_strict(raw("linux", "arm64", Some("v8")));
    assert!(strict.matches(&raw("linux", "arm64", None)));
    assert!(only_strict(raw("linux", "arm", None)).matches(&raw("linux", "arm", Some("v7"))));
    assert!(only(raw("linux", "x86_64", None)).matches(&raw("linux", "i386", None)));
}

#[test]
fn only_prefers_the_closest_fallback() {
    let matcher = only(p("linux/arm64/v9"));
    let best_first = [
        "linux/arm64/v9",
        "linux/arm64/v8.5",
        "linux/arm64/v8.1",
        "linux/arm64",
        "linux/arm/v8",
        "linux/arm/v7",
        "linux/arm/v5",
    ];
    for (i, better) in best_first.iter().enumerate() {
        for worse in &best_first[i + 1..] {
            assert!(
                matcher.less(&p(better), &p(worse)),
                "{better} before {worse}"
            );
            assert!(
                !matcher.less(&p(worse), &p(better)),
                "{worse} not before {better}"
            );
        }
        assert!(
            matcher.less(&p(better), &p("linux/amd64")),
            "{better} before a non-match"
        );
        assert!(!matcher.less(&p("linux/amd64"), &p(better)));
        assert!(
            !matcher.less(&p(better), &p(better)),
            "{better} is not before itself"
        );
    }
    let amd64 = only(p("linux/amd64/v3"));
    assert!(amd64.less(&p("linux/amd64/v3"), &p("linux/amd64/v2")));
    assert!(amd64.less(&p("linux/amd64/v2"), &p("linux/amd64")));
    assert!(amd64.less(&p("linux/amd64"), &p("linux/386")));
}

#[test]
fn ordered_accepts_the_listed_platforms_and_prefers_earlier_ones() {
    let matcher = ordered([p("linux/arm/v7"), p("linux/amd64"), p("linux/arm64")]);
    assert_accepts_exactly(
        "ordered(arm/v7, amd64, arm64)",
        &matcher,
        &["linux/arm/v7", "linux/amd64", "linux/arm64"],
    );
    assert!(matcher.less(&p("linux/arm/v7"), &p("linux/amd64")));
    assert!(matcher.less(&p("linux/amd64"), &p("linux/arm64")));
    assert!(matcher.less(&p("linux/arm/v7"), &p("linux/arm64")));
    assert!(!matcher.less(&p("linux/arm64"), &p("linux/arm/v7")));
    assert!(matcher.less(&p("linux/arm64"), &p("linux/s390x")));
    assert!(!matcher.less(&p("linux/s390x"), &p("linux/arm64")));
    assert_accepts_exactly("ordered()", &ordered([]), &[]);
}

#[test]
fn any_accepts_the_listed_platforms_without_preference() {
    let matcher = any([p("linux/arm/v7"), p("linux/amd64")]);
    assert_accepts_exactly(
        "any(arm/v7, amd64)",
        &matcher,
        &["linux/arm/v7", "linux/amd64"],
    );
    assert!(!matcher.less(&p("linux/arm/v7"), &p("linux/amd64")));
    assert!(!matcher.less(&p("linux/amd64"), &p("linux/arm/v7")));
    assert!(matcher.less(&p("linux/amd64"), &p("linux/arm64")));
    assert!(!matcher.less(&p("linux/arm64"), &p("linux/amd64")));
    assert_accepts_exactly("any()", &any([]), &[]);
}

#[test]
fn all_accepts_everything_and_prefers_nothing() {
    let matcher = all();
    assert_accepts_exactly("all()", &matcher, CANDIDATES);
    assert!(matcher.matches(&Platform::default()));
    assert!(!matcher.less(&p("linux/amd64"), &p("linux/arm64")));
    assert!(!matcher.less(&p("linux/arm64"), &p("linux/amd64")));
    assert!(matcher.is_all());
    assert!(matcher.requested().is_empty());
}

#[test]
fn host_is_only_of_the_host_platform() {
    let host_platform = Platform::host();
    assert_eq!(host(), only(host_platform.clone()));
    assert!(host().matches(&host_platform));
    assert_eq!(host().requested(), [host_platform]);
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[test]
fn on_x86_64_linux_host_accepts_amd64_and_386() {
    assert_accepts_exactly("host()", &host(), &["linux/amd64", "linux/386"]);
}

#[test]
fn attestation_and_malformed_entries_never_match_a_real_platform() {
    let entries = [
        raw("unknown", "unknown", None),
        raw("", "amd64", None),
        raw("linux", "", None),
        Platform::default(),
    ];
    for matcher in [
        only(p("linux/amd64")),
        only_strict(p("linux/amd64")),
        ordered([p("linux/amd64"), p("linux/arm64")]),
        any([p("linux/amd64"), p("linux/arm64")]),
        host(),
    ] {
        let real = matcher.requested()[0].clone();
        assert!(matcher.matches(&real), "{matcher}");
        for entry in &entries {
            assert!(!matcher.matches(entry), "{matcher} matched {entry:?}");
            assert!(matcher.less(&real, entry), "{matcher}");
            assert!(!matcher.less(entry, &real), "{matcher}");
        }
    }
    // Even a matcher built from an empty platform does not match empty entries.
    assert!(!only(Platform::default()).matches(&Platform::default()));
}

#[test]
fn a_candidate_needs_all_its_os_features_on_the_target() {
    let gpu = p("linux(+gpu)/amd64");
    let cases = [
        ("linux/amd64", true),
        ("linux(+gpu)/amd64", true),
        ("linux(+gpu+simd)/amd64", false),
        ("linux(+simd)/amd64", false),
        ("linux(+gpu)/386", true),
        ("linux(+gpu)/arm64", false),
    ];
    for (candidate, expected) in cases {
        assert_eq!(
            only(gpu.clone()).matches(&p(candidate)),
            expected,
            "{candidate}"
        );
    }
    assert!(!only(p("linux/amd64")).matches(&p("linux(+gpu)/amd64")));
    // Linux OS versions are not compared.
    assert!(only(p("linux(7.2)/amd64")).matches(&p("linux(7.1)/amd64")));
}

#[test]
fn windows_ignores_win32k_and_checks_os_versions() {
    let server_2019 = p("windows(10.0.17763)/amd64");
    let cases = [
        ("windows/amd64", true),
        ("windows(10.0.17763)/amd64", true),
        ("windows(10.0.17763.1234)/amd64", true),
        ("windows(10.0.17763+win32k)/amd64", true),
        ("windows(10.0.20348)/amd64", false),
        ("windows(10.0.14393)/amd64", false),
        ("windows(10.0.17763+other)/amd64", false),
        ("linux/amd64", false),
    ];
    for (candidate, expected) in cases {
        assert_eq!(
            only(server_2019.clone()).matches(&p(candidate)),
            expected,
            "{candidate}"
        );
    }
    // A Windows target without a version accepts every version.
    let unversioned = only(p("windows/amd64"));
    assert!(unversioned.matches(&p("windows(10.0.17763)/amd64")));
    assert!(unversioned.matches(&p("windows(10.0.26100+win32k)/amd64")));
    // win32k is only special on Windows.
    assert!(!only(p("linux/amd64")).matches(&p("linux(+win32k)/amd64")));
    // Server 2025 runs Server 2022 images (stable ABI).
    assert!(only(p("windows(10.0.26100)/amd64")).matches(&p("windows(10.0.20348.2227)/amd64")));
}

/// Sorts stably by `less` (insertion sort: tests compare with containerd's tables).
fn sort_by_less(matcher: &PlatformMatcher, specifiers: &[&str]) -> Vec<String> {
    let mut sorted: Vec<Platform> = Vec::new();
    for platform in specifiers.iter().map(|s| p(s)) {
        let position = sorted
            .iter()
            .position(|existing| matcher.less(&platform, existing))
            .unwrap_or(sorted.len());
        sorted.insert(position, platform);
    }
    sorted.iter().map(format_all).collect()
}

#[test]
fn os_features_order_like_containerd() {
    type Case = (&'static str, [&'static str; 4], [&'static str; 4]);
    let cases: [Case; 6] = [
        (
            "linux/amd64",
            [
                "windows/amd64",
                "linux/amd64",
                "linux(+other)/amd64",
                "linux/arm64",
            ],
            [
                "linux/amd64",
                "linux(+other)/amd64",
                "windows/amd64",
                "linux/arm64",
            ],
        ),
        (
            "linux(+none)/amd64",
            [
                "windows/amd64",
                "linux/amd64",
                "linux/arm64",
                "linux(+other)/amd64",
            ],
            [
                "linux/amd64",
                "linux(+other)/amd64",
                "windows/amd64",
                "linux/arm64",
            ],
        ),
        (
            "linux(+other)/amd64",
            [
                "windows/amd64",
                "linux/amd64",
                "linux/arm64",
                "linux(+other)/amd64",
            ],
            [
                "linux(+other)/amd64",
                "linux/amd64",
                "windows/amd64",
                "linux/arm64",
            ],
        ),
        (
            "linux(+af+other+zf)/amd64",
            [
                "windows/amd64",
                "linux/amd64",
                "linux/arm64",
                "linux(+other)/amd64",
            ],
            [
                "linux(+other)/amd64",
                "linux/amd64",
                "windows/amd64",
                "linux/arm64",
            ],
        ),
        (
            "linux(+f1+f2)/amd64",
            [
                "linux/amd64",
                "linux(+f2)/amd64",
                "linux(+f1)/amd64",
                "linux(+f1+f2)/amd64",
            ],
            [
                "linux(+f1+f2)/amd64",
                "linux(+f2)/amd64",
                "linux(+f1)/amd64",
                "linux/amd64",
            ],
        ),
        (
            "linux(7.2+other)/amd64",
            [
                "linux/amd64",
                "linux(+other)/amd64",
                "linux(7.1)/amd64",
                "linux(7.2+other)/amd64",
            ],
            [
                "linux(+other)/amd64",
                "linux(7.2+other)/amd64",
                "linux/amd64",
                "linux(7.1)/amd64",
            ],
        ),
    ];
    for (wanted, input, expected) in cases {
        let wanted = p(wanted);
        for (name, matcher) in [
            ("only", only(wanted.clone())),
            ("only_strict", only_strict(wanted.clone())),
            ("ordered", ordered([wanted.clone()])),
            ("any", any([wanted.clone()])),
        ] {
            assert_eq!(
                sort_by_less(&matcher, &input),
                expected,
                "{name}({}) sorting {input:?}",
                format_all(&wanted)
            );
        }
    }
}

#[test]
fn matchers_display_what_was_requested() {
    assert_eq!(only(p("linux/aarch64")).to_string(), "linux/arm64");
    assert_eq!(
        ordered([p("linux/amd64"), p("windows(10.0.17763)/amd64")]).to_string(),
        "linux/amd64, windows(10.0.17763)/amd64"
    );
    assert_eq!(any([p("linux/arm")]).to_string(), "linux/arm/v7");
    assert_eq!(any([]).to_string(), "no platform");
    assert_eq!(all().to_string(), "all platforms");
    assert_eq!(only(p("linux/amd64")).requested(), [p("linux/amd64")]);
    assert!(!only(p("linux/amd64")).is_all());
}

#[test]
fn matchers_work_behind_references_boxes_and_arcs() {
    let matcher = only(p("linux/amd64"));
    let boxed: Box<dyn Matcher> = Box::new(matcher.clone());
    let shared: std::sync::Arc<dyn Matcher + Send + Sync> = std::sync::Arc::new(matcher.clone());
    for m in [&matcher as &dyn Matcher, &boxed, &shared, &&matcher] {
        assert!(m.matches(&p("linux/386")));
        assert!(m.less(&p("linux/amd64"), &p("linux/386")));
    }
}
