//! The entry points of the fuzz targets (`fuzz/`, cargo-fuzz on nightly), kept in the library so
//! that the suite replays the committed corpora through the very same calls
//! (`tests/it/fuzz_corpora.rs`). Each takes arbitrary bytes and must return without panicking.

use std::path::Path;

use crate::config::Config;

/// A Chaos Toolkit journal.
pub fn journal(data: &[u8]) {
    let _ = crate::ingest::chaostoolkit::parse_journal(
        Path::new("fuzz.json"),
        data,
        &Config::default(),
        0,
    );
}

/// An incidents CSV file.
pub fn incidents(data: &[u8]) {
    let _ = crate::ingest::incidents::parse_incidents(Path::new("fuzz.csv"), data);
}

/// A `checkup.toml`.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Config::parse(Path::new("checkup.toml"), text);
    }
}

/// The small text fields users and AWS hand over: periods, times, durations, steady conditions,
/// metric math, dashboard bodies and FIS log records.
pub fn text_fields(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::vocab::time::parse_period(text, 1_790_000_000_000_000);
    let _ = crate::vocab::time::parse_timestamp(text);
    let _ = crate::vocab::time::parse_duration_s(text);
    let _ = crate::vocab::Condition::parse(text);
    if let Ok(expr) = crate::vocab::metric_math::parse(text) {
        let _ = expr.value(&|_| Some(1.0));
    }
    let _ = crate::ingest::cloudwatch::dashboard_metrics(text);
    let mut timings = crate::ingest::fis_logs::ActionTimings::new();
    let _ = crate::ingest::fis_logs::add_log_records(
        text,
        &std::collections::HashSet::from(["EXP1"]),
        &mut timings,
    );
}
