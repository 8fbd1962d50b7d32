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

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

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

/// The points of every series, in time order, by (experiment, series). The keys borrow the
/// points frame's strings: on 10,000 experiments, copying 40,000 key pairs into `String`s and
/// hashing them with SipHash was half of the index's time. Times and values borrow the frame's
/// chunks (Parquet row groups): on 100,000 experiments, copying a month's chunks into one buffer
/// and indexing them on one core took as long as judging the month. Only a series split between
/// chunks is copied.
struct PointIndex<'a> {
    /// Each chunk's times and values, borrowed when it has no nulls (a missing time reads as
    /// `Micros::MIN`, a missing value as NaN).
    chunks: Vec<(Cow<'a, [Micros]>, Cow<'a, [f64]>)>,
    /// The series that continue from one chunk into the next, copied whole.
    joined: Vec<(Vec<Micros>, Vec<f64>)>,
    runs: PlHashMap<(&'a str, &'a str), Run>,
}

/// Where a series' points are in a [`PointIndex`].
#[derive(Debug, Clone)]
enum Run {
    /// Rows of one chunk.
    Within { chunk: usize, rows: Range<usize> },
    /// An entry of `joined`.
    Joined(usize),
}

/// One chunk's runs of equal (experiment, series), in row order.
type ChunkRuns<'a> = Vec<((&'a str, &'a str), Range<usize>)>;

impl<'a> PointIndex<'a> {
    /// Indexes the points and hands the index to `use_index`. Sorting (the slow part on a big
    /// ledger) happens only for points not in the ledger's order, e.g. points that did not come
    /// from a ledger.
    fn with<R>(points: &DataFrame, use_index: impl FnOnce(&PointIndex) -> R) -> PolarsResult<R> {
        let mut columns = points.select(["experiment_id", "series_id", "ts", "value"])?;
        // A ledger's keys have no nulls and its four columns come in Parquet row groups, the
        // same rows in each. Points from elsewhere are brought to that shape (a missing key reads
        // as empty).
        if !chunks_aligned(&columns)? {
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
        if !chunks_aligned(&sorted)? {
            sorted.rechunk_mut_par();
        }
        let index = PointIndex::index_runs(&sorted)?.expect("sorted points form runs");
        Ok(use_index(&index))
    }

    /// Indexes runs of equal (experiment, series); `None` when a key appears in two runs or time
    /// goes backwards inside a run. The ledger writes each partition sorted by (experiment_id,
    /// series_id, ts) and keeps an experiment's rows in one partition, so on a ledger's points
    /// this holds and the index is one pass over them, each chunk on a core of its own.
    fn index_runs(points: &'a DataFrame) -> PolarsResult<Option<PointIndex<'a>>> {
        let keys = aligned_chunks(
            points.column("experiment_id")?.str()?,
            points.column("series_id")?.str()?,
        )
        .expect("`PointIndex::with` aligns the key columns");
        // A ledger's times are Datetime(µs); their physical i64 values are the micros. Points
        // from elsewhere may come as plain i64.
        let ts_column = points.column("ts")?;
        let ts = match ts_column.dtype() {
            DataType::Datetime(_, _) => ts_column.datetime()?.physical(),
            _ => ts_column.i64()?,
        };
        let chunks: Vec<(Cow<[Micros]>, Cow<[f64]>)> = filled_chunks(ts, Micros::MIN)
            .into_iter()
            .zip(filled_chunks(points.column("value")?.f64()?, f64::NAN))
            .collect();
        let Some(chunk_runs) = keys
            .par_iter()
            .zip(&chunks)
            .map(|(&(experiment_ids, series_ids), (ts, _))| {
                runs_in_chunk(experiment_ids, series_ids, ts)
            })
            .collect::<Option<Vec<ChunkRuns>>>()
        else {
            return Ok(None);
        };

        let mut index = PointIndex {
            runs: PlHashMap::with_capacity(chunk_runs.iter().map(Vec::len).sum()),
            joined: Vec::new(),
            chunks,
        };
        // The run at the end of the chunks read so far, which the next chunk may continue: its
        // key and its rows in each chunk.
        let mut open: Option<(&str, &str)> = None;
        let mut pieces: Vec<(usize, Range<usize>)> = Vec::new();
        for (chunk, runs) in chunk_runs.into_iter().enumerate() {
            for (key, rows) in runs {
                if open == Some(key) && rows.start == 0 {
                    let (before, ended) = pieces.last().expect("an open run has rows");
                    if index.chunks[chunk].0[0] < index.chunks[*before].0[ended.end - 1] {
                        return Ok(None);
                    }
                    pieces.push((chunk, rows));
                    continue;
                }
                if let Some(previous) = open.replace(key)
                    && !index.close(previous, &pieces)
                {
                    return Ok(None);
                }
                pieces.clear();
                pieces.push((chunk, rows));
            }
        }
        if let Some(previous) = open
            && !index.close(previous, &pieces)
        {
            return Ok(None);
        }
        Ok(Some(index))
    }

    /// Records a run's rows; false when its key already has a run.
    fn close(&mut self, key: (&'a str, &'a str), pieces: &[(usize, Range<usize>)]) -> bool {
        let run = match pieces {
            [(chunk, rows)] => Run::Within {
                chunk: *chunk,
                rows: rows.clone(),
            },
            _ => {
                let mut ts = Vec::new();
                let mut values = Vec::new();
                for (chunk, rows) in pieces {
                    let (chunk_ts, chunk_values) = &self.chunks[*chunk];
                    ts.extend_from_slice(&chunk_ts[rows.clone()]);
                    values.extend_from_slice(&chunk_values[rows.clone()]);
                }
                self.joined.push((ts, values));
                Run::Joined(self.joined.len() - 1)
            }
        };
        self.runs.insert(key, run).is_none()
    }

    /// A series' times and values, in time order.
    fn series(&self, experiment: &str, series: &str) -> Option<(&[Micros], &[f64])> {
        Some(match self.runs.get(&(experiment, series))? {
            Run::Within { chunk, rows } => {
                let (ts, values) = &self.chunks[*chunk];
                (&ts[rows.clone()], &values[rows.clone()])
            }
            Run::Joined(joined) => {
                let (ts, values) = &self.joined[*joined];
                (ts.as_slice(), values.as_slice())
            }
        })
    }
}

/// The runs of equal (experiment, series) in one chunk; `None` when time goes backwards inside
/// one. A row continues the run when its 16-byte string views equal the previous row's (strings
/// decoded from one Parquet dictionary share them) or, failing that, its strings do: most rows
/// cost no string comparison (it was a third of judging's time on 10,000 experiments).
fn runs_in_chunk<'a>(
    experiment_ids: &'a <StringType as PolarsDataType>::Array,
    series_ids: &'a <StringType as PolarsDataType>::Array,
    ts: &[Micros],
) -> Option<ChunkRuns<'a>> {
    let (experiment_views, series_views) = (experiment_ids.views(), series_ids.views());
    let key = |row: usize| (experiment_ids.value(row), series_ids.value(row));
    let mut runs = Vec::new();
    let mut start = 0;
    for row in 1..experiment_ids.len() {
        let same = (experiment_views[row] == experiment_views[row - 1]
            || experiment_ids.value(row) == experiment_ids.value(row - 1))
            && (series_views[row] == series_views[row - 1]
                || series_ids.value(row) == series_ids.value(row - 1));
        if !same {
            runs.push((key(start), start..row));
            start = row;
        } else if ts[row] < ts[row - 1] {
            return None;
        }
    }
    if experiment_ids.len() > 0 {
        runs.push((key(start), start..experiment_ids.len()));
    }
    Some(runs)
}

/// Whether the key columns have no nulls and the four columns chunks of the same rows.
fn chunks_aligned(points: &DataFrame) -> PolarsResult<bool> {
    let Some(keys) = aligned_chunks(
        points.column("experiment_id")?.str()?,
        points.column("series_id")?.str()?,
    ) else {
        return Ok(false);
    };
    let lengths_of = |name: &str| -> PolarsResult<Vec<usize>> {
        Ok(points
            .column(name)?
            .as_materialized_series()
            .chunks()
            .iter()
            .map(|chunk| chunk.len())
            .collect())
    };
    let key_lengths: Vec<usize> = keys.iter().map(|(keys, _)| keys.len()).collect();
    Ok(lengths_of("ts")? == key_lengths && lengths_of("value")? == key_lengths)
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

/// Each chunk's values, borrowed when it has no nulls, else copied with nulls replaced by
/// `missing`.
fn filled_chunks<T: PolarsNumericType>(
    column: &ChunkedArray<T>,
    missing: T::Native,
) -> Vec<Cow<'_, [T::Native]>> {
    column
        .downcast_iter()
        .map(|chunk| {
            if chunk.validity().is_none_or(|valid| valid.unset_bits() == 0) {
                Cow::Borrowed(chunk.values().as_slice())
            } else {
                Cow::Owned(
                    chunk
                        .iter()
                        .map(|value| value.copied().unwrap_or(missing))
                        .collect(),
                )
            }
        })
        .collect()
}

/// Rows grouped by the experiment they belong to (actions, series). Hashed with polars' fast
/// hasher: on 100,000 experiments, SipHash over 250,000 actions' ids was felt.
pub fn by_experiment<'a, T>(
    rows: &'a [T],
    experiment_id: impl Fn(&'a T) -> &'a str,
) -> PlHashMap<&'a str, Vec<&'a T>> {
    let mut grouped: PlHashMap<&str, Vec<&T>> = PlHashMap::new();
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
                        let (ts, values) = points
                            .series(id, series.series_id)
                            .unwrap_or((empty, no_values));
                        ObservedSeries { series, ts, values }
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
pub fn outcome_records(
    outcomes: &[&ExperimentOutcome],
    analyzed_at: Micros,
    sentence: impl Fn(&reason::Reason) -> String + Sync,
) -> Vec<Outcome> {
    // On the cores: writing every reason's sentence is most of the work.
    outcomes
        .par_iter()
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
        let (ts, values) = index.series(experiment, series).expect("indexed");
        ts.iter().copied().zip(values.iter().copied()).collect()
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
        // A run over three chunks, the middle one all its own.
        let long_run = frame(&[("E1", "a", 1, 1.0)])
            .vstack(&frame(&[("E1", "a", 2, 2.0)]))
            .unwrap()
            .vstack(&frame(&[("E1", "b", 1, 3.0), ("E2", "a", 5, 4.0)]))
            .unwrap();
        assert_eq!(long_run.column("value").unwrap().n_chunks(), 3);
        // Each chunk in order, but together out of order: E1's "a" both before and after "b",
        // or going back in time from one chunk to the next.
        let key_again = frame(&[("E1", "a", 1, 1.0), ("E1", "b", 1, 3.0)])
            .vstack(&frame(&[("E1", "a", 2, 2.0), ("E2", "a", 5, 4.0)]))
            .unwrap();
        let back_in_time = frame(&[("E1", "a", 2, 2.0)])
            .vstack(&frame(&[
                ("E1", "a", 1, 1.0),
                ("E1", "b", 1, 3.0),
                ("E2", "a", 5, 4.0),
            ]))
            .unwrap();
        for points in [sorted, shuffled, chunked, long_run, key_again, back_in_time] {
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
        // A missing value reads as NaN, in the chunk that has it.
        let missing_value = df!(
            "experiment_id" => ["E1"],
            "series_id" => ["a"],
            "ts" => [1i64],
            "value" => [Some(1.0)],
        )
        .unwrap()
        .vstack(
            &df!(
                "experiment_id" => ["E1"],
                "series_id" => ["a"],
                "ts" => [2i64],
                "value" => [None::<f64>],
            )
            .unwrap(),
        )
        .unwrap();
        PointIndex::with(&missing_value, |index| {
            let points = series_points(index, "E1", "a");
            assert_eq!(points[0], (1, 1.0));
            assert_eq!(points[1].0, 2);
            assert!(points[1].1.is_nan());
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
