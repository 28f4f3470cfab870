//! Times as stored (nanoseconds since the Unix epoch) and as labelled
//! (RFC 3339, for `containerd.io/gc.expire`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Error, Result};

/// Nanoseconds since the Unix epoch; times before it count as the epoch.
pub(crate) fn to_nanos(time: SystemTime) -> u64 {
    let nanos = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos();
    u64::try_from(nanos).unwrap_or(u64::MAX)
}

/// The inverse of [`to_nanos`].
pub(crate) fn from_nanos(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

/// Parses an RFC 3339 timestamp with any UTC offset, e.g.
/// `2026-11-23T19:07:19Z` or `2026-11-23T20:07:19.5+01:00`.
pub fn parse_rfc3339(text: &str) -> Result<SystemTime> {
    let parsed = OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|error| {
        Error::invalid(format!(
            "{text:?} is not an RFC 3339 timestamp (e.g. 2026-11-23T19:07:19Z): {error}"
        ))
    })?;
    let nanos = parsed.unix_timestamp_nanos();
    if nanos < 0 {
        return Ok(UNIX_EPOCH);
    }
    let nanos = u64::try_from(nanos).unwrap_or(u64::MAX);
    Ok(from_nanos(nanos))
}

/// Formats `time` as RFC 3339 in UTC, with nanoseconds when there are any.
pub fn format_rfc3339(time: SystemTime) -> String {
    let nanos = i128::from(to_nanos(time));
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_honours_offsets() {
        let t = UNIX_EPOCH + Duration::new(1_795_460_839, 500_000_000);
        assert_eq!(format_rfc3339(t), "2026-11-23T19:07:19.5Z");
        assert_eq!(parse_rfc3339(&format_rfc3339(t)).unwrap(), t);
        assert_eq!(parse_rfc3339("2026-11-23T20:07:19.5+01:00").unwrap(), t);
        assert!(
            parse_rfc3339("yesterday")
                .unwrap_err()
                .is_invalid_argument()
        );
        assert_eq!(from_nanos(to_nanos(t)), t);
    }
}
