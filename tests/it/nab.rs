//! Real CloudWatch data: NAB's realAWSCloudwatch series (5-minute periods, DST duplicates, gaps,
//! misaligned timestamps) through recovery detection. A fault is "injected" at the start of each
//! labelled anomaly window; the baseline band learned before it must find the labelled anomaly
//! inside the window. Data: ../shared/data/nab-aws-cloudwatch (MIT, see its SOURCE.md).

use std::collections::BTreeMap;
use std::path::PathBuf;

use checkup::analyze::recovery::{
    ExperimentInput, ObservedSeries, SeriesResult, analyze_experiment,
};
use checkup::analyze::{JudgeInput, judge_experiments, series_rules};
use checkup::config::WindowSettings;
use checkup::ledger::{Experiment, MetricSeries, series_frame};
use checkup::vocab::Verdict;
use checkup::vocab::catalog::ActionCatalog;
use checkup::vocab::time::Micros;
use chrono::NaiveDateTime;

fn nab_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/nab-aws-cloudwatch");
    assert!(
        dir.is_dir(),
        "{} is missing: the tests read the shared data beside the checkout",
        dir.display()
    );
    dir
}

/// NAB timestamps are naive wall-clock times; they are read as UTC, as a user importing them would.
fn parse_time(text: &str) -> Micros {
    let text = text.trim();
    let parsed = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
        .unwrap_or_else(|error| panic!("bad NAB timestamp {text}: {error}"));
    parsed.and_utc().timestamp_micros()
}

fn read_series(file: &str) -> (Vec<Micros>, Vec<f64>) {
    let text = std::fs::read_to_string(nab_dir().join("data").join(file)).unwrap();
    let mut points: Vec<(Micros, f64)> = text
        .lines()
        .skip(1)
        .map(|line| {
            let (ts, value) = line.split_once(',').unwrap();
            (parse_time(ts), value.trim().parse().unwrap())
        })
        .collect();
    // Stable sort keeps the DST duplicates (several rows at 03:00) in file order.
    points.sort_by_key(|(ts, _)| *ts);
    points.into_iter().unzip()
}

/// An experiment on the series from `start` to `end`, observed until `post_s` after its end.
fn injection(
    file: &str,
    start: Micros,
    end: Micros,
    post_s: f64,
    ts: &[Micros],
    values: &[f64],
) -> checkup::analyze::ExperimentOutcome {
    let experiment = Experiment {
        experiment_id: format!("nab-{file}-{start}"),
        source: checkup::vocab::Source::from_name("demo").unwrap(),
        account_id: None,
        region: None,
        template_id: None,
        template_name: None,
        description: None,
        status: checkup::vocab::Status::from_name("completed").unwrap(),
        status_reason: None,
        created_at: start,
        started_at: Some(start),
        ended_at: Some(end),
        environment: None,
        team: None,
        service: None,
        trigger: None,
        tags: Default::default(),
        stop_condition_alarms: vec![],
        stop_condition_triggered: false,
        blast_radius: vec![],
        hypothesis: None,
        recover_within_s: None,
        ingested_at: start,
        actions_mode: None,
        resolved_targets: None,
    };
    let series = MetricSeries {
        experiment_id: experiment.experiment_id.clone(),
        series_id: file.to_string(),
        namespace: "AWS/EC2".into(),
        metric: "nab".into(),
        stat: "Average".into(),
        dimensions: BTreeMap::new(),
        period_s: 300,
        unit: None,
        origin: checkup::vocab::Origin::from_name("dashboard").unwrap(),
        steady: "baseline".into(),
        limit: None,
        kind: checkup::vocab::SeriesKind::from_name("level").unwrap(),
        budget: None,
        outage: None,
    };
    let observed = [ObservedSeries {
        series: (&series).into(),
        ts,
        values,
    }];
    let catalog = ActionCatalog::built_in();
    let input = ExperimentInput {
        experiment: &experiment,
        actions: &[],
        catalog: &catalog,
        recover_within_s: None,
        series: &observed,
        alarm_changes: &[],
    };
    // Six hours of history (72 five-minute points) teach the baseline.
    let settings = WindowSettings {
        pre_s: 6.0 * 3600.0,
        post_s,
        hold: 3,
        ..WindowSettings::default()
    };
    let reference = analyze_experiment(&input, &settings);

    // The path a report takes: the series and points as ledger columns, judged from them.
    let series_table = series_frame(std::slice::from_ref(&series), |_| "2015-01".into()).unwrap();
    let points = polars::df!(
        "experiment_id" => vec![experiment.experiment_id.as_str(); ts.len()],
        "series_id" => vec![file; ts.len()],
        "ts" => ts,
        "value" => values,
    )
    .unwrap();
    let columnar = judge_experiments(
        &JudgeInput {
            experiments: std::slice::from_ref(&experiment),
            actions: &[],
            series: series_rules(&series_table).unwrap(),
            points: &points,
            alarm_events: &[],
            catalog: &catalog,
            rto_by_service: &BTreeMap::new(),
        },
        &settings,
    )
    .unwrap();
    assert_eq!(columnar, [reference.clone()], "judged from columns: {file}");
    reference
}

#[test]
fn labelled_anomalies_are_found_inside_their_windows() {
    let labels_dir = nab_dir().join("labels");
    let windows: BTreeMap<String, Vec<[String; 2]>> = serde_json::from_str(
        &std::fs::read_to_string(labels_dir.join("combined_windows.realAWSCloudwatch.json"))
            .unwrap(),
    )
    .unwrap();
    let labels: BTreeMap<String, Vec<String>> = serde_json::from_str(
        &std::fs::read_to_string(labels_dir.join("combined_labels.realAWSCloudwatch.json"))
            .unwrap(),
    )
    .unwrap();
    let (mut windows_checked, mut impacts_inside, mut anomalies, mut anomalies_flagged) =
        (0, 0, 0, 0);
    let mut misses = Vec::new();
    for (key, windows) in &windows {
        let file = key.trim_start_matches("realAWSCloudwatch/");
        let (ts, values) = read_series(file);
        for [start, end] in windows {
            let (start, end) = (parse_time(start), parse_time(end));
            // The observation window closes at the labelled window's end.
            let outcome = injection(file, start, end, 0.0, &ts, &values);
            windows_checked += 1;
            assert_ne!(
                outcome.verdict,
                Verdict::Inconclusive,
                "{file}: {:?}",
                outcome.reasons
            );
            let Some(SeriesResult::Level(level)) = outcome.series.first().map(|(_, result)| result)
            else {
                panic!("{file}: no level result")
            };
            if level
                .impact_at
                .is_some_and(|impact| impact >= start && impact <= end)
            {
                impacts_inside += 1;
            }
            // The band learned before the window must flag the labelled anomaly point itself.
            for label in labels[key]
                .iter()
                .map(|label| parse_time(label))
                .filter(|label| (start..=end).contains(label))
            {
                let nearest = ts.partition_point(|t| *t < label).min(ts.len() - 1);
                anomalies += 1;
                if level.band.contains(values[nearest]) {
                    misses.push(format!(
                        "{file} at {label}: {} inside {:?}",
                        values[nearest], level.band
                    ));
                } else {
                    anomalies_flagged += 1;
                }
            }
        }
    }
    eprintln!(
        "NAB: {windows_checked} windows, {impacts_inside} with an impact inside, {anomalies_flagged} of {anomalies} labelled anomalies outside the baseline band"
    );
    assert!(windows_checked >= 30, "{windows_checked} windows");
    // The band widened for metrics that routinely leave it (Band::from_baseline) accepts some
    // labelled anomalies that the six hours before already matched.
    assert!(
        impacts_inside * 10 >= windows_checked * 8,
        "{impacts_inside} of {windows_checked} windows show an impact"
    );
    assert!(anomalies >= 30, "{anomalies} labelled anomalies");
    assert!(
        anomalies_flagged * 10 >= anomalies * 8,
        "{anomalies_flagged} of {anomalies} flagged; missed: {misses:#?}"
    );
}

#[test]
fn the_series_without_anomalies_is_unaffected_by_its_routine() {
    // NAB labels no anomaly in ec2_cpu_utilization_c6585a: an idle instance near 0.066% CPU with a
    // short burst to about 0.13% every hour (a cron job) and rare bursts above 1%. An experiment
    // placed every six hours on it, with a band learned from the six hours before (SPEC section 6:
    // median ± max(3 × 1.4826 × MAD, 5%), widened to the baseline's 5th–95th percentiles when
    // the metric routinely leaves it before the fault), must stay unaffected by its routine: no
    // impact except where the series jumps above anything it did in the six hours before.
    let file = "ec2_cpu_utilization_c6585a.csv";
    let (ts, values) = read_series(file);
    let minute = 60_000_000;
    let (mut runs, mut impacted) = (0, 0);
    // A 10-minute experiment every six hours, observed for the default 30 minutes after it.
    let mut t0 = ts[0] + 360 * minute;
    while t0 + 40 * minute <= *ts.last().unwrap() {
        let outcome = injection(file, t0, t0 + 10 * minute, 1800.0, &ts, &values);
        runs += 1;
        let Some(SeriesResult::Level(level)) = outcome.series.first().map(|(_, r)| r) else {
            panic!("{file} at {t0}: {:?}", outcome.reasons)
        };
        if let Some(impact_at) = level.impact_at {
            impacted += 1;
            let baseline_max = ts
                .iter()
                .zip(&values)
                .filter(|(t, _)| (t0 - 360 * minute..t0).contains(*t))
                .map(|(_, v)| *v)
                .fold(f64::MIN, f64::max);
            let value = values[ts.partition_point(|t| *t < impact_at)];
            // Only a value beyond anything of the six hours before counts as an impact; such a
            // spike near the window's end may even leave too few points to see a recovery (red).
            assert!(
                value > baseline_max,
                "{file} at {t0}: impact at {value}, within the baseline's own range (max {baseline_max})"
            );
        }
        t0 += 360 * minute;
    }
    eprintln!("NAB control: {runs} runs, {impacted} with an impact above the baseline's range");
    assert!(runs >= 50, "{runs} runs");
    assert!(impacted * 10 <= runs, "{impacted} of {runs} runs impacted");
}
