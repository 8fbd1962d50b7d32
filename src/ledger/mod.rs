//! The ledger: a directory of Parquet files, one folder per table, Hive-partitioned by month
//! (`experiments/month=2026-07/part-0.parquet`).
//!
//! Each partition is exactly one file, replaced whole by an atomic rename: a writer writes a
//! hidden temporary file (`.part-0.parquet.<pid>.tmp`, skipped by Hive readers and by our own
//! scans), fsyncs it, renames it over the old file and fsyncs the folder. A crash at any moment
//! leaves either the old or the new partition, never a mix, and never two files with the same rows.
//! Writers hold an exclusive lock on `<root>/.lock`; readers take no lock.

mod batch;
mod check;
mod records;
mod schema;

pub use batch::rows_of;
pub use batch::{Batch, OutcomeRows, outcome_rows};
pub use check::{CheckReport, Problem, check_ledger};
pub use records::*;
pub use schema::{Column, ColumnType, Table};

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::atomic_file;

/// The marker file that says a folder is a checkup ledger. Hive readers skip names starting with `_`.
const MARKER_FILE: &str = "_checkup.json";
const MARKER_CONTENT: &str = "{\"ledger_format\": 1}\n";
const LOCK_FILE: &str = ".lock";
const PART_FILE: &str = "part-0.parquet";

/// The name of the partition column that every frame handed to [`Ledger::upsert`] carries.
/// It is stored in the folder name (`month=2026-07`), not in the Parquet file.
pub const MONTH_COLUMN: &str = "month";

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot create the ledger at {path}")]
    Create { path: PathBuf, source: io::Error },
    #[error("{path} is not a checkup ledger: the folder holds files but no {MARKER_FILE}")]
    NotALedger { path: PathBuf },
    #[error("{path} does not belong in a checkup ledger (expected {expected})")]
    ForeignFile {
        path: PathBuf,
        expected: &'static str,
    },
    #[error(
        "the ledger at {path} is locked by another checkup process; try again when it has finished"
    )]
    Locked { path: PathBuf },
    #[error("cannot read {path}: the file is not a readable Parquet file of table {table}")]
    Corrupt {
        path: PathBuf,
        table: Table,
        source: PolarsError,
    },
    #[error("{path} does not have the columns of table {table}: {problem}")]
    WrongColumns {
        path: PathBuf,
        table: Table,
        problem: String,
    },
    #[error("cannot access {path}")]
    Io { path: PathBuf, source: io::Error },
    #[error("cannot write {path}")]
    Write { path: PathBuf, source: PolarsError },
    #[error("cannot write {path}")]
    WriteFile { path: PathBuf, source: io::Error },
    #[error("cannot prepare rows for table {table}")]
    Rows { table: Table, source: PolarsError },
    #[error("rows for table {table} do not match its schema: {problem}")]
    BadRows { table: Table, problem: String },
}

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

/// What one [`Ledger::upsert`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UpsertStats {
    /// Rows in the batch (after removing duplicates within it).
    pub rows_written: usize,
    /// Stored rows that the batch replaced.
    pub rows_replaced: usize,
    pub partitions_written: usize,
    /// Partitions whose rows the batch left as they were: not rewritten.
    pub partitions_unchanged: usize,
}

/// A ledger folder. Open it with [`Ledger::open_for_read`] or [`Ledger::open_for_write`].
#[derive(Debug)]
pub struct Ledger {
    root: PathBuf,
    /// Held for the lifetime of a writer; dropping the ledger releases the lock.
    _lock: Option<File>,
}

/// One month partition of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub month: String,
    pub path: PathBuf,
}

impl Ledger {
    /// Opens a ledger for reading. A folder that does not exist, or is empty, reads as an empty
    /// ledger.
    pub fn open_for_read(root: &Path) -> Result<Ledger> {
        let ledger = Ledger {
            root: root.to_path_buf(),
            _lock: None,
        };
        // A missing or empty folder is an empty ledger (a ledger on S3 that no writer finished
        // yet mirrors as an empty folder).
        let is_empty = match fs::read_dir(root) {
            Ok(mut entries) => entries.next().is_none(),
            Err(error) if error.kind() == io::ErrorKind::NotFound => true,
            Err(source) => {
                return Err(LedgerError::Io {
                    path: root.to_path_buf(),
                    source,
                });
            }
        };
        if !is_empty {
            ledger.check_marker()?;
            for table in Table::ALL {
                ledger.partitions(table)?;
            }
        }
        Ok(ledger)
    }

    /// Opens a ledger for writing, creating it when the folder is missing or empty, and takes
    /// the writer's lock. Temporary files left by a writer that crashed are removed.
    pub fn open_for_write(root: &Path) -> Result<Ledger> {
        let create_error = |source| LedgerError::Create {
            path: root.to_path_buf(),
            source,
        };
        fs::create_dir_all(root).map_err(create_error)?;
        let is_empty = fs::read_dir(root).map_err(create_error)?.next().is_none();
        if is_empty {
            atomic_file::write_bytes(&root.join(MARKER_FILE), MARKER_CONTENT.as_bytes())?;
        }
        let ledger = Ledger {
            root: root.to_path_buf(),
            _lock: None,
        };
        ledger.check_marker()?;

        let lock_path = root.join(LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| LedgerError::Io {
                path: lock_path.clone(),
                source,
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(LedgerError::Locked {
                    path: root.to_path_buf(),
                });
            }
            Err(fs::TryLockError::Error(source)) => {
                return Err(LedgerError::Io {
                    path: lock_path,
                    source,
                });
            }
        }
        let ledger = Ledger {
            _lock: Some(lock),
            ..ledger
        };
        for table in Table::ALL {
            ledger.partitions(table)?;
            ledger.remove_stale_temporary_files(table)?;
        }
        Ok(ledger)
    }

    /// Whether a process holds the writer's lock of the ledger at `root` now (a folder without a
    /// lock file is not locked). The lock is the operating system's and ends with its process.
    pub fn is_locked(root: &Path) -> Result<bool> {
        let lock_path = root.join(LOCK_FILE);
        let io_error = |source| LedgerError::Io {
            path: lock_path.clone(),
            source,
        };
        let file = match File::open(&lock_path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(source) => return Err(io_error(source)),
        };
        match file.try_lock() {
            Ok(()) => Ok(false),
            Err(fs::TryLockError::WouldBlock) => Ok(true),
            Err(fs::TryLockError::Error(source)) => Err(io_error(source)),
        }
    }

    /// Whether this ledger was opened for writing (and holds the writer's lock).
    pub fn is_writable(&self) -> bool {
        self._lock.is_some()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn check_marker(&self) -> Result<()> {
        if self.root.join(MARKER_FILE).is_file() {
            return Ok(());
        }
        Err(LedgerError::NotALedger {
            path: self.root.clone(),
        })
    }

    fn table_dir(&self, table: Table) -> PathBuf {
        self.root.join(table.name())
    }

    /// The partitions of a table, oldest month first. Checks the layout on the way: any file or
    /// folder that a checkup ledger does not hold is an error naming it.
    pub fn partitions(&self, table: Table) -> Result<Vec<Partition>> {
        self.check_root_entries()?;
        let dir = self.table_dir(table);
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let mut partitions = Vec::new();
        for entry in read_dir_sorted(&dir)? {
            let name = file_name(&entry);
            let month = name.strip_prefix("month=").filter(|month| is_month(month));
            let Some(month) = month.filter(|_| entry.is_dir()) else {
                return Err(LedgerError::ForeignFile {
                    path: entry,
                    expected: "a folder named month=YYYY-MM",
                });
            };
            let mut part = None;
            for file in read_dir_sorted(&entry)? {
                let name = file_name(&file);
                if name == PART_FILE && file.is_file() {
                    part = Some(file);
                } else if !atomic_file::is_temporary_file(&name) {
                    return Err(LedgerError::ForeignFile {
                        path: file,
                        expected: "part-0.parquet or a hidden temporary file",
                    });
                }
            }
            if let Some(path) = part {
                partitions.push(Partition {
                    month: month.to_string(),
                    path,
                });
            }
        }
        Ok(partitions)
    }

    fn check_root_entries(&self) -> Result<()> {
        if !self.root.exists() {
            return Ok(());
        }
        for entry in read_dir_sorted(&self.root)? {
            let name = file_name(&entry);
            let known = match Table::from_name(&name) {
                Some(_) => entry.is_dir(),
                None => {
                    name == MARKER_FILE
                        || name == LOCK_FILE
                        || atomic_file::is_temporary_file(&name)
                }
            };
            if !known {
                return Err(LedgerError::ForeignFile {
                    path: entry,
                    expected: "one folder per table (experiments, actions, series, points, alarm_events, incidents, outcomes)",
                });
            }
        }
        Ok(())
    }

    fn remove_stale_temporary_files(&self, table: Table) -> Result<()> {
        let dir = self.table_dir(table);
        if !dir.exists() {
            return Ok(());
        }
        for month_dir in read_dir_sorted(&dir)? {
            for file in read_dir_sorted(&month_dir)? {
                if atomic_file::is_temporary_file(&file_name(&file)) {
                    fs::remove_file(&file)
                        .map_err(|source| LedgerError::Io { path: file, source })?;
                }
            }
        }
        Ok(())
    }

    /// Reads a whole table into memory, checking each file against the table's schema.
    /// An empty table gives an empty frame with the table's columns.
    pub fn read(&self, table: Table) -> Result<DataFrame> {
        let mut frame = DataFrame::empty_with_schema(&table.schema());
        for partition in self.partitions(table)? {
            let part = read_partition(table, &partition.path)?;
            frame
                .vstack_mut_owned(part)
                .map_err(|source| LedgerError::Corrupt {
                    path: partition.path.clone(),
                    table,
                    source,
                })?;
        }
        frame.rechunk_mut();
        Ok(frame)
    }

    /// The rows of a table, from its partitions' Parquet footers (no column is read).
    pub fn row_count(&self, table: Table) -> Result<usize> {
        let mut rows = 0;
        for partition in self.partitions(table)? {
            rows += footer_rows(table, &partition.path)?;
        }
        Ok(rows)
    }

    /// Reads one month partition of a table; a month without one reads as an empty frame.
    pub fn read_month(&self, table: Table, month: &str) -> Result<DataFrame> {
        self.read_month_rows(table, month, None)
    }

    /// Rows `offset..offset + len` of one month partition of a table (fewer at its end), decoded
    /// from the Parquet row groups that hold them only.
    pub fn read_month_slice(
        &self,
        table: Table,
        month: &str,
        offset: usize,
        len: usize,
    ) -> Result<DataFrame> {
        self.read_month_rows(table, month, Some((offset, len)))
    }

    /// One month partition's rows (those of `slice` when given); a month without one reads as
    /// an empty frame.
    fn read_month_rows(
        &self,
        table: Table,
        month: &str,
        slice: Option<(usize, usize)>,
    ) -> Result<DataFrame> {
        let path = self.month_file(table, month);
        if !path.is_file() {
            return Ok(DataFrame::empty_with_schema(&table.schema()));
        }
        Ok(read_partition_as_stored(table, &path, slice)?.0)
    }

    /// The rows of one month partition of a table, from its Parquet footer (0 without one).
    pub fn month_row_count(&self, table: Table, month: &str) -> Result<usize> {
        let path = self.month_file(table, month);
        if !path.is_file() {
            return Ok(0);
        }
        footer_rows(table, &path)
    }

    fn month_file(&self, table: Table, month: &str) -> PathBuf {
        self.table_dir(table)
            .join(format!("month={month}"))
            .join(PART_FILE)
    }

    /// A lazy scan over every partition of a table, for queries that need only some columns or
    /// rows. Each file's footer is checked first, so a corrupt file is named here, not later.
    pub fn scan(&self, table: Table) -> Result<LazyFrame> {
        self.scan_partitions(table, self.partitions(table)?)
    }

    /// A lazy scan over the partitions of some months of a table.
    pub fn scan_months(&self, table: Table, months: &BTreeSet<String>) -> Result<LazyFrame> {
        let mut partitions = self.partitions(table)?;
        partitions.retain(|partition| months.contains(&partition.month));
        self.scan_partitions(table, partitions)
    }

    fn scan_partitions(&self, table: Table, partitions: Vec<Partition>) -> Result<LazyFrame> {
        if partitions.is_empty() {
            return Ok(DataFrame::empty_with_schema(&table.schema()).lazy());
        }
        let mut paths = Vec::with_capacity(partitions.len());
        for partition in &partitions {
            check_footer(table, &partition.path)?;
            paths.push(PlRefPath::new(partition.path.to_string_lossy().as_ref()));
        }
        // Files written before a column was added lack it: the scan gives nulls there.
        let args = ScanArgsParquet {
            hive_options: HiveOptions::new_disabled(),
            schema: Some(std::sync::Arc::new(table.schema())),
            allow_missing_columns: true,
            ..Default::default()
        };
        LazyFrame::scan_parquet_files(paths.into_iter().collect(), args).map_err(|source| {
            LedgerError::Corrupt {
                path: self.table_dir(table),
                table,
                source,
            }
        })
    }

    /// Inserts or replaces rows. `rows` has the table's columns plus [`MONTH_COLUMN`] (`YYYY-MM`),
    /// which chooses the partition. Stored rows whose [`Table::replace_key`] matches a new row are
    /// dropped; within the batch the last row of each [`Table::unique_key`] wins. Each touched
    /// partition is rewritten atomically, sorted by the unique key.
    pub fn upsert(&self, table: Table, rows: DataFrame) -> Result<UpsertStats> {
        let mut staged = Vec::new();
        let stats = self.stage_upsert(table, rows, &mut staged)?;
        commit(staged)?;
        Ok(stats)
    }

    /// [`Ledger::upsert`]'s partitions written to their temporary files and pushed onto `staged`,
    /// no target replaced yet: a batch stages every table before it commits any (a full disk
    /// then leaves the ledger as it was).
    fn stage_upsert(
        &self,
        table: Table,
        rows: DataFrame,
        staged: &mut Vec<atomic_file::Staged>,
    ) -> Result<UpsertStats> {
        assert!(
            self._lock.is_some(),
            "upsert needs a ledger opened for writing"
        );
        let rows = conform_rows(table, rows)?;
        let bad_rows = |source: PolarsError| LedgerError::BadRows {
            table,
            problem: source.to_string(),
        };
        let mut stats = UpsertStats::default();
        // The batch split by month in one pass, not filtered whole once for every month.
        let mut by_month: BTreeMap<String, DataFrame> = BTreeMap::new();
        for part in rows
            .partition_by_stable([MONTH_COLUMN], true)
            .map_err(bad_rows)?
        {
            let month = part
                .column(MONTH_COLUMN)
                .and_then(|column| column.str().cloned())
                .map_err(bad_rows)?
                .get(0)
                .unwrap_or_default()
                .to_string();
            by_month.insert(month, part);
        }
        for (month, part) in by_month {
            if !is_month(&month) {
                return Err(LedgerError::BadRows {
                    table,
                    problem: format!("partition month `{month}` is not YYYY-MM"),
                });
            }
            let new_rows = part.drop(MONTH_COLUMN).map_err(bad_rows)?;
            let unique_key: Vec<String> = table
                .unique_key()
                .iter()
                .map(|key| key.to_string())
                .collect();
            let new_rows = new_rows
                .unique_stable(Some(&unique_key), UniqueKeepStrategy::Last, None)
                .map_err(bad_rows)?;

            let path = self.month_file(table, &month);
            // `complete`: a stored file with every column, which need not be rewritten.
            let (stored, complete) = if path.exists() {
                read_partition_as_stored(table, &path, None)?
            } else {
                (DataFrame::empty_with_schema(&table.schema()), false)
            };
            let replace_key: Vec<Expr> = table.replace_key().iter().map(|key| col(*key)).collect();
            let kept = stored
                .clone()
                .lazy()
                .join(
                    new_rows.clone().lazy().select(replace_key.clone()),
                    replace_key.clone(),
                    replace_key,
                    JoinArgs::new(JoinType::Anti),
                )
                .collect()
                .map_err(bad_rows)?;
            stats.rows_replaced += stored.height() - kept.height();
            stats.rows_written += new_rows.height();
            let mut merged = kept
                .vstack(&new_rows)
                .and_then(|merged| merged.sort(table.unique_key(), SortMultipleOptions::default()))
                .map_err(bad_rows)?;
            // A partition whose rows do not change is not rewritten: a report mostly stores the
            // outcomes the last one stored (on 100,000 experiments the HTML report took 0.2-0.3 s
            // less), and on S3 an unchanged file is not uploaded again. A file written before a
            // column was added is rewritten, to gain it.
            if complete && merged.equals_missing(&stored) {
                stats.partitions_unchanged += 1;
                continue;
            }
            staged.push(stage_parquet(&path, &mut merged)?);
            stats.partitions_written += 1;
        }
        Ok(stats)
    }
}

/// Checks that `rows` holds exactly the table's columns (plus the month) with the right types,
/// and puts them in the table's order.
fn conform_rows(table: Table, rows: DataFrame) -> Result<DataFrame> {
    let schema = rows.schema();
    let mut names: Vec<&str> = Vec::new();
    for column in table.columns() {
        match schema.get(column.name) {
            Some(dtype) if *dtype == column.column_type.dtype() => names.push(column.name),
            Some(dtype) => {
                return Err(LedgerError::BadRows {
                    table,
                    problem: format!(
                        "column {} has type {dtype}, expected {}",
                        column.name,
                        column.column_type.dtype()
                    ),
                });
            }
            None => {
                return Err(LedgerError::BadRows {
                    table,
                    problem: format!("column {} is missing", column.name),
                });
            }
        }
    }
    if schema.get(MONTH_COLUMN) != Some(&DataType::String) {
        return Err(LedgerError::BadRows {
            table,
            problem: format!("text column {MONTH_COLUMN} is missing"),
        });
    }
    names.push(MONTH_COLUMN);
    if schema.len() != names.len() {
        let extra: Vec<String> = schema
            .iter_names()
            .filter(|name| !names.contains(&name.as_str()))
            .map(|name| name.to_string())
            .collect();
        return Err(LedgerError::BadRows {
            table,
            problem: format!("unknown columns {}", extra.join(", ")),
        });
    }
    rows.select(names).map_err(|source| LedgerError::BadRows {
        table,
        problem: source.to_string(),
    })
}

fn read_partition(table: Table, path: &Path) -> Result<DataFrame> {
    Ok(read_partition_as_stored(table, path, None)?.0)
}

/// A partition's rows (those of `slice`, an offset and a length, when given), and whether its
/// file holds every column of its table (a file written before a column was added gets it here,
/// as nulls, and lacks it on disk).
fn read_partition_as_stored(
    table: Table,
    path: &Path,
    slice: Option<(usize, usize)>,
) -> Result<(DataFrame, bool)> {
    let frame = ParquetReader::new(open_partition(path)?)
        .with_slice(slice)
        .finish()
        .map_err(|source| corrupt(table, path, source))?;
    check_columns(table, path, frame.schema())?;
    let complete = table
        .columns()
        .iter()
        .all(|column| frame.schema().contains(column.name));
    let frame = with_added_columns(table, frame).map_err(|source| corrupt(table, path, source))?;
    Ok((frame, complete))
}

/// Reads only a partition's footer: enough to find a truncated or foreign file before a scan.
fn check_footer(table: Table, path: &Path) -> Result<()> {
    let arrow_schema = ParquetReader::new(open_partition(path)?)
        .schema()
        .map_err(|source| corrupt(table, path, source))?;
    check_columns(table, path, &Schema::from_arrow_schema(&arrow_schema))
}

/// A partition's rows, from its Parquet footer.
fn footer_rows(table: Table, path: &Path) -> Result<usize> {
    ParquetReader::new(open_partition(path)?)
        .num_rows()
        .map_err(|source| corrupt(table, path, source))
}

fn open_partition(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| LedgerError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn corrupt(table: Table, path: &Path, source: PolarsError) -> LedgerError {
    LedgerError::Corrupt {
        path: path.to_path_buf(),
        table,
        source,
    }
}

fn check_columns(table: Table, path: &Path, schema: &Schema) -> Result<()> {
    let wrong = |problem: String| LedgerError::WrongColumns {
        path: path.to_path_buf(),
        table,
        problem,
    };
    for column in table.columns() {
        match schema.get(column.name) {
            // A column added after the file was written reads as nulls.
            None if column.since > 1 => {}
            None => return Err(wrong(format!("column {} is missing", column.name))),
            Some(found) if *found != column.column_type.dtype() => {
                return Err(wrong(format!(
                    "column {} has type {found}, expected {}",
                    column.name,
                    column.column_type.dtype()
                )));
            }
            Some(_) => {}
        }
    }
    let defined = |name: &str| table.columns().iter().any(|column| column.name == name);
    if !schema.iter_names().all(|name| defined(name)) {
        return Err(wrong(
            "it has columns the table does not define".to_string(),
        ));
    }
    Ok(())
}

/// A partition read as the table's columns in their order, with nulls in the columns added after
/// the file was written.
fn with_added_columns(table: Table, mut frame: DataFrame) -> PolarsResult<DataFrame> {
    for column in table.columns() {
        if frame.column(column.name).is_err() {
            let nulls = Series::full_null(
                column.name.into(),
                frame.height(),
                &column.column_type.dtype(),
            );
            frame.with_column(nulls.into_column())?;
        }
    }
    frame.select(table.columns().iter().map(|column| column.name))
}

/// A partition written to its temporary file (see [`atomic_file::stage`]).
fn stage_parquet(path: &Path, frame: &mut DataFrame) -> Result<atomic_file::Staged> {
    let dir = path.parent().expect("a partition file has a folder");
    fs::create_dir_all(dir).map_err(|source| LedgerError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    atomic_file::stage(path, |file| {
        let mut writer = KeepIoError { file, error: None };
        let written = ParquetWriter::new(&mut writer)
            .with_compression(ParquetCompression::Zstd(None))
            .with_statistics(StatisticsOptions::full())
            .finish(frame);
        match (written, writer.error) {
            (Ok(_), _) => Ok(()),
            // The file system's own error (a full disk) rather than the Parquet writer's
            // account of it ("Invalid thrift: transport error").
            (Err(_), Some(source)) => Err(LedgerError::WriteFile {
                path: path.to_path_buf(),
                source,
            }),
            (Err(source), None) => Err(LedgerError::Write {
                path: path.to_path_buf(),
                source,
            }),
        }
    })
}

/// A file writer that keeps the first I/O error it met, which the Parquet writer reports only
/// in its own words.
struct KeepIoError<'a> {
    file: &'a mut File,
    error: Option<io::Error>,
}

impl KeepIoError<'_> {
    fn keep(&mut self, error: io::Error) -> io::Error {
        let copy = match error.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(error.kind(), error.to_string()),
        };
        self.error.get_or_insert(error);
        copy
    }
}

impl io::Write for KeepIoError<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf).map_err(|error| self.keep(error))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush().map_err(|error| self.keep(error))
    }
}

/// Puts staged partitions in place, in the order they were staged (children before
/// experiments).
fn commit(staged: Vec<atomic_file::Staged>) -> Result<()> {
    for file in staged {
        file.commit()?;
    }
    Ok(())
}

impl From<atomic_file::WriteError> for LedgerError {
    fn from(error: atomic_file::WriteError) -> LedgerError {
        LedgerError::WriteFile {
            path: error.path,
            source: error.source,
        }
    }
}

fn is_month(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().chain(&bytes[5..]).all(u8::is_ascii_digit)
        && matches!(
            &text[5..],
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12"
        )
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let io_error = |source| LedgerError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = fs::read_dir(dir)
        .map_err(io_error)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<io::Result<Vec<_>>>()
        .map_err(io_error)?;
    entries.sort();
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_names() {
        assert!(is_month("2026-07"));
        assert!(!is_month("2026-13"));
        assert!(!is_month("2026-7"));
        assert!(!is_month("20a6-07"));
    }
}
