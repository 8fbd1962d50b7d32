//! Analysis: every number in every report. Pure: data and settings in, numbers out; no IO, no
//! async, no AWS types. [`judge_experiments`] gives each experiment its verdict and recovery time;
//! [`summary`] aggregates them per quarter.

pub mod catalog;
pub mod maturity;
pub mod mttr;
pub mod program;
pub mod recovery;
pub mod roi;
pub mod summary;
pub mod weaknesses;

use std::collections::HashMap;

use polars::prelude::*;

pub use recovery::{ExperimentOutcome, Verdict, WindowSettings};

use crate::ledger::{Action, AlarmEvent, Experiment, Incident, MetricSeries, Outcome};
use crate::time::Micros;
use recovery::{ExperimentInput, ObservedSeries, analyze_experiment};

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("the points table cannot be read as (experiment_id, series_id, ts, value)")]
    Points(#[source] PolarsError),
    #[error(transparent)]
    Query(#[from] summary::QueryError),
}

/// The ledger's tables as analysis takes them.
#[derive(Debug, Clone)]
pub struct LedgerData {
    pub experiments: Vec<Experiment>,
    pub actions: Vec<Action>,
    pub series: Vec<MetricSeries>,
    /// The points table: experiment_id, series_id, ts, value.
    pub points: DataFrame,
    pub alarm_events: Vec<AlarmEvent>,
    pub incidents: Vec<Incident>,
}

/// The points of every series, sorted and indexed by (experiment, series).
struct PointIndex {
    ts: Vec<Micros>,
    values: Vec<f64>,
    ranges: HashMap<(String, String), std::ops::Range<usize>>,
}

impl PointIndex {
    fn build(points: &DataFrame) -> PolarsResult<PointIndex> {
        let sorted = points
            .clone()
            .lazy()
            .select([
                col("experiment_id"),
                col("series_id"),
                col("ts").cast(DataType::Int64),
                col("value"),
            ])
            .sort(
                ["experiment_id", "series_id", "ts"],
                SortMultipleOptions::default(),
            )
            .collect()?;
        let experiment_ids = sorted.column("experiment_id")?.str()?;
        let series_ids = sorted.column("series_id")?.str()?;
        let ts: Vec<Micros> = sorted
            .column("ts")?
            .i64()?
            .iter()
            .map(|ts| ts.unwrap_or(Micros::MIN))
            .collect();
        let values: Vec<f64> = sorted
            .column("value")?
            .f64()?
            .iter()
            .map(|value| value.unwrap_or(f64::NAN))
            .collect();
        let mut ranges = HashMap::new();
        let mut start = 0;
        let mut current: Option<(&str, &str)> = None;
        for (row, (experiment_id, series_id)) in
            experiment_ids.iter().zip(series_ids.iter()).enumerate()
        {
            let key = (
                experiment_id.unwrap_or_default(),
                series_id.unwrap_or_default(),
            );
            if current != Some(key) {
                if let Some((e, s)) = current {
                    ranges.insert((e.to_string(), s.to_string()), start..row);
                }
                current = Some(key);
                start = row;
            }
        }
        if let Some((e, s)) = current {
            ranges.insert((e.to_string(), s.to_string()), start..ts.len());
        }
        Ok(PointIndex { ts, values, ranges })
    }
}

/// Judges every experiment of the ledger (SPEC section 6), in the order of `data.experiments`.
pub fn judge_experiments(
    data: &LedgerData,
    settings: &WindowSettings,
) -> Result<Vec<ExperimentOutcome>, AnalyzeError> {
    let points = PointIndex::build(&data.points).map_err(AnalyzeError::Points)?;
    let mut actions_by_experiment: HashMap<&str, Vec<&Action>> = HashMap::new();
    for action in &data.actions {
        actions_by_experiment
            .entry(action.experiment_id.as_str())
            .or_default()
            .push(action);
    }
    let mut series_by_experiment: HashMap<&str, Vec<&MetricSeries>> = HashMap::new();
    for series in &data.series {
        series_by_experiment
            .entry(series.experiment_id.as_str())
            .or_default()
            .push(series);
    }
    let mut alarm_times: HashMap<&str, Vec<Micros>> = HashMap::new();
    for event in &data.alarm_events {
        if event.to_state == "ALARM" {
            alarm_times
                .entry(event.alarm_name.as_str())
                .or_default()
                .push(event.ts);
        }
    }

    let empty: &[Micros] = &[];
    let no_values: &[f64] = &[];
    let outcomes = data
        .experiments
        .iter()
        .map(|experiment| {
            let id = experiment.experiment_id.as_str();
            let actions = actions_by_experiment
                .get(id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let observed: Vec<ObservedSeries> = series_by_experiment
                .get(id)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|series| {
                    let range = points
                        .ranges
                        .get(&(id.to_string(), series.series_id.clone()));
                    match range {
                        Some(range) => ObservedSeries {
                            series,
                            ts: &points.ts[range.clone()],
                            values: &points.values[range.clone()],
                        },
                        None => ObservedSeries {
                            series,
                            ts: empty,
                            values: no_values,
                        },
                    }
                })
                .collect();
            let alarms: Vec<Micros> = experiment
                .stop_condition_alarms
                .iter()
                .flat_map(|alarm| {
                    alarm_times
                        .get(alarm.as_str())
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                })
                .copied()
                .collect();
            let input = ExperimentInput {
                experiment,
                actions,
                series: &observed,
                alarm_times: &alarms,
            };
            analyze_experiment(&input, settings)
        })
        .collect();
    Ok(outcomes)
}

/// The `outcomes` ledger rows for a set of judged experiments.
pub fn outcome_records(outcomes: &[ExperimentOutcome], analyzed_at: Micros) -> Vec<Outcome> {
    outcomes
        .iter()
        .map(|outcome| Outcome {
            experiment_id: outcome.experiment_id.clone(),
            verdict: outcome.verdict.name().to_string(),
            time_to_impact_s: outcome.time_to_impact_s,
            time_to_recover_s: outcome.time_to_recover_s,
            recovered: outcome.recovered,
            peaks: outcome
                .series
                .iter()
                .filter_map(|(id, result)| match result {
                    recovery::SeriesResult::Level(level) => {
                        level.peak.map(|peak| (id.clone(), peak))
                    }
                    _ => None,
                })
                .collect(),
            degraded_s: outcome.degraded_s,
            error_total: outcome.error_total,
            reasons: outcome.reasons.clone(),
            analyzed_at,
        })
        .collect()
}
