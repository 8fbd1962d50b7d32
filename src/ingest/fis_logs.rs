//! FIS experiment log records delivered to S3 (log schema version 2): when an experiment's
//! template logs to S3, its `action-start` and `action-end` records give action times that
//! GetExperiment leaves out (for example on actions that were stopped or never reported back).
//!
//! Objects are JSON records one per line (or a JSON array), optionally gzip-compressed, under the
//! log configuration's bucket and prefix. Objects whose key names an experiment are read for it;
//! otherwise objects written between the experiment's start and a day after its end.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use aws_sdk_s3::Client;

use crate::aws::{AwsError, aws_error, get_object_bytes};
use crate::vocab::time::{Micros, parse_timestamp};

/// Where a template's log records go.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogLocation {
    pub bucket: String,
    pub prefix: String,
}

/// What the log records say about one action of one experiment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionTiming {
    pub started_at: Option<Micros>,
    pub ended_at: Option<Micros>,
    pub status: Option<String>,
}

/// Action timings by (experiment id, action name).
pub type ActionTimings = BTreeMap<(String, String), ActionTiming>;

/// Reads the log records of `experiments` (id, start, end) from one location.
pub async fn read_action_timings(
    client: &Client,
    location: &LogLocation,
    experiments: &[(String, Micros, Micros)],
    concurrency: usize,
    warnings: &mut Vec<String>,
) -> Result<ActionTimings, AwsError> {
    let ids: HashSet<&str> = experiments.iter().map(|(id, _, _)| id.as_str()).collect();
    let earliest = experiments.iter().map(|e| e.1).min().unwrap_or(0);
    let latest = experiments.iter().map(|e| e.2).max().unwrap_or(0) + 86_400 * 1_000_000;
    let context = format!("s3://{}/{}", location.bucket, location.prefix);

    let mut keys = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(&location.bucket)
        .prefix(&location.prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("S3", "ListObjectsV2", &context, e))?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            let names_one = ids.iter().any(|id| key.contains(id));
            let written = object
                .last_modified()
                .map(|t| t.secs() * 1_000_000)
                .unwrap_or(0);
            let names_none =
                !ids.iter().any(|id| key.contains(id)) && (earliest..=latest).contains(&written);
            if names_one || names_none {
                keys.push(key.to_string());
            }
        }
    }

    let mut timings = ActionTimings::new();
    // Up to `concurrency` objects are read at once; they are used in the listing's order, so the
    // timings and warnings do not depend on which answer comes first.
    super::in_flight::in_order(
        keys,
        concurrency,
        |key| {
            let (client, bucket) = (client.clone(), location.bucket.clone());
            async move {
                let bytes = get_object_bytes(&client, &bucket, &key).await?;
                Ok((key, bytes))
            }
        },
        |(key, bytes)| {
            add_log_object(location, &key, &bytes, &ids, &mut timings, warnings);
            Ok(())
        },
    )
    .await?;
    Ok(timings)
}

/// One log object's records into `timings`; an object that is not a FIS log is a warning.
fn add_log_object(
    location: &LogLocation,
    key: &str,
    bytes: &[u8],
    ids: &HashSet<&str>,
    timings: &mut ActionTimings,
    warnings: &mut Vec<String>,
) {
    let text = match decompress(bytes) {
        Ok(text) => text,
        Err(why) => {
            warnings.push(format!(
                "s3://{}/{key}: not a FIS log object ({why}); skipped",
                location.bucket
            ));
            return;
        }
    };
    let skipped = add_log_records(&text, ids, timings);
    if skipped > 0 {
        warnings.push(format!(
            "s3://{}/{key}: {skipped} records are not FIS log schema version 2; skipped",
            location.bucket
        ));
    }
}

fn decompress(bytes: &[u8]) -> Result<String, String> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_string(&mut text)
            .map_err(|e| format!("gzip: {e}"))?;
        Ok(text)
    } else {
        String::from_utf8(bytes.to_vec()).map_err(|_| "not UTF-8 text".to_string())
    }
}

/// Adds the action records of `text` (JSON lines or a JSON array) for the experiments in `ids`;
/// returns how many records were not schema version 2 (or not JSON).
pub fn add_log_records(text: &str, ids: &HashSet<&str>, timings: &mut ActionTimings) -> usize {
    let records: Vec<serde_json::Value> = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(records)) => records,
        Ok(record @ serde_json::Value::Object(_)) => vec![record],
        _ => text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).unwrap_or(serde_json::Value::Null))
            .collect(),
    };
    let mut skipped = 0;
    for record in records {
        let version = record.get("version").and_then(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        if version.as_deref() != Some("2") {
            skipped += 1;
            continue;
        }
        let Some(id) = record.get("id").and_then(|v| v.as_str()) else {
            skipped += 1;
            continue;
        };
        if !ids.contains(id) {
            continue;
        }
        let log_type = record.get("log_type").and_then(|v| v.as_str());
        let details = record.get("details");
        let text_of = |field: &str| details.and_then(|d| d.get(field)).and_then(|v| v.as_str());
        let time_of = |field: &str| {
            text_of(field)
                .or_else(|| record.get("event_timestamp").and_then(|v| v.as_str()))
                .and_then(|t| parse_timestamp(t).ok())
        };
        let Some(action) = text_of("action_name") else {
            continue;
        };
        let timing = timings
            .entry((id.to_string(), action.to_string()))
            .or_default();
        match log_type {
            Some("action-start") => timing.started_at = time_of("action_start_time"),
            Some("action-end") | Some("action-error") => {
                timing.ended_at = time_of("action_end_time");
                if let Some(status) = details
                    .and_then(|d| d.pointer("/action_state/status"))
                    .and_then(|v| v.as_str())
                {
                    timing.status = Some(status.to_string());
                }
            }
            _ => {}
        }
    }
    skipped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_records_of_schema_two_give_action_times() {
        let text = r#"{"id":"EXP1","log_type":"experiment-start","event_timestamp":"2026-11-20T10:00:00Z","version":"2","details":{}}
{"id":"EXP1","log_type":"action-start","event_timestamp":"2026-11-20T10:00:05Z","version":"2","details":{"action_name":"terminate","action_id":"aws:ec2:terminate-instances","action_start_time":"2026-11-20T10:00:04Z"}}
{"id":"EXP1","log_type":"action-end","event_timestamp":"2026-11-20T10:05:00Z","version":"2","details":{"action_name":"terminate","action_end_time":"2026-11-20T10:04:59Z","action_state":{"status":"completed","reason":"done"}}}
{"id":"EXP2","log_type":"action-start","event_timestamp":"2026-11-20T11:00:00Z","version":"2","details":{"action_name":"terminate"}}
{"id":"EXP1","log_type":"action-start","version":"1","details":{"action_name":"old"}}
"#;
        let mut timings = ActionTimings::new();
        let skipped = add_log_records(text, &HashSet::from(["EXP1"]), &mut timings);
        assert_eq!(skipped, 1);
        assert_eq!(timings.len(), 1);
        let timing = &timings[&("EXP1".to_string(), "terminate".to_string())];
        assert_eq!(
            timing.started_at,
            parse_timestamp("2026-11-20T10:00:04Z").ok()
        );
        assert_eq!(
            timing.ended_at,
            parse_timestamp("2026-11-20T10:04:59Z").ok()
        );
        assert_eq!(timing.status.as_deref(), Some("completed"));
    }
}
