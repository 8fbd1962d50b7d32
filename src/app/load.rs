//! Reading the ledger for analysis: judging it one month partition at a time, reading back the
//! series and points a report draws, and analyzing the program as of a period, storing the
//! outcomes when the ledger can be written.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use rayon::prelude::*;

use super::Result;
use crate::analyze::maturity::Rubric;
use crate::analyze::program::{Analysis, ReferenceData, analyze_judged, default_period};
use crate::analyze::{
    ExperimentOutcome, JudgeInput, JudgedExperiment, LedgerRecords, by_experiment,
    judge_experiments, outcome_records, series_rules,
};
use crate::config::{Config, WindowSettings};
use crate::ledger::{self, Action, Experiment, Ledger, MetricSeries, OutcomeRows, Table, rows_of};
use crate::report::i18n::{Lang, reason_text};
use crate::vocab::catalog::ActionCatalog;
use crate::vocab::time::{Micros, Period, parse_period, quarter_of};

/// Reads one table (whole, or one month's partition).
type ReadTable<'a> = dyn Fn(Table) -> Result<DataFrame> + 'a;

/// Reads a table into records, naming the table when its rows do not fit.
fn records<T: Send>(
    read: &ReadTable,
    table: Table,
    convert: fn(&DataFrame) -> PolarsResult<Vec<T>>,
) -> Result<Vec<T>> {
    Ok(convert_on_the_cores(&read(table)?, convert).map_err(rows_of(table))?)
}

/// Rows converted into records on every core, a slice of the frame each, in row order. On one
/// core the 25 columns of 10,000 experiments took 19 ms while the other core waited.
fn convert_on_the_cores<T: Send>(
    frame: &DataFrame,
    convert: fn(&DataFrame) -> PolarsResult<Vec<T>>,
) -> PolarsResult<Vec<T>> {
    // Slices small enough to share out evenly, big enough that a slice's set-up is nothing.
    const LEAST_ROWS: usize = 128;
    let slices = (rayon::current_num_threads() * 4).min(frame.height().div_ceil(LEAST_ROWS));
    if slices <= 1 {
        return convert(frame);
    }
    let rows = frame.height().div_ceil(slices);
    let converted = (0..slices)
        .into_par_iter()
        .map(|slice| convert(&frame.slice((slice * rows) as i64, rows)))
        .collect::<PolarsResult<Vec<Vec<T>>>>()?;
    Ok(converted.into_iter().flatten().collect())
}

/// Reads every table that analysis needs, whole.
pub fn load_ledger_data(ledger: &Ledger) -> Result<LedgerRecords> {
    let read = |table| -> Result<DataFrame> { Ok(ledger.read(table)?) };
    Ok(LedgerRecords {
        experiments: records(&read, Table::Experiments, ledger::experiments_from_frame)?,
        actions: records(&read, Table::Actions, ledger::actions_from_frame)?,
        series: records(&read, Table::Series, ledger::series_from_frame)?,
        points: read(Table::Points)?,
        alarm_events: records(&read, Table::AlarmEvents, ledger::alarm_events_from_frame)?,
        incidents: records(&read, Table::Incidents, ledger::incidents_from_frame)?,
    })
}

/// The ledger with every experiment judged.
pub struct JudgedLedger {
    /// Every table but experiments, series and points (see [`load_and_judge`]).
    pub data: LedgerRecords,
    /// Every experiment with its outcome, in ledger order, not yet placed in a period. Paired as
    /// each month is judged, not after: on a million experiments pairing two finished lists was a
    /// copy of 0.7 GB beside them.
    pub runs: Vec<JudgedExperiment>,
}

/// Reads the ledger and judges every experiment (SPEC section 6), one month partition at a time,
/// small months side by side ([`months_judged_together`]). Only one group of months' series and
/// points, most of a ledger's bytes, is in memory at once: that is what lets a million
/// experiments fit in the machine's memory. The data returned holds no series and no points;
/// [`load_observations`] reads those of the experiments a report shows.
pub fn load_and_judge(
    ledger: &Ledger,
    config: &Config,
    catalog: &ActionCatalog,
) -> Result<JudgedLedger> {
    load_and_judge_by_slices_of(ledger, config, catalog, POINTS_SLICE_ROWS)
}

/// A month holding more points than this is judged a slice of its points at a time
/// ([`judge_points_of_month`]): 16 of polars' row groups of 262,144 rows. On a million experiments a
/// month holds 24–27 million points, and reading one whole peaked at about 2.5 GiB; the months of
/// 100,000 (2.4 million points each) are read whole, as before.
const POINTS_SLICE_ROWS: usize = 16 * 262_144;

/// [`load_and_judge`], judging months of more than `slice_rows` points a slice at a time.
fn load_and_judge_by_slices_of(
    ledger: &Ledger,
    config: &Config,
    catalog: &ActionCatalog,
    slice_rows: usize,
) -> Result<JudgedLedger> {
    let settings = &config.window;
    let rto_by_service = config.rto_by_service();
    let read = |table| -> Result<DataFrame> { Ok(ledger.read(table)?) };
    let mut data = LedgerRecords {
        experiments: Vec::new(),
        actions: Vec::new(),
        series: Vec::new(),
        points: DataFrame::empty_with_schema(&Table::Points.schema()),
        alarm_events: records(&read, Table::AlarmEvents, ledger::alarm_events_from_frame)?,
        incidents: records(&read, Table::Incidents, ledger::incidents_from_frame)?,
    };
    // Sized from the footers: grown by doubling, the list of a million runs (0.7 GB) was copied
    // into one twice its size, and read + judge peaked 650 MiB higher. A footer that claims more
    // rows than memory holds only leaves the lists to grow (reading names the file).
    let mut runs: Vec<JudgedExperiment> = Vec::new();
    let _ = runs.try_reserve_exact(ledger.row_count(Table::Experiments)?);
    let _ = data
        .actions
        .try_reserve_exact(ledger.row_count(Table::Actions)?);
    let judge_month = |month: &String| -> Result<JudgedMonth> {
        let read = |table| -> Result<DataFrame> { Ok(ledger.read_month(table, month)?) };
        let experiments = records(&read, Table::Experiments, ledger::experiments_from_frame)?;
        let actions = records(&read, Table::Actions, ledger::actions_from_frame)?;
        // Series are judged from the table's columns: only reports read them as records.
        let series = read(Table::Series)?;
        let month_input = JudgeInput {
            experiments: &experiments,
            actions: &actions,
            series: series_rules(&series).map_err(rows_of(Table::Series))?,
            // Read by `judge_points_of_month`, whole or a slice at a time.
            points: &DataFrame::empty(),
            alarm_events: &data.alarm_events,
            catalog,
            rto_by_service: &rto_by_service,
        };
        let outcomes = judge_points_of_month(ledger, month, month_input, settings, slice_rows)?;
        let runs = {
            let actions_by_experiment = by_experiment(&actions, |a| &a.experiment_id[..]);
            let actions_of = |experiment: &Experiment| {
                actions_by_experiment
                    .get(experiment.experiment_id.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default()
            };
            // On the cores: on a million experiments, one core took 2 s longer.
            experiments
                .into_par_iter()
                .zip(outcomes)
                .map(|(experiment, outcome)| {
                    let actions = actions_of(&experiment);
                    JudgedExperiment::new(
                        experiment,
                        outcome,
                        actions,
                        catalog,
                        &config.environments,
                    )
                })
                .collect()
        };
        Ok(JudgedMonth { runs, actions })
    };
    for months in months_judged_together(ledger)? {
        let judged: Vec<Result<JudgedMonth>> = months.par_iter().map(judge_month).collect();
        // In month order, the first month's error first.
        for month in judged {
            let month = month?;
            runs.extend(month.runs);
            data.actions.extend(month.actions);
        }
    }
    Ok(JudgedLedger { data, runs })
}

/// Judges one month's experiments (`month_input`: all but the points) against the month's
/// points: read whole, or, when the month holds more than `slice_rows` points and its tables are
/// in the ledger's order (each sorted by experiment id, as the ledger writes them), a slice of
/// the points at a time, so that only one slice is in memory. Each slice ends where the points of
/// its last experiment begin (they are read again with the next slice), so every experiment is
/// judged with all its points; a slice that holds one experiment's points only is read longer.
/// Points found out of order in a slice send the month back to being read whole.
fn judge_points_of_month(
    ledger: &Ledger,
    month: &str,
    month_input: JudgeInput,
    settings: &WindowSettings,
    slice_rows: usize,
) -> Result<Vec<ExperimentOutcome>> {
    let total = ledger.month_row_count(Table::Points, month)?;
    if total > slice_rows
        && in_ledger_order(&month_input)
        && let Some(outcomes) =
            judge_slices(ledger, month, &month_input, settings, slice_rows, total)?
    {
        return Ok(outcomes);
    }
    let points = ledger.read_month(Table::Points, month)?;
    Ok(judge_experiments(
        &JudgeInput {
            points: &points,
            ..month_input
        },
        settings,
    )?)
}

/// Whether a month's experiments, actions and series are sorted by experiment id, as the ledger
/// writes them: only then does a slice of points hold a contiguous run of each.
fn in_ledger_order(month_input: &JudgeInput) -> bool {
    month_input
        .experiments
        .is_sorted_by(|a, b| a.experiment_id < b.experiment_id)
        && month_input
            .actions
            .is_sorted_by_key(|action| action.experiment_id.as_str())
        && month_input
            .series
            .is_sorted_by_key(|rule| rule.experiment_id)
}

/// [`judge_points_of_month`] a slice at a time; `None` when the points are not in the ledger's
/// order.
fn judge_slices(
    ledger: &Ledger,
    month: &str,
    month_input: &JudgeInput,
    settings: &WindowSettings,
    slice_rows: usize,
    total: usize,
) -> Result<Option<Vec<ExperimentOutcome>>> {
    let mut outcomes = Vec::with_capacity(month_input.experiments.len());
    // The slice's first row, and the experiment id below which every experiment is judged.
    let mut offset = 0;
    let mut judged_below: Option<String> = None;
    loop {
        let mut len = slice_rows;
        // The points of the experiments with ids from `judged_below` up to `next` (excluded),
        // and where the next slice starts.
        let (points, next) = loop {
            let points = ledger.read_month_slice(Table::Points, month, offset, len)?;
            if !ids_ascending(&points, judged_below.as_deref()).map_err(rows_of(Table::Points))? {
                return Ok(None);
            }
            if points.height() == 0 || offset + points.height() >= total {
                break (points, None);
            }
            let ids = points
                .column("experiment_id")
                .and_then(|column| Ok(column.str()?.clone()))
                .map_err(rows_of(Table::Points))?;
            let last = ids.get(ids.len() - 1).unwrap_or_default();
            let last_starts = (0..ids.len())
                .rev()
                .find(|&row| ids.get(row) != Some(last))
                .map_or(0, |row| row + 1);
            if last_starts == 0 {
                len = len.saturating_mul(2);
                continue;
            }
            let next = (last.to_string(), offset + last_starts);
            break (points.slice(0, last_starts), Some(next));
        };
        let bounds = (
            judged_below.as_deref(),
            next.as_ref().map(|(last, _)| last.as_str()),
        );
        let experiments = in_slice(month_input.experiments, |e| &e.experiment_id, bounds);
        let actions = in_slice(month_input.actions, |a| &a.experiment_id, bounds);
        let series = in_slice(&month_input.series, |rule| rule.experiment_id, bounds).to_vec();
        outcomes.extend(judge_experiments(
            &JudgeInput {
                experiments,
                actions,
                series,
                points: &points,
                ..*month_input
            },
            settings,
        )?);
        match next {
            Some((last, next_offset)) => {
                judged_below = Some(last);
                offset = next_offset;
            }
            None => return Ok(Some(outcomes)),
        }
    }
}

/// The rows, sorted by experiment id, of the experiments with ids from `bounds.0` (none: the
/// first) up to `bounds.1` (excluded; none: the last).
fn in_slice<'a, T>(
    rows: &'a [T],
    experiment_id: impl Fn(&T) -> &str,
    (from, before): (Option<&str>, Option<&str>),
) -> &'a [T] {
    let start = rows.partition_point(|row| from.is_some_and(|from| experiment_id(row) < from));
    let end = rows.partition_point(|row| before.is_none_or(|before| experiment_id(row) < before));
    &rows[start..end]
}

/// Whether a slice's experiment ids ascend (equal ones together), from `from` on. Compared in
/// order only where the id changes: on a million experiments a month holds 25 million points
/// and some 67,000 experiments. Two equal views (length, prefix and place in the column's
/// buffers, or the whole inline text) are the same id without reading it: a dictionary-encoded
/// column, as the ledger's Parquet files hold, repeats one view for an experiment's points.
fn ids_ascending(points: &DataFrame, from: Option<&str>) -> PolarsResult<bool> {
    let ids = points.column("experiment_id")?.str()?;
    if ids.null_count() > 0 {
        return Ok(false);
    }
    let mut previous = from;
    for chunk in ids.downcast_iter() {
        let views = chunk.views();
        for (row, view) in views.iter().enumerate() {
            if row > 0 && *view == views[row - 1] {
                continue;
            }
            let id = chunk.value(row);
            if previous != Some(id) {
                if previous.is_some_and(|previous| id < previous) {
                    return Ok(false);
                }
                previous = Some(id);
            }
        }
    }
    Ok(true)
}

/// One month's experiments, actions and outcomes.
struct JudgedMonth {
    runs: Vec<JudgedExperiment>,
    actions: Vec<Action>,
}

/// Months whose points files together hold at most this many bytes are read and judged side by
/// side. A month of 10,000 experiments holds one Parquet row group of points, which polars reads
/// a column per core and judging shares out in a few hundred experiments: one month at a time
/// kept the two cores 1.6 busy. Most months of 100,000 hold 5-20 MB and are read alone: two
/// months at once held 50% more memory there for no gain.
const POINTS_BYTES_JUDGED_TOGETHER: u64 = 8 << 20;

/// The months of the experiments table, in order, in groups to read and judge side by side (see
/// [`POINTS_BYTES_JUDGED_TOGETHER`]).
fn months_judged_together(ledger: &Ledger) -> Result<Vec<Vec<String>>> {
    let points_bytes: BTreeMap<String, u64> = ledger
        .partitions(Table::Points)?
        .into_iter()
        // A file whose size cannot be read is read alone; reading it names the problem.
        .map(|partition| {
            let bytes = std::fs::metadata(&partition.path).map_or(u64::MAX, |m| m.len());
            (partition.month, bytes)
        })
        .collect();
    let mut groups: Vec<(u64, Vec<String>)> = Vec::new();
    for partition in ledger.partitions(Table::Experiments)? {
        let bytes = points_bytes.get(&partition.month).copied().unwrap_or(0);
        match groups.last_mut() {
            Some((group_bytes, months))
                if group_bytes.saturating_add(bytes) <= POINTS_BYTES_JUDGED_TOGETHER =>
            {
                *group_bytes += bytes;
                months.push(partition.month);
            }
            _ => groups.push((bytes, vec![partition.month])),
        }
    }
    Ok(groups.into_iter().map(|(_, months)| months).collect())
}

/// The series and points of some experiments, read from the month partitions they live in with
/// polars' streaming engine, which keeps in memory only the rows asked for.
pub fn load_observations(
    ledger: &Ledger,
    experiments: &[&Experiment],
) -> Result<(Vec<MetricSeries>, DataFrame)> {
    let months: BTreeSet<String> = experiments.iter().map(|e| e.month()).collect();
    let ids: Vec<&str> = experiments
        .iter()
        .map(|e| e.experiment_id.as_str())
        .collect();
    let ids = Series::new("experiment_id".into(), ids);
    let rows_in = |table: Table| -> Result<DataFrame> {
        let kept = col("experiment_id").is_in(lit(ids.clone()).implode(false), false);
        let rows = ledger
            .scan_months(table, &months)?
            .filter(kept)
            .collect_with_engine(Engine::Streaming)
            .map(|result| result.unwrap_single())
            .map_err(rows_of(table))?;
        Ok(rows)
    };
    let series = records(&rows_in, Table::Series, ledger::series_from_frame)?;
    Ok((series, rows_in(Table::Points)?))
}

/// A ledger analyzed as of one period.
pub struct AnalyzedLedger {
    /// Actions, alarm events and incidents; the experiments are in `analysis.experiments` (those
    /// started after the period are not kept).
    pub data: LedgerRecords,
    pub analysis: Analysis,
    pub rubric: Rubric,
    /// The newest ingest time: "now" for the ledger, so reports of the same ledger are identical.
    pub generated_at: Micros,
}

/// Loads the ledger, analyzes it as of `period` (default: the quarter of the newest experiment)
/// and stores the outcomes when the ledger is writable.
pub fn analyze_ledger(
    ledger: &Ledger,
    config: &Config,
    period: Option<Period>,
) -> Result<AnalyzedLedger> {
    analyze_ledger_then(ledger, config, period, Ok)
}

/// [`analyze_ledger`], then `then` with the analysis while the outcomes are stored beside it (on
/// 100,000 experiments the store takes 0.27 s of an HTML report's 4 s). Both end before this
/// returns; `then`'s error comes first, then the store's.
pub fn analyze_ledger_then<R>(
    ledger: &Ledger,
    config: &Config,
    period: Option<Period>,
    then: impl FnOnce(AnalyzedLedger) -> Result<R>,
) -> Result<R> {
    let (analyzed, outcome_rows) = on_polars_pool(|| analyze_ledger_here(ledger, config, period))?;
    // What judging freed sits in the pool threads' arenas, where the report's model and
    // rendering on this thread cannot reuse it: the HTML report of 100,000 experiments peaked at
    // 1,014-1,031 MB without this and 879-883 MB with it, in the same time.
    release_free_memory();
    std::thread::scope(|scope| {
        let storing = outcome_rows.map(|rows| scope.spawn(|| ledger.store_outcome_rows(rows)));
        let done = then(analyzed);
        let stored = storing.map(|storing| {
            storing
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        let done = done?;
        stored.transpose()?;
        Ok(done)
    })
}

/// Hands glibc's free memory back to the system. What is allocated through glibc on a pool's
/// threads returns, when freed, to those threads' arenas, where the main thread's next
/// allocations cannot reuse it. The binary's own heap is mimalloc's (src/main.rs), which purges
/// freed pages on its own schedule; this still trims what a library allocates through glibc, and
/// the heap of a program that keeps the default allocator (the tests).
pub(super) fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's arenas to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Runs `work` on polars' thread pool, so that its rayon work (judging, the program) and polars'
/// own (reading, queries) share one pool's threads. On rayon's global pool, beside polars' pool,
/// four threads took turns on two cores: on 10,000 experiments read + judge and the program took
/// 0.140 and 0.072 s against 0.127 and 0.062 s on one pool (BENCHMARKS.md).
pub fn on_polars_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    polars_core::runtime::THREAD_POOL.install(work)
}

/// The analysis, and the outcome rows to store when the ledger is writable.
fn analyze_ledger_here(
    ledger: &Ledger,
    config: &Config,
    period: Option<Period>,
) -> Result<(AnalyzedLedger, Option<OutcomeRows>)> {
    let catalog = &config.catalog;
    let JudgedLedger { data, runs } = load_and_judge(ledger, config, catalog)?;
    let generated_at: Micros = runs
        .iter()
        .map(|judged| judged.experiment.ingested_at)
        .max()
        .unwrap_or(0);
    let period = period
        .or_else(|| default_period(runs.iter().map(|judged| &judged.experiment)))
        .unwrap_or_else(|| parse_period(&quarter_of(generated_at), 0).expect("a quarter parses"));
    let rubric = Rubric::built_in();
    let reference = ReferenceData {
        catalog,
        rubric: &rubric,
    };
    // The experiments move into the analysis (`analysis.experiments`, and those after the period).
    let (analysis, after_period) = analyze_judged(&data, runs, config, &reference, period)?;

    let mut outcome_rows = None;
    if ledger.is_writable() {
        let runs = || {
            analysis
                .experiments
                .iter()
                .chain(after_period.iter())
                .map(|judged| (&judged.experiment, &judged.outcome))
        };
        let outcomes: Vec<&ExperimentOutcome> = runs().map(|(_, outcome)| outcome).collect();
        let records = outcome_records(
            &outcomes,
            generated_at,
            // The ledger keeps the reasons in English, as SPEC section 3 lists them.
            |reason| reason_text(Lang::En, reason),
        );
        outcome_rows = Some(ledger::outcome_rows(
            records,
            runs().map(|(experiment, _)| experiment),
        ));
    }
    let analyzed = AnalyzedLedger {
        data,
        analysis,
        rubric,
        generated_at,
    };
    Ok((analyzed, outcome_rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::demo::generate_demo_ledger;
    use crate::ingest::demo::DemoSettings;

    /// Each run's experiment and outcome, to compare two judgings.
    fn judged(ledger: &Ledger, slice_rows: usize) -> Vec<(Experiment, ExperimentOutcome)> {
        let config = Config::default();
        let catalog = ActionCatalog::built_in();
        load_and_judge_by_slices_of(ledger, &config, &catalog, slice_rows)
            .unwrap()
            .runs
            .into_iter()
            .map(|run| (run.experiment, run.outcome))
            .collect()
    }

    /// Months judged a slice of points at a time, slices ending inside an experiment's points or
    /// holding less than one experiment's, give exactly the outcomes of months read whole; so do
    /// points out of the ledger's order, which send the month back to being read whole.
    #[test]
    fn judging_by_slices_of_points_gives_the_outcomes_of_whole_months() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_for_write(dir.path()).unwrap();
        let settings = DemoSettings {
            experiments: Some(80),
            ..DemoSettings::default()
        }
        .observed_over(&Config::default().window);
        generate_demo_ledger(&ledger, &settings).unwrap();
        let months = ledger.partitions(Table::Points).unwrap();
        let month = &months[months.len() / 2].month;
        let rows = ledger.month_row_count(Table::Points, month).unwrap();
        assert!(rows > 400, "{rows} points in {month}");

        let whole = judged(&ledger, usize::MAX);
        assert_eq!(whole.len(), 80);
        let impacted = whole.iter().filter(|(_, o)| o.impacted).count();
        assert!(impacted > 10, "{impacted} impacted runs");
        // A few experiments a slice; and slices shorter than one experiment's points.
        assert_eq!(judged(&ledger, 200), whole);
        assert_eq!(judged(&ledger, 30), whole);

        // One month's points written in reverse: that month is read whole.
        let path = dir
            .path()
            .join("points")
            .join(format!("month={month}"))
            .join("part-0.parquet");
        let mut reversed = ledger.read_month(Table::Points, month).unwrap().reverse();
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut reversed)
            .unwrap();
        assert_eq!(judged(&ledger, 200), whole);
    }
}
