//! SPEC section 6 revision 2 on an account shaped like a real one, through the real SDK clients
//! against moto (FIS) and MiniStack (CloudWatch): a 5XX stop-condition alarm that publishes
//! nothing while all is well, a warm-up wait, runs FIS failed before injecting, runs stopped by
//! hand, a dry run, a stop condition beside an empty series, an alarm already firing.

use serde_json::{Value, json};

use crate::ingest::{HOUR, MINUTE, StandIns, ingest, now_s, report_json, report_json_of, start};
use crate::support::stderr;

/// Only the web hypothesis: every other series comes from the templates' stop-condition alarms.
const CONFIG: &str = r#"
[[hypothesis]]
name = "web keeps its hosts through a warm-up and a stop"
match = { template_name = "web-stop-after-warm-up" }
recover_within = "5m"

  [[hypothesis.series]]
  id = "healthy_hosts"
  namespace = "AWS/ApplicationELB"
  metric = "HealthyHostCount"
  dimensions = { LoadBalancer = "app/web/1" }
  stat = "Minimum"
  period = "1m"
  steady = ">= 2"

[[hypothesis]]
name = "payments latency"
match = { template_name = "pay-latency" }

  [[hypothesis.series]]
  id = "latency"
  namespace = "Payments"
  metric = "Latency"
  dimensions = { Service = "pay" }
  stat = "Average"
  period = "1m"
  steady = "< 100"
"#;

fn alarm_condition(name: &str) -> Value {
    json!([{"source": "aws:cloudwatch:alarm",
        "value": format!("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}")}])
}

fn instances() -> Value {
    json!({"Targets": {"resourceType": "aws:ec2:instance",
        "resourceArns": ["arn:aws:ec2:eu-west-1:123456789012:instance/i-1"],
        "selectionMode": "COUNT(1)"}})
}

/// A ten-minute run of `template` whose one fault action `inject` ran `action` (`None`: never
/// started), with `extra` fields merged in.
fn run(
    key: &str,
    template: &str,
    status: &str,
    start: i64,
    action: Option<(i64, i64)>,
    extra: Value,
) -> Value {
    let mut run = json!({
        "key": key, "template": template, "status": status, "start": start,
        "end": start + 10 * MINUTE,
        "actions": {"inject": match action {
            Some((from, to)) => json!({"start": from, "end": to}),
            None => json!({}),
        }},
    });
    for (field, value) in extra.as_object().unwrap() {
        run[field] = value.clone();
    }
    run
}

fn scenario(base: i64) -> Value {
    let at = |hours: i64| base + hours * HOUR;
    let inject = |start: i64| Some((start, start + 9 * MINUTE));
    let api = json!({"key": "api", "name": "api-instance-loss", "tags": {"team": "api"},
        "actions": {"inject": {"actionId": "aws:ec2:terminate-instances", "targets": {"Instances": "Targets"}}},
        "targets": instances(), "stopConditions": alarm_condition("api-5xx")});
    let web = json!({"key": "web", "name": "web-stop-after-warm-up", "tags": {"team": "web"},
        "actions": {
            "warm-up": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT5M"}},
            "inject": {"actionId": "aws:ec2:stop-instances", "targets": {"Instances": "Targets"},
                "startAfter": ["warm-up"]}},
        "targets": instances()});
    let pay = json!({"key": "pay", "name": "pay-latency", "tags": {"team": "payments"},
        "actions": {"inject": {"actionId": "aws:ec2:stop-instances", "targets": {"Instances": "Targets"}}},
        "targets": instances(), "stopConditions": alarm_condition("pay-errors")});
    let (burst, dry, before, wait, failed, manual, empty) =
        (at(2), at(4), at(6), at(8), at(10), at(12), at(14));
    let mut web_run = run("W", "web", "completed", wait, None, json!({}));
    web_run["actions"] = json!({
        "warm-up": {"start": wait, "end": wait + 5 * MINUTE},
        "inject": {"start": wait + 5 * MINUTE, "end": wait + 9 * MINUTE}});
    // Hosts dip 1 minute after the fault (minute 6 of the run) and are back 3 minutes after it.
    let hosts: Vec<Value> = (-20..=45)
        .map(|k| {
            json!([
                wait + k * MINUTE,
                if (6..8).contains(&k) { 1.0 } else { 3.0 }
            ])
        })
        .collect();
    let five_xx = |start: i64| {
        vec![
            json!([start + 2 * MINUTE, 12.0]),
            json!([start + 3 * MINUTE, 30.0]),
        ]
    };
    let web_hosts = json!({"namespace": "AWS/ApplicationELB", "metric": "HealthyHostCount",
        "dimensions": {"LoadBalancer": "app/web/1"}, "points": hosts});
    let alarm = |name: &str, namespace: &str, metric: &str| {
        json!({"name": name,
        "namespace": namespace, "metric": metric, "statistic": "Sum", "period": 60,
        "threshold": 5, "comparison": "GreaterThanThreshold"})
    };
    json!({
        "region": "eu-west-1",
        "templates": [api, web, pay],
        "experiments": [
            // No 5XX at all: CloudWatch publishes no point, the completed zeros say green.
            run("quiet", "api", "completed", at(0), inject(at(0)), json!({})),
            run("burst", "api", "stopped", burst, inject(burst), json!({
                "end": burst + 6 * MINUTE,
                "reason": "Experiment stopped by stop condition api-5xx."})),
            run("dry", "api", "completed", dry, None, json!({
                "options": {"actionsMode": "skip-all"},
                "actions": {"inject": {"status": "skipped"}}})),
            run("before", "api", "completed", before, inject(before), json!({})),
            web_run,
            run("failed", "api", "failed", failed, None, json!({
                "end": failed + MINUTE, "reason": "Experiment failed.",
                "error": {"code": "TargetResolutionFailed", "location": "targets.Targets"}})),
            run("manual", "api", "stopped", manual, inject(manual), json!({
                "end": manual + 4 * MINUTE, "reason": "Experiment stopped by user."})),
            run("empty", "pay", "stopped", empty, inject(empty), json!({
                "end": empty + 5 * MINUTE,
                "reason": "Experiment stopped by stop condition pay-errors."})),
        ],
        "metrics": [
            {"namespace": "AWS/ApplicationELB", "metric": "HTTPCode_Target_5XX_Count",
             "points": five_xx(burst)},
            {"namespace": "Payments", "metric": "Errors", "points": five_xx(empty)},
            web_hosts,
        ],
        "alarms": [
            alarm("api-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
            alarm("pay-errors", "Payments", "Errors"),
        ],
        "alarm_history": [
            {"alarm": "api-5xx", "ts": burst + 150, "to": "ALARM", "reason": "Threshold Crossed"},
            {"alarm": "api-5xx", "ts": burst + 6 * MINUTE, "to": "OK"},
            // Firing since 5 minutes before the fault, quiet 20 minutes after it.
            {"alarm": "api-5xx", "ts": before - 5 * MINUTE, "to": "ALARM", "reason": "Threshold Crossed"},
            {"alarm": "api-5xx", "ts": before + 20 * MINUTE, "to": "OK"},
            {"alarm": "pay-errors", "ts": empty + 150, "to": "ALARM", "reason": "Threshold Crossed"},
            {"alarm": "pay-errors", "ts": empty + 6 * MINUTE, "to": "OK"},
        ],
    })
}

fn row<'a>(json: &'a Value, aws: &StandIns, key: &str) -> &'a Value {
    let id = &aws.ids[key];
    json["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["experiment_id"] == id.as_str())
        .unwrap_or_else(|| panic!("{key} ({id}) is not in the report"))
}

fn codes(row: &Value) -> Vec<&str> {
    row["reason_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect()
}

#[test]
fn revision_2_verdicts_hold_on_an_account_shaped_like_a_real_one() {
    let dir = tempfile::tempdir().unwrap();
    let base = (now_s() - 3 * 24 * HOUR) / HOUR * HOUR;
    let aws = start(&scenario(base), dir.path());
    let config = dir.path().join("checkup.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let ledger = dir.path().join("ledger");
    let output = ingest(&ledger, &aws, &["--config", config.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json = report_json(&ledger, &config, &dir.path().join("reports"));
    let verdict = |key: &str| {
        row(&json, &aws, key)["verdict"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let seconds = |key: &str, field: &str| row(&json, &aws, key)[field].as_f64();

    // A sparse 5XX count with no point at all: completed with zeros, green, nothing to recover.
    assert_eq!(verdict("quiet"), "green", "{}", row(&json, &aws, "quiet"));
    assert_eq!(seconds("quiet", "time_to_recover_s"), Some(0.0));
    // A burst that stopped the run: red, and the recovery is measured on the zero-filled series
    // (above 5 at minutes 2 and 3, back at 4 and held for 3 points).
    assert_eq!(verdict("burst"), "red");
    assert_eq!(codes(row(&json, &aws, "burst"))[0], "alarm_fired");
    assert_eq!(
        (
            seconds("burst", "time_to_impact_s"),
            seconds("burst", "time_to_recover_s")
        ),
        (Some(120.0), Some(240.0))
    );
    // A dry run after that red: inconclusive, and the weakness stays open.
    assert_eq!(verdict("dry"), "inconclusive");
    assert_eq!(row(&json, &aws, "dry")["dry_run"], true);
    let api_weakness = json["weaknesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["template_name"] == "api-instance-loss")
        .expect("the burst opened a weakness");
    assert_eq!(api_weakness["found_by"], aws.ids["burst"].as_str());
    assert_eq!(api_weakness["fixed_by"], Value::Null);
    // The stop-condition alarm was already in ALARM when the fault began: not steady before it.
    assert_eq!(verdict("before"), "inconclusive");
    assert_eq!(codes(row(&json, &aws, "before")), ["alarm_before_fault"]);
    // A warm-up wait places neither t0 nor the times: from the fault action on.
    assert_eq!(verdict("W"), "green", "{}", row(&json, &aws, "W"));
    assert_eq!(
        (
            seconds("W", "time_to_impact_s"),
            seconds("W", "time_to_recover_s")
        ),
        (Some(60.0), Some(180.0))
    );
    // Failed before injecting: inconclusive, with FIS's code and location in the sentence.
    assert_eq!(verdict("failed"), "inconclusive");
    assert_eq!(codes(row(&json, &aws, "failed")), ["nothing_injected"]);
    let sentence = row(&json, &aws, "failed")["reasons"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        sentence.contains("TargetResolutionFailed") && sentence.contains("targets.Targets"),
        "{sentence}"
    );
    // Stopped by hand after the fault began, with no breach: inconclusive.
    assert_eq!(verdict("manual"), "inconclusive");
    assert_eq!(
        codes(row(&json, &aws, "manual")),
        ["stopped_without_breach"]
    );
    // A stop condition that fired is red even though the hypothesis's series has no points.
    assert_eq!(verdict("empty"), "red", "{}", row(&json, &aws, "empty"));
}

/// One template observed through its hosts, run 2, 30 and 100 days ago: at the 1-minute period
/// configured, at the 5-minute period CloudWatch keeps for 15 to 63 days, and at the 1-hour period
/// it keeps for 63 to 455 days. The stand-in answers GetMetricData as CloudWatch does: no points at
/// a period finer than it keeps for the age of the request's start.
fn old_history(now: i64) -> Value {
    let web = json!({"key": "web", "name": "web-instance-stop", "tags": {"team": "web"},
        "actions": {"inject": {"actionId": "aws:ec2:stop-instances", "targets": {"Instances": "Targets"}}},
        "targets": instances()});
    let day = 24 * HOUR;
    let run_at = |days: i64| (now - days * day) / HOUR * HOUR;
    let (recent, month, quarter) = (run_at(2), run_at(30), run_at(100));
    // Hosts drop to 1 from minute 1 to minute 11 after the fault and are back at minute 12.
    let hosts: Vec<Value> = [recent, month, quarter]
        .iter()
        .flat_map(|start| {
            (-20..=45).map(move |k| {
                json!([
                    start + k * MINUTE,
                    if (1..12).contains(&k) { 1.0 } else { 3.0 }
                ])
            })
        })
        .collect();
    let inject = |start: i64| Some((start, start + 9 * MINUTE));
    json!({
        "region": "eu-west-1",
        "templates": [web],
        "experiments": [
            run("recent", "web", "completed", recent, inject(recent), json!({})),
            run("month", "web", "completed", month, inject(month), json!({})),
            run("quarter", "web", "completed", quarter, inject(quarter), json!({})),
        ],
        "metrics": [{"namespace": "AWS/ApplicationELB", "metric": "HealthyHostCount",
            "dimensions": {"LoadBalancer": "app/web/1"}, "points": hosts}],
    })
}

#[test]
fn old_history_is_read_at_the_period_cloudwatch_still_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let aws = start(&old_history(now_s()), dir.path());
    let config = dir.path().join("checkup.toml");
    std::fs::write(
        &config,
        CONFIG
            .replace("web-stop-after-warm-up", "web-instance-stop")
            .replace(r#"recover_within = "5m""#, r#"recover_within = "20m""#),
    )
    .unwrap();
    let ledger = dir.path().join("ledger");
    let output = ingest(&ledger, &aws, &["--config", config.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(
        said.contains("read at 5m and 1h resolution") && said.contains("every 14 days"),
        "{said}"
    );
    let json = report_json_of(&ledger, &config, &dir.path().join("reports"), "last-365d");
    let field = |key: &str, name: &str| row(&json, &aws, key)[name].clone();

    // Two days old: 1-minute points, recovered at minute 12.
    assert_eq!(field("recent", "period_used_s"), 60);
    assert_eq!(field("recent", "verdict"), "green");
    assert_eq!(field("recent", "time_to_impact_s"), 60.0);
    assert_eq!(field("recent", "time_to_recover_s"), 720.0);
    assert!(!codes(row(&json, &aws, "recent")).contains(&"read_at_resolution"));
    // Thirty days old: 5-minute minimums; the dip fills the buckets from 0 to 10, the bucket from
    // minute 15 starts the recovery, and the verdict says the times are known to within 5m.
    assert_eq!(field("month", "period_used_s"), 300);
    assert_eq!(
        field("month", "verdict"),
        "green",
        "{}",
        row(&json, &aws, "month")
    );
    assert_eq!(field("month", "time_to_impact_s"), 0.0);
    assert_eq!(field("month", "time_to_recover_s"), 900.0);
    let month = row(&json, &aws, "month");
    assert_eq!(codes(month).last(), Some(&"read_at_resolution"));
    let sentence = month["reasons"].as_array().unwrap().last().unwrap();
    assert!(sentence.as_str().unwrap().contains("5m"), "{sentence}");
    // A hundred days old: one hourly point from the fault on. Not measurable, and why; never
    // "no data".
    assert_eq!(field("quarter", "period_used_s"), 3600);
    assert_eq!(field("quarter", "verdict"), "inconclusive");
    let quarter = row(&json, &aws, "quarter");
    assert_eq!(codes(quarter), ["coarse_data"]);
    let sentence = quarter["reasons"][0].as_str().unwrap();
    assert!(
        sentence.starts_with("Not measurable") && sentence.contains("1h"),
        "{sentence}"
    );
}
