//! `checkup ingest fis` through the real AWS SDK against moto's FIS on loopback, seeded with a
//! backdated history by tests/standins/fis_seed.py (the Python environment of tests/run.sh).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::support::{checkup, stderr};

/// A seeded moto server; stopped when dropped (its stdin closes).
struct SeededFis {
    child: Child,
    port: u16,
}

impl Drop for SeededFis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn seed(scenario: &serde_json::Value, dir: &Path) -> SeededFis {
    let python = std::env::var("CHECKUP_TEST_PYTHON")
        .expect("run the tests with tests/run.sh, which prepares Python with moto");
    let file = dir.join("scenario.json");
    std::fs::write(&file, serde_json::to_vec(scenario).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/standins/fis_seed.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the seeding script starts");
    let stdout = child.stdout.take().unwrap();
    let mut port = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("ready ") {
            port = Some(rest.trim().parse().unwrap());
            break;
        }
    }
    SeededFis {
        child,
        port: port.expect("the seeding script reports its port"),
    }
}

fn ingest(ledger: &Path, port: u16) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_checkup"))
        .args([
            "--ledger",
            ledger.to_str().unwrap(),
            "ingest",
            "fis",
            "--region",
            "eu-west-1",
            "--endpoint-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}

fn export(ledger: &Path, table: &str) -> Vec<serde_json::Value> {
    let output = checkup(&[
        "--ledger",
        ledger.to_str().unwrap(),
        "export",
        "--table",
        table,
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn fis_experiments_are_read_into_the_ledger_once() {
    let dir = tempfile::tempdir().unwrap();
    let day = 86_400;
    let start = 1_795_000_000; // 2026-11-18
    let template = |key: &str, team: &str, mode: &str| {
        serde_json::json!({
            "key": key, "name": format!("{key}-terminate"), "tags": {"team": team, "env": "prod"},
            "actions": {"terminate": {"actionId": "aws:ec2:terminate-instances", "targets": {"Instances": "fleet"}}},
            "targets": {"fleet": {"resourceType": "aws:ec2:instance",
                "resourceArns": ["arn:aws:ec2:eu-west-1:123456789012:instance/i-1"], "selectionMode": mode}}
        })
    };
    let run = |template: &str, status: &str, offset: i64, end: Option<i64>| {
        serde_json::json!({
            "template": template, "status": status, "start": start + offset,
            "end": end.map(|e| start + offset + e),
            "actions": {"terminate": {"start": start + offset + 5, "end": end.map(|e| start + offset + e - 60)}}
        })
    };
    let scenario = serde_json::json!({
        "region": "eu-west-1",
        "templates": [template("web", "platform", "COUNT(1)"), template("pay", "payments", "PERCENT(25)")],
        "experiments": [
            run("web", "completed", 0, Some(600)),
            run("web", "stopped", day, Some(200)),
            run("pay", "failed", 2 * day, Some(300)),
            run("pay", "completed", 3 * day, Some(600)),
            run("web", "running", 4 * day, None),
        ]
    });
    let fis = seed(&scenario, dir.path());
    let ledger = dir.path().join("ledger");

    let first = ingest(&ledger, fis.port);
    assert!(first.status.success(), "{}", stderr(&first));
    let experiments = export(&ledger, "experiments");
    assert_eq!(experiments.len(), 5);
    let mut statuses: Vec<&str> = experiments
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        ["completed", "completed", "failed", "running", "stopped"]
    );
    for experiment in &experiments {
        assert_eq!(experiment["source"], "fis");
        assert_eq!(experiment["account_id"], "123456789012");
        assert_eq!(experiment["region"], "eu-west-1");
        assert!(
            experiment["template_name"]
                .as_str()
                .unwrap()
                .ends_with("-terminate")
        );
        assert_eq!(experiment["environment"], "prod");
        let team = experiment["team"].as_str().unwrap();
        let mode = experiment["blast_radius"][0].as_str().unwrap();
        assert_eq!(
            (team, mode),
            if experiment["template_name"] == "web-terminate" {
                ("platform", "COUNT(1)")
            } else {
                ("payments", "PERCENT(25)")
            }
        );
    }
    let completed = experiments
        .iter()
        .find(|e| e["status"] == "completed" && e["team"] == "platform")
        .unwrap();
    assert_eq!(completed["started_at"], "2026-11-18T11:06:40+00:00");
    assert_eq!(completed["ended_at"], "2026-11-18T11:16:40+00:00");
    let actions = export(&ledger, "actions");
    assert_eq!(actions.len(), 5);
    let action = actions
        .iter()
        .find(|a| a["experiment_id"] == completed["experiment_id"])
        .unwrap();
    assert_eq!(action["action_id"], "aws:ec2:terminate-instances");
    assert_eq!(action["started_at"], "2026-11-18T11:06:45+00:00");
    assert_eq!(action["ended_at"], "2026-11-18T11:15:40+00:00");

    // The second run adds nothing: the same experiments, the same actions.
    let second = ingest(&ledger, fis.port);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(export(&ledger, "experiments").len(), 5);
    assert_eq!(export(&ledger, "actions").len(), 5);

    // The report judges what FIS says: failed and stopped runs are red, the running one in
    // progress; without CloudWatch series (the next slice) the completed ones are inconclusive.
    let out = dir.path().join("reports");
    let report = checkup(&[
        "--ledger",
        ledger.to_str().unwrap(),
        "report",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(report.status.success(), "{}", stderr(&report));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let counts = &json["verdict_counts"];
    assert_eq!(
        (
            counts["red"].as_u64(),
            counts["in_progress"].as_u64(),
            counts["inconclusive"].as_u64()
        ),
        (Some(2), Some(1), Some(2))
    );
}

#[test]
fn an_unreachable_endpoint_is_named_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 (discard) is closed on loopback: the connection is refused at once.
    let output = ingest(&dir.path().join("ledger"), 9);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("FIS ListExperimentTemplates failed")
            && message.contains("Connection refused"),
        "{message}"
    );
}
