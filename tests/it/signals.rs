//! Ctrl-C and SIGTERM: `ingest`, `report` and `demo` stop at their next safe point, exit 130 or
//! 143, say what they stored and what they did not, and leave the ledger consistent (and an S3
//! ledger without their writer's mark); the next run completes.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::crash::{check_consistent, kill_moments};
use crate::support::{small_demo, stderr, temporary_files};

/// Runs checkup and sends `signal` after `after` unless it finished first; returns the exit code
/// (`None`: ended by the signal's default action) and what it printed on stderr.
fn run_and_signal(
    args: &[&str],
    envs: &[(&str, String)],
    after: Duration,
    signal: i32,
) -> (Option<i32>, String, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_checkup"))
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + after;
    let mut signalled = false;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if !signalled && Instant::now() >= deadline {
            unsafe { libc::kill(child.id() as i32, signal) };
            signalled = true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = child.wait().unwrap();
    let mut said = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut said)
        .unwrap();
    (status.code(), said, signalled)
}

/// Checks one stopped run: the exit code of its signal and a message saying what was stored.
fn assert_stopped(code: Option<i32>, said: &str, signal: i32, context: &str) {
    let (expected, name) = if signal == libc::SIGINT {
        (130, "SIGINT")
    } else {
        (143, "SIGTERM")
    };
    assert_eq!(code, Some(expected), "{context}: {said}");
    assert!(
        said.contains(&format!("interrupted by {name}:")),
        "{context}: {said}"
    );
}

#[test]
fn an_ingest_stopped_by_sigint_or_sigterm_stores_whole_batches_and_the_next_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let (_, config_path, aws) = crate::ingest::start_busy(dir.path(), &[]);
    let envs = aws.envs();
    let reference = dir.path().join("reference");
    let started = Instant::now();
    let whole = crate::ingest::ingest(
        &reference,
        &aws,
        &["--config", config_path.to_str().unwrap()],
    );
    assert!(whole.status.success(), "{}", stderr(&whole));
    let span = started.elapsed();
    let expected = check_consistent(&reference, "reference");

    let ledger = dir.path().join("ledger");
    let args = [
        "--ledger",
        ledger.to_str().unwrap(),
        "--config",
        config_path.to_str().unwrap(),
        "ingest",
        "fis",
        "--region",
        "eu-west-1",
        "--since",
        "2000-01-01",
    ];
    let mut stopped = 0;
    // After the handler is installed (the first 200 ms), within the first 70% of a whole run.
    for (trial, after) in kill_moments(8, span.mul_f64(0.7)).into_iter().enumerate() {
        let after = after.max(Duration::from_millis(200));
        let signal = if trial % 2 == 0 {
            libc::SIGINT
        } else {
            libc::SIGTERM
        };
        let (code, said, signalled) = run_and_signal(&args, &envs, after, signal);
        let context = format!("trial {trial}, signal after {after:?}");
        if code == Some(0) {
            continue;
        }
        assert!(signalled, "{context}: {said}");
        assert_stopped(code, &said, signal, &context);
        assert!(said.contains("run the command again"), "{context}: {said}");
        stopped += 1;
        if ledger.exists() {
            assert!(check_consistent(&ledger, &context).is_subset(&expected));
        }
    }
    eprintln!("signals: {stopped} of 8 ingests stopped mid-way");
    assert!(stopped >= 4, "only {stopped} of 8 ingests were stopped");
    let completed =
        crate::ingest::ingest(&ledger, &aws, &["--config", config_path.to_str().unwrap()]);
    assert!(completed.status.success(), "{}", stderr(&completed));
    assert_eq!(check_consistent(&ledger, "completed"), expected);
}

#[test]
fn a_demo_and_a_report_stopped_mid_way_say_what_they_wrote() {
    let dir = tempfile::tempdir().unwrap();
    // The demo: stopped between months, the ledger it stored readable, then run again.
    let out = dir.path().join("demo");
    let args = [
        "demo",
        "--out",
        out.to_str().unwrap(),
        "--experiments",
        "3000",
        "--quiet",
    ];
    let (code, said, _) = run_and_signal(&args, &[], Duration::from_millis(700), libc::SIGINT);
    assert_stopped(code, &said, libc::SIGINT, "demo");
    assert!(
        said.contains("experiments of the demo's history, up to month"),
        "{said}"
    );
    check_consistent(&out.join("ledger"), "stopped demo");
    let again = crate::support::checkup(&args);
    assert!(again.status.success(), "{}", stderr(&again));

    // A report: stopped between files, each file written whole.
    let ledger = small_demo(&dir.path().join("second"), 600).join("ledger");
    let reports = dir.path().join("reports");
    let report_args = [
        "--ledger",
        ledger.to_str().unwrap(),
        "report",
        "--lab-reports",
        "all",
        "--out",
        reports.to_str().unwrap(),
    ];
    let (code, said, _) = run_and_signal(
        &report_args,
        &[],
        Duration::from_millis(1500),
        libc::SIGTERM,
    );
    assert_stopped(code, &said, libc::SIGTERM, "report");
    assert!(said.contains("report files into"), "{said}");
    assert_eq!(temporary_files(&reports), Vec::<std::path::PathBuf>::new());
    // Every PDF written is whole: it ends with its trailer.
    for entry in std::fs::read_dir(&reports).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pdf") {
            let bytes = std::fs::read(&path).unwrap();
            let tail = &bytes[bytes.len().saturating_sub(16)..];
            assert!(
                tail.windows(5).any(|w| w == b"%%EOF"),
                "{} is cut",
                path.display()
            );
        }
    }
}

#[test]
fn a_writer_of_an_s3_ledger_stopped_by_sigint_removes_its_mark() {
    let dir = tempfile::tempdir().unwrap();
    let aws = crate::ingest::start(
        &serde_json::json!({"region": "eu-west-1", "buckets": ["team-ledger"], "templates": [], "experiments": []}),
        dir.path(),
    );
    let journals = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/chaostoolkit-journals/generated");
    let cache = dir.path().join("cache");
    let envs = [
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_REGION", "eu-west-1".to_string()),
        (
            "AWS_ENDPOINT_URL_S3",
            format!("http://127.0.0.1:{}", aws.moto_port),
        ),
        ("CHECKUP_CACHE", cache.to_str().unwrap().to_string()),
    ];
    let journal = journals.join("journal-deviated.json");
    let seeded = crate::ingest::checkup_with_s3(aws.moto_port)
        .args(["--ledger", "s3://team-ledger/chaos"])
        .args(["ingest", "chaostoolkit", journal.to_str().unwrap()])
        .env("CHECKUP_CACHE", &cache)
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let reports = dir.path().join("reports");
    let args = [
        "--ledger",
        "s3://team-ledger/chaos",
        "report",
        "--lab-reports",
        "all",
        "--out",
        reports.to_str().unwrap(),
    ];
    // How long a whole run takes here, to send the signals within it.
    let started = Instant::now();
    let whole = crate::ingest::checkup_with_s3(aws.moto_port)
        .args(args)
        .env("CHECKUP_CACHE", &cache)
        .output()
        .unwrap();
    assert!(whole.status.success(), "{}", stderr(&whole));
    let span = started.elapsed();
    let mut stopped = 0;
    for after in kill_moments(6, span.mul_f64(0.7)) {
        // After the handler is installed: the first thing a run does.
        let after = after.max(Duration::from_millis(50));
        let after_ms = after.as_millis();
        let (code, said, _) = run_and_signal(&args, &envs, after, libc::SIGINT);
        if code == Some(0) {
            continue;
        }
        assert_stopped(code, &said, libc::SIGINT, &format!("after {after_ms} ms"));
        assert!(said.contains("nothing was uploaded"), "{said}");
        stopped += 1;
        let client = crate::ingest::s3_client(aws.moto_port);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let mark = runtime.block_on(
            client
                .head_object()
                .bucket("team-ledger")
                .key("chaos/.checkup-writer")
                .send(),
        );
        assert!(mark.is_err(), "the writer's mark was left behind");
    }
    eprintln!("signals: {stopped} of 6 reports on an S3 ledger stopped mid-way, no mark left");
    assert!(stopped >= 1, "no report was stopped mid-way");
    let again = crate::ingest::checkup_with_s3(aws.moto_port)
        .args(args)
        .env("CHECKUP_CACHE", &cache)
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
}
