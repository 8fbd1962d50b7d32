//! Recovery curves: for the experiments a report explains in detail (red and yellow ones), every
//! level series' points in the observation window with its band, `t0`, impact and recovery, as
//! judged by `recovery::analyze_experiment`. Charts draw these; nothing here is recomputed.

use std::collections::{BTreeMap, HashSet};

use polars::prelude::*;

use super::program::Analysis;
use super::recovery::SeriesResult;
use super::{AnalyzeError, JudgedExperiment, LedgerRecords};
use crate::vocab::Band;
use crate::vocab::Verdict;
use crate::vocab::time::Micros;

#[derive(Debug, Clone, PartialEq)]
pub struct CurveSeries {
    pub series_id: String,
    /// `AWS/ApplicationELB HealthyHostCount (Minimum)`.
    pub metric: String,
    pub steady: String,
    pub band: Band,
    pub impact_at: Option<Micros>,
    pub recovered_at: Option<Micros>,
    /// The points inside the observation window, in time order.
    pub points: Vec<(Micros, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryCurve {
    pub experiment_id: String,
    pub title: String,
    pub verdict: Verdict,
    pub t0: Micros,
    pub t1: Micros,
    pub window: (Micros, Micros),
    pub recover_within_s: Option<f64>,
    pub time_to_recover_s: Option<f64>,
    pub series: Vec<CurveSeries>,
}

/// At most this many recovery curves in a quarterly report. A demo quarter of 10,000
/// experiments has about 600 red and yellow runs: 600 charts are hundreds of pages nobody reads
/// and most of the PDF's time and memory. The most severe are charted; the rest stay in the
/// experiments table, and `checkup report --kind experiment:ID` charts any of them.
pub const MOST_CURVES_CHARTED: usize = 40;

/// Which red and yellow experiments of the period a quarterly report charts.
#[derive(Debug, Clone, PartialEq)]
pub struct Charted {
    /// Indexes into `analysis.experiments`, the most severe first.
    pub experiments: Vec<usize>,
    /// Red and yellow experiments with an observation window left uncharted.
    pub left_out: usize,
}

/// The period's red and yellow experiments with an observation window, at most `limit`, the most
/// severe first: red before yellow; then never recovered; then the longest time to recover;
/// then the newest.
pub fn charted_experiments(analysis: &Analysis, limit: usize) -> Charted {
    let experiments = &analysis.experiments;
    let mut candidates: Vec<usize> = (0..experiments.len())
        .filter(|i| experiments[*i].in_period)
        .filter(|i| {
            let outcome = &experiments[*i].outcome;
            matches!(outcome.verdict, Verdict::Red | Verdict::Yellow) && outcome.window.is_some()
        })
        .collect();
    let severity = |i: &usize| {
        let outcome = &experiments[*i].outcome;
        let recover = outcome.time_to_recover_s.unwrap_or(f64::INFINITY);
        (
            outcome.verdict == Verdict::Red,
            !outcome.recovered,
            recover,
            experiments[*i].start(),
        )
    };
    candidates.sort_by(|a, b| {
        let (a, b) = (severity(a), severity(b));
        (b.0, b.1)
            .cmp(&(a.0, a.1))
            .then(b.2.total_cmp(&a.2))
            .then(b.3.cmp(&a.3))
    });
    let left_out = candidates.len().saturating_sub(limit);
    candidates.truncate(limit);
    Charted {
        experiments: candidates,
        left_out,
    }
}

/// The curves of the experiments at the given indexes of `analysis.experiments` (those with an
/// observation window), newest first.
pub fn curves_of(
    data: &LedgerRecords,
    analysis: &Analysis,
    chosen: &[usize],
) -> Result<Vec<RecoveryCurve>, AnalyzeError> {
    let chosen: Vec<usize> = chosen
        .iter()
        .copied()
        .filter(|i| analysis.experiments[*i].outcome.window.is_some())
        .collect();
    let ids: HashSet<&str> = chosen
        .iter()
        .map(|i| analysis.experiments[*i].id())
        .collect();
    let points = points_of(&data.points, &ids).map_err(AnalyzeError::Points)?;
    let series_info: BTreeMap<(&str, &str), &crate::ledger::MetricSeries> = data
        .series
        .iter()
        .filter(|s| ids.contains(s.experiment_id.as_str()))
        .map(|s| ((s.experiment_id.as_str(), s.series_id.as_str()), s))
        .collect();

    let mut curves: Vec<RecoveryCurve> = chosen
        .iter()
        .map(|i| {
            let JudgedExperiment {
                experiment,
                outcome,
                ..
            } = &analysis.experiments[*i];
            let window = outcome.window.expect("chosen with a window");
            let id = experiment.experiment_id.as_str();
            let series = outcome
                .series
                .iter()
                .filter_map(|(series_id, result)| {
                    let SeriesResult::Level(level) = result else {
                        return None;
                    };
                    let info = series_info.get(&(id, series_id.as_str()));
                    Some(CurveSeries {
                        series_id: series_id.clone(),
                        metric: info
                            .map(|s| format!("{} {} ({})", s.namespace, s.metric, s.stat))
                            .unwrap_or_default(),
                        steady: info.map(|s| s.steady.clone()).unwrap_or_default(),
                        band: level.band,
                        impact_at: level.impact_at,
                        recovered_at: level.recovered_at,
                        points: points
                            .get(&(id.to_string(), series_id.clone()))
                            .map(|all| {
                                all.iter()
                                    .copied()
                                    .filter(|(ts, _)| (window.0..=window.1).contains(ts))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                })
                .collect();
            RecoveryCurve {
                experiment_id: id.to_string(),
                title: experiment
                    .template_name
                    .clone()
                    .or_else(|| experiment.template_id.clone())
                    .unwrap_or_else(|| id.to_string()),
                verdict: outcome.verdict,
                t0: outcome.t0.unwrap_or(window.0),
                t1: outcome.t1.unwrap_or(window.1),
                window,
                recover_within_s: outcome.recover_within_s,
                time_to_recover_s: outcome.time_to_recover_s,
                series,
            }
        })
        .collect();
    curves.sort_by(|a, b| (b.t0, &b.experiment_id).cmp(&(a.t0, &a.experiment_id)));
    Ok(curves)
}

type SeriesPoints = BTreeMap<(String, String), Vec<(Micros, f64)>>;

/// The points of the chosen experiments, by (experiment, series), in time order.
fn points_of(points: &DataFrame, ids: &HashSet<&str>) -> PolarsResult<SeriesPoints> {
    let wanted = DataFrame::new_infer_height(vec![Column::new(
        "experiment_id".into(),
        ids.iter().copied().collect::<Vec<_>>(),
    )])?;
    let selected = points
        .clone()
        .lazy()
        .join(
            wanted.lazy(),
            [col("experiment_id")],
            [col("experiment_id")],
            JoinArgs::new(JoinType::Semi),
        )
        .select([
            col("experiment_id"),
            col("series_id"),
            col("ts").cast(DataType::Int64),
            col("value"),
        ])
        .collect()?;
    let experiment_ids = selected.column("experiment_id")?.str()?;
    let series_ids = selected.column("series_id")?.str()?;
    let ts = selected.column("ts")?.i64()?;
    let values = selected.column("value")?.f64()?;
    let mut grouped: SeriesPoints = BTreeMap::new();
    for row in 0..selected.height() {
        let (Some(e), Some(s), Some(t), Some(v)) = (
            experiment_ids.get(row),
            series_ids.get(row),
            ts.get(row),
            values.get(row),
        ) else {
            continue;
        };
        grouped
            .entry((e.to_string(), s.to_string()))
            .or_default()
            .push((t, v));
    }
    for points in grouped.values_mut() {
        points.sort_by_key(|(ts, _)| *ts);
    }
    Ok(grouped)
}
