//! Text from AWS, journals or CSV is data: a template name, description, team and tags written as
//! HTML, tera and typst code appear as text in the HTML and PDF reports, never as markup or code.

use std::collections::BTreeMap;
use std::fs;

use checkup::ledger::{self, Experiment, Ledger, Table};
use scraper::{Html, Selector};

use crate::support::{checkup, stderr};

const SCRIPT: &str = "<script>alert('x')</script>";
const TERA: &str = "{{ 7 * 7 }}{% raw %}";
const TYPST: &str = "#set page(fill: red) #panic(\"owned\")";

#[test]
fn hostile_text_stays_text_in_html_and_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ledger");
    {
        let ledger = Ledger::open_for_write(&root).unwrap();
        let start = 1_783_000_000_000_000; // 2026-07-02
        let experiment = Experiment {
            experiment_id: "EXPhostile".into(),
            source: checkup::vocab::Source::from_name("fis").unwrap(),
            account_id: None,
            region: None,
            template_id: Some("EXThostile".into()),
            template_name: Some(format!("{SCRIPT} {TYPST}")),
            description: Some(TERA.into()),
            status: checkup::vocab::Status::from_name("completed").unwrap(),
            status_reason: None,
            created_at: start,
            started_at: Some(start),
            ended_at: Some(start + 600_000_000),
            environment: Some("prod".into()),
            team: Some(format!("team {TERA}")),
            service: Some("svc".into()),
            trigger: Some("manual".into()),
            tags: BTreeMap::from([("note".to_string(), TYPST.to_string())]).into(),
            stop_condition_alarms: vec![],
            stop_condition_triggered: false,
            blast_radius: vec!["COUNT(1)".into()],
            hypothesis: None,
            recover_within_s: None,
            ingested_at: start,
            actions_mode: None,
            resolved_targets: None,
        };
        let frame = ledger::experiments_frame(&[experiment]).unwrap();
        ledger.upsert(Table::Experiments, frame).unwrap();
    }
    let out = dir.path().join("reports");
    let output = checkup(&[
        "--ledger",
        root.to_str().unwrap(),
        "report",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    for kind in ["quarterly", "maturity"] {
        let html = fs::read_to_string(out.join(format!("{kind}.html"))).unwrap();
        let document = Html::parse_document(&html);
        // The one script is the quarterly's own table script, byte for byte: hostile text
        // added none and reached none.
        let scripts: Vec<String> = document
            .select(&Selector::parse("script").unwrap())
            .map(|script| script.text().collect())
            .collect();
        let own: Vec<String> = match kind {
            "quarterly" => vec![include_str!("../../report_templates/html/table.js").to_string()],
            _ => Vec::new(),
        };
        assert_eq!(scripts, own, "{kind}.html runs no script but its own");
        let text: String = document.root_element().text().collect();
        assert!(!text.contains("49"), "{kind}.html evaluated tera code");
        assert!(
            text.contains("team {{ 7 * 7 }}"),
            "{kind}.html shows the team as written"
        );
    }
    let quarterly = fs::read_to_string(out.join("quarterly.html")).unwrap();
    let text: String = Html::parse_document(&quarterly)
        .root_element()
        .text()
        .collect();
    assert!(
        text.contains(SCRIPT),
        "the template name is shown as written"
    );

    let pdf = crate::support::pdf_text(&out.join("quarterly.pdf"));
    // Table cells wrap lines anywhere, so compare without whitespace.
    let flat: String = pdf.split_whitespace().collect();
    for shown in [
        "<script>alert('x')</script>",
        "#panic(\"owned\")",
        "team{{7*7}}{%raw%}",
    ] {
        assert!(
            flat.contains(shown),
            "the PDF shows {shown} as text: {flat}"
        );
    }
}

/// Every file of tests/malformed/ (empty, truncated, binary, wrong types, impossible dates, huge
/// strings, negative durations) is refused with exit 2, a short message naming the file, no panic,
/// and nothing stored.
#[test]
fn malformed_files_are_refused_by_name_without_a_panic() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let ledger = ledger.to_str().unwrap();
    let mut refused = 0;
    for (folder, command) in [
        ("journals", &["ingest", "chaostoolkit"][..]),
        ("incidents", &["ingest", "incidents"][..]),
        ("config", &["export", "--table", "experiments"][..]),
    ] {
        let mut files: Vec<_> = fs::read_dir(corpus.join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let path = file.to_str().unwrap();
            let mut args = vec!["--ledger", ledger];
            if folder == "config" {
                args.extend(["--config", path]);
                args.extend_from_slice(command);
            } else {
                args.extend_from_slice(command);
                args.push(path);
            }
            let output = checkup(&args);
            let message = stderr(&output);
            let name = file.file_name().unwrap().to_str().unwrap();
            assert_eq!(output.status.code(), Some(2), "{name}: {message}");
            assert!(message.contains(name), "{name} is not named: {message}");
            assert!(!message.contains("panicked"), "{name}: {message}");
            assert!(
                message.len() < 1_000,
                "{name}: a {} byte message",
                message.len()
            );
            refused += 1;
        }
    }
    assert!(refused >= 25, "{refused}");
    for (period, why) in [
        ("2026Q5", "period `2026Q5`"),
        ("2026-13", "period `2026-13`"),
        ("2026-02-30..2026-03-01", "period `2026-02-30..2026-03-01`"),
        ("2026-09-30..2026-07-01", "ends before it starts"),
    ] {
        let output = checkup(&["--ledger", ledger, "report", "--period", period]);
        assert_eq!(output.status.code(), Some(2), "{period}");
        assert!(
            stderr(&output).contains(why),
            "{period}: {}",
            stderr(&output)
        );
    }
    let huge = "9".repeat(100_000);
    let output = checkup(&["--ledger", ledger, "report", "--period", &huge]);
    // clap echoes the argument as given; our part of the message is cut.
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("(100000 characters)"),
        "{}",
        &stderr(&output)[..200]
    );
    // Nothing was stored by any refused file.
    assert!(
        crate::support::export_json(
            std::path::Path::new(ledger),
            "experiments",
            "after the refusals"
        )
        .is_empty()
    );
}
