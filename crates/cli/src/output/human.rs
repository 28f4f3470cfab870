//! Sizes, ages and IDs the way docker prints them.

use std::time::{Duration, SystemTime};

/// A byte count in decimal units, as docker prints sizes: `512 B`,
/// `1.5 kB`, `23.4 MB`, `1.2 GB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// How long ago `then` was, in words: `just now`, `5 minutes ago`,
/// `3 days ago`.
pub fn age(then: SystemTime, now: SystemTime) -> String {
    let elapsed = now.duration_since(then).unwrap_or(Duration::ZERO).as_secs();
    let (count, unit) = match elapsed {
        0..=59 => return "just now".to_owned(),
        60..=3599 => (elapsed / 60, "minute"),
        3600..=86_399 => (elapsed / 3600, "hour"),
        86_400..=2_591_999 => (elapsed / 86_400, "day"),
        2_592_000..=31_535_999 => (elapsed / 2_592_000, "month"),
        _ => (elapsed / 31_536_000, "year"),
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural} ago")
}

/// A digest shortened to the first 12 hex characters (the IMAGE ID column),
/// or whole with `no_trunc`.
pub fn short_digest(digest: &str, no_trunc: bool) -> String {
    if no_trunc {
        return digest.to_owned();
    }
    let hex = digest.split_once(':').map_or(digest, |(_, hex)| hex);
    hex.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_decimal_units() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1500), "1.5 kB");
        assert_eq!(size(123_456_789), "123 MB");
        assert_eq!(size(2_000_000_000), "2.0 GB");
    }

    #[test]
    fn ages_read_like_docker() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000_000);
        assert_eq!(age(now, now), "just now");
        assert_eq!(age(now - Duration::from_secs(120), now), "2 minutes ago");
        assert_eq!(age(now - Duration::from_secs(3600), now), "1 hour ago");
        assert_eq!(age(now + Duration::from_secs(5), now), "just now");
    }

    #[test]
    fn ids_are_twelve_hex_characters() {
        let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
        assert_eq!(short_digest(&digest, false), "0123456789ab");
        assert_eq!(short_digest(&digest, true), digest);
    }
}
