//! An outside engine reads the ledger as it is: Python polars with Hive partitioning, the way
//! a user would query the files (or Athena, Spark and Trino would, once copied to S3).
//! The Python comes from `CHECKUP_TEST_PYTHON`, which the README's test command sets to a
//! virtual environment holding polars.

use std::process::Command;

use crate::support::default_demo;

#[test]
fn python_polars_reads_the_ledger_with_hive_partitioning() {
    let python = std::env::var("CHECKUP_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let ledger = default_demo().join("ledger");
    let script = r#"
import sys, polars as pl
ledger = sys.argv[1]
experiments = pl.scan_parquet(ledger + "/experiments/**/*.parquet", hive_partitioning=True).collect()
points = pl.scan_parquet(ledger + "/points/**/*.parquet", hive_partitioning=True).select(pl.len()).collect().item()
print(experiments.height, points)
print(",".join(experiments.columns))
print(experiments.schema["started_at"])
print(experiments["month"].min(), experiments["month"].max())
"#;
    let output = Command::new(&python)
        .args(["-c", script, ledger.to_str().unwrap()])
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run {python}: {error}; run the tests with the README's test command")
        });
    assert!(
        output.status.success(),
        "python polars failed (run the tests with the README's test command, which installs it): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let counts: Vec<usize> = lines[0].split(' ').map(|n| n.parse().unwrap()).collect();
    assert!(
        counts[0] >= 400 && counts[1] > counts[0] * 100,
        "{counts:?}"
    );
    let columns: Vec<&str> = lines[1].split(',').collect();
    for column in checkup::ledger::Table::Experiments.columns() {
        assert!(
            columns.contains(&column.name),
            "python sees no column {}",
            column.name
        );
    }
    assert!(columns.contains(&"month"), "the Hive partition column");
    assert_eq!(lines[2], "Datetime(time_unit='us', time_zone='UTC')");
    assert_eq!(lines[3], "2025-07 2026-09");
}

#[test]
fn the_readme_gives_the_athena_table_of_every_ledger_table() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    for table in checkup::ledger::Table::ALL {
        let ddl = table.athena_ddl("s3://BUCKET/PREFIX");
        assert!(
            readme.contains(&ddl),
            "README lacks the Athena table of {}:\n{ddl}",
            table.name()
        );
    }
}
