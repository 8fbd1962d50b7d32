//! What an SRE lead asks after "what happened" (SPEC section 11 revision 2): are we within our
//! recovery objectives (RTO compliance), which evidence has gone stale (freshness), where do real
//! incidents happen that we never rehearse (blind spots), and how far drills are from reality
//! (rehearsal gap). All as of the period's end, from the judged experiments and the incidents.

use std::collections::{BTreeMap, BTreeSet};

use super::JudgedExperiment;
use super::weaknesses::template_key;
use crate::ledger::Incident;
use crate::vocab::stats::median;
use crate::vocab::time::{
    MICROS_PER_DAY as DAY, MICROS_PER_SECOND, Micros, Period, micros_from_seconds,
};
use crate::vocab::{Scope, System, Verdict};

/// Per service: the period's impacted runs that had a recovery objective, and how many recovered
/// within it.
#[derive(Debug, Clone, PartialEq)]
pub struct RtoCompliance {
    pub service: String,
    /// `[[service]] rto`, else the runs' `recover_within` when they all share one; `None` when
    /// they differ (each run was held to its own).
    pub rto_s: Option<f64>,
    pub impacted: usize,
    pub within: usize,
    /// The slowest recovery, or, when a run never recovered, how long it was seen not to.
    pub worst_s: Option<f64>,
    /// Whether `worst_s` is a run that never recovered (at least that long).
    pub worst_censored: bool,
}

impl RtoCompliance {
    pub fn all_within(&self) -> bool {
        self.within == self.impacted
    }
}

/// The last green run of a template, and whether that evidence is stale.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateFreshness {
    pub template: String,
    pub template_name: Option<String>,
    pub service: Option<String>,
    pub systems: Vec<System>,
    pub last_green_at: Option<Micros>,
    /// Days from the last green run to the period's end; `None` when never green.
    pub age_days: Option<f64>,
    /// Older than `fresh_for`, or never green.
    pub stale: bool,
}

/// The last green run of a scope (the organisation or a team) exercising a system.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemFreshness {
    pub scope: Scope,
    pub system: System,
    pub last_green_at: Option<Micros>,
    pub age_days: Option<f64>,
    pub stale: bool,
}

/// A service with incidents in the period and no measurable experiment in the `fresh_for` before
/// its latest one.
#[derive(Debug, Clone, PartialEq)]
pub struct BlindSpot {
    pub service: String,
    pub incidents: usize,
    /// Its latest measurable experiment before the period's end, if any.
    pub last_experiment_at: Option<Micros>,
}

/// Per service: the experimental median recovery beside the real incidents' median duration.
#[derive(Debug, Clone, PartialEq)]
pub struct RehearsalGap {
    pub service: String,
    pub experiment_median_s: Option<f64>,
    pub recovered_runs: usize,
    pub incident_median_s: Option<f64>,
    pub incidents: usize,
}

impl RehearsalGap {
    /// How many times longer real incidents last than the drills' recoveries.
    pub fn ratio(&self) -> Option<f64> {
        match (self.incident_median_s, self.experiment_median_s) {
            (Some(real), Some(drill)) if drill > 0.0 => Some(real / drill),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    pub rto: Vec<RtoCompliance>,
    pub freshness: Vec<TemplateFreshness>,
    pub system_freshness: Vec<SystemFreshness>,
    pub blind_spots: Vec<BlindSpot>,
    pub rehearsal_gap: Vec<RehearsalGap>,
}

/// Everything readiness is computed from.
pub struct ReadinessInput<'a> {
    pub period: Period,
    /// Every experiment started before the period's end.
    pub experiments: &'a [JudgedExperiment],
    /// Every incident started before the period's end.
    pub incidents: &'a [Incident],
    /// `[[service]] rto` by service.
    pub rto_by_service: &'a BTreeMap<String, f64>,
    /// `[window] fresh_for`.
    pub fresh_for_s: f64,
}

/// A run whose verdict measured the system: green, yellow or red.
fn measurable(judged: &JudgedExperiment) -> bool {
    judged.outcome.verdict.is_conclusive()
}

pub fn assess_readiness(input: &ReadinessInput) -> Readiness {
    let period = input.period;
    let fresh_for = micros_from_seconds(input.fresh_for_s);
    let age_days = |at: Micros| (period.end - at) as f64 / DAY as f64;
    let is_stale = |last: Option<Micros>| last.is_none_or(|at| period.end - at > fresh_for);
    let service_of = |judged: &JudgedExperiment| judged.experiment.service.clone();

    // RTO compliance over the period's impacted runs with an objective.
    let mut rto: BTreeMap<String, RtoCompliance> = BTreeMap::new();
    let mut objectives: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for judged in input.experiments.iter().filter(|e| e.in_period) {
        let outcome = &judged.outcome;
        let (Some(service), Some(allowed)) = (service_of(judged), outcome.recover_within_s) else {
            continue;
        };
        if !(measurable(judged) && outcome.impacted) {
            continue;
        }
        objectives
            .entry(service.clone())
            .or_default()
            .insert(allowed.to_bits());
        let row = rto.entry(service.clone()).or_insert(RtoCompliance {
            service,
            rto_s: None,
            impacted: 0,
            within: 0,
            worst_s: None,
            worst_censored: false,
        });
        row.impacted += 1;
        let took = outcome.time_to_recover_s;
        if took.is_some_and(|took| took <= allowed) {
            row.within += 1;
        }
        // A run that never recovered is worse than any that did; then the longer, the worse.
        if let Some(seen) = took.or(outcome.censored_at_s) {
            let censored = took.is_none();
            let worse = match row.worst_s {
                None => true,
                Some(worst) => (censored, seen) > (row.worst_censored, worst),
            };
            if worse {
                row.worst_s = Some(seen);
                row.worst_censored = censored;
            }
        }
    }
    for row in rto.values_mut() {
        row.rto_s = input.rto_by_service.get(&row.service).copied().or_else(|| {
            let shared = &objectives[&row.service];
            (shared.len() == 1).then(|| f64::from_bits(*shared.iter().next().unwrap()))
        });
    }

    // Freshness by template and by system: the last green run before the period's end.
    let mut templates: BTreeMap<String, TemplateFreshness> = BTreeMap::new();
    let mut last_green_by_system: BTreeMap<(Scope, System), Micros> = BTreeMap::new();
    let mut scopes: BTreeSet<Scope> = BTreeSet::from([Scope::Organization]);
    for judged in input.experiments {
        let Some(template) = template_key(&judged.experiment) else {
            continue;
        };
        let row = templates
            .entry(template.to_string())
            .or_insert_with(|| TemplateFreshness {
                template: template.to_string(),
                template_name: judged.experiment.template_name.clone(),
                service: service_of(judged),
                systems: Vec::new(),
                last_green_at: None,
                age_days: None,
                stale: true,
            });
        for system in &judged.systems {
            if !row.systems.contains(system) {
                row.systems.push(*system);
            }
        }
        let team = judged.experiment.team.clone().map(Scope::Team);
        scopes.extend(team.clone());
        if judged.outcome.verdict == Verdict::Green {
            let at = judged.start();
            row.last_green_at = Some(row.last_green_at.map_or(at, |last| last.max(at)));
            for system in &judged.systems {
                for scope in std::iter::once(Scope::Organization).chain(team.clone()) {
                    let last = last_green_by_system.entry((scope, *system)).or_insert(at);
                    *last = (*last).max(at);
                }
            }
        }
    }
    let freshness: Vec<TemplateFreshness> = templates
        .into_values()
        .map(|mut row| {
            row.systems.sort();
            row.age_days = row.last_green_at.map(age_days);
            row.stale = is_stale(row.last_green_at);
            row
        })
        .collect();
    // The organisation first (it sorts first), then the teams, each with the four systems.
    let system_freshness = scopes
        .iter()
        .flat_map(|scope| System::ALL.iter().map(move |system| (scope, system)))
        .map(|(scope, system)| {
            let last = last_green_by_system.get(&(scope.clone(), *system)).copied();
            SystemFreshness {
                scope: scope.clone(),
                system: *system,
                last_green_at: last,
                age_days: last.map(age_days),
                stale: is_stale(last),
            }
        })
        .collect();

    // Blind spots: incidents in the period, no measurable experiment in the fresh_for before
    // the latest of them.
    let mut incidents_by_service: BTreeMap<&str, Vec<&Incident>> = BTreeMap::new();
    for incident in input.incidents {
        if let Some(service) = incident.service.as_deref() {
            incidents_by_service
                .entry(service)
                .or_default()
                .push(incident);
        }
    }
    let measured_runs = |service: &str| -> Vec<Micros> {
        input
            .experiments
            .iter()
            .filter(|e| measurable(e) && e.experiment.service.as_deref() == Some(service))
            .map(JudgedExperiment::start)
            .collect()
    };
    let mut blind_spots = Vec::new();
    for (service, incidents) in &incidents_by_service {
        let in_period: Vec<&&Incident> = incidents
            .iter()
            .filter(|i| period.contains(i.started_at))
            .collect();
        let Some(latest) = in_period.iter().map(|i| i.started_at).max() else {
            continue;
        };
        let runs = measured_runs(service);
        let rehearsed = runs
            .iter()
            .any(|start| *start <= latest && latest - start <= fresh_for);
        if !rehearsed {
            blind_spots.push(BlindSpot {
                service: service.to_string(),
                incidents: in_period.len(),
                last_experiment_at: runs.iter().copied().max(),
            });
        }
    }

    // Rehearsal gap: the period's recovered runs beside the period's incidents, per service.
    let mut services: BTreeSet<String> = input
        .experiments
        .iter()
        .filter(|e| e.in_period)
        .filter_map(service_of)
        .collect();
    services.extend(
        input
            .incidents
            .iter()
            .filter(|i| period.contains(i.started_at))
            .filter_map(|i| i.service.clone()),
    );
    let rehearsal_gap = services
        .into_iter()
        .map(|service| {
            let recoveries: Vec<f64> = input
                .experiments
                .iter()
                .filter(|e| e.in_period && measurable(e) && e.outcome.impacted)
                .filter(|e| e.experiment.service.as_deref() == Some(service.as_str()))
                .filter_map(|e| e.outcome.time_to_recover_s)
                .collect();
            let durations: Vec<f64> = input
                .incidents
                .iter()
                .filter(|i| period.contains(i.started_at))
                .filter(|i| i.service.as_deref() == Some(service.as_str()))
                .map(|i| (i.resolved_at - i.started_at) as f64 / MICROS_PER_SECOND as f64)
                .collect();
            RehearsalGap {
                experiment_median_s: median(&recoveries),
                recovered_runs: recoveries.len(),
                incident_median_s: median(&durations),
                incidents: durations.len(),
                service,
            }
        })
        .collect();

    Readiness {
        rto: rto.into_values().collect(),
        freshness,
        system_freshness,
        blind_spots,
        rehearsal_gap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::ExperimentOutcome;
    use crate::ledger::Experiment;
    use crate::vocab::practice::EnvironmentClass;
    use crate::vocab::time::parse_period;

    /// A run of `template` on `service`, `days` before the period's end (2026Q3).
    fn run(template: &str, service: &str, days: i64, verdict: Verdict) -> JudgedExperiment {
        let period = parse_period("2026Q3", 0).unwrap();
        let start = period.end - days * DAY;
        let id = format!("{template}-{days}");
        JudgedExperiment {
            experiment: Experiment {
                template_id: Some(template.to_string()),
                template_name: Some(template.to_string()),
                service: Some(service.to_string()),
                team: Some("web".to_string()),
                ..Experiment::example(&id, start)
            },
            outcome: ExperimentOutcome::example(&id, verdict, start),
            systems: vec![System::I],
            in_period: period.contains(start),
            environment: EnvironmentClass::Production,
        }
    }

    fn recovered(mut judged: JudgedExperiment, after_s: f64, allowed_s: f64) -> JudgedExperiment {
        judged.outcome.impacted = true;
        judged.outcome.recovered = true;
        judged.outcome.time_to_recover_s = Some(after_s);
        judged.outcome.recover_within_s = Some(allowed_s);
        judged
    }

    fn incident(service: &str, days: i64, hours: i64) -> Incident {
        let end = parse_period("2026Q3", 0).unwrap().end;
        Incident {
            incident_id: format!("INC-{service}-{days}"),
            service: Some(service.to_string()),
            team: None,
            severity: None,
            started_at: end - days * DAY,
            resolved_at: end - days * DAY + hours * 3600 * MICROS_PER_SECOND,
            customer_impact: None,
        }
    }

    fn assess(experiments: &[JudgedExperiment], incidents: &[Incident]) -> Readiness {
        assess_readiness(&ReadinessInput {
            period: parse_period("2026Q3", 0).unwrap(),
            experiments,
            incidents,
            rto_by_service: &BTreeMap::from([("checkout".to_string(), 300.0)]),
            fresh_for_s: 90.0 * 86_400.0,
        })
    }

    #[test]
    fn rto_compliance_counts_runs_within_and_the_worst() {
        let mut never = run("b", "checkout", 5, Verdict::Red);
        never.outcome.impacted = true;
        never.outcome.recover_within_s = Some(300.0);
        never.outcome.censored_at_s = Some(2400.0);
        let experiments = [
            recovered(run("a", "checkout", 30, Verdict::Green), 200.0, 300.0),
            recovered(run("a", "checkout", 20, Verdict::Yellow), 400.0, 300.0),
            never,
            // Before the period: not counted.
            recovered(run("a", "checkout", 120, Verdict::Yellow), 900.0, 300.0),
            recovered(run("s", "search", 10, Verdict::Green), 60.0, 120.0),
        ];
        let readiness = assess(&experiments, &[]);
        let checkout = &readiness.rto[0];
        // 3 impacted runs, 1 within 5 minutes; the worst never recovered (at least 40 minutes).
        assert_eq!(
            (checkout.rto_s, checkout.impacted, checkout.within),
            (Some(300.0), 3, 1)
        );
        assert_eq!(
            (checkout.worst_s, checkout.worst_censored),
            (Some(2400.0), true)
        );
        assert!(!checkout.all_within());
        // search has no [[service]] rto: its runs' shared recover_within.
        let search = &readiness.rto[1];
        assert_eq!(
            (search.rto_s, search.within, search.impacted),
            (Some(120.0), 1, 1)
        );
    }

    #[test]
    fn evidence_goes_stale_after_fresh_for() {
        let experiments = [
            run("old", "checkout", 200, Verdict::Green),
            run("old", "checkout", 10, Verdict::Red),
            run("new", "checkout", 30, Verdict::Green),
            run("never", "checkout", 5, Verdict::Yellow),
        ];
        let readiness = assess(&experiments, &[]);
        let by_template = |name: &str| {
            readiness
                .freshness
                .iter()
                .find(|f| f.template == name)
                .unwrap()
        };
        // A red after last year's green does not refresh it: stale at 200 days.
        assert_eq!(
            (by_template("old").age_days, by_template("old").stale),
            (Some(200.0), true)
        );
        assert_eq!(
            (by_template("new").age_days, by_template("new").stale),
            (Some(30.0), false)
        );
        assert_eq!(
            (
                by_template("never").last_green_at,
                by_template("never").stale
            ),
            (None, true)
        );
        let system = |scope: &Scope, system: System| {
            readiness
                .system_freshness
                .iter()
                .find(|f| &f.scope == scope && f.system == system)
                .unwrap()
        };
        assert!(!system(&Scope::Organization, System::I).stale);
        assert!(system(&Scope::Organization, System::IV).stale);
        assert!(!system(&Scope::Team("web".into()), System::I).stale);
    }

    #[test]
    fn blind_spots_and_the_rehearsal_gap() {
        let experiments = [
            recovered(run("a", "checkout", 30, Verdict::Green), 120.0, 300.0),
            recovered(run("a", "checkout", 20, Verdict::Green), 240.0, 300.0),
            // search was last measured 150 days before its incident.
            run("s", "search", 160, Verdict::Green),
            // An inconclusive run measures nothing.
            run("n", "notify", 15, Verdict::Inconclusive),
        ];
        let incidents = [
            incident("checkout", 10, 2),
            incident("checkout", 40, 4),
            incident("search", 10, 1),
            incident("notify", 5, 3),
            // Before the period: not a blind spot by itself.
            incident("ledger", 200, 1),
        ];
        let readiness = assess(&experiments, &incidents);
        let spots: Vec<(&str, usize)> = readiness
            .blind_spots
            .iter()
            .map(|b| (b.service.as_str(), b.incidents))
            .collect();
        assert_eq!(spots, [("notify", 1), ("search", 1)]);
        assert!(readiness.blind_spots[0].last_experiment_at.is_none());
        assert!(readiness.blind_spots[1].last_experiment_at.is_some());
        let checkout = readiness
            .rehearsal_gap
            .iter()
            .find(|g| g.service == "checkout")
            .unwrap();
        // Drills: median of 120 s and 240 s = 180 s; incidents: median of 2 h and 4 h = 3 h.
        assert_eq!(
            (checkout.experiment_median_s, checkout.incident_median_s),
            (Some(180.0), Some(10_800.0))
        );
        assert_eq!(checkout.ratio(), Some(60.0));
    }
}
