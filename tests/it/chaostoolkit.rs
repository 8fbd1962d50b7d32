//! `checkup ingest chaostoolkit` on every journal of ../shared/data/chaostoolkit-journals (real
//! journals of chaoslib 0.12 to 1.19 and journals we generated with chaoslib 1.44).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::{checkup, export_json, report_json, stderr};

fn journals() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/chaostoolkit-journals")
}

fn experiment_ids(ledger: &str) -> BTreeSet<String> {
    export_json(Path::new(ledger), "experiments", "experiment ids")
        .iter()
        .map(|e| e["experiment_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_journal_gets_the_verdict_its_run_earned() {
    let expected = [
        // Completed, but its experiment declares no steady-state hypothesis: nothing to judge
        // the run by (SPEC section 6 revision 2; revision 1 took the toolkit's word, green).
        (
            "completed__chaostoolkit-ansible_kill-process.json",
            "inconclusive",
        ),
        ("failed-deviated__mdrcs-terminate-frontend.json", "red"),
        ("failed-deviated__reliably-slo.json", "red"),
        ("failed-legacy-0.12__tutorials-exchange-file.json", "red"),
        (
            "interrupted__chaostoolkit-ansible_fill-disk.json",
            "inconclusive",
        ),
        ("generated/journal-aborted.json", "inconclusive"),
        ("generated/journal-completed.json", "green"),
        ("generated/journal-deviated.json", "red"),
        ("generated/journal-failed.json", "inconclusive"),
        ("generated/journal-interrupted.json", "inconclusive"),
        ("generated/journal-recovery.json", "green"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let ledger = ledger.to_str().unwrap();
    let mut id_of = Vec::new();
    for (file, _) in expected {
        let before = experiment_ids(ledger);
        let path = journals().join(file);
        let output = checkup(&[
            "--ledger",
            ledger,
            "ingest",
            "chaostoolkit",
            path.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{file}: {}", stderr(&output));
        let added: Vec<String> = experiment_ids(ledger)
            .difference(&before)
            .cloned()
            .collect();
        assert_eq!(added.len(), 1, "{file}");
        id_of.push(added[0].clone());
    }
    // Reading them all again adds nothing.
    let all: Vec<String> = expected
        .iter()
        .map(|(file, _)| journals().join(file).to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["--ledger", ledger, "ingest", "chaostoolkit"];
    args.extend(all.iter().map(String::as_str));
    let again = checkup(&args);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(experiment_ids(ledger).len(), expected.len());

    let json = report_json(
        &["--ledger", ledger],
        &["--period", "2018-01-01..2026-12-31"],
        &dir.path().join("reports"),
    );
    let listed = json["experiments"].as_array().unwrap();
    for ((file, verdict), id) in expected.iter().zip(&id_of) {
        let row = listed
            .iter()
            .find(|e| e["experiment_id"] == id.as_str())
            .unwrap_or_else(|| panic!("{file} is not in the report"));
        assert_eq!(row["verdict"], *verdict, "{file}: {row}");
        assert!(
            !row["reasons"].as_array().unwrap().is_empty(),
            "{file} says why"
        );
    }
    // The continuous hypothesis: the service was down from the first sample after the action
    // until the sample 5 s later; recovery is measured from the action's start.
    let recovery = listed
        .iter()
        .find(|e| e["experiment_id"] == id_of[10].as_str())
        .unwrap();
    let seconds = recovery["time_to_recover_s"].as_f64().unwrap();
    assert!((5.0..5.1).contains(&seconds), "{recovery}");
    assert_eq!(
        recovery["template_name"],
        "Toy service recovers by itself after an outage"
    );
    let deviated = listed
        .iter()
        .find(|e| e["experiment_id"] == id_of[7].as_str())
        .unwrap();
    assert!(
        deviated["reasons"].to_string().contains("deviated"),
        "{deviated}"
    );
}

#[test]
fn a_malformed_journal_is_named_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let ledger = ledger.to_str().unwrap();
    let good = journals().join("generated/journal-completed.json");
    let first = checkup(&[
        "--ledger",
        ledger,
        "ingest",
        "chaostoolkit",
        good.to_str().unwrap(),
    ]);
    assert!(first.status.success(), "{}", stderr(&first));
    let stored = experiment_ids(ledger);

    let text = std::fs::read_to_string(journals().join("generated/journal-recovery.json")).unwrap();
    let bad = dir.path().join("broken.json");
    std::fs::write(
        &bad,
        text.replacen(
            "\"start\": \"2026-11-28T04:07:12",
            "\"start\": \"not a time",
            1,
        ),
    )
    .unwrap();
    let deviated = journals().join("generated/journal-deviated.json");
    let output = checkup(&[
        "--ledger",
        ledger,
        "ingest",
        "chaostoolkit",
        deviated.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("broken.json: $.start: `not a time"),
        "{message}"
    );
    assert_eq!(
        experiment_ids(ledger),
        stored,
        "the good file of the batch is not stored either"
    );

    let truncated = dir.path().join("truncated.json");
    std::fs::write(&truncated, &text[..200]).unwrap();
    let output = checkup(&[
        "--ledger",
        ledger,
        "ingest",
        "chaostoolkit",
        truncated.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("truncated.json:"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_recovery_slower_than_the_hypothesis_allows_is_yellow() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let ledger = ledger.to_str().unwrap();
    let config = dir.path().join("checkup.toml");
    std::fs::write(
        &config,
        "[[hypothesis]]\nname = \"toy service is back within 3 s\"\nmatch = { template_name = \"Toy service recovers by itself after an outage\" }\nrecover_within = \"3s\"\n",
    )
    .unwrap();
    let journal = journals().join("generated/journal-recovery.json");
    let config = config.to_str().unwrap();
    let ingest = checkup(&[
        "--ledger",
        ledger,
        "--config",
        config,
        "ingest",
        "chaostoolkit",
        journal.to_str().unwrap(),
    ]);
    assert!(ingest.status.success(), "{}", stderr(&ingest));
    let json = report_json(
        &["--ledger", ledger, "--config", config],
        &[],
        &dir.path().join("reports"),
    );
    let row = &json["experiments"][0];
    assert_eq!(row["verdict"], "yellow", "{row}");
    assert_eq!(row["recover_within_s"], 3.0);
}
