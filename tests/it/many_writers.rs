//! Several schedulers writing one S3 ledger: 4 processes × 10 rounds of `ingest fis` then `report`
//! against one bucket (moto), new FIS experiments appearing between rounds, and a reader reading
//! the bucket all along. One writer at a time (the others are told who holds it and retry); every
//! experiment ends up in the bucket exactly once; the reader never sees an experiment without its
//! rows.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::ingest::{HOUR, MINUTE, checkup_with_s3, now_s, run, start, template};
use crate::support::stderr;

const WRITERS: usize = 4;
const ROUNDS: usize = 10;
/// How often a writer told that another holds the ledger tries again within one round.
const ATTEMPTS: usize = 40;

fn on_ledger(moto: u16, cache: &Path, args: &[&str]) -> Output {
    checkup_with_s3(moto)
        .args(["--ledger", "s3://team-ledger/chaos"])
        .args(args)
        .env("CHECKUP_CACHE", cache)
        .env("AWS_ENDPOINT_URL_FIS", format!("http://127.0.0.1:{moto}"))
        .output()
        .unwrap()
}

/// What happened to all the writers.
#[derive(Default)]
struct Tally {
    ingests: AtomicUsize,
    reports: AtomicUsize,
    /// Attempts told that another writer holds the ledger.
    busy: AtomicUsize,
}

#[test]
fn four_writers_over_ten_rounds_lose_nothing_and_never_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let base = (now_s() - 2 * 24 * HOUR) / HOUR * HOUR;
    let templates = vec![template(
        "web",
        "web-asg-terminate",
        json!({"team": "platform", "env": "prod"}),
        "aws:ec2:terminate-instances",
        "COUNT(1)",
    )];
    let experiment = |round: usize, i: usize| {
        run(
            &format!("R{round}-{i}"),
            "web",
            "completed",
            base + (round as i64 * 4 + i as i64) * 20 * MINUTE,
            true,
        )
    };
    let first: Vec<Value> = (0..4).map(|i| experiment(0, i)).collect();
    let mut aws = start(
        &json!({"region": "eu-west-1", "buckets": ["team-ledger"], "templates": templates, "experiments": first}),
        dir.path(),
    );
    let moto = aws.moto_port;
    let mut seeded: BTreeSet<String> = aws.ids.values().cloned().collect();

    // A reader all along: every experiment it sees has its actions.
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let half_states = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let (stop, reads, half_states) = (stop.clone(), reads.clone(), half_states.clone());
        let cache = dir.path().join("reader");
        thread::spawn(move || {
            let mirror = cache.join("s3-ledgers/team-ledger/chaos/ledger");
            while !stop.load(Ordering::Relaxed) {
                let ids = |output: Output| -> Option<BTreeSet<String>> {
                    if !output.status.success() {
                        return None;
                    }
                    let rows: Value = serde_json::from_slice(&output.stdout).ok()?;
                    Some(
                        rows.as_array()?
                            .iter()
                            .map(|r| r["experiment_id"].as_str().unwrap_or_default().to_string())
                            .collect(),
                    )
                };
                // One pull of the bucket, then both tables of that one copy.
                let experiments = ids(on_ledger(
                    moto,
                    &cache,
                    &["export", "--table", "experiments", "--format", "json"],
                ));
                let with_actions = ids(crate::support::checkup(&[
                    "--ledger",
                    mirror.to_str().unwrap(),
                    "export",
                    "--table",
                    "actions",
                    "--format",
                    "json",
                ]));
                let (Some(experiments), Some(with_actions)) = (experiments, with_actions) else {
                    continue;
                };
                reads.fetch_add(1, Ordering::Relaxed);
                let missing: Vec<String> = experiments.difference(&with_actions).cloned().collect();
                if !missing.is_empty() {
                    half_states.lock().unwrap().push(format!("{missing:?}"));
                }
            }
        })
    };

    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    for round in 0..ROUNDS {
        if round > 0 {
            // New runs appear in the account between rounds.
            let more: Vec<Value> = (0..4).map(|i| experiment(round, i)).collect();
            seeded.extend(aws.add_experiments(&json!(more)));
        }
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let tally = tally.clone();
                let cache = dir.path().join(format!("writer-{writer}"));
                let reports = dir.path().join(format!("reports-{writer}"));
                thread::spawn(move || {
                    for step in [
                        &["ingest", "fis", "--region", "eu-west-1"][..],
                        &[
                            "report",
                            "--format",
                            "json",
                            "--out",
                            reports.to_str().unwrap(),
                        ][..],
                    ] {
                        for attempt in 0.. {
                            let output = on_ledger(moto, &cache, step);
                            if output.status.success() {
                                let done = if step[0] == "ingest" {
                                    &tally.ingests
                                } else {
                                    &tally.reports
                                };
                                done.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            let message = stderr(&output);
                            assert!(
                                message.contains("is being written by another checkup"),
                                "writer {writer}, round {round}: {message}"
                            );
                            tally.busy.fetch_add(1, Ordering::Relaxed);
                            assert!(attempt < ATTEMPTS, "writer {writer} never got the ledger");
                            thread::sleep(Duration::from_millis(50 + 37 * writer as u64));
                        }
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    let elapsed = started.elapsed();

    // Every experiment of the account is in the bucket, exactly once.
    let output = on_ledger(
        moto,
        &dir.path().join("final"),
        &["export", "--table", "experiments", "--format", "json"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let rows: Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["experiment_id"].as_str().unwrap().to_string())
        .collect();
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), unique.len(), "an experiment is stored twice");
    assert_eq!(unique, seeded);
    let half_states = half_states.lock().unwrap();
    assert!(half_states.is_empty(), "the reader saw: {half_states:?}");
    let (ingests, reports, busy) = (
        tally.ingests.load(Ordering::Relaxed),
        tally.reports.load(Ordering::Relaxed),
        tally.busy.load(Ordering::Relaxed),
    );
    eprintln!(
        "many_writers: {WRITERS} writers x {ROUNDS} rounds in {elapsed:?}: {ingests} ingests and {reports} reports written, {busy} attempts told another writer held the ledger, {} experiments in the bucket once each, {} reads without a half state",
        unique.len(),
        reads.load(Ordering::Relaxed)
    );
    assert_eq!(ingests, WRITERS * ROUNDS);
    assert_eq!(reports, WRITERS * ROUNDS);
    assert!(busy > 0, "the writers never met");
    assert!(reads.load(Ordering::Relaxed) > 0);
}
