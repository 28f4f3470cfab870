//! When a tag held from an upstream was last confirmed against it.
//!
//! A tag is a moving name: the upstream may point it at a new manifest at
//! any time, so pull-through asks the upstream (one `HEAD`) what a stored
//! tag names now before serving it ([`crate::upstream`] does the asking).
//! Asking on every request would send the upstream one `HEAD` per client
//! per pull (containerd resolves the tag on every pull), so an answer is
//! trusted for a short window, [`crate::ServeOptions::upstream_tag_ttl`]:
//! a burst of clients pulling one tag, a rollout across a cluster, costs
//! one `HEAD`. Checks of one tag that overlap share one request
//! ([`crate::single_flight`]).
//!
//! A failed check (upstream unreachable, 5xx, timeout, 404) counts as a
//! check too: the stored manifest is served for the window, and the next
//! request after it asks again, so a dead upstream costs one bounded wait
//! per tag and window rather than one per request. It is logged once when
//! a tag's checks start failing and once when they succeed again, not on
//! every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hoist::content::Digest;

use crate::single_flight::Flights;

/// Past this many tags remembered, the ones whose window has passed are
/// forgotten (a forgotten tag is simply checked on its next request).
const MAX_REMEMBERED: usize = 4096;

/// The outcome of one check of a tag against its upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Checked {
    /// The upstream named `digest` and the store's name points there now.
    Confirmed(Digest),
    /// The upstream could not tell; the store's `digest` is served.
    Unconfirmed(Digest),
}

/// How a check changed what is known of a tag's upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    /// As before: nothing worth a log line.
    Unchanged,
    /// The first failed check after a success (or ever): warn.
    StartedFailing,
    /// The first success after failures: say it recovered.
    Recovered,
}

struct Entry {
    checked: Checked,
    at: Instant,
}

/// The last check of each tag, by stored name, and the checks running.
pub(crate) struct TagFreshness {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
    /// Checks in flight, by stored name; the state turns `true` when done.
    pub(crate) checks: Arc<Flights<String, bool>>,
}

impl TagFreshness {
    /// Trusts a check for `ttl` (zero: every request checks).
    pub(crate) fn new(ttl: Duration) -> TagFreshness {
        TagFreshness {
            ttl,
            entries: Mutex::new(HashMap::new()),
            checks: Arc::default(),
        }
    }

    /// Whether `name` was checked less than the window ago (and, when
    /// `stored` is given, found pointing at that digest: a name re-pointed
    /// since, by `hoist pull` in another process say, is checked again).
    pub(crate) fn is_fresh(&self, name: &str, stored: Option<&Digest>) -> bool {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(name).is_some_and(|entry| {
            entry.at.elapsed() < self.ttl
                && stored.is_none_or(|digest| match &entry.checked {
                    Checked::Confirmed(known) | Checked::Unconfirmed(known) => known == digest,
                })
        })
    }

    /// Records a check of `name` made now.
    pub(crate) fn record(&self, name: &str, checked: Checked) -> Health {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_REMEMBERED && !entries.contains_key(name) {
            let ttl = self.ttl;
            entries.retain(|_, entry| {
                entry.at.elapsed() < ttl || matches!(entry.checked, Checked::Unconfirmed(_))
            });
        }
        let failing = matches!(checked, Checked::Unconfirmed(_));
        let was_failing = entries
            .get(name)
            .map(|entry| matches!(entry.checked, Checked::Unconfirmed(_)));
        entries.insert(
            name.to_owned(),
            Entry {
                checked,
                at: Instant::now(),
            },
        );
        match (was_failing, failing) {
            (Some(false) | None, true) => Health::StartedFailing,
            (Some(true), false) => Health::Recovered,
            _ => Health::Unchanged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u8) -> Digest {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
            .parse()
            .unwrap()
    }

    #[test]
    fn a_check_is_trusted_for_the_window_and_for_its_digest_only() {
        let freshness = TagFreshness::new(Duration::from_secs(60));
        assert!(!freshness.is_fresh("r/app:1", None));
        freshness.record("r/app:1", Checked::Confirmed(digest(1)));
        assert!(freshness.is_fresh("r/app:1", None));
        assert!(freshness.is_fresh("r/app:1", Some(&digest(1))));
        assert!(!freshness.is_fresh("r/app:1", Some(&digest(2))));
        assert!(!freshness.is_fresh("r/app:2", None));

        let every_time = TagFreshness::new(Duration::ZERO);
        every_time.record("r/app:1", Checked::Confirmed(digest(1)));
        assert!(!every_time.is_fresh("r/app:1", None));
    }

    #[test]
    fn failures_are_reported_once_until_a_success() {
        let freshness = TagFreshness::new(Duration::ZERO);
        let name = "r/app:1";
        assert_eq!(
            freshness.record(name, Checked::Confirmed(digest(1))),
            Health::Unchanged
        );
        assert_eq!(
            freshness.record(name, Checked::Unconfirmed(digest(1))),
            Health::StartedFailing
        );
        assert_eq!(
            freshness.record(name, Checked::Unconfirmed(digest(1))),
            Health::Unchanged
        );
        assert_eq!(
            freshness.record(name, Checked::Confirmed(digest(2))),
            Health::Recovered
        );
        assert_eq!(
            freshness.record("r/other:1", Checked::Unconfirmed(digest(3))),
            Health::StartedFailing
        );
    }

    #[test]
    fn past_the_limit_expired_checks_are_forgotten_and_failures_kept() {
        let freshness = TagFreshness::new(Duration::ZERO);
        freshness.record("failing", Checked::Unconfirmed(digest(1)));
        for i in 0..MAX_REMEMBERED {
            freshness.record(&format!("tag{i}"), Checked::Confirmed(digest(2)));
        }
        let entries = freshness.entries.lock().unwrap();
        assert!(entries.len() <= MAX_REMEMBERED, "{}", entries.len());
        assert!(entries.contains_key("failing"));
    }
}
