//! The lab report of one experiment (`--kind experiment:<id>`): what was tested (hypothesis,
//! steady state), what was done (actions on a timeline from `t0`), what happened (each series'
//! impact, recovery, peak, errors; stop-condition alarms) and the verdict with its reasons.

use serde::Serialize;

use super::i18n::{Lang, reason_codes, reason_text, reason_texts};
use super::model::system_names;
use crate::analyze::JudgedExperiment;
use crate::analyze::recovery::SeriesResult;
use crate::analyze::weaknesses::template_key;
use crate::ledger::{Action, AlarmEvent, MetricSeries};
use crate::vocab::time::{Micros, format_rfc3339};

#[derive(Debug, Clone, Serialize)]
pub struct ExperimentDetail {
    pub experiment_id: String,
    pub template: Option<String>,
    pub template_name: Option<String>,
    pub description: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub team: Option<String>,
    pub service: Option<String>,
    pub environment: Option<String>,
    pub trigger: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// The moment the fault began (the earliest action start) and the observation window.
    pub t0: Option<String>,
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    pub hypothesis: Option<String>,
    pub recover_within_s: Option<f64>,
    pub blast_radius: Vec<String>,
    pub stop_condition_alarms: Vec<String>,
    pub stop_condition_triggered: bool,
    pub systems: Vec<String>,
    pub verdict: String,
    pub time_to_impact_s: Option<f64>,
    pub time_to_recover_s: Option<f64>,
    /// For a run that never recovered, how long after `t0` it was last seen.
    pub censored_at_s: Option<f64>,
    pub recovered: bool,
    pub error_total: Option<f64>,
    pub reasons: Vec<String>,
    /// The codes of `reasons`, one each, the same in every language.
    pub reason_codes: Vec<String>,
    pub actions: Vec<ActionStep>,
    pub series: Vec<SeriesFinding>,
    pub alarms: Vec<AlarmStep>,
}

/// One action on the timeline; offsets in seconds from `t0`.
#[derive(Debug, Clone, Serialize)]
pub struct ActionStep {
    pub name: String,
    pub action_id: String,
    pub system: Option<String>,
    pub status: String,
    pub start_s: Option<f64>,
    pub end_s: Option<f64>,
    pub targets: Vec<String>,
}

/// One observed series: its steady state and what analysis found.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesFinding {
    pub series_id: String,
    pub metric: String,
    pub origin: String,
    pub kind: String,
    pub steady: String,
    pub limit: Option<String>,
    pub budget: Option<f64>,
    pub outage: Option<f64>,
    /// `[low, high]` of the band judged against (level series); `null` for an open end.
    pub band_low: Option<f64>,
    pub band_high: Option<f64>,
    pub impact_s: Option<f64>,
    pub recovered_s: Option<f64>,
    pub peak: Option<f64>,
    pub limit_exceeded: bool,
    pub error_total: Option<f64>,
    /// Why the series could not be judged, when it could not.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlarmStep {
    pub alarm_name: String,
    pub at_s: f64,
    pub to_state: String,
    pub reason: Option<String>,
}

/// The lab report of one judged experiment.
pub fn experiment_detail(
    judged: &JudgedExperiment,
    actions: &[&Action],
    series: &[&MetricSeries],
    alarm_events: &[AlarmEvent],
    lang: Lang,
) -> ExperimentDetail {
    let JudgedExperiment {
        experiment,
        outcome,
        systems,
        ..
    } = judged;
    let t0 = outcome.t0;
    let offset = |ts: Option<Micros>| -> Option<f64> { Some((ts? - t0?) as f64 / 1e6) };
    let mut steps: Vec<ActionStep> = actions
        .iter()
        .map(|action| ActionStep {
            name: action.action_name.clone(),
            action_id: action.action_id.clone(),
            system: action.system.map(|s| s.name().to_string()),
            status: action.status.clone(),
            start_s: offset(action.started_at),
            end_s: offset(action.ended_at),
            targets: action.targets.clone(),
        })
        .collect();
    steps.sort_by(|a, b| {
        a.start_s
            .unwrap_or(f64::MAX)
            .total_cmp(&b.start_s.unwrap_or(f64::MAX))
    });
    let findings = outcome
        .series
        .iter()
        .map(|(series_id, result)| series_finding(series_id, result, series, &offset, lang))
        .collect();
    let alarms = match (outcome.window, t0) {
        (Some((start, end)), Some(t0)) => alarm_events
            .iter()
            .filter(|e| experiment.stop_condition_alarms.contains(&e.alarm_name))
            .filter(|e| (start..=end).contains(&e.ts))
            .map(|e| AlarmStep {
                alarm_name: e.alarm_name.clone(),
                at_s: (e.ts - t0) as f64 / 1e6,
                to_state: e.to_state.name().to_string(),
                reason: e.reason.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    ExperimentDetail {
        experiment_id: experiment.experiment_id.clone(),
        template: template_key(experiment).map(str::to_string),
        template_name: experiment.template_name.clone(),
        description: experiment.description.clone(),
        status: experiment.status.name().to_string(),
        status_reason: experiment.status_reason.clone(),
        team: experiment.team.clone(),
        service: experiment.service.clone(),
        environment: experiment.environment.clone(),
        trigger: experiment.trigger.clone(),
        account_id: experiment.account_id.clone(),
        region: experiment.region.clone(),
        started_at: experiment.started_at.map(format_rfc3339),
        ended_at: experiment.ended_at.map(format_rfc3339),
        t0: t0.map(format_rfc3339),
        window_start: outcome.window.map(|w| format_rfc3339(w.0)),
        window_end: outcome.window.map(|w| format_rfc3339(w.1)),
        hypothesis: experiment.hypothesis.clone(),
        recover_within_s: outcome.recover_within_s,
        blast_radius: experiment.blast_radius.clone(),
        stop_condition_alarms: experiment.stop_condition_alarms.clone(),
        stop_condition_triggered: experiment.stop_condition_triggered,
        systems: system_names(systems),
        verdict: outcome.verdict.name().to_string(),
        time_to_impact_s: outcome.time_to_impact_s,
        time_to_recover_s: outcome.time_to_recover_s,
        censored_at_s: outcome.censored_at_s,
        recovered: outcome.recovered,
        error_total: outcome.error_total,
        reasons: reason_texts(lang, &outcome.reasons),
        reason_codes: reason_codes(&outcome.reasons),
        actions: steps,
        series: findings,
        alarms,
    }
}

/// What one series of the experiment showed, with times from `t0`.
fn series_finding(
    series_id: &str,
    result: &SeriesResult,
    series: &[&MetricSeries],
    offset: &dyn Fn(Option<Micros>) -> Option<f64>,
    lang: Lang,
) -> SeriesFinding {
    let finite = |v: f64| v.is_finite().then_some(v);
    let info = series.iter().find(|s| &s.series_id == series_id);
    let mut finding = SeriesFinding {
        series_id: series_id.to_string(),
        metric: info
            .map(|s| format!("{} {} ({})", s.namespace, s.metric, s.stat))
            .unwrap_or_default(),
        origin: info
            .map(|s| s.origin.name().to_string())
            .unwrap_or_default(),
        kind: info.map(|s| s.kind.name().to_string()).unwrap_or_default(),
        steady: info.map(|s| s.steady.clone()).unwrap_or_default(),
        limit: info.and_then(|s| s.limit.clone()),
        budget: info.and_then(|s| s.budget),
        outage: info.and_then(|s| s.outage),
        band_low: None,
        band_high: None,
        impact_s: None,
        recovered_s: None,
        peak: None,
        limit_exceeded: false,
        error_total: None,
        problem: None,
    };
    match result {
        SeriesResult::Level(level) => {
            finding.band_low = finite(level.band.low);
            finding.band_high = finite(level.band.high);
            finding.impact_s = offset(level.impact_at);
            finding.recovered_s = offset(level.recovered_at);
            finding.peak = level.peak;
            finding.limit_exceeded = level.limit_exceeded;
        }
        SeriesResult::Errors { total } => finding.error_total = Some(*total),
        SeriesResult::NoData(problem) => finding.problem = Some(reason_text(lang, problem)),
    }
    finding
}
