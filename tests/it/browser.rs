//! The HTML reports in a real browser: headless Chromium (Debian's, installed by `tests/run.sh`)
//! loads each report of the demo, takes a screenshot and dumps the DOM it rendered.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::default_demo;

fn chromium() -> PathBuf {
    let name = std::env::var("CHECKUP_CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(&name))
            .find(|path| path.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("{name} is not installed: run the tests with tests/run.sh, which installs Debian's chromium")
    })
}

pub(crate) fn headless(args: &[&str]) -> std::process::Output {
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
        ])
        .args(args)
        .output()
        .expect("chromium runs")
}

fn screenshot(url: &str, path: &Path) -> u64 {
    let target = format!("--screenshot={}", path.display());
    let output = headless(&[&target, "--window-size=1200,1800", url]);
    assert!(
        path.is_file(),
        "no screenshot of {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn every_html_report_renders_in_chromium_with_its_charts() {
    let dir = tempfile::tempdir().unwrap();
    // A blank page compresses to almost nothing; a rendered report with charts does not.
    let blank = screenshot("about:blank", &dir.path().join("blank.png"));
    for (kind, charts) in [("quarterly", 3), ("executive", 1), ("maturity", 1)] {
        let report = default_demo().join(format!("reports/{kind}.html"));
        let url = format!("file://{}", report.display());
        let size = screenshot(&url, &dir.path().join(format!("{kind}.png")));
        assert!(
            size > 5 * blank,
            "{kind}.html looks blank: {size} bytes against {blank}"
        );
        let dom = headless(&["--dump-dom", &url]);
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert!(dom.contains("<h1"), "{kind}.html rendered no heading");
        let rendered_charts = dom.matches("<figure class=\"chart\"").count();
        assert!(
            rendered_charts >= charts,
            "{kind}.html: {rendered_charts} charts rendered"
        );
        assert!(
            dom.matches("<svg").count() >= charts,
            "{kind}.html: charts without SVG"
        );
    }
}

/// The quarterly report with a script appended that works the experiments table as a reader
/// would (choosing filters, clicking a column header twice) and writes what it saw into the
/// page, which `--dump-dom` then shows.
fn quarterly_worked_by(dir: &Path, script: &str) -> serde_json::Value {
    let html = std::fs::read_to_string(default_demo().join("reports/quarterly.html")).unwrap();
    let worked = html.replace(
        "</body>",
        &format!("<script>(function () {{ var out = {{}}; {script}; document.body.setAttribute('data-seen', JSON.stringify(out)); }})();</script></body>"),
    );
    let page = dir.join("quarterly.html");
    std::fs::write(&page, worked).unwrap();
    let url = format!("file://{}", page.display());
    let dom = headless(&["--window-size=1280,900", "--dump-dom", &url]);
    let dom = scraper::Html::parse_document(&String::from_utf8_lossy(&dom.stdout));
    let body = dom
        .select(&scraper::Selector::parse("body").unwrap())
        .next()
        .unwrap();
    let seen = body
        .value()
        .attr("data-seen")
        .unwrap_or_else(|| panic!("the appended script did not run"));
    serde_json::from_str(seen).unwrap()
}

/// The experiments of the demo's quarter as `report.json` lists them.
fn demo_experiments() -> Vec<serde_json::Value> {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(default_demo().join("reports/report.json")).unwrap())
            .unwrap();
    report["experiments"].as_array().unwrap().clone()
}

#[test]
fn the_experiments_table_sorts_and_filters_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let experiments = demo_experiments();
    let seen = quarterly_worked_by(
        dir.path(),
        r#"
        var table = document.getElementById('experiments-table');
        var rows = function () { return Array.prototype.slice.call(table.tBodies[0].rows); };
        var shown = function () { return rows().filter(function (r) { return !r.hidden; }); };
        var choose = function (name, value) {
          var select = document.querySelector('#experiment-filters select[name=' + name + ']');
          select.value = value;
          select.dispatchEvent(new Event('change'));
        };
        out.filtersVisible = !document.getElementById('experiment-filters').hidden;
        out.total = rows().length;
        choose('verdict', 'red');
        out.red = shown().map(function (r) { return r.id; });
        out.count = document.getElementById('experiment-count').textContent;
        out.hash = location.hash;
        choose('system', 'IV');
        out.redSystemIV = shown().map(function (r) { return r.id; });
        choose('verdict', '');
        choose('system', '');
        out.afterClearing = shown().length;
        var header = table.tHead.rows[0].cells[7];
        header.querySelector('button').click();
        out.ascending = shown().map(function (r) { return r.cells[7].getAttribute('data-sort'); });
        out.ascendingState = header.getAttribute('aria-sort');
        header.querySelector('button').click();
        out.descending = shown().map(function (r) { return r.cells[7].getAttribute('data-sort'); });
        out.descendingState = header.getAttribute('aria-sort');
        var chart = document.querySelector('.chart-image svg').getBoundingClientRect().width;
        out.chartWidth = chart;
        out.mainWidth = document.querySelector('main').getBoundingClientRect().width;
        "#,
    );
    assert_eq!(seen["filtersVisible"], true, "{seen}");
    assert_eq!(seen["total"], experiments.len(), "{seen}");

    let ids = |keep: &dyn Fn(&serde_json::Value) -> bool| -> Vec<String> {
        experiments
            .iter()
            .filter(|e| keep(e))
            .map(|e| e["experiment_id"].as_str().unwrap().to_string())
            .collect()
    };
    let red = ids(&|e| e["verdict"] == "red");
    assert!(!red.is_empty());
    let shown: Vec<String> = serde_json::from_value(seen["red"].clone()).unwrap();
    assert_eq!(shown, red, "filtering by verdict");
    assert_eq!(
        seen["count"],
        format!("{} of {} experiments shown", red.len(), experiments.len())
    );
    assert_eq!(seen["hash"], "#experiments?verdict=red");
    let red_iv = ids(&|e| {
        e["verdict"] == "red" && e["systems"].as_array().unwrap().iter().any(|s| s == "IV")
    });
    let shown: Vec<String> = serde_json::from_value(seen["redSystemIV"].clone()).unwrap();
    assert_eq!(shown, red_iv, "filtering by verdict and system");
    assert_eq!(seen["afterClearing"], experiments.len());

    // Sorting by time to recover: numbers in order, runs that never recovered after every
    // recovered one, rows without a time last in either direction.
    let numbers = |key: &str| -> (Vec<f64>, usize) {
        let values: Vec<String> = serde_json::from_value(seen[key].clone()).unwrap();
        let filled = values.iter().take_while(|v| !v.is_empty()).count();
        assert!(
            values[filled..].iter().all(String::is_empty),
            "{key}: empty values in between"
        );
        (
            values[..filled]
                .iter()
                .map(|v| v.parse().unwrap())
                .collect(),
            values.len() - filled,
        )
    };
    let (ascending, empty) = numbers("ascending");
    assert!(ascending.windows(2).all(|w| w[0] <= w[1]), "{ascending:?}");
    assert_eq!(seen["ascendingState"], "ascending");
    let (descending, empty_again) = numbers("descending");
    assert!(
        descending.windows(2).all(|w| w[0] >= w[1]),
        "{descending:?}"
    );
    assert_eq!(seen["descendingState"], "descending");
    assert_eq!(empty, empty_again);
    let without_time = experiments
        .iter()
        .filter(|e| e["time_to_recover_s"].is_null() && e["censored_at_s"].is_null())
        .count();
    assert_eq!(empty, without_time);

    // Charts take the width of the page at 1280 px rather than their drawn 720 px.
    let chart = seen["chartWidth"].as_f64().unwrap();
    let main = seen["mainWidth"].as_f64().unwrap();
    assert!(
        chart > 900.0 && chart >= main * 0.95,
        "chart {chart} px of {main} px"
    );
}

#[test]
fn a_filtered_view_is_a_link_that_opens_filtered_and_sorted() {
    let experiments = demo_experiments();
    let team = experiments
        .iter()
        .find(|e| e["verdict"] == "red")
        .and_then(|e| e["team"].as_str())
        .unwrap()
        .to_string();
    let url = format!(
        "file://{}#experiments?verdict=red&team={team}&sort=1&order=asc",
        default_demo().join("reports/quarterly.html").display()
    );
    let dom = headless(&["--dump-dom", &url]);
    let dom = scraper::Html::parse_document(&String::from_utf8_lossy(&dom.stdout));
    let rows = scraper::Selector::parse("#experiments-table tbody tr").unwrap();
    let visible: Vec<String> = dom
        .select(&rows)
        .filter(|row| row.value().attr("hidden").is_none())
        .map(|row| row.value().attr("id").unwrap().to_string())
        .collect();
    let expected: Vec<String> = experiments
        .iter()
        .filter(|e| e["verdict"] == "red" && e["team"] == team.as_str())
        .map(|e| e["experiment_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(visible, expected);
    // Without scripts the same table is complete: every row, none hidden.
    let html = std::fs::read_to_string(default_demo().join("reports/quarterly.html")).unwrap();
    let page = scraper::Html::parse_document(&html);
    let all: Vec<_> = page.select(&rows).collect();
    assert_eq!(all.len(), experiments.len());
    assert!(all.iter().all(|row| row.value().attr("hidden").is_none()));
}
