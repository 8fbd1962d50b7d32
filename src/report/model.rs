//! The report model: the one view that every report kind and format renders. Built from the
//! ledger's records and the analysis; templates see these structs only.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::i18n::{Lang, reason_text, source_text};
use crate::analyze::ExperimentOutcome;
use crate::analyze::maturity::{self, CriterionResult, ORGANIZATION, Rubric};
use crate::analyze::mttr::MttrRow;
use crate::analyze::program::Analysis;
use crate::config::CostConfig;
use crate::ledger::Experiment;
use crate::vocab::stats::median;
use crate::vocab::time::{Micros, Period, format_rfc3339, month_of, quarter_of};
use crate::vocab::{Status, Verdict};

#[derive(Debug, Clone, Serialize)]
pub struct ReportModel {
    pub organization: String,
    pub currency: String,
    pub generated_at: String,
    pub period: ReportPeriod,
    pub summary: Summary,
    pub verdict_counts: VerdictCounts,
    pub quarters: Vec<QuarterRow>,
    /// Verdicts per month of the period (SPEC section 11: verdict counts by month).
    pub months: Vec<MonthVerdicts>,
    pub experiments: Vec<ExperimentRow>,
    pub weaknesses: Vec<WeaknessRow>,
    pub team_quarters: Vec<TeamQuarterRow>,
    pub outage_cost: OutageCost,
    pub incidents: IncidentSummary,
    pub mttr: Vec<MttrView>,
    pub incident_mttr: Vec<MttrView>,
    pub roi: RoiView,
    pub coverage: Vec<CoverageRow>,
    /// Weaknesses found and fixed per quarter, and open at each quarter's end.
    pub weakness_trend: Vec<WeaknessQuarter>,
    /// The stage of the organisation and of every team in the period (SPEC section 11 `maturity[]`).
    pub maturity: Vec<MaturityView>,
    /// The stage of every scope per quarter, up to the period.
    pub maturity_trend: Vec<StagePointView>,
    /// The rubric's stages, for names and summaries.
    pub stages: Vec<LevelView>,
    /// The seed's phase scorecards for the organisation in the period.
    pub phases: Vec<PhaseView>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MonthVerdicts {
    pub month: String,
    pub green: usize,
    pub yellow: usize,
    pub red: usize,
    pub inconclusive: usize,
    pub in_progress: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeaknessQuarter {
    pub quarter: String,
    pub found: usize,
    pub fixed: usize,
    pub open_at_end: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MaturityView {
    pub scope: String,
    /// The scope as readers see it (the organisation in the report's language).
    pub scope_label: String,
    pub stage: u8,
    pub stage_name: String,
    /// The criteria of the next stage that are not met yet (empty at the top stage).
    pub next_stage_needs: Vec<String>,
    pub criteria: Vec<CriterionView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CriterionView {
    pub id: String,
    /// The stage (or, in a phase scorecard, the phase) the criterion belongs to.
    pub stage: u8,
    pub description: String,
    pub met: bool,
    pub value: Option<f64>,
    pub threshold: f64,
    /// `>=` or `<=`.
    pub comparison: String,
    /// `count`, `percent` (value and threshold are shares) or `number`.
    pub format: String,
    /// Value and threshold as a reader sees them (`80%`, `12`, `10.7`).
    pub value_text: String,
    pub threshold_text: String,
    /// The evidence in one line: the first few items and how many more.
    pub evidence: String,
    /// The evidence items behind the value (at most 200) and how many there were.
    pub evidence_items: Vec<String>,
    pub evidence_total: usize,
}

/// `text_ja` when the report is in Japanese and the rubric gives it, else the English.
fn in_lang(lang: Lang, english: &str, japanese: Option<&String>) -> String {
    match (lang, japanese) {
        (Lang::Ja, Some(text)) => text.clone(),
        _ => english.to_string(),
    }
}

impl CriterionView {
    fn new(result: &CriterionResult, lang: Lang) -> Self {
        CriterionView {
            id: result.id.clone(),
            stage: result.level,
            description: in_lang(lang, &result.description, result.description_ja.as_ref()),
            met: result.met,
            value: result.value,
            threshold: result.threshold,
            comparison: result.comparison.symbol().to_string(),
            format: result.format.clone(),
            value_text: format_measure(result.value, &result.format),
            threshold_text: format!(
                "{} {}",
                result
                    .comparison
                    .symbol()
                    .replace(">=", "≥")
                    .replace("<=", "≤"),
                format_measure(Some(result.threshold), &result.format)
            ),
            evidence: result.evidence_line(),
            evidence_items: result.evidence.clone(),
            evidence_total: result.evidence_total,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StagePointView {
    pub scope: String,
    pub quarter: String,
    pub stage: u8,
}

#[derive(Debug, Clone, Serialize)]
pub struct LevelView {
    pub number: u8,
    pub name: String,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseView {
    pub phase: u8,
    pub name: String,
    pub summary: String,
    pub met: bool,
    pub items: Vec<CriterionView>,
}

/// A criterion's value as printed: shares as percentages, counts as whole numbers.
pub fn format_measure(value: Option<f64>, format: &str) -> String {
    let Some(value) = value else {
        return "—".to_string();
    };
    match format {
        "percent" => format!("{}%", format_number_short(value * 100.0)),
        "count" => format!("{}", value.round() as i64),
        _ => format_number_short(value),
    }
}

/// At most one decimal, none when the number is whole.
fn format_number_short(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// `2026Q3` for a calendar quarter, `2026-07` for a month, else the first and last day.
pub fn period_label(period: Period) -> String {
    let quarter = quarter_of(period.start);
    let month = month_of(period.start);
    let day = |ts: Micros| format_rfc3339(ts)[..10].to_string();
    if crate::vocab::time::parse_period(&quarter, 0) == Ok(period) {
        quarter
    } else if crate::vocab::time::parse_period(&month, 0) == Ok(period) {
        month
    } else {
        format!("{} – {}", day(period.start), day(period.end - 1))
    }
}

/// One row of an MTTR trend (SPEC section 11 `mttr[]`).
#[derive(Debug, Clone, Serialize)]
pub struct MttrView {
    pub period: String,
    pub group_by: String,
    pub group: String,
    pub n: u64,
    pub mean_s: Option<f64>,
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
    pub censored: u64,
    pub change_vs_previous: Option<f64>,
    pub change_vs_first: Option<f64>,
}

impl From<&MttrRow> for MttrView {
    fn from(row: &MttrRow) -> Self {
        MttrView {
            period: row.period.clone(),
            group_by: row.group_by.clone(),
            group: row.group.clone(),
            n: row.n,
            mean_s: row.mean_s,
            median_s: row.median_s,
            p90_s: row.p90_s,
            censored: row.censored,
            change_vs_previous: row.change_vs_previous,
            change_vs_first: row.change_vs_first,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AssumptionView {
    pub name: String,
    pub value: f64,
    /// Where the value comes from, in the report's language.
    pub source: String,
    /// `config`, `default`, `measured_incidents`, `measured_experiments` or `catalog_default`.
    pub source_code: String,
}

/// SPEC section 11 `roi`.
#[derive(Debug, Clone, Serialize)]
pub struct RoiView {
    pub currency: String,
    pub hourly_downtime_cost: f64,
    pub avoided_cost: f64,
    pub avoided_cost_p10: f64,
    pub avoided_cost_p90: f64,
    pub program_cost: f64,
    pub roi: Option<f64>,
    pub weaknesses_found: usize,
    pub weaknesses_fixed: usize,
    pub assumptions: Vec<AssumptionView>,
}

/// Experiments per scope (organization or team) and system (SPEC section 11 `coverage[]`).
#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    pub scope: String,
    /// The scope as readers see it (the organisation in the report's language).
    pub scope_label: String,
    pub system: String,
    pub experiments: usize,
}

/// The reporting period: `start` inclusive, `end` exclusive (RFC 3339, UTC).
#[derive(Debug, Clone, Serialize)]
pub struct ReportPeriod {
    pub start: String,
    pub end: String,
    /// `2026Q3`, `2026-07`, or `2026-07-01 – 2026-09-30`.
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub experiments: usize,
    pub teams: usize,
    pub templates: usize,
    pub quarters: usize,
    pub weaknesses_found: usize,
    pub weaknesses_fixed: usize,
    pub weaknesses_open: usize,
    pub impacted: usize,
    pub recovered: usize,
    pub censored: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VerdictCounts {
    pub green: usize,
    pub yellow: usize,
    pub red: usize,
    pub inconclusive: usize,
    pub in_progress: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuarterRow {
    pub quarter: String,
    pub experiments: u64,
    pub green: u64,
    pub yellow: u64,
    pub red: u64,
    pub inconclusive: u64,
    pub in_progress: u64,
    pub recovered: u64,
    pub censored: u64,
    pub median_time_to_recover_s: Option<f64>,
    pub p90_time_to_recover_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExperimentRow {
    pub experiment_id: String,
    pub template_id: Option<String>,
    pub template_name: Option<String>,
    pub team: Option<String>,
    pub environment: Option<String>,
    pub trigger: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub status: Status,
    pub verdict: String,
    pub time_to_impact_s: Option<f64>,
    pub time_to_recover_s: Option<f64>,
    pub recover_within_s: Option<f64>,
    pub recovered: bool,
    pub systems: Vec<String>,
    pub reasons: Vec<String>,
    /// The codes of `reasons`, one each, the same in every language.
    pub reason_codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeaknessRow {
    pub template: String,
    pub template_name: Option<String>,
    pub team: Option<String>,
    pub found_by: String,
    pub found_verdict: String,
    pub found_at: String,
    pub fixed_by: Option<String>,
    pub fixed_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamQuarterRow {
    pub team: String,
    pub quarter: String,
    pub experiments: usize,
    pub outside_dev: usize,
    pub production: usize,
    pub automated: usize,
    pub gameday: usize,
    pub with_alarm_stop_condition: usize,
    pub weaknesses_found: usize,
    pub weaknesses_fixed: usize,
    pub systems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutageCost {
    pub assumptions: CostConfig,
    pub hourly_downtime_cost: f64,
    pub outage_cost: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentSummary {
    pub count: usize,
    pub by_quarter: Vec<IncidentQuarter>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentQuarter {
    pub quarter: String,
    pub incidents: usize,
    pub median_hours: Option<f64>,
}

/// Everything the model is built from.
pub struct ModelInput<'a> {
    /// The language of the text the model carries (reasons, rubric, assumption sources).
    pub lang: Lang,
    pub organization: &'a str,
    pub currency: &'a str,
    pub generated_at: Micros,
    pub analysis: &'a Analysis,
    pub cost: CostConfig,
    pub rubric: &'a Rubric,
}

pub fn build_model(input: &ModelInput) -> ReportModel {
    let analysis = input.analysis;
    let period = analysis.period;
    let lang = input.lang;
    // Experiments of the period, newest first, as a reviewer reads them.
    let mut order: Vec<usize> = (0..analysis.experiments.len())
        .filter(|index| analysis.in_period[*index])
        .collect();
    let key = |index: &usize| {
        let experiment = &analysis.experiments[*index];
        (experiment.start(), experiment.experiment_id.as_str())
    };
    order.sort_by(|a, b| key(b).cmp(&key(a)));

    let mut verdict_counts = VerdictCounts::default();
    let mut months: BTreeMap<String, MonthVerdicts> = BTreeMap::new();
    let mut experiments = Vec::with_capacity(order.len());
    for index in order {
        let experiment = &analysis.experiments[index];
        let outcome = &analysis.outcomes[index];
        let month = month_of(experiment.start());
        let by_month = months
            .entry(month.clone())
            .or_insert_with(|| MonthVerdicts {
                month,
                ..MonthVerdicts::default()
            });
        match outcome.verdict {
            Verdict::Green => {
                verdict_counts.green += 1;
                by_month.green += 1;
            }
            Verdict::Yellow => {
                verdict_counts.yellow += 1;
                by_month.yellow += 1;
            }
            Verdict::Red => {
                verdict_counts.red += 1;
                by_month.red += 1;
            }
            Verdict::Inconclusive => {
                verdict_counts.inconclusive += 1;
                by_month.inconclusive += 1;
            }
            Verdict::InProgress => {
                verdict_counts.in_progress += 1;
                by_month.in_progress += 1;
            }
        }
        let systems = analysis.systems[index].clone();
        experiments.push(ExperimentRow {
            experiment_id: experiment.experiment_id.clone(),
            template_id: experiment.template_id.clone(),
            template_name: experiment.template_name.clone(),
            team: experiment.team.clone(),
            environment: experiment.environment.clone(),
            trigger: experiment.trigger.clone(),
            started_at: experiment.started_at.map(format_rfc3339),
            ended_at: experiment.ended_at.map(format_rfc3339),
            status: experiment.status,
            verdict: outcome.verdict.name().to_string(),
            time_to_impact_s: outcome.time_to_impact_s,
            time_to_recover_s: outcome.time_to_recover_s,
            recover_within_s: experiment.recover_within_s,
            recovered: outcome.recovered,
            systems,
            reasons: outcome
                .reasons
                .iter()
                .map(|reason| reason_text(lang, reason))
                .collect(),
            reason_codes: outcome
                .reasons
                .iter()
                .map(|reason| reason.code().to_string())
                .collect(),
        });
    }

    let template_info: BTreeMap<&str, &Experiment> = analysis
        .experiments
        .iter()
        .filter_map(|e| crate::analyze::weaknesses::template_key(e).map(|key| (key, e)))
        .collect();
    // The weaknesses a quarterly review discusses: found or fixed in the period, or still open.
    let weaknesses: Vec<WeaknessRow> = analysis
        .weaknesses
        .iter()
        .filter(|w| {
            period.contains(w.found_at)
                || w.fixed_at.is_none()
                || w.fixed_at.is_some_and(|ts| period.contains(ts))
        })
        .map(|weakness| {
            let info = template_info.get(weakness.template.as_str());
            WeaknessRow {
                template: weakness.template.clone(),
                template_name: info.and_then(|e| e.template_name.clone()),
                team: info.and_then(|e| e.team.clone()),
                found_by: weakness.found_by.clone(),
                found_verdict: weakness.found_verdict.name().to_string(),
                found_at: format_rfc3339(weakness.found_at),
                fixed_by: weakness.fixed_by.clone(),
                fixed_at: weakness.fixed_at.map(format_rfc3339),
            }
        })
        .collect();

    let mut team_quarters: BTreeMap<(String, String), TeamQuarterRow> = BTreeMap::new();
    for (experiment, systems) in analysis.experiments.iter().zip(&analysis.systems) {
        let team = experiment
            .team
            .clone()
            .unwrap_or_else(|| "(no team)".to_string());
        let quarter = quarter_of(experiment.start());
        let row = team_quarters
            .entry((team.clone(), quarter.clone()))
            .or_insert_with(|| TeamQuarterRow {
                team,
                quarter,
                experiments: 0,
                outside_dev: 0,
                production: 0,
                automated: 0,
                gameday: 0,
                with_alarm_stop_condition: 0,
                weaknesses_found: 0,
                weaknesses_fixed: 0,
                systems: Vec::new(),
            });
        row.experiments += 1;
        row.outside_dev += usize::from(maturity::outside_dev(experiment));
        row.production += usize::from(maturity::in_production(experiment));
        row.automated += usize::from(maturity::automated(experiment));
        row.gameday += usize::from(experiment.trigger.as_deref() == Some("gameday"));
        row.with_alarm_stop_condition += usize::from(!experiment.stop_condition_alarms.is_empty());
        for system in systems {
            if !row.systems.contains(system) {
                row.systems.push(system.clone());
            }
        }
    }
    for weakness in &analysis.weaknesses {
        let Some(team) = template_info
            .get(weakness.template.as_str())
            .and_then(|e| e.team.clone())
        else {
            continue;
        };
        if let Some(row) = team_quarters.get_mut(&(team.clone(), quarter_of(weakness.found_at))) {
            row.weaknesses_found += 1;
        }
        if let Some(fixed_at) = weakness.fixed_at
            && let Some(row) = team_quarters.get_mut(&(team, quarter_of(fixed_at)))
        {
            row.weaknesses_fixed += 1;
        }
    }
    for row in team_quarters.values_mut() {
        row.systems.sort_by_key(|system| {
            ["I", "II", "III", "IV"]
                .iter()
                .position(|known| known == system)
        });
    }

    let mut incidents_by_quarter: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for incident in &analysis.incidents {
        incidents_by_quarter
            .entry(quarter_of(incident.started_at))
            .or_default()
            .push((incident.resolved_at - incident.started_at) as f64 / 3.6e9);
    }

    let mut coverage: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (index, experiment) in analysis.experiments.iter().enumerate() {
        if !analysis.in_period[index] {
            continue;
        }
        for system in &analysis.systems[index] {
            *coverage
                .entry(("organization".to_string(), system.clone()))
                .or_default() += 1;
            if let Some(team) = &experiment.team {
                *coverage.entry((team.clone(), system.clone())).or_default() += 1;
            }
        }
    }
    let roi = &analysis.roi;
    let cost = input.cost;
    let hourly_downtime_cost =
        cost.revenue_per_hour + cost.engineers_on_incident * cost.engineer_hourly_rate;
    let period_outcomes: Vec<&ExperimentOutcome> = analysis
        .outcomes
        .iter()
        .zip(&analysis.in_period)
        .filter_map(|(outcome, inside)| inside.then_some(outcome))
        .collect();
    let period_experiments: Vec<&Experiment> = analysis
        .experiments
        .iter()
        .zip(&analysis.in_period)
        .filter_map(|(experiment, inside)| inside.then_some(experiment))
        .collect();
    let impacted = period_outcomes
        .iter()
        .filter(|o| o.verdict.is_conclusive() && o.impacted)
        .count();
    let recovered = period_outcomes
        .iter()
        .filter(|o| o.verdict.is_conclusive() && o.impacted && o.recovered)
        .count();
    ReportModel {
        organization: input.organization.to_string(),
        currency: input.currency.to_string(),
        generated_at: format_rfc3339(input.generated_at),
        period: ReportPeriod {
            start: format_rfc3339(period.start),
            end: format_rfc3339(period.end),
            label: period_label(period),
        },
        summary: Summary {
            experiments: period_experiments.len(),
            teams: period_experiments
                .iter()
                .filter_map(|e| e.team.as_deref())
                .collect::<BTreeSet<_>>()
                .len(),
            templates: period_experiments
                .iter()
                .filter_map(|e| crate::analyze::weaknesses::template_key(e))
                .collect::<BTreeSet<_>>()
                .len(),
            quarters: analysis.quarters.len(),
            weaknesses_found: analysis
                .weaknesses
                .iter()
                .filter(|w| period.contains(w.found_at))
                .count(),
            weaknesses_fixed: analysis
                .weaknesses
                .iter()
                .filter(|w| w.fixed_at.is_some_and(|ts| period.contains(ts)))
                .count(),
            weaknesses_open: analysis
                .weaknesses
                .iter()
                .filter(|w| w.fixed_by.is_none())
                .count(),
            impacted,
            recovered,
            censored: impacted - recovered,
        },
        verdict_counts,
        quarters: analysis
            .quarters
            .iter()
            .map(|q| QuarterRow {
                quarter: q.quarter.clone(),
                experiments: q.experiments,
                green: q.green,
                yellow: q.yellow,
                red: q.red,
                inconclusive: q.inconclusive,
                in_progress: q.in_progress,
                recovered: q.recovered,
                censored: q.censored,
                median_time_to_recover_s: q.median_time_to_recover_s,
                p90_time_to_recover_s: q.p90_time_to_recover_s,
            })
            .collect(),
        months: months.into_values().collect(),
        experiments,
        weaknesses,
        team_quarters: team_quarters.into_values().collect(),
        outage_cost: OutageCost {
            assumptions: cost,
            hourly_downtime_cost,
            outage_cost: hourly_downtime_cost * cost.outage_hours,
        },
        incidents: IncidentSummary {
            count: analysis.incidents.len(),
            by_quarter: incidents_by_quarter
                .into_iter()
                .map(|(quarter, hours)| IncidentQuarter {
                    quarter,
                    incidents: hours.len(),
                    median_hours: median(&hours),
                })
                .collect(),
        },
        mttr: analysis.mttr.iter().map(MttrView::from).collect(),
        incident_mttr: analysis.incident_mttr.iter().map(MttrView::from).collect(),
        roi: RoiView {
            currency: input.currency.to_string(),
            hourly_downtime_cost: roi.hourly_downtime_cost,
            avoided_cost: roi.avoided_cost,
            avoided_cost_p10: roi.avoided_cost_p10,
            avoided_cost_p90: roi.avoided_cost_p90,
            program_cost: roi.program_cost,
            roi: roi.roi,
            weaknesses_found: roi.weaknesses_found,
            weaknesses_fixed: roi.weaknesses_fixed,
            assumptions: roi
                .assumptions
                .iter()
                .map(|a| AssumptionView {
                    name: a.name.clone(),
                    value: a.value,
                    source: source_text(lang, &a.source),
                    source_code: a.source.code().to_string(),
                })
                .collect(),
        },
        coverage: coverage
            .into_iter()
            .map(|((scope, system), experiments)| CoverageRow {
                scope_label: scope_label(&scope, lang),
                scope,
                system,
                experiments,
            })
            .collect(),
        weakness_trend: weakness_trend(analysis),
        maturity: maturity_views(analysis, input.rubric, lang),
        maturity_trend: analysis
            .maturity
            .trend
            .iter()
            .map(|point| StagePointView {
                scope: point.scope.clone(),
                quarter: point.quarter.clone(),
                stage: point.stage,
            })
            .collect(),
        stages: input
            .rubric
            .stages
            .iter()
            .map(|stage| LevelView {
                number: stage.number,
                name: in_lang(lang, &stage.name, stage.name_ja.as_ref()),
                summary: in_lang(lang, &stage.summary, stage.summary_ja.as_ref()),
            })
            .collect(),
        phases: analysis
            .maturity
            .phases
            .iter()
            .map(|phase| PhaseView {
                phase: phase.phase,
                name: in_lang(lang, &phase.name, phase.name_ja.as_ref()),
                summary: in_lang(lang, &phase.summary, phase.summary_ja.as_ref()),
                met: phase.met,
                items: phase
                    .items
                    .iter()
                    .map(|item| CriterionView::new(item, lang))
                    .collect(),
            })
            .collect(),
    }
}

/// A scope as readers see it: the organisation in the report's language, a team by its name.
fn scope_label(scope: &str, lang: Lang) -> String {
    if scope == ORGANIZATION {
        lang.messages()
            .get("organization_scope")
            .cloned()
            .unwrap_or_else(|| scope.to_string())
    } else {
        scope.to_string()
    }
}

impl ReportModel {
    /// The label of a scope that the maturity or coverage rows name (else the scope itself).
    pub fn scope_label(&self, scope: &str) -> String {
        self.maturity
            .iter()
            .find(|m| m.scope == scope)
            .map(|m| m.scope_label.clone())
            .or_else(|| {
                self.coverage
                    .iter()
                    .find(|c| c.scope == scope)
                    .map(|c| c.scope_label.clone())
            })
            .unwrap_or_else(|| scope.to_string())
    }
}

fn maturity_views(analysis: &Analysis, rubric: &Rubric, lang: Lang) -> Vec<MaturityView> {
    let stage_name = |number: u8| {
        rubric
            .stages
            .iter()
            .find(|stage| stage.number == number)
            .map(|stage| in_lang(lang, &stage.name, stage.name_ja.as_ref()))
            .unwrap_or_else(|| match lang {
                Lang::En => "Not started".to_string(),
                Lang::Ja => "未着手".to_string(),
            })
    };
    analysis
        .maturity
        .scopes
        .iter()
        .map(|scope| MaturityView {
            scope: scope.scope.clone(),
            scope_label: scope_label(&scope.scope, lang),
            stage: scope.stage,
            stage_name: stage_name(scope.stage),
            next_stage_needs: scope
                .criteria
                .iter()
                .filter(|c| c.level == scope.stage + 1 && !c.met)
                .map(|c| in_lang(lang, &c.description, c.description_ja.as_ref()))
                .collect(),
            criteria: scope
                .criteria
                .iter()
                .map(|c| CriterionView::new(c, lang))
                .collect(),
        })
        .collect()
}

fn weakness_trend(analysis: &Analysis) -> Vec<WeaknessQuarter> {
    analysis
        .quarters
        .iter()
        .map(|q| {
            let quarter = crate::vocab::time::parse_period(&q.quarter, 0).expect("quarters parse");
            let weaknesses = &analysis.weaknesses;
            WeaknessQuarter {
                quarter: q.quarter.clone(),
                found: weaknesses
                    .iter()
                    .filter(|w| quarter.contains(w.found_at))
                    .count(),
                fixed: weaknesses
                    .iter()
                    .filter(|w| w.fixed_at.is_some_and(|ts| quarter.contains(ts)))
                    .count(),
                open_at_end: weaknesses
                    .iter()
                    .filter(|w| {
                        w.found_at < quarter.end && w.fixed_at.is_none_or(|ts| ts >= quarter.end)
                    })
                    .count(),
            }
        })
        .collect()
}
