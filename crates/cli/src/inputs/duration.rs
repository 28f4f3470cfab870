//! Durations such as `90s`, `30m`, `24h`, `7d` or `1h30m`.

use std::time::Duration;

use crate::exit::UsageError;

/// Parses a duration: one or more `<number><unit>` with units `s`, `m`, `h`,
/// `d`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, UsageError> {
    let invalid = |why: &str| {
        UsageError(format!(
            "invalid duration {text:?}: {why} (examples: 90s, 30m, 24h, 7d, 1h30m)"
        ))
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    if let Ok(seconds) = trimmed.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in trimmed.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(invalid(&format!("unknown unit {c:?}"))),
        };
        let value: u64 = number
            .parse()
            .map_err(|_| invalid("a unit must follow a number"))?;
        number.clear();
        total = value
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| invalid("it is too long"))?;
    }
    if !number.is_empty() {
        return Err(invalid("the last number has no unit"));
    }
    if total == 0 {
        return Err(invalid("it must be longer than zero"));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_combine() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
    }

    #[test]
    fn bad_durations_are_refused() {
        for bad in ["", "h", "5x", "1h5", "0s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
