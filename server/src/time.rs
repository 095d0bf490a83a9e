//! Time as the APIs exchange it: Unix seconds inside, ISO 8601 outside. A time without a zone
//! is UTC (PaygOps sends Python's naive `isoformat()`).

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// Now, in Unix seconds.
#[must_use]
pub fn now() -> i64 {
    Utc::now().timestamp()
}

/// Now, in Unix microseconds (row timestamps).
#[must_use]
pub fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

/// Parses `2025-01-31T12:00:00`, with optional fraction, `Z` or offset, and a space instead
/// of the `T`; a date alone is midnight UTC.
#[must_use]
pub fn parse(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp());
    }
    let spaced = t.replacen(' ', "T", 1);
    if let Ok(dt) = DateTime::parse_from_rfc3339(&spaced) {
        return Some(dt.timestamp());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(&spaced, fmt) {
            return Some(dt.and_utc().timestamp());
        }
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp())
}

/// `2025-01-31T12:00:00` (UTC, no zone): what PaygOps' client parses back unchanged.
#[must_use]
pub fn naive(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .map(|d| d.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// RFC 3339 with `Z`, for the native API.
#[must_use]
pub fn rfc3339(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_paygops_sends() {
        let noon = 1_735_646_400; // 2024-12-31T12:00:00Z
        assert_eq!(parse("2024-12-31T12:00:00"), Some(noon));
        assert_eq!(parse("2024-12-31T12:00:00.250000"), Some(noon));
        assert_eq!(parse("2024-12-31 12:00:00"), Some(noon));
        assert_eq!(parse("2024-12-31T14:00:00+02:00"), Some(noon));
        assert_eq!(parse("2024-12-31T12:00:00Z"), Some(noon));
        assert_eq!(parse("2024-12-31"), Some(noon - 43_200));
        assert_eq!(parse("tomorrow"), None);
        assert_eq!(naive(noon), "2024-12-31T12:00:00");
        assert_eq!(rfc3339(noon), "2024-12-31T12:00:00Z");
    }
}
