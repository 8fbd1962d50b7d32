//! `checkup ledger check`: every rule of the ledger (docs/ledger.md) checked on every file, with
//! every problem found rather than the first: the layout (only table folders of `month=YYYY-MM`
//! partitions, each one `part-0.parquet`), each partition readable with its table's columns and
//! types, required columns without nulls, words of the vocabulary, each row in the partition of
//! its month, unique keys, and the parent rules (every action, series and outcome has its
//! experiment in the same month; every point has its series).
//!
//! Experiment-scoped tables are checked one month at a time (an experiment's rows all live in
//! its month), so the check holds only one partition of points in memory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::records::{
    Columns, actions_from_frame, alarm_events_from_frame, experiments_from_frame,
    incidents_from_frame, series_from_frame,
};
use super::{
    LOCK_FILE, MARKER_FILE, PART_FILE, Table, file_name, is_month, read_dir_sorted, read_partition,
};
use crate::atomic_file;
use crate::vocab::time::month_of;

/// One thing wrong, and the file or folder it is in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub path: PathBuf,
    pub message: String,
}

/// What the check found.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub problems: Vec<Problem>,
    /// Partitions read, and rows, per table.
    pub partitions: BTreeMap<Table, usize>,
    pub rows: BTreeMap<Table, usize>,
}

/// How many example keys a problem names.
const EXAMPLES: usize = 3;

/// Checks the ledger at `root`. Only a root that cannot be listed is an error; everything wrong
/// inside it is a [`Problem`].
pub fn check_ledger(root: &Path) -> super::Result<CheckReport> {
    let mut report = CheckReport::default();
    if !root.join(MARKER_FILE).is_file() {
        report.problem(
            root,
            format!("no {MARKER_FILE}: this is not a checkup ledger"),
        );
        return Ok(report);
    }
    let mut partitions: BTreeMap<Table, Vec<(String, PathBuf)>> = BTreeMap::new();
    for entry in read_dir_sorted(root)? {
        let name = file_name(&entry);
        match Table::from_name(&name) {
            Some(table) if entry.is_dir() => {
                partitions.insert(table, report.table_partitions(&entry)?);
            }
            _ if name == MARKER_FILE
                || name == LOCK_FILE
                || atomic_file::is_temporary_file(&name) => {}
            _ => report.problem(
                &entry,
                "does not belong in a ledger (only _checkup.json, .lock and one folder per table)"
                    .to_string(),
            ),
        }
    }
    let empty = Vec::new();
    let of = |table: Table| partitions.get(&table).unwrap_or(&empty);

    // Experiments first: every other experiment-scoped table is checked against them.
    let mut experiment_month: HashMap<String, (String, PathBuf)> = HashMap::new();
    for (month, path) in of(Table::Experiments) {
        let Some(frame) = report.read(Table::Experiments, path) else {
            continue;
        };
        match experiments_from_frame(&frame) {
            Ok(experiments) => {
                let months: Vec<String> = experiments.iter().map(|e| e.month()).collect();
                report.wrong_month(path, month, &months, "created_at");
                for experiment in experiments {
                    let id = experiment.experiment_id;
                    if let Some((_, first)) = experiment_month.get(&id) {
                        report.problem(
                            path,
                            format!(
                                "experiment_id {id} is also stored in {} (a key must be unique)",
                                first.display()
                            ),
                        );
                    } else {
                        experiment_month.insert(id, (month.clone(), path.clone()));
                    }
                }
            }
            Err(error) => report.problem(path, format!("unreadable values: {error}")),
        }
    }

    let mut series_by_month: HashMap<String, HashSet<(String, String)>> = HashMap::new();
    for table in [
        Table::Series,
        Table::Actions,
        Table::Outcomes,
        Table::Points,
    ] {
        for (month, path) in of(table) {
            let Some(frame) = report.read(table, path) else {
                continue;
            };
            let values = match table {
                Table::Series => series_from_frame(&frame).map(|series| {
                    let keys = series_by_month.entry(month.clone()).or_default();
                    keys.extend(series.into_iter().map(|s| (s.experiment_id, s.series_id)));
                }),
                Table::Actions => actions_from_frame(&frame).map(|_| ()),
                _ => Ok(()),
            };
            if let Err(error) = values {
                report.problem(path, format!("unreadable values: {error}"));
                continue;
            }
            let Ok(ids) = Columns::new(&frame).text("experiment_id") else {
                continue;
            };
            report.parents(table, path, month, &ids, &experiment_month);
            if table == Table::Points {
                report.points_have_series(path, &frame, series_by_month.get(month));
            }
        }
    }

    for (month, path) in of(Table::AlarmEvents) {
        if let Some(frame) = report.read(Table::AlarmEvents, path) {
            match alarm_events_from_frame(&frame) {
                Ok(events) => {
                    let months: Vec<String> = events.iter().map(|e| month_of(e.ts)).collect();
                    report.wrong_month(path, month, &months, "ts");
                }
                Err(error) => report.problem(path, format!("unreadable values: {error}")),
            }
        }
    }
    for (month, path) in of(Table::Incidents) {
        if let Some(frame) = report.read(Table::Incidents, path) {
            match incidents_from_frame(&frame) {
                Ok(incidents) => {
                    let months: Vec<String> =
                        incidents.iter().map(|i| month_of(i.started_at)).collect();
                    report.wrong_month(path, month, &months, "started_at");
                }
                Err(error) => report.problem(path, format!("unreadable values: {error}")),
            }
        }
    }
    report.problems.sort();
    Ok(report)
}

impl CheckReport {
    fn problem(&mut self, path: &Path, message: String) {
        self.problems.push(Problem {
            path: path.to_path_buf(),
            message,
        });
    }

    /// The `month=YYYY-MM` partitions of one table folder; anything else is a problem.
    fn table_partitions(&mut self, dir: &Path) -> super::Result<Vec<(String, PathBuf)>> {
        let mut partitions = Vec::new();
        for entry in read_dir_sorted(dir)? {
            let name = file_name(&entry);
            let month = name.strip_prefix("month=").filter(|month| is_month(month));
            let Some(month) = month.filter(|_| entry.is_dir()) else {
                self.problem(&entry, "is not a folder named month=YYYY-MM".to_string());
                continue;
            };
            // A folder without its file is an empty partition (a write that failed left it).
            for file in read_dir_sorted(&entry)? {
                let name = file_name(&file);
                if name == PART_FILE && file.is_file() {
                    partitions.push((month.to_string(), file));
                } else if !atomic_file::is_temporary_file(&name) {
                    self.problem(
                        &file,
                        format!("does not belong in a partition (only {PART_FILE})"),
                    );
                }
            }
        }
        Ok(partitions)
    }

    /// A partition read and checked against its table's columns, unique key and required
    /// columns; `None` when it cannot be read at all.
    fn read(&mut self, table: Table, path: &Path) -> Option<DataFrame> {
        let frame = match read_partition(table, path) {
            Ok(frame) => frame,
            Err(error) => {
                let mut message = error.to_string();
                let mut cause = std::error::Error::source(&error);
                while let Some(inner) = cause {
                    message.push_str(&format!(": {inner}"));
                    cause = inner.source();
                }
                self.problem(path, message);
                return None;
            }
        };
        *self.partitions.entry(table).or_default() += 1;
        *self.rows.entry(table).or_default() += frame.height();
        for column in table.columns().iter().filter(|c| !c.nullable) {
            let nulls = frame.column(column.name).map_or(0, |c| c.null_count());
            if nulls > 0 {
                self.problem(
                    path,
                    format!(
                        "column {} has {nulls} empty values; it is required",
                        column.name
                    ),
                );
            }
        }
        self.unique(table, path, &frame);
        Some(frame)
    }

    /// The table's unique key holds no value twice within the partition.
    fn unique(&mut self, table: Table, path: &Path, frame: &DataFrame) {
        let key = table.unique_key();
        let columns: Option<Vec<Column>> = key
            .iter()
            .map(|name| frame.column(name).ok()?.cast(&DataType::String).ok())
            .collect();
        let Some(columns) = columns else {
            return;
        };
        let texts: Option<Vec<&StringChunked>> = columns.iter().map(|c| c.str().ok()).collect();
        let Some(texts) = texts else {
            return;
        };
        let mut seen: HashSet<Vec<Option<&str>>> = HashSet::with_capacity(frame.height());
        let mut duplicates = Vec::new();
        let mut count = 0;
        for row in 0..frame.height() {
            let values: Vec<Option<&str>> = texts.iter().map(|t| t.get(row)).collect();
            if !seen.insert(values.clone()) {
                count += 1;
                if duplicates.len() < EXAMPLES {
                    let shown: Vec<&str> = values.iter().map(|v| v.unwrap_or("null")).collect();
                    duplicates.push(format!("({})", shown.join(", ")));
                }
            }
        }
        if count > 0 {
            self.problem(
                path,
                format!(
                    "{count} rows repeat the key ({}) of another row, e.g. {}",
                    key.join(", "),
                    duplicates.join(", ")
                ),
            );
        }
    }

    /// Rows whose own time puts them in another month's partition.
    fn wrong_month(&mut self, path: &Path, month: &str, months: &[String], column: &str) {
        let wrong: Vec<&String> = months.iter().filter(|m| m.as_str() != month).collect();
        if let Some(first) = wrong.first() {
            self.problem(
                path,
                format!(
                    "{} rows belong to another month by their {column} (e.g. {first}), not month={month}",
                    wrong.len()
                ),
            );
        }
    }

    /// Every row's experiment is stored, in this month.
    fn parents(
        &mut self,
        table: Table,
        path: &Path,
        month: &str,
        ids: &[Option<String>],
        experiments: &HashMap<String, (String, PathBuf)>,
    ) {
        let mut orphans: Vec<&str> = Vec::new();
        let mut elsewhere: Vec<(&str, &str)> = Vec::new();
        for id in ids.iter().flatten() {
            match experiments.get(id) {
                None => orphans.push(id),
                Some((stored, _)) if stored != month => elsewhere.push((id, stored)),
                Some(_) => {}
            }
        }
        if !orphans.is_empty() {
            let mut examples: Vec<&str> = orphans.clone();
            examples.dedup();
            examples.truncate(EXAMPLES);
            self.problem(
                path,
                format!(
                    "{} rows of {} have no experiment in the experiments table (orphans), e.g. experiment_id {}",
                    orphans.len(),
                    table.name(),
                    examples.join(", ")
                ),
            );
        }
        if let Some((id, stored)) = elsewhere.first() {
            self.problem(
                path,
                format!(
                    "{} rows of {} belong to experiments stored in another month (e.g. {id} in month={stored})",
                    elsewhere.len(),
                    table.name()
                ),
            );
        }
    }

    /// Every point's series is stored in the same month.
    fn points_have_series(
        &mut self,
        path: &Path,
        frame: &DataFrame,
        series: Option<&HashSet<(String, String)>>,
    ) {
        let columns = Columns::new(frame);
        let (Ok(experiments), Ok(series_ids)) =
            (columns.text("experiment_id"), columns.text("series_id"))
        else {
            return;
        };
        let empty = HashSet::new();
        let series = series.unwrap_or(&empty);
        let mut missing = 0;
        let mut example = None;
        let mut key = (String::new(), String::new());
        for (experiment, series_id) in experiments.into_iter().zip(series_ids) {
            key.0 = experiment.unwrap_or_default();
            key.1 = series_id.unwrap_or_default();
            if !series.contains(&key) {
                missing += 1;
                example.get_or_insert_with(|| key.clone());
            }
        }
        if let Some((experiment, series_id)) = example {
            self.problem(
                path,
                format!(
                    "{missing} points have no series in the series table, e.g. experiment_id {experiment}, series_id {series_id}"
                ),
            );
        }
    }
}
