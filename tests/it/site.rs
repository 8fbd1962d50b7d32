//! `report --site DIR`: an archive that grows one period at a time. Three periods are added one
//! after another; after each, the index lists every period with its headline figures, every link
//! of the site resolves to a file, and the periods added before are byte-identical. Headless
//! Chromium renders the index; `--publish` uploads the whole site with its content types.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use scraper::{Html, Selector};
use serde_json::{Value, json};

use crate::browser::headless;
use crate::support::{checkup, files_under, small_demo, stderr};

/// The relative links of an HTML file (no fragment-only, no absolute URL), each resolved against
/// the file's folder.
fn relative_links(file: &Path) -> Vec<PathBuf> {
    let html = Html::parse_document(&std::fs::read_to_string(file).unwrap());
    let anchors = Selector::parse("a[href]").unwrap();
    html.select(&anchors)
        .filter_map(|a| a.value().attr("href"))
        .filter(|href| !href.starts_with('#') && !href.contains("://"))
        .map(|href| {
            let path = href.split('#').next().unwrap();
            file.parent().unwrap().join(path)
        })
        .collect()
}

fn text(element: scraper::ElementRef) -> String {
    element.text().collect::<String>().trim().to_string()
}

#[test]
fn a_site_grows_one_period_at_a_time_and_keeps_the_earlier_ones_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = small_demo(dir.path(), 60).join("ledger");
    let site = dir.path().join("site");
    let mut before: BTreeMap<String, BTreeMap<PathBuf, Vec<u8>>> = BTreeMap::new();

    for (added, period) in ["2026Q1", "2026Q2", "2026Q3"].into_iter().enumerate() {
        let output = checkup(&[
            "--ledger",
            ledger.to_str().unwrap(),
            "report",
            "--period",
            period,
            "--lab-reports",
            "failing",
            "--site",
            site.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{period}: {}", stderr(&output));
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(
            said.contains(&format!(
                "lists {} period{}",
                added + 1,
                if added == 0 { "" } else { "s" }
            )),
            "{said}"
        );

        // The periods added before did not change, byte for byte.
        for (earlier, files_then) in &before {
            assert_eq!(
                &files_under(&site.join(earlier)),
                files_then,
                "{earlier} changed when {period} was added"
            );
        }
        before.insert(period.to_string(), files_under(&site.join(period)));

        // The index lists every period, newest first, with the figures of its own report.json.
        let index = site.join("index.html");
        let html = Html::parse_document(&std::fs::read_to_string(&index).unwrap());
        let rows = Selector::parse("#periods-table tbody tr").unwrap();
        let cells = Selector::parse("th, td").unwrap();
        let listed: Vec<Vec<String>> = html
            .select(&rows)
            .map(|row| row.select(&cells).map(text).collect())
            .collect();
        let expected: Vec<&str> = ["2026Q3", "2026Q2", "2026Q1"][3 - (added + 1)..].to_vec();
        let labels: Vec<&str> = listed.iter().map(|row| row[0].as_str()).collect();
        assert_eq!(labels, expected, "{listed:?}");
        for row in &listed {
            let report: Value = serde_json::from_slice(
                &std::fs::read(site.join(&row[0]).join("report.json")).unwrap(),
            )
            .unwrap();
            let counts = &report["verdict_counts"];
            assert_eq!(
                row[1],
                report["experiments"].as_array().unwrap().len().to_string(),
                "{row:?}"
            );
            for (column, verdict) in [(2, "green"), (3, "yellow"), (4, "red"), (5, "inconclusive")]
            {
                assert_eq!(
                    row[column],
                    counts[verdict].to_string(),
                    "{row:?} {verdict}"
                );
            }
            let stage = report["maturity"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["scope"] == "organization")
                .unwrap()["stage"]
                .to_string();
            assert_eq!(row[9], stage, "{row:?}");
            assert!(row[10].contains("quarterly.html") && row[10].contains("executive.pdf"));
        }

        // Every link of the site resolves: the index's, and each period's reports' (lab
        // reports, the way back to the index).
        let mut checked = 0;
        for (path, _) in files_under(&site) {
            if path.extension().is_some_and(|e| e == "html") {
                for target in relative_links(&path) {
                    assert!(
                        target.is_file(),
                        "{} links to {}, which does not exist",
                        path.display(),
                        target.display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 10 * (added + 1), "only {checked} links");
    }

    // The quarterly's rows link to the lab reports written beside it: one per red and yellow run.
    let quarterly = site.join("2026Q3/quarterly.html");
    let report: Value =
        serde_json::from_slice(&std::fs::read(site.join("2026Q3/report.json")).unwrap()).unwrap();
    let failing: BTreeSet<String> = report["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["verdict"] == "red" || e["verdict"] == "yellow")
        .map(|e| e["experiment_id"].as_str().unwrap().to_string())
        .collect();
    assert!(!failing.is_empty());
    let html = Html::parse_document(&std::fs::read_to_string(&quarterly).unwrap());
    let linked: BTreeSet<String> = html
        .select(&Selector::parse("#experiments-table tbody tr td:first-child a").unwrap())
        .map(text)
        .collect();
    assert_eq!(linked, failing);

    // Headless Chromium renders the index with its rows and its trend chart.
    let url = format!("file://{}", site.join("index.html").display());
    let dom = headless(&["--dump-dom", &url]);
    let dom = Html::parse_document(&String::from_utf8_lossy(&dom.stdout));
    assert_eq!(
        dom.select(&Selector::parse("#periods-table tbody tr").unwrap())
            .count(),
        3
    );
    assert!(
        dom.select(&Selector::parse("#chart-periods svg").unwrap())
            .next()
            .is_some(),
        "the index's trend chart did not render"
    );
}

#[test]
fn a_site_is_published_whole_with_its_content_types() {
    let dir = tempfile::tempdir().unwrap();
    let aws = crate::ingest::start(
        &json!({"region": "eu-west-1", "buckets": ["chaos-reports"], "templates": [], "experiments": []}),
        dir.path(),
    );
    let ledger = small_demo(dir.path(), 60).join("ledger");
    let site = dir.path().join("site");
    for period in ["2026Q2", "2026Q3"] {
        let output = crate::ingest::checkup_with_s3(aws.moto_port)
            .args(["--ledger", ledger.to_str().unwrap(), "report"])
            .args(["--period", period, "--format", "html,json"])
            .args(["--site", site.to_str().unwrap()])
            .args(["--publish", "s3://chaos-reports/site"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let client = crate::ingest::s3_client(aws.moto_port);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let keys: BTreeSet<String> = runtime
        .block_on(
            client
                .list_objects_v2()
                .bucket("chaos-reports")
                .prefix("site/")
                .send(),
        )
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect();
    let local: BTreeSet<String> = files_under(&site)
        .keys()
        .map(|path| {
            let relative = path.strip_prefix(&site).unwrap().to_string_lossy();
            format!("site/{relative}")
        })
        .collect();
    assert_eq!(keys, local);
    for (key, content_type) in [
        ("site/index.html", "text/html; charset=utf-8"),
        ("site/2026Q2/quarterly.html", "text/html; charset=utf-8"),
        ("site/2026Q3/report.json", "application/json"),
        ("site/2026Q3/headline.json", "application/json"),
    ] {
        let head = runtime
            .block_on(client.head_object().bucket("chaos-reports").key(key).send())
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
        assert_eq!(head.content_type(), Some(content_type), "{key}");
    }
    // The index uploaded last lists both periods.
    let index = runtime
        .block_on(
            client
                .get_object()
                .bucket("chaos-reports")
                .key("site/index.html")
                .send(),
        )
        .unwrap();
    let body = runtime.block_on(index.body.collect()).unwrap().into_bytes();
    let html = Html::parse_document(&String::from_utf8_lossy(&body));
    let hrefs: BTreeSet<&str> = html
        .select(&Selector::parse("#periods-table a[href]").unwrap())
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert!(
        hrefs.contains("2026Q2/quarterly.html") && hrefs.contains("2026Q3/quarterly.html"),
        "{hrefs:?}"
    );
}
