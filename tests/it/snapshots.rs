//! Snapshots (expect-test) of the report model and of rendered fragments for a small fixed
//! ledger: the demo with 40 experiments and the default seed. A change to any number, sentence or
//! label shows up as a diff to review; `UPDATE_EXPECT=1 tests/run.sh` accepts it.

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use expect_test::expect_file;
use scraper::{Html, Selector};

use crate::support::{checkup, stderr};

/// The reports of the small demo, generated once.
fn small_demo() -> &'static PathBuf {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("checkup-small-demo-")
            .tempdir()
            .unwrap()
            .keep();
        let output = checkup(&[
            "demo",
            "--out",
            dir.to_str().unwrap(),
            "--experiments",
            "40",
            "--quiet",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        dir.join("reports")
    })
}

fn fragment(file: &str, selector: &str) -> String {
    let html = fs::read_to_string(small_demo().join(file)).unwrap();
    let document = Html::parse_document(&html);
    let selector = Selector::parse(selector).unwrap();
    let element = document
        .select(&selector)
        .next()
        .unwrap_or_else(|| panic!("{file} has {selector:?}"));
    element.html()
}

#[test]
fn the_report_model_of_the_small_demo() {
    let json = fs::read_to_string(small_demo().join("report.json")).unwrap();
    expect_file!["snapshots/small_demo_report.json"].assert_eq(&json);
}

#[test]
fn rendered_fragments_of_the_small_demo() {
    expect_file!["snapshots/quarterly_summary.html"].assert_eq(&fragment(
        "quarterly.html",
        "section[aria-labelledby=summary]",
    ));
    expect_file!["snapshots/quarterly_mttr.html"]
        .assert_eq(&fragment("quarterly.html", "#mttr-table"));
    expect_file!["snapshots/executive_assumptions.html"]
        .assert_eq(&fragment("executive.html", "#assumptions"));
    expect_file!["snapshots/maturity_stages.html"]
        .assert_eq(&fragment("maturity.html", "#stage-table"));
}
