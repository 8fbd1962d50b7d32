//! CloudWatch: the series of SPEC section 5 around each experiment, read with GetMetricData
//! requests packed across experiments; stop-condition alarms (DescribeAlarms) and their state
//! changes (DescribeAlarmHistory); the dashboards of a report configuration (GetDashboard).
//!
//! Planning is pure ([`plan_requests`], [`lower_bound`]) so the packing can be checked without a
//! network; the async functions only send what the plan says.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{
    AlarmType, ComparisonOperator, Dimension, HistoryItemType, Metric, MetricDataQuery, MetricStat,
    StatusCode,
};

use crate::aws::{AwsError, aws_error, date_time_of, error_code, micros_of};
use crate::config::Hypothesis;
use crate::ledger::{AlarmEvent, MetricSeries};
use crate::vocab::time::{MICROS_PER_SECOND, Micros};
use crate::vocab::{AlarmState, Origin, SeriesKind};

/// GetMetricData's limits: queries and data points in one request.
pub const MAX_QUERIES: usize = 500;
pub const MAX_POINTS: i64 = 100_800;

/// One CloudWatch metric at one statistic and period: what a MetricStat query asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricKey {
    pub namespace: String,
    pub metric: String,
    pub dimensions: BTreeMap<String, String>,
    pub stat: String,
    pub period_s: i64,
}

impl MetricKey {
    pub fn of(series: &MetricSeries) -> MetricKey {
        MetricKey {
            namespace: series.namespace.clone(),
            metric: series.metric.clone(),
            dimensions: series.dimensions.clone(),
            stat: series.stat.clone(),
            period_s: series.period_s.max(1),
        }
    }
}

/// How much older a window may be when its request is sent than when its period was chosen: an
/// ingest of a long history takes minutes, and a window at the edge of a retention tier must not
/// cross it in between (it would come back empty).
pub const AGE_MARGIN: Micros = 3600 * MICROS_PER_SECOND;

/// The period CloudWatch still returns for a window starting at `start`, asked at `now`: the
/// configured `period_s` rounded up to what it keeps for that age (`period_kept`), with
/// `AGE_MARGIN` for the time until the request is sent.
pub fn period_at(period_s: i64, start: Micros, now: Micros) -> i64 {
    period_kept(period_s, now - start + AGE_MARGIN)
}

/// The finest period CloudWatch still returns for data whose window started `age` ago: a period
/// finer than it keeps returns no points at all (MetricStat.Period, GetMetricData): within 3 hours
/// any, then a multiple of 60 s up to 15 days, of 300 s up to 63 days, of 3600 s beyond (hourly
/// data is kept 455 days). The configured period is rounded up to that multiple.
pub fn period_kept(period_s: i64, age: Micros) -> i64 {
    const HOUR: Micros = 3600 * MICROS_PER_SECOND;
    const DAY: Micros = 24 * HOUR;
    let multiple = match age {
        age if age <= 3 * HOUR => 1,
        age if age <= 15 * DAY => 60,
        age if age <= 63 * DAY => 300,
        _ => 3600,
    };
    let period_s = period_s.max(1);
    period_s.div_euclid(multiple) * multiple
        + if period_s % multiple == 0 {
            0
        } else {
            multiple
        }
}

/// One series of one experiment over its observation window `[start, end]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesWindow {
    pub experiment_id: String,
    pub series_id: String,
    pub key: MetricKey,
    pub start: Micros,
    pub end: Micros,
}

/// One GetMetricData request: every metric over one shared time range.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRequest {
    pub start: Micros,
    pub end: Micros,
    pub metrics: Vec<MetricKey>,
}

impl MetricRequest {
    /// The most points the request can return: every metric has a point in every period.
    pub fn max_points(&self) -> i64 {
        self.metrics
            .iter()
            .map(|m| periods(self.start, self.end, m.period_s))
            .sum()
    }
}

fn periods(start: Micros, end: Micros, period_s: i64) -> i64 {
    let period = period_s * MICROS_PER_SECOND;
    ((end - start).max(0) + period - 1) / period
}

fn floor_to(ts: Micros, period_s: i64) -> Micros {
    ts.div_euclid(period_s * MICROS_PER_SECOND) * period_s * MICROS_PER_SECOND
}

fn ceil_to(ts: Micros, period_s: i64) -> Micros {
    let period = period_s * MICROS_PER_SECOND;
    (ts + period - 1).div_euclid(period) * period
}

/// SPEC section 12's lower bound on requests: `max(ceil(queries / 500), ceil(points / 100,800))`,
/// counting one query and its own window's points per series of each experiment.
pub fn lower_bound(windows: &[SeriesWindow]) -> usize {
    let points: i64 = windows
        .iter()
        .map(|w| periods(w.start, w.end, w.key.period_s))
        .sum();
    let by_queries = windows.len().div_ceil(MAX_QUERIES);
    let by_points = (points as usize).div_ceil(MAX_POINTS as usize);
    by_queries.max(by_points)
}

/// Packs the series windows into GetMetricData requests. A request has one time range for all
/// its queries, so windows are taken in time order and a request grows while its queries (one per
/// distinct metric: experiments of one template share them) stay within 500 and the points the
/// whole range can hold stay within 100,800. Windows too long for one request are split first.
/// CloudWatch keeps older data only at coarser periods, judged by a request's start: a window
/// joins a request only when its period is still kept at the age of the request's start (asked at
/// `now`), so a 5-minute window never rides in a request that starts in the 1-hour tier.
pub fn plan_requests(windows: &[SeriesWindow], now: Micros) -> Vec<MetricRequest> {
    let mut pieces: Vec<(Micros, Micros, &MetricKey)> = Vec::new();
    for w in windows {
        let period = w.key.period_s;
        let mut start = floor_to(w.start, period);
        let end = ceil_to(w.end.max(w.start + 1), period);
        let longest = MAX_POINTS * period * MICROS_PER_SECOND;
        while end - start > longest {
            pieces.push((start, start + longest, &w.key));
            start += longest;
        }
        pieces.push((start, end, &w.key));
    }
    pieces.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));

    let mut requests = Vec::new();
    let mut current: Option<(Micros, Micros, BTreeSet<&MetricKey>)> = None;
    for (start, end, key) in pieces {
        if let Some((group_start, group_end, metrics)) = &mut current {
            let new_end = (*group_end).max(end);
            let is_new = !metrics.contains(key);
            let queries = metrics.len() + usize::from(is_new);
            let points: i64 = metrics
                .iter()
                .copied()
                .chain(is_new.then_some(key))
                .map(|m| periods(*group_start, new_end, m.period_s))
                .sum();
            let still_kept = period_at(key.period_s, *group_start, now) == key.period_s;
            if queries <= MAX_QUERIES && points <= MAX_POINTS && still_kept {
                *group_end = new_end;
                metrics.insert(key);
                continue;
            }
        }
        if let Some(done) = current.take() {
            requests.push(request_of(done));
        }
        current = Some((start, end, BTreeSet::from([key])));
    }
    if let Some(done) = current {
        requests.push(request_of(done));
    }
    requests
}

fn request_of((start, end, metrics): (Micros, Micros, BTreeSet<&MetricKey>)) -> MetricRequest {
    MetricRequest {
        start,
        end,
        metrics: metrics.into_iter().cloned().collect(),
    }
}

/// Points read per metric, sorted by time.
pub type FetchedPoints = HashMap<MetricKey, Vec<(Micros, f64)>>;

/// How GetMetricData requests go out: at most `concurrency` in flight, and no more than
/// `per_second` started each second (CloudWatch allows 50 a second per account and region by
/// default; the default stays well under it, as other tools share the quota).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestPace {
    pub concurrency: usize,
    pub per_second: f64,
}

impl Default for RequestPace {
    fn default() -> Self {
        RequestPace {
            concurrency: 4,
            per_second: 20.0,
        }
    }
}

/// Spaces the starts of requests `1 / per_second` apart, whichever task asks.
struct Pacer {
    next: tokio::sync::Mutex<tokio::time::Instant>,
    gap: std::time::Duration,
}

impl Pacer {
    fn new(per_second: f64) -> Pacer {
        Pacer {
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
            gap: std::time::Duration::from_secs_f64(1.0 / per_second.max(0.001)),
        }
    }

    async fn wait(&self) {
        let start = {
            let mut next = self.next.lock().await;
            let start = (*next).max(tokio::time::Instant::now());
            *next = start + self.gap;
            start
        };
        tokio::time::sleep_until(start).await;
    }
}

/// What one request gave: points per metric index, and the warnings of its answers.
type RequestAnswer = (Vec<(usize, Vec<(Micros, f64)>)>, Vec<String>);

/// Sends the planned requests (following NextToken pages), several at once as `pace` allows,
/// and gathers the points per metric. The result does not depend on the order answers come in:
/// they are merged in the plan's order. `on_request` is called after each request (the progress
/// bar). A query the service answers with an error status is reported in `warnings`, not fatal:
/// the series stays empty and the experiment inconclusive, which the report explains.
pub async fn fetch_points(
    client: &Client,
    requests: &[MetricRequest],
    pace: RequestPace,
    warnings: &mut Vec<String>,
    mut on_request: impl FnMut(),
) -> Result<FetchedPoints, AwsError> {
    let pacer = std::sync::Arc::new(Pacer::new(pace.per_second));
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(pace.concurrency.max(1)));
    let mut calls = tokio::task::JoinSet::new();
    let mut answers: Vec<Option<RequestAnswer>> = (0..requests.len()).map(|_| None).collect();
    let mut store =
        |joined: Result<(usize, Result<RequestAnswer, AwsError>), tokio::task::JoinError>,
         answers: &mut Vec<Option<RequestAnswer>>|
         -> Result<(), AwsError> {
            let (position, answer) = joined.expect("a GetMetricData call does not panic");
            answers[position] = Some(answer?);
            on_request();
            Ok(())
        };
    for (position, request) in requests.iter().enumerate() {
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        // Gather what has finished meanwhile, so an error ends the fetch early.
        while let Some(joined) = calls.try_join_next() {
            store(joined, &mut answers)?;
        }
        let (client, request, pacer) = (client.clone(), request.clone(), pacer.clone());
        calls.spawn(async move {
            let answer = fetch_request(&client, &request, &pacer).await;
            drop(slot);
            (position, answer)
        });
    }
    while let Some(joined) = calls.join_next().await {
        store(joined, &mut answers)?;
    }
    let mut fetched = FetchedPoints::new();
    for (request, answer) in requests.iter().zip(answers) {
        let (points, request_warnings) = answer.expect("every request was answered");
        warnings.extend(request_warnings);
        for (index, points_of_metric) in points {
            fetched
                .entry(request.metrics[index].clone())
                .or_default()
                .extend(points_of_metric);
        }
    }
    for points in fetched.values_mut() {
        points.sort_by_key(|p| p.0);
        points.dedup_by_key(|p| p.0);
    }
    Ok(fetched)
}

/// One planned request with all its NextToken pages, each page paced.
async fn fetch_request(
    client: &Client,
    request: &MetricRequest,
    pacer: &Pacer,
) -> Result<RequestAnswer, AwsError> {
    let queries: Vec<MetricDataQuery> = request
        .metrics
        .iter()
        .enumerate()
        .map(|(index, key)| metric_query(index, key))
        .collect();
    let mut points: Vec<(usize, Vec<(Micros, f64)>)> = Vec::new();
    let mut warnings = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        pacer.wait().await;
        let output = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(date_time_of(request.start))
            .end_time(date_time_of(request.end))
            .set_next_token(next_token.clone())
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    "CloudWatch",
                    "GetMetricData",
                    format!("{} metrics", request.metrics.len()),
                    e,
                )
            })?;
        for result in output.metric_data_results() {
            let Some(index) = result
                .id()
                .and_then(|id| id.strip_prefix('m'))
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|index| *index < request.metrics.len())
            else {
                continue;
            };
            let key = &request.metrics[index];
            if matches!(
                result.status_code(),
                Some(StatusCode::InternalError | StatusCode::Forbidden)
            ) {
                let why: Vec<&str> = result.messages().iter().filter_map(|m| m.value()).collect();
                warnings.push(format!(
                    "CloudWatch could not read {} {} ({}): {}",
                    key.namespace,
                    key.metric,
                    key.stat,
                    why.join("; ")
                ));
            }
            points.push((
                index,
                result
                    .timestamps()
                    .iter()
                    .map(micros_of)
                    .zip(result.values().iter().copied())
                    .collect(),
            ));
        }
        next_token = output.next_token().map(str::to_string);
        if next_token.is_none() {
            return Ok((points, warnings));
        }
    }
}

fn metric_query(index: usize, key: &MetricKey) -> MetricDataQuery {
    let dimensions = key
        .dimensions
        .iter()
        .map(|(name, value)| Dimension::builder().name(name).value(value).build())
        .collect();
    MetricDataQuery::builder()
        // Ids must start with a lower-case letter; the index finds the metric in the answer.
        .id(format!("m{index}"))
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(&key.namespace)
                        .metric_name(&key.metric)
                        .set_dimensions(Some(dimensions))
                        .build(),
                )
                .period(i32::try_from(key.period_s).unwrap_or(i32::MAX))
                .stat(&key.stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// The points of each series window, cut from what was fetched for its metric.
pub fn points_of<'a>(window: &SeriesWindow, fetched: &'a FetchedPoints) -> &'a [(Micros, f64)] {
    let Some(points) = fetched.get(&window.key) else {
        return &[];
    };
    let from = points.partition_point(|p| p.0 < window.start);
    let to = points.partition_point(|p| p.0 <= window.end);
    &points[from..to]
}

/// The namespace of a series computed by metric math; its metric is the expression.
pub const METRIC_MATH: &str = "metric math";

/// The series a `[[hypothesis]]` of `checkup.toml` gives an experiment, inputs (`kind = "input"`)
/// and expressions (namespace [`METRIC_MATH`]) included.
pub fn hypothesis_series(experiment_id: &str, hypothesis: &Hypothesis) -> Vec<MetricSeries> {
    hypothesis
        .series
        .iter()
        .map(|s| MetricSeries {
            experiment_id: experiment_id.to_string(),
            series_id: s.id.clone(),
            namespace: match &s.expression {
                Some(_) => METRIC_MATH.to_string(),
                None => s.namespace.clone(),
            },
            metric: match &s.expression {
                Some(expression) => expression.text.clone(),
                None => s.metric.clone(),
            },
            stat: match &s.expression {
                Some(_) => "expression".to_string(),
                None => s.stat.clone(),
            },
            dimensions: s.dimensions.clone(),
            period_s: s.period_s,
            unit: None,
            origin: Origin::Hypothesis,
            steady: s.steady.clone(),
            limit: s.limit.clone(),
            kind: s.kind,
            budget: s.budget,
            outage: s.outage,
        })
        .collect()
}

/// A stop-condition alarm as analysis needs it: its metric and the OK side of its threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmDefinition {
    pub name: String,
    pub key: MetricKey,
    pub unit: Option<String>,
    /// The steady condition: the OK side of the threshold (`GreaterThanThreshold 5` → `<= 5`),
    /// or `baseline` for an anomaly-detection band.
    pub steady: String,
}

/// The steady condition of an alarm's comparison: the side of the threshold that is OK.
pub fn steady_side(comparison: &str, threshold: f64) -> String {
    match comparison {
        "GreaterThanThreshold" => format!("<= {threshold}"),
        "GreaterThanOrEqualToThreshold" => format!("< {threshold}"),
        "LessThanThreshold" => format!(">= {threshold}"),
        "LessThanOrEqualToThreshold" => format!("> {threshold}"),
        // LessThanLowerOrGreaterThanUpperThreshold and friends compare against an anomaly
        // detection band, which is what `baseline` measures from the points before t0.
        _ => "baseline".to_string(),
    }
}

/// The series of a stop-condition alarm for one experiment.
pub fn alarm_series(experiment_id: &str, alarm: &AlarmDefinition) -> MetricSeries {
    MetricSeries {
        experiment_id: experiment_id.to_string(),
        series_id: format!("alarm:{}", alarm.name),
        namespace: alarm.key.namespace.clone(),
        metric: alarm.key.metric.clone(),
        stat: alarm.key.stat.clone(),
        dimensions: alarm.key.dimensions.clone(),
        period_s: alarm.key.period_s,
        unit: alarm.unit.clone(),
        origin: Origin::StopConditionAlarm,
        steady: alarm.steady.clone(),
        limit: None,
        kind: SeriesKind::Level,
        budget: None,
        outage: None,
    }
}

/// Reads the named alarms (100 names a call). Names CloudWatch does not know are absent from the
/// map; alarms on metric math are in `warnings` and absent too (their series would need the
/// math computed over several metrics).
pub async fn describe_alarms(
    client: &Client,
    names: &[String],
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, AlarmDefinition>, AwsError> {
    let mut alarms = BTreeMap::new();
    for chunk in names.chunks(100) {
        let mut pages = client
            .describe_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .alarm_types(AlarmType::MetricAlarm)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| aws_error("CloudWatch", "DescribeAlarms", chunk.join(", "), e))?;
            for alarm in page.metric_alarms() {
                let name = alarm.alarm_name().unwrap_or_default().to_string();
                let (Some(namespace), Some(metric)) = (alarm.namespace(), alarm.metric_name())
                else {
                    warnings.push(format!(
                        "stop-condition alarm {name} watches metric math, which checkup does not read yet; its series is left out"
                    ));
                    continue;
                };
                let stat = alarm
                    .extended_statistic()
                    .map(str::to_string)
                    .or_else(|| alarm.statistic().map(|s| s.as_str().to_string()))
                    .unwrap_or_else(|| "Average".to_string());
                let comparison = alarm
                    .comparison_operator()
                    .map(ComparisonOperator::as_str)
                    .unwrap_or_default();
                let steady = match alarm.threshold() {
                    Some(threshold) => steady_side(comparison, threshold),
                    None => "baseline".to_string(),
                };
                alarms.insert(
                    name.clone(),
                    AlarmDefinition {
                        name,
                        key: MetricKey {
                            namespace: namespace.to_string(),
                            metric: metric.to_string(),
                            dimensions: alarm
                                .dimensions()
                                .iter()
                                .filter_map(|d| {
                                    Some((d.name()?.to_string(), d.value()?.to_string()))
                                })
                                .collect(),
                            stat,
                            period_s: i64::from(alarm.period().unwrap_or(60)),
                        },
                        unit: alarm.unit().map(|u| u.as_str().to_string()),
                        steady,
                    },
                );
            }
        }
    }
    Ok(alarms)
}

/// The state changes of one alarm between `start` and `end`.
pub async fn alarm_history(
    client: &Client,
    alarm: &str,
    start: Micros,
    end: Micros,
) -> Result<Vec<AlarmEvent>, AwsError> {
    let mut events = Vec::new();
    let mut pages = client
        .describe_alarm_history()
        .alarm_name(alarm)
        .history_item_type(HistoryItemType::StateUpdate)
        .start_date(date_time_of(start))
        .end_date(date_time_of(end))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("CloudWatch", "DescribeAlarmHistory", alarm, e))?;
        for item in page.alarm_history_items() {
            let Some(ts) = item.timestamp().map(micros_of) else {
                continue;
            };
            if let Some((from_state, to_state, reason)) =
                state_change(item.history_data(), item.history_summary())
            {
                events.push(AlarmEvent {
                    alarm_name: alarm.to_string(),
                    ts,
                    from_state,
                    to_state,
                    reason,
                });
            }
        }
    }
    events.sort_by_key(|e| e.ts);
    Ok(events)
}

/// The old and new state of a StateUpdate item: from its HistoryData JSON, else from the summary
/// `Alarm updated from OK to ALARM`.
pub fn state_change(
    history_data: Option<&str>,
    summary: Option<&str>,
) -> Option<(AlarmState, AlarmState, Option<String>)> {
    if let Some(data) = history_data.and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        && let (Some(from), Some(to)) = (
            data.pointer("/oldState/stateValue")
                .and_then(|v| v.as_str()),
            data.pointer("/newState/stateValue")
                .and_then(|v| v.as_str()),
        )
    {
        let reason = data
            .pointer("/newState/stateReason")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        return Some((
            AlarmState::from_name(from)?,
            AlarmState::from_name(to)?,
            reason,
        ));
    }
    let rest = summary?.strip_prefix("Alarm updated from ")?;
    let (from, to) = rest.split_once(" to ")?;
    let state = |text: &str| AlarmState::from_name(text.trim());
    Some((state(from)?, state(to)?, None))
}

/// Reads a dashboard's body; `Ok(None)` when CloudWatch has no dashboard of that name.
pub async fn dashboard_body(client: &Client, name: &str) -> Result<Option<String>, AwsError> {
    match client.get_dashboard().dashboard_name(name).send().await {
        Ok(output) => Ok(Some(output.dashboard_body().unwrap_or("{}").to_string())),
        Err(error)
            if matches!(
                error_code(&error),
                Some("ResourceNotFound" | "ResourceNotFoundException")
            ) =>
        {
            Ok(None)
        }
        Err(error) => Err(aws_error("CloudWatch", "GetDashboard", name, error)),
    }
}

/// The dashboard name of a report configuration's identifier (an ARN
/// `arn:aws:cloudwatch::123456789012:dashboard/Name`, or the name itself).
pub fn dashboard_name(identifier: &str) -> &str {
    identifier
        .split_once(":dashboard/")
        .map_or(identifier, |(_, name)| name)
}

/// The metrics of a dashboard body's metric widgets, each with the widget's stat and period
/// unless the row sets its own. Rows follow CloudWatch's shorthand: `"."` repeats the previous
/// row's value at that position, `"..."` repeats the previous row's leading values. Math rows
/// (`{"expression": ...}`) are left out. Errors name the widget and row.
pub fn dashboard_metrics(body: &str) -> Result<Vec<MetricKey>, String> {
    let body: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let mut metrics = Vec::new();
    let widgets = body
        .get("widgets")
        .and_then(|w| w.as_array())
        .cloned()
        .unwrap_or_default();
    for (widget_index, widget) in widgets.iter().enumerate() {
        let properties = widget.get("properties");
        let Some(rows) = properties
            .and_then(|p| p.get("metrics"))
            .and_then(|m| m.as_array())
        else {
            continue;
        };
        let widget_stat = properties
            .and_then(|p| p.get("stat"))
            .and_then(|s| s.as_str())
            .unwrap_or("Average");
        let widget_period = properties
            .and_then(|p| p.get("period"))
            .and_then(|p| p.as_i64())
            .unwrap_or(300);
        let mut previous: Vec<String> = Vec::new();
        for (row_index, row) in rows.iter().enumerate() {
            let where_ = || format!("widget {}, metric row {}", widget_index + 1, row_index + 1);
            let Some(items) = row.as_array() else {
                return Err(format!("{}: a metric row is a JSON array", where_()));
            };
            let options = items.last().and_then(|i| i.as_object());
            if options.is_some_and(|o| o.contains_key("expression")) {
                continue;
            }
            let given: Vec<&str> = items.iter().filter_map(|i| i.as_str()).collect();
            let mut values: Vec<String> = Vec::new();
            for (position, value) in given.iter().enumerate() {
                match *value {
                    "..." => {
                        let after = given.len() - position - 1;
                        let keep = previous.len().saturating_sub(after);
                        values.extend(previous.iter().take(keep).cloned());
                    }
                    "." => values.push(previous.get(values.len()).cloned().ok_or_else(|| {
                        format!("{}: \".\" has no previous row to repeat", where_())
                    })?),
                    other => values.push(other.to_string()),
                }
            }
            if values.len() < 2 || values.len() % 2 != 0 {
                return Err(format!(
                    "{}: expected namespace, metric name and dimension name/value pairs, got {values:?}",
                    where_()
                ));
            }
            let stat = options
                .and_then(|o| o.get("stat"))
                .and_then(|s| s.as_str())
                .unwrap_or(widget_stat);
            let period = options
                .and_then(|o| o.get("period"))
                .and_then(|p| p.as_i64())
                .unwrap_or(widget_period);
            metrics.push(MetricKey {
                namespace: values[0].clone(),
                metric: values[1].clone(),
                dimensions: values[2..]
                    .chunks(2)
                    .map(|pair| (pair[0].clone(), pair[1].clone()))
                    .collect(),
                stat: stat.to_string(),
                period_s: period.max(1),
            });
            previous = values;
        }
    }
    metrics.sort();
    metrics.dedup();
    Ok(metrics)
}

/// The series of one dashboard metric for one experiment (`steady = "baseline"`).
pub fn dashboard_series(experiment_id: &str, dashboard: &str, key: &MetricKey) -> MetricSeries {
    let dimensions: Vec<&str> = key.dimensions.values().map(String::as_str).collect();
    let series_id = if dimensions.is_empty() {
        format!("{dashboard}: {} {}", key.metric, key.stat)
    } else {
        format!(
            "{dashboard}: {} {} ({})",
            key.metric,
            key.stat,
            dimensions.join(", ")
        )
    };
    MetricSeries {
        experiment_id: experiment_id.to_string(),
        series_id,
        namespace: key.namespace.clone(),
        metric: key.metric.clone(),
        stat: key.stat.clone(),
        dimensions: key.dimensions.clone(),
        period_s: key.period_s,
        unit: None,
        origin: Origin::Dashboard,
        steady: "baseline".to_string(),
        limit: None,
        kind: SeriesKind::Level,
        budget: None,
        outage: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_windows_are_read_at_the_period_cloudwatch_still_keeps() {
        let hour = 3600 * MICROS_PER_SECOND;
        let day = 24 * hour;
        assert_eq!(period_kept(60, 2 * hour), 60);
        assert_eq!(period_kept(10, 2 * hour), 10);
        assert_eq!(period_kept(10, 5 * hour), 60);
        assert_eq!(period_kept(60, 14 * day), 60);
        assert_eq!(period_kept(60, 20 * day), 300);
        assert_eq!(period_kept(600, 20 * day), 600);
        assert_eq!(period_kept(420, 20 * day), 600);
        assert_eq!(period_kept(60, 100 * day), 3600);
        assert_eq!(period_kept(7200, 100 * day), 7200);
    }

    fn key(metric: &str, period_s: i64) -> MetricKey {
        MetricKey {
            namespace: "AWS/ApplicationELB".to_string(),
            metric: metric.to_string(),
            dimensions: BTreeMap::from([("LoadBalancer".to_string(), "app/web".to_string())]),
            stat: "Average".to_string(),
            period_s,
        }
    }

    /// Asked when the windows begin: CloudWatch still keeps every period for them.
    const ASKED_AS_THEY_BEGIN: Micros = 1_000 * MICROS_PER_SECOND;

    fn window(experiment: usize, metric: &str, start_s: i64, minutes: i64) -> SeriesWindow {
        SeriesWindow {
            experiment_id: format!("EXP{experiment}"),
            series_id: metric.to_string(),
            key: key(metric, 60),
            start: start_s * MICROS_PER_SECOND,
            end: (start_s + minutes * 60) * MICROS_PER_SECOND,
        }
    }

    fn assert_within_limits(requests: &[MetricRequest]) {
        for request in requests {
            assert!(
                request.metrics.len() <= MAX_QUERIES,
                "{}",
                request.metrics.len()
            );
            assert!(
                request.max_points() <= MAX_POINTS,
                "{}",
                request.max_points()
            );
        }
    }

    fn assert_covered(windows: &[SeriesWindow], requests: &[MetricRequest]) {
        for w in windows {
            assert!(
                requests
                    .iter()
                    .any(|r| r.start <= w.start && r.end >= w.end && r.metrics.contains(&w.key)),
                "{} {} is not read",
                w.experiment_id,
                w.series_id
            );
        }
    }

    #[test]
    fn a_hundred_experiments_of_one_template_share_their_metrics() {
        // 100 runs an hour apart, 4 series each, 75-minute windows: 400 queries, 30,000 points.
        let windows: Vec<SeriesWindow> = (0..100)
            .flat_map(|i| {
                ["a", "b", "c", "d"].map(|m| window(i, m, 1_790_000_000 + i as i64 * 3600, 75))
            })
            .collect();
        let requests = plan_requests(&windows, ASKED_AS_THEY_BEGIN);
        assert_within_limits(&requests);
        assert_covered(&windows, &requests);
        assert_eq!(lower_bound(&windows), 1);
        // 4 metrics over 100 hours at 1 minute: 24,000+ points a metric, 4 fit in one request
        // only while the range stays under 25,200 minutes.
        assert_eq!(requests.len(), 1, "{requests:?}");
    }

    #[test]
    fn a_sparse_history_is_bounded_by_the_shared_time_range() {
        // One run a day for 90 days, 4 metrics, 55-minute windows: SPEC's bound says 1 request
        // (360 queries, 19,800 points), but one request's range holds at most 100,800 / 4 minutes
        // (17.5 days) of 4 minute-metrics, so at most 18 daily runs share one: no plan does it in
        // fewer than ceil(90 / 18) = 5.
        let windows: Vec<SeriesWindow> = (0..90)
            .flat_map(|day| {
                ["a", "b", "c", "d"]
                    .map(|m| window(day, m, 1_790_000_000 + day as i64 * 86_400, 55))
            })
            .collect();
        let requests = plan_requests(&windows, ASKED_AS_THEY_BEGIN);
        assert_within_limits(&requests);
        assert_covered(&windows, &requests);
        assert_eq!(lower_bound(&windows), 1);
        assert_eq!(requests.len(), 5);
    }

    #[test]
    fn distinct_metrics_fill_requests_to_the_query_limit() {
        // 1,200 different metrics in one 45-minute window: 3 requests of at most 500 queries.
        let windows: Vec<SeriesWindow> = (0..1200)
            .map(|i| window(i, &format!("m{i}"), 1_790_000_000, 45))
            .collect();
        let requests = plan_requests(&windows, ASKED_AS_THEY_BEGIN);
        assert_within_limits(&requests);
        assert_covered(&windows, &requests);
        assert_eq!(lower_bound(&windows), 3);
        assert_eq!(requests.len(), 3);
    }

    #[test]
    fn a_window_longer_than_one_request_is_split() {
        // 100 days at 1 minute: 144,000 points, more than one request holds.
        let windows = vec![window(0, "a", 1_790_000_000, 100 * 24 * 60)];
        let requests = plan_requests(&windows, ASKED_AS_THEY_BEGIN);
        assert_within_limits(&requests);
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].start, floor_to(windows[0].start, 60));
        assert!(requests[1].end >= windows[0].end);
    }

    #[test]
    fn a_request_never_starts_in_a_tier_that_no_longer_keeps_its_periods() {
        // Runs 2, 30 and 100 days old, each read at the period kept for its age. One request
        // would hold them all, but CloudWatch judges retention by the request's start: asked from
        // 100 days back, the 1-minute and 5-minute queries would come back empty.
        let now = 1_800_000_000 * MICROS_PER_SECOND;
        let day = 86_400;
        let windows: Vec<SeriesWindow> = [100, 30, 2]
            .iter()
            .enumerate()
            .map(|(i, days)| {
                let start_s = 1_800_000_000 - days * day;
                let mut w = window(i, "a", start_s, 55);
                w.key.period_s = period_at(60, w.start, now);
                w
            })
            .collect();
        let periods: Vec<i64> = windows.iter().map(|w| w.key.period_s).collect();
        assert_eq!(periods, [3600, 300, 60]);
        let requests = plan_requests(&windows, now);
        assert_covered(&windows, &requests);
        assert_eq!(requests.len(), 3, "{requests:?}");
        for request in &requests {
            for metric in &request.metrics {
                assert_eq!(
                    period_at(metric.period_s, request.start, now),
                    metric.period_s
                );
            }
        }
    }

    #[test]
    fn points_are_cut_to_each_window() {
        let w = window(0, "a", 1_000, 2);
        let fetched = FetchedPoints::from([(
            w.key.clone(),
            vec![
                (940 * MICROS_PER_SECOND, 1.0),
                (1_000 * MICROS_PER_SECOND, 2.0),
                (1_120 * MICROS_PER_SECOND, 3.0),
                (1_180 * MICROS_PER_SECOND, 4.0),
            ],
        )]);
        let values: Vec<f64> = points_of(&w, &fetched).iter().map(|p| p.1).collect();
        assert_eq!(values, vec![2.0, 3.0]);
    }

    #[test]
    fn the_ok_side_of_an_alarm_is_its_steady_state() {
        assert_eq!(steady_side("GreaterThanThreshold", 5.0), "<= 5");
        assert_eq!(steady_side("GreaterThanOrEqualToThreshold", 0.5), "< 0.5");
        assert_eq!(steady_side("LessThanThreshold", 2.0), ">= 2");
        assert_eq!(steady_side("LessThanOrEqualToThreshold", 1.0), "> 1");
        assert_eq!(
            steady_side("LessThanLowerOrGreaterThanUpperThreshold", 0.0),
            "baseline"
        );
    }

    #[test]
    fn alarm_history_items_give_their_state_change() {
        let data = r#"{"version":"1.0","oldState":{"stateValue":"OK"},"newState":{"stateValue":"ALARM","stateReason":"Threshold Crossed"}}"#;
        assert_eq!(
            state_change(Some(data), None),
            Some((
                AlarmState::Ok,
                AlarmState::Alarm,
                Some("Threshold Crossed".to_string())
            ))
        );
        assert_eq!(
            state_change(None, Some("Alarm updated from ALARM to OK")),
            Some((AlarmState::Alarm, AlarmState::Ok, None))
        );
        assert_eq!(
            state_change(None, Some("Alarm updated from INSUFFICIENT_DATA to ALARM")),
            Some((AlarmState::InsufficientData, AlarmState::Alarm, None))
        );
        assert_eq!(state_change(None, Some("Alarm created")), None);
        // A state CloudWatch does not document is not a state change checkup can judge by.
        assert_eq!(
            state_change(None, Some("Alarm updated from OK to MAYBE")),
            None
        );
    }

    #[test]
    fn dashboard_rows_expand_cloudwatch_shorthand() {
        let body = r#"{"widgets":[
            {"type":"text","properties":{"markdown":"hello"}},
            {"type":"metric","properties":{"stat":"p99","period":60,"metrics":[
                ["AWS/ApplicationELB","TargetResponseTime","LoadBalancer","app/web/1"],
                ["...","app/web/2"],
                [".","HTTPCode_Target_5XX_Count",".",".",{"stat":"Sum"}],
                [{"expression":"m1/m2","id":"e1"}]
            ]}}]}"#;
        let metrics = dashboard_metrics(body).unwrap();
        let described: Vec<String> = metrics
            .iter()
            .map(|m| {
                format!(
                    "{} {} {:?} {} {}",
                    m.namespace, m.metric, m.dimensions, m.stat, m.period_s
                )
            })
            .collect();
        assert_eq!(
            described,
            vec![
                "AWS/ApplicationELB HTTPCode_Target_5XX_Count {\"LoadBalancer\": \"app/web/2\"} Sum 60",
                "AWS/ApplicationELB TargetResponseTime {\"LoadBalancer\": \"app/web/1\"} p99 60",
                "AWS/ApplicationELB TargetResponseTime {\"LoadBalancer\": \"app/web/2\"} p99 60",
            ]
        );
        assert_eq!(
            dashboard_metrics(r#"{"widgets":[{"properties":{"metrics":[["AWS/EC2"]]}}]}"#)
                .unwrap_err(),
            "widget 1, metric row 1: expected namespace, metric name and dimension name/value pairs, got [\"AWS/EC2\"]"
        );
        assert_eq!(
            dashboard_name("arn:aws:cloudwatch::123456789012:dashboard/web-ops"),
            "web-ops"
        );
    }
}
