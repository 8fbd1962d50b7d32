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

/// Fills action times that GetExperiment left out from the experiments' S3 log records, reading
/// up to `concurrency` log objects at once.
pub async fn add_logged_action_times(
    s3: &aws_sdk_s3::Client,
    history: &mut FisHistory,
    concurrency: usize,
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
        let timings =
            fis_logs::read_action_timings(s3, &location, &experiments, concurrency, warnings)
                .await?;
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
    pace: cloudwatch::RequestPace,
    warnings: &mut Vec<String>,
    on_plan: impl FnOnce(usize),
    on_request: impl FnMut(),
) -> Result<Observations, AwsError> {
    let plan = ObservationPlan::of(history, config, now);
    let alarms = describe_alarms(client, &plan, warnings).await?;
    let dashboards = read_dashboards(client, &plan, warnings).await?;
    let sources = SeriesSources {
        config,
        alarms: &alarms,
        dashboards: &dashboards,
    };
    let chosen = choose_series(history, &plan, &sources, now, warnings);

    let requests = plan_requests(&chosen.windows, now);
    on_plan(requests.len());
    let fetched = cloudwatch::fetch_points(client, &requests, pace, warnings, on_request).await?;
    let points = chosen.points(history, &plan, &fetched, warnings);
    let alarm_events = alarm_events(client, &plan, &alarms).await?;
    Ok(Observations {
        planned_requests: requests.len(),
        lower_bound: cloudwatch::lower_bound(&chosen.windows),
        series: chosen.series,
        points,
        alarm_events,
    })
}

/// Which experiments are observed, over which window, with which alarms and dashboards.
struct ObservationPlan {
    /// The observation window of each finished experiment with a fault time, capped at `now`.
    windows_of: BTreeMap<String, (Micros, Micros)>,
    /// The experiments using each stop-condition alarm.
    alarm_users: BTreeMap<String, Vec<String>>,
    /// The experiments using each report dashboard.
    dashboard_users: BTreeMap<String, Vec<String>>,
}

impl ObservationPlan {
    /// Sets each experiment's hypothesis and plans the finished ones.
    fn of(history: &mut FisHistory, config: &Config, now: Micros) -> ObservationPlan {
        let mut actions_by_experiment: HashMap<&str, Vec<&crate::ledger::Action>> = HashMap::new();
        for action in &history.actions {
            actions_by_experiment
                .entry(action.experiment_id.as_str())
                .or_default()
                .push(action);
        }
        let catalog = &config.catalog;
        let mut plan = ObservationPlan {
            windows_of: BTreeMap::new(),
            alarm_users: BTreeMap::new(),
            dashboard_users: BTreeMap::new(),
        };
        for experiment in &mut history.experiments {
            let hypothesis = config.hypothesis_for(
                experiment.template_id.as_deref(),
                experiment.template_name.as_deref(),
                &experiment.tags.to_map(),
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
            let Some((t0, t1)) = experiment.fault_times(actions.iter().copied(), catalog) else {
                continue;
            };
            let id = experiment.experiment_id.clone();
            let (window_start, window_end) = config.window.observation_window(t0, t1);
            plan.windows_of
                .insert(id.clone(), (window_start, window_end.min(now)));
            for alarm in &experiment.stop_condition_alarms {
                let users = plan.alarm_users.entry(alarm.clone()).or_default();
                users.push(id.clone());
            }
            for dashboard in history.dashboards.get(&id).into_iter().flatten() {
                let users = plan.dashboard_users.entry(dashboard.clone()).or_default();
                users.push(id.clone());
            }
        }
        plan
    }
}

/// The stop-condition alarms the plan uses, by name; a warning for each CloudWatch does not know.
async fn describe_alarms(
    client: &aws_sdk_cloudwatch::Client,
    plan: &ObservationPlan,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, AlarmDefinition>, AwsError> {
    let alarm_names: Vec<String> = plan.alarm_users.keys().cloned().collect();
    let alarms = cloudwatch::describe_alarms(client, &alarm_names, warnings).await?;
    for (name, users) in &plan.alarm_users {
        if !alarms.contains_key(name) {
            warnings.push(format!(
                "stop-condition alarm {name} (experiments {}) is not in CloudWatch: DescribeAlarms does not know it, so its series and state changes are left out",
                users.join(", ")
            ));
        }
    }
    Ok(alarms)
}

/// The metrics of each report dashboard the plan uses; a warning for each missing or unreadable.
async fn read_dashboards(
    client: &aws_sdk_cloudwatch::Client,
    plan: &ObservationPlan,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, Vec<MetricKey>>, AwsError> {
    let mut dashboards = BTreeMap::new();
    for (name, users) in &plan.dashboard_users {
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
    Ok(dashboards)
}

/// The series chosen for the observed experiments, and what must be read for them.
struct ChosenSeries<'c> {
    /// Stored series (inputs of metric math are read, not stored).
    series: Vec<MetricSeries>,
    /// Every metric read, with its window.
    windows: Vec<SeriesWindow>,
    /// (experiment, series, expression): computed from the inputs once they are read.
    expressions: Vec<(String, String, &'c MetricExpression)>,
}

/// Where series come from: the hypotheses, and the alarms and dashboards CloudWatch described.
struct SeriesSources<'a> {
    config: &'a Config,
    alarms: &'a BTreeMap<String, AlarmDefinition>,
    dashboards: &'a BTreeMap<String, Vec<MetricKey>>,
}

/// The series of each experiment, most specific origin first (hypothesis, stop-condition alarm,
/// dashboard); a metric already observed by a more specific origin is not added again. Each is
/// asked for at the finest period CloudWatch still keeps for its window's age
/// (`cloudwatch::period_kept`: a finer one returns no points at all), and records the period used;
/// one warning sums up the windows read coarser than configured.
fn choose_series<'c>(
    history: &FisHistory,
    plan: &ObservationPlan,
    sources: &SeriesSources<'c>,
    now: Micros,
    warnings: &mut Vec<String>,
) -> ChosenSeries<'c> {
    let SeriesSources {
        config,
        alarms,
        dashboards,
    } = *sources;
    let mut coarsened: BTreeSet<i64> = BTreeSet::new();
    let mut chosen = ChosenSeries {
        series: Vec::new(),
        windows: Vec::new(),
        expressions: Vec::new(),
    };
    for experiment in &history.experiments {
        let Some(&(start, end)) = plan.windows_of.get(&experiment.experiment_id) else {
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
                chosen
                    .expressions
                    .push((id.to_string(), s.id.clone(), expression));
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
        for s in &mut series {
            let used = cloudwatch::period_at(s.period_s, start, now);
            if used != s.period_s {
                coarsened.insert(used);
                s.period_s = used;
            }
        }
        if series.is_empty() {
            warnings.push(format!(
                "experiment {id} ({}) has no series: no [[hypothesis]] in checkup.toml matches it and it has no stop-condition alarm or report dashboard, so it will be inconclusive",
                experiment.template_name.as_deref().unwrap_or("no template name")
            ));
        }
        for s in series.iter().filter(|s| s.namespace != METRIC_MATH) {
            chosen.windows.push(SeriesWindow {
                experiment_id: id.to_string(),
                series_id: s.series_id.clone(),
                key: MetricKey::of(s),
                start,
                end,
            });
        }
        chosen
            .series
            .extend(series.into_iter().filter(|s| s.kind != SeriesKind::Input));
    }
    if !coarsened.is_empty() {
        let resolutions: Vec<String> = coarsened
            .iter()
            .map(|period| crate::vocab::format::format_duration(*period as f64))
            .collect();
        warnings.push(format!(
            "some observation windows are older than CloudWatch keeps 1-minute data (15 days), so their series were read at {} resolution; runs whose recovery cannot be seen at that resolution are not measurable. Ingest at least every 14 days to keep 1-minute data (README: How old history is read)",
            resolutions.join(" and ")
        ));
    }
    chosen
}

impl ChosenSeries<'_> {
    /// The points of the stored series: read ones as CloudWatch gave them, metric math computed
    /// from its inputs; a warning for each level series without points.
    fn points(
        &self,
        history: &FisHistory,
        plan: &ObservationPlan,
        fetched: &cloudwatch::FetchedPoints,
        warnings: &mut Vec<String>,
    ) -> PointColumns {
        let month_of: HashMap<&str, String> = history
            .experiments
            .iter()
            .map(|e| (e.experiment_id.as_str(), e.month()))
            .collect();
        let kind_of: HashMap<(&str, &str), (SeriesKind, bool)> = self
            .series
            .iter()
            .map(|s| {
                let count = s.is_count();
                (
                    (s.experiment_id.as_str(), s.series_id.as_str()),
                    (s.kind, count),
                )
            })
            .collect();
        let read: HashMap<(&str, &str), &[(Micros, f64)]> = self
            .windows
            .iter()
            .map(|w| {
                let key = (w.experiment_id.as_str(), w.series_id.as_str());
                (key, cloudwatch::points_of(w, fetched))
            })
            .collect();
        let mut points = PointColumns::default();
        let mut store = |experiment_id: &str,
                         series_id: &str,
                         found: &[(Micros, f64)],
                         what: String| {
            let (kind, count) = kind_of.get(&(experiment_id, series_id)).copied().unzip();
            // CloudWatch publishes no datapoint for a zero count (judging completes counts with
            // zeros), so only a level series of another statistic without points is news; inputs
            // are not stored.
            if found.is_empty() && kind == Some(SeriesKind::Level) && count == Some(false) {
                let (start, end) = plan.windows_of[experiment_id];
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
        for window in &self.windows {
            let found = read[&(window.experiment_id.as_str(), window.series_id.as_str())];
            let key = &window.key;
            let what = format!("{} {} {}", key.namespace, key.metric, key.stat);
            store(&window.experiment_id, &window.series_id, found, what);
        }
        for (experiment_id, series_id, expression) in &self.expressions {
            let inputs: BTreeMap<&str, &[(Micros, f64)]> = expression
                .expr
                .series_ids()
                .into_iter()
                .map(|input| {
                    let found = read.get(&(experiment_id.as_str(), input)).copied();
                    (input, found.unwrap_or_default())
                })
                .collect();
            let computed = metric_math::evaluate(&expression.expr, &inputs);
            let what = format!("metric math {}", expression.text);
            store(experiment_id, series_id, &computed, what);
        }
        points
    }
}

/// State changes of the stop-condition alarms over the windows of the experiments using them.
async fn alarm_events(
    client: &aws_sdk_cloudwatch::Client,
    plan: &ObservationPlan,
    alarms: &BTreeMap<String, AlarmDefinition>,
) -> Result<Vec<AlarmEvent>, AwsError> {
    let mut events = Vec::new();
    for (name, users) in &plan.alarm_users {
        if !alarms.contains_key(name) {
            continue;
        }
        let spans: Vec<(Micros, Micros)> = users
            .iter()
            .filter_map(|id| plan.windows_of.get(id).copied())
            .collect();
        let (Some(start), Some(end)) = (
            spans.iter().map(|s| s.0).min(),
            spans.iter().map(|s| s.1).max(),
        ) else {
            continue;
        };
        events.extend(cloudwatch::alarm_history(client, name, start, end).await?);
    }
    Ok(events)
}
