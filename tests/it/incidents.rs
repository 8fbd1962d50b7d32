//! `checkup ingest incidents FILE.csv`: real incidents into the ledger and the incident MTTR trend.

use crate::support::{checkup, export_json, report_json, stderr};

fn export_incidents(ledger: &str) -> Vec<serde_json::Value> {
    export_json(std::path::Path::new(ledger), "incidents", "incidents")
}

#[test]
fn incidents_feed_the_incident_mttr_trend_once_and_bad_files_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let demo = checkup(&[
        "demo",
        "--out",
        out.to_str().unwrap(),
        "--experiments",
        "40",
        "--quiet",
    ]);
    assert!(demo.status.success(), "{}", stderr(&demo));
    let ledger = out.join("ledger");
    let ledger = ledger.to_str().unwrap();
    let before = export_incidents(ledger).len();

    // Two incidents of 2024Q1, before the demo's history: 90 and 30 minutes.
    let file = dir.path().join("incidents.csv");
    std::fs::write(
        &file,
        "incident_id,service,team,severity,started_at,resolved_at,customer_impact\n\
         INC-2024-1,payments,payments,SEV1,2024-02-01T10:00:00Z,2024-02-01T11:30:00Z,\"card payments failed, EU\"\n\
         INC-2024-2,search,search,SEV3,2024-03-05 08:00,2024-03-05 08:30,\n",
    )
    .unwrap();
    for _ in 0..2 {
        let ingest = checkup(&[
            "--ledger",
            ledger,
            "ingest",
            "incidents",
            file.to_str().unwrap(),
        ]);
        assert!(ingest.status.success(), "{}", stderr(&ingest));
        assert!(String::from_utf8_lossy(&ingest.stdout).starts_with("Read 2 incidents"));
        assert_eq!(export_incidents(ledger).len(), before + 2);
    }

    let json = report_json(&["--ledger", ledger], &[], &dir.path().join("reports"));
    let first = json["incident_mttr"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["period"] == "2024Q1" && row["group_by"] == "all")
        .expect("2024Q1 is in the incident MTTR trend");
    assert_eq!(first["n"], 2);
    assert_eq!(first["mean_s"], 3600.0);

    // A bad row rejects the whole file, names the line and the field, and changes nothing.
    let stored = export_incidents(ledger);
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "incident_id,started_at,resolved_at\nINC-9,2024-04-01T10:00:00Z,2024-04-01T12:00:00Z\nINC-10,2024-04-02T10:00:00Z,2024-04-02T09:00:00Z\n",
    )
    .unwrap();
    let rejected = checkup(&[
        "--ledger",
        ledger,
        "ingest",
        "incidents",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(rejected.status.code(), Some(2));
    let message = stderr(&rejected);
    assert!(
        message.contains("bad.csv:3: resolved_at: is before started_at"),
        "{message}"
    );
    assert_eq!(export_incidents(ledger), stored);
}
