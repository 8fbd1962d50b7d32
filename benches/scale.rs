//! Benchmarks of SPEC section 12's speed and memory goals (issue 8), on generated ledgers of
//! several sizes (`checkup demo --experiments N`'s history observed over a 45-minute + run +
//! 70-minute window: four series of about 90 points per experiment, as SPEC section 12 asks):
//!
//! - the floor: the time polars takes just to read the Parquet files analysis reads;
//! - analysis: Parquet into records, judging, weaknesses, MTTR, ROI, maturity and the report
//!   model, in-process (goal on 10,000 experiments: at most 3× the floor);
//! - reports: `checkup report` of every kind as HTML, then as PDF, run as the user runs it
//!   (goal: a few seconds each);
//! - the peak resident memory of each of those, each in a process of its own (goal: < 1 GiB).
//!
//! Run with `cargo bench --bench scale` (sizes 1,000, 10,000 and 100,000) or
//! `cargo bench --bench scale -- 5000 20000`. Linux only: peak memory comes from wait4's rusage.
//! Timings inside a process are the best of three runs; the ledgers live in a temporary folder.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use checkup::analyze::maturity::Rubric;
use checkup::analyze::program::{ReferenceData, analyze_judged, default_period};
use checkup::app::demo::generate_demo_ledger;
use checkup::app::load::{JudgedLedger, load_and_judge, on_polars_pool};
use checkup::config::Config;
use checkup::ingest::demo::{DEFAULT_SEED, DemoSettings};
use checkup::ledger::{Ledger, Table};
use checkup::report::build_model;
use checkup::report::model::ModelInput;
use checkup::vocab::catalog::ActionCatalog;

// The allocator `checkup` itself runs with (src/main.rs), so that the bench measures what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The tables analysis reads.
const TABLES: [Table; 6] = [
    Table::Experiments,
    Table::Actions,
    Table::Series,
    Table::Points,
    Table::AlarmEvents,
    Table::Incidents,
];

const DEFAULT_SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// SPEC section 12's benchmark ledger has four series of about 90 points per experiment: the
/// demo history observed 45 minutes before each fault and 70 minutes after each run (one point a
/// minute), judged over the same window. Written beside the ledgers for `checkup report --config`.
const BENCH_CONFIG: &str = "[window]\npre = \"45m\"\npost = \"70m\"\n";

fn bench_config() -> Config {
    Config::parse(Path::new("bench.toml"), BENCH_CONFIG).expect("the bench's configuration")
}

/// Above this, only the floor and analysis are measured: a quarter of a million experiments
/// lists about 170,000 of them, a table for `experiments.csv`, not for a page.
const MOST_EXPERIMENTS_REPORTED: usize = 100_000;

/// Child process roles: `--child read LEDGER` and `--child analyze LEDGER` print the best of three
/// timings in seconds.
const CHILD: &str = "--child";

fn best_of_three(mut work: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .min()
        .expect("three runs")
}

/// The floor: polars reads every file of the six tables, one partition at a time as analysis
/// does (a whole table of a million experiments would not fit in memory).
fn read_tables(ledger: &Ledger) {
    for table in TABLES {
        for partition in ledger.partitions(table).expect("partitions") {
            black_box(
                ledger
                    .read_month(table, &partition.month)
                    .expect("partition reads"),
            );
        }
    }
}

/// Writes the demo history of `experiments` experiments (`checkup demo --experiments N`'s).
fn generate(root: &Path, experiments: usize) {
    let ledger = Ledger::open_for_write(root).expect("ledger");
    generate_demo_ledger(
        &ledger,
        &DemoSettings {
            experiments: Some(experiments),
            seed: DEFAULT_SEED,
            ..DemoSettings::default()
        }
        .observed_over(&bench_config().window),
    )
    .expect("demo history");
}

/// Rows of a table, from the Parquet footers.
fn rows_of(ledger: &Ledger, table: Table) -> u32 {
    let count = ledger
        .scan(table)
        .expect("scan")
        .select([polars::prelude::len()])
        .collect()
        .expect("count");
    count
        .column("len")
        .expect("len")
        .u32()
        .expect("u32")
        .get(0)
        .unwrap_or(0)
}

/// What `checkup report` does before rendering, timed phase by phase: read and judge the ledger
/// month by month, analyze the program, build the report model.
fn load_and_analyze(ledger: &Ledger, mut lap: impl FnMut(&'static str)) {
    let config = bench_config();
    let catalog = ActionCatalog::built_in();
    let rubric = Rubric::built_in();
    let JudgedLedger { data, runs } =
        load_and_judge(ledger, &config, &catalog).expect("ledger loads");
    lap("read + judge by month");
    let period = default_period(runs.iter().map(|judged| &judged.experiment)).expect("experiments");
    let reference = ReferenceData {
        catalog: &catalog,
        rubric: &rubric,
    };
    let (analysis, after_period) =
        analyze_judged(&data, runs, &config, &reference, period).expect("analysis");
    lap("program");
    let model = build_model(&ModelInput {
        lang: checkup::report::i18n::Lang::En,
        organization: &config.organization,
        currency: &config.currency,
        generated_at: 0,
        analysis: &analysis,
        cost: config.cost,
        rubric: &rubric,
    });
    lap("model");
    black_box((model.experiments.len(), after_period.len()));
    // Freeing it all is part of a run's cost too (`checkup report` pays it before it exits).
    drop((model, analysis, after_period, data));
    lap("drop");
}

/// The CPU time this process has used so far, on all its threads (user and system).
fn cpu_seconds() -> f64 {
    // SAFETY: an all-zero rusage is a valid value; getrusage fills it for this process.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer to a rusage.
    let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(status, 0, "getrusage");
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// This process's peak resident memory so far (VmHWM), in MiB.
fn peak_mib_so_far() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// One phase of one run: its wall time, the CPU time of all threads meanwhile, and the process's
/// peak memory at its end.
struct Lap {
    phase: &'static str,
    wall_s: f64,
    cpu_s: f64,
    peak_mib: f64,
}

/// Where load + analysis goes, phase by phase, best of seven after a warm-up run
/// (`--child phases LEDGER [RUNS]`, printed on stderr). Beside each phase's wall time, the CPU
/// time of that same run: how far the phase keeps both cores busy.
fn phases(ledger: &Ledger, runs: usize) {
    if runs > 1 {
        on_polars_pool(|| load_and_analyze(ledger, |_| {}));
    }
    let mut best: Vec<Lap> = Vec::new();
    for run in 0..runs {
        let mut laps = Vec::new();
        let (mut clock, mut cpu) = (Instant::now(), cpu_seconds());
        let mut lap = |phase| {
            let now = cpu_seconds();
            laps.push(Lap {
                phase,
                wall_s: clock.elapsed().as_secs_f64(),
                cpu_s: now - cpu,
                peak_mib: peak_mib_so_far(),
            });
            (clock, cpu) = (Instant::now(), now);
        };
        read_tables(ledger);
        lap("polars read (floor)");
        // As `checkup report` runs it (`app::load::analyze_ledger`).
        on_polars_pool(|| load_and_analyze(ledger, &mut lap));
        if run == 0 {
            best = laps;
        } else {
            for (kept, lap) in best.iter_mut().zip(laps) {
                if lap.wall_s < kept.wall_s {
                    *kept = lap;
                }
            }
        }
    }
    for Lap {
        phase,
        wall_s,
        cpu_s,
        peak_mib,
    } in best
    {
        eprintln!("{phase:>22}: {wall_s:.3} s (CPU {cpu_s:.3} s), peak so far {peak_mib:.0} MiB");
    }
}

/// A process's wall time and peak resident memory.
struct Measured {
    wall: Duration,
    peak_mib: f64,
    stdout: String,
}

/// Runs `command` to its end and measures it; panics with its stderr when it fails.
fn measure(command: &mut Command) -> Measured {
    let started = Instant::now();
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("child starts");
    let pid = child.id() as libc::pid_t;
    // Read the pipes on threads so a chatty child cannot block on a full pipe.
    let mut child = child;
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is a child of this process that nothing else waits for.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    let stdout = out.join().expect("stdout thread");
    let stderr = err.join().expect("stderr thread");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{command:?} failed: {stderr}"
    );
    Measured {
        wall,
        // ru_maxrss is in KiB on Linux.
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
        stdout,
    }
}

fn child_seconds(role: &str, ledger: &Path) -> (f64, f64) {
    let measured = measure(
        Command::new(std::env::current_exe().expect("own path"))
            .args([CHILD, role])
            .arg(ledger),
    );
    let seconds = measured
        .stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("child {role} printed {:?}", measured.stdout));
    (seconds, measured.peak_mib)
}

fn size_of(path: &Path) -> u64 {
    match std::fs::read_dir(path) {
        Ok(entries) => entries.flatten().map(|entry| size_of(&entry.path())).sum(),
        Err(_) => std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
    }
}

/// Pages of a PDF, by pdfinfo when it is installed.
fn pdf_pages(path: &Path) -> Option<u32> {
    let output = Command::new("pdfinfo").arg(path).output().ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("Pages:"))
        .and_then(|pages| pages.trim().parse().ok())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

fn bench_size(experiments: usize, dir: &Path) {
    // Named by the window too: a ledger kept from before the 90-point shape is not reused.
    let root = dir.join(format!("ledger-{experiments}-observed-45m-70m"));
    // Generated in a child process: Linux counts the peak memory of the process that spawns a
    // child (up to its exec) as the child's, so this process must stay small.
    let generated = if root.join("_checkup.json").exists() {
        "reused".to_string()
    } else {
        let measured = measure(
            Command::new(std::env::current_exe().expect("own path"))
                .args([CHILD, "generate"])
                .arg(&root)
                .arg(experiments.to_string()),
        );
        format!(
            "generated in {:.1} s, {:.0} MiB",
            measured.wall.as_secs_f64(),
            measured.peak_mib
        )
    };
    let ledger = Ledger::open_for_read(&root).expect("ledger");
    let points = rows_of(&ledger, Table::Points);
    let series = rows_of(&ledger, Table::Series);

    let (read_s, read_peak) = child_seconds("read", &root);
    let (analyze_s, analyze_peak) = child_seconds("analyze", &root);

    let checkup = env!("CARGO_BIN_EXE_checkup");
    let config = dir.join("bench.toml");
    std::fs::write(&config, BENCH_CONFIG).expect("the bench's configuration is written");
    let mut reports = Vec::new();
    let formats: &[&str] = if experiments <= MOST_EXPERIMENTS_REPORTED {
        &["html", "pdf"]
    } else {
        &[]
    };
    for format in formats {
        let out = dir.join(format!("reports-{experiments}-{format}"));
        let measured = measure(
            Command::new(checkup)
                .arg("--ledger")
                .arg(&root)
                .arg("--config")
                .arg(&config)
                .args(["--quiet", "report", "--kind", "all", "--format", format])
                .arg("--out")
                .arg(&out),
        );
        let quarterly = out.join(format!("quarterly.{format}"));
        reports.push((
            format,
            measured,
            size_of(&out),
            size_of(&quarterly),
            quarterly,
        ));
    }

    println!("\n## {experiments} experiments");
    println!(
        "ledger: {series} series, {points} points, {:.1} MiB of Parquet; {generated}",
        mib(size_of(&root)),
    );
    println!("| measure | time | peak memory |");
    println!("|---|---:|---:|");
    println!(
        "| polars read of the 6 tables, partition by partition (floor) | {read_s:.3} s | {read_peak:.0} MiB |"
    );
    println!(
        "| load + analysis + model | {analyze_s:.3} s ({:.2}× the floor) | {analyze_peak:.0} MiB |",
        analyze_s / read_s
    );
    for (format, measured, total, quarterly, path) in &reports {
        let pages = if *format == &"pdf" {
            pdf_pages(path).map_or(String::new(), |pages| format!(", {pages} pages"))
        } else {
            String::new()
        };
        println!(
            "| `checkup report --kind all --format {format}` (quarterly {:.1} MiB{pages}; all {:.1} MiB) | {:.2} s | {:.0} MiB |",
            mib(*quarterly),
            mib(*total),
            measured.wall.as_secs_f64(),
            measured.peak_mib
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, role, ledger, ..] = args.as_slice()
        && flag == CHILD
    {
        if role == "generate" {
            let experiments = args.get(3).and_then(|n| n.parse().ok()).expect("a size");
            generate(Path::new(ledger), experiments);
            return;
        }
        let ledger = Ledger::open_for_read(Path::new(ledger)).expect("ledger");
        let took = match role.as_str() {
            "read" => best_of_three(|| read_tables(&ledger)),
            "analyze" => best_of_three(|| on_polars_pool(|| load_and_analyze(&ledger, |_| {}))),
            "phases" => {
                phases(
                    &ledger,
                    args.get(3).and_then(|n| n.parse().ok()).unwrap_or(7),
                );
                return;
            }
            other => panic!("unknown child role {other}"),
        };
        println!("{}", took.as_secs_f64());
        return;
    }
    // `cargo bench` passes `--bench`; sizes are the numeric arguments.
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = DEFAULT_SIZES.to_vec();
    }
    // CHECKUP_BENCH_LEDGERS keeps the generated ledgers there and reuses them (a million
    // experiments take minutes to generate).
    let temporary = tempfile::tempdir().expect("temporary folder");
    let dir: PathBuf = match std::env::var_os("CHECKUP_BENCH_LEDGERS") {
        Some(kept) => PathBuf::from(kept),
        None => temporary.path().to_path_buf(),
    };
    println!(
        "# checkup scale benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for experiments in sizes {
        bench_size(experiments, &dir);
    }
}
