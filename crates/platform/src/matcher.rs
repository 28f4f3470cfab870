//! Matchers: which platforms a caller accepts, and which of two it prefers.
//!
//! containerd's `MatchComparer`s (`Only`, `OnlyStrict`, `Ordered`, `Any`,
//! `All`, `Default`), with the same preference rules, so the manifest hoist
//! picks from an index is the one containerd would pick.

use std::fmt;
use std::sync::Arc;

use crate::fallback::compatible_platforms;
use crate::target::Target;
use crate::{Platform, normalize};

/// Decides which platforms are acceptable and orders the acceptable ones.
///
/// Implementations normalize what they are given, so callers can pass
/// platforms straight from an index.
pub trait Matcher {
    /// Whether `platform` is acceptable.
    fn matches(&self, platform: &Platform) -> bool;

    /// Whether `a` is preferred over `b` ("sorts before" it). A matching
    /// platform is preferred over one that does not match; between two that
    /// do, the matcher's own order decides. Must be a strict weak order over
    /// matching platforms for [`best`](crate::best) to be meaningful (it never
    /// panics either way).
    fn less(&self, a: &Platform, b: &Platform) -> bool;
}

impl<M: Matcher + ?Sized> Matcher for &M {
    fn matches(&self, platform: &Platform) -> bool {
        (**self).matches(platform)
    }

    fn less(&self, a: &Platform, b: &Platform) -> bool {
        (**self).less(a, b)
    }
}

impl<M: Matcher + ?Sized> Matcher for Box<M> {
    fn matches(&self, platform: &Platform) -> bool {
        (**self).matches(platform)
    }

    fn less(&self, a: &Platform, b: &Platform) -> bool {
        (**self).less(a, b)
    }
}

impl<M: Matcher + ?Sized> Matcher for Arc<M> {
    fn matches(&self, platform: &Platform) -> bool {
        (**self).matches(platform)
    }

    fn less(&self, a: &Platform, b: &Platform) -> bool {
        (**self).less(a, b)
    }
}

/// The matcher every constructor in this crate returns.
///
/// One concrete type, so it can be stored, cloned and passed across threads;
/// it implements [`Matcher`]. `Display` shows what was asked for
/// (`linux/amd64, linux/arm64`), or `all platforms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformMatcher {
    rule: Rule,
    /// The platforms the caller named, normalized, for messages.
    requested: Vec<Platform>,
}

/// How a [`PlatformMatcher`] accepts and orders platforms.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// Accepts what any target accepts; prefers earlier targets.
    Ordered(Vec<Target>),
    /// Accepts what any target accepts; no preference among them.
    Any(Vec<Target>),
    /// Accepts everything; no preference.
    All,
}

/// Accepts `platform` and what it runs besides, preferring the closest
/// (containerd's `Only`). Fallbacks, best first:
///
/// - `amd64/vN` -> `amd64/v(N-1)` .. `amd64`, then `386`;
/// - `arm64` -> `arm/v8`, `arm/v7`, `arm/v6`, `arm/v5` (`arm64/v9.x` first
///   runs the older arm64 variants);
/// - `arm/vN` -> `arm/v(N-1)` .. `arm/v5`.
///
/// OS, architecture and variant compare after [normalization](crate::normalize),
/// so `arm64/v8` matches `arm64` and `aarch64`. A candidate matches only if
/// every OS feature it needs is in `platform`'s; for Windows its `os.version`
/// must be one `platform`'s version runs (any, if `platform` has none).
pub fn only(platform: Platform) -> PlatformMatcher {
    let requested = vec![normalize(platform)];
    let targets = compatible_platforms(&requested[0])
        .into_iter()
        .map(Target::new)
        .collect();
    PlatformMatcher {
        rule: Rule::Ordered(targets),
        requested,
    }
}

/// Accepts `platform` alone, without fallbacks (containerd's `OnlyStrict`):
/// `linux/amd64` rejects `linux/386`. Normalization still applies.
pub fn only_strict(platform: Platform) -> PlatformMatcher {
    ordered([platform])
}

/// Accepts any of `platforms` (each strictly, no fallbacks) and prefers them
/// in the order given (containerd's `Ordered`).
pub fn ordered(platforms: impl IntoIterator<Item = Platform>) -> PlatformMatcher {
    let requested: Vec<Platform> = platforms.into_iter().map(normalize).collect();
    PlatformMatcher {
        rule: Rule::Ordered(requested.iter().cloned().map(Target::new).collect()),
        requested,
    }
}

/// Accepts any of `platforms` (each strictly), with no preference among them
/// (containerd's `Any`): a choice between matches falls to the first in the
/// index, except that one requiring more OS features is preferred.
pub fn any(platforms: impl IntoIterator<Item = Platform>) -> PlatformMatcher {
    let requested: Vec<Platform> = platforms.into_iter().map(normalize).collect();
    PlatformMatcher {
        rule: Rule::Any(requested.iter().cloned().map(Target::new).collect()),
        requested,
    }
}

/// Accepts every platform, preferring none (containerd's `All`). Entries
/// without an OS, such as malformed ones, match too: "all" means all.
pub fn all() -> PlatformMatcher {
    PlatformMatcher {
        rule: Rule::All,
        requested: Vec::new(),
    }
}

/// [`only`] for [`Platform::host`]: what this machine runs, closest first
/// (containerd's `Default`).
pub fn host() -> PlatformMatcher {
    only(Platform::host())
}

impl PlatformMatcher {
    /// The platforms the caller asked for, normalized; empty for [`all`].
    /// Fallbacks that [`only`] adds are not listed.
    pub fn requested(&self) -> &[Platform] {
        &self.requested
    }

    /// True for the matcher that accepts every platform.
    pub fn is_all(&self) -> bool {
        self.rule == Rule::All
    }
}

impl Matcher for PlatformMatcher {
    fn matches(&self, platform: &Platform) -> bool {
        match &self.rule {
            Rule::Ordered(targets) | Rule::Any(targets) => {
                let candidate = normalize(platform.clone());
                targets
                    .iter()
                    .any(|target| target.matches_normalized(&candidate))
            }
            Rule::All => true,
        }
    }

    fn less(&self, a: &Platform, b: &Platform) -> bool {
        let (a, b) = (normalize(a.clone()), normalize(b.clone()));
        match &self.rule {
            Rule::Ordered(targets) => ordered_less(targets, a, b),
            Rule::Any(targets) => any_less(targets, a, b),
            Rule::All => false,
        }
    }
}

/// containerd's `orderedPlatformComparer.Less`: the first target that accepts
/// either decides; if it accepts both, the one requiring more OS features
/// wins. If no target accepts either, the comparison is retried without OS
/// features, so a candidate that fails only on features still sorts sensibly.
fn ordered_less(targets: &[Target], mut a: Platform, mut b: Platform) -> bool {
    for target in targets {
        let (a_matches, b_matches) = (target.matches_normalized(&a), target.matches_normalized(&b));
        if a_matches && !b_matches {
            return true;
        }
        if a_matches && b_matches {
            return a.os_features.len() > b.os_features.len();
        }
        if b_matches {
            return false;
        }
    }
    if a.os_features.is_empty() && b.os_features.is_empty() {
        return false;
    }
    a.os_features.clear();
    b.os_features.clear();
    ordered_less(targets, a, b)
}

/// containerd's `anyPlatformComparer.Less`: a matching platform beats a
/// non-matching one; between two matching ones, the one requiring more OS
/// features wins. If neither matches, retried without OS features.
fn any_less(targets: &[Target], mut a: Platform, mut b: Platform) -> bool {
    let a_matches = targets.iter().any(|target| target.matches_normalized(&a));
    let b_matches = targets.iter().any(|target| target.matches_normalized(&b));
    if a_matches && b_matches {
        return a.os_features.len() > b.os_features.len();
    }
    if !a_matches && !b_matches && (!a.os_features.is_empty() || !b.os_features.is_empty()) {
        a.os_features.clear();
        b.os_features.clear();
        return any_less(targets, a, b);
    }
    a_matches && !b_matches
}

impl fmt::Display for PlatformMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rule == Rule::All {
            return f.write_str("all platforms");
        }
        if self.requested.is_empty() {
            return f.write_str("no platform");
        }
        for (index, platform) in self.requested.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            f.write_str(&platform.format_all())?;
        }
        Ok(())
    }
}
