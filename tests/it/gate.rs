//! `checkup gate` and the pipeline formats of `checkup report` (JUnit, CSV) on the default demo.

use crate::support::{checkup, default_demo, stderr};

fn demo_report() -> serde_json::Value {
    let path = default_demo().join("reports/report.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn gate(args: &[&str]) -> std::process::Output {
    let ledger = default_demo().join("ledger");
    let mut all = vec!["--ledger", ledger.to_str().unwrap(), "gate"];
    all.extend_from_slice(args);
    checkup(&all)
}

#[test]
fn the_gate_passes_or_fails_with_the_numbers_behind_each_rule() {
    let report = demo_report();
    let red = report["verdict_counts"]["red"].as_u64().unwrap() as usize;
    assert!(red > 0, "the demo's quarter has red experiments");

    let pass = gate(&["--max-red", &red.to_string()]);
    assert_eq!(pass.status.code(), Some(0), "{}", stderr(&pass));
    let said = String::from_utf8_lossy(&pass.stdout);
    assert!(
        said.starts_with(&format!(
            "PASS max-red: {red} red experiments of the organisation in the period, at most {red} allowed: "
        )),
        "{said}"
    );
    assert!(said.ends_with("gate passed\n"), "{said}");

    let fail = gate(&["--max-red", &(red - 1).to_string()]);
    assert_eq!(fail.status.code(), Some(1));
    let said = String::from_utf8_lossy(&fail.stdout);
    assert!(said.starts_with("FAIL max-red: "), "{said}");
    assert!(said.ends_with("gate failed\n"), "{said}");

    // A team's stage against the report's maturity table.
    let stage_of = |scope: &str| {
        report["maturity"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["scope"] == scope)
            .unwrap()["stage"]
            .as_u64()
            .unwrap()
    };
    let search = stage_of("search");
    assert!(search < 4);
    let below = gate(&["--team", "search", "--min-stage", &(search + 1).to_string()]);
    assert_eq!(below.status.code(), Some(1));
    let said = String::from_utf8_lossy(&below.stdout);
    assert!(
        said.contains(&format!(
            "FAIL min-stage: maturity stage of team search: {search}, at least {} required; not met: ",
            search + 1
        )),
        "{said}"
    );
    let at = gate(&["--team", "search", "--min-stage", &search.to_string()]);
    assert_eq!(
        at.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&at.stdout)
    );

    // MTTR regression against the report's own change for the quarter.
    let row = report["mttr"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == report["period"]["label"] && r["group_by"] == "all")
        .unwrap()
        .clone();
    let change = row["change_vs_previous"].as_f64().unwrap() * 100.0;
    let strict = gate(&["--max-mttr-regression", &format!("{}", change - 1.0)]);
    assert_eq!(
        strict.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&strict.stdout)
    );
    let lenient = gate(&["--max-mttr-regression", &format!("{}", change + 1.0)]);
    assert_eq!(
        lenient.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&lenient.stdout)
    );
    assert!(
        String::from_utf8_lossy(&lenient.stdout)
            .contains(&format!("{change:+.1}% against the previous quarter"))
    );

    // A month period is compared with the month before, from the monthly MTTR rows.
    let month = report["monthly_mttr"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["group_by"] == "all" && r["change_vs_previous"].is_number())
        .next_back()
        .expect("the demo has months to compare")
        .clone();
    assert_eq!(month["period_kind"], "month");
    let month_change = month["change_vs_previous"].as_f64().unwrap() * 100.0;
    let label = month["period"].as_str().unwrap();
    let monthly = gate(&[
        "--period",
        label,
        "--max-mttr-regression",
        &format!("{}", month_change + 1.0),
    ]);
    assert_eq!(monthly.status.code(), Some(0), "{}", stderr(&monthly));
    assert!(
        String::from_utf8_lossy(&monthly.stdout).contains(&format!(
            "in {label}: {:.0} s, {month_change:+.1}% against the previous month",
            month["mean_s"].as_f64().unwrap()
        )),
        "{}",
        String::from_utf8_lossy(&monthly.stdout)
    );

    // JUnit: one test case per rule.
    let junit = gate(&["--max-red", "0", "--min-stage", "1", "--format", "junit"]);
    assert_eq!(junit.status.code(), Some(1));
    let xml = String::from_utf8_lossy(&junit.stdout);
    assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
    assert!(
        xml.contains("<testcase name=\"max-red\" classname=\"checkup.gate\">"),
        "{xml}"
    );

    // No rule is a usage error.
    let none = gate(&[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("gate needs at least one rule"));
}

#[test]
fn reports_for_pipelines_junit_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = default_demo().join("ledger");
    let output = checkup(&[
        "--ledger",
        ledger.to_str().unwrap(),
        "report",
        "--format",
        "junit,csv,json",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let counts = &report["verdict_counts"];
    let count = |v: &str| counts[v].as_u64().unwrap();
    let total = report["experiments"].as_array().unwrap().len() as u64;

    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(
        xml.contains(&format!(
            "tests=\"{total}\" failures=\"{}\" skipped=\"{}\"",
            count("red") + count("yellow"),
            count("inconclusive") + count("in_progress")
        )),
        "{}",
        &xml[..400]
    );
    assert_eq!(xml.matches("<testcase ").count() as u64, total);

    let mut csv = csv::Reader::from_path(dir.path().join("experiments.csv")).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        &header[..3],
        ["experiment_id", "template_id", "template_name"]
    );
    let verdict = header.iter().position(|h| h == "verdict").unwrap();
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as u64, total);
    assert_eq!(
        rows.iter().filter(|r| &r[verdict] == "red").count() as u64,
        count("red")
    );
    // Only the asked-for formats are written.
    assert!(!dir.path().join("quarterly.html").exists());
}
