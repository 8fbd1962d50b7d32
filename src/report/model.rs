//! The report model: the one view that every report kind and format renders. Built from the
//! ledger's records and the analysis; templates see these structs only.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::analyze::mttr::MttrRow;
use crate::analyze::recovery::median;
use crate::analyze::roi::Roi;
use crate::analyze::summary::QuarterSummary;
use crate::analyze::weaknesses::Weakness;
use crate::analyze::{ExperimentOutcome, Verdict};
use crate::config::CostConfig;
use crate::ledger::{Experiment, Incident};
use crate::time::{Micros, Period, format_rfc3339, quarter_of};

#[derive(Debug, Clone, Serialize)]
pub struct ReportModel {
    pub organization: String,
    pub currency: String,
    pub generated_at: String,
    pub period: ReportPeriod,
    pub summary: Summary,
    pub verdict_counts: VerdictCounts,
    pub quarters: Vec<QuarterRow>,
    pub experiments: Vec<ExperimentRow>,
    pub weaknesses: Vec<WeaknessRow>,
    pub team_quarters: Vec<TeamQuarterRow>,
    pub outage_cost: OutageCost,
    pub incidents: IncidentSummary,
    pub mttr: Vec<MttrView>,
    pub incident_mttr: Vec<MttrView>,
    pub roi: RoiView,
    pub coverage: Vec<CoverageRow>,
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
    pub source: String,
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
    pub system: String,
    pub experiments: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportPeriod {
    pub start: Option<String>,
    pub end: Option<String>,
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
    pub status: String,
    pub verdict: String,
    pub time_to_impact_s: Option<f64>,
    pub time_to_recover_s: Option<f64>,
    pub recover_within_s: Option<f64>,
    pub recovered: bool,
    pub systems: Vec<String>,
    pub reasons: Vec<String>,
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
    pub organization: &'a str,
    pub currency: &'a str,
    pub generated_at: Micros,
    pub experiments: &'a [Experiment],
    /// `outcomes[i]` belongs to `experiments[i]`.
    pub outcomes: &'a [ExperimentOutcome],
    /// `systems[i]` are the systems `experiments[i]` exercises (`analyze::catalog::systems_of`).
    pub systems: &'a [Vec<String>],
    pub incidents: &'a [Incident],
    pub quarters: &'a [QuarterSummary],
    pub weaknesses: &'a [Weakness],
    pub cost: CostConfig,
    /// The reporting period, when one was asked for.
    pub period: Option<Period>,
    pub mttr: &'a [MttrRow],
    pub incident_mttr: &'a [MttrRow],
    pub roi: &'a Roi,
}

fn start_of(experiment: &Experiment) -> Micros {
    experiment.started_at.unwrap_or(experiment.created_at)
}

pub fn build_model(input: &ModelInput) -> ReportModel {
    // Experiments newest first, as a reviewer reads them.
    let mut order: Vec<usize> = (0..input.experiments.len()).collect();
    order.sort_by_key(|index| {
        std::cmp::Reverse((
            start_of(&input.experiments[*index]),
            input.experiments[*index].experiment_id.clone(),
        ))
    });

    let mut verdict_counts = VerdictCounts::default();
    let mut experiments = Vec::with_capacity(order.len());
    for index in order {
        let experiment = &input.experiments[index];
        let outcome = &input.outcomes[index];
        match outcome.verdict {
            Verdict::Green => verdict_counts.green += 1,
            Verdict::Yellow => verdict_counts.yellow += 1,
            Verdict::Red => verdict_counts.red += 1,
            Verdict::Inconclusive => verdict_counts.inconclusive += 1,
            Verdict::InProgress => verdict_counts.in_progress += 1,
        }
        let systems = input.systems[index].clone();
        experiments.push(ExperimentRow {
            experiment_id: experiment.experiment_id.clone(),
            template_id: experiment.template_id.clone(),
            template_name: experiment.template_name.clone(),
            team: experiment.team.clone(),
            environment: experiment.environment.clone(),
            trigger: experiment.trigger.clone(),
            started_at: experiment.started_at.map(format_rfc3339),
            ended_at: experiment.ended_at.map(format_rfc3339),
            status: experiment.status.clone(),
            verdict: outcome.verdict.name().to_string(),
            time_to_impact_s: outcome.time_to_impact_s,
            time_to_recover_s: outcome.time_to_recover_s,
            recover_within_s: experiment.recover_within_s,
            recovered: outcome.recovered,
            systems,
            reasons: outcome.reasons.clone(),
        });
    }

    let template_info: BTreeMap<&str, &Experiment> = input
        .experiments
        .iter()
        .filter_map(|e| crate::analyze::weaknesses::template_key(e).map(|key| (key, e)))
        .collect();
    let weaknesses: Vec<WeaknessRow> = input
        .weaknesses
        .iter()
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
    for (experiment, systems) in input.experiments.iter().zip(input.systems) {
        let team = experiment
            .team
            .clone()
            .unwrap_or_else(|| "(no team)".to_string());
        let quarter = quarter_of(start_of(experiment));
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
        let environment = experiment.environment.as_deref().unwrap_or_default();
        row.outside_dev += usize::from(matches!(environment, "staging" | "prod"));
        row.production += usize::from(environment == "prod");
        row.automated += usize::from(matches!(
            experiment.trigger.as_deref(),
            Some("ci" | "scheduled")
        ));
        row.gameday += usize::from(experiment.trigger.as_deref() == Some("gameday"));
        row.with_alarm_stop_condition += usize::from(!experiment.stop_condition_alarms.is_empty());
        for system in systems {
            if !row.systems.contains(system) {
                row.systems.push(system.clone());
            }
        }
    }
    for weakness in input.weaknesses {
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
    for incident in input.incidents {
        incidents_by_quarter
            .entry(quarter_of(incident.started_at))
            .or_default()
            .push((incident.resolved_at - incident.started_at) as f64 / 3.6e9);
    }

    let mut coverage: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (experiment, systems) in input.experiments.iter().zip(input.systems) {
        for system in systems {
            *coverage
                .entry(("organization".to_string(), system.clone()))
                .or_default() += 1;
            if let Some(team) = &experiment.team {
                *coverage.entry((team.clone(), system.clone())).or_default() += 1;
            }
        }
    }
    let roi = input.roi;
    let starts: Vec<Micros> = input.experiments.iter().map(start_of).collect();
    let cost = input.cost;
    let hourly_downtime_cost =
        cost.revenue_per_hour + cost.engineers_on_incident * cost.engineer_hourly_rate;
    let impacted = input
        .outcomes
        .iter()
        .filter(|o| o.verdict.is_conclusive() && o.impacted)
        .count();
    let recovered = input
        .outcomes
        .iter()
        .filter(|o| o.verdict.is_conclusive() && o.impacted && o.recovered)
        .count();
    ReportModel {
        organization: input.organization.to_string(),
        currency: input.currency.to_string(),
        generated_at: format_rfc3339(input.generated_at),
        period: match input.period {
            Some(period) => ReportPeriod {
                start: Some(format_rfc3339(period.start)),
                end: Some(format_rfc3339(period.end)),
            },
            None => ReportPeriod {
                start: starts.iter().min().map(|ts| format_rfc3339(*ts)),
                end: starts.iter().max().map(|ts| format_rfc3339(*ts)),
            },
        },
        summary: Summary {
            experiments: input.experiments.len(),
            teams: input
                .experiments
                .iter()
                .filter_map(|e| e.team.as_deref())
                .collect::<BTreeSet<_>>()
                .len(),
            templates: template_info.len(),
            quarters: input.quarters.len(),
            weaknesses_found: input.weaknesses.len(),
            weaknesses_fixed: input
                .weaknesses
                .iter()
                .filter(|w| w.fixed_by.is_some())
                .count(),
            weaknesses_open: input
                .weaknesses
                .iter()
                .filter(|w| w.fixed_by.is_none())
                .count(),
            impacted,
            recovered,
            censored: impacted - recovered,
        },
        verdict_counts,
        quarters: input
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
        experiments,
        weaknesses,
        team_quarters: team_quarters.into_values().collect(),
        outage_cost: OutageCost {
            assumptions: cost,
            hourly_downtime_cost,
            outage_cost: hourly_downtime_cost * cost.outage_hours,
        },
        incidents: IncidentSummary {
            count: input.incidents.len(),
            by_quarter: incidents_by_quarter
                .into_iter()
                .map(|(quarter, hours)| IncidentQuarter {
                    quarter,
                    incidents: hours.len(),
                    median_hours: median(&hours),
                })
                .collect(),
        },
        mttr: input.mttr.iter().map(MttrView::from).collect(),
        incident_mttr: input.incident_mttr.iter().map(MttrView::from).collect(),
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
                    source: a.source.clone(),
                })
                .collect(),
        },
        coverage: coverage
            .into_iter()
            .map(|((scope, system), experiments)| CoverageRow {
                scope,
                system,
                experiments,
            })
            .collect(),
    }
}
