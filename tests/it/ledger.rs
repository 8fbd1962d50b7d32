//! The ledger: upserts by key, atomic partition files, layout checks, locking.

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use checkup::ledger::{self, Experiment, Ledger, LedgerError, MONTH_COLUMN, PointColumns, Table};
use checkup::vocab::time::MICROS_PER_MINUTE;
use polars::prelude::*;

fn experiment(id: &str, created_at: i64) -> Experiment {
    Experiment {
        experiment_id: id.to_string(),
        source: checkup::vocab::Source::from_name("demo").unwrap(),
        account_id: Some("123456789012".to_string()),
        region: Some("eu-west-1".to_string()),
        template_id: Some("EXT1".to_string()),
        template_name: Some("web-asg-terminate".to_string()),
        description: None,
        status: checkup::vocab::Status::from_name("completed").unwrap(),
        status_reason: None,
        created_at,
        started_at: Some(created_at + 1_000_000),
        ended_at: Some(created_at + 600_000_000),
        environment: Some("staging".to_string()),
        team: Some("platform".to_string()),
        service: None,
        trigger: Some("manual".to_string()),
        tags: std::collections::BTreeMap::from([("team".to_string(), "platform".to_string())])
            .into(),
        stop_condition_alarms: vec!["web-5xx".to_string()],
        stop_condition_triggered: false,
        blast_radius: vec!["COUNT(1)".to_string()],
        hypothesis: None,
        recover_within_s: Some(300.0),
        ingested_at: created_at,
        actions_mode: None,
        resolved_targets: None,
    }
}

/// 2026-07-15T00:00:00Z and 2026-08-15T00:00:00Z.
const JULY: i64 = 1_784_073_600_000_000;
const AUGUST: i64 = 1_786_752_000_000_000;

fn points(experiment: &Experiment, series: &[&str], count: i64) -> DataFrame {
    let mut columns = PointColumns::default();
    for series_id in series {
        for minute in 0..count {
            columns.push(
                &experiment.experiment_id,
                &experiment.month(),
                series_id,
                experiment.created_at + minute * MICROS_PER_MINUTE,
                minute as f64,
            );
        }
    }
    columns.into_frame().unwrap()
}

#[test]
fn loading_the_same_rows_twice_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_for_write(dir.path()).unwrap();
    let experiments = vec![experiment("EXP1", JULY), experiment("EXP2", AUGUST)];
    let first = ledger
        .upsert(
            Table::Experiments,
            ledger::experiments_frame(&experiments).unwrap(),
        )
        .unwrap();
    assert_eq!(
        (
            first.rows_written,
            first.rows_replaced,
            first.partitions_written
        ),
        (2, 0, 2)
    );
    let before = ledger.read(Table::Experiments).unwrap();
    let files = |ledger_dir: &std::path::Path| -> Vec<(std::path::PathBuf, std::time::SystemTime)> {
        let mut files: Vec<_> = ["month=2026-07", "month=2026-08"]
            .iter()
            .map(|month| {
                ledger_dir
                    .join("experiments")
                    .join(month)
                    .join("part-0.parquet")
            })
            .map(|path| {
                let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
                (path, modified)
            })
            .collect();
        files.sort();
        files
    };
    let written = files(dir.path());
    std::thread::sleep(std::time::Duration::from_millis(20));

    let second = ledger
        .upsert(
            Table::Experiments,
            ledger::experiments_frame(&experiments).unwrap(),
        )
        .unwrap();
    assert_eq!((second.rows_written, second.rows_replaced), (2, 2));
    // The same rows again: both partitions are left as they were, not rewritten.
    assert_eq!(
        (second.partitions_written, second.partitions_unchanged),
        (0, 2)
    );
    assert_eq!(files(dir.path()), written);
    let after = ledger.read(Table::Experiments).unwrap();
    assert_eq!(after.height(), 2);
    assert!(
        before.equals_missing(&after),
        "a second identical load changed the table"
    );

    let read_back = ledger::experiments_from_frame(&after).unwrap();
    assert_eq!(
        read_back, experiments,
        "records survive the round trip through Parquet unchanged"
    );
}

#[test]
fn an_updated_experiment_replaces_the_stored_one() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_for_write(dir.path()).unwrap();
    let mut running = experiment("EXP1", JULY);
    running.status = checkup::vocab::Status::Running;
    running.ended_at = None;
    ledger
        .upsert(
            Table::Experiments,
            ledger::experiments_frame(&[running]).unwrap(),
        )
        .unwrap();
    let completed = experiment("EXP1", JULY);
    ledger
        .upsert(
            Table::Experiments,
            ledger::experiments_frame(&[completed.clone()]).unwrap(),
        )
        .unwrap();
    let stored = ledger::experiments_from_frame(&ledger.read(Table::Experiments).unwrap()).unwrap();
    assert_eq!(stored, vec![completed]);
}

#[test]
fn re_ingesting_an_experiment_replaces_all_of_its_points() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_for_write(dir.path()).unwrap();
    let one = experiment("EXP1", JULY);
    let other = experiment("EXP2", JULY + 3_600_000_000);
    ledger
        .upsert(Table::Points, points(&one, &["a", "b"], 10))
        .unwrap();
    ledger
        .upsert(Table::Points, points(&other, &["a"], 5))
        .unwrap();
    assert_eq!(ledger.read(Table::Points).unwrap().height(), 25);

    // CloudWatch now returns series `a` only, and fewer points: nothing of the old load lingers.
    let stats = ledger
        .upsert(Table::Points, points(&one, &["a"], 4))
        .unwrap();
    assert_eq!((stats.rows_written, stats.rows_replaced), (4, 20));
    let stored = ledger.read(Table::Points).unwrap();
    assert_eq!(stored.height(), 9);
    // The footers count the rows a read gives (what judging sizes its lists by).
    assert_eq!(ledger.row_count(Table::Points).unwrap(), 9);
    assert_eq!(ledger.row_count(Table::Experiments).unwrap(), 0);
}

#[test]
fn duplicate_rows_within_one_batch_keep_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_for_write(dir.path()).unwrap();
    let mut first = experiment("EXP1", JULY);
    first.status = checkup::vocab::Status::Running;
    let last = experiment("EXP1", JULY);
    ledger
        .upsert(
            Table::Experiments,
            ledger::experiments_frame(&[first, last.clone()]).unwrap(),
        )
        .unwrap();
    let stored = ledger::experiments_from_frame(&ledger.read(Table::Experiments).unwrap()).unwrap();
    assert_eq!(stored, vec![last]);
}

#[test]
fn rows_with_wrong_columns_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_for_write(dir.path()).unwrap();
    let mut rows = ledger::experiments_frame(&[experiment("EXP1", JULY)]).unwrap();
    rows.drop_in_place("status").unwrap();
    let error = ledger.upsert(Table::Experiments, rows).unwrap_err();
    assert!(
        error.to_string().contains("column status is missing"),
        "{error}"
    );
    assert_eq!(ledger.read(Table::Experiments).unwrap().height(), 0);
}

#[test]
fn partitions_follow_the_hive_layout_by_month() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_for_write(dir.path()).unwrap();
    ledger
        .upsert(
            Table::Experiments,
            ledger::experiments_frame(&[experiment("EXP1", JULY), experiment("EXP2", AUGUST)])
                .unwrap(),
        )
        .unwrap();
    assert!(
        dir.path()
            .join("experiments/month=2026-07/part-0.parquet")
            .is_file()
    );
    assert!(
        dir.path()
            .join("experiments/month=2026-08/part-0.parquet")
            .is_file()
    );
    assert!(dir.path().join("_checkup.json").is_file());
    let months: Vec<String> = ledger
        .partitions(Table::Experiments)
        .unwrap()
        .into_iter()
        .map(|p| p.month)
        .collect();
    assert_eq!(months, ["2026-07", "2026-08"]);
    assert_eq!(ledger.row_count(Table::Experiments).unwrap(), 2);
    // Timestamps are typed UTC microseconds, not strings.
    let frame = ledger.read(Table::Experiments).unwrap();
    assert_eq!(
        frame.column("started_at").unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
    );
    assert!(
        frame.column(MONTH_COLUMN).is_err(),
        "the month lives in the folder name, not the file"
    );
}

#[test]
fn readers_never_see_a_half_written_partition() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let writer = Ledger::open_for_write(&root).unwrap();
    let base = experiment("EXP0", JULY);
    writer
        .upsert(Table::Points, points(&base, &["a"], 1000))
        .unwrap();

    // A reader loops while the writer rewrites the same partition with batches of different
    // sizes; every read must succeed and show one complete state.
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (root, done) = (root.clone(), done.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            let mut heights = std::collections::BTreeSet::new();
            while !done.load(Ordering::Relaxed) || reads == 0 {
                let ledger =
                    Ledger::open_for_read(&root).expect("the ledger opens while being written");
                let frame = ledger
                    .read(Table::Points)
                    .expect("every visible file is complete");
                heights.insert(frame.height());
                reads += 1;
            }
            (reads, heights)
        })
    };
    let sizes = [1000_i64, 2000, 500, 1500];
    for round in 0..40 {
        writer
            .upsert(
                Table::Points,
                points(&base, &["a"], sizes[round % sizes.len()]),
            )
            .unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let (reads, heights) = reader.join().unwrap();
    assert!(reads > 0);
    for height in heights {
        assert!(
            sizes.contains(&(height as i64)),
            "a reader saw {height} rows, a state no writer produced"
        );
    }
}

#[test]
fn temporary_files_are_invisible_and_cleaned_by_the_next_writer() {
    let dir = tempfile::tempdir().unwrap();
    {
        let ledger = Ledger::open_for_write(dir.path()).unwrap();
        ledger
            .upsert(
                Table::Experiments,
                ledger::experiments_frame(&[experiment("EXP1", JULY)]).unwrap(),
            )
            .unwrap();
    }
    // A writer killed mid-write leaves a hidden temporary file with garbage in it.
    let stale = dir
        .path()
        .join("experiments/month=2026-07/.part-0.parquet.4242.tmp");
    fs::write(&stale, b"PAR1 half a file").unwrap();
    let reader = Ledger::open_for_read(dir.path()).unwrap();
    assert_eq!(reader.read(Table::Experiments).unwrap().height(), 1);
    assert_eq!(
        reader
            .scan(Table::Experiments)
            .unwrap()
            .collect()
            .unwrap()
            .height(),
        1
    );
    drop(reader);
    let _writer = Ledger::open_for_write(dir.path()).unwrap();
    assert!(
        !stale.exists(),
        "the next writer removes what a crashed writer left"
    );
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let first = Ledger::open_for_write(dir.path()).unwrap();
    let error = Ledger::open_for_write(dir.path()).unwrap_err();
    assert!(matches!(error, LedgerError::Locked { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("locked by another checkup process")
    );
    drop(first);
    Ledger::open_for_write(dir.path()).expect("the lock is released with the first writer");
}

#[test]
fn foreign_files_are_named_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let error = Ledger::open_for_write(dir.path()).unwrap_err();
    assert!(matches!(error, LedgerError::NotALedger { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains(&dir.path().display().to_string())
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine",
        "the user's file is untouched"
    );

    let ledger_dir = tempfile::tempdir().unwrap();
    drop(Ledger::open_for_write(ledger_dir.path()).unwrap());
    let stray = ledger_dir
        .path()
        .join("experiments/month=2026-07/extra.csv");
    fs::create_dir_all(stray.parent().unwrap()).unwrap();
    fs::write(&stray, "x").unwrap();
    let error = Ledger::open_for_read(ledger_dir.path()).unwrap_err();
    assert!(error.to_string().contains("extra.csv"), "{error}");
    let bad_month = ledger_dir.path().join("series/month=2026-13");
    fs::remove_file(&stray).unwrap();
    fs::create_dir_all(&bad_month).unwrap();
    let error = Ledger::open_for_read(ledger_dir.path()).unwrap_err();
    assert!(error.to_string().contains("month=2026-13"), "{error}");
}

#[test]
fn a_corrupt_parquet_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_for_write(dir.path()).unwrap();
    ledger
        .upsert(
            Table::Experiments,
            ledger::experiments_frame(&[experiment("EXP1", JULY)]).unwrap(),
        )
        .unwrap();
    let part = dir.path().join("experiments/month=2026-07/part-0.parquet");
    let bytes = fs::read(&part).unwrap();
    fs::write(&part, &bytes[..bytes.len() / 2]).unwrap();
    for error in [
        ledger.read(Table::Experiments).unwrap_err(),
        ledger.scan(Table::Experiments).err().unwrap(),
    ] {
        assert!(matches!(error, LedgerError::Corrupt { .. }), "{error}");
        assert!(
            error.to_string().contains(&part.display().to_string()),
            "{error}"
        );
    }
    // An upsert into the corrupt partition is refused, and the file is left for the user to inspect.
    let error = ledger
        .upsert(
            Table::Experiments,
            ledger::experiments_frame(&[experiment("EXP2", JULY)]).unwrap(),
        )
        .unwrap_err();
    assert!(error.to_string().contains("part-0.parquet"), "{error}");
    assert_eq!(fs::read(&part).unwrap(), &bytes[..bytes.len() / 2]);
}

#[test]
fn a_file_of_another_table_is_refused_with_the_column_named() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_for_write(dir.path()).unwrap();
    ledger
        .upsert(
            Table::Experiments,
            ledger::experiments_frame(&[experiment("EXP1", JULY)]).unwrap(),
        )
        .unwrap();
    let points_dir = dir.path().join("points/month=2026-07");
    fs::create_dir_all(&points_dir).unwrap();
    fs::copy(
        dir.path().join("experiments/month=2026-07/part-0.parquet"),
        points_dir.join("part-0.parquet"),
    )
    .unwrap();
    let error = ledger.read(Table::Points).unwrap_err();
    assert!(matches!(error, LedgerError::WrongColumns { .. }), "{error}");
    assert!(error.to_string().contains("series_id"), "{error}");
}

/// A ledger written before a column was added (format 1 had no `experiments.actions_mode`, nor
/// format 2 `resolved_targets`) is read
/// with nulls there, by whole reads and by scans, and the next write of its month adds the column.
#[test]
fn a_partition_written_before_a_column_was_added_reads_with_nulls_there() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_for_write(dir.path()).unwrap();
    let old = vec![experiment("EXP1", JULY)];
    ledger
        .upsert(Table::Experiments, ledger::experiments_frame(&old).unwrap())
        .unwrap();
    // Rewrite the partition as format 1 wrote it: without the column.
    let path = dir
        .path()
        .join("experiments")
        .join(format!("month={}", old[0].month()))
        .join("part-0.parquet");
    let mut frame = ParquetReader::new(fs::File::open(&path).unwrap())
        .finish()
        .unwrap()
        .drop("actions_mode")
        .unwrap()
        .drop("resolved_targets")
        .unwrap();
    ParquetWriter::new(fs::File::create(&path).unwrap())
        .finish(&mut frame)
        .unwrap();

    let read = ledger::experiments_from_frame(&ledger.read(Table::Experiments).unwrap()).unwrap();
    assert_eq!(read, old, "the old file reads as the records it held");
    let scanned = ledger
        .scan(Table::Experiments)
        .unwrap()
        .select([
            col("experiment_id"),
            col("actions_mode"),
            col("resolved_targets"),
        ])
        .collect()
        .unwrap();
    assert_eq!(scanned.column("actions_mode").unwrap().null_count(), 1);
    assert_eq!(scanned.column("resolved_targets").unwrap().null_count(), 1);

    // The same row again: the rows do not change, but the file lacks the columns, so the
    // partition is rewritten to gain them.
    let again = ledger
        .upsert(Table::Experiments, ledger::experiments_frame(&old).unwrap())
        .unwrap();
    assert_eq!(
        (again.partitions_written, again.partitions_unchanged),
        (1, 0)
    );
    let file = ParquetReader::new(fs::File::open(&path).unwrap())
        .finish()
        .unwrap();
    assert!(file.column("actions_mode").is_ok());
    assert!(file.column("resolved_targets").is_ok());

    // A new experiment of the same month: the partition is rewritten whole, with the column.
    let mut dry = experiment("EXP2", JULY + MICROS_PER_MINUTE);
    dry.actions_mode = Some("skip-all".into());
    dry.resolved_targets = Some(2);
    ledger
        .upsert(
            Table::Experiments,
            ledger::experiments_frame(&[dry.clone()]).unwrap(),
        )
        .unwrap();
    let both = ledger::experiments_from_frame(&ledger.read(Table::Experiments).unwrap()).unwrap();
    assert_eq!(both, vec![old[0].clone(), dry]);
    let file = ParquetReader::new(fs::File::open(&path).unwrap())
        .finish()
        .unwrap();
    assert!(file.column("actions_mode").is_ok());
    assert!(file.column("resolved_targets").is_ok());
}

/// A partition file rewritten with `change` applied to its rows.
fn rewrite_partition(path: &std::path::Path, change: impl FnOnce(DataFrame) -> DataFrame) {
    let frame = ParquetReader::new(fs::File::open(path).unwrap())
        .finish()
        .unwrap();
    let mut changed = change(frame);
    ParquetWriter::new(fs::File::create(path).unwrap())
        .finish(&mut changed)
        .unwrap();
}

/// The partition files of one table, oldest month first.
fn partition_files(ledger: &std::path::Path, table: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = fs::read_dir(ledger.join(table))
        .unwrap()
        .map(|entry| entry.unwrap().path().join("part-0.parquet"))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn ledger_check_names_an_orphan_a_repeated_key_and_a_corrupt_file() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = crate::support::small_demo(dir.path(), 40).join("ledger");
    let check =
        || crate::support::checkup(&["--ledger", ledger.to_str().unwrap(), "ledger", "check"]);
    let sound = check();
    assert_eq!(
        sound.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&sound.stdout)
    );
    assert!(String::from_utf8_lossy(&sound.stdout).contains("is sound"));

    // An action whose experiment is not stored.
    let actions = partition_files(&ledger, "actions")[0].clone();
    rewrite_partition(&actions, |frame| {
        let mut ghost = frame.head(Some(1));
        ghost
            .with_column(Column::new("experiment_id".into(), ["EXPghost"]))
            .unwrap();
        frame.vstack(&ghost).unwrap()
    });
    // A series stored twice.
    let series = partition_files(&ledger, "series")[1].clone();
    rewrite_partition(&series, |frame| frame.vstack(&frame.head(Some(1))).unwrap());
    // A points file cut in half, as a full disk or a killed copy leaves it.
    let points = partition_files(&ledger, "points")[2].clone();
    let bytes = fs::read(&points).unwrap();
    fs::write(&points, &bytes[..bytes.len() / 2]).unwrap();

    let found = check();
    assert_eq!(found.status.code(), Some(1));
    let said = String::from_utf8_lossy(&found.stdout).into_owned();
    let line_of = |path: &std::path::Path| -> String {
        said.lines()
            .find(|line| line.starts_with(&format!("{}: ", path.display())))
            .unwrap_or_else(|| panic!("{} is not named: {said}", path.display()))
            .to_string()
    };
    let orphan = line_of(&actions);
    assert!(
        orphan.contains("1 rows of actions have no experiment") && orphan.contains("EXPghost"),
        "{orphan}"
    );
    let repeated = line_of(&series);
    assert!(
        repeated.contains("1 rows repeat the key (experiment_id, series_id)"),
        "{repeated}"
    );
    let corrupt = line_of(&points);
    assert!(corrupt.contains("not a readable Parquet file"), "{corrupt}");
    assert_eq!(said.lines().count(), 3, "{said}");
    assert!(
        crate::support::stderr(&found).contains("has 3 problems"),
        "{}",
        crate::support::stderr(&found)
    );
}
