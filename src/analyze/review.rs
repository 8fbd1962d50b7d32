//! The figures of the reporting period that a quarterly review reads beside the trends: verdicts
//! by month, the summary counts, the weaknesses discussed, each team's practice by quarter,
//! incidents by quarter, coverage of the four systems, and the green runs grouped per template.
//! The report model only maps these to view structs and formats them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::JudgedExperiment;
use super::summary::QuarterSummary;
use super::weaknesses::{Weakness, template_key};
use crate::ledger::{Experiment, Incident};
use crate::vocab::practice::{EnvironmentClass, TriggerClass};
use crate::vocab::stats::median;
use crate::vocab::time::{Period, month_of, parse_period, quarter_of};
use crate::vocab::{Scope, System, Verdict};

/// How many experiments ended with each verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct VerdictCounts {
    pub green: usize,
    pub yellow: usize,
    pub red: usize,
    pub inconclusive: usize,
    pub in_progress: usize,
}

impl VerdictCounts {
    pub fn total(&self) -> usize {
        self.green + self.yellow + self.red + self.inconclusive + self.in_progress
    }

    fn add(&mut self, verdict: Verdict) {
        let count = match verdict {
            Verdict::Green => &mut self.green,
            Verdict::Yellow => &mut self.yellow,
            Verdict::Red => &mut self.red,
            Verdict::Inconclusive => &mut self.inconclusive,
            Verdict::InProgress => &mut self.in_progress,
        };
        *count += 1;
    }
}

/// The verdicts of one month of the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MonthVerdicts {
    pub month: String,
    #[serde(flatten)]
    pub verdicts: VerdictCounts,
}

/// The period's counts of the summary table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeriodCounts {
    pub experiments: usize,
    pub teams: usize,
    pub templates: usize,
    pub weaknesses_found: usize,
    pub weaknesses_fixed: usize,
    /// Open at the period's end, whenever found.
    pub weaknesses_open: usize,
    /// Conclusive experiments whose steady state was left.
    pub impacted: usize,
    /// Of those, the ones that came back within the observation window.
    pub recovered: usize,
}

/// A weakness with its template's name and team, as the ledger's experiments name them.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscussedWeakness {
    pub weakness: Weakness,
    pub template_name: Option<String>,
    pub team: Option<String>,
}

/// One team's practice in one quarter (every quarter to the period's end).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamQuarter {
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
    /// In the order I, II, III, IV.
    pub systems: Vec<System>,
}

/// Real incidents that started in one quarter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentQuarter {
    pub quarter: String,
    pub incidents: usize,
    pub median_hours: Option<f64>,
}

/// How many of the period's experiments exercised a system, for the organisation or a team.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    pub scope: Scope,
    pub system: System,
    pub experiments: usize,
}

/// Weaknesses found and fixed in one quarter, and open at its end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeaknessQuarter {
    pub quarter: String,
    pub found: usize,
    pub fixed: usize,
    pub open_at_end: usize,
}

/// The period's green runs of one template and team (the PDF prints these instead of a row per
/// green run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GreenGroup {
    pub template_name: Option<String>,
    pub team: Option<String>,
    pub runs: usize,
    pub median_time_to_recover_s: Option<f64>,
    pub slowest_time_to_recover_s: Option<f64>,
}

/// Everything a review shows of the period besides the trends.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodReview {
    /// Indexes into the analysis's experiments of those started in the period, newest first.
    pub experiments: Vec<usize>,
    pub verdicts: VerdictCounts,
    pub months: Vec<MonthVerdicts>,
    pub counts: PeriodCounts,
    /// Found or fixed in the period, or still open.
    pub weaknesses: Vec<DiscussedWeakness>,
    pub team_quarters: Vec<TeamQuarter>,
    pub incidents_by_quarter: Vec<IncidentQuarter>,
    /// By scope (in `Scope::report_order`: by name) and system.
    pub coverage: Vec<Coverage>,
    pub weakness_trend: Vec<WeaknessQuarter>,
    /// In the order of each group's newest run.
    pub green_groups: Vec<GreenGroup>,
}

/// The review of `period` from the program's experiments (every one started before its end).
pub fn review_period(
    period: Period,
    experiments: &[JudgedExperiment],
    weaknesses: &[Weakness],
    incidents: &[Incident],
    quarters: &[QuarterSummary],
) -> PeriodReview {
    // Experiments of the period, newest first, as a reviewer reads them.
    let mut order: Vec<usize> = (0..experiments.len())
        .filter(|index| experiments[*index].in_period)
        .collect();
    let key = |index: &usize| (experiments[*index].start(), experiments[*index].id());
    order.sort_by(|a, b| key(b).cmp(&key(a)));
    let in_period: Vec<&JudgedExperiment> = order.iter().map(|i| &experiments[*i]).collect();

    let mut verdicts = VerdictCounts::default();
    let mut months: BTreeMap<String, VerdictCounts> = BTreeMap::new();
    for judged in &in_period {
        verdicts.add(judged.outcome.verdict);
        months
            .entry(month_of(judged.start()))
            .or_default()
            .add(judged.outcome.verdict);
    }
    let template_info: BTreeMap<&str, &Experiment> = experiments
        .iter()
        .filter_map(|e| template_key(&e.experiment).map(|key| (key, &e.experiment)))
        .collect();
    let team_of_template =
        |template: &str| template_info.get(template).and_then(|e| e.team.clone());

    PeriodReview {
        verdicts,
        months: months
            .into_iter()
            .map(|(month, verdicts)| MonthVerdicts { month, verdicts })
            .collect(),
        counts: period_counts(period, &in_period, weaknesses),
        weaknesses: weaknesses
            .iter()
            .filter(|w| {
                period.contains(w.found_at)
                    || w.fixed_at.is_none()
                    || w.fixed_at.is_some_and(|ts| period.contains(ts))
            })
            .map(|weakness| DiscussedWeakness {
                weakness: weakness.clone(),
                template_name: template_info
                    .get(weakness.template.as_str())
                    .and_then(|e| e.template_name.clone()),
                team: team_of_template(&weakness.template),
            })
            .collect(),
        team_quarters: team_quarters(experiments, weaknesses, &team_of_template),
        incidents_by_quarter: incidents_by_quarter(incidents),
        coverage: coverage(&in_period),
        weakness_trend: weakness_trend(quarters, weaknesses),
        green_groups: green_groups(&in_period),
        experiments: order,
    }
}

fn period_counts(
    period: Period,
    in_period: &[&JudgedExperiment],
    weaknesses: &[Weakness],
) -> PeriodCounts {
    let impacted = |judged: &&&JudgedExperiment| {
        judged.outcome.verdict.is_conclusive() && judged.outcome.impacted
    };
    PeriodCounts {
        experiments: in_period.len(),
        teams: in_period
            .iter()
            .filter_map(|e| e.experiment.team.as_deref())
            .collect::<BTreeSet<_>>()
            .len(),
        templates: in_period
            .iter()
            .filter_map(|e| template_key(&e.experiment))
            .collect::<BTreeSet<_>>()
            .len(),
        weaknesses_found: weaknesses
            .iter()
            .filter(|w| period.contains(w.found_at))
            .count(),
        weaknesses_fixed: weaknesses
            .iter()
            .filter(|w| w.fixed_at.is_some_and(|ts| period.contains(ts)))
            .count(),
        weaknesses_open: weaknesses.iter().filter(|w| w.fixed_by.is_none()).count(),
        impacted: in_period.iter().filter(impacted).count(),
        recovered: in_period
            .iter()
            .filter(impacted)
            .filter(|e| e.outcome.recovered)
            .count(),
    }
}

fn team_quarters(
    experiments: &[JudgedExperiment],
    weaknesses: &[Weakness],
    team_of_template: &dyn Fn(&str) -> Option<String>,
) -> Vec<TeamQuarter> {
    let mut rows: BTreeMap<(String, String), TeamQuarter> = BTreeMap::new();
    for judged in experiments {
        let experiment = &judged.experiment;
        let team = experiment
            .team
            .clone()
            .unwrap_or_else(|| "(no team)".to_string());
        let quarter = quarter_of(experiment.start());
        let row = rows
            .entry((team.clone(), quarter.clone()))
            .or_insert_with(|| TeamQuarter {
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
        let (environment, trigger) = (judged.environment, experiment.trigger_class());
        row.outside_dev += usize::from(environment.is_outside_dev());
        row.production += usize::from(environment == EnvironmentClass::Production);
        row.automated += usize::from(trigger == TriggerClass::Automated);
        row.gameday += usize::from(trigger == TriggerClass::GameDay);
        row.with_alarm_stop_condition += usize::from(!experiment.stop_condition_alarms.is_empty());
        for system in &judged.systems {
            if !row.systems.contains(system) {
                row.systems.push(*system);
            }
        }
    }
    for weakness in weaknesses {
        let Some(team) = team_of_template(&weakness.template) else {
            continue;
        };
        if let Some(row) = rows.get_mut(&(team.clone(), quarter_of(weakness.found_at))) {
            row.weaknesses_found += 1;
        }
        if let Some(fixed_at) = weakness.fixed_at
            && let Some(row) = rows.get_mut(&(team, quarter_of(fixed_at)))
        {
            row.weaknesses_fixed += 1;
        }
    }
    for row in rows.values_mut() {
        row.systems.sort();
    }
    rows.into_values().collect()
}

fn incidents_by_quarter(incidents: &[Incident]) -> Vec<IncidentQuarter> {
    let mut hours_by_quarter: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for incident in incidents {
        hours_by_quarter
            .entry(quarter_of(incident.started_at))
            .or_default()
            .push((incident.resolved_at - incident.started_at) as f64 / 3.6e9);
    }
    hours_by_quarter
        .into_iter()
        .map(|(quarter, hours)| IncidentQuarter {
            quarter,
            incidents: hours.len(),
            median_hours: median(&hours),
        })
        .collect()
}

fn coverage(in_period: &[&JudgedExperiment]) -> Vec<Coverage> {
    // By the team's borrowed name (`None`: the organisation): a scope is made once a row, not
    // once a run and system.
    let mut counts: HashMap<(Option<&str>, System), usize> = HashMap::new();
    for judged in in_period {
        for system in &judged.systems {
            *counts.entry((None, *system)).or_default() += 1;
            if let Some(team) = judged.experiment.team.as_deref() {
                *counts.entry((Some(team), *system)).or_default() += 1;
            }
        }
    }
    let mut rows: Vec<Coverage> = counts
        .into_iter()
        .map(|((team, system), experiments)| Coverage {
            scope: team.map_or(Scope::Organization, |team| Scope::Team(team.to_string())),
            system,
            experiments,
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.scope.report_order(), &a.system).cmp(&(b.scope.report_order(), &b.system))
    });
    rows
}

fn weakness_trend(quarters: &[QuarterSummary], weaknesses: &[Weakness]) -> Vec<WeaknessQuarter> {
    quarters
        .iter()
        .map(|q| {
            let quarter = parse_period(&q.quarter, 0).expect("quarters parse");
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

/// The period's green runs grouped by template name and team, in the order of each group's
/// newest run (`in_period` is newest first).
fn green_groups(in_period: &[&JudgedExperiment]) -> Vec<GreenGroup> {
    let mut groups: Vec<(GreenGroup, Vec<f64>)> = Vec::new();
    let mut position_of: BTreeMap<(Option<&str>, Option<&str>), usize> = BTreeMap::new();
    for judged in in_period
        .iter()
        .filter(|e| e.outcome.verdict == Verdict::Green)
    {
        let experiment = &judged.experiment;
        let key = (
            experiment.template_name.as_deref(),
            experiment.team.as_deref(),
        );
        let position = *position_of.entry(key).or_insert_with(|| {
            groups.push((
                GreenGroup {
                    template_name: experiment.template_name.clone(),
                    team: experiment.team.clone(),
                    runs: 0,
                    median_time_to_recover_s: None,
                    slowest_time_to_recover_s: None,
                },
                Vec::new(),
            ));
            groups.len() - 1
        });
        let (group, recoveries) = &mut groups[position];
        group.runs += 1;
        recoveries.extend(judged.outcome.time_to_recover_s);
    }
    groups
        .into_iter()
        .map(|(mut group, recoveries)| {
            group.median_time_to_recover_s = median(&recoveries);
            group.slowest_time_to_recover_s = recoveries.iter().copied().reduce(f64::max);
            group
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::ExperimentOutcome;
    use crate::vocab::practice::EnvironmentClass;
    use crate::vocab::time::from_datetime;
    use chrono::{TimeZone, Utc};

    /// A run of `template` by `team` on day `day` of July or August 2026.
    fn run(
        id: &str,
        (month, day): (u32, u32),
        template: &str,
        team: &str,
        verdict: Verdict,
        time_to_recover_s: Option<f64>,
    ) -> JudgedExperiment {
        let start = from_datetime(Utc.with_ymd_and_hms(2026, month, day, 12, 0, 0).unwrap());
        let period = parse_period("2026Q3", 0).unwrap();
        JudgedExperiment {
            experiment: Experiment {
                template_id: Some(format!("EXT-{template}")),
                template_name: Some(template.into()),
                team: Some(team.into()),
                ..Experiment::example(id, start)
            },
            outcome: ExperimentOutcome {
                time_to_recover_s,
                impacted: time_to_recover_s.is_some_and(|s| s > 0.0),
                recovered: time_to_recover_s.is_some_and(|s| s > 0.0),
                ..ExperimentOutcome::example(id, verdict, start)
            },
            systems: vec![System::I],
            in_period: period.contains(start),
            environment: EnvironmentClass::Development,
        }
    }

    #[test]
    fn the_period_is_counted_by_month_and_green_runs_grouped_with_their_true_median() {
        use Verdict::*;
        let experiments = vec![
            run("E1", (7, 1), "web", "a", Green, Some(60.0)),
            run("E2", (7, 2), "web", "a", Green, Some(200.0)),
            run("E3", (8, 3), "web", "a", Green, Some(100.0)),
            run("E4", (8, 4), "web", "a", Green, Some(120.0)),
            run("E5", (8, 5), "db", "b", Red, None),
            run("E6", (8, 6), "db", "b", Green, None),
        ];
        let period = parse_period("2026Q3", 0).unwrap();
        let review = review_period(period, &experiments, &[], &[], &[]);
        // Newest first.
        assert_eq!(review.experiments, vec![5, 4, 3, 2, 1, 0]);
        assert_eq!((review.verdicts.green, review.verdicts.red), (5, 1));
        let months: Vec<(&str, usize)> = review
            .months
            .iter()
            .map(|m| (m.month.as_str(), m.verdicts.total()))
            .collect();
        assert_eq!(months, [("2026-07", 2), ("2026-08", 4)]);
        // db's newest green run is newer than web's; web's four recoveries 60, 100, 120, 200
        // have the median (100 + 120) / 2, not the upper middle 120.
        let groups: Vec<(Option<&str>, usize, Option<f64>, Option<f64>)> = review
            .green_groups
            .iter()
            .map(|g| {
                let name = g.template_name.as_deref();
                (
                    name,
                    g.runs,
                    g.median_time_to_recover_s,
                    g.slowest_time_to_recover_s,
                )
            })
            .collect();
        assert_eq!(
            groups,
            [
                (Some("db"), 1, None, None),
                (Some("web"), 4, Some(110.0), Some(200.0))
            ]
        );
        let coverage: Vec<(&str, usize)> = review
            .coverage
            .iter()
            .map(|c| (c.scope.name(), c.experiments))
            .collect();
        assert_eq!(coverage, [("a", 4), ("b", 2), ("organization", 6)]);
        assert_eq!((review.counts.teams, review.counts.templates), (2, 2));
    }
}
