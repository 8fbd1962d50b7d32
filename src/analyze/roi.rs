//! Downtime cost and ROI (SPEC section 8).
//!
//! - Hourly downtime cost = revenue_per_hour + engineers_on_incident × engineer_hourly_rate;
//!   an outage costs hourly × outage_hours (the seed: (100,000 + 20 × 100) × 2 = 204,000).
//! - Each fixed weakness avoids, per year, annual_rate × outage_hours × hourly × severity, with
//!   severity 1 for a weakness seen red while open and `degraded_factor` for one only yellow. The annual rate
//!   is the highest catalog rate among the actions of the experiment that found it (its dominant
//!   fault class). `outage_hours` is the median real incident duration when incidents exist.
//! - Program cost = experiments × engineer_hours_per_experiment × engineer_hourly_rate + fixed_costs,
//!   per year: the experiments of the 12 months to the period end, `fixed_costs` as a yearly sum.
//!   Avoided cost is per year too, from every weakness fixed before the period end, so ROI is the
//!   program's yearly return as of the period end.
//! - ROI = (avoided − program cost) / program cost.
//! - Range: each fault class's annual rate is drawn from a log-normal whose 10th and 90th
//!   percentiles are the catalog's low and high rates (one draw per class per trial, shared by all
//!   weaknesses of that class); 10,000 trials with a fixed seed give the P10 and P90 avoided cost.

use std::collections::BTreeMap;

use super::weaknesses::Weakness;
use crate::config::CostConfig;
use crate::random::Random;
use crate::vocab::Verdict;
use crate::vocab::catalog::ActionCatalog;
use crate::vocab::format::format_number;
use crate::vocab::stats::median;

const TRIALS: usize = 10_000;
const SEED: u64 = 0x5EED_2026;
/// z of the 90th percentile of a standard normal.
const Z90: f64 = 1.281_551_565_5;

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
    /// Counted from the ledger: experiments started in the 12 months to the period end.
    MeasuredExperiments,
    /// The action catalog's annual rate, with the P10–P90 range it gives.
    CatalogDefault { low: f64, high: f64 },
}

impl AssumptionSource {
    pub fn code(&self) -> &'static str {
        match self {
            AssumptionSource::Config => "config",
            AssumptionSource::Default => "default",
            AssumptionSource::MeasuredIncidents { .. } => "measured_incidents",
            AssumptionSource::MeasuredExperiments => "measured_experiments",
            AssumptionSource::CatalogDefault { .. } => "catalog_default",
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
            AssumptionSource::CatalogDefault { low, high } => {
                vec![("low", format_number(*low)), ("high", format_number(*high))]
            }
            _ => vec![],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Roi {
    pub hourly_downtime_cost: f64,
    /// One outage of `outage_hours` as measured (the incidents' median) or configured.
    pub outage_cost: f64,
    /// One outage of the configured `outage_hours`, the example the executive page prints.
    pub configured_outage_cost: f64,
    pub avoided_cost: f64,
    pub avoided_cost_p10: f64,
    pub avoided_cost_p90: f64,
    pub program_cost: f64,
    /// `None` when the program cost is zero.
    pub roi: Option<f64>,
    pub weaknesses_found: usize,
    pub weaknesses_fixed: usize,
    pub assumptions: Vec<Assumption>,
}

/// Everything ROI depends on.
pub struct RoiInput<'a> {
    pub cost: &'a CostConfig,
    /// Which cost keys the configuration file set (the others are defaults).
    pub configured: &'a [&'a str],
    pub experiments: usize,
    pub weaknesses: &'a [Weakness],
    /// The FIS action ids of each experiment that found a weakness.
    pub actions_of: &'a dyn Fn(&str) -> Vec<String>,
    pub catalog: &'a ActionCatalog,
    /// Durations of real incidents, in hours.
    pub incident_hours: &'a [f64],
}

struct FaultClass {
    name: String,
    rate: f64,
    low: f64,
    high: f64,
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
    let hourly = cost.revenue_per_hour + cost.engineers_on_incident * cost.engineer_hourly_rate;
    let (outage_hours, outage_source) = match median(input.incident_hours) {
        Some(hours) => (
            hours,
            AssumptionSource::MeasuredIncidents {
                incidents: input.incident_hours.len(),
            },
        ),
        None => (cost.outage_hours, source("outage_hours")),
    };

    // The dominant fault class of each fixed weakness, and its severity.
    let mut classes: BTreeMap<String, FaultClass> = BTreeMap::new();
    let mut fixed: Vec<(String, f64)> = Vec::new();
    for weakness in input.weaknesses.iter().filter(|w| w.fixed_by.is_some()) {
        let class = (input.actions_of)(&weakness.found_by)
            .iter()
            .filter_map(|action| input.catalog.lookup(action))
            .max_by(|a, b| a.annual_rate.total_cmp(&b.annual_rate))
            .map(|entry| FaultClass {
                name: entry.fault_class.clone(),
                rate: entry.annual_rate,
                low: entry.annual_rate_low,
                high: entry.annual_rate_high,
            });
        let Some(class) = class else { continue };
        let severity = if weakness.severity == Verdict::Red {
            1.0
        } else {
            cost.degraded_factor
        };
        fixed.push((class.name.clone(), severity));
        classes.entry(class.name.clone()).or_insert(class);
    }
    // Avoided cost is linear in each class's rate: sum the severities per class once, so that a
    // trial is one draw per class.
    let mut severity_by_class: BTreeMap<&str, f64> = BTreeMap::new();
    for (class, severity) in &fixed {
        *severity_by_class.entry(class.as_str()).or_default() += severity;
    }
    let weighted: Vec<(&FaultClass, f64)> = classes
        .values()
        .map(|class| (class, severity_by_class[class.name.as_str()]))
        .collect();
    let avoided_with = |rate_of: &mut dyn FnMut(&FaultClass) -> f64| -> f64 {
        weighted
            .iter()
            .map(|(class, severity)| rate_of(class) * severity * outage_hours * hourly)
            .sum()
    };
    let avoided = avoided_with(&mut |class| class.rate);

    let mut random = Random(SEED);
    let mut trials: Vec<f64> = (0..TRIALS)
        .map(|_| avoided_with(&mut |class| lognormal_draw(class, &mut random)))
        .collect();
    trials.sort_by(f64::total_cmp);
    let percentile = |p: f64| {
        if trials.is_empty() {
            0.0
        } else {
            crate::vocab::stats::percentile(&trials, p)
        }
    };

    let program_cost =
        input.experiments as f64 * cost.engineer_hours_per_experiment * cost.engineer_hourly_rate
            + cost.fixed_costs;
    let mut assumptions = vec![
        Assumption {
            name: "revenue_per_hour".into(),
            value: cost.revenue_per_hour,
            source: source("revenue_per_hour"),
        },
        Assumption {
            name: "engineers_on_incident".into(),
            value: cost.engineers_on_incident,
            source: source("engineers_on_incident"),
        },
        Assumption {
            name: "engineer_hourly_rate".into(),
            value: cost.engineer_hourly_rate,
            source: source("engineer_hourly_rate"),
        },
        Assumption {
            name: "outage_hours".into(),
            value: outage_hours,
            source: outage_source,
        },
        Assumption {
            name: "degraded_factor".into(),
            value: cost.degraded_factor,
            source: source("degraded_factor"),
        },
        Assumption {
            name: "engineer_hours_per_experiment".into(),
            value: cost.engineer_hours_per_experiment,
            source: source("engineer_hours_per_experiment"),
        },
        Assumption {
            name: "fixed_costs".into(),
            value: cost.fixed_costs,
            source: source("fixed_costs"),
        },
        Assumption {
            name: "experiments".into(),
            value: input.experiments as f64,
            source: AssumptionSource::MeasuredExperiments,
        },
    ];
    for class in classes.values() {
        assumptions.push(Assumption {
            name: format!("annual_rate[{}]", class.name),
            value: class.rate,
            source: AssumptionSource::CatalogDefault {
                low: class.low,
                high: class.high,
            },
        });
    }
    Roi {
        hourly_downtime_cost: hourly,
        outage_cost: hourly * outage_hours,
        configured_outage_cost: hourly * cost.outage_hours,
        avoided_cost: avoided,
        avoided_cost_p10: percentile(0.1),
        avoided_cost_p90: percentile(0.9),
        program_cost,
        roi: (program_cost > 0.0).then(|| (avoided - program_cost) / program_cost),
        weaknesses_found: input.weaknesses.len(),
        weaknesses_fixed: input
            .weaknesses
            .iter()
            .filter(|w| w.fixed_by.is_some())
            .count(),
        assumptions,
    }
}

/// A rate from the log-normal with P10 = `low` and P90 = `high`; the point rate when the catalog
/// gives no spread.
fn lognormal_draw(class: &FaultClass, random: &mut Random) -> f64 {
    let z = random.normal();
    if class.low <= 0.0 || class.high <= class.low {
        return class.rate;
    }
    let mu = (class.low.ln() + class.high.ln()) / 2.0;
    let sigma = (class.high.ln() - class.low.ln()) / (2.0 * Z90);
    (mu + sigma * z).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weakness(template: &str, verdict: Verdict, fixed: bool) -> Weakness {
        Weakness {
            template: template.into(),
            found_by: format!("found-{template}"),
            found_verdict: verdict,
            severity: verdict,
            found_at: 0,
            fixed_by: fixed.then(|| "fix".to_string()),
            fixed_at: fixed.then_some(1),
        }
    }

    #[test]
    fn the_seeds_example_and_a_worked_roi() {
        let cost = CostConfig::default();
        let catalog = ActionCatalog::built_in();
        // terminate-instances: instance-failure, 2.0 a year; failover-db-cluster: database-failover, 0.5.
        let actions_of = |experiment: &str| match experiment {
            "found-web" => vec!["aws:ec2:terminate-instances".to_string()],
            _ => vec![
                "aws:rds:failover-db-cluster".to_string(),
                "aws:fis:wait".to_string(),
            ],
        };
        let weaknesses = [
            weakness("web", Verdict::Red, true),
            weakness("db", Verdict::Yellow, true),
            weakness("open", Verdict::Red, false),
        ];
        let roi = compute_roi(&RoiInput {
            cost: &cost,
            configured: &[],
            experiments: 100,
            weaknesses: &weaknesses,
            actions_of: &actions_of,
            catalog: &catalog,
            incident_hours: &[],
        });
        // (100,000 + 20 × 100) × 2 = 204,000: the seed's example, exactly.
        assert_eq!(
            (roi.hourly_downtime_cost, roi.outage_cost),
            (102_000.0, 204_000.0)
        );
        // Red web: 2.0 × 2 h × 102,000 × 1 = 408,000; yellow db: 0.5 × 2 × 102,000 × 0.25 = 25,500.
        assert_eq!(roi.avoided_cost, 433_500.0);
        // 100 experiments × 4 h × 100 = 40,000.
        assert_eq!(roi.program_cost, 40_000.0);
        assert_eq!(roi.roi, Some((433_500.0 - 40_000.0) / 40_000.0));
        assert_eq!((roi.weaknesses_found, roi.weaknesses_fixed), (3, 2));
        // The range brackets a log-normal around the catalog's P10–P90 (1.0–4.0 and 0.2–1.5):
        // P10 ≈ 1.0 × 204,000 + …, never above the point estimate at P10, never below it at P90 here.
        assert!(
            roi.avoided_cost_p10 < roi.avoided_cost && roi.avoided_cost < roi.avoided_cost_p90,
            "{roi:?}"
        );
        let low_bound = 1.0 * 204_000.0 + 0.2 * 204_000.0 * 0.25;
        let high_bound = 4.0 * 204_000.0 + 1.5 * 204_000.0 * 0.25;
        assert!(
            roi.avoided_cost_p10 > 0.8 * low_bound && roi.avoided_cost_p90 < 1.2 * high_bound,
            "{roi:?}"
        );
        let sources: Vec<&str> = roi.assumptions.iter().map(|a| a.source.code()).collect();
        assert!(sources.contains(&"default") && sources.contains(&"catalog_default"));
    }

    #[test]
    fn incidents_give_the_outage_hours() {
        let cost = CostConfig::default();
        let catalog = ActionCatalog::built_in();
        let actions_of = |_: &str| vec!["aws:ec2:terminate-instances".to_string()];
        let roi = compute_roi(&RoiInput {
            cost: &cost,
            configured: &["revenue_per_hour"],
            experiments: 0,
            weaknesses: &[weakness("web", Verdict::Red, true)],
            actions_of: &actions_of,
            catalog: &catalog,
            incident_hours: &[1.0, 3.0, 0.5],
        });
        assert_eq!(roi.outage_cost, 102_000.0);
        assert_eq!(roi.avoided_cost, 2.0 * 1.0 * 102_000.0);
        assert_eq!(roi.roi, None, "no program cost, no ratio");
        let outage = roi
            .assumptions
            .iter()
            .find(|a| a.name == "outage_hours")
            .unwrap();
        assert_eq!(
            outage.source,
            AssumptionSource::MeasuredIncidents { incidents: 3 }
        );
        assert_eq!(roi.assumptions[0].source, AssumptionSource::Config);
    }
}
