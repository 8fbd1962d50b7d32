//! Benchmark (SPEC section 12, issue 3): on a generated ledger of 10,000 experiments, how long
//! analysis takes against the time polars needs just to read the same Parquet files (goal: at
//! most 3×), and the peak memory of one `checkup report --format json`-like run.
//!
//! Run with `cargo bench --bench analysis` (add `-- N` for another number of experiments). The
//! ledger is generated once into a temporary folder; each timing is the best of five runs.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use checkup::analyze::catalog::ActionCatalog;
use checkup::analyze::maturity::Rubric;
use checkup::analyze::program::{ReferenceData, analyze_program, default_period};
use checkup::commands::{generate_demo_ledger, load_ledger_data};
use checkup::config::Config;
use checkup::ingest::demo::{DEFAULT_SEED, DemoSettings};
use checkup::ledger::{Ledger, Table};
use checkup::report::build_model;
use checkup::report::model::ModelInput;

const CHILD: &str = "--measure-peak-memory-of-analysis";

/// The tables analysis reads.
const TABLES: [Table; 6] = [
    Table::Experiments,
    Table::Actions,
    Table::Series,
    Table::Points,
    Table::AlarmEvents,
    Table::Incidents,
];

fn best_of_five(mut work: impl FnMut()) -> Duration {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .min()
        .expect("five runs")
}

fn read_tables(ledger: &Ledger) {
    for table in TABLES {
        black_box(ledger.read(table).expect("table reads"));
    }
}

/// Load (Parquet into records) and analyze, as `checkup report` does before rendering.
fn load_and_analyze(ledger: &Ledger) -> usize {
    let data = load_ledger_data(ledger).expect("ledger loads");
    analyze(&data)
}

fn analyze(data: &checkup::analyze::LedgerData) -> usize {
    let config = Config::default();
    let catalog = ActionCatalog::built_in();
    let rubric = Rubric::built_in();
    let period = default_period(&data.experiments).expect("experiments");
    let (analysis, outcomes_after_period) = analyze_program(
        data,
        &config,
        &ReferenceData {
            catalog: &catalog,
            rubric: &rubric,
        },
        period,
    )
    .expect("analysis");
    let model = build_model(&ModelInput {
        lang: checkup::report::i18n::Lang::En,
        organization: &config.organization,
        currency: &config.currency,
        generated_at: 0,
        analysis: &analysis,
        cost: config.cost,
        rubric: &rubric,
    });
    black_box(model.experiments.len());
    analysis.outcomes.len() + outcomes_after_period.len()
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|a| a == CHILD) {
        // A fresh process: its peak resident memory is the analysis's alone.
        let ledger = Ledger::open_for_read(Path::new(&args[position + 1])).expect("ledger");
        let judged = load_and_analyze(&ledger);
        println!("{judged} {}", peak_rss_kib());
        return;
    }
    let experiments: usize = args
        .iter()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);

    let dir = tempfile::tempdir().expect("temporary folder");
    let root = dir.path().join("ledger");
    let start = Instant::now();
    {
        let ledger = Ledger::open_for_write(&root).expect("ledger");
        generate_demo_ledger(
            &ledger,
            &DemoSettings {
                experiments: Some(experiments),
                seed: DEFAULT_SEED,
            },
        )
        .expect("demo history");
    }
    let generate = start.elapsed();
    let ledger = Ledger::open_for_read(&root).expect("ledger");
    let points = ledger.read(Table::Points).expect("points").height();
    let series = ledger.read(Table::Series).expect("series").height();
    let files: u64 = walk_size(&root);

    let read = best_of_five(|| read_tables(&ledger));
    let load = best_of_five(|| {
        black_box(load_ledger_data(&ledger).expect("ledger loads"));
    });
    let data = load_ledger_data(&ledger).expect("ledger loads");
    let analysis = best_of_five(|| {
        black_box(analyze(&data));
    });
    let judge = best_of_five(|| {
        black_box(
            checkup::analyze::judge_experiments(&data, &Config::default().window).expect("judged"),
        );
    });

    let child = std::process::Command::new(std::env::current_exe().expect("own path"))
        .args([CHILD, root.to_str().expect("utf-8 path")])
        .output()
        .expect("child runs");
    let child_out = String::from_utf8_lossy(&child.stdout);
    let peak_kib: u64 = child_out
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);

    let seconds = |d: Duration| d.as_secs_f64();
    println!("checkup analysis benchmark");
    println!("  experiments              {experiments}");
    println!("  series / points          {series} / {points}");
    println!(
        "  ledger size on disk      {:.1} MiB",
        files as f64 / 1048576.0
    );
    println!("  generate ledger          {:.3} s", seconds(generate));
    println!("  polars read (6 tables)   {:.3} s", seconds(read));
    println!("  read + records (load)    {:.3} s", seconds(load));
    println!(
        "  analysis (judge, weaknesses, MTTR, ROI, maturity, model) {:.3} s",
        seconds(analysis)
    );
    println!("    of which judging (SPEC 6)  {:.3} s", seconds(judge));
    println!(
        "  analysis / polars read   {:.2}×   (goal ≤ 3×)",
        seconds(analysis) / seconds(read)
    );
    println!(
        "  load + analysis / read   {:.2}×",
        (seconds(load) + seconds(analysis)) / seconds(read)
    );
    println!(
        "  peak memory, load + analysis in a fresh process  {:.0} MiB   (goal < 1024 MiB)",
        peak_kib as f64 / 1024.0
    );
}

fn walk_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    };
    entries
        .flatten()
        .map(|entry| walk_size(&entry.path()))
        .sum()
}
