//! S3 failing while checkup writes: the S3 ledger's push and `report --publish` behind a proxy that
//! faults writes only (503 SlowDown, 500, connection resets, answers that never come, slow
//! answers). Transient faults are retried to the same bucket a fault-free run leaves; writes
//! refused until the retries run out end with exit 2 naming what was not uploaded, the bucket
//! never shows an experiment without its rows, and the next run uploads what is missing.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use crate::ingest::{checkup_with_s3, s3_client, start};
use crate::support::{export_json, stderr};
use crate::wire_faults::{FaultCounts, Writes, write_faulty_proxy};

fn journals() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/chaostoolkit-journals/generated");
    ["completed", "deviated", "failed", "recovery"]
        .iter()
        .map(|name| {
            dir.join(format!("journal-{name}.json"))
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// `checkup --ledger s3://team-ledger/chaos ARGS` with S3 at `port` and its own mirror.
fn on_ledger(port: u16, cache: &Path, args: &[&str]) -> Output {
    checkup_with_s3(port)
        .args(["--ledger", "s3://team-ledger/chaos"])
        .args(args)
        .env("CHECKUP_CACHE", cache)
        // Hung answers end after 2 s, not the default minute.
        .env("CHECKUP_AWS_ATTEMPT_TIMEOUT", "2")
        .output()
        .unwrap()
}

/// `report --format html,json --publish s3://chaos-reports/weekly` on the S3 ledger.
fn publish_weekly(port: u16, cache: &Path, reports: &Path) -> Output {
    on_ledger(
        port,
        cache,
        &[
            "report",
            "--format",
            "html,json",
            "--out",
            reports.to_str().unwrap(),
            "--publish",
            "s3://chaos-reports/weekly",
        ],
    )
}

fn keys(port: u16, bucket: &str, prefix: &str) -> BTreeSet<String> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listed = runtime
        .block_on(
            s3_client(port)
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .send(),
        )
        .unwrap();
    listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}

/// The experiments a reader of the bucket sees (a fresh mirror, straight to the stand-in).
fn experiments_in_bucket(port: u16, cache: &Path) -> Vec<Value> {
    let output = on_ledger(
        port,
        cache,
        &["export", "--table", "experiments", "--format", "json"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice::<Value>(&output.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn transient_write_faults_are_retried_to_the_bucket_a_fault_free_run_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let aws = start(
        &json!({"region": "eu-west-1", "buckets": ["team-ledger", "chaos-reports"], "templates": [], "experiments": []}),
        dir.path(),
    );
    let counts = Arc::new(FaultCounts::default());
    let proxy = write_faulty_proxy(aws.moto_port, counts.clone(), Writes::Transient);
    let cache = dir.path().join("writer");
    for journal in journals() {
        let output = on_ledger(proxy, &cache, &["ingest", "chaostoolkit", &journal]);
        assert!(output.status.success(), "{journal}: {}", stderr(&output));
    }
    let reports = dir.path().join("reports");
    let published = publish_weekly(proxy, &cache, &reports);
    assert!(published.status.success(), "{}", stderr(&published));
    let failed = counts.failed();
    eprintln!(
        "s3_write_faults: {failed} write answers failed (503 {}, 500 {}, reset {}, SlowDown {}, hung {}), {} slow, {} passed",
        counts.unavailable.load(Ordering::Relaxed),
        counts.internal.load(Ordering::Relaxed),
        counts.reset.load(Ordering::Relaxed),
        counts.throttled.load(Ordering::Relaxed),
        counts.hung.load(Ordering::Relaxed),
        counts.slow.load(Ordering::Relaxed),
        counts.passed.load(Ordering::Relaxed),
    );
    assert!(failed >= 3, "only {failed} faults were injected");

    // A reader straight to the bucket sees every journal's experiment, each with its rows.
    let reader = dir.path().join("reader");
    let experiments = experiments_in_bucket(aws.moto_port, &reader);
    assert_eq!(experiments.len(), journals().len());
    // Row for row what the same journals give a local ledger without any fault.
    let mirror = reader.join("s3-ledgers/team-ledger/chaos/ledger");
    let reference = dir.path().join("reference");
    for journal in journals() {
        let output = crate::support::checkup(&[
            "--ledger",
            reference.to_str().unwrap(),
            "ingest",
            "chaostoolkit",
            &journal,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    for (table, key) in [
        ("experiments", &["experiment_id", "status"][..]),
        ("actions", &["experiment_id", "action_name"][..]),
        ("series", &["experiment_id", "series_id"][..]),
        ("points", &["experiment_id", "series_id", "ts", "value"][..]),
    ] {
        let rows = |ledger: &Path| -> BTreeSet<String> {
            export_json(ledger, table, "after transient faults")
                .iter()
                .map(|row| {
                    key.iter()
                        .map(|k| row[*k].to_string())
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect()
        };
        assert_eq!(rows(&mirror), rows(&reference), "{table}");
    }
    assert!(!keys(aws.moto_port, "team-ledger", "chaos/").contains("chaos/.checkup-writer"));
    // Every report file was published.
    let published_keys = keys(aws.moto_port, "chaos-reports", "weekly/");
    let written: BTreeSet<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| format!("weekly/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    assert_eq!(published_keys, written);
}

#[test]
fn writes_refused_until_retries_run_out_leave_no_experiment_without_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let aws = start(
        &json!({"region": "eu-west-1", "buckets": ["team-ledger", "chaos-reports"], "templates": [], "experiments": []}),
        dir.path(),
    );
    let counts = Arc::new(FaultCounts::default());
    let refusing = write_faulty_proxy(
        aws.moto_port,
        counts.clone(),
        Writes::Refused("/experiments/"),
    );
    let cache = dir.path().join("writer");
    let journal = journals().remove(1);
    let refused = on_ledger(refusing, &cache, &["ingest", "chaostoolkit", &journal]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains("these were not uploaded: chaos/experiments/month="),
        "{message}"
    );
    assert!(message.contains("run the command again"), "{message}");
    // The children went up, the experiment did not: a reader sees no experiment at all, never
    // one without its rows; and the writer's mark is gone.
    let stored = keys(aws.moto_port, "team-ledger", "chaos/");
    assert!(
        stored.iter().any(|k| k.starts_with("chaos/actions/")),
        "{stored:?}"
    );
    assert!(
        !stored.iter().any(|k| k.starts_with("chaos/experiments/")),
        "{stored:?}"
    );
    assert!(!stored.contains("chaos/.checkup-writer"), "{stored:?}");
    assert!(experiments_in_bucket(aws.moto_port, &dir.path().join("reader")).is_empty());

    // The next run, with S3 answering again, uploads what was missing.
    let again = on_ledger(aws.moto_port, &cache, &["ingest", "chaostoolkit", &journal]);
    assert!(again.status.success(), "{}", stderr(&again));
    eprintln!("s3_write_faults: the next run: {}", stderr(&again).trim());
    let reader = dir.path().join("reader-after");
    assert_eq!(experiments_in_bucket(aws.moto_port, &reader).len(), 1);
    crate::crash::check_consistent(
        &reader.join("s3-ledgers/team-ledger/chaos/ledger"),
        "after the next run",
    );

    // --publish refused for one report: exit 2 naming what was not published, the rest stays
    // on disk; publishing again completes.
    let refusing = write_faulty_proxy(aws.moto_port, counts, Writes::Refused("/weekly/executive"));
    let reports = dir.path().join("reports");
    let publish = |port: u16| publish_weekly(port, &cache, &reports);
    let cut_short = publish(refusing);
    assert_eq!(cut_short.status.code(), Some(2));
    let message = stderr(&cut_short);
    assert!(
        message.contains("not published: s3://chaos-reports/weekly/executive.html"),
        "{message}"
    );
    assert!(!keys(aws.moto_port, "chaos-reports", "weekly/").contains("weekly/executive.html"));
    let completed = publish(aws.moto_port);
    assert!(completed.status.success(), "{}", stderr(&completed));
    assert!(keys(aws.moto_port, "chaos-reports", "weekly/").contains("weekly/executive.html"));
}
