//! The command line as a user runs it: `checkup demo` and `checkup export`, their outputs and
//! their errors (exit code 2, the path named, nothing already written lost).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use scraper::{Html, Selector};

use crate::support::{checkup, default_demo, pdf_text, pdf_text_as_laid_out, stderr};

fn cell_texts(document: &Html, selector: &str) -> Vec<String> {
    let selector = Selector::parse(selector).unwrap();
    document
        .select(&selector)
        .map(|cell| cell.text().collect::<String>().trim().to_string())
        .collect()
}

#[test]
fn demo_writes_every_report_in_html_and_pdf() {
    let reports = default_demo().join("reports");
    for kind in ["quarterly", "executive", "maturity"] {
        let html = fs::read_to_string(reports.join(format!("{kind}.html"))).unwrap();
        let document = Html::parse_document(&html);
        assert!(
            !cell_texts(&document, "h1").is_empty(),
            "{kind}.html has a title"
        );
        assert!(
            !cell_texts(&document, "table th").is_empty(),
            "{kind}.html has tables with headers"
        );
        // Nothing is fetched: no src, href, url() or @import pointing to the network (the SVG
        // namespace URI is a name, not a fetch).
        for fetch in [
            "src=\"http",
            "href=\"http",
            "url(http",
            "@import",
            "src=\"//",
            "href=\"//",
        ] {
            assert!(
                !html.contains(fetch),
                "{kind}.html is self-contained: {fetch}"
            );
        }
        let pdf = fs::read(reports.join(format!("{kind}.pdf"))).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{kind}.pdf is a PDF");
    }
}

#[test]
fn the_quarterly_table_agrees_with_the_experiment_list() {
    let html = fs::read_to_string(default_demo().join("reports/quarterly.html")).unwrap();
    let document = Html::parse_document(&html);
    // The verdict of each listed experiment, from its badge's class (the text is translated).
    let badges = Selector::parse("section[aria-labelledby=experiments] tbody .verdict").unwrap();
    let verdicts: Vec<String> = document
        .select(&badges)
        .filter_map(|badge| badge.value().classes().find(|c| *c != "verdict"))
        .map(str::to_string)
        .collect();
    // The demo's default period is its last quarter, 2026Q3; the list holds that quarter's runs.
    assert!(verdicts.len() >= 150, "{}", verdicts.len());
    // Quarter rows: quarter, experiments, green, yellow, red, inconclusive, in progress, ...
    let row_selector = Selector::parse("section[aria-labelledby=quarters] tbody tr").unwrap();
    let cell_selector = Selector::parse("th, td").unwrap();
    let mut totals = [0usize; 6];
    let mut quarters = Vec::new();
    for row in document.select(&row_selector) {
        let cells: Vec<String> = row
            .select(&cell_selector)
            .map(|c| c.text().collect::<String>().trim().to_string())
            .collect();
        quarters.push(cells[0].clone());
        if cells[0] == "2026Q3" {
            for (total, cell) in totals.iter_mut().zip(&cells[1..7]) {
                *total = cell.parse::<usize>().unwrap();
            }
        }
    }
    assert_eq!(
        quarters,
        ["2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"],
        "the trend runs from the first quarter to the period"
    );
    let count = |name: &str| {
        verdicts
            .iter()
            .filter(|v| v.eq_ignore_ascii_case(name))
            .count()
    };
    assert_eq!(totals[0], verdicts.len());
    assert_eq!(
        totals[1..],
        [
            count("green"),
            count("yellow"),
            count("red"),
            count("inconclusive"),
            count("in_progress")
        ]
    );
}

#[test]
fn the_pdf_carries_the_numbers_of_the_html() {
    let reports = default_demo().join("reports");
    let html = Html::parse_document(&fs::read_to_string(reports.join("executive.html")).unwrap());
    let cards = cell_texts(&html, ".card .value");
    let text = pdf_text(&reports.join("executive.pdf"));
    assert!(text.contains("Chaos engineering: value for the business"));
    for value in cards {
        assert!(
            text.contains(&value),
            "the executive PDF lacks the figure {value}"
        );
    }
    // The seed's example, reproduced exactly.
    assert!(text.contains("USD 204,000"));
}

#[test]
fn export_writes_csv_json_and_parquet() {
    let ledger = default_demo().join("ledger");
    let dir = tempfile::tempdir().unwrap();
    for format in ["csv", "json", "parquet"] {
        let out = dir.path().join(format!("experiments.{format}"));
        let output = checkup(&[
            "export",
            "--ledger",
            ledger.to_str().unwrap(),
            "--table",
            "experiments",
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(fs::metadata(&out).unwrap().len() > 0);
    }
    let csv = fs::read_to_string(dir.path().join("experiments.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("experiment_id,source,"), "{header}");
    assert_eq!(csv.lines().count(), 1 + 600);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("experiments.json")).unwrap())
            .unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 600);
    assert!(rows[0]["stop_condition_alarms"].is_array());

    // Standard output when --out is absent.
    let output = checkup(&[
        "export",
        "--ledger",
        ledger.to_str().unwrap(),
        "--table",
        "incidents",
    ]);
    assert!(output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .starts_with("incident_id,service,team,severity,started_at,resolved_at")
    );
}

#[test]
fn an_unknown_table_is_a_usage_error() {
    let output = checkup(&["export", "--table", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("unknown table `nope`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unwritable_out_folder_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    fs::write(&file, "not a folder").unwrap();
    let out = file.join("demo");
    let output = checkup(&["demo", "--out", out.to_str().unwrap(), "--experiments", "5"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(&out.display().to_string()),
        "{}",
        stderr(&output)
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), "not a folder");
}

#[test]
fn a_ledger_folder_holding_foreign_files_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    fs::create_dir_all(&ledger).unwrap();
    fs::write(ledger.join("thesis.docx"), "precious").unwrap();
    let output = checkup(&[
        "demo",
        "--out",
        dir.path().to_str().unwrap(),
        "--experiments",
        "5",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not a checkup ledger"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains(&ledger.display().to_string()));
    assert_eq!(
        fs::read_to_string(ledger.join("thesis.docx")).unwrap(),
        "precious"
    );
    assert_eq!(
        fs::read_dir(&ledger).unwrap().count(),
        1,
        "nothing was added"
    );
}

#[test]
fn a_corrupt_parquet_file_stops_the_run_and_nothing_else_changes() {
    let (dir, ledger) = demo_ledger("30");
    let out = dir.path().to_str().unwrap();
    let victim = fs::read_dir(ledger.join("experiments"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("part-0.parquet");
    fs::write(&victim, b"PAR1 this is no longer parquet").unwrap();
    let snapshot = snapshot(&ledger);

    for args in [
        vec!["demo", "--out", out, "--experiments", "30"],
        vec![
            "export",
            "--ledger",
            ledger.to_str().unwrap(),
            "--table",
            "experiments",
        ],
    ] {
        let output = checkup(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(&victim.display().to_string()),
            "{}",
            stderr(&output)
        );
    }
    assert_eq!(
        snapshot,
        crate::cli::snapshot(&ledger),
        "the failed runs changed the ledger"
    );
}

/// Reports read points and series month by month and again for the curves they draw: a corrupt
/// partition of either is named, exit 2, before any report is written.
#[test]
fn a_corrupt_points_or_series_partition_stops_a_report() {
    for table in ["points", "series"] {
        let (dir, ledger) = demo_ledger("60");
        // The newest month: the one the quarterly's curves come from.
        let victim = partition_files(&ledger, table).pop().unwrap();
        fs::write(&victim, b"PAR1 this is no longer parquet").unwrap();
        let snapshot = snapshot(&ledger);
        let reports = dir.path().join("again");
        let output = checkup(&[
            "--ledger",
            ledger.to_str().unwrap(),
            "report",
            "--out",
            reports.to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(2), "{table}");
        assert!(
            stderr(&output).contains(&victim.display().to_string()),
            "{table}: {}",
            stderr(&output)
        );
        assert!(!reports.join("quarterly.html").exists(), "{table}");
        assert_eq!(snapshot, crate::cli::snapshot(&ledger), "{table}");
    }
}

/// Small months are read and judged side by side; when two of them are corrupt, the report names
/// the earlier one, every time, not whichever a core reached first.
#[test]
fn of_two_corrupt_months_the_earlier_is_named() {
    let (dir, ledger) = demo_ledger("60");
    let months = partition_files(&ledger, "points");
    assert!(months.len() >= 3, "{months:?}");
    let (earlier, later) = (&months[1], &months[months.len() - 1]);
    for victim in [earlier, later] {
        fs::write(victim, b"PAR1 this is no longer parquet").unwrap();
    }
    for _ in 0..3 {
        let output = checkup(&[
            "--ledger",
            ledger.to_str().unwrap(),
            "report",
            "--format",
            "json",
            "--out",
            dir.path().join("again").to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(2));
        let said = stderr(&output);
        assert!(said.contains(&earlier.display().to_string()), "{said}");
        assert!(!said.contains(&later.display().to_string()), "{said}");
    }
}

/// A demo history of `experiments` experiments in a new folder, and its ledger.
fn demo_ledger(experiments: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let output = checkup(&[
        "demo",
        "--out",
        out,
        "--experiments",
        experiments,
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let ledger = dir.path().join("ledger");
    (dir, ledger)
}

/// A table's partition files, oldest month first.
fn partition_files(ledger: &Path, table: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(ledger.join(table))
        .unwrap()
        .map(|entry| entry.unwrap().path().join("part-0.parquet"))
        .collect();
    files.sort();
    files
}

/// Every file of a folder with its content, for before/after comparisons.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        for entry in fs::read_dir(&path).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if !path.ends_with(".lock") {
                files.push((path.display().to_string(), fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_configuration_file_reaches_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("checkup.toml");
    fs::write(&config, "[organization]\nname = \"Acme <Shop>\"\ncurrency = \"EUR\"\n\n[cost]\nrevenue_per_hour = 50000\n").unwrap();
    let out = dir.path().join("out");
    let args = [
        "demo",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--experiments",
        "20",
        "--quiet",
    ];
    let output = checkup(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let html = fs::read_to_string(out.join("reports/executive.html")).unwrap();
    // (50,000 + 20 × 100) × 2 = 104,000, and the organization's name is text, escaped.
    assert!(
        html.contains("EUR 104,000"),
        "the configured cost does not reach the report"
    );
    assert!(html.contains("Acme &lt;Shop&gt;") && !html.contains("Acme <Shop>"));
}

#[test]
fn a_bad_configuration_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("checkup.toml");
    fs::write(&config, "[window]\npre = \"15m\"\npost = \"soon\"\n").unwrap();
    let out = dir.path().join("out");
    let output = checkup(&[
        "demo",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(&format!("{}:3: window.post", config.display())),
        "{}",
        stderr(&output)
    );
    assert!(
        !out.exists(),
        "nothing is written after a refused configuration"
    );
    let missing = checkup(&[
        "demo",
        "--config",
        "/nonexistent/checkup.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/checkup.toml does not exist"));

    // An action catalog of one's own must name a source for every rate.
    let builtin = include_str!("../../data/action_catalog.csv");
    let mut rows: Vec<String> = builtin.lines().map(str::to_string).collect();
    let source_starts = rows[3].find(",\"assumption").unwrap();
    rows[3].truncate(source_starts + 1);
    fs::write(dir.path().join("rates.csv"), rows.join("\n")).unwrap();
    fs::write(&config, "[cost]\naction_catalog = \"rates.csv\"\n").unwrap();
    let unsourced = checkup(&[
        "demo",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(unsourced.status.code(), Some(2));
    let said = stderr(&unsourced);
    assert!(
        said.contains(":2: cost.action_catalog:")
            && said.contains("rates.csv: line 4:")
            && said.contains("column `source` is empty"),
        "{said}"
    );
    assert!(!out.exists());
}

#[test]
fn report_json_is_internally_consistent() {
    let json: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(default_demo().join("reports/report.json")).unwrap(),
    )
    .unwrap();
    let experiments = json["experiments"].as_array().unwrap();
    let count = |verdict: &str| {
        experiments
            .iter()
            .filter(|e| e["verdict"] == verdict)
            .count() as u64
    };
    for verdict in ["green", "yellow", "red", "inconclusive", "in_progress"] {
        assert_eq!(
            json["verdict_counts"][verdict].as_u64(),
            Some(count(verdict)),
            "{verdict}"
        );
    }
    // MTTR "all" rows: n + censored per quarter = the conclusive experiments of that quarter that were impacted.
    let mttr = json["mttr"].as_array().unwrap();
    let all_rows: Vec<&serde_json::Value> =
        mttr.iter().filter(|r| r["group_by"] == "all").collect();
    assert!(all_rows.len() >= 4);
    let recovered = experiments
        .iter()
        .filter(|e| {
            e["recovered"] == true
                && e["verdict"] != "inconclusive"
                && e["verdict"] != "in_progress"
        })
        .count() as u64;
    let last = all_rows.last().unwrap();
    assert_eq!(last["period"], "2026Q3");
    assert_eq!(last["n"].as_u64(), Some(recovered));
    assert!(
        last["change_vs_first"].as_f64().unwrap() < -0.3,
        "the demo meets the seed's −30% target: {last}"
    );
    assert!(!json["incident_mttr"].as_array().unwrap().is_empty());
    let roi = &json["roi"];
    assert_eq!(roi["hourly_downtime_cost"].as_f64(), Some(102_000.0));
    // ROI counts weaknesses to date; the trend counts them per quarter.
    let trend = json["weakness_trend"].as_array().unwrap();
    let total = |key: &str| trend.iter().map(|q| q[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(roi["weaknesses_found"].as_u64(), Some(total("found")));
    assert_eq!(roi["weaknesses_fixed"].as_u64(), Some(total("fixed")));
    assert_eq!(
        json["summary"]["weaknesses_found"].as_u64(),
        trend.last().unwrap()["found"].as_u64()
    );
    assert!(
        roi["avoided_cost_p10"].as_f64() < roi["avoided_cost"].as_f64()
            && roi["avoided_cost"].as_f64() < roi["avoided_cost_p90"].as_f64()
    );
    // Program cost per year: the experiments of the 12 months to the period end × 4 h × 100.
    let assumption = |name: &str| {
        roi["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("assumption {name}"))["value"]
            .as_f64()
            .unwrap()
    };
    let experiments_last_year = assumption("experiments");
    assert!(experiments_last_year > experiments.len() as f64);
    let parts = &roi["program_cost_parts"];
    let sum: f64 = ["experiments", "remediation", "fis", "fixed"]
        .iter()
        .map(|part| parts[part].as_f64().unwrap())
        .sum();
    assert!((roi["program_cost"].as_f64().unwrap() - sum).abs() < 1e-6);
    assert_eq!(
        parts["experiments"].as_f64(),
        Some(experiments_last_year * 4.0 * 100.0)
    );
    let systems: Vec<&str> = json["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["scope"] == "organization")
        .map(|c| c["system"].as_str().unwrap())
        .collect();
    assert_eq!(systems.len(), 4, "{systems:?}");
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn report_of_a_past_quarter_lists_its_experiments_and_trends_up_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let output = checkup(&[
        "demo",
        "--out",
        demo.to_str().unwrap(),
        "--experiments",
        "150",
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let ledger = demo.join("ledger");
    let out = dir.path().join("q1");
    let output = checkup(&[
        "--ledger",
        ledger.to_str().unwrap(),
        "report",
        "--period",
        "2026Q1",
        "--kind",
        "maturity",
        "--format",
        "json,html",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut written: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["maturity.html", "report.json"]);

    let json = read_json(&out.join("report.json"));
    assert_eq!(json["period"]["label"], "2026Q1");
    assert_eq!(json["period"]["start"], "2026-01-01T00:00:00Z");
    assert_eq!(json["period"]["end"], "2026-04-01T00:00:00Z");
    let experiments = json["experiments"].as_array().unwrap();
    assert!(!experiments.is_empty());
    for experiment in experiments {
        // A cancelled run never started; it belongs to the period of its creation.
        let Some(started) = experiment["started_at"].as_str() else {
            assert_eq!(experiment["status"], "cancelled", "{experiment}");
            continue;
        };
        assert!(
            ("2026-01-01".."2026-04-01").contains(&started),
            "{started} is in 2026Q1"
        );
    }
    // The quarter's row of the trend counts exactly the listed experiments; no later quarter appears.
    let quarters = json["quarters"].as_array().unwrap();
    let last = quarters.last().unwrap();
    assert_eq!(last["quarter"], "2026Q1");
    assert_eq!(last["experiments"].as_u64(), Some(experiments.len() as u64));
    assert!(
        json["mttr"]
            .as_array()
            .unwrap()
            .iter()
            .all(|row| row["period"].as_str().unwrap() <= "2026Q1")
    );
    // Maturity: the organisation and every team, each with the rubric's criteria; the period's
    // stage is the trend's last point.
    let maturity = json["maturity"].as_array().unwrap();
    assert_eq!(maturity[0]["scope"], "organization");
    for scope in maturity {
        let criteria = scope["criteria"].as_array().unwrap();
        assert!(criteria.len() >= 15, "{}", scope["scope"]);
        for criterion in criteria {
            for key in ["id", "stage", "met", "value", "threshold", "evidence"] {
                assert!(criterion.get(key).is_some(), "{key} in {criterion}");
            }
        }
        // The stage is the highest one whose criteria, and every lower stage's, hold.
        let stage = scope["stage"].as_u64().unwrap();
        let holds = |s: u64| {
            criteria
                .iter()
                .filter(|c| c["stage"].as_u64() == Some(s))
                .all(|c| c["met"] == true)
        };
        assert!((1..=stage).all(holds), "{}", scope["scope"]);
        assert!(stage == 4 || !holds(stage + 1), "{}", scope["scope"]);
        let trend_stage = json["maturity_trend"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["scope"] == scope["scope"] && p["quarter"] == "2026Q1")
            .unwrap()["stage"]
            .as_u64();
        assert_eq!(trend_stage, Some(stage));
    }
    let html = fs::read_to_string(out.join("maturity.html")).unwrap();
    let document = Html::parse_document(&html);
    assert_eq!(
        cell_texts(&document, "#stage-table tbody th").len(),
        maturity.len()
    );
}

#[test]
fn report_refuses_a_bad_period_and_a_missing_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let output = checkup(&[
        "--ledger",
        default_demo().join("ledger").to_str().unwrap(),
        "report",
        "--period",
        "2026Q5",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--period"), "{}", stderr(&output));
    let missing = dir.path().join("no-ledger");
    let output = checkup(&["--ledger", missing.to_str().unwrap(), "report"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(&format!("ledger {} does not exist", missing.display())),
        "{}",
        stderr(&output)
    );
    assert!(
        !missing.exists(),
        "a missing ledger is not created by report"
    );
}

#[test]
fn every_report_carries_its_charts_with_text_alternatives() {
    let reports = default_demo().join("reports");
    for (kind, expected) in [
        (
            "quarterly",
            vec!["chart-verdicts", "chart-mttr", "chart-coverage"],
        ),
        ("executive", vec!["chart-cost"]),
        ("maturity", vec!["chart-stages"]),
    ] {
        let html = fs::read_to_string(reports.join(format!("{kind}.html"))).unwrap();
        let document = Html::parse_document(&html);
        for id in expected {
            let figure = Selector::parse(&format!("figure#{id}")).unwrap();
            let figure = document
                .select(&figure)
                .next()
                .unwrap_or_else(|| panic!("{kind}.html has {id}"));
            let image = Selector::parse("[role=img]").unwrap();
            let image = figure.select(&image).next().expect("a role=img wrapper");
            let alt = image.value().attr("aria-label").unwrap_or_default();
            assert!(alt.chars().any(|c| c.is_ascii_digit()), "{id}: {alt}");
            let svg = Selector::parse("svg").unwrap();
            let svg = image.select(&svg).next().expect("an inline svg");
            assert!(svg.value().attr("viewBox").is_some(), "{id} scales");
        }
    }
    // One recovery curve per red or yellow experiment listed.
    let json = read_json(&reports.join("report.json"));
    let red_or_yellow = json["verdict_counts"]["red"].as_u64().unwrap()
        + json["verdict_counts"]["yellow"].as_u64().unwrap();
    assert!(red_or_yellow > 0);
    let html = fs::read_to_string(reports.join("quarterly.html")).unwrap();
    let curves = Selector::parse("figure[id^=curve-] svg").unwrap();
    assert_eq!(
        Html::parse_document(&html).select(&curves).count() as u64,
        red_or_yellow
    );
    let text = pdf_text(&reports.join("quarterly.pdf"));
    for caption in [
        "Verdicts by month",
        "Experimental MTTR by quarter",
        "Coverage of the four systems",
        "Green runs by template",
    ] {
        assert!(text.contains(caption), "quarterly.pdf lacks {caption}");
    }
    // On paper every experiment needing attention has its row; green runs are counted per
    // template (the HTML lists them all).
    let flat: String = text.split_whitespace().collect();
    // A green run that fixed a weakness is named in the weaknesses table.
    let fixers: Vec<&str> = json["weaknesses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["fixed_by"].as_str())
        .collect();
    let mut shown = 0;
    for experiment in json["experiments"].as_array().unwrap() {
        let id = experiment["experiment_id"].as_str().unwrap();
        if experiment["verdict"] == "green" && !fixers.contains(&id) {
            assert!(!flat.contains(id), "green {id} has a row in quarterly.pdf");
            assert!(
                html.contains(id),
                "green {id} is missing from quarterly.html"
            );
        } else if experiment["verdict"] != "green" {
            assert!(flat.contains(id), "{id} is missing from quarterly.pdf");
            shown += 1;
        }
    }
    assert!(shown > 0 && shown < json["experiments"].as_array().unwrap().len());
}

#[test]
fn an_experiment_gets_its_own_lab_report() {
    let json = read_json(&default_demo().join("reports/report.json"));
    let red = json["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["verdict"] == "red")
        .expect("the demo has a red experiment")
        .clone();
    let id = red["experiment_id"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A copy of the demo ledger: report stores outcomes, and the shared demo stays read-only.
    let ledger = dir.path().join("ledger");
    copy_dir(&default_demo().join("ledger"), &ledger);
    let out = dir.path().join("lab");
    let output = checkup(&[
        "--ledger",
        ledger.to_str().unwrap(),
        "report",
        "--kind",
        &format!("experiment:{id}"),
        "--format",
        "html,pdf",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let html = fs::read_to_string(out.join(format!("experiment-{id}.html"))).unwrap();
    let document = Html::parse_document(&html);
    let reasons = cell_texts(&document, "#reasons li");
    let expected: Vec<&str> = red["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(reasons, expected);
    assert!(!cell_texts(&document, "#actions tbody td").is_empty());
    assert!(cell_texts(&document, "#series tbody td").len() >= 4);
    assert_eq!(
        document
            .select(&Selector::parse("figure[id^=curve-] svg").unwrap())
            .count(),
        1
    );
    let text = pdf_text(&out.join(format!("experiment-{id}.pdf")));
    assert!(text.contains(id) && text.contains("RED"), "{text}");

    let unknown = checkup(&[
        "--ledger",
        ledger.to_str().unwrap(),
        "report",
        "--kind",
        "experiment:EXPnope",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("experiment EXPnope is not in the ledger"));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != ".lock" {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn templates_can_be_replaced_from_a_folder_and_a_broken_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    copy_dir(&default_demo().join("ledger"), &ledger);
    let templates = dir.path().join("templates");
    fs::create_dir_all(templates.join("html")).unwrap();
    fs::create_dir_all(templates.join("pdf")).unwrap();
    fs::write(
        templates.join("html/executive.html"),
        "{% extends \"base.html\" %}{% block content %}<p id=\"ours\">ROI {{ roi.roi | round(precision=1) }}</p>{% endblock content %}",
    )
    .unwrap();
    fs::write(
        templates.join("pdf/report.typ"),
        "#let model = json(bytes(sys.inputs.model))\nOur own page for #model.organization",
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = |out: &Path| {
        checkup(&[
            "--ledger",
            ledger.to_str().unwrap(),
            "report",
            "--kind",
            "executive",
            "--format",
            "html,pdf",
            "--templates",
            templates.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let output = run(&out);
    assert!(output.status.success(), "{}", stderr(&output));
    let html = fs::read_to_string(out.join("executive.html")).unwrap();
    let ours = cell_texts(&Html::parse_document(&html), "#ours");
    assert!(ours[0].starts_with("ROI "), "{ours:?}");
    assert!(pdf_text(&out.join("executive.pdf")).contains("Our own page for Example Corp"));

    let broken = templates.join("html/executive.html");
    fs::write(&broken, "{% if %}").unwrap();
    let output = run(&dir.path().join("out2"));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(&broken.display().to_string()),
        "{}",
        stderr(&output)
    );
}

/// A finance reader redoes every figure of the executive page from what the page prints: the
/// stream appendix and the assumptions table (SPEC section 8 revision 2), here from `report.json`,
/// which carries the same model.
#[test]
fn the_executive_figures_are_recomputed_from_the_streams_and_the_assumptions() {
    let reports = default_demo().join("reports");
    let json = read_json(&reports.join("report.json"));
    let roi = &json["roi"];
    let number = |value: &serde_json::Value| value.as_f64().unwrap();
    let assumption = |name: &str| {
        roi["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .map(|a| number(&a["value"]))
            .unwrap_or_else(|| panic!("assumption {name} is not printed"))
    };
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{what}: {a} != {b}"
        );
    };
    let rate = assumption("engineer_hourly_rate");
    let engineers = assumption("engineers_on_incident") * rate;
    let streams = roi["streams"].as_array().unwrap();
    assert!(streams.len() >= 5, "the demo has several loss streams");
    assert!(
        streams.iter().any(|s| s["counted"] == false),
        "the demo shows a stream that is not counted, and why"
    );
    let mut avoided = 0.0;
    for stream in streams {
        let hourly = assumption("revenue_per_hour") * number(&stream["revenue_share"]) + engineers;
        close(number(&stream["hourly_cost"]), hourly, "hourly cost");
        if stream["counted"] == true {
            let class = stream["fault_class"].as_str().unwrap();
            close(
                number(&stream["annual_rate"]),
                assumption(&format!("annual_rate[{class}]")),
                "rate",
            );
            let severity = number(&stream["severity"]);
            assert!(severity == 1.0 || severity == assumption("degraded_factor"));
            let value = number(&stream["annual_rate"])
                * number(&stream["outage_hours"])
                * hourly
                * severity;
            close(number(&stream["avoided"]), value, "stream avoided");
            avoided += value;
        } else {
            assert!(stream["why_not"].is_string());
            assert_eq!(number(&stream["avoided"]), 0.0);
        }
    }
    close(number(&roi["avoided_cost"]), avoided, "avoided cost");
    let parts = &roi["program_cost_parts"];
    let scale = number(&parts["scale"]);
    let cost = scale
        * (assumption("experiments") * assumption("engineer_hours_per_experiment") * rate
            + assumption("weaknesses_fixed_last_year")
                * assumption("remediation_hours_per_weakness")
                * rate
            + assumption("fault_action_minutes") * assumption("fis_price_per_action_minute"))
        + assumption("fixed_costs");
    close(number(&roi["program_cost"]), cost, "program cost");
    close(
        number(&roi["roi"]),
        (avoided - cost) / cost,
        "ROI is the net return",
    );
    close(
        number(&roi["benefit_cost_ratio"]),
        avoided / cost,
        "benefit/cost ratio",
    );
    for (low, mid, high) in [
        ("avoided_cost_p10", "avoided_cost_p50", "avoided_cost_p90"),
        ("roi_p10", "roi_p50", "roi_p90"),
    ] {
        assert!(number(&roi[low]) < number(&roi[mid]) && number(&roi[mid]) < number(&roi[high]));
    }

    // The page prints the same figures, the appendix and the seed's example.
    let grouped = |value: f64| {
        let digits = (value.round() as i64).to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    let percent = format!("{}%", grouped(number(&roi["roi"]) * 100.0));
    let pdf = pdf_text(&reports.join("executive.pdf"));
    let html = fs::read_to_string(reports.join("executive.html")).unwrap();
    for figure in [
        grouped(avoided),
        grouped(cost),
        percent.clone(),
        "204,000".to_string(),
    ] {
        assert!(pdf.contains(&figure), "executive.pdf lacks {figure}");
        assert!(html.contains(&figure), "executive.html lacks {figure}");
    }
    let document = Html::parse_document(&html);
    let rows = Selector::parse("#stream-table tbody tr").unwrap();
    assert_eq!(document.select(&rows).count(), streams.len());
    let links = Selector::parse("#avoided-cost a, #program-cost a").unwrap();
    let targets: Vec<&str> = document
        .select(&links)
        .filter_map(|a| a.value().attr("href"))
        .collect();
    for target in ["#streams", "#assumptions", "#cost-parts"] {
        assert!(targets.contains(&target), "{targets:?}");
        let id = Selector::parse(target).unwrap();
        assert_eq!(document.select(&id).count(), 1, "{target} exists");
    }

    // The tornado chart draws one bar pair per sensitivity row, widest first, and says each.
    let sensitivity = roi["sensitivity"].as_array().unwrap();
    assert_eq!(sensitivity.len(), 5);
    let figure = Selector::parse("#chart-tornado").unwrap();
    let chart = document.select(&figure).next().expect("the tornado chart");
    let alt = chart.text().collect::<String>();
    let svg = chart.html();
    let swing =
        |row: &serde_json::Value| (number(&row["roi_at_high"]) - number(&row["roi_at_low"])).abs();
    for (row, next) in sensitivity.iter().zip(sensitivity.iter().skip(1)) {
        assert!(swing(row) >= swing(next));
    }
    let mut at = 0;
    for row in sensitivity {
        let said = format!(
            "{} {} – {}",
            row["label"].as_str().unwrap(),
            format!("{}%", grouped(number(&row["roi_at_low"]) * 100.0)),
            format!("{}%", grouped(number(&row["roi_at_high"]) * 100.0))
        );
        let found = alt[at..]
            .find(&said)
            .unwrap_or_else(|| panic!("the chart does not say {said} in order: {alt}"));
        at += found + said.len();
        assert!(
            svg.contains(row["label"].as_str().unwrap()),
            "the chart labels {}",
            row["label"]
        );
    }
    assert_eq!(svg.matches("<rect").count() >= 2 * sensitivity.len(), true);
}

/// The default demo's reports in Japanese, from a copy of its ledger (a report stores outcomes);
/// the folder lives as long as the returned guard.
fn demo_reports_in_japanese(extra: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    copy_dir(&default_demo().join("ledger"), &ledger);
    let out = dir.path().join("ja");
    let mut args = vec![
        "--ledger",
        ledger.to_str().unwrap(),
        "report",
        "--lang",
        "ja",
    ];
    args.extend_from_slice(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    let output = checkup(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    (dir, out)
}

#[test]
fn reports_in_japanese_use_the_seeds_terms_in_html_and_pdf() {
    let (_dir, out) = demo_reports_in_japanese(&[]);
    let html = fs::read_to_string(out.join("quarterly.html")).unwrap();
    let document = Html::parse_document(&html);
    assert_eq!(
        document
            .select(&Selector::parse("html[lang=ja]").unwrap())
            .count(),
        1
    );
    assert_eq!(cell_texts(&document, "h1"), ["四半期レジリエンスレビュー"]);
    let maturity = fs::read_to_string(out.join("maturity.html")).unwrap();
    assert!(maturity.contains("カオスエンジニアリング成熟度"));
    // The rubric's stages and the analysis's reasons are in Japanese too.
    assert!(
        maturity.contains("初期訓練") || maturity.contains("体系化") || maturity.contains("成熟")
    );
    let json = read_json(&out.join("report.json"));
    let japanese = |text: &str| text.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c));
    // Each reason has its code, the same as in the English report of the same ledger.
    let english = read_json(&default_demo().join("reports/report.json"));
    let english_codes: BTreeMap<&str, &serde_json::Value> = english["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["experiment_id"].as_str().unwrap(), &e["reason_codes"]))
        .collect();
    let mut codes_seen = BTreeSet::new();
    for experiment in json["experiments"].as_array().unwrap() {
        let reasons = experiment["reasons"].as_array().unwrap();
        for reason in reasons {
            assert!(japanese(reason.as_str().unwrap()), "untranslated: {reason}");
        }
        let codes = experiment["reason_codes"].as_array().unwrap();
        assert_eq!(codes.len(), reasons.len(), "{experiment}");
        assert_eq!(
            &experiment["reason_codes"],
            english_codes[experiment["experiment_id"].as_str().unwrap()]
        );
        codes_seen.extend(codes.iter().map(|code| code.as_str().unwrap().to_string()));
    }
    assert!(
        codes_seen.contains("recovered") && codes_seen.contains("alarm_fired"),
        "{codes_seen:?}"
    );
    for assumption in json["roi"]["assumptions"].as_array().unwrap() {
        let source = assumption["source"].as_str().unwrap();
        assert!(
            japanese(source) || source.contains("既定"),
            "untranslated: {source}"
        );
    }
    let experiment = pdf_text(&out.join("executive.pdf"));
    assert!(experiment.contains("数値の計算方法"), "{experiment}");
    let quarterly_pdf = pdf_text(&out.join("quarterly.pdf"));
    assert!(
        quarterly_pdf.contains("四半期ごとの判定と復旧時間"),
        "{quarterly_pdf}"
    );
}

/// A quarter with more red and yellow runs than the report charts: the most severe are charted,
/// and the report says how many are not and how to draw any of them.
#[test]
fn a_large_quarter_charts_its_most_severe_curves_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let output = checkup(&[
        "demo",
        "--experiments",
        "3000",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let reports = out.join("reports");
    let json = read_json(&reports.join("report.json"));
    let red_or_yellow: Vec<&serde_json::Value> = json["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["verdict"] == "red" || e["verdict"] == "yellow")
        .collect();
    let charted_most = checkup::analyze::curves::MOST_CURVES_CHARTED;
    assert!(
        red_or_yellow.len() > charted_most,
        "{}",
        red_or_yellow.len()
    );

    let html = fs::read_to_string(reports.join("quarterly.html")).unwrap();
    let document = Html::parse_document(&html);
    let figures = Selector::parse("figure[id^=curve-]").unwrap();
    let charted: Vec<&str> = document
        .select(&figures)
        .map(|f| f.value().attr("id").unwrap().trim_start_matches("curve-"))
        .collect();
    assert_eq!(charted.len(), charted_most);
    let left_out = red_or_yellow.len() - charted_most;
    let note = cell_texts(&document, "p#curves-left-out").join(" ");
    assert!(
        note.contains(&format!(" {left_out} more red or yellow")),
        "{note}"
    );
    assert!(
        note.contains("checkup report --kind experiment:ID"),
        "{note}"
    );
    let pdf: String = pdf_text(&reports.join("quarterly.pdf"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        pdf.contains(&format!("Not charted: {left_out} more red or yellow")),
        "quarterly.pdf says what is not charted"
    );

    // The most severe: red before yellow, then unrecovered, then the slowest to recover.
    let severity = |e: &serde_json::Value| {
        (
            e["verdict"] == "red",
            e["recovered"] == false,
            e["time_to_recover_s"].as_f64().unwrap_or(f64::INFINITY),
        )
    };
    let by_severity = |a: &(bool, bool, f64), b: &(bool, bool, f64)| {
        (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2))
    };
    let (shown, hidden): (Vec<_>, Vec<_>) = red_or_yellow
        .iter()
        .map(|e| (e["experiment_id"].as_str().unwrap(), severity(e)))
        .partition(|(id, _)| charted.contains(id));
    assert_eq!(shown.len(), charted_most);
    let least_severe_shown = shown.iter().map(|(_, s)| *s).min_by(by_severity).unwrap();
    let most_severe_hidden = hidden.iter().map(|(_, s)| *s).max_by(by_severity).unwrap();
    assert!(
        by_severity(&most_severe_hidden, &least_severe_shown).is_le(),
        "an uncharted run {most_severe_hidden:?} is more severe than a charted one {least_severe_shown:?}"
    );
}

/// SPEC section 11 revision 2 for SRE leads: RTO compliance, evidence freshness, blind spots and
/// the rehearsal gap, in `report.json`, the quarterly HTML and PDF, in English and Japanese; the
/// demo's world has a service outside its objectives, stale evidence and a blind spot.
#[test]
fn the_quarterly_answers_what_sre_leads_ask_next() {
    let reports = default_demo().join("reports");
    let json = read_json(&reports.join("report.json"));
    let rows = |key: &str| {
        json[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key}"))
            .clone()
    };
    let rto = rows("rto");
    let outside = rto
        .iter()
        .find(|r| r["within"].as_u64() < r["impacted"].as_u64())
        .expect("a service outside its objectives");
    let stale_template = rows("freshness")
        .into_iter()
        .find(|f| f["stale"] == true && f["last_green_at"].is_string())
        .expect("a template whose last green has aged");
    let stale_system = rows("system_freshness")
        .into_iter()
        .find(|f| f["stale"] == true && f["age_days"].as_f64() > Some(90.0))
        .expect("a system whose evidence is older than fresh_for");
    let blind = rows("blind_spots");
    assert_eq!(blind[0]["service"], "notifications-api");
    let gap = rows("rehearsal_gap");
    assert!(gap.iter().any(|g| g["ratio"].as_f64() > Some(1.0)));

    let html = fs::read_to_string(reports.join("quarterly.html")).unwrap();
    let document = Html::parse_document(&html);
    let texts = |selector: &str| cell_texts(&document, selector);
    assert!(
        texts("#rto-table tbody th").contains(&outside["service"].as_str().unwrap().to_string())
    );
    assert!(
        texts("#freshness-table td").contains(
            &stale_template["template_name"]
                .as_str()
                .unwrap()
                .to_string()
        )
    );
    assert_eq!(texts("#blind-spots-table tbody th"), ["notifications-api"]);
    assert_eq!(texts("#rehearsal-gap-table tbody th").len(), gap.len());
    let coverage_alt = document
        .select(&Selector::parse("#chart-coverage details p").unwrap())
        .next()
        .unwrap()
        .text()
        .collect::<String>();
    assert!(
        coverage_alt.contains(&format!(
            "{} {}",
            stale_system["scope_label"].as_str().unwrap(),
            stale_system["system"].as_str().unwrap()
        )),
        "the coverage heatmap names the stale cell: {coverage_alt}"
    );
    let pdf = pdf_text(&reports.join("quarterly.pdf"));
    for heading in [
        "RTO compliance",
        "Evidence freshness",
        "Blind spots",
        "Rehearsal gap",
        "notifications-api",
    ] {
        assert!(pdf.contains(heading), "quarterly.pdf lacks {heading}");
    }

    // Japanese: the same sections in the seed's language.
    let (_dir, out) = demo_reports_in_japanese(&["--kind", "quarterly"]);
    let ja_pdf = pdf_text(&out.join("quarterly.pdf"));
    let ja_html = fs::read_to_string(out.join("quarterly.html")).unwrap();
    for heading in ["RTO の遵守", "根拠の鮮度", "死角", "訓練と現実の差"] {
        assert!(ja_pdf.contains(heading), "ja quarterly.pdf lacks {heading}");
        assert!(
            ja_html.contains(heading),
            "ja quarterly.html lacks {heading}"
        );
    }
}

/// Every command path of the clap definitions (`["ingest", "fis"]`, …), found by walking them,
/// so a command added later is checked too.
fn command_paths() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, path: Vec<String>, paths: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands() {
            let mut sub_path = path.clone();
            sub_path.push(sub.get_name().to_string());
            paths.push(sub_path.clone());
            walk(sub, sub_path, paths);
        }
    }
    let mut paths = Vec::new();
    walk(
        &<checkup::app::Cli as clap::CommandFactory>::command(),
        Vec::new(),
        &mut paths,
    );
    paths
}

#[test]
fn the_help_of_every_command_shows_an_example() {
    let paths = command_paths();
    assert!(paths.len() >= 15, "{paths:?}");
    for path in paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let output = checkup(&args);
        assert!(output.status.success(), "{args:?}");
        let help = String::from_utf8_lossy(&output.stdout);
        let examples = help
            .split_once("Examples:\n")
            .unwrap_or_else(|| panic!("`checkup {}` shows no example:\n{help}", path.join(" ")))
            .1;
        assert!(
            examples.contains("checkup "),
            "`checkup {}`: {examples}",
            path.join(" ")
        );
    }
}

#[test]
fn bash_accepts_the_completions_and_man_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let completions = checkup(&["completions", "bash"]);
    assert!(completions.status.success(), "{}", stderr(&completions));
    let script = dir.path().join("checkup.bash");
    std::fs::write(&script, &completions.stdout).unwrap();
    let loaded = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p checkup",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    assert!(String::from_utf8_lossy(&loaded.stdout).contains("checkup"));
    let script_text = String::from_utf8_lossy(&completions.stdout);
    for word in ["notify", "ledger", "--site", "--lab-reports"] {
        assert!(script_text.contains(word), "completions lack {word}");
    }

    let page = checkup(&["man"]);
    assert!(page.status.success(), "{}", stderr(&page));
    let file = dir.path().join("checkup.1");
    std::fs::write(&file, &page.stdout).unwrap();
    let shown = std::process::Command::new("man")
        .args(["-l", file.to_str().unwrap()])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("man (man-db) is installed by the README's test command");
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("checkup"), "{text}");
    for word in ["demo", "report", "notify", "ledger"] {
        assert!(text.contains(word), "the man page lacks {word}: {text}");
    }
}

#[test]
fn paper_lists_the_most_severe_runs_needing_attention_and_counts_the_rest() {
    use checkup::app::load::analyze_ledger;
    use checkup::config::Config;
    use checkup::ledger::Ledger;
    use checkup::report::ReportKind;
    use checkup::report::charts::render_charts;
    use checkup::report::i18n::Lang;
    use checkup::report::model::{ModelInput, build_model};
    use checkup::report::pdf::PdfRenderer;

    // The quarterly of the demo's newest quarter, as `checkup report` builds it, on paper with at
    // most 5 rows (checkup lists 1,000; a quarter with more runs needing attention takes a ledger
    // of ~10,000 experiments).
    let ledger = Ledger::open_for_read(&default_demo().join("ledger")).unwrap();
    let config = Config::default();
    let analyzed = analyze_ledger(&ledger, &config, None).unwrap();
    let model = build_model(&ModelInput {
        lang: Lang::En,
        organization: &config.organization,
        currency: &config.currency,
        generated_at: analyzed.generated_at,
        analysis: &analyzed.analysis,
        cost: config.cost.clone(),
        rubric: &analyzed.rubric,
    });
    let charts = render_charts(&model, &[], 0, Lang::En.messages());
    let renderer = PdfRenderer::built_in().listing_at_most(5);
    let data = renderer.prepare(&model, &charts).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quarterly.pdf");
    fs::write(
        &path,
        renderer.render(ReportKind::Quarterly, &data).unwrap(),
    )
    .unwrap();
    let text = pdf_text_as_laid_out(&path);
    // The experiments section (the weaknesses table before it names runs too).
    let section = text
        .find("The runs that need attention")
        .expect("the experiments section");
    let section = &text[section..];

    // The five listed are red (the demo's quarter has more than five), never-recovered ones
    // first, then the slowest to recover.
    let count = |verdict: &str| {
        model
            .experiments
            .iter()
            .filter(|e| e.verdict == verdict)
            .count()
    };
    assert!(
        count("red") > 5,
        "the demo's quarter has {} red runs",
        count("red")
    );
    let mut reds: Vec<&checkup::report::model::ExperimentRow> = model
        .experiments
        .iter()
        .filter(|e| e.verdict == "red")
        .collect();
    let seen_for = |e: &checkup::report::model::ExperimentRow| {
        e.time_to_recover_s
            .or(e.censored_at_s)
            .unwrap_or(f64::NEG_INFINITY)
    };
    reds.sort_by(|a, b| {
        a.recovered
            .cmp(&b.recovered)
            .then(seen_for(b).total_cmp(&seen_for(a)))
    });
    let positions: Vec<usize> = reds[..5]
        .iter()
        .map(|e| {
            section
                .find(&e.experiment_id)
                .unwrap_or_else(|| panic!("{} is not listed", e.experiment_id))
        })
        .collect();
    assert!(
        positions.is_sorted(),
        "listed most severe first: {positions:?}\n{section}"
    );
    for listed_elsewhere in model.experiments.iter().filter(|e| e.verdict != "red") {
        if listed_elsewhere.verdict != "green" {
            assert!(!section.contains(&listed_elsewhere.experiment_id));
        }
    }
    // The others are counted by verdict.
    let attention = model.experiments.len() - count("green");
    let mut counts = vec![format!("{} red", count("red") - 5)];
    for (verdict, name) in [
        ("yellow", "yellow"),
        ("inconclusive", "inconclusive"),
        ("in_progress", "in progress"),
    ] {
        if count(verdict) > 0 {
            counts.push(format!("{} {name}", count(verdict)));
        }
    }
    let sentence = format!(
        "Not listed here: {} more runs that need attention ({}), each less severe than the runs listed above",
        attention - 5,
        counts.join(", ")
    );
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words(&text).contains(&sentence),
        "{sentence}\n{}",
        words(&text)
    );
}

#[test]
fn a_negative_roi_reads_the_same_on_paper_as_in_html() {
    // A program that costs more than it avoids. The PDF once printed an ROI of -88% as "−8,8%"
    // (typst's Unicode minus counted as digits when grouping thousands).
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("checkup.toml");
    fs::write(&config, "[cost]\nfixed_costs = 80000000\n").unwrap();
    let out = dir.path().join("reports");
    let ledger = default_demo().join("ledger");
    let output = checkup(&[
        "--config",
        config.to_str().unwrap(),
        "report",
        "--ledger",
        ledger.to_str().unwrap(),
        "--kind",
        "executive",
        "--format",
        "html,pdf,json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json = read_json(&out.join("report.json"));
    let roi = json["roi"]["roi"].as_f64().unwrap();
    assert!(roi < -0.1, "the program loses money: ROI {roi}");
    let percent = format!("{}%", (roi * 100.0).round() as i64);
    let html = Html::parse_document(&fs::read_to_string(out.join("executive.html")).unwrap());
    let card = Selector::parse("#roi .value").unwrap();
    let card: String = html.select(&card).next().unwrap().text().collect();
    assert_eq!(card.trim(), percent);
    // The ROI card: the ROI and its P10–P90 range, as the HTML card says them.
    let range = |key: &str| {
        format!(
            "{}%",
            (json["roi"][key].as_f64().unwrap() * 100.0).round() as i64
        )
    };
    let card_range = format!("(P10–P90 {} – {})", range("roi_p10"), range("roi_p90"));
    let pdf = pdf_text(&out.join("executive.pdf"));
    let pdf = pdf.split_whitespace().collect::<Vec<_>>().join(" ");
    for figure in [&percent, &card_range] {
        assert!(
            pdf.contains(figure.as_str()),
            "executive.pdf lacks {figure}:\n{pdf}"
        );
    }
}
