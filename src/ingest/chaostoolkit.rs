//! Chaos Toolkit journals (`chaos run`'s journal.json, chaoslib 0.12 to 1.44) into ledger records
//! (SPEC section 4). A journal becomes one experiment (id derived from its bytes, so re-reading it
//! changes nothing; template = the experiment's title; tags from `key:value` strings), its method
//! activities become actions, and its steady-state hypothesis becomes a boolean series
//! `steady_state_met` sampled before the method, during it (the continuous hypothesis strategy)
//! and after it.
//!
//! The journal's outcome maps onto the ledger's statuses so that analysis judges it as the seed's
//! scenarios say: deviated → `failed` (red); steady state not met before the method → `cancelled`
//! (inconclusive: nothing was injected); `interrupted` and `aborted` stay as they are
//! (inconclusive). Times without an offset (older chaoslib) are UTC.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::{Config, TagKeys};
use crate::ledger::{Action, Batch, Experiment, MetricSeries};
use crate::vocab::time::{Micros, parse_timestamp};
use crate::vocab::{Origin, SeriesKind, Source, Status};

/// The series id of a journal's hypothesis.
pub const STEADY_STATE_MET: &str = "steady_state_met";

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not JSON: {message}")]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {json_path}: {message}")]
    Field {
        path: PathBuf,
        json_path: String,
        message: String,
    },
}

/// One journal as ledger records.
#[derive(Debug, Clone, PartialEq)]
pub struct Journal {
    pub experiment: Experiment,
    pub actions: Vec<Action>,
    pub series: Option<MetricSeries>,
    /// The samples of `series`: 1.0 when the steady state was met.
    pub points: Vec<(Micros, f64)>,
}

/// Journals as one ledger batch: each journal's experiment, its actions, and its
/// `steady_state_met` series with the samples.
pub fn journals_batch(journals: Vec<Journal>) -> Batch {
    let mut batch = Batch::default();
    for journal in journals {
        let id = &journal.experiment.experiment_id;
        let month = journal.experiment.month();
        for &(ts, value) in &journal.points {
            batch.points.push(id, &month, STEADY_STATE_MET, ts, value);
        }
        batch.actions.extend(journal.actions);
        batch.series.extend(journal.series);
        batch.experiments.push(journal.experiment);
    }
    batch
}

/// A stable id from the journal's bytes: the same file is the same experiment on every machine
/// and every run.
fn content_id(bytes: &[u8]) -> String {
    format!("ctk-{:016x}", crate::random::fnv1a64(bytes))
}

/// A journal time: RFC 3339, or chaoslib's older `2020-09-10T11:24:54.524343` without an offset
/// (UTC).
fn journal_time(text: &str) -> Option<Micros> {
    parse_timestamp(text).ok().or_else(|| {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|t| t.and_utc().timestamp_micros())
    })
}

/// Reads and maps one journal file.
pub fn read_journal(
    path: &Path,
    config: &Config,
    ingested_at: Micros,
) -> Result<Journal, JournalError> {
    let bytes = std::fs::read(path).map_err(|source| JournalError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_journal(path, &bytes, config, ingested_at)
}

struct Fields<'a> {
    path: &'a Path,
}

impl Fields<'_> {
    fn error(&self, json_path: &str, message: impl Into<String>) -> JournalError {
        JournalError::Field {
            path: self.path.to_path_buf(),
            json_path: json_path.to_string(),
            message: message.into(),
        }
    }

    fn text<'v>(&self, value: &'v Value, json_path: &str) -> Result<Option<&'v str>, JournalError> {
        match value.pointer(&pointer_of(json_path)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.error(json_path, format!("expected text, found {other}"))),
        }
    }

    fn time(&self, value: &Value, json_path: &str) -> Result<Option<Micros>, JournalError> {
        match self.text(value, json_path)? {
            None => Ok(None),
            Some(text) => journal_time(text).map(Some).ok_or_else(|| {
                self.error(
                    json_path,
                    format!(
                        "{q} is not a time (RFC 3339)",
                        q = crate::vocab::format::quoted(text)
                    ),
                )
            }),
        }
    }
}

/// `$.run[0].start` → `/run/0/start`.
fn pointer_of(json_path: &str) -> String {
    json_path
        .trim_start_matches('$')
        .replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|part| !part.is_empty())
        .fold(String::new(), |mut pointer, part| {
            pointer.push('/');
            pointer.push_str(part);
            pointer
        })
}

/// Maps the bytes of one journal; errors name the file and the JSON path.
pub fn parse_journal(
    path: &Path,
    bytes: &[u8],
    config: &Config,
    ingested_at: Micros,
) -> Result<Journal, JournalError> {
    let journal: Value = serde_json::from_slice(bytes).map_err(|e| JournalError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let fields = Fields { path };
    if !journal.is_object() {
        return Err(fields.error("$", "a journal is a JSON object"));
    }
    let id = content_id(bytes);
    let title = fields
        .text(&journal, "$.experiment.title")?
        .ok_or_else(|| {
            fields.error(
                "$.experiment.title",
                "missing: a journal names its experiment",
            )
        })?
        .to_string();
    let status = fields
        .text(&journal, "$.status")?
        .ok_or_else(|| fields.error("$.status", "missing"))?
        .to_string();
    let start = fields
        .time(&journal, "$.start")?
        .ok_or_else(|| fields.error("$.start", "missing"))?;
    let end = fields.time(&journal, "$.end")?;
    let deviated = match journal.get("deviated") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(deviated)) => Some(*deviated),
        Some(other) => {
            return Err(fields.error(
                "$.deviated",
                format!("expected true or false, found {other}"),
            ));
        }
    };

    // Tags: `key:value` strings; a bare word is a tag with an empty value.
    let mut tags = BTreeMap::new();
    match journal.pointer("/experiment/tags") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                let Some(tag) = item.as_str() else {
                    return Err(fields.error(
                        &format!("$.experiment.tags[{index}]"),
                        format!("expected text, found {item}"),
                    ));
                };
                let (key, value) = tag.split_once(':').unwrap_or((tag, ""));
                tags.insert(key.trim().to_string(), value.trim().to_string());
            }
        }
        Some(other) => {
            return Err(fields.error(
                "$.experiment.tags",
                format!("expected a list, found {other}"),
            ));
        }
    }

    // The method's activities, with their own status and times.
    let mut actions = Vec::new();
    let run = match journal.get("run") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(run)) => run.clone(),
        Some(other) => return Err(fields.error("$.run", format!("expected a list, found {other}"))),
    };
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for index in 0..run.len() {
        let at = |field: &str| format!("$.run[{index}].{field}");
        let name = fields
            .text(&journal, &at("activity.name"))?
            .unwrap_or("activity")
            .to_string();
        let seen = names.entry(name.clone()).or_default();
        *seen += 1;
        let action_name = if *seen == 1 {
            name
        } else {
            format!("{name} #{seen}")
        };
        let activity_type = fields
            .text(&journal, &at("activity.type"))?
            .unwrap_or("action");
        let provider = fields
            .text(&journal, &at("activity.provider.type"))?
            .unwrap_or("unknown");
        let target = match provider {
            "python" => {
                let module = fields.text(&journal, &at("activity.provider.module"))?;
                let func = fields.text(&journal, &at("activity.provider.func"))?;
                match (module, func) {
                    (Some(module), Some(func)) => format!(":{module}.{func}"),
                    _ => String::new(),
                }
            }
            "process" => fields
                .text(&journal, &at("activity.provider.path"))?
                .map(|p| format!(":{p}"))
                .unwrap_or_default(),
            _ => String::new(),
        };
        actions.push(Action {
            experiment_id: id.clone(),
            action_name,
            action_id: format!("chaostoolkit:{activity_type}:{provider}{target}"),
            system: None,
            // An activity cut short by an interruption has no status.
            status: fields
                .text(&journal, &at("status"))?
                .unwrap_or("interrupted")
                .to_string(),
            started_at: fields.time(&journal, &at("start"))?,
            ended_at: fields.time(&journal, &at("end"))?,
            targets: Vec::new(),
        });
    }

    // The hypothesis as samples: before, during (continuous strategy), after.
    let steady_states = journal.get("steady_states").filter(|s| !s.is_null());
    let sample = |json_path: &str,
                  fallback: Option<Micros>|
     -> Result<Option<(Micros, f64)>, JournalError> {
        let Some(state) = journal
            .pointer(&pointer_of(json_path))
            .filter(|s| !s.is_null())
        else {
            return Ok(None);
        };
        let met = match state.get("steady_state_met") {
            Some(Value::Bool(met)) => *met,
            None | Some(Value::Null) => return Ok(None),
            Some(other) => {
                return Err(fields.error(
                    &format!("{json_path}.steady_state_met"),
                    format!("expected true or false, found {other}"),
                ));
            }
        };
        let at = fields
            .time(&journal, &format!("{json_path}.probes[0].start"))?
            .or(fallback);
        Ok(at.map(|ts| (ts, if met { 1.0 } else { 0.0 })))
    };
    let mut points = Vec::new();
    let before_met = match steady_states {
        Some(_) => sample("$.steady_states.before", Some(start))?,
        None => None,
    };
    points.extend(before_met);
    if let Some(Value::Array(during)) = steady_states.and_then(|s| s.get("during")) {
        for index in 0..during.len() {
            points.extend(sample(&format!("$.steady_states.during[{index}]"), None)?);
        }
    }
    if steady_states.is_some() {
        points.extend(sample("$.steady_states.after", end)?);
    }
    points.sort_by_key(|p| p.0);
    points.dedup_by_key(|p| p.0);

    let (ledger_status, reason) = match (status.as_str(), deviated) {
        (_, Some(true)) => (
            Status::Failed,
            Some("the steady state did not hold after the method (Chaos Toolkit: deviated)".to_string()),
        ),
        ("failed", _) if before_met.is_some_and(|(_, met)| met == 0.0) || (steady_states.is_some() && run.is_empty()) => (
            Status::Cancelled,
            Some("the steady state did not hold before the method, so nothing was injected".to_string()),
        ),
        ("failed", None) if !run.is_empty() => (
            Status::Failed,
            Some("the run failed after its method ran (a chaoslib 0.12 journal: its steady state did not hold after the method)".to_string()),
        ),
        ("failed", _) => (Status::Failed, Some("Chaos Toolkit reported the run failed".to_string())),
        // Analysis says "The run was interrupted before it finished."; nothing to add.
        ("interrupted", _) => (Status::Interrupted, None),
        ("aborted", _) => (Status::Aborted, None),
        (other, _) => match Status::from_name(other) {
            Some(status) => (status, None),
            None => {
                return Err(fields.error(
                    "$.status",
                    "is not completed, failed, interrupted or aborted",
                ));
            }
        },
    };

    let hypothesis_title = fields
        .text(&journal, "$.experiment.steady-state-hypothesis.title")?
        .unwrap_or("steady state")
        .to_string();
    let period_s = sample_period(&points);
    let series = (!points.is_empty()).then(|| MetricSeries {
        experiment_id: id.clone(),
        series_id: STEADY_STATE_MET.to_string(),
        namespace: "chaostoolkit".to_string(),
        metric: hypothesis_title,
        stat: "met".to_string(),
        dimensions: BTreeMap::new(),
        period_s,
        unit: None,
        origin: Origin::Hypothesis,
        steady: "== 1".to_string(),
        limit: None,
        kind: SeriesKind::Level,
        budget: None,
        outage: None,
    });

    let keys: &TagKeys = &config.tags;
    let tag = |key: &str| tags.get(key).filter(|v| !v.is_empty()).cloned();
    let hypothesis = config.hypothesis_for(Some(&title), Some(&title), &tags);
    let experiment = Experiment {
        experiment_id: id,
        source: Source::ChaosToolkit,
        account_id: None,
        region: None,
        template_id: Some(title.clone()),
        template_name: Some(title),
        description: fields
            .text(&journal, "$.experiment.description")?
            .map(str::to_string),
        status: ledger_status,
        status_reason: reason,
        created_at: start,
        started_at: Some(start),
        ended_at: end,
        environment: tag(&keys.environment),
        team: tag(&keys.team),
        service: tag(&keys.service),
        trigger: tag(&keys.trigger),
        tags,
        stop_condition_alarms: Vec::new(),
        stop_condition_triggered: false,
        blast_radius: Vec::new(),
        hypothesis: hypothesis.map(|h| h.name.clone()),
        recover_within_s: hypothesis.and_then(|h| h.recover_within_s),
        ingested_at,
    };
    Ok(Journal {
        experiment,
        actions,
        series,
        points,
    })
}

/// The period of the samples: their median spacing in whole seconds (at least 1), so that
/// recovery's gap rule (no gap longer than two periods) follows the probe frequency.
fn sample_period(points: &[(Micros, f64)]) -> i64 {
    let mut gaps: Vec<i64> = points.windows(2).map(|w| w[1].0 - w[0].0).collect();
    if gaps.is_empty() {
        return 1;
    }
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2];
    ((median as f64 / 1e6).round() as i64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Journal, String> {
        parse_journal(
            Path::new("journal.json"),
            text.as_bytes(),
            &Config::default(),
            0,
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn malformed_journals_name_the_json_path() {
        assert!(
            parse("{\"status\": ")
                .unwrap_err()
                .starts_with("journal.json:1:")
        );
        assert_eq!(
            parse(r#"{"status": "completed", "start": "2026-01-01T00:00:00Z"}"#).unwrap_err(),
            "journal.json: $.experiment.title: missing: a journal names its experiment"
        );
        assert_eq!(
            parse(r#"{"experiment": {"title": "t"}, "status": "completed", "start": "yesterday"}"#)
                .unwrap_err(),
            "journal.json: $.start: `yesterday` is not a time (RFC 3339)"
        );
        assert_eq!(
            parse(r#"{"experiment": {"title": "t"}, "status": "completed", "start": "2026-01-01T00:00:00Z",
                "run": [{"activity": {"name": "a"}, "start": 5}]}"#)
            .unwrap_err(),
            "journal.json: $.run[0].start: expected text, found 5"
        );
        assert_eq!(
            parse(r#"{"experiment": {"title": "t", "tags": ["team:pay", 3]}, "status": "completed", "start": "2026-01-01T00:00:00Z"}"#)
                .unwrap_err(),
            "journal.json: $.experiment.tags[1]: expected text, found 3"
        );
    }

    #[test]
    fn the_same_bytes_are_the_same_experiment() {
        let text = r#"{"experiment": {"title": "t", "tags": ["team:payments", "gameday"]}, "status": "completed", "start": "2026-01-01T00:00:00"}"#;
        let a = parse(text).unwrap();
        let b = parse(text).unwrap();
        assert_eq!(a.experiment.experiment_id, b.experiment.experiment_id);
        assert!(a.experiment.experiment_id.starts_with("ctk-"));
        assert_eq!(a.experiment.team.as_deref(), Some("payments"));
        assert_eq!(
            a.experiment.tags.get("gameday").map(String::as_str),
            Some("")
        );
        // Without an offset, UTC.
        assert_eq!(
            a.experiment.started_at,
            parse_timestamp("2026-01-01T00:00:00Z").ok()
        );
    }
}
