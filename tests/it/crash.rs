//! Crash safety (SPEC section 12): `checkup` killed with SIGKILL at many moments while it writes
//! the ledger leaves every visible file readable, no experiment duplicated or without its rows,
//! and the next run completes the work.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{checkup, export_json, stderr};

/// Every table reads; experiment ids are unique; every experiment has its actions and series
/// (writers store children first and experiments last). Returns the experiment ids.
pub fn check_consistent(ledger: &Path, context: &str) -> BTreeSet<String> {
    let rows = |table: &str| export_json(ledger, table, context);
    let ids_of = |rows: &[serde_json::Value]| -> BTreeSet<String> {
        rows.iter()
            .map(|r| r["experiment_id"].as_str().unwrap().to_string())
            .collect()
    };
    let experiments = rows("experiments");
    let ids = ids_of(&experiments);
    assert_eq!(
        ids.len(),
        experiments.len(),
        "{context}: duplicated experiments"
    );
    let with_actions = ids_of(&rows("actions"));
    let with_series = ids_of(&rows("series"));
    for id in &ids {
        assert!(with_actions.contains(id), "{context}: {id} has no actions");
        assert!(with_series.contains(id), "{context}: {id} has no series");
    }
    for table in ["points", "alarm_events", "incidents", "outcomes"] {
        rows(table);
    }
    ids
}

/// Kill moments spread over `span`, the same on every run (a fixed linear congruential sequence).
pub fn kill_moments(trials: usize, span: Duration) -> Vec<Duration> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..trials)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            span.mul_f64((state >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

/// Starts `args`, kills it with SIGKILL after `after` (unless it ended first); whether it was
/// killed.
pub fn run_and_kill(args: &[&str], envs: &[(&str, String)], after: Duration) -> bool {
    run_or_kill(args, envs, after).is_none()
}

/// Starts `args` and kills it with SIGKILL after `after`; `None` when it was killed, else how
/// long it took to end by itself.
pub fn run_or_kill(args: &[&str], envs: &[(&str, String)], after: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_checkup"))
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = started + after;
    loop {
        if child.try_wait().unwrap().is_some() {
            return Some(started.elapsed());
        }
        if Instant::now() >= deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn demo_generation_killed_30_times_leaves_a_readable_ledger_that_the_next_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let out = out.to_str().unwrap();
    let args = ["demo", "--out", out, "--experiments", "120", "--quiet"];

    // How long one whole run takes here, to spread the kills over it.
    let reference = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let whole = checkup(&[
        "demo",
        "--out",
        reference.path().to_str().unwrap(),
        "--experiments",
        "120",
        "--quiet",
    ]);
    assert!(whole.status.success(), "{}", stderr(&whole));
    let span = started.elapsed();
    let expected = check_consistent(&reference.path().join("ledger"), "reference");

    // The moments are fractions of the span; a run that ends before its moment shortens the span
    // to its own time. The reference run shares the machine with the other tests, and a span
    // measured while it was busy left a third of the moments after the later runs' end.
    let mut span = span;
    let mut killed = 0;
    for (trial, fraction) in kill_moments(30, Duration::from_secs(1))
        .into_iter()
        .enumerate()
    {
        let after = span.mul_f64(fraction.as_secs_f64());
        match run_or_kill(&args, &[], after) {
            None => killed += 1,
            Some(took) => span = span.min(took),
        }
        let ledger = dir.path().join("demo/ledger");
        if ledger.exists() {
            let ids = check_consistent(&ledger, &format!("trial {trial}, killed after {after:?}"));
            assert!(
                ids.is_subset(&expected),
                "trial {trial}: unknown experiments"
            );
        }
    }
    eprintln!("demo: {killed} of 30 runs killed mid-way");
    assert!(killed >= 20, "only {killed} of 30 runs were killed mid-way");

    let completed = checkup(&args);
    assert!(completed.status.success(), "{}", stderr(&completed));
    assert_eq!(
        check_consistent(
            &dir.path().join("demo/ledger"),
            "after the run that completed"
        ),
        expected
    );
}

#[test]
fn a_second_writer_at_the_same_time_exits_2_and_the_first_finishes_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let out = out.to_str().unwrap();
    let args = ["demo", "--out", out, "--experiments", "600", "--quiet"];
    let first = Command::new(env!("CARGO_BIN_EXE_checkup"))
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first writer has created the ledger (and holds its lock).
    let lock = dir.path().join("demo/ledger/.lock");
    let waited = Instant::now();
    while !lock.exists() && waited.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = checkup(&args);
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    if second.status.success() {
        // The first had already finished: the runs were serial, which is fine too.
        eprintln!("the second writer ran after the first");
    } else {
        assert_eq!(second.status.code(), Some(2));
        assert!(
            stderr(&second).contains("locked by another checkup process"),
            "{}",
            stderr(&second)
        );
    }
    assert_eq!(
        check_consistent(&dir.path().join("demo/ledger"), "after two writers").len(),
        600
    );
}
