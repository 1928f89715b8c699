//! Quay's duration strings: `<integer><unit>` with unit `s`, `m`, `h`, `d`, `w` or `y`
//! (`2w`, `90d`, `1y`; a year is 365 days). They appear in the `quay.expires-after` label,
//! in `DEFAULT_TAG_EXPIRATION` and `TAG_EXPIRATION_OPTIONS`, and in auto-prune policies.

use std::time::Duration;

/// Parses a duration string; `None` when it is not one (Quay ignores such labels).
pub fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let seconds_per_unit: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        'y' => 365 * 86_400,
        _ => return None,
    };
    let number = &text[..text.len() - 1];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let count: u64 = number.parse().ok()?;
    count.checked_mul(seconds_per_unit).map(Duration::from_secs)
}

/// Milliseconds in `duration`, saturating at `i64::MAX` (the store's time type).
pub fn as_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit() {
        assert_eq!(parse("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse("2h"), Some(Duration::from_secs(7_200)));
        assert_eq!(parse("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse("2w"), Some(Duration::from_secs(1_209_600)));
        assert_eq!(parse("1y"), Some(Duration::from_secs(31_536_000)));
        assert_eq!(parse("0s"), Some(Duration::ZERO));
    }

    #[test]
    fn anything_else_is_not_a_duration() {
        for text in [
            "",
            "w",
            "2",
            "2x",
            "-1d",
            "1.5d",
            "d2",
            "2 w",
            "99999999999999999999y",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
