//! Choosing among candidates, e.g. the manifests of an index: the best one,
//! or all acceptable ones best first.

use crate::{Matcher, Platform};

/// The item whose platform `matcher` prefers above all others, or `None` when
/// no item's platform matches.
///
/// `platform_of` gives an item's platform; items for which it returns `None`
/// (an index entry without a `platform`) are skipped: whether such an entry
/// stands for the host is the caller's decision, not this crate's. Among
/// equally good items the first wins, so an index's own order breaks ties,
/// as in containerd (which sorts stably and takes the first).
///
/// ```
/// use hoist_platform::{Platform, best, only, parse};
///
/// let index = ["linux/arm/v6", "linux/arm/v7", "linux/arm64", "unknown/unknown"];
/// let platforms: Vec<Platform> = index.iter().map(|p| parse(p).unwrap()).collect();
/// let wanted = only(parse("linux/arm/v7").unwrap());
/// let chosen = best(&wanted, &platforms, |p| Some(p.clone()));
/// assert_eq!(chosen.map(ToString::to_string).as_deref(), Some("linux/arm/v7"));
/// ```
pub fn best<'a, T, M, F>(
    matcher: &M,
    items: impl IntoIterator<Item = &'a T>,
    platform_of: F,
) -> Option<&'a T>
where
    T: 'a + ?Sized,
    M: Matcher + ?Sized,
    F: Fn(&T) -> Option<Platform>,
{
    let mut best: Option<(&'a T, Platform)> = None;
    for item in items {
        let Some(platform) = platform_of(item) else {
            continue;
        };
        if !matcher.matches(&platform) {
            continue;
        }
        match &best {
            Some((_, current)) if !matcher.less(&platform, current) => {}
            _ => best = Some((item, platform)),
        }
    }
    best.map(|(item, _)| item)
}

/// Every item whose platform `matcher` accepts, best first; equally good items
/// keep their order. Items without a platform are skipped, as in [`best`].
///
/// The sort is a stable merge sort driven by [`Matcher::less`] alone, so a
/// matcher whose order is inconsistent yields some order, never a panic.
pub fn ranked<'a, T, M, F>(
    matcher: &M,
    items: impl IntoIterator<Item = &'a T>,
    platform_of: F,
) -> Vec<&'a T>
where
    T: 'a + ?Sized,
    M: Matcher + ?Sized,
    F: Fn(&T) -> Option<Platform>,
{
    let matching: Vec<(&'a T, Platform)> = items
        .into_iter()
        .filter_map(|item| platform_of(item).map(|platform| (item, platform)))
        .filter(|(_, platform)| matcher.matches(platform))
        .collect();
    merge_sort(matching, &|a: &(&T, Platform), b: &(&T, Platform)| {
        matcher.less(&a.1, &b.1)
    })
    .into_iter()
    .map(|(item, _)| item)
    .collect()
}

/// Stable merge sort by a "strictly before" predicate; O(n log n) calls.
fn merge_sort<E>(mut items: Vec<E>, before: &impl Fn(&E, &E) -> bool) -> Vec<E> {
    if items.len() <= 1 {
        return items;
    }
    let right = items.split_off(items.len() / 2);
    let left = merge_sort(items, before);
    let right = merge_sort(right, before);
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        // Take from the right only when it is strictly before the left: ties
        // keep the left (earlier) item first, which makes the sort stable.
        let take_right = match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => before(r, l),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right {
            right.next()
        } else {
            left.next()
        };
        merged.extend(next);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::merge_sort;

    #[test]
    fn merge_sort_is_stable_and_sorted() {
        let items: Vec<(u8, usize)> = [3u8, 1, 2, 1, 3, 0, 2, 1]
            .into_iter()
            .enumerate()
            .map(|(position, key)| (key, position))
            .collect();
        let mut expected = items.clone();
        expected.sort_by_key(|(key, _)| *key);
        assert_eq!(merge_sort(items, &|a, b| a.0 < b.0), expected);
    }

    #[test]
    fn merge_sort_survives_an_inconsistent_order() {
        let items: Vec<u32> = (0..100).collect();
        let sorted = merge_sort(items, &|a, b| (a * 7 + b * 3) % 5 == 0);
        let mut seen = sorted.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }
}
