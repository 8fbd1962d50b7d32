//! Downtime cost and ROI (SPEC section 8, revision 2): every figure a finance reader can redo from
//! the report alone.
//!
//! - Hourly downtime cost = revenue_per_hour + engineers_on_incident × engineer_hourly_rate (the
//!   seed: (100,000 + 20 × 100) × 2 h = 204,000 an outage).
//! - **Loss streams**: the weaknesses of one service and fault class form one stream, counted once.
//!   It is avoided when its latest weakness is fixed and none is open, and one of its weaknesses
//!   was found in an environment of `findings_from`; its severity is the worst of its weaknesses
//!   (red 1.0, yellow `degraded_factor`). Avoided loss a year = annual_rate(class) × outage_hours
//!   × (revenue_per_hour × revenue_share(service) + engineers × rate) × severity.
//! - **Program cost** over the 12 months to the period end: experiments × hours × rate + weaknesses
//!   fixed × remediation hours × rate + fault-action minutes × FIS price + fixed costs; a ledger
//!   younger than a year has its variable part scaled to a year, and says so.
//! - ROI = (avoided − cost) / cost, printed as a percentage, with the benefit/cost ratio beside it.
//! - **Uncertainty**: 10,000 seeded trials over the annual rates and the outage hours give P10, P50
//!   and P90 of avoided loss and of ROI; **sensitivity** moves one input at a time to its low and
//!   high.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::JudgedExperiment;
use super::weaknesses::Weakness;
use crate::config::CostConfig;
use crate::ledger::{Action, Incident};
use crate::random::Random;
use crate::vocab::catalog::{ActionCatalog, CatalogEntry};
use crate::vocab::format::format_number;
use crate::vocab::practice::EnvironmentClass;
use crate::vocab::stats::{median, percentile};
use crate::vocab::time::{MICROS_PER_SECOND, Micros, micros_from_seconds};
use crate::vocab::{Source, Verdict};

const TRIALS: usize = 10_000;
const SEED: u64 = 0x5EED_2026;
/// z of the 90th percentile of a standard normal.
const Z90: f64 = 1.281_551_565_5;
const YEAR: Micros = 365 * 86_400 * MICROS_PER_SECOND;

#[derive(Debug, Clone, PartialEq)]
pub struct Assumption {
    pub name: String,
    pub value: f64,
    pub source: AssumptionSource,
}

/// Where an assumption's value comes from; the report writes it from the `source_<code>` template
/// of its language.
#[derive(Debug, Clone, PartialEq)]
pub enum AssumptionSource {
    /// Set in the configuration file.
    Config,
    /// checkup's default (SPEC section 8).
    Default,
    /// The median duration of this many real incidents.
    MeasuredIncidents { incidents: usize },
    /// Counted from the ledger over the 12 months to the period end.
    MeasuredExperiments,
    /// The action catalog's annual rate, its P10–P90 range and the catalog's source for it.
    Catalog { low: f64, high: f64, source: String },
}

impl AssumptionSource {
    pub fn code(&self) -> &'static str {
        match self {
            AssumptionSource::Config => "config",
            AssumptionSource::Default => "default",
            AssumptionSource::MeasuredIncidents { .. } => "measured_incidents",
            AssumptionSource::MeasuredExperiments => "measured_experiments",
            AssumptionSource::Catalog { .. } => "catalog",
        }
    }

    pub fn template_key(&self) -> String {
        format!("source_{}", self.code())
    }

    /// The values of the template's `{placeholders}`.
    pub fn values(&self) -> Vec<(&'static str, String)> {
        match self {
            AssumptionSource::MeasuredIncidents { incidents } => {
                vec![("n", incidents.to_string())]
            }
            AssumptionSource::Catalog { low, high, source } => vec![
                ("low", format_number(*low)),
                ("high", format_number(*high)),
                ("source", source.clone()),
            ],
            _ => vec![],
        }
    }
}

/// Where a stream's outage hours come from (SPEC section 8).
#[derive(Debug, Clone, PartialEq)]
pub enum OutageHoursSource {
    /// The median of the service's own incidents (at least `min_runs`).
    ServiceIncidents { incidents: usize },
    /// The median of all incidents (the service has fewer than `min_runs`).
    AllIncidents { incidents: usize },
    /// `[cost] outage_hours` (configured or default).
    Configured,
}

/// Why a stream adds nothing to avoided loss.
#[derive(Debug, Clone, PartialEq)]
pub enum NotCounted {
    /// Its latest weakness is not fixed yet, or another is open.
    StillOpen,
    /// Every weakness was found outside `findings_from` (in development, by default).
    FoundOutside { environments: Vec<EnvironmentClass> },
    /// Its experiments' fault actions are not in the action catalog (Chaos Toolkit actions, say):
    /// no annual rate to weigh it with.
    NoFaultClass,
}

impl NotCounted {
    pub fn code(&self) -> &'static str {
        match self {
            NotCounted::StillOpen => "still_open",
            NotCounted::FoundOutside { .. } => "found_outside",
            NotCounted::NoFaultClass => "no_fault_class",
        }
    }
}

/// One weakness of a stream, with the experiments behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamWeakness {
    pub template: String,
    pub found_at: Micros,
    pub fixed_at: Option<Micros>,
    /// The run that found it, then the run that showed the fix.
    pub experiment_ids: Vec<String>,
}

/// The loss a weakness class exposes a service to: one service and fault class, counted once.
#[derive(Debug, Clone, PartialEq)]
pub struct LossStream {
    pub service: String,
    /// `None` when no fault action of its experiments is in the catalog.
    pub fault_class: Option<String>,
    pub annual_rate: f64,
    pub annual_rate_p10: f64,
    pub annual_rate_p90: f64,
    /// 1.0 when any of its weaknesses was seen red, else `degraded_factor`.
    pub severity: f64,
    pub outage_hours: f64,
    pub outage_hours_source: OutageHoursSource,
    /// revenue_per_hour × revenue_share(service) + engineers × rate.
    pub hourly_cost: f64,
    pub revenue_share: f64,
    /// Avoided loss a year; 0 when not counted.
    pub avoided: f64,
    pub why_not: Option<NotCounted>,
    /// The environment classes its weaknesses were found in.
    pub environments: Vec<EnvironmentClass>,
    pub weaknesses: Vec<StreamWeakness>,
}

impl LossStream {
    pub fn counted(&self) -> bool {
        self.why_not.is_none()
    }
}

/// The program's cost a year, by part.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramCost {
    pub experiments: f64,
    pub remediation: f64,
    pub fis: f64,
    pub fixed: f64,
    /// Counted over the 12 months to the period end.
    pub experiment_count: usize,
    pub weaknesses_fixed: usize,
    pub fault_action_minutes: f64,
    /// When the ledger covers less than a year: the days it covers, and the factor the variable
    /// parts were multiplied by to make a year.
    pub scaled_from_days: Option<f64>,
    pub scale: f64,
}

impl ProgramCost {
    pub fn total(&self) -> f64 {
        self.experiments + self.remediation + self.fis + self.fixed
    }
}

/// ROI with one input at its low and its high (the tornado chart).
#[derive(Debug, Clone, PartialEq)]
pub struct Sensitivity {
    /// `annual_rates`, `outage_hours`, `revenue_per_hour`, `degraded_factor`,
    /// `engineer_hours_per_experiment`.
    pub input: &'static str,
    /// The input's low and high, as the report prints them (a factor or a value).
    pub low: f64,
    pub high: f64,
    pub roi_at_low: Option<f64>,
    pub roi_at_high: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Roi {
    pub hourly_downtime_cost: f64,
    /// The seed's example: one outage of the configured `outage_hours` at full revenue.
    pub configured_outage_cost: f64,
    pub streams: Vec<LossStream>,
    /// The sum of `avoided` over the counted streams.
    pub avoided_cost: f64,
    pub avoided_cost_p10: f64,
    pub avoided_cost_p50: f64,
    pub avoided_cost_p90: f64,
    pub program_cost: f64,
    pub program_cost_parts: ProgramCost,
    /// (avoided − cost) / cost; `None` when the program cost is zero.
    pub roi: Option<f64>,
    pub roi_p10: Option<f64>,
    pub roi_p50: Option<f64>,
    pub roi_p90: Option<f64>,
    /// avoided / cost.
    pub benefit_cost_ratio: Option<f64>,
    pub sensitivity: Vec<Sensitivity>,
    pub weaknesses_found: usize,
    pub weaknesses_fixed: usize,
    pub assumptions: Vec<Assumption>,
}

/// Everything ROI depends on.
pub struct RoiInput<'a> {
    pub cost: &'a CostConfig,
    /// Which cost keys the configuration file set (the others are defaults).
    pub configured: &'a [&'a str],
    /// `[[service]] revenue_share` by service (1.0 for any other).
    pub revenue_share: &'a BTreeMap<String, f64>,
    pub min_runs: u64,
    pub period_end: Micros,
    /// Every experiment started before the period's end.
    pub experiments: &'a [JudgedExperiment],
    pub actions_of: &'a dyn Fn(&str) -> &'a [&'a Action],
    pub weaknesses: &'a [Weakness],
    pub catalog: &'a ActionCatalog,
    /// Every incident started before the period's end.
    pub incidents: &'a [Incident],
}

/// A stream's parts that the trials and the sensitivity vary.
struct StreamTerms {
    class: usize,
    hours: usize,
    revenue: f64,
    engineers: f64,
    red: bool,
}

/// The avoided-loss model of the counted streams, with what varies.
struct Model<'a> {
    streams: Vec<StreamTerms>,
    /// Rate, P10, P90 by class index.
    rates: Vec<(f64, f64, f64)>,
    /// Outage hours by source index, with the durations to resample (empty: log-normal around the
    /// value, ×0.5 and ×2 as P10 and P90).
    hours: Vec<(f64, Vec<f64>)>,
    cost: &'a CostConfig,
    parts: ProgramCost,
}

/// One way to evaluate the model: each input at its point value unless changed.
#[derive(Clone)]
struct Inputs {
    rates: Vec<f64>,
    hours: Vec<f64>,
    revenue_factor: f64,
    degraded_factor: f64,
    engineer_hours_factor: f64,
}

impl Model<'_> {
    fn point(&self) -> Inputs {
        Inputs {
            rates: self.rates.iter().map(|r| r.0).collect(),
            hours: self.hours.iter().map(|h| h.0).collect(),
            revenue_factor: 1.0,
            degraded_factor: self.cost.degraded_factor,
            engineer_hours_factor: 1.0,
        }
    }

    fn avoided(&self, inputs: &Inputs) -> f64 {
        self.streams
            .iter()
            .map(|s| {
                let severity = if s.red { 1.0 } else { inputs.degraded_factor };
                inputs.rates[s.class]
                    * inputs.hours[s.hours]
                    * (s.revenue * inputs.revenue_factor + s.engineers)
                    * severity
            })
            .sum()
    }

    fn cost(&self, inputs: &Inputs) -> f64 {
        let parts = &self.parts;
        parts.experiments * inputs.engineer_hours_factor
            + parts.remediation
            + parts.fis
            + parts.fixed
    }

    fn roi(&self, inputs: &Inputs) -> Option<f64> {
        let cost = self.cost(inputs);
        (cost > 0.0).then(|| (self.avoided(inputs) - cost) / cost)
    }

    /// The outage hours of one source at its P10 (`low`) or P90.
    fn hours_at(&self, index: usize, low: bool) -> f64 {
        let (value, durations) = &self.hours[index];
        if durations.is_empty() {
            return if low { value * 0.5 } else { value * 2.0 };
        }
        let mut sorted = durations.clone();
        sorted.sort_by(f64::total_cmp);
        percentile(&sorted, if low { 0.1 } else { 0.9 })
    }
}

pub fn compute_roi(input: &RoiInput) -> Roi {
    let cost = input.cost;
    let source = |key: &str| {
        if input.configured.contains(&key) {
            AssumptionSource::Config
        } else {
            AssumptionSource::Default
        }
    };
    let engineers = cost.engineers_on_incident * cost.engineer_hourly_rate;
    let hourly = cost.revenue_per_hour + engineers;
    let by_id: HashMap<&str, &JudgedExperiment> =
        input.experiments.iter().map(|e| (e.id(), e)).collect();

    // Incidents: durations in hours, by service and all.
    let incident_hours = |incident: &Incident| {
        (incident.resolved_at - incident.started_at) as f64 / (3600 * MICROS_PER_SECOND) as f64
    };
    let all_hours: Vec<f64> = input.incidents.iter().map(incident_hours).collect();
    let mut hours_by_service: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for incident in input.incidents {
        if let Some(service) = incident.service.as_deref() {
            hours_by_service
                .entry(service)
                .or_default()
                .push(incident_hours(incident));
        }
    }
    let enough = |n: usize| n as u64 >= input.min_runs.max(1);
    let outage_hours_of = |service: &str| -> (f64, OutageHoursSource, Vec<f64>) {
        match hours_by_service.get(service) {
            Some(own) if enough(own.len()) => (
                median(own).unwrap_or(cost.outage_hours),
                OutageHoursSource::ServiceIncidents {
                    incidents: own.len(),
                },
                own.clone(),
            ),
            _ if enough(all_hours.len()) => (
                median(&all_hours).unwrap_or(cost.outage_hours),
                OutageHoursSource::AllIncidents {
                    incidents: all_hours.len(),
                },
                all_hours.clone(),
            ),
            _ => (cost.outage_hours, OutageHoursSource::Configured, Vec::new()),
        }
    };

    // Streams: weaknesses grouped by service and fault class.
    let mut grouped: BTreeMap<(String, Option<String>), Vec<&Weakness>> = BTreeMap::new();
    let mut class_entries: BTreeMap<String, &CatalogEntry> = BTreeMap::new();
    for weakness in input.weaknesses {
        let found = by_id.get(weakness.found_by.as_str()).copied();
        let service = found
            .and_then(|judged| judged.experiment.service.clone())
            .or_else(|| found.and_then(|judged| judged.experiment.template_name.clone()))
            .unwrap_or_else(|| weakness.template.clone());
        let entry = found.and_then(|judged| {
            fault_class_of(judged, (input.actions_of)(judged.id()), input.catalog)
        });
        if let Some(entry) = entry {
            class_entries
                .entry(entry.fault_class.clone())
                .or_insert(entry);
        }
        grouped
            .entry((service, entry.map(|e| e.fault_class.clone())))
            .or_default()
            .push(weakness);
    }

    let class_index: BTreeMap<&str, usize> = class_entries
        .keys()
        .enumerate()
        .map(|(index, class)| (class.as_str(), index))
        .collect();
    // Outage-hours sources shared by streams (a service's incidents, all incidents, or the
    // configured value): their index by key, and their hours and durations.
    let mut hours_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut hours_sources: Vec<(f64, Vec<f64>)> = Vec::new();
    let mut streams = Vec::new();
    let mut terms = Vec::new();
    for ((service, class), weaknesses) in grouped {
        let entry = class.as_deref().and_then(|c| class_entries.get(c).copied());
        let (outage_hours, outage_hours_source, durations) = outage_hours_of(&service);
        let share = input.revenue_share.get(&service).copied().unwrap_or(1.0);
        let revenue = cost.revenue_per_hour * share;
        let hourly_cost = revenue + engineers;
        let red = weaknesses.iter().any(|w| w.severity == Verdict::Red);
        let severity = if red { 1.0 } else { cost.degraded_factor };
        let environments: Vec<EnvironmentClass> = weaknesses
            .iter()
            .filter_map(|w| by_id.get(w.found_by.as_str()))
            .map(|judged| judged.environment)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let latest = weaknesses
            .iter()
            .max_by_key(|w| w.found_at)
            .expect("a stream has a weakness");
        let open = latest.fixed_by.is_none() || weaknesses.iter().any(|w| w.fixed_by.is_none());
        let why_not = if entry.is_none() {
            Some(NotCounted::NoFaultClass)
        } else if open {
            Some(NotCounted::StillOpen)
        } else if !environments
            .iter()
            .any(|class| cost.findings_from.contains(class))
        {
            Some(NotCounted::FoundOutside {
                environments: environments.clone(),
            })
        } else {
            None
        };
        let (rate, low, high) = entry
            .map(|e| (e.annual_rate, e.annual_rate_low, e.annual_rate_high))
            .unwrap_or((0.0, 0.0, 0.0));
        let avoided = if why_not.is_none() {
            rate * outage_hours * hourly_cost * severity
        } else {
            0.0
        };
        if why_not.is_none()
            && let Some(class) = class.as_deref()
        {
            let hours = *hours_index
                .entry(hours_key(&outage_hours_source, &service))
                .or_insert_with(|| {
                    hours_sources.push((outage_hours, durations));
                    hours_sources.len() - 1
                });
            terms.push(StreamTerms {
                class: class_index[class],
                hours,
                revenue,
                engineers,
                red,
            });
        }
        streams.push(LossStream {
            service,
            fault_class: class,
            annual_rate: rate,
            annual_rate_p10: low,
            annual_rate_p90: high,
            severity,
            outage_hours,
            outage_hours_source,
            hourly_cost,
            revenue_share: share,
            avoided,
            why_not,
            environments,
            weaknesses: weaknesses
                .iter()
                .map(|w| StreamWeakness {
                    template: w.template.clone(),
                    found_at: w.found_at,
                    fixed_at: w.fixed_at,
                    experiment_ids: std::iter::once(w.found_by.clone())
                        .chain(w.fixed_by.clone())
                        .collect(),
                })
                .collect(),
        });
    }

    let parts = program_cost(input);
    let model = Model {
        streams: terms,
        rates: class_entries
            .values()
            .map(|e| (e.annual_rate, e.annual_rate_low, e.annual_rate_high))
            .collect(),
        hours: hours_sources,
        cost,
        parts: parts.clone(),
    };
    let point = model.point();
    let avoided = model.avoided(&point);
    let program_cost = model.cost(&point);
    let roi = model.roi(&point);

    // Trials: one draw per fault class and per outage-hours source, shared by their streams.
    let mut random = Random(SEED);
    let mut avoided_trials = Vec::with_capacity(TRIALS);
    for _ in 0..TRIALS {
        let mut inputs = point.clone();
        for (index, (rate, low, high)) in model.rates.iter().enumerate() {
            inputs.rates[index] = lognormal(*rate, *low, *high, &mut random);
        }
        for (index, (hours, durations)) in model.hours.iter().enumerate() {
            inputs.hours[index] = if durations.is_empty() {
                lognormal(*hours, hours * 0.5, hours * 2.0, &mut random)
            } else {
                durations[random.below(durations.len())]
            };
        }
        avoided_trials.push(model.avoided(&inputs));
    }
    avoided_trials.sort_by(f64::total_cmp);
    let avoided_at = |p: f64| {
        if avoided_trials.is_empty() {
            0.0
        } else {
            percentile(&avoided_trials, p)
        }
    };
    let roi_at =
        |p: f64| (program_cost > 0.0).then(|| (avoided_at(p) - program_cost) / program_cost);

    let sensitivity = sensitivity(&model, &point);
    let mut assumptions = vec![
        ("revenue_per_hour", cost.revenue_per_hour),
        ("engineers_on_incident", cost.engineers_on_incident),
        ("engineer_hourly_rate", cost.engineer_hourly_rate),
        ("outage_hours", cost.outage_hours),
        ("degraded_factor", cost.degraded_factor),
        (
            "engineer_hours_per_experiment",
            cost.engineer_hours_per_experiment,
        ),
        (
            "remediation_hours_per_weakness",
            cost.remediation_hours_per_weakness,
        ),
        (
            "fis_price_per_action_minute",
            cost.fis_price_per_action_minute,
        ),
        ("fixed_costs", cost.fixed_costs),
    ]
    .into_iter()
    .map(|(name, value)| Assumption {
        name: name.to_string(),
        value,
        source: source(name),
    })
    .collect::<Vec<_>>();
    for (name, value) in [
        ("experiments", parts.experiment_count as f64),
        ("weaknesses_fixed_last_year", parts.weaknesses_fixed as f64),
        ("fault_action_minutes", parts.fault_action_minutes),
    ] {
        assumptions.push(Assumption {
            name: name.to_string(),
            value,
            source: AssumptionSource::MeasuredExperiments,
        });
    }
    let mut measured_hours: Vec<(String, f64, usize)> = Vec::new();
    for stream in &streams {
        let name = match &stream.outage_hours_source {
            OutageHoursSource::ServiceIncidents { incidents } => {
                Some((format!("outage_hours[{}]", stream.service), *incidents))
            }
            OutageHoursSource::AllIncidents { incidents } => {
                Some(("outage_hours[all incidents]".to_string(), *incidents))
            }
            OutageHoursSource::Configured => None,
        };
        if let Some((name, incidents)) = name
            && !measured_hours.iter().any(|(known, _, _)| *known == name)
        {
            measured_hours.push((name, stream.outage_hours, incidents));
        }
    }
    for (name, value, incidents) in measured_hours {
        assumptions.push(Assumption {
            name,
            value,
            source: AssumptionSource::MeasuredIncidents { incidents },
        });
    }
    for (class, entry) in &class_entries {
        assumptions.push(Assumption {
            name: format!("annual_rate[{class}]"),
            value: entry.annual_rate,
            source: AssumptionSource::Catalog {
                low: entry.annual_rate_low,
                high: entry.annual_rate_high,
                source: entry.source.clone(),
            },
        });
    }
    Roi {
        hourly_downtime_cost: hourly,
        configured_outage_cost: hourly * cost.outage_hours,
        streams,
        avoided_cost: avoided,
        avoided_cost_p10: avoided_at(0.1),
        avoided_cost_p50: avoided_at(0.5),
        avoided_cost_p90: avoided_at(0.9),
        program_cost,
        program_cost_parts: parts,
        roi,
        roi_p10: roi_at(0.1),
        roi_p50: roi_at(0.5),
        roi_p90: roi_at(0.9),
        benefit_cost_ratio: (program_cost > 0.0).then(|| avoided / program_cost),
        sensitivity,
        weaknesses_found: input.weaknesses.len(),
        weaknesses_fixed: input
            .weaknesses
            .iter()
            .filter(|w| w.fixed_by.is_some())
            .count(),
        assumptions,
    }
}

/// Streams of one service share its outage hours; streams of services without enough incidents
/// share the all-incident or configured hours.
fn hours_key(source: &OutageHoursSource, service: &str) -> String {
    match source {
        OutageHoursSource::ServiceIncidents { .. } => format!("service:{service}"),
        OutageHoursSource::AllIncidents { .. } => "all".to_string(),
        OutageHoursSource::Configured => "configured".to_string(),
    }
}

/// The fault class of the run that found a weakness: that of the fault action running at its
/// first impact; when that is unknown (no impact time, no action running then), the lowest-rate
/// class among its fault actions. Several running at once: the lowest rate, so as not to
/// overstate. `None` when no fault action is in the catalog.
fn fault_class_of<'c>(
    judged: &JudgedExperiment,
    actions: &[&Action],
    catalog: &'c ActionCatalog,
) -> Option<&'c CatalogEntry> {
    let faults: Vec<(&Action, &CatalogEntry)> = actions
        .iter()
        .filter(|action| catalog.injects_fault(&action.action_id))
        .filter_map(|action| Some((*action, catalog.lookup(&action.action_id)?)))
        .collect();
    let lowest = |entries: &mut dyn Iterator<Item = &'c CatalogEntry>| {
        entries.min_by(|a, b| {
            a.annual_rate
                .total_cmp(&b.annual_rate)
                .then_with(|| a.fault_class.cmp(&b.fault_class))
        })
    };
    let outcome = &judged.outcome;
    let impact = outcome
        .t0
        .zip(outcome.time_to_impact_s)
        .map(|(t0, after)| t0 + micros_from_seconds(after));
    let running = impact.and_then(|at| {
        lowest(&mut faults.iter().filter_map(|(action, entry)| {
            let started = action.started_at.is_some_and(|start| start <= at);
            let not_ended = action.ended_at.is_none_or(|end| end >= at);
            (started && not_ended).then_some(*entry)
        }))
    });
    running.or_else(|| lowest(&mut faults.iter().map(|(_, entry)| *entry)))
}

/// The program's cost over the 12 months to the period end, scaled to a year when the ledger is
/// younger.
fn program_cost(input: &RoiInput) -> ProgramCost {
    let cost = input.cost;
    let from = input.period_end - YEAR;
    let in_year = |ts: Micros| ts >= from && ts < input.period_end;
    let experiments: Vec<&JudgedExperiment> = input
        .experiments
        .iter()
        .filter(|e| in_year(e.start()))
        .collect();
    let weaknesses_fixed = input
        .weaknesses
        .iter()
        .filter(|w| w.fixed_at.is_some_and(in_year))
        .count();
    // FIS charges per action-minute of the actions it runs; Chaos Toolkit runs cost it nothing.
    let fault_action_minutes: f64 = experiments
        .iter()
        .filter(|e| e.experiment.source != Source::ChaosToolkit)
        .flat_map(|e| (input.actions_of)(e.id()).iter())
        .filter(|action| input.catalog.injects_fault(&action.action_id))
        .filter_map(|action| Some((action.ended_at? - action.started_at?).max(0)))
        .map(|micros| micros as f64 / (60 * MICROS_PER_SECOND) as f64)
        .sum();
    let first = input.experiments.iter().map(JudgedExperiment::start).min();
    let covered = first.map(|first| input.period_end - first.max(from));
    let (scale, scaled_from_days) = match covered {
        Some(covered) if covered > 0 && covered < YEAR => (
            YEAR as f64 / covered as f64,
            Some(covered as f64 / (86_400 * MICROS_PER_SECOND) as f64),
        ),
        _ => (1.0, None),
    };
    ProgramCost {
        experiments: scale
            * experiments.len() as f64
            * cost.engineer_hours_per_experiment
            * cost.engineer_hourly_rate,
        remediation: scale
            * weaknesses_fixed as f64
            * cost.remediation_hours_per_weakness
            * cost.engineer_hourly_rate,
        fis: scale * fault_action_minutes * cost.fis_price_per_action_minute,
        fixed: cost.fixed_costs,
        experiment_count: experiments.len(),
        weaknesses_fixed,
        fault_action_minutes,
        scaled_from_days,
        scale,
    }
}

/// ROI with one input at a time at its low and high (SPEC section 8), widest swing first.
fn sensitivity(model: &Model, point: &Inputs) -> Vec<Sensitivity> {
    let mut rows = Vec::new();
    let mut add = |input: &'static str, low: f64, high: f64, at_low: Inputs, at_high: Inputs| {
        rows.push(Sensitivity {
            input,
            low,
            high,
            roi_at_low: model.roi(&at_low),
            roi_at_high: model.roi(&at_high),
        });
    };
    let with = |change: &dyn Fn(&mut Inputs)| {
        let mut inputs = point.clone();
        change(&mut inputs);
        inputs
    };
    add(
        "annual_rates",
        0.1,
        0.9,
        with(&|i| i.rates = model.rates.iter().map(|r| r.1).collect()),
        with(&|i| i.rates = model.rates.iter().map(|r| r.2).collect()),
    );
    add(
        "outage_hours",
        0.1,
        0.9,
        with(&|i| {
            i.hours = (0..model.hours.len())
                .map(|h| model.hours_at(h, true))
                .collect()
        }),
        with(&|i| {
            i.hours = (0..model.hours.len())
                .map(|h| model.hours_at(h, false))
                .collect()
        }),
    );
    add(
        "revenue_per_hour",
        0.5,
        1.5,
        with(&|i| i.revenue_factor = 0.5),
        with(&|i| i.revenue_factor = 1.5),
    );
    add(
        "degraded_factor",
        0.1,
        0.5,
        with(&|i| i.degraded_factor = 0.1),
        with(&|i| i.degraded_factor = 0.5),
    );
    add(
        "engineer_hours_per_experiment",
        0.5,
        2.0,
        with(&|i| i.engineer_hours_factor = 0.5),
        with(&|i| i.engineer_hours_factor = 2.0),
    );
    let swing = |s: &Sensitivity| match (s.roi_at_low, s.roi_at_high) {
        (Some(low), Some(high)) => (high - low).abs(),
        _ => 0.0,
    };
    rows.sort_by(|a, b| swing(b).total_cmp(&swing(a)));
    rows
}

/// A draw from the log-normal whose P10 and P90 are `low` and `high`; `value` when there is no
/// spread.
fn lognormal(value: f64, low: f64, high: f64, random: &mut Random) -> f64 {
    let z = random.normal();
    if low <= 0.0 || high <= low {
        return value;
    }
    let mu = (low.ln() + high.ln()) / 2.0;
    let sigma = (high.ln() - low.ln()) / (2.0 * Z90);
    (mu + sigma * z).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::ExperimentOutcome;
    use crate::analyze::weaknesses::track_weaknesses;
    use crate::ledger::Experiment;
    use crate::vocab::System;

    const DAY: Micros = 86_400 * MICROS_PER_SECOND;
    const MINUTE: Micros = 60 * MICROS_PER_SECOND;
    /// The period end: 2026-10-01.
    const END: Micros = 1_790_812_800 * MICROS_PER_SECOND;

    /// One run: its template, service, environment, verdict, day before `END`, and fault action.
    struct Run {
        template: &'static str,
        service: &'static str,
        environment: EnvironmentClass,
        verdict: Verdict,
        days_before_end: i64,
        action: &'static str,
    }

    fn run(template: &'static str, verdict: Verdict, days_before_end: i64) -> Run {
        Run {
            template,
            service: "checkout",
            environment: EnvironmentClass::Production,
            verdict,
            days_before_end,
            action: "aws:ec2:terminate-instances",
        }
    }

    struct World {
        experiments: Vec<JudgedExperiment>,
        actions: HashMap<String, Vec<Action>>,
    }

    fn world(runs: &[Run]) -> World {
        let mut experiments = Vec::new();
        let mut actions = HashMap::new();
        for (index, run) in runs.iter().enumerate() {
            let id = format!("EXP{index:02}");
            let start = END - run.days_before_end * DAY;
            let experiment = Experiment {
                template_id: Some(run.template.to_string()),
                template_name: Some(run.template.to_string()),
                service: Some(run.service.to_string()),
                ..Experiment::example(&id, start)
            };
            let outcome = ExperimentOutcome {
                time_to_impact_s: Some(60.0),
                ..ExperimentOutcome::example(&id, run.verdict, start)
            };
            actions.insert(
                id.clone(),
                vec![Action {
                    experiment_id: id.clone(),
                    action_name: "inject".into(),
                    action_id: run.action.into(),
                    system: None,
                    status: "completed".into(),
                    started_at: Some(start),
                    ended_at: Some(start + 10 * MINUTE),
                    targets: vec![],
                }],
            );
            experiments.push(JudgedExperiment {
                experiment,
                outcome,
                systems: vec![System::I],
                in_period: true,
                environment: run.environment,
            });
        }
        World {
            experiments,
            actions,
        }
    }

    fn roi_of(world: &World, cost: &CostConfig, shares: &[(&str, f64)]) -> Roi {
        let weaknesses = track_weaknesses(&world.experiments);
        let refs: HashMap<&str, Vec<&Action>> = world
            .actions
            .iter()
            .map(|(id, actions)| (id.as_str(), actions.iter().collect()))
            .collect();
        let actions_of =
            |id: &str| -> &[&Action] { refs.get(id).map(Vec::as_slice).unwrap_or_default() };
        let revenue_share: BTreeMap<String, f64> =
            shares.iter().map(|(s, v)| (s.to_string(), *v)).collect();
        let catalog = ActionCatalog::built_in();
        compute_roi(&RoiInput {
            cost,
            configured: &[],
            revenue_share: &revenue_share,
            min_runs: 3,
            period_end: END,
            experiments: &world.experiments,
            actions_of: &actions_of,
            weaknesses: &weaknesses,
            catalog: &catalog,
            incidents: &[],
        })
    }

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-6, "{actual} != {expected}");
    }

    #[test]
    fn the_seeds_example_stays_exact() {
        let roi = roi_of(&world(&[]), &CostConfig::default(), &[]);
        // (100,000 + 20 × 100) × 2 = 204,000.
        assert_eq!(
            (roi.hourly_downtime_cost, roi.configured_outage_cost),
            (102_000.0, 204_000.0)
        );
        assert_eq!((roi.avoided_cost, roi.roi), (0.0, None));
    }

    #[test]
    fn two_templates_on_one_service_and_class_are_one_stream() {
        use Verdict::*;
        // Two templates on checkout, both terminating instances (instance-failure, 2.0 a year):
        // each found red and fixed. One stream: 2.0 × 2 h × 102,000 × 1 = 408,000, not twice.
        let runs = [
            run("web-a", Red, 300),
            run("web-a", Green, 290),
            run("web-b", Red, 200),
            run("web-b", Green, 190),
        ];
        let roi = roi_of(&world(&runs), &CostConfig::default(), &[]);
        assert_eq!(roi.streams.len(), 1);
        let stream = &roi.streams[0];
        assert_eq!(
            (stream.service.as_str(), stream.fault_class.as_deref()),
            ("checkout", Some("instance-failure"))
        );
        assert_eq!(stream.weaknesses.len(), 2);
        close(roi.avoided_cost, 408_000.0);
    }

    #[test]
    fn a_flapping_template_is_one_stream_not_avoided_while_open() {
        use Verdict::*;
        // Red, green (fixed), red again (open): one stream, open, nothing avoided.
        let runs = [
            run("web", Red, 300),
            run("web", Green, 250),
            run("web", Red, 100),
        ];
        let roi = roi_of(&world(&runs), &CostConfig::default(), &[]);
        assert_eq!(roi.streams.len(), 1);
        assert_eq!(roi.streams[0].why_not, Some(NotCounted::StillOpen));
        assert_eq!(roi.avoided_cost, 0.0);
        // Fixed again: avoided once, a year's worth, not once per flap.
        let runs = [
            run("web", Red, 300),
            run("web", Green, 250),
            run("web", Red, 100),
            run("web", Green, 50),
        ];
        let roi = roi_of(&world(&runs), &CostConfig::default(), &[]);
        assert!(roi.streams[0].counted());
        close(roi.avoided_cost, 408_000.0);
    }

    #[test]
    fn yellow_then_red_while_open_weighs_as_red() {
        use Verdict::*;
        let yellow_only = [run("web", Yellow, 300), run("web", Green, 250)];
        let roi = roi_of(&world(&yellow_only), &CostConfig::default(), &[]);
        // 2.0 × 2 × 102,000 × 0.25 = 102,000.
        assert_eq!(roi.streams[0].severity, 0.25);
        close(roi.avoided_cost, 102_000.0);
        let then_red = [
            run("web", Yellow, 300),
            run("web", Red, 280),
            run("web", Green, 250),
        ];
        let roi = roi_of(&world(&then_red), &CostConfig::default(), &[]);
        assert_eq!(roi.streams[0].severity, 1.0);
        close(roi.avoided_cost, 408_000.0);
    }

    #[test]
    fn a_finding_in_development_is_not_counted_by_default() {
        use Verdict::*;
        let mut found = run("web", Red, 300);
        found.environment = EnvironmentClass::Development;
        let runs = [found, run("web", Green, 250)];
        let roi = roi_of(&world(&runs), &CostConfig::default(), &[]);
        assert_eq!(
            roi.streams[0].why_not,
            Some(NotCounted::FoundOutside {
                environments: vec![EnvironmentClass::Development]
            })
        );
        assert_eq!(roi.avoided_cost, 0.0);
        let everywhere = CostConfig {
            findings_from: EnvironmentClass::ALL.to_vec(),
            ..CostConfig::default()
        };
        close(
            roi_of(&world(&runs), &everywhere, &[]).avoided_cost,
            408_000.0,
        );
    }

    #[test]
    fn a_young_ledger_has_its_cost_scaled_to_a_year_and_says_so() {
        use Verdict::*;
        // Three runs over the last 91.25 days (a quarter of a year): 3 × 4 h × 100 = 1,200, one
        // fix × 16 h × 100 = 1,600, 3 × 10 action-minutes × 0.10 = 3; the variable part × 4.
        let runs = [
            run("web", Red, 91),
            run("web", Green, 60),
            run("db", Green, 30),
        ];
        let mut world = world(&runs);
        // The first run starts exactly a quarter of a year before the end.
        let quarter = YEAR / 4;
        world.experiments[0].experiment.started_at = Some(END - quarter);
        let roi = roi_of(&world, &CostConfig::default(), &[]);
        let parts = &roi.program_cost_parts;
        close(parts.scale, 4.0);
        close(parts.scaled_from_days.unwrap(), 91.25);
        close(parts.experiments, 4.0 * 1_200.0);
        close(parts.remediation, 4.0 * 1_600.0);
        close(parts.fis, 4.0 * 3.0);
        close(roi.program_cost, 4.0 * (1_200.0 + 1_600.0 + 3.0));
        // A ledger a year old or more is not scaled.
        let mut old = world;
        old.experiments[0].experiment.started_at = Some(END - 2 * YEAR);
        let roi = roi_of(&old, &CostConfig::default(), &[]);
        assert_eq!(roi.program_cost_parts.scaled_from_days, None);
        // Only the two runs of the last 12 months: 2 × 400 + 1 × 1,600 + 2 × 10 × 0.10.
        close(roi.program_cost, 800.0 + 1_600.0 + 2.0);
    }

    #[test]
    fn a_revenue_share_weighs_only_the_revenue_part() {
        use Verdict::*;
        let runs = [run("web", Red, 300), run("web", Green, 250)];
        let roi = roi_of(&world(&runs), &CostConfig::default(), &[("checkout", 0.4)]);
        // 40% of 100,000 + 20 × 100 = 42,000 an hour; 2.0 × 2 × 42,000 = 168,000.
        close(roi.streams[0].hourly_cost, 42_000.0);
        close(roi.avoided_cost, 168_000.0);
    }

    #[test]
    fn roi_is_a_return_with_its_ratio_range_and_sensitivity() {
        use Verdict::*;
        // A run 500 days back makes the ledger older than a year: no scaling.
        let runs = [
            run("older", Green, 500),
            run("web", Red, 300),
            run("web", Green, 250),
        ];
        let roi = roi_of(&world(&runs), &CostConfig::default(), &[]);
        // Cost: 2 × 400 + 1,600 + 2 × 10 × 0.10 = 2,402; avoided 408,000.
        close(roi.program_cost, 2_402.0);
        close(roi.roi.unwrap(), (408_000.0 - 2_402.0) / 2_402.0);
        close(roi.benefit_cost_ratio.unwrap(), 408_000.0 / 2_402.0);
        // The trials draw the rate (P10 1.0, P90 4.0) and the configured hours (×0.5, ×2).
        assert!(roi.avoided_cost_p10 < roi.avoided_cost_p50);
        assert!(roi.avoided_cost_p50 < roi.avoided_cost_p90);
        assert!(roi.roi_p10 < roi.roi_p90);
        // Sensitivity: the rates at 1.0 and 4.0 give avoided 204,000 and 816,000.
        let rates = roi
            .sensitivity
            .iter()
            .find(|s| s.input == "annual_rates")
            .unwrap();
        close(rates.roi_at_low.unwrap(), (204_000.0 - 2_402.0) / 2_402.0);
        close(rates.roi_at_high.unwrap(), (816_000.0 - 2_402.0) / 2_402.0);
        let swings: Vec<f64> = roi
            .sensitivity
            .iter()
            .map(|s| (s.roi_at_high.unwrap() - s.roi_at_low.unwrap()).abs())
            .collect();
        assert!(swings.windows(2).all(|w| w[0] >= w[1]), "{swings:?}");
    }

    #[test]
    fn a_weakness_without_a_catalog_class_is_said_not_counted() {
        use Verdict::*;
        let mut found = run("journal", Red, 300);
        found.action = "chaostoolkit:action:kill-pod";
        let mut fixed = run("journal", Green, 250);
        fixed.action = "chaostoolkit:action:kill-pod";
        let roi = roi_of(&world(&[found, fixed]), &CostConfig::default(), &[]);
        assert_eq!(roi.streams[0].why_not, Some(NotCounted::NoFaultClass));
        assert_eq!(roi.avoided_cost, 0.0);
    }
}
