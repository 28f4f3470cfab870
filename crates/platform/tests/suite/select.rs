//! Choosing from an index: `best` and `ranked`.

use hoist_platform::{
    Platform, PlatformMatcher, all, any, best, host, only, only_strict, ordered, ranked,
};

use crate::p;

/// An index entry as the image crate might hold it.
#[derive(Debug, PartialEq)]
struct Entry {
    digest: &'static str,
    platform: Option<Platform>,
}

fn index(entries: &[(&'static str, Option<&str>)]) -> Vec<Entry> {
    entries
        .iter()
        .map(|&(digest, platform)| Entry {
            digest,
            platform: platform.map(p),
        })
        .collect()
}

fn platform_of(entry: &Entry) -> Option<Platform> {
    entry.platform.clone()
}

fn digest(entry: Option<&Entry>) -> Option<&'static str> {
    entry.map(|e| e.digest)
}

/// A buildx-style index: images and their attestation manifests.
fn buildx_index() -> Vec<Entry> {
    index(&[
        ("amd64", Some("linux/amd64")),
        ("arm64", Some("linux/arm64")),
        ("armv7", Some("linux/arm/v7")),
        ("armv6", Some("linux/arm/v6")),
        ("att-amd64", Some("unknown/unknown")),
        ("att-arm64", Some("unknown/unknown")),
    ])
}

#[test]
fn best_picks_the_closest_platform_of_an_index() {
    let entries = buildx_index();
    let cases = [
        ("linux/amd64", Some("amd64")),
        ("linux/arm64/v8", Some("arm64")),
        ("linux/aarch64", Some("arm64")),
        ("linux/arm64/v9", Some("arm64")),
        ("linux/arm", Some("armv7")),
        ("linux/arm/v8", Some("armv7")),
        ("linux/arm/v6", Some("armv6")),
        ("linux/armel", Some("armv6")),
        ("linux/arm/v5", None),
        ("linux/386", None),
        ("linux/s390x", None),
        ("windows/amd64", None),
    ];
    for (wanted, expected) in cases {
        assert_eq!(
            digest(best(&only(p(wanted)), &entries, platform_of)),
            expected,
            "best for {wanted}"
        );
    }
}

#[test]
fn best_falls_back_when_the_exact_platform_is_absent() {
    let entries = index(&[
        ("386", Some("linux/386")),
        ("armv5", Some("linux/arm/v5")),
        ("armv6", Some("linux/arm/v6")),
    ]);
    assert_eq!(
        digest(best(&only(p("linux/amd64")), &entries, platform_of)),
        Some("386")
    );
    assert_eq!(
        digest(best(&only(p("linux/arm64")), &entries, platform_of)),
        Some("armv6")
    );
    assert_eq!(
        digest(best(&only(p("linux/arm/v7")), &entries, platform_of)),
        Some("armv6")
    );
    assert_eq!(
        digest(best(&only_strict(p("linux/amd64")), &entries, platform_of)),
        None
    );
}

#[test]
fn best_breaks_ties_by_index_order_and_skips_entries_without_platform() {
    let entries = index(&[
        ("none", None),
        ("first", Some("linux/amd64")),
        ("second", Some("linux/amd64")),
        ("arm", Some("linux/arm64")),
    ]);
    assert_eq!(
        digest(best(&only(p("linux/amd64")), &entries, platform_of)),
        Some("first")
    );
    assert_eq!(digest(best(&all(), &entries, platform_of)), Some("first"));
    let either = any([p("linux/arm64"), p("linux/amd64")]);
    assert_eq!(digest(best(&either, &entries, platform_of)), Some("first"));
    let prefer_arm = ordered([p("linux/arm64"), p("linux/amd64")]);
    assert_eq!(
        digest(best(&prefer_arm, &entries, platform_of)),
        Some("arm")
    );
    assert_eq!(digest(best(&all(), &[] as &[Entry], platform_of)), None);
}

#[test]
fn best_prefers_the_entry_requiring_more_os_features() {
    let entries = index(&[
        ("plain", Some("linux/amd64")),
        ("gpu", Some("linux(+gpu)/amd64")),
    ]);
    assert_eq!(
        digest(best(&only(p("linux(+gpu)/amd64")), &entries, platform_of)),
        Some("gpu")
    );
    assert_eq!(
        digest(best(&only(p("linux/amd64")), &entries, platform_of)),
        Some("plain")
    );
}

#[test]
fn best_works_on_the_host() {
    let host_platform = Platform::host();
    let entries = vec![
        Entry {
            digest: "other",
            platform: Some(p("plan10/quantum")),
        },
        Entry {
            digest: "host",
            platform: Some(host_platform),
        },
    ];
    assert_eq!(digest(best(&host(), &entries, platform_of)), Some("host"));
}

#[test]
fn ranked_lists_matching_entries_best_first() {
    let entries = buildx_index();
    let digests = |matcher: PlatformMatcher| -> Vec<&str> {
        ranked(&matcher, &entries, platform_of)
            .into_iter()
            .map(|e| e.digest)
            .collect()
    };
    assert_eq!(digests(only(p("linux/arm64"))), ["arm64", "armv7", "armv6"]);
    assert_eq!(digests(only(p("linux/arm/v7"))), ["armv7", "armv6"]);
    assert_eq!(digests(only_strict(p("linux/arm/v7"))), ["armv7"]);
    assert_eq!(
        digests(ordered([p("linux/arm/v6"), p("linux/amd64")])),
        ["armv6", "amd64"]
    );
    assert_eq!(
        digests(any([p("linux/arm/v6"), p("linux/amd64")])),
        ["amd64", "armv6"]
    );
    assert_eq!(
        digests(all()),
        ["amd64", "arm64", "armv7", "armv6", "att-amd64", "att-arm64"]
    );
    assert!(digests(only(p("linux/s390x"))).is_empty());
}

#[test]
fn selection_over_many_entries_stays_fast() {
    // A hostile index with many entries must not take quadratic time.
    let entries: Vec<Entry> = (0..20_000)
        .map(|i| Entry {
            digest: "x",
            platform: Some(match i % 4 {
                0 => p("linux/arm/v5"),
                1 => p("linux/arm/v6"),
                2 => p("linux/arm/v7"),
                _ => p("linux/s390x"),
            }),
        })
        .collect();
    let matcher = only(p("linux/arm64"));
    let ranked = ranked(&matcher, &entries, platform_of);
    assert_eq!(ranked.len(), 15_000);
    assert_eq!(ranked[0].platform, Some(p("linux/arm/v7")));
    assert_eq!(ranked[14_999].platform, Some(p("linux/arm/v5")));
    assert_eq!(
        best(&matcher, &entries, platform_of).and_then(|e| e.platform.clone()),
        Some(p("linux/arm/v7"))
    );
}
