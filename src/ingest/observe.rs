//! What an FIS ingest reads around the experiments: action times from S3 logs, then the series of
//! SPEC section 5 (hypotheses of `checkup.toml`, stop-condition alarms, report dashboards) over
//! each finished experiment's observation window, and the alarms' state changes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::aws::AwsError;
use crate::config::Config;
use crate::ingest::cloudwatch::{
    self, AlarmDefinition, METRIC_MATH, MetricKey, SeriesWindow, dashboard_metrics, plan_requests,
};
use crate::ingest::fis::FisHistory;
use crate::ingest::fis_logs::{self, LogLocation};
use crate::ledger::{AlarmEvent, MetricSeries, PointColumns};
use crate::vocab::SeriesKind;
use crate::vocab::metric_math::{self, MetricExpression};
use crate::vocab::time::{Micros, format_rfc3339};

/// The series, points and alarm events read for a history, and how the reading went.
#[derive(Debug, Default)]
pub struct Observations {
    pub series: Vec<MetricSeries>,
    pub points: PointColumns,
    pub alarm_events: Vec<AlarmEvent>,
    /// GetMetricData requests planned, and SPEC section 12's lower bound for the same queries.
    pub planned_requests: usize,
    pub lower_bound: usize,
}

/// Fills action times that GetExperiment left out from the experiments' S3 log records.
pub async fn add_logged_action_times(
    s3: &aws_sdk_s3::Client,
    history: &mut FisHistory,
    warnings: &mut Vec<String>,
) -> Result<(), AwsError> {
    let mut by_location: BTreeMap<LogLocation, Vec<(String, Micros, Micros)>> = BTreeMap::new();
    for experiment in &history.experiments {
        if let Some(location) = history.log_locations.get(&experiment.experiment_id) {
            let start = experiment.start();
            let end = experiment.ended_at.unwrap_or(start);
            by_location.entry(location.clone()).or_default().push((
                experiment.experiment_id.clone(),
                start,
                end,
            ));
        }
    }
    for (location, experiments) in by_location {
        let timings = fis_logs::read_action_timings(s3, &location, &experiments, warnings).await?;
        for action in &mut history.actions {
            let Some(timing) =
                timings.get(&(action.experiment_id.clone(), action.action_name.clone()))
            else {
                continue;
            };
            action.started_at = action.started_at.or(timing.started_at);
            action.ended_at = action.ended_at.or(timing.ended_at);
            if action.status.is_empty()
                && let Some(status) = &timing.status
            {
                action.status = status.clone();
            }
        }
    }
    Ok(())
}

/// Gives each experiment its hypothesis from `checkup.toml` (first match wins) and reads the
/// series, points and alarm events of the finished ones. `now` caps every window (points after
/// it do not exist yet). `on_request` runs after each GetMetricData request; `on_plan` gets their
/// number before the first.
pub async fn observe(
    client: &aws_sdk_cloudwatch::Client,
    history: &mut FisHistory,
    config: &Config,
    now: Micros,
    warnings: &mut Vec<String>,
    on_plan: impl FnOnce(usize),
    on_request: impl FnMut(),
) -> Result<Observations, AwsError> {
    let actions_by_experiment: HashMap<&str, Vec<&crate::ledger::Action>> =
        history.actions.iter().fold(HashMap::new(), |mut map, a| {
            map.entry(a.experiment_id.as_str()).or_default().push(a);
            map
        });

    // Which experiments are observed, over which window, with which alarms and dashboards.
    let mut windows_of: BTreeMap<String, (Micros, Micros)> = BTreeMap::new();
    let mut alarm_users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut dashboard_users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for experiment in &mut history.experiments {
        let hypothesis = config.hypothesis_for(
            experiment.template_id.as_deref(),
            experiment.template_name.as_deref(),
            &experiment.tags,
        );
        experiment.hypothesis = hypothesis.map(|h| h.name.clone());
        experiment.recover_within_s = hypothesis.and_then(|h| h.recover_within_s);
        if !experiment.status.is_finished() {
            continue;
        }
        let actions = actions_by_experiment
            .get(experiment.experiment_id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let Some((t0, t1)) = experiment.fault_times(actions.iter().copied()) else {
            continue;
        };
        let id = experiment.experiment_id.clone();
        let (window_start, window_end) = config.window.observation_window(t0, t1);
        windows_of.insert(id.clone(), (window_start, window_end.min(now)));
        for alarm in &experiment.stop_condition_alarms {
            alarm_users
                .entry(alarm.clone())
                .or_default()
                .push(id.clone());
        }
        for dashboard in history.dashboards.get(&id).into_iter().flatten() {
            dashboard_users
                .entry(dashboard.clone())
                .or_default()
                .push(id.clone());
        }
    }

    let alarm_names: Vec<String> = alarm_users.keys().cloned().collect();
    let alarms = cloudwatch::describe_alarms(client, &alarm_names, warnings).await?;
    for (name, users) in &alarm_users {
        if !alarms.contains_key(name) {
            warnings.push(format!(
                "stop-condition alarm {name} (experiments {}) is not in CloudWatch: DescribeAlarms does not know it, so its series and state changes are left out",
                users.join(", ")
            ));
        }
    }
    let mut dashboards: BTreeMap<String, Vec<MetricKey>> = BTreeMap::new();
    for (name, users) in &dashboard_users {
        match cloudwatch::dashboard_body(client, name).await? {
            None => warnings.push(format!(
                "dashboard {name} of the report configuration (experiments {}) does not exist in CloudWatch (GetDashboard: ResourceNotFound); its metrics are left out",
                users.join(", ")
            )),
            Some(body) => match dashboard_metrics(&body) {
                Ok(metrics) => {
                    dashboards.insert(name.clone(), metrics);
                }
                Err(why) => warnings.push(format!(
                    "dashboard {name}: {why}; its metrics are left out"
                )),
            },
        }
    }

    // The series of each experiment, most specific origin first; a metric already observed by a
    // more specific origin is not added again. Inputs of metric math are read, not stored;
    // expressions are computed from them.
    let mut observations = Observations::default();
    let mut windows = Vec::new();
    let mut expressions: Vec<(String, String, &MetricExpression)> = Vec::new();
    for experiment in &history.experiments {
        let Some(&(start, end)) = windows_of.get(&experiment.experiment_id) else {
            continue;
        };
        let id = experiment.experiment_id.as_str();
        let hypothesis = config
            .hypotheses
            .iter()
            .find(|h| Some(&h.name) == experiment.hypothesis.as_ref());
        let mut series: Vec<MetricSeries> = hypothesis
            .map(|h| cloudwatch::hypothesis_series(id, h))
            .unwrap_or_default();
        for s in hypothesis.into_iter().flat_map(|h| &h.series) {
            if let Some(expression) = &s.expression {
                expressions.push((id.to_string(), s.id.clone(), expression));
            }
        }
        let alarm_series = experiment
            .stop_condition_alarms
            .iter()
            .filter_map(|name| alarms.get(name))
            .map(|alarm: &AlarmDefinition| cloudwatch::alarm_series(id, alarm));
        let dashboard_series = history
            .dashboards
            .get(id)
            .into_iter()
            .flatten()
            .flat_map(|name| {
                dashboards
                    .get(name)
                    .into_iter()
                    .flatten()
                    .map(move |key| cloudwatch::dashboard_series(id, name, key))
            });
        let mut seen: BTreeSet<MetricKey> = series.iter().map(MetricKey::of).collect();
        let mut ids: BTreeSet<String> = series.iter().map(|s| s.series_id.clone()).collect();
        for candidate in alarm_series.chain(dashboard_series).collect::<Vec<_>>() {
            if seen.insert(MetricKey::of(&candidate)) && ids.insert(candidate.series_id.clone()) {
                series.push(candidate);
            }
        }
        if series.is_empty() {
            warnings.push(format!(
                "experiment {id} ({}) has no series: no [[hypothesis]] in checkup.toml matches it and it has no stop-condition alarm or report dashboard, so it will be inconclusive",
                experiment.template_name.as_deref().unwrap_or("no template name")
            ));
        }
        for s in series.iter().filter(|s| s.namespace != METRIC_MATH) {
            windows.push(SeriesWindow {
                experiment_id: id.to_string(),
                series_id: s.series_id.clone(),
                key: MetricKey::of(s),
                start,
                end,
            });
        }
        observations
            .series
            .extend(series.into_iter().filter(|s| s.kind != SeriesKind::Input));
    }

    let requests = plan_requests(&windows);
    observations.planned_requests = requests.len();
    observations.lower_bound = cloudwatch::lower_bound(&windows);
    on_plan(requests.len());
    let fetched = cloudwatch::fetch_points(client, &requests, warnings, on_request).await?;

    let month_of: HashMap<&str, String> = history
        .experiments
        .iter()
        .map(|e| (e.experiment_id.as_str(), e.month()))
        .collect();
    let kind_of: HashMap<(&str, &str), SeriesKind> = observations
        .series
        .iter()
        .map(|s| ((s.experiment_id.as_str(), s.series_id.as_str()), s.kind))
        .collect();
    let read: HashMap<(&str, &str), (&SeriesWindow, &[(Micros, f64)])> = windows
        .iter()
        .map(|w| {
            (
                (w.experiment_id.as_str(), w.series_id.as_str()),
                (w, cloudwatch::points_of(w, &fetched)),
            )
        })
        .collect();
    let mut points = PointColumns::default();
    let mut store = |experiment_id: &str,
                     series_id: &str,
                     found: &[(Micros, f64)],
                     what: String| {
        let kind = kind_of.get(&(experiment_id, series_id)).copied();
        // CloudWatch publishes no datapoint for a zero count, so only a level series without
        // points is news; inputs are not stored.
        if found.is_empty() && kind == Some(SeriesKind::Level) {
            let (start, end) = windows_of[experiment_id];
            warnings.push(format!(
                "experiment {experiment_id}: series {series_id} ({what}) has no data points between {} and {}, so the experiment will be inconclusive",
                format_rfc3339(start),
                format_rfc3339(end)
            ));
        }
        if kind.is_none() || kind == Some(SeriesKind::Input) {
            return;
        }
        let month = month_of.get(experiment_id).cloned().unwrap_or_default();
        for &(ts, value) in found {
            points.push(experiment_id, &month, series_id, ts, value);
        }
    };
    for window in &windows {
        let (_, found) = read[&(window.experiment_id.as_str(), window.series_id.as_str())];
        let what = format!(
            "{} {} {}",
            window.key.namespace, window.key.metric, window.key.stat
        );
        store(&window.experiment_id, &window.series_id, found, what);
    }
    for (experiment_id, series_id, expression) in &expressions {
        let inputs: BTreeMap<&str, &[(Micros, f64)]> = expression
            .expr
            .series_ids()
            .into_iter()
            .map(|input| {
                let found = read
                    .get(&(experiment_id.as_str(), input))
                    .map(|(_, found)| *found)
                    .unwrap_or_default();
                (input, found)
            })
            .collect();
        let computed = metric_math::evaluate(&expression.expr, &inputs);
        store(
            experiment_id,
            series_id,
            &computed,
            format!("metric math {}", expression.text),
        );
    }
    observations.points = points;

    // State changes of the stop-condition alarms over the windows of the experiments using them.
    for (name, users) in &alarm_users {
        if !alarms.contains_key(name) {
            continue;
        }
        let spans: Vec<(Micros, Micros)> = users
            .iter()
            .filter_map(|id| windows_of.get(id).copied())
            .collect();
        let (Some(start), Some(end)) = (
            spans.iter().map(|s| s.0).min(),
            spans.iter().map(|s| s.1).max(),
        ) else {
            continue;
        };
        observations
            .alarm_events
            .extend(cloudwatch::alarm_history(client, name, start, end).await?);
    }
    Ok(observations)
}
