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

use serde::Deserialize;

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

// The journal as written: only the fields checkup reads (a journal carries much more, such as
// each activity's output), each optional as chaoslib versions differ.

#[derive(Debug, Deserialize)]
struct RawJournal {
    experiment: Option<RawExperiment>,
    status: Option<String>,
    start: Option<JournalTime>,
    end: Option<JournalTime>,
    deviated: Option<bool>,
    run: Option<Vec<RawRun>>,
    steady_states: Option<RawSteadyStates>,
}

#[derive(Debug, Deserialize)]
struct RawExperiment {
    title: Option<String>,
    description: Option<String>,
    tags: Option<Vec<String>>,
    #[serde(rename = "steady-state-hypothesis")]
    hypothesis: Option<RawHypothesis>,
}

#[derive(Debug, Deserialize)]
struct RawHypothesis {
    title: Option<String>,
}

/// One activity of the method as it ran.
#[derive(Debug, Deserialize)]
struct RawRun {
    activity: Option<RawActivity>,
    status: Option<String>,
    start: Option<JournalTime>,
    end: Option<JournalTime>,
}

#[derive(Debug, Default, Deserialize)]
struct RawActivity {
    name: Option<String>,
    #[serde(rename = "type")]
    activity_type: Option<String>,
    provider: Option<RawProvider>,
}

#[derive(Debug, Default, Deserialize)]
struct RawProvider {
    #[serde(rename = "type")]
    provider_type: Option<String>,
    module: Option<String>,
    func: Option<String>,
    path: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawSteadyStates {
    before: Option<RawSteadyState>,
    during: Option<Vec<Option<RawSteadyState>>>,
    after: Option<RawSteadyState>,
}

#[derive(Debug, Deserialize)]
struct RawSteadyState {
    steady_state_met: Option<bool>,
    probes: Option<Vec<RawProbe>>,
}

#[derive(Debug, Deserialize)]
struct RawProbe {
    start: Option<JournalTime>,
}

/// A journal time (see [`journal_time`]).
#[derive(Debug, Clone, Copy)]
struct JournalTime(Micros);

impl<'de> Deserialize<'de> for JournalTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        journal_time(&text).map(JournalTime).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{} is not a time (RFC 3339)",
                crate::vocab::format::quoted(&text)
            ))
        })
    }
}

/// The JSON of a journal, or an error naming the file and the JSON path (`$.run[0].start`).
fn deserialize_journal(path: &Path, bytes: &[u8]) -> Result<RawJournal, JournalError> {
    let not_json = |inner: serde_json::Error| JournalError::Json {
        path: path.to_path_buf(),
        line: inner.line(),
        column: inner.column(),
        message: inner.to_string(),
    };
    // serde reads a struct from a list too; a journal is an object.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(not_json)?;
        return Err(field_error(path, "$", "a journal is a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let journal = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let json_path = match error.path().to_string().as_str() {
            "." => "$".to_string(),
            inner => format!("$.{inner}"),
        };
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return not_json(inner);
        }
        // serde_json ends its message with the position; the JSON path says where instead.
        let text = inner.to_string();
        let message = text
            .rsplit_once(" at line ")
            .map_or(text.as_str(), |(m, _)| m);
        field_error(path, &json_path, &cut(message))
    })?;
    deserializer.end().map_err(not_json)?;
    Ok(journal)
}

/// A message cut to a readable length (serde quotes a value of the wrong type in full).
fn cut(message: &str) -> String {
    const KEEP: usize = 200;
    if message.chars().count() <= KEEP {
        message.to_string()
    } else {
        let head: String = message.chars().take(KEEP).collect();
        format!("{head}…")
    }
}

fn field_error(path: &Path, json_path: &str, message: &str) -> JournalError {
    JournalError::Field {
        path: path.to_path_buf(),
        json_path: json_path.to_string(),
        message: message.to_string(),
    }
}

/// Maps the bytes of one journal; errors name the file and the JSON path.
pub fn parse_journal(
    path: &Path,
    bytes: &[u8],
    config: &Config,
    ingested_at: Micros,
) -> Result<Journal, JournalError> {
    let journal = deserialize_journal(path, bytes)?;
    let id = content_id(bytes);
    let experiment = journal.experiment.as_ref();
    let title = experiment.and_then(|e| e.title.clone()).ok_or_else(|| {
        field_error(
            path,
            "$.experiment.title",
            "missing: a journal names its experiment",
        )
    })?;
    let status = journal
        .status
        .as_deref()
        .ok_or_else(|| field_error(path, "$.status", "missing"))?;
    let start = journal
        .start
        .ok_or_else(|| field_error(path, "$.start", "missing"))?
        .0;
    let end = journal.end.map(|t| t.0);

    // Tags: `key:value` strings; a bare word is a tag with an empty value.
    let tags: BTreeMap<String, String> = experiment
        .and_then(|e| e.tags.as_ref())
        .into_iter()
        .flatten()
        .map(|tag| {
            let (key, value) = tag.split_once(':').unwrap_or((tag, ""));
            (key.trim().to_string(), value.trim().to_string())
        })
        .collect();
    let run = journal.run.as_deref().unwrap_or_default();
    let actions = actions_of(&id, run);
    let (before_met, points) = steady_state_samples(journal.steady_states.as_ref(), start, end);
    let (ledger_status, reason) = ledger_status(
        status,
        journal.deviated,
        before_met,
        journal.steady_states.is_some(),
        !run.is_empty(),
    )
    .ok_or_else(|| {
        field_error(
            path,
            "$.status",
            "is not completed, failed, interrupted or aborted",
        )
    })?;

    let hypothesis_title = experiment
        .and_then(|e| e.hypothesis.as_ref())
        .and_then(|h| h.title.clone())
        .unwrap_or_else(|| "steady state".to_string());
    let series = (!points.is_empty()).then(|| MetricSeries {
        experiment_id: id.clone(),
        series_id: STEADY_STATE_MET.to_string(),
        namespace: "chaostoolkit".to_string(),
        metric: hypothesis_title,
        stat: "met".to_string(),
        dimensions: BTreeMap::new(),
        period_s: sample_period(&points),
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
        description: experiment.and_then(|e| e.description.clone()),
        status: ledger_status,
        status_reason: reason,
        created_at: start,
        started_at: Some(start),
        ended_at: end,
        environment: tag(&keys.environment),
        team: tag(&keys.team),
        service: tag(&keys.service),
        trigger: tag(&keys.trigger),
        tags: tags.into(),
        stop_condition_alarms: Vec::new(),
        stop_condition_triggered: false,
        blast_radius: Vec::new(),
        hypothesis: hypothesis.map(|h| h.name.clone()),
        recover_within_s: hypothesis.and_then(|h| h.recover_within_s),
        ingested_at,
        actions_mode: None,
        resolved_targets: None,
    };
    Ok(Journal {
        experiment,
        actions,
        series,
        points,
    })
}

/// The method's activities, with their own status and times; a name used twice gets `#2`.
fn actions_of(experiment_id: &str, run: &[RawRun]) -> Vec<Action> {
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let no_activity = RawActivity::default();
    let no_provider = RawProvider::default();
    run.iter()
        .map(|item| {
            let activity = item.activity.as_ref().unwrap_or(&no_activity);
            let name = activity.name.as_deref().unwrap_or("activity").to_string();
            let seen = names.entry(name.clone()).or_default();
            *seen += 1;
            let action_name = if *seen == 1 {
                name
            } else {
                format!("{name} #{seen}")
            };
            let activity_type = activity.activity_type.as_deref().unwrap_or("action");
            let provider = activity.provider.as_ref().unwrap_or(&no_provider);
            let provider_type = provider.provider_type.as_deref().unwrap_or("unknown");
            let target = match (provider_type, &provider.module, &provider.func) {
                ("python", Some(module), Some(func)) => format!(":{module}.{func}"),
                ("process", _, _) => provider
                    .path
                    .as_deref()
                    .map(|p| format!(":{p}"))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            Action {
                experiment_id: experiment_id.to_string(),
                action_name,
                action_id: format!("chaostoolkit:{activity_type}:{provider_type}{target}"),
                system: None,
                // An activity cut short by an interruption has no status.
                status: item.status.as_deref().unwrap_or("interrupted").to_string(),
                started_at: item.start.map(|t| t.0),
                ended_at: item.end.map(|t| t.0),
                targets: Vec::new(),
            }
        })
        .collect()
}

/// The hypothesis as samples (1.0 when met) before the method, during it (the continuous
/// strategy) and after it, in time order; and the sample before the method on its own.
fn steady_state_samples(
    steady_states: Option<&RawSteadyStates>,
    start: Micros,
    end: Option<Micros>,
) -> (Option<(Micros, f64)>, Vec<(Micros, f64)>) {
    let Some(states) = steady_states else {
        return (None, Vec::new());
    };
    let sample = |state: &RawSteadyState, fallback: Option<Micros>| {
        let met = state.steady_state_met?;
        let first_probe = state.probes.as_ref().and_then(|p| p.first());
        let at = first_probe
            .and_then(|p| p.start)
            .map(|t| t.0)
            .or(fallback)?;
        Some((at, if met { 1.0 } else { 0.0 }))
    };
    let before_met = states.before.as_ref().and_then(|s| sample(s, Some(start)));
    let mut points: Vec<(Micros, f64)> = before_met.into_iter().collect();
    for during in states.during.iter().flatten().flatten() {
        points.extend(sample(during, None));
    }
    points.extend(states.after.as_ref().and_then(|s| sample(s, end)));
    points.sort_by_key(|p| p.0);
    points.dedup_by_key(|p| p.0);
    (before_met, points)
}

/// The ledger status of a journal and why, as the seed's scenarios judge it; `None` for a status
/// Chaos Toolkit does not write.
fn ledger_status(
    status: &str,
    deviated: Option<bool>,
    before_met: Option<(Micros, f64)>,
    has_steady_states: bool,
    method_ran: bool,
) -> Option<(Status, Option<String>)> {
    let reason = |text: &str| Some(text.to_string());
    Some(match (status, deviated) {
        (_, Some(true)) => (
            Status::Failed,
            reason("the steady state did not hold after the method (Chaos Toolkit: deviated)"),
        ),
        ("failed", _)
            if before_met.is_some_and(|(_, met)| met == 0.0)
                || (has_steady_states && !method_ran) =>
        {
            (
                Status::Cancelled,
                reason("the steady state did not hold before the method, so nothing was injected"),
            )
        }
        ("failed", None) if method_ran => (
            Status::Failed,
            reason(
                "the run failed after its method ran (a chaoslib 0.12 journal: its steady state did not hold after the method)",
            ),
        ),
        ("failed", _) => (
            Status::Failed,
            reason("Chaos Toolkit reported the run failed"),
        ),
        // Analysis says "The run was interrupted before it finished."; nothing to add.
        ("interrupted", _) => (Status::Interrupted, None),
        ("aborted", _) => (Status::Aborted, None),
        (other, _) => (Status::from_name(other)?, None),
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
            "journal.json: $.run[0].start: invalid type: integer `5`, expected a string"
        );
        assert_eq!(
            parse(r#"{"experiment": {"title": "t", "tags": ["team:pay", 3]}, "status": "completed", "start": "2026-01-01T00:00:00Z"}"#)
                .unwrap_err(),
            "journal.json: $.experiment.tags[1]: invalid type: integer `3`, expected a string"
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
        assert_eq!(a.experiment.tags.get("gameday").as_deref(), Some(""));
        // Without an offset, UTC.
        assert_eq!(
            a.experiment.started_at,
            parse_timestamp("2026-01-01T00:00:00Z").ok()
        );
    }
}
