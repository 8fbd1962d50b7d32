//! Timestamps and durations as checkup stores them: UTC microseconds since the Unix epoch.

use chrono::{DateTime, Datelike, TimeZone, Utc};

/// Microseconds since 1970-01-01T00:00:00Z. The ledger's timestamp columns hold this value.
pub type Micros = i64;

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;

/// The ledger partition a timestamp belongs to, as `YYYY-MM`.
pub fn month_of(ts: Micros) -> String {
    let t = to_datetime(ts);
    format!("{:04}-{:02}", t.year(), t.month())
}

pub fn to_datetime(ts: Micros) -> DateTime<Utc> {
    Utc.timestamp_micros(ts)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

pub fn from_datetime(t: DateTime<Utc>) -> Micros {
    t.timestamp_micros()
}

/// `2026-07-01T12:00:00Z` for a timestamp; used in reports and messages.
pub fn format_rfc3339(ts: Micros) -> String {
    to_datetime(ts).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The calendar quarter of a timestamp, as `2026Q3`.
pub fn quarter_of(ts: Micros) -> String {
    let t = to_datetime(ts);
    format!("{}Q{}", t.year(), (t.month() - 1) / 3 + 1)
}

/// Parses a duration written as a number followed by `s`, `m` or `h` (`90s`, `5m`, `1.5h`).
pub fn parse_duration_s(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, unit_s) = match text.chars().last() {
        Some('s') => (&text[..text.len() - 1], 1.0),
        Some('m') => (&text[..text.len() - 1], 60.0),
        Some('h') => (&text[..text.len() - 1], 3600.0),
        _ => return Err(format!("duration `{text}` needs a unit: s, m or h")),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("duration `{text}` is not a number followed by s, m or h"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("duration `{text}` must be a non-negative number"));
    }
    Ok(value * unit_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_quarters() {
        let ts = from_datetime(Utc.with_ymd_and_hms(2026, 7, 31, 23, 59, 59).unwrap());
        assert_eq!(month_of(ts), "2026-07");
        assert_eq!(quarter_of(ts), "2026Q3");
        assert_eq!(format_rfc3339(ts), "2026-07-31T23:59:59Z");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_s("90s"), Ok(90.0));
        assert_eq!(parse_duration_s("5m"), Ok(300.0));
        assert_eq!(parse_duration_s("1.5h"), Ok(5400.0));
        assert!(parse_duration_s("5").is_err());
        assert!(parse_duration_s("-1m").is_err());
        assert!(parse_duration_s("m").is_err());
    }
}
