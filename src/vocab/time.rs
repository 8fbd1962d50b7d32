//! Timestamps and durations as checkup stores them: UTC microseconds since the Unix epoch.

use chrono::{DateTime, Datelike, TimeZone, Utc};

use super::format::quoted;

/// Microseconds since 1970-01-01T00:00:00Z. The ledger's timestamp columns hold this value.
pub type Micros = i64;

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Something written from a timestamp that is the same all UTC day long (its date, month or
/// quarter as text), written once per distinct day of `times`: a history has a few hundred days
/// and up to a million runs.
pub struct PerDay<T>(std::collections::HashMap<Micros, T>);

impl<T> PerDay<T> {
    pub fn new(times: impl IntoIterator<Item = Micros>, write: impl Fn(Micros) -> T) -> Self {
        let mut by_day = std::collections::HashMap::new();
        for time in times {
            by_day
                .entry(time.div_euclid(MICROS_PER_DAY))
                .or_insert_with(|| write(time));
        }
        PerDay(by_day)
    }

    /// What was written for the day of `time`, one of the `times` given to [`PerDay::new`].
    pub fn of(&self, time: Micros) -> &T {
        &self.0[&time.div_euclid(MICROS_PER_DAY)]
    }
}

/// A number of seconds as microseconds, rounded to the nearest one.
pub fn micros_from_seconds(seconds: f64) -> Micros {
    (seconds * MICROS_PER_SECOND as f64).round() as Micros
}

/// A number of microseconds (a duration) as seconds.
pub fn seconds_from_micros(micros: Micros) -> f64 {
    micros as f64 / MICROS_PER_SECOND as f64
}

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

/// A date (`2026-07-01`, midnight UTC) or an RFC 3339 time (`2026-07-01T10:00:00Z`).
pub fn parse_timestamp(text: &str) -> Result<Micros, String> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.timestamp_micros());
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|date| {
            date.and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc()
                .timestamp_micros()
        })
        .map_err(|_| {
            format!(
                "{q} is not a date (2026-07-01) or an RFC 3339 time",
                q = quoted(text)
            )
        })
}

/// The calendar quarter of a timestamp, as `2026Q3`.
pub fn quarter_of(ts: Micros) -> String {
    let t = to_datetime(ts);
    format!("{}Q{}", t.year(), (t.month() - 1) / 3 + 1)
}

/// Parses a duration written as a number followed by `s`, `m`, `h` or `d` (`90s`, `5m`, `1.5h`,
/// `90d`).
pub fn parse_duration_s(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, unit_s) = match text.chars().last() {
        Some('s') => (&text[..text.len() - 1], 1.0),
        Some('m') => (&text[..text.len() - 1], 60.0),
        Some('h') => (&text[..text.len() - 1], 3600.0),
        Some('d') => (&text[..text.len() - 1], 86_400.0),
        _ => {
            return Err(format!(
                "duration {q} needs a unit: s, m, h or d",
                q = quoted(text)
            ));
        }
    };
    let value: f64 = number.trim().parse().map_err(|_| {
        format!(
            "duration {q} is not a number followed by s, m, h or d",
            q = quoted(text)
        )
    })?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!(
            "duration {q} must be a non-negative number",
            q = quoted(text)
        ));
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

/// A reporting period: `[start, end)` in UTC microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: Micros,
    pub end: Micros,
}

impl Period {
    pub fn contains(&self, ts: Micros) -> bool {
        ts >= self.start && ts < self.end
    }

    /// `2026Q3` for a calendar quarter, `2026-07` for a month, else the first and last day.
    pub fn label(&self) -> String {
        let quarter = quarter_of(self.start);
        let month = month_of(self.start);
        let day = |ts: Micros| format_rfc3339(ts)[..10].to_string();
        if parse_period(&quarter, 0) == Ok(*self) {
            quarter
        } else if parse_period(&month, 0) == Ok(*self) {
            month
        } else {
            format!("{} – {}", day(self.start), day(self.end - 1))
        }
    }
}

/// Parses `2026Q3`, `2026-07`, `2026-07-01..2026-09-30` (both days included) or `last-90d`
/// (the 90 days before `now`).
pub fn parse_period(text: &str, now: Micros) -> Result<Period, String> {
    use chrono::{Months, NaiveDate};
    let text = text.trim();
    let midnight = |date: NaiveDate| {
        from_datetime(
            date.and_hms_opt(0, 0, 0)
                .expect("midnight exists")
                .and_utc(),
        )
    };
    let invalid = || {
        format!(
            "period {q} must be 2026Q3, 2026-07, 2026-07-01..2026-09-30 or last-90d",
            q = quoted(text)
        )
    };
    if let Some(days) = text
        .strip_prefix("last-")
        .and_then(|rest| rest.strip_suffix('d'))
    {
        let days: i64 = days
            .parse()
            .ok()
            .filter(|days| *days > 0 && *days <= 36_600)
            .ok_or_else(invalid)?;
        return Ok(Period {
            start: now - days * 86_400 * MICROS_PER_SECOND,
            end: now,
        });
    }
    if let Some((from, to)) = text.split_once("..") {
        let from = NaiveDate::parse_from_str(from.trim(), "%Y-%m-%d").map_err(|_| invalid())?;
        let to = NaiveDate::parse_from_str(to.trim(), "%Y-%m-%d").map_err(|_| invalid())?;
        if to < from {
            return Err(format!(
                "period {q} ends before it starts",
                q = quoted(text)
            ));
        }
        return Ok(Period {
            start: midnight(from),
            end: midnight(to.succ_opt().ok_or_else(invalid)?),
        });
    }
    let (first_day, months) = if let Some((year, quarter)) = text.split_once('Q') {
        let year: i32 = year.parse().map_err(|_| invalid())?;
        let quarter: u32 = quarter
            .parse()
            .ok()
            .filter(|q| (1..=4).contains(q))
            .ok_or_else(invalid)?;
        (
            NaiveDate::from_ymd_opt(year, 3 * (quarter - 1) + 1, 1).ok_or_else(invalid)?,
            3,
        )
    } else {
        let first =
            NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").map_err(|_| invalid())?;
        if text.len() != 7 {
            return Err(invalid());
        }
        (first, 1)
    };
    let next = first_day
        .checked_add_months(Months::new(months))
        .ok_or_else(invalid)?;
    Ok(Period {
        start: midnight(first_day),
        end: midnight(next),
    })
}

#[cfg(test)]
mod period_tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Micros {
        from_datetime(Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap())
    }

    #[test]
    fn periods() {
        let now = day(2026, 11, 28);
        let check = |text: &str, start: Micros, end: Micros| {
            assert_eq!(parse_period(text, now), Ok(Period { start, end }), "{text}")
        };
        check("2026Q3", day(2026, 7, 1), day(2026, 10, 1));
        check("2025Q4", day(2025, 10, 1), day(2026, 1, 1));
        check("2026-07", day(2026, 7, 1), day(2026, 8, 1));
        check("2026-12", day(2026, 12, 1), day(2027, 1, 1));
        check("2026-07-01..2026-09-30", day(2026, 7, 1), day(2026, 10, 1));
        check("last-90d", day(2026, 8, 30), now);
        for bad in [
            "2026Q5",
            "2026-13",
            "2026-7",
            "last-0d",
            "2026-09-30..2026-07-01",
            "Q3",
            "",
            "last-xd",
        ] {
            assert!(parse_period(bad, now).is_err(), "{bad}");
        }
    }
}
