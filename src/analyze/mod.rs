//! Analysis: every number in every report. Pure: data and settings in, numbers out; no IO, no
//! async, no AWS types. [`judge_experiments`] gives each experiment its verdict and recovery time;
//! [`summary`] aggregates them per quarter.

pub mod curves;
pub mod gate;
pub mod headline;
pub mod judged;
pub mod maturity;
pub mod mttr;
pub mod program;
pub mod readiness;
pub mod reason;
pub mod recovery;
pub mod review;
pub mod roi;
pub mod summary;
pub mod systems;
pub mod weaknesses;

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use rayon::prelude::*;

pub use judged::JudgedExperiment;
pub use recovery::ExperimentOutcome;

use crate::config::WindowSettings;
use crate::ledger::{Action, AlarmEvent, Columns, Experiment, Incident, MetricSeries, Outcome};
use crate::vocab::AlarmState;
use crate::vocab::catalog::ActionCatalog;
use crate::vocab::time::Micros;
use recovery::{ExperimentInput, ObservedSeries, SeriesRule, analyze_experiment};

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("the points table cannot be read as (experiment_id, series_id, ts, value)")]
    Points(#[source] PolarsError),
    #[error(transparent)]
    Query(#[from] summary::QueryError),
}

/// The ledger's tables as analysis takes them.
#[derive(Debug, Clone)]
pub struct LedgerRecords {
    pub experiments: Vec<Experiment>,
    pub actions: Vec<Action>,
    pub series: Vec<MetricSeries>,
    /// The points table: experiment_id, series_id, ts, value.
    pub points: DataFrame,
    pub alarm_events: Vec<AlarmEvent>,
    pub incidents: Vec<Incident>,
}

/// The points of every series, sorted and indexed by (experiment, series). The keys borrow the
/// points frame's strings: on 10,000 experiments, copying 40,000 key pairs into `String`s and
/// hashing them with SipHash was half of the index's time. Times and values borrow the frame's
/// columns too when they are one chunk without nulls.
struct PointIndex<'a> {
    ts: std::borrow::Cow<'a, [Micros]>,
    values: std::borrow::Cow<'a, [f64]>,
    ranges: PlHashMap<(&'a str, &'a str), std::ops::Range<usize>>,
}

impl<'a> PointIndex<'a> {
    /// Indexes the points and hands the index to `use_index`. Sorting (the slow part on a big
    /// ledger) happens only for points not in the ledger's order, e.g. points that did not come
    /// from a ledger.
    fn with<R>(points: &DataFrame, use_index: impl FnOnce(&PointIndex) -> R) -> PolarsResult<R> {
        let mut columns = points.select(["experiment_id", "series_id", "ts", "value"])?;
        // A ledger's keys have no nulls and come in Parquet row groups, the same rows in both
        // columns. Points from elsewhere are brought to that shape (a missing key reads as empty).
        if !keys_aligned(&columns)? {
            columns = columns
                .lazy()
                .with_columns([
                    col("experiment_id").fill_null(lit("")),
                    col("series_id").fill_null(lit("")),
                ])
                .collect()?;
            columns.rechunk_mut_par();
        }
        if let Some(index) = PointIndex::index_runs(&columns)? {
            return Ok(use_index(&index));
        }
        let mut sorted = columns.sort(
            ["experiment_id", "series_id", "ts"],
            SortMultipleOptions::default(),
        )?;
        if !keys_aligned(&sorted)? {
            sorted.rechunk_mut_par();
        }
        let index = PointIndex::index_runs(&sorted)?.expect("sorted points form runs");
        Ok(use_index(&index))
    }

    /// Indexes runs of equal (experiment, series); `None` when a key appears in two runs or time
    /// goes backwards inside a run. The ledger writes each partition sorted by (experiment_id,
    /// series_id, ts) and keeps an experiment's rows in one partition, so on a ledger's points
    /// this holds and the index is one pass over them.
    fn index_runs(points: &'a DataFrame) -> PolarsResult<Option<PointIndex<'a>>> {
        let experiment_ids = points.column("experiment_id")?.str()?;
        let series_ids = points.column("series_id")?.str()?;
        // A ledger's times are Datetime(µs); their physical i64 values are the micros. Points
        // from elsewhere may come as plain i64.
        let ts_column = points.column("ts")?;
        let ts = match ts_column.dtype() {
            DataType::Datetime(_, _) => {
                borrowed_or_filled(ts_column.datetime()?.physical(), Micros::MIN)
            }
            _ => borrowed_or_filled(ts_column.i64()?, Micros::MIN),
        };
        let values = borrowed_or_filled(points.column("value")?.f64()?, f64::NAN);
        let mut ranges = PlHashMap::new();
        let chunks = aligned_chunks(experiment_ids, series_ids)
            .expect("`PointIndex::with` aligns the key columns");
        // A row continues the run when its 16-byte string views equal the previous row's
        // (strings decoded from one Parquet dictionary share them) or, failing that, its strings
        // do: most rows cost no string comparison (it was a third of judging's time on 10,000
        // experiments). Chunks are not concatenated: on 100,000 experiments copying the string
        // columns cost more than it saved.
        let mut start = 0;
        let mut current: Option<(&str, &str)> = None;
        let mut row = 0;
        for (experiment_ids, series_ids) in chunks {
            let (experiment_views, series_views) = (experiment_ids.views(), series_ids.views());
            for i in 0..experiment_ids.len() {
                let same = if i == 0 {
                    current == Some((experiment_ids.value(0), series_ids.value(0)))
                } else {
                    (experiment_views[i] == experiment_views[i - 1]
                        || experiment_ids.value(i) == experiment_ids.value(i - 1))
                        && (series_views[i] == series_views[i - 1]
                            || series_ids.value(i) == series_ids.value(i - 1))
                };
                if same {
                    if ts[row] < ts[row - 1] {
                        return Ok(None);
                    }
                } else {
                    if let Some(previous) = current
                        && ranges.insert(previous, start..row).is_some()
                    {
                        return Ok(None);
                    }
                    current = Some((experiment_ids.value(i), series_ids.value(i)));
                    start = row;
                }
                row += 1;
            }
        }
        if let Some(previous) = current
            && ranges.insert(previous, start..row).is_some()
        {
            return Ok(None);
        }
        Ok(Some(PointIndex { ts, values, ranges }))
    }
}

/// Whether the key columns have no nulls and chunks of the same rows.
fn keys_aligned(points: &DataFrame) -> PolarsResult<bool> {
    Ok(aligned_chunks(
        points.column("experiment_id")?.str()?,
        points.column("series_id")?.str()?,
    )
    .is_some())
}

/// The arrays of two text columns side by side, when neither has nulls and their chunks hold the
/// same rows.
fn aligned_chunks<'a>(
    left: &'a StringChunked,
    right: &'a StringChunked,
) -> Option<
    Vec<(
        &'a <StringType as PolarsDataType>::Array,
        &'a <StringType as PolarsDataType>::Array,
    )>,
> {
    if left.null_count() > 0 || right.null_count() > 0 {
        return None;
    }
    let pairs: Vec<_> = left.downcast_iter().zip(right.downcast_iter()).collect();
    let aligned = left.chunks().len() == right.chunks().len()
        && pairs.iter().all(|(l, r)| l.len() == r.len());
    aligned.then_some(pairs)
}

/// A column's values borrowed when it is one chunk without nulls, else copied (nulls replaced by
/// `missing`).
fn borrowed_or_filled<'a, T>(
    column: &'a ChunkedArray<T>,
    missing: T::Native,
) -> std::borrow::Cow<'a, [T::Native]>
where
    T: PolarsNumericType,
{
    if let Ok(values) = column.cont_slice() {
        return std::borrow::Cow::Borrowed(values);
    }
    if column.null_count() == 0 {
        // Several chunks (Parquet row groups): their value buffers one after the other.
        let mut values = Vec::with_capacity(column.len());
        for chunk in column.downcast_iter() {
            values.extend_from_slice(chunk.values());
        }
        return std::borrow::Cow::Owned(values);
    }
    std::borrow::Cow::Owned(
        column
            .iter()
            .map(|value| value.unwrap_or(missing))
            .collect(),
    )
}

/// Rows grouped by the experiment they belong to (actions, series).
pub fn by_experiment<'a, T>(
    rows: &'a [T],
    experiment_id: impl Fn(&'a T) -> &'a str,
) -> HashMap<&'a str, Vec<&'a T>> {
    let mut grouped: HashMap<&str, Vec<&T>> = HashMap::new();
    for row in rows {
        grouped.entry(experiment_id(row)).or_default().push(row);
    }
    grouped
}

/// The series table's rows as judging reads them, borrowed from its columns: on a ledger, four
/// series an experiment, turning each row into an owned record (dimensions parsed into a map)
/// cost more than judging it.
pub fn series_rules(series: &DataFrame) -> PolarsResult<Vec<SeriesRule<'_>>> {
    let c = Columns::new(series);
    let experiment_id = c.borrowed_text("experiment_id")?;
    let series_id = c.borrowed_text("series_id")?;
    let stat = c.borrowed_text("stat")?;
    let period_s = c.integers("period_s")?;
    let steady = c.borrowed_text("steady")?;
    let limit = c.borrowed_text("limit")?;
    let kind = c.words("kind", crate::vocab::SeriesKind::from_name)?;
    let budget = c.floats("budget")?;
    let outage = c.floats("outage")?;
    Ok((0..series.height())
        .map(|row| SeriesRule {
            experiment_id: experiment_id[row].unwrap_or_default(),
            series_id: series_id[row].unwrap_or_default(),
            stat: stat[row].unwrap_or_default(),
            // As `series_from_frame` reads a missing period.
            period_s: period_s[row].unwrap_or(60),
            steady: steady[row].unwrap_or_default(),
            limit: limit[row],
            kind: kind[row],
            budget: budget[row],
            outage: outage[row],
        })
        .collect())
}

/// What judging reads: the rows of some experiments (the whole ledger, or one month of it) and
/// every alarm event.
#[derive(Debug, Clone)]
pub struct JudgeInput<'a> {
    pub experiments: &'a [Experiment],
    pub actions: &'a [Action],
    /// The series of those experiments ([`series_rules`] of the table, or of records).
    pub series: Vec<SeriesRule<'a>>,
    /// experiment_id, series_id, ts, value.
    pub points: &'a DataFrame,
    pub alarm_events: &'a [AlarmEvent],
    /// Which actions inject a fault (SPEC section 6).
    pub catalog: &'a ActionCatalog,
    /// Each service's recovery time objective: the allowance of its runs without a hypothesis's.
    pub rto_by_service: &'a BTreeMap<String, f64>,
}

impl LedgerRecords {
    /// The whole ledger as judging reads it.
    pub fn judge_input<'a>(
        &'a self,
        catalog: &'a ActionCatalog,
        rto_by_service: &'a BTreeMap<String, f64>,
    ) -> JudgeInput<'a> {
        JudgeInput {
            experiments: &self.experiments,
            actions: &self.actions,
            series: self.series.iter().map(SeriesRule::from).collect(),
            points: &self.points,
            alarm_events: &self.alarm_events,
            catalog,
            rto_by_service,
        }
    }
}

/// Judges every experiment of `data` (SPEC section 6), in the order of `data.experiments`.
pub fn judge_experiments(
    data: &JudgeInput,
    settings: &WindowSettings,
) -> Result<Vec<ExperimentOutcome>, AnalyzeError> {
    let actions_by_experiment = by_experiment(data.actions, |a| &a.experiment_id[..]);
    let series_by_experiment = by_experiment(&data.series, |s| s.experiment_id);
    // Each alarm's state changes in time order.
    let mut alarm_changes: PlHashMap<&str, Vec<(Micros, &str, AlarmState)>> = PlHashMap::new();
    for event in data.alarm_events {
        alarm_changes
            .entry(event.alarm_name.as_str())
            .or_default()
            .push((event.ts, event.alarm_name.as_str(), event.to_state));
    }
    for times in alarm_changes.values_mut() {
        times.sort_unstable();
    }

    let empty: &[Micros] = &[];
    let no_values: &[f64] = &[];
    let judge_all = |points: &PointIndex| -> Vec<ExperimentOutcome> {
        data.experiments
            .par_iter()
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
                    .map(|&&series| {
                        let range = points.ranges.get(&(id, series.series_id));
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
                // Only the alarm changes inside the experiment's window: an alarm shared by many
                // experiments has thousands of changes over a long history, and handing each
                // experiment all of them made judging a million experiments quadratic.
                let window = experiment
                    .fault_times(actions.iter().copied(), data.catalog)
                    .map(|(t0, t1)| settings.observation_window(t0, t1));
                let alarms: Vec<(Micros, &str, AlarmState)> = match window {
                    None => Vec::new(),
                    Some((start, end)) => experiment
                        .stop_condition_alarms
                        .iter()
                        .flat_map(|alarm| {
                            let times = alarm_changes
                                .get(alarm.as_str())
                                .map(Vec::as_slice)
                                .unwrap_or_default();
                            // The last change before the window too: the state the window opens in.
                            let first = times
                                .partition_point(|(ts, _, _)| *ts < start)
                                .saturating_sub(1);
                            let last = times.partition_point(|(ts, _, _)| *ts <= end);
                            &times[first..last.max(first)]
                        })
                        .copied()
                        .collect(),
                };
                let input = ExperimentInput {
                    experiment,
                    actions,
                    catalog: data.catalog,
                    recover_within_s: experiment.recover_within_s.or_else(|| {
                        let service = experiment.service.as_deref()?;
                        data.rto_by_service.get(service).copied()
                    }),
                    series: &observed,
                    alarm_changes: &alarms,
                };
                analyze_experiment(&input, settings)
            })
            .collect()
    };
    PointIndex::with(data.points, judge_all).map_err(AnalyzeError::Points)
}

/// The `outcomes` ledger rows for a set of judged experiments, their reasons written by `sentence`.
pub fn outcome_records<'a>(
    outcomes: impl IntoIterator<Item = &'a ExperimentOutcome>,
    analyzed_at: Micros,
    sentence: impl Fn(&reason::Reason) -> String,
) -> Vec<Outcome> {
    outcomes
        .into_iter()
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
            reasons: outcome.reasons.iter().map(&sentence).collect(),
            analyzed_at,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series_points(index: &PointIndex, experiment: &str, series: &str) -> Vec<(Micros, f64)> {
        let range = index.ranges[&(experiment, series)].clone();
        index.ts[range.clone()]
            .iter()
            .copied()
            .zip(index.values[range].iter().copied())
            .collect()
    }

    #[test]
    fn points_are_indexed_per_series_in_time_order_whatever_their_row_order() {
        let frame = |rows: &[(&str, &str, i64, f64)]| {
            df!(
                "experiment_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                "series_id" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                "ts" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
                "value" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )
            .unwrap()
        };
        // As the ledger writes them: runs per series, in time order.
        let sorted = frame(&[
            ("E1", "a", 1, 1.0),
            ("E1", "a", 2, 2.0),
            ("E1", "b", 1, 3.0),
            ("E2", "a", 5, 4.0),
        ]);
        // Interleaved and backwards: the index must sort them.
        let shuffled = frame(&[
            ("E1", "b", 1, 3.0),
            ("E1", "a", 2, 2.0),
            ("E2", "a", 5, 4.0),
            ("E1", "a", 1, 1.0),
        ]);
        // In two chunks (Parquet row groups), the first run split between them.
        let chunked = sorted.slice(0, 1).vstack(&sorted.slice(1, 3)).unwrap();
        assert_eq!(chunked.column("experiment_id").unwrap().n_chunks(), 2);
        for points in [sorted, shuffled, chunked] {
            PointIndex::with(&points, |index| {
                assert_eq!(series_points(index, "E1", "a"), [(1, 1.0), (2, 2.0)]);
                assert_eq!(series_points(index, "E1", "b"), [(1, 3.0)]);
                assert_eq!(series_points(index, "E2", "a"), [(5, 4.0)]);
            })
            .unwrap();
        }
        // A missing series id (not a ledger's: its keys are required) reads as empty.
        let with_null = df!(
            "experiment_id" => ["E1", "E1", "E2"],
            "series_id" => [Some("a"), Some("a"), None],
            "ts" => [1i64, 2, 3],
            "value" => [1.0, 2.0, 3.0],
        )
        .unwrap();
        PointIndex::with(&with_null, |index| {
            assert_eq!(series_points(index, "E1", "a"), [(1, 1.0), (2, 2.0)]);
            assert_eq!(series_points(index, "E2", ""), [(3, 3.0)]);
        })
        .unwrap();
    }

    /// A run without a hypothesis's `recover_within` is held to its service's `rto`.
    #[test]
    fn a_services_rto_is_the_allowance_when_no_hypothesis_sets_one() {
        use crate::vocab::{Origin, SeriesKind, Verdict};
        let minute = 60_000_000;
        let experiment = Experiment {
            service: Some("checkout".into()),
            ..Experiment::example("E1", 0)
        };
        let series = MetricSeries {
            experiment_id: "E1".into(),
            series_id: "healthy_hosts".into(),
            namespace: "AWS/ApplicationELB".into(),
            metric: "HealthyHostCount".into(),
            stat: "Minimum".into(),
            dimensions: Default::default(),
            period_s: 60,
            unit: None,
            origin: Origin::Hypothesis,
            steady: ">= 2".into(),
            limit: None,
            kind: SeriesKind::Level,
            budget: None,
            outage: None,
        };
        // Down from minute 1 to 6: recovered 6 minutes after t0.
        let minutes: Vec<i64> = (-5..=20).collect();
        let points = df!(
            "experiment_id" => minutes.iter().map(|_| "E1").collect::<Vec<_>>(),
            "series_id" => minutes.iter().map(|_| "healthy_hosts").collect::<Vec<_>>(),
            "ts" => minutes.iter().map(|m| m * minute).collect::<Vec<_>>(),
            "value" => minutes.iter().map(|m| if (1..6).contains(m) { 1.0 } else { 3.0 }).collect::<Vec<_>>(),
        )
        .unwrap();
        let records = LedgerRecords {
            experiments: vec![experiment],
            actions: vec![],
            series: vec![series],
            points,
            alarm_events: vec![],
            incidents: vec![],
        };
        let catalog = ActionCatalog::built_in();
        let judge = |rto: &[(&str, f64)]| {
            let rto: BTreeMap<String, f64> = rto.iter().map(|(s, v)| (s.to_string(), *v)).collect();
            judge_experiments(
                &records.judge_input(&catalog, &rto),
                &WindowSettings::default(),
            )
            .unwrap()
            .remove(0)
        };
        let held = judge(&[("checkout", 300.0)]);
        assert_eq!(
            (held.verdict, held.recover_within_s, held.time_to_recover_s),
            (Verdict::Yellow, Some(300.0), Some(360.0))
        );
        let other = judge(&[("search", 300.0)]);
        assert_eq!(
            (other.verdict, other.recover_within_s),
            (Verdict::Green, None)
        );
    }
}
