//! How checkup writes numbers, durations and quoted values in sentences, reports and messages,
//! so that a verdict's reason and a report table print the same value the same way.

/// `5m 30s`, `45s`, `1h 2m` for a number of seconds.
pub fn format_duration(seconds: f64) -> String {
    let total = seconds.round() as i64;
    let (hours, minutes, secs) = (total / 3600, (total % 3600) / 60, total % 60);
    match (hours, minutes, secs) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

/// A number as reports print it: integers without decimals, others with up to three.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// `204,000`: a number rounded to a whole one, with thousands grouped.
pub fn group_thousands(number: f64) -> String {
    let rounded = number.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if rounded < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// `text` in backquotes for an error message; a long text is cut (a 100 KB field must not make a
/// 100 KB message).
pub fn quoted(text: &str) -> String {
    const KEEP: usize = 40;
    let length = text.chars().count();
    if length <= 2 * KEEP {
        format!("`{text}`")
    } else {
        let head: String = text.chars().take(KEEP).collect();
        format!("`{head}…` ({length} characters)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(204_000.0), "204,000");
        assert_eq!(group_thousands(999.0), "999");
        assert_eq!(group_thousands(-1_234_567.4), "-1,234,567");
    }
}
