//! The report model: the one view that every report kind and format renders. Built from the
//! ledger's records and the analysis; templates see these structs only.

use rayon::prelude::*;
use serde::Serialize;

use super::i18n::{Lang, reason_codes, reason_texts, sentence, source_text};
use crate::analyze::JudgedExperiment;
use crate::analyze::maturity::{CriterionResult, Rubric};
use crate::analyze::mttr::{MttrRow, PeriodUnit};
use crate::analyze::program::Analysis;
use crate::analyze::reason::Reason;
pub use crate::analyze::review::{
    DiscussedWeakness, GreenGroup, IncidentQuarter, MonthVerdicts, TeamQuarter, VerdictCounts,
    WeaknessQuarter,
};
use crate::analyze::roi::{NotCounted, OutageHoursSource, Roi};
use crate::analyze::summary::QuarterSummary;
use crate::config::CostConfig;
use crate::vocab::Status;
use crate::vocab::format::{format_number, group_thousands};
use crate::vocab::time::{Micros, format_rfc3339};
use crate::vocab::{Scope, System};

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
    pub team_quarters: Vec<TeamQuarter>,
    pub outage_cost: OutageCost,
    pub incidents: IncidentSummary,
    pub mttr: Vec<MttrView>,
    /// The same MTTR by month (SPEC section 7; the quarterly HTML and PDF print `mttr`).
    pub monthly_mttr: Vec<MttrView>,
    pub incident_mttr: Vec<MttrView>,
    pub roi: RoiView,
    pub coverage: Vec<CoverageRow>,
    /// Weaknesses found and fixed per quarter, and open at each quarter's end.
    pub weakness_trend: Vec<WeaknessQuarter>,
    /// The period's green runs per template and team, as the PDF prints them.
    pub green_groups: Vec<GreenGroup>,
    /// The stage of the organisation and of every team in the period (SPEC section 11 `maturity[]`).
    pub maturity: Vec<MaturityView>,
    /// The stage of every scope per quarter, up to the period.
    pub maturity_trend: Vec<StagePointView>,
    /// The rubric's stages, for names and summaries.
    pub stages: Vec<LevelView>,
    /// The seed's phase scorecards for the organisation in the period.
    pub phases: Vec<PhaseView>,
    /// SPEC section 11 revision 2 for SRE leads (`analyze::readiness`).
    pub rto: Vec<RtoView>,
    pub freshness: Vec<FreshnessView>,
    /// The last green run per scope and system: the coverage's fresh and stale evidence.
    pub system_freshness: Vec<SystemFreshnessView>,
    pub blind_spots: Vec<BlindSpotView>,
    pub rehearsal_gap: Vec<RehearsalGapView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RtoView {
    pub service: String,
    pub rto_s: Option<f64>,
    pub impacted: usize,
    pub within: usize,
    /// The slowest recovery; for a run that never recovered, how long it was seen not to.
    pub worst_s: Option<f64>,
    pub worst_censored: bool,
    pub all_within: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FreshnessView {
    pub template_id: String,
    pub template_name: Option<String>,
    pub service: Option<String>,
    /// The systems its runs exercise, joined (`I, III`).
    pub system: String,
    pub last_green_at: Option<String>,
    pub age_days: Option<f64>,
    pub stale: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SystemFreshnessView {
    /// `organization` or the team's name; with `scope_label`, which tells the organisation from a
    /// team of that name.
    pub scope: String,
    pub scope_label: String,
    pub system: String,
    pub last_green_at: Option<String>,
    pub age_days: Option<f64>,
    pub stale: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlindSpotView {
    pub service: String,
    pub incidents: usize,
    pub last_experiment_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RehearsalGapView {
    pub service: String,
    pub experiment_median_s: Option<f64>,
    pub recovered_runs: usize,
    pub incident_median_s: Option<f64>,
    pub incidents: usize,
    /// incident median ÷ experiment median: how much longer reality takes than the drills.
    pub ratio: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MaturityView {
    /// `organization` or the team's name (a team may be called `organization` too).
    pub scope: String,
    /// The scope's key (`Scope::key`), which tells the organisation from any team; not in
    /// `report.json`.
    #[serde(skip)]
    pub scope_key: String,
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
    /// `standing == "met"`.
    pub met: bool,
    /// `met`, `not_met` or `unknown` (its data is missing or too thin to judge; not met).
    pub standing: &'static str,
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
            met: result.met(),
            standing: result.standing.name(),
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
    /// `organization` or the team's name (a team may be called `organization` too).
    pub scope: String,
    /// The scope's key (`Scope::key`), which tells the organisation from any team; not in
    /// `report.json`.
    #[serde(skip)]
    pub scope_key: String,
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

/// One row of an MTTR trend (SPEC section 11 `mttr[]`).
#[derive(Debug, Clone, Serialize)]
pub struct MttrView {
    pub period: String,
    /// `quarter` or `month`.
    pub period_kind: String,
    pub group_by: String,
    pub group: String,
    pub n: u64,
    pub mean_s: Option<f64>,
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
    pub censored: u64,
    pub km_median_s: Option<f64>,
    pub km_p90_s: Option<f64>,
    /// Whether the period had `[window] min_runs` impacted runs, so that it is compared.
    pub enough_runs: bool,
    pub change_vs_previous: Option<f64>,
    pub change_vs_first: Option<f64>,
}

impl From<&MttrRow> for MttrView {
    fn from(row: &MttrRow) -> Self {
        MttrView {
            period: row.period.clone(),
            period_kind: row.period_kind.to_string(),
            group_by: row.group_by.clone(),
            group: row.group.clone(),
            n: row.n,
            mean_s: row.mean_s,
            median_s: row.median_s,
            p90_s: row.p90_s,
            censored: row.censored,
            km_median_s: row.km_median_s,
            km_p90_s: row.km_p90_s,
            enough_runs: row.enough_runs,
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

/// SPEC section 11 `roi` (revision 2): every figure with what it is made of.
#[derive(Debug, Clone, Serialize)]
pub struct RoiView {
    pub currency: String,
    pub hourly_downtime_cost: f64,
    /// The seed's example: one outage of the configured hours at full revenue.
    pub configured_outage_hours: f64,
    pub configured_outage_cost: f64,
    /// The sum of `avoided` over the counted streams.
    pub avoided_cost: f64,
    pub avoided_cost_p10: f64,
    pub avoided_cost_p50: f64,
    pub avoided_cost_p90: f64,
    pub program_cost: f64,
    pub program_cost_parts: ProgramCostView,
    /// (avoided − cost) ÷ cost as a fraction (2.5 is 250%).
    pub roi: Option<f64>,
    pub roi_p10: Option<f64>,
    pub roi_p50: Option<f64>,
    pub roi_p90: Option<f64>,
    /// avoided ÷ cost.
    pub benefit_cost_ratio: Option<f64>,
    pub weaknesses_found: usize,
    pub weaknesses_fixed: usize,
    pub assumptions: Vec<AssumptionView>,
    pub streams: Vec<StreamView>,
    /// Widest ROI swing first (the tornado chart's order).
    pub sensitivity: Vec<SensitivityView>,
    /// Sentences of the executive page with their figures, in the report's language: the seed's
    /// example, how avoided loss is counted (with `findings_from`), and the scaling of a young
    /// ledger's cost (`null` for a ledger a year old or more).
    pub seed_example: String,
    pub avoided_formula: String,
    pub scaled_note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgramCostView {
    pub experiments: f64,
    pub remediation: f64,
    pub fis: f64,
    pub fixed: f64,
    pub experiment_count: usize,
    pub weaknesses_fixed: usize,
    pub fault_action_minutes: f64,
    /// Set when the ledger covers less than a year: the days it covers (the variable parts are
    /// multiplied by `scale` to make a year).
    pub scaled_from_days: Option<f64>,
    pub scale: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StreamView {
    pub service: String,
    pub fault_class: Option<String>,
    pub annual_rate: f64,
    pub annual_rate_p10: f64,
    pub annual_rate_p90: f64,
    pub severity: f64,
    pub outage_hours: f64,
    /// Where the outage hours come from, in the report's language.
    pub outage_hours_source: String,
    pub revenue_share: f64,
    pub hourly_cost: f64,
    pub avoided: f64,
    pub counted: bool,
    /// Why it adds nothing, in the report's language; `null` when counted.
    pub why_not: Option<String>,
    pub why_not_code: Option<String>,
    pub environments: Vec<String>,
    pub weaknesses: Vec<StreamWeaknessView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StreamWeaknessView {
    pub template_id: String,
    pub found_at: String,
    pub fixed_at: Option<String>,
    pub experiment_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SensitivityView {
    pub input: String,
    /// The input as readers see it, in the report's language.
    pub label: String,
    pub low: f64,
    pub high: f64,
    pub roi_at_low: Option<f64>,
    pub roi_at_high: Option<f64>,
}

/// Experiments per scope (organization or team) and system (SPEC section 11 `coverage[]`).
#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    /// `organization` or the team's name (a team may be called `organization` too).
    pub scope: String,
    /// The scope's key (`Scope::key`), which tells the organisation from any team; not in
    /// `report.json`.
    #[serde(skip)]
    pub scope_key: String,
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
    /// `month` for a calendar month, else `quarter`: which MTTR rows compare it (SPEC section 7).
    pub period_kind: String,
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
    /// `None` for a run that never recovered: see `censored_at_s`.
    pub time_to_recover_s: Option<f64>,
    /// For a run that never recovered, how long after `t0` it was last seen (the window's end).
    pub censored_at_s: Option<f64>,
    pub recover_within_s: Option<f64>,
    pub recovered: bool,
    pub systems: Vec<String>,
    pub reasons: Vec<String>,
    /// The codes of `reasons`, one each, the same in every language.
    pub reason_codes: Vec<String>,
    /// Every fault action was skipped: judged inconclusive, never a weakness found or fixed.
    pub dry_run: bool,
    /// The coarsest period its CloudWatch series were read at, in seconds (older history is kept
    /// only at coarser periods); `None` for Chaos Toolkit runs and runs without series.
    pub period_used_s: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeaknessRow {
    pub template: String,
    pub template_name: Option<String>,
    pub team: Option<String>,
    pub found_by: String,
    pub found_verdict: String,
    /// The worst verdict seen while the weakness was open.
    pub severity: String,
    pub found_at: String,
    pub fixed_by: Option<String>,
    pub fixed_at: Option<String>,
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
    let review = &analysis.review;
    let roi = &analysis.roi;
    let counts = &review.counts;
    let readiness = &analysis.readiness;
    ReportModel {
        organization: input.organization.to_string(),
        currency: input.currency.to_string(),
        generated_at: format_rfc3339(input.generated_at),
        period: ReportPeriod {
            start: format_rfc3339(period.start),
            end: format_rfc3339(period.end),
            label: period.label(),
            period_kind: PeriodUnit::of(period).name().to_string(),
        },
        summary: Summary {
            experiments: counts.experiments,
            teams: counts.teams,
            templates: counts.templates,
            quarters: analysis.quarters.len(),
            weaknesses_found: counts.weaknesses_found,
            weaknesses_fixed: counts.weaknesses_fixed,
            weaknesses_open: counts.weaknesses_open,
            impacted: counts.impacted,
            recovered: counts.recovered,
            censored: counts.impacted - counts.recovered,
        },
        verdict_counts: review.verdicts.clone(),
        quarters: analysis.quarters.iter().map(QuarterRow::from).collect(),
        months: review.months.clone(),
        // A row per run of the period, each with its reasons' text: on the cores (0.16 s on one
        // for a 100,000-experiment history).
        experiments: review
            .experiments
            .par_iter()
            .map(|index| experiment_row(&analysis.experiments[*index], lang))
            .collect(),
        weaknesses: review.weaknesses.iter().map(WeaknessRow::from).collect(),
        team_quarters: review.team_quarters.clone(),
        outage_cost: OutageCost {
            assumptions: input.cost.clone(),
            hourly_downtime_cost: roi.hourly_downtime_cost,
            outage_cost: roi.configured_outage_cost,
        },
        incidents: IncidentSummary {
            count: analysis.incidents.len(),
            by_quarter: review.incidents_by_quarter.clone(),
        },
        mttr: analysis.mttr.iter().map(MttrView::from).collect(),
        monthly_mttr: analysis.monthly_mttr.iter().map(MttrView::from).collect(),
        incident_mttr: analysis.incident_mttr.iter().map(MttrView::from).collect(),
        roi: roi_view(roi, &input.cost, input.currency, lang),
        coverage: review
            .coverage
            .iter()
            .map(|row| CoverageRow {
                scope_label: scope_label(&row.scope, lang),
                scope: row.scope.name().to_string(),
                scope_key: row.scope.key().to_string(),
                system: row.system.name().to_string(),
                experiments: row.experiments,
            })
            .collect(),
        weakness_trend: review.weakness_trend.clone(),
        green_groups: review.green_groups.clone(),
        maturity: maturity_views(analysis, input.rubric, lang),
        maturity_trend: analysis
            .maturity
            .trend
            .iter()
            .map(|point| StagePointView {
                scope: point.scope.name().to_string(),
                scope_key: point.scope.key().to_string(),
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
        rto: readiness
            .rto
            .iter()
            .map(|row| RtoView {
                service: row.service.clone(),
                rto_s: row.rto_s,
                impacted: row.impacted,
                within: row.within,
                worst_s: row.worst_s,
                worst_censored: row.worst_censored,
                all_within: row.all_within(),
            })
            .collect(),
        freshness: readiness
            .freshness
            .iter()
            .map(|row| FreshnessView {
                template_id: row.template.clone(),
                template_name: row.template_name.clone(),
                service: row.service.clone(),
                system: system_names(&row.systems).join(", "),
                last_green_at: row.last_green_at.map(format_rfc3339),
                age_days: row.age_days.map(|days| days.floor()),
                stale: row.stale,
            })
            .collect(),
        system_freshness: readiness
            .system_freshness
            .iter()
            .map(|row| SystemFreshnessView {
                scope: row.scope.name().to_string(),
                scope_label: scope_label(&row.scope, lang),
                system: row.system.name().to_string(),
                last_green_at: row.last_green_at.map(format_rfc3339),
                age_days: row.age_days.map(|days| days.floor()),
                stale: row.stale,
            })
            .collect(),
        blind_spots: readiness
            .blind_spots
            .iter()
            .map(|row| BlindSpotView {
                service: row.service.clone(),
                incidents: row.incidents,
                last_experiment_at: row.last_experiment_at.map(format_rfc3339),
            })
            .collect(),
        rehearsal_gap: readiness
            .rehearsal_gap
            .iter()
            .map(|row| RehearsalGapView {
                service: row.service.clone(),
                experiment_median_s: row.experiment_median_s,
                recovered_runs: row.recovered_runs,
                incident_median_s: row.incident_median_s,
                incidents: row.incidents,
                ratio: row.ratio(),
            })
            .collect(),
    }
}

fn experiment_row(judged: &JudgedExperiment, lang: Lang) -> ExperimentRow {
    let JudgedExperiment {
        experiment,
        outcome,
        systems,
        ..
    } = judged;
    ExperimentRow {
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
        censored_at_s: outcome.censored_at_s,
        recover_within_s: outcome.recover_within_s,
        recovered: outcome.recovered,
        systems: system_names(systems),
        reasons: reason_texts(lang, &outcome.reasons),
        reason_codes: reason_codes(&outcome.reasons),
        dry_run: outcome.reasons.contains(&Reason::DryRun),
        period_used_s: outcome.period_used_s,
    }
}

impl From<&DiscussedWeakness> for WeaknessRow {
    fn from(discussed: &DiscussedWeakness) -> Self {
        let weakness = &discussed.weakness;
        WeaknessRow {
            template: weakness.template.clone(),
            template_name: discussed.template_name.clone(),
            team: discussed.team.clone(),
            found_by: weakness.found_by.clone(),
            found_verdict: weakness.found_verdict.name().to_string(),
            severity: weakness.severity.name().to_string(),
            found_at: format_rfc3339(weakness.found_at),
            fixed_by: weakness.fixed_by.clone(),
            fixed_at: weakness.fixed_at.map(format_rfc3339),
        }
    }
}

impl From<&QuarterSummary> for QuarterRow {
    fn from(q: &QuarterSummary) -> Self {
        QuarterRow {
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
        }
    }
}

fn roi_view(roi: &Roi, cost: &CostConfig, currency: &str, lang: Lang) -> RoiView {
    let parts = &roi.program_cost_parts;
    let word = |key: &str, values: &[(&str, String)]| sentence(lang, key, values);
    RoiView {
        currency: currency.to_string(),
        hourly_downtime_cost: roi.hourly_downtime_cost,
        configured_outage_hours: cost.outage_hours,
        configured_outage_cost: roi.configured_outage_cost,
        avoided_cost: roi.avoided_cost,
        avoided_cost_p10: roi.avoided_cost_p10,
        avoided_cost_p50: roi.avoided_cost_p50,
        avoided_cost_p90: roi.avoided_cost_p90,
        program_cost: roi.program_cost,
        program_cost_parts: ProgramCostView {
            experiments: parts.experiments,
            remediation: parts.remediation,
            fis: parts.fis,
            fixed: parts.fixed,
            experiment_count: parts.experiment_count,
            weaknesses_fixed: parts.weaknesses_fixed,
            fault_action_minutes: parts.fault_action_minutes,
            scaled_from_days: parts.scaled_from_days,
            scale: parts.scale,
        },
        roi: roi.roi,
        roi_p10: roi.roi_p10,
        roi_p50: roi.roi_p50,
        roi_p90: roi.roi_p90,
        benefit_cost_ratio: roi.benefit_cost_ratio,
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
        streams: roi
            .streams
            .iter()
            .map(|stream| StreamView {
                service: stream.service.clone(),
                fault_class: stream.fault_class.clone(),
                annual_rate: stream.annual_rate,
                annual_rate_p10: stream.annual_rate_p10,
                annual_rate_p90: stream.annual_rate_p90,
                severity: stream.severity,
                outage_hours: stream.outage_hours,
                outage_hours_source: match &stream.outage_hours_source {
                    OutageHoursSource::ServiceIncidents { incidents } => {
                        word("hours_service_incidents", &[("n", incidents.to_string())])
                    }
                    OutageHoursSource::AllIncidents { incidents } => {
                        word("hours_all_incidents", &[("n", incidents.to_string())])
                    }
                    OutageHoursSource::Configured => word("hours_configured", &[]),
                },
                revenue_share: stream.revenue_share,
                hourly_cost: stream.hourly_cost,
                avoided: stream.avoided,
                counted: stream.counted(),
                why_not: stream.why_not.as_ref().map(|why| match why {
                    NotCounted::FoundOutside { environments } => word(
                        "why_not_found_outside",
                        &[(
                            "environments",
                            environments
                                .iter()
                                .map(|e| e.name())
                                .collect::<Vec<_>>()
                                .join(", "),
                        )],
                    ),
                    other => word(&format!("why_not_{}", other.code()), &[]),
                }),
                why_not_code: stream.why_not.as_ref().map(|why| why.code().to_string()),
                environments: stream
                    .environments
                    .iter()
                    .map(|e| e.name().to_string())
                    .collect(),
                weaknesses: stream
                    .weaknesses
                    .iter()
                    .map(|w| StreamWeaknessView {
                        template_id: w.template.clone(),
                        found_at: format_rfc3339(w.found_at),
                        fixed_at: w.fixed_at.map(format_rfc3339),
                        experiment_ids: w.experiment_ids.clone(),
                    })
                    .collect(),
            })
            .collect(),
        seed_example: word(
            "seed_example",
            &[
                ("hours", format_number(cost.outage_hours)),
                ("currency", currency.to_string()),
                ("cost", group_thousands(roi.configured_outage_cost)),
            ],
        ),
        avoided_formula: word(
            "avoided_formula",
            &[(
                "findings_from",
                cost.findings_from
                    .iter()
                    .map(|class| class.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            )],
        ),
        scaled_note: parts.scaled_from_days.map(|days| {
            word(
                "scaled_note",
                &[
                    ("days", format!("{}", days.round() as i64)),
                    ("scale", format!("{:.2}", parts.scale)),
                ],
            )
        }),
        sensitivity: roi
            .sensitivity
            .iter()
            .map(|row| SensitivityView {
                input: row.input.to_string(),
                label: word(&format!("sensitivity_{}", row.input), &[]),
                low: row.low,
                high: row.high,
                roi_at_low: row.roi_at_low,
                roi_at_high: row.roi_at_high,
            })
            .collect(),
    }
}

/// A scope as readers see it: the organisation in the report's language, a team by its name.
fn scope_label(scope: &Scope, lang: Lang) -> String {
    match scope {
        Scope::Organization => lang
            .messages()
            .get("organization_scope")
            .cloned()
            .unwrap_or_else(|| scope.name().to_string()),
        Scope::Team(team) => team.clone(),
    }
}

impl ReportModel {
    /// The label of a scope (by its key) that the maturity or coverage rows name (else its name).
    pub fn scope_label(&self, scope_key: &str) -> String {
        self.maturity
            .iter()
            .find(|m| m.scope_key == scope_key)
            .map(|m| m.scope_label.clone())
            .or_else(|| {
                self.coverage
                    .iter()
                    .find(|c| c.scope_key == scope_key)
                    .map(|c| c.scope_label.clone())
            })
            .unwrap_or_else(|| Scope::from_key(scope_key).name().to_string())
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
            scope: scope.scope.name().to_string(),
            scope_key: scope.scope.key().to_string(),
            scope_label: scope_label(&scope.scope, lang),
            stage: scope.stage,
            stage_name: stage_name(scope.stage),
            next_stage_needs: scope
                .criteria
                .iter()
                .filter(|c| c.level == scope.stage + 1 && !c.met())
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

/// The systems' names (`I` … `IV`), as the report prints them.
pub fn system_names(systems: &[System]) -> Vec<String> {
    systems.iter().map(|s| s.name().to_string()).collect()
}
