//! The README's "Your first hour" against the stand-ins: `checkup init` writes a configuration from
//! the account's templates (read operations only), `ingest fis` reads with it, `report` judges the
//! runs from the metric presets it filled in.

use serde_json::{Value, json};

use crate::ingest::{HOUR, MINUTE, now_s, start};
use crate::support::stderr;

fn scenario(base: i64) -> Value {
    let cluster = "arn:aws:rds:eu-west-1:123456789012:cluster:orders-db";
    let templates = json!([
        {"key": "db", "name": "orders-db-failover",
         "tags": {"env": "prod", "team": "orders", "service": "orders-api"},
         "actions": {"failover": {"actionId": "aws:rds:failover-db-cluster", "targets": {"Clusters": "Clusters"}}},
         "targets": {"Clusters": {"resourceType": "aws:rds:cluster", "resourceArns": [cluster], "selectionMode": "ALL"}}},
        {"key": "web", "name": "web-stop",
         "tags": {"env": "sandbox", "team": "web"},
         "actions": {"stop": {"actionId": "aws:ec2:stop-instances", "targets": {"Instances": "Instances"}}},
         "targets": {"Instances": {"resourceType": "aws:ec2:instance",
            "resourceArns": ["arn:aws:ec2:eu-west-1:123456789012:instance/i-1"], "selectionMode": "COUNT(1)"}}},
    ]);
    let run = |key: &str, template: &str, start: i64| {
        json!({"key": key, "template": template, "status": "completed", "start": start,
            "end": start + 10 * MINUTE,
            "actions": {if template == "db" { "failover" } else { "stop" }:
                {"start": start, "end": start + 9 * MINUTE}}})
    };
    let around = |start: i64, value: &dyn Fn(i64) -> f64| -> Vec<Value> {
        (-20..=45)
            .map(|k| json!([start + k * MINUTE, value(k)]))
            .collect()
    };
    let db = |metric: &str, points: Vec<Value>| {
        json!({"namespace": "AWS/RDS", "metric": metric,
            "dimensions": {"DBClusterIdentifier": "orders-db"}, "points": points})
    };
    // The failover drops connections for three minutes; CPU and commit latency stay steady.
    let (first, second) = (base, base + 3 * HOUR);
    let mut connections = around(first, &|k| {
        if (1..4).contains(&k) {
            2.0
        } else {
            50.0 + k.rem_euclid(3) as f64
        }
    });
    connections.extend(around(second, &|k| 50.0 + k.rem_euclid(3) as f64));
    let mut cpu = around(first, &|_| 30.0);
    cpu.extend(around(second, &|_| 30.0));
    let mut latency = around(first, &|k| 2.0 + 0.1 * k.rem_euclid(2) as f64);
    latency.extend(around(second, &|k| 2.0 + 0.1 * k.rem_euclid(2) as f64));
    json!({
        "region": "eu-west-1",
        "templates": templates,
        "experiments": [run("D1", "db", first), run("D2", "db", second), run("W1", "web", base + HOUR)],
        "metrics": [db("DatabaseConnections", connections), db("CPUUtilization", cpu), db("CommitLatency", latency)],
    })
}

#[test]
fn init_then_ingest_then_report_judges_runs_from_the_presets_it_chose() {
    let dir = tempfile::tempdir().unwrap();
    let base = (now_s() - 2 * 24 * HOUR) / HOUR * HOUR;
    let aws = start(&scenario(base), dir.path());
    let config = dir.path().join("checkup.toml");
    let config_arg = config.to_str().unwrap();

    let init = aws.checkup(&["-v", "init", "--out", config_arg, "--region", "eu-west-1"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let said = String::from_utf8_lossy(&init.stdout).to_string();
    assert!(
        said.contains("from 2 FIS templates (1 with metric presets filled in"),
        "{said}"
    );
    // Read operations only, each one the allow-list and the README's IAM policy name.
    let sent: Vec<String> = stderr(&init)
        .lines()
        .filter_map(|line| line.strip_prefix("aws: "))
        .map(str::to_string)
        .collect();
    assert!(!sent.is_empty());
    for operation in &sent {
        let (service, name) = operation.split_once(' ').unwrap();
        assert_eq!(service, "fis", "{operation}");
        assert!(
            ["ListExperimentTemplates", "GetExperimentTemplate"].contains(&name),
            "{operation}"
        );
    }
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("preset = \"rds\""), "{text}");
    assert!(
        text.contains("DBClusterIdentifier = \"orders-db\""),
        "{text}"
    );
    assert!(
        text.contains("# TODO: fill in AutoScalingGroupName"),
        "{text}"
    );

    // Never overwritten without --force.
    std::fs::write(&config, format!("{text}\n# edited by hand\n")).unwrap();
    let again = aws.checkup(&["init", "--out", config_arg, "--region", "eu-west-1"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains(config_arg) && stderr(&again).contains("--force"));
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .ends_with("# edited by hand\n")
    );
    let forced = aws.checkup(&[
        "init",
        "--out",
        config_arg,
        "--region",
        "eu-west-1",
        "--force",
    ]);
    assert!(forced.status.success(), "{}", stderr(&forced));

    // The file drives the ingest and the report.
    let ledger = dir.path().join("ledger");
    let ledger_arg = ledger.to_str().unwrap();
    let ingest = aws.checkup(&[
        "--ledger",
        ledger_arg,
        "--config",
        config_arg,
        "ingest",
        "fis",
        "--region",
        "eu-west-1",
    ]);
    assert!(ingest.status.success(), "{}", stderr(&ingest));
    let out = dir.path().join("reports");
    let report = aws.checkup(&[
        "--ledger",
        ledger_arg,
        "--config",
        config_arg,
        "report",
        "--period",
        "last-90d",
        "--format",
        "html,json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(report.status.success(), "{}", stderr(&report));
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let row = |key: &str| {
        json["experiments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["experiment_id"] == aws.ids[key].as_str())
            .unwrap_or_else(|| panic!("{key} is not in the report"))
            .clone()
    };
    // The failover run: connections left their baseline and came back; the steady run stayed.
    let failover = row("D1");
    assert_eq!(failover["verdict"], "green", "{failover}");
    assert_eq!(failover["time_to_impact_s"], 60.0);
    assert_eq!(failover["time_to_recover_s"], 240.0);
    let reasons = failover["reasons"].to_string();
    assert!(
        reasons.contains("connections") && reasons.contains("db_cpu"),
        "{reasons}"
    );
    assert_eq!(row("D2")["verdict"], "green");
    // The web run has no series yet (its preset waits for a person): inconclusive, said so.
    assert_eq!(row("W1")["verdict"], "inconclusive");
    let html = std::fs::read_to_string(out.join("quarterly.html")).unwrap();
    for key in ["D1", "D2", "W1"] {
        assert!(html.contains(&aws.ids[key]), "quarterly.html lists {key}");
    }
    // The environments init found: prod is production.
    assert_eq!(failover["environment"], "prod");
}
