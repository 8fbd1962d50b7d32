//! A full disk. The ledger and the report folder live on a small tmpfs (mounted by the test; it
//! needs root, as `tests/run.sh` has in CI, and says so and skips elsewhere), a filler file leaves
//! a chosen number of bytes free, and `demo`, `ingest` and `report` run with every amount from
//! nothing to enough, so that ENOSPC meets them at each of their writes in turn. Every failure
//! exits 2 naming a path and "No space left", leaves the ledger exactly as it was (byte for byte)
//! and no temporary file behind; once space is freed the same command completes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{files_under, small_demo, stderr, temporary_files};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// `None` where this process may not mount (not root, or no CAP_SYS_ADMIN).
    fn mount(path: &Path, size_kib: u64) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_kib}k"), "tmpfs"])
            .arg(path)
            .output()
            .ok()?;
        status.status.success().then(|| Tmpfs {
            path: path.to_path_buf(),
        })
    }

    /// Bytes a new file may still take.
    fn available(&self) -> u64 {
        let path = std::ffi::CString::new(self.path.to_str().unwrap()).unwrap();
        let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::statvfs(path.as_ptr(), &mut stats) }, 0);
        stats.f_bavail as u64 * stats.f_frsize as u64
    }

    /// Fills the file system up to `free` bytes left (to the page).
    fn leave_free(&self, free: u64) {
        let filler = self.path.join("filler");
        let _ = std::fs::remove_file(&filler);
        let take = self.available().saturating_sub(free);
        std::fs::write(&filler, vec![0u8; take as usize]).unwrap();
    }

    fn free_all(&self) {
        let _ = std::fs::remove_file(self.path.join("filler"));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).output();
    }
}

/// Every file under `dir` with its bytes, the filler left out.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = files_under(dir);
    files.retain(|path, _| path.file_name().unwrap() != "filler");
    files
}

/// What the failures of one sweep showed.
#[derive(Debug, Default)]
struct Sweep {
    failures: usize,
    /// The distinct paths the errors named.
    paths: std::collections::BTreeSet<String>,
}

/// Runs `run` with 0, `step`, 2 `step`, … bytes free until it succeeds; checks each failure.
/// The ledger must be as it was after every failure.
fn sweep(fs: &Tmpfs, ledger: &Path, step: u64, run: &dyn Fn() -> Output) -> Sweep {
    sweep_keeping(fs, &|| snapshot(ledger), step, run)
}

/// [`sweep`] where `state` (the ledger's files, or a bucket's objects) must not change.
fn sweep_keeping<T: PartialEq + std::fmt::Debug>(
    fs: &Tmpfs,
    state: &dyn Fn() -> T,
    step: u64,
    run: &dyn Fn() -> Output,
) -> Sweep {
    let mut result = Sweep::default();
    let before = state();
    for attempt in 0.. {
        let free = attempt * step;
        fs.leave_free(free);
        let output = run();
        if output.status.success() {
            fs.free_all();
            return result;
        }
        let message = stderr(&output);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{free} bytes free: {message}"
        );
        assert!(
            message.contains("No space left on device"),
            "{free} bytes free: {message}"
        );
        // The file that could not be written, named after the last "cannot write".
        let named = message
            .rsplit_once("cannot write ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .filter(|path| path.starts_with(fs.path.to_str().unwrap()))
            .unwrap_or_else(|| panic!("{free} bytes free: no file named: {message}"))
            .trim_end_matches([':', ','])
            .to_string();
        result.paths.insert(named);
        assert!(
            state() == before,
            "{free} bytes free: the ledger changed: {message}"
        );
        assert_eq!(
            temporary_files(&fs.path),
            Vec::<PathBuf>::new(),
            "{free} bytes free"
        );
        result.failures += 1;
        assert!(attempt < 400, "never enough space");
    }
    unreachable!()
}

fn checkup_at(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_checkup"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_full_disk_stops_every_write_cleanly_and_the_next_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let mount_point = dir.path().join("small");
    let Some(fs) = Tmpfs::mount(&mount_point, 16 * 1024) else {
        eprintln!(
            "disk_full: skipped, this process cannot mount a tmpfs (run the tests as root, as tests/run.sh does in CI)"
        );
        return;
    };
    let source = small_demo(dir.path(), 40).join("ledger");
    let ledger = fs.path.join("ledger");
    let copied = Command::new("cp")
        .args(["-a", source.to_str().unwrap(), ledger.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(copied.status.success());
    let reports = fs.path.join("reports");
    let ledger_arg = ledger.to_str().unwrap().to_string();

    // report: the outcomes it stores in the ledger, then every report file.
    let report = sweep(&fs, &ledger, 24 * 1024, &|| {
        checkup_at(&[
            "--ledger",
            &ledger_arg,
            "report",
            "--out",
            reports.to_str().unwrap(),
        ])
    });
    // ingest: a CSV of incidents into the same ledger.
    let incidents = dir.path().join("incidents.csv");
    let mut csv = String::from("incident_id,service,team,severity,started_at,resolved_at\n");
    for i in 0..400 {
        csv.push_str(&format!(
            "INC-{i},checkout,payments,SEV2,2026-0{}-1{}T10:00:00Z,2026-0{}-1{}T11:00:00Z\n",
            1 + i % 9,
            i % 10,
            1 + i % 9,
            i % 10
        ));
    }
    std::fs::write(&incidents, csv).unwrap();
    let ingest = sweep(&fs, &ledger, 2 * 1024, &|| {
        checkup_at(&[
            "--ledger",
            &ledger_arg,
            "ingest",
            "incidents",
            incidents.to_str().unwrap(),
        ])
    });
    // demo: a whole new history, into a folder of its own.
    let demo_out = fs.path.join("demo");
    let demo_ledger = demo_out.join("ledger");
    let demo = sweep(&fs, &demo_ledger, 256 * 1024, &|| {
        // A demo interrupted by a full disk is run again from scratch, as a user would.
        let _ = std::fs::remove_dir_all(&demo_out);
        checkup_at(&[
            "demo",
            "--out",
            demo_out.to_str().unwrap(),
            "--experiments",
            "40",
            "--quiet",
        ])
    });
    eprintln!(
        "disk_full: report failed {} times ({} paths named), ingest {} times ({}), demo {} times ({})",
        report.failures,
        report.paths.len(),
        ingest.failures,
        ingest.paths.len(),
        demo.failures,
        demo.paths.len()
    );
    // Each command met a full disk at more than one of its writes.
    assert!(report.paths.len() >= 3, "{report:?}");
    assert!(ingest.failures >= 1, "{ingest:?}");
    assert!(demo.paths.len() >= 3, "{demo:?}");
    assert_eq!(
        crate::crash::check_consistent(&ledger, "after the sweeps").len(),
        40
    );
}

#[test]
fn a_full_disk_under_the_s3_mirror_changes_nothing_in_the_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let mount_point = dir.path().join("small");
    let Some(fs) = Tmpfs::mount(&mount_point, 4 * 1024) else {
        eprintln!("disk_full: skipped, this process cannot mount a tmpfs");
        return;
    };
    let aws = crate::ingest::start(
        &serde_json::json!({"region": "eu-west-1", "buckets": ["team-ledger"], "templates": [], "experiments": []}),
        dir.path(),
    );
    let journals = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/chaostoolkit-journals/generated");
    let run = |cache: &Path, journal: &str| {
        crate::ingest::checkup_with_s3(aws.moto_port)
            .args([
                "--ledger",
                "s3://team-ledger/chaos",
                "ingest",
                "chaostoolkit",
            ])
            .arg(journals.join(journal))
            .env("CHECKUP_CACHE", cache)
            .output()
            .unwrap()
    };
    // The bucket holds a ledger written from another machine.
    let seeded = run(&dir.path().join("elsewhere"), "journal-completed.json");
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let bucket = || -> Vec<(String, String)> {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listed = runtime
            .block_on(
                crate::ingest::s3_client(aws.moto_port)
                    .list_objects_v2()
                    .bucket("team-ledger")
                    .send(),
            )
            .unwrap();
        listed
            .contents()
            .iter()
            .map(|o| {
                (
                    o.key().unwrap_or_default().to_string(),
                    o.e_tag().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    // Here, the mirror is on the small file system: its pull, the ingest and the manifest all
    // meet a full disk in turn.
    let cache = fs.path.join("cache");
    let before = bucket();
    let mirror = sweep_keeping(&fs, &bucket, 4 * 1024, &|| {
        run(&cache, "journal-deviated.json")
    });
    eprintln!(
        "disk_full: an S3 mirror on a full disk failed {} times ({} files named), the bucket unchanged each time",
        mirror.failures,
        mirror.paths.len()
    );
    assert!(mirror.failures >= 2, "{mirror:?}");
    // Once there was room, the ingest went up.
    assert_ne!(bucket(), before);
}
