//! Our own records for the ledger's rows, and their conversion to and from polars frames.
//! Ingest sources build these records; the ledger stores them; analysis reads them back.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::MONTH_COLUMN;
use crate::vocab::catalog::ActionCatalog;
use crate::vocab::practice::TriggerClass;
use crate::vocab::time::{Micros, month_of};
use crate::vocab::{AlarmState, Origin, SeriesKind, Source, Status, System};

/// One chaos experiment run (a FIS experiment, a Chaos Toolkit journal, a demo run).
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    pub experiment_id: String,
    pub source: Source,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub template_id: Option<String>,
    pub template_name: Option<String>,
    pub description: Option<String>,
    pub status: Status,
    pub status_reason: Option<String>,
    pub created_at: Micros,
    pub started_at: Option<Micros>,
    pub ended_at: Option<Micros>,
    pub environment: Option<String>,
    pub team: Option<String>,
    pub service: Option<String>,
    /// manual, ci, scheduled or gameday.
    pub trigger: Option<String>,
    pub tags: Tags,
    pub stop_condition_alarms: Vec<String>,
    pub stop_condition_triggered: bool,
    /// The selection mode of each target, as FIS writes it: `COUNT(1)`, `PERCENT(25)`, `ALL`.
    pub blast_radius: Vec<String>,
    /// The name of the hypothesis whose series were collected for this experiment.
    pub hypothesis: Option<String>,
    pub recover_within_s: Option<f64>,
    pub ingested_at: Micros,
    /// FIS's `experimentOptions.actionsMode` (`run-all`, `skip-all`: a dry run), when known.
    pub actions_mode: Option<String>,
    /// How many resources its targets resolved to (FIS ListExperimentResolvedTargets); `None`
    /// when not known (other sources, ledgers written before format 3).
    pub resolved_targets: Option<i64>,
}

/// An experiment's tags, kept as the ledger stores them: the text of a JSON object of strings,
/// in key order. Read on demand: analysis reads one tag an experiment (`checkup:system`), and
/// the parsed map of five or six small strings, about 0.8 KB an experiment, was the biggest part
/// of a million experiments' records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags {
    /// The JSON object's text; empty for no tags.
    json: Box<str>,
}

impl Tags {
    /// Tags as a ledger's `tags` column holds them, not parsed until read.
    fn from_json(json: Option<&str>) -> Tags {
        match json.map(str::trim) {
            None | Some("" | "{}") => Tags::default(),
            Some(json) => Tags { json: json.into() },
        }
    }

    /// One tag's value. A text that is not a JSON object of strings has no tags, as when it was
    /// parsed on reading.
    pub fn get(&self, key: &str) -> Option<String> {
        if self.json.is_empty() {
            return None;
        }
        // Borrowed from the text when nothing needs unescaping (the usual case), else owned.
        match serde_json::from_str::<BTreeMap<&str, &str>>(&self.json) {
            Ok(map) => map.get(key).map(|value| value.to_string()),
            Err(_) => self.to_map().remove(key),
        }
    }

    /// Every tag, by key.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        string_map(Some(&self.json))
    }

    /// The text the ledger stores: a JSON object, `{}` for none, written from the parsed map so
    /// that a text that was not an object of strings is stored as no tags.
    fn to_json(&self) -> String {
        json_object(&self.to_map())
    }
}

impl From<BTreeMap<String, String>> for Tags {
    fn from(map: BTreeMap<String, String>) -> Tags {
        Tags::from_json(Some(&json_object(&map)))
    }
}

impl Experiment {
    /// The ledger partition of the experiment and of every row that belongs to it. The creation
    /// month never changes, so an experiment re-read later (running, then completed) lands in the
    /// same partition. FIS creates and starts an experiment in one call, so it is the start month.
    pub fn month(&self) -> String {
        month_of(self.created_at)
    }

    /// When the run began: its start, else (never started, e.g. cancelled) its creation. Reports
    /// place an experiment in a period, month or quarter by this time.
    pub fn start(&self) -> Micros {
        self.started_at.unwrap_or(self.created_at)
    }

    /// A completed run of its own template started at `start` and ended ten minutes later, with
    /// nothing else set: for tests to adjust.
    #[cfg(test)]
    pub(crate) fn example(experiment_id: &str, start: Micros) -> Experiment {
        Experiment {
            experiment_id: experiment_id.to_string(),
            source: Source::Demo,
            account_id: None,
            region: None,
            template_id: Some(format!("EXT-{experiment_id}")),
            template_name: None,
            description: None,
            status: Status::Completed,
            status_reason: None,
            created_at: start,
            started_at: Some(start),
            ended_at: Some(start + 600 * 1_000_000),
            environment: None,
            team: None,
            service: None,
            trigger: None,
            tags: Tags::default(),
            stop_condition_alarms: vec![],
            stop_condition_triggered: false,
            blast_radius: vec![],
            hypothesis: None,
            recover_within_s: None,
            ingested_at: start,
            actions_mode: None,
            resolved_targets: None,
        }
    }

    /// Automated, game day or manual, from the trigger tag.
    pub fn trigger_class(&self) -> TriggerClass {
        TriggerClass::of(self.trigger.as_deref())
    }

    /// SPEC section 6: `t0` is the earliest start of a fault action (the experiment start when no
    /// fault action has times), `t1` the experiment end (else the last fault-action end, else
    /// `t0`). Actions that inject nothing (a wait before the fault, an alarm assertion) place
    /// neither. `None` when the run never started. Analysis judges inside `[t0 - pre, t1 + post]`
    /// and ingest reads CloudWatch over the same window.
    pub fn fault_times<'a>(
        &self,
        actions: impl Iterator<Item = &'a Action> + Clone,
        catalog: &ActionCatalog,
    ) -> Option<(Micros, Micros)> {
        let faults = actions.filter(|a| catalog.injects_fault(&a.action_id));
        let action_start = faults.clone().filter_map(|a| a.started_at).min();
        let t0 = action_start.or(self.started_at)?;
        let action_end = faults.filter_map(|a| a.ended_at).max();
        let t1 = self.ended_at.or(action_end).unwrap_or(t0).max(t0);
        Some((t0, t1))
    }
}

/// One action of an experiment, with its own state and times.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub experiment_id: String,
    pub action_name: String,
    /// The FIS action id, e.g. `aws:ec2:terminate-instances`.
    pub action_id: String,
    /// The seed's system the action exercises, when the catalog knows it.
    pub system: Option<System>,
    pub status: String,
    pub started_at: Option<Micros>,
    pub ended_at: Option<Micros>,
    pub targets: Vec<String>,
}

/// One metric series observed around an experiment, with the steady state it is judged against.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    pub experiment_id: String,
    pub series_id: String,
    pub namespace: String,
    pub metric: String,
    pub stat: String,
    pub dimensions: BTreeMap<String, String>,
    pub period_s: i64,
    pub unit: Option<String>,
    pub origin: Origin,
    /// `>= 2`, `< 0.2`, or `baseline`.
    pub steady: String,
    pub limit: Option<String>,
    pub kind: SeriesKind,
    pub budget: Option<f64>,
    pub outage: Option<f64>,
}

impl MetricSeries {
    /// A count (`Sum`, `SampleCount`): CloudWatch publishes no datapoint for a zero count, so a
    /// missing point means zero, not a gap (SPEC section 6).
    pub fn is_count(&self) -> bool {
        crate::vocab::is_count_statistic(&self.stat)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlarmEvent {
    pub alarm_name: String,
    pub ts: Micros,
    pub from_state: AlarmState,
    pub to_state: AlarmState,
    pub reason: Option<String>,
}

/// A real incident, for the incident MTTR trend.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub incident_id: String,
    pub service: Option<String>,
    pub team: Option<String>,
    pub severity: Option<String>,
    pub started_at: Micros,
    pub resolved_at: Micros,
    pub customer_impact: Option<String>,
}

/// The analysis of one experiment (the derived `outcomes` table).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub experiment_id: String,
    pub verdict: String,
    pub time_to_impact_s: Option<f64>,
    pub time_to_recover_s: Option<f64>,
    pub recovered: bool,
    /// The peak of each series (the value farthest outside its band), by series id.
    pub peaks: BTreeMap<String, f64>,
    pub degraded_s: Option<f64>,
    pub error_total: Option<f64>,
    pub reasons: Vec<String>,
    pub analyzed_at: Micros,
}

/// The points of many series, column by column: a demo or an ingest produces millions of them.
#[derive(Debug, Default, Clone)]
pub struct PointColumns {
    pub experiment_id: Vec<String>,
    pub series_id: Vec<String>,
    pub ts: Vec<Micros>,
    pub value: Vec<f64>,
    /// The partition of each point: the month of its experiment.
    pub month: Vec<String>,
}

impl PointColumns {
    /// Adds one point of a series of an experiment stored in partition `month`.
    pub fn push(
        &mut self,
        experiment_id: &str,
        month: &str,
        series_id: &str,
        ts: Micros,
        value: f64,
    ) {
        self.experiment_id.push(experiment_id.to_string());
        self.series_id.push(series_id.to_string());
        self.ts.push(ts);
        self.value.push(value);
        self.month.push(month.to_string());
    }

    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    pub fn into_frame(self) -> PolarsResult<DataFrame> {
        DataFrame::new_infer_height(vec![
            Column::new("experiment_id".into(), self.experiment_id),
            Column::new("series_id".into(), self.series_id),
            timestamps("ts", self.ts.into_iter().map(Some)),
            Column::new("value".into(), self.value),
            Column::new(MONTH_COLUMN.into(), self.month),
        ])
    }
}

// ---------------------------------------------------------------------------------------------
// Records to frames. Each frame carries the partition month beside the table's columns.

fn text<'a>(name: &str, values: impl IntoIterator<Item = &'a str>) -> Column {
    Column::new(name.into(), values.into_iter().collect::<Vec<_>>())
}

fn optional_text<'a>(name: &str, values: impl IntoIterator<Item = Option<&'a str>>) -> Column {
    Column::new(name.into(), values.into_iter().collect::<Vec<_>>())
}

fn timestamps(name: &str, values: impl IntoIterator<Item = Option<Micros>>) -> Column {
    let micros: Int64Chunked = values.into_iter().collect();
    micros
        .with_name(name.into())
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_series()
        .into()
}

fn floats(name: &str, values: impl IntoIterator<Item = Option<f64>>) -> Column {
    Column::new(name.into(), values.into_iter().collect::<Vec<_>>())
}

fn text_lists<'a>(name: &str, values: impl IntoIterator<Item = &'a Vec<String>>) -> Column {
    // One builder for the whole column: a series per row cost ~6 µs each (0.6 s of storing
    // 100,000 outcomes). Its type is List(String) even for an empty batch or empty lists.
    let values = values.into_iter();
    let rows = values.size_hint().0;
    let mut builder = ListStringChunkedBuilder::new(name.into(), rows, rows * 2);
    for list in values {
        builder.append_values_iter(list.iter().map(String::as_str));
    }
    builder.finish().into_series().into()
}

fn json_object(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).expect("a map of strings serializes")
}

fn json_numbers(map: &BTreeMap<String, f64>) -> String {
    serde_json::to_string(map).expect("a map of numbers serializes")
}

pub fn experiments_frame(experiments: &[Experiment]) -> PolarsResult<DataFrame> {
    let e = experiments;
    let tags: Vec<String> = e.iter().map(|x| x.tags.to_json()).collect();
    let months: Vec<String> = e.iter().map(Experiment::month).collect();
    DataFrame::new_infer_height(vec![
        text("experiment_id", e.iter().map(|x| x.experiment_id.as_str())),
        text("source", e.iter().map(|x| x.source.name())),
        optional_text("account_id", e.iter().map(|x| x.account_id.as_deref())),
        optional_text("region", e.iter().map(|x| x.region.as_deref())),
        optional_text("template_id", e.iter().map(|x| x.template_id.as_deref())),
        optional_text(
            "template_name",
            e.iter().map(|x| x.template_name.as_deref()),
        ),
        optional_text("description", e.iter().map(|x| x.description.as_deref())),
        text("status", e.iter().map(|x| x.status.name())),
        optional_text(
            "status_reason",
            e.iter().map(|x| x.status_reason.as_deref()),
        ),
        timestamps("created_at", e.iter().map(|x| Some(x.created_at))),
        timestamps("started_at", e.iter().map(|x| x.started_at)),
        timestamps("ended_at", e.iter().map(|x| x.ended_at)),
        optional_text("environment", e.iter().map(|x| x.environment.as_deref())),
        optional_text("team", e.iter().map(|x| x.team.as_deref())),
        optional_text("service", e.iter().map(|x| x.service.as_deref())),
        optional_text("trigger", e.iter().map(|x| x.trigger.as_deref())),
        text("tags", tags.iter().map(String::as_str)),
        text_lists(
            "stop_condition_alarms",
            e.iter().map(|x| &x.stop_condition_alarms),
        ),
        Column::new(
            "stop_condition_triggered".into(),
            e.iter()
                .map(|x| x.stop_condition_triggered)
                .collect::<Vec<_>>(),
        ),
        text_lists("blast_radius", e.iter().map(|x| &x.blast_radius)),
        optional_text("hypothesis", e.iter().map(|x| x.hypothesis.as_deref())),
        floats("recover_within_s", e.iter().map(|x| x.recover_within_s)),
        timestamps("ingested_at", e.iter().map(|x| Some(x.ingested_at))),
        optional_text("actions_mode", e.iter().map(|x| x.actions_mode.as_deref())),
        Column::new(
            "resolved_targets".into(),
            e.iter().map(|x| x.resolved_targets).collect::<Vec<_>>(),
        ),
        text(MONTH_COLUMN, months.iter().map(String::as_str)),
    ])
}

/// `month_of_experiment` gives the partition of the experiment each action belongs to.
pub fn actions_frame(
    actions: &[Action],
    month_of_experiment: impl Fn(&str) -> String,
) -> PolarsResult<DataFrame> {
    let a = actions;
    let months: Vec<String> = a
        .iter()
        .map(|x| month_of_experiment(&x.experiment_id))
        .collect();
    DataFrame::new_infer_height(vec![
        text("experiment_id", a.iter().map(|x| x.experiment_id.as_str())),
        text("action_name", a.iter().map(|x| x.action_name.as_str())),
        text("action_id", a.iter().map(|x| x.action_id.as_str())),
        optional_text("system", a.iter().map(|x| x.system.map(System::name))),
        text("status", a.iter().map(|x| x.status.as_str())),
        timestamps("started_at", a.iter().map(|x| x.started_at)),
        timestamps("ended_at", a.iter().map(|x| x.ended_at)),
        text_lists("targets", a.iter().map(|x| &x.targets)),
        text(MONTH_COLUMN, months.iter().map(String::as_str)),
    ])
}

pub fn series_frame(
    series: &[MetricSeries],
    month_of_experiment: impl Fn(&str) -> String,
) -> PolarsResult<DataFrame> {
    let s = series;
    let dimensions: Vec<String> = s.iter().map(|x| json_object(&x.dimensions)).collect();
    let months: Vec<String> = s
        .iter()
        .map(|x| month_of_experiment(&x.experiment_id))
        .collect();
    DataFrame::new_infer_height(vec![
        text("experiment_id", s.iter().map(|x| x.experiment_id.as_str())),
        text("series_id", s.iter().map(|x| x.series_id.as_str())),
        text("namespace", s.iter().map(|x| x.namespace.as_str())),
        text("metric", s.iter().map(|x| x.metric.as_str())),
        text("stat", s.iter().map(|x| x.stat.as_str())),
        text("dimensions", dimensions.iter().map(String::as_str)),
        Column::new(
            "period_s".into(),
            s.iter().map(|x| x.period_s).collect::<Vec<_>>(),
        ),
        optional_text("unit", s.iter().map(|x| x.unit.as_deref())),
        text("origin", s.iter().map(|x| x.origin.name())),
        text("steady", s.iter().map(|x| x.steady.as_str())),
        optional_text("limit", s.iter().map(|x| x.limit.as_deref())),
        text("kind", s.iter().map(|x| x.kind.name())),
        floats("budget", s.iter().map(|x| x.budget)),
        floats("outage", s.iter().map(|x| x.outage)),
        text(MONTH_COLUMN, months.iter().map(String::as_str)),
    ])
}

pub fn alarm_events_frame(events: &[AlarmEvent]) -> PolarsResult<DataFrame> {
    let a = events;
    let months: Vec<String> = a.iter().map(|x| month_of(x.ts)).collect();
    DataFrame::new_infer_height(vec![
        text("alarm_name", a.iter().map(|x| x.alarm_name.as_str())),
        timestamps("ts", a.iter().map(|x| Some(x.ts))),
        text("from_state", a.iter().map(|x| x.from_state.name())),
        text("to_state", a.iter().map(|x| x.to_state.name())),
        optional_text("reason", a.iter().map(|x| x.reason.as_deref())),
        text(MONTH_COLUMN, months.iter().map(String::as_str)),
    ])
}

pub fn incidents_frame(incidents: &[Incident]) -> PolarsResult<DataFrame> {
    let i = incidents;
    let months: Vec<String> = i.iter().map(|x| month_of(x.started_at)).collect();
    DataFrame::new_infer_height(vec![
        text("incident_id", i.iter().map(|x| x.incident_id.as_str())),
        optional_text("service", i.iter().map(|x| x.service.as_deref())),
        optional_text("team", i.iter().map(|x| x.team.as_deref())),
        optional_text("severity", i.iter().map(|x| x.severity.as_deref())),
        timestamps("started_at", i.iter().map(|x| Some(x.started_at))),
        timestamps("resolved_at", i.iter().map(|x| Some(x.resolved_at))),
        optional_text(
            "customer_impact",
            i.iter().map(|x| x.customer_impact.as_deref()),
        ),
        text(MONTH_COLUMN, months.iter().map(String::as_str)),
    ])
}

pub fn outcomes_frame(outcomes: &[Outcome], months: &[String]) -> PolarsResult<DataFrame> {
    let o = outcomes;
    let peaks: Vec<String> = o.iter().map(|x| json_numbers(&x.peaks)).collect();
    DataFrame::new_infer_height(vec![
        text("experiment_id", o.iter().map(|x| x.experiment_id.as_str())),
        text("verdict", o.iter().map(|x| x.verdict.as_str())),
        floats("time_to_impact_s", o.iter().map(|x| x.time_to_impact_s)),
        floats("time_to_recover_s", o.iter().map(|x| x.time_to_recover_s)),
        Column::new(
            "recovered".into(),
            o.iter().map(|x| x.recovered).collect::<Vec<_>>(),
        ),
        text("peaks", peaks.iter().map(String::as_str)),
        floats("degraded_s", o.iter().map(|x| x.degraded_s)),
        floats("error_total", o.iter().map(|x| x.error_total)),
        text_lists("reasons", o.iter().map(|x| &x.reasons)),
        timestamps("analyzed_at", o.iter().map(|x| Some(x.analyzed_at))),
        text(MONTH_COLUMN, months.iter().map(String::as_str)),
    ])
}

// ---------------------------------------------------------------------------------------------
// Frames to records. Frames come from the ledger, whose schema was checked when it was read.

/// Typed access to one column of a ledger frame.
pub struct Columns<'a> {
    frame: &'a DataFrame,
}

impl<'a> Columns<'a> {
    pub fn new(frame: &'a DataFrame) -> Self {
        Columns { frame }
    }

    fn column(&self, name: &str) -> PolarsResult<&'a Column> {
        self.frame.column(name)
    }

    pub fn text(&self, name: &str) -> PolarsResult<Vec<Option<String>>> {
        Ok(self
            .column(name)?
            .str()?
            .iter()
            .map(|value| value.map(str::to_string))
            .collect())
    }

    /// [`Columns::text`] borrowed from the frame: no copy of each value.
    pub fn borrowed_text(&self, name: &str) -> PolarsResult<Vec<Option<&'a str>>> {
        Ok(self.column(name)?.str()?.iter().collect())
    }

    pub fn timestamps(&self, name: &str) -> PolarsResult<Vec<Option<Micros>>> {
        let column = self.column(name)?.cast(&DataType::Int64)?;
        Ok(column.i64()?.iter().collect())
    }

    pub fn floats(&self, name: &str) -> PolarsResult<Vec<Option<f64>>> {
        Ok(self.column(name)?.f64()?.iter().collect())
    }

    pub fn integers(&self, name: &str) -> PolarsResult<Vec<Option<i64>>> {
        Ok(self.column(name)?.i64()?.iter().collect())
    }

    /// A text column of one of the vocabulary's words (`status`, `kind`, …), each read back with
    /// `from_name`; a word the vocabulary does not know is an error naming the column and value.
    pub fn words<T>(
        &self,
        name: &str,
        from_name: impl Fn(&str) -> Option<T>,
    ) -> PolarsResult<Vec<T>> {
        self.column(name)?
            .str()?
            .iter()
            .map(|value| {
                let value = value.unwrap_or_default();
                from_name(value).ok_or_else(|| {
                    polars_err!(ComputeError: "column {name} holds `{value}`, which is not one of its values")
                })
            })
            .collect()
    }

    /// [`Columns::words`] for a column that may be null.
    pub fn optional_words<T>(
        &self,
        name: &str,
        from_name: impl Fn(&str) -> Option<T>,
    ) -> PolarsResult<Vec<Option<T>>> {
        self.column(name)?
            .str()?
            .iter()
            .map(|value| match value {
                None => Ok(None),
                Some(value) => from_name(value).map(Some).ok_or_else(|| {
                    polars_err!(ComputeError: "column {name} holds `{value}`, which is not one of its values")
                }),
            })
            .collect()
    }

    pub fn booleans(&self, name: &str) -> PolarsResult<Vec<Option<bool>>> {
        Ok(self.column(name)?.bool()?.iter().collect())
    }

    pub fn text_lists(&self, name: &str) -> PolarsResult<Vec<Vec<String>>> {
        // Read from each chunk's offsets and text values: a series per row, even the amortized
        // iterator's one reused series, cost about 0.1 s of CPU on 100,000 experiments.
        let lists = self.column(name)?.list()?;
        if lists.inner_dtype() != &DataType::String {
            polars_bail!(SchemaMismatch: "column {name} holds lists of {}, not of text", lists.inner_dtype());
        }
        let mut rows = Vec::with_capacity(lists.len());
        for chunk in lists.downcast_iter() {
            let texts = chunk
                .values()
                .as_any()
                .downcast_ref::<<StringType as PolarsDataType>::Array>()
                .expect("a list of String holds text values");
            let (offsets, validity) = (chunk.offsets(), chunk.validity());
            for row in 0..chunk.len() {
                if validity.is_some_and(|valid| !valid.get_bit(row)) {
                    rows.push(Vec::new());
                    continue;
                }
                let (start, end) = offsets.start_end(row);
                // Null items are left out, as they always were.
                rows.push(
                    (start..end)
                        .filter_map(|i| texts.get(i))
                        .map(str::to_string)
                        .collect(),
                );
            }
        }
        Ok(rows)
    }
}

fn string_map(json: Option<&str>) -> BTreeMap<String, String> {
    json.and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

pub fn experiments_from_frame(frame: &DataFrame) -> PolarsResult<Vec<Experiment>> {
    let c = Columns::new(frame);
    let mut experiment_id = c.text("experiment_id")?.into_iter();
    let mut source = c.words("source", Source::from_name)?.into_iter();
    let mut account_id = c.text("account_id")?.into_iter();
    let mut region = c.text("region")?.into_iter();
    let mut template_id = c.text("template_id")?.into_iter();
    let mut template_name = c.text("template_name")?.into_iter();
    let mut description = c.text("description")?.into_iter();
    let mut status = c.words("status", Status::from_name)?.into_iter();
    let mut status_reason = c.text("status_reason")?.into_iter();
    let mut created_at = c.timestamps("created_at")?.into_iter();
    let mut started_at = c.timestamps("started_at")?.into_iter();
    let mut ended_at = c.timestamps("ended_at")?.into_iter();
    let mut environment = c.text("environment")?.into_iter();
    let mut team = c.text("team")?.into_iter();
    let mut service = c.text("service")?.into_iter();
    let mut trigger = c.text("trigger")?.into_iter();
    // Maps are parsed from the frame's text; no copy of the JSON first.
    let mut tags = c.borrowed_text("tags")?.into_iter();
    let mut stop_condition_alarms = c.text_lists("stop_condition_alarms")?.into_iter();
    let mut stop_condition_triggered = c.booleans("stop_condition_triggered")?.into_iter();
    let mut blast_radius = c.text_lists("blast_radius")?.into_iter();
    let mut hypothesis = c.text("hypothesis")?.into_iter();
    let mut recover_within_s = c.floats("recover_within_s")?.into_iter();
    let mut ingested_at = c.timestamps("ingested_at")?.into_iter();
    let mut actions_mode = c.text("actions_mode")?.into_iter();
    let mut resolved_targets = c.integers("resolved_targets")?.into_iter();
    let mut next = || -> Option<Experiment> {
        Some(Experiment {
            experiment_id: experiment_id.next()?.unwrap_or_default(),
            source: source.next()?,
            account_id: account_id.next()?,
            region: region.next()?,
            template_id: template_id.next()?,
            template_name: template_name.next()?,
            description: description.next()?,
            status: status.next()?,
            status_reason: status_reason.next()?,
            created_at: created_at.next()?.unwrap_or_default(),
            started_at: started_at.next()?,
            ended_at: ended_at.next()?,
            environment: environment.next()?,
            team: team.next()?,
            service: service.next()?,
            trigger: trigger.next()?,
            tags: Tags::from_json(tags.next()?),
            stop_condition_alarms: stop_condition_alarms.next()?,
            stop_condition_triggered: stop_condition_triggered.next()?.unwrap_or(false),
            blast_radius: blast_radius.next()?,
            hypothesis: hypothesis.next()?,
            recover_within_s: recover_within_s.next()?,
            ingested_at: ingested_at.next()?.unwrap_or_default(),
            actions_mode: actions_mode.next()?,
            resolved_targets: resolved_targets.next()?,
        })
    };
    Ok(std::iter::from_fn(&mut next).collect())
}

pub fn actions_from_frame(frame: &DataFrame) -> PolarsResult<Vec<Action>> {
    let c = Columns::new(frame);
    let mut experiment_id = c.text("experiment_id")?.into_iter();
    let mut action_name = c.text("action_name")?.into_iter();
    let mut action_id = c.text("action_id")?.into_iter();
    let mut system = c.optional_words("system", System::from_name)?.into_iter();
    let mut status = c.text("status")?.into_iter();
    let mut started_at = c.timestamps("started_at")?.into_iter();
    let mut ended_at = c.timestamps("ended_at")?.into_iter();
    let mut targets = c.text_lists("targets")?.into_iter();
    let mut next = || -> Option<Action> {
        Some(Action {
            experiment_id: experiment_id.next()?.unwrap_or_default(),
            action_name: action_name.next()?.unwrap_or_default(),
            action_id: action_id.next()?.unwrap_or_default(),
            system: system.next()?,
            status: status.next()?.unwrap_or_default(),
            started_at: started_at.next()?,
            ended_at: ended_at.next()?,
            targets: targets.next()?,
        })
    };
    Ok(std::iter::from_fn(&mut next).collect())
}

pub fn series_from_frame(frame: &DataFrame) -> PolarsResult<Vec<MetricSeries>> {
    let c = Columns::new(frame);
    let mut experiment_id = c.text("experiment_id")?.into_iter();
    let mut series_id = c.text("series_id")?.into_iter();
    let mut namespace = c.text("namespace")?.into_iter();
    let mut metric = c.text("metric")?.into_iter();
    let mut stat = c.text("stat")?.into_iter();
    let mut dimensions = c.borrowed_text("dimensions")?.into_iter();
    let mut period_s = c.integers("period_s")?.into_iter();
    let mut unit = c.text("unit")?.into_iter();
    let mut origin = c.words("origin", Origin::from_name)?.into_iter();
    let mut steady = c.text("steady")?.into_iter();
    let mut limit = c.text("limit")?.into_iter();
    let mut kind = c.words("kind", SeriesKind::from_name)?.into_iter();
    let mut budget = c.floats("budget")?.into_iter();
    let mut outage = c.floats("outage")?.into_iter();
    let mut next = || -> Option<MetricSeries> {
        Some(MetricSeries {
            experiment_id: experiment_id.next()?.unwrap_or_default(),
            series_id: series_id.next()?.unwrap_or_default(),
            namespace: namespace.next()?.unwrap_or_default(),
            metric: metric.next()?.unwrap_or_default(),
            stat: stat.next()?.unwrap_or_default(),
            dimensions: string_map(dimensions.next()?),
            period_s: period_s.next()?.unwrap_or(60),
            unit: unit.next()?,
            origin: origin.next()?,
            steady: steady.next()?.unwrap_or_default(),
            limit: limit.next()?,
            kind: kind.next()?,
            budget: budget.next()?,
            outage: outage.next()?,
        })
    };
    Ok(std::iter::from_fn(&mut next).collect())
}

pub fn alarm_events_from_frame(frame: &DataFrame) -> PolarsResult<Vec<AlarmEvent>> {
    let c = Columns::new(frame);
    let mut alarm_name = c.text("alarm_name")?.into_iter();
    let mut ts = c.timestamps("ts")?.into_iter();
    let mut from_state = c.words("from_state", AlarmState::from_name)?.into_iter();
    let mut to_state = c.words("to_state", AlarmState::from_name)?.into_iter();
    let mut reason = c.text("reason")?.into_iter();
    let mut next = || -> Option<AlarmEvent> {
        Some(AlarmEvent {
            alarm_name: alarm_name.next()?.unwrap_or_default(),
            ts: ts.next()?.unwrap_or_default(),
            from_state: from_state.next()?,
            to_state: to_state.next()?,
            reason: reason.next()?,
        })
    };
    Ok(std::iter::from_fn(&mut next).collect())
}

pub fn incidents_from_frame(frame: &DataFrame) -> PolarsResult<Vec<Incident>> {
    let c = Columns::new(frame);
    let mut incident_id = c.text("incident_id")?.into_iter();
    let mut service = c.text("service")?.into_iter();
    let mut team = c.text("team")?.into_iter();
    let mut severity = c.text("severity")?.into_iter();
    let mut started_at = c.timestamps("started_at")?.into_iter();
    let mut resolved_at = c.timestamps("resolved_at")?.into_iter();
    let mut customer_impact = c.text("customer_impact")?.into_iter();
    let mut next = || -> Option<Incident> {
        Some(Incident {
            incident_id: incident_id.next()?.unwrap_or_default(),
            service: service.next()?,
            team: team.next()?,
            severity: severity.next()?,
            started_at: started_at.next()?.unwrap_or_default(),
            resolved_at: resolved_at.next()?.unwrap_or_default(),
            customer_impact: customer_impact.next()?,
        })
    };
    Ok(std::iter::from_fn(&mut next).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_read_as_the_ledger_stores_them_and_parse_on_demand() {
        let map = BTreeMap::from([
            ("team".to_string(), "pay".to_string()),
            // Escaped in the JSON text: read by the owned parse.
            ("note".to_string(), "say \"hi\"\n".to_string()),
        ]);
        let tags = Tags::from(map.clone());
        let stored = tags.to_json();
        assert_eq!(stored, serde_json::to_string(&map).unwrap());
        let read = Tags::from_json(Some(&stored));
        assert_eq!(read, tags);
        assert_eq!(read.get("team").as_deref(), Some("pay"));
        assert_eq!(read.get("note").as_deref(), Some("say \"hi\"\n"));
        assert_eq!(read.get("env"), None);
        assert_eq!(read.to_map(), map);
        // No tags: none stored, `{}` written, whether the map was empty or the column null.
        for none in [
            Tags::from(BTreeMap::new()),
            Tags::from_json(None),
            Tags::from_json(Some(" {} ")),
        ] {
            assert_eq!(none, Tags::default());
            assert_eq!(none.to_json(), "{}");
        }
        // A text that is not an object of strings has no tags, and is written back as none.
        let odd = Tags::from_json(Some(r#"{"team": 3}"#));
        assert_eq!(odd.get("team"), None);
        assert_eq!(odd.to_json(), "{}");
    }

    fn list_of_texts(rows: &[Option<Vec<Option<&str>>>]) -> Series {
        let mut builder = ListStringChunkedBuilder::new("lists".into(), rows.len(), 8);
        for row in rows {
            match row {
                Some(items) => builder.append_trusted_len_iter(items.iter().copied()),
                None => builder.append_null(),
            }
        }
        builder.finish().into_series()
    }

    #[test]
    fn text_lists_reads_every_row_of_every_chunk_and_leaves_out_nulls() {
        let first = list_of_texts(&[
            Some(vec![Some("a"), Some("b")]),
            Some(vec![]),
            None,
            Some(vec![Some("c"), None, Some("d")]),
        ]);
        let second = list_of_texts(&[Some(vec![Some("e")]), Some(vec![Some("f"), Some("g")])]);
        // Two chunks, the second sliced: its offsets no longer start at its values' start.
        let mut lists = first;
        lists.append(&second.slice(1, 1)).unwrap();
        assert_eq!(lists.n_chunks(), 2);
        let frame = DataFrame::new_infer_height(vec![lists.into()]).unwrap();
        let owned =
            |items: &[&str]| -> Vec<String> { items.iter().map(|item| item.to_string()).collect() };
        assert_eq!(
            Columns::new(&frame).text_lists("lists").unwrap(),
            vec![
                owned(&["a", "b"]),
                owned(&[]),
                owned(&[]),
                owned(&["c", "d"]),
                owned(&["f", "g"]),
            ]
        );
    }

    #[test]
    fn text_lists_refuses_lists_of_numbers() {
        let numbers = Series::new("targets".into(), [Series::new("".into(), [1i64, 2])]);
        let frame = DataFrame::new_infer_height(vec![numbers.into()]).unwrap();
        let error = Columns::new(&frame).text_lists("targets").unwrap_err();
        assert!(error.to_string().contains("targets"), "{error}");
    }
}
