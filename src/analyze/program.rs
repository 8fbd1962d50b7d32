//! The whole program's analysis for one reporting period: every experiment judged, then weaknesses,
//! the quarterly summary, MTTR trends, ROI and maturity, all as of the period's end.
//!
//! The period selects what a report lists (the experiments started in it); the trends (quarters,
//! MTTR, maturity over time) run from the first experiment in the ledger up to the period's end,
//! and experiments started after the end are left out of everything, so a report of 2026Q2 looks
//! the same whether it is rendered in July or in December.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::maturity::{Maturity, MaturityInput, Rubric, assess_maturity};
use super::mttr::{
    MttrRow, PeriodUnit, experiment_mttr_of, experiment_systems_frame, incident_mttr,
};
use super::readiness::{Readiness, ReadinessInput, assess_readiness};
use super::review::{PeriodReview, review_period};
use super::roi::{Roi, RoiInput, compute_roi};
use super::summary::{QuarterSummary, QueryError, experiment_outcomes_frame, quarterly_summary};
use super::weaknesses::{Weakness, track_weaknesses};
use super::{AnalyzeError, JudgedExperiment, LedgerRecords, by_experiment};
use crate::config::Config;
use crate::ledger::{Action, Experiment, Incident};
use crate::vocab::catalog::ActionCatalog;
use crate::vocab::time::{Period, parse_period, quarter_of};

/// The program as of `period.end`.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub period: Period,
    /// Every experiment started before the period's end, in ledger order, with its outcome.
    pub experiments: Vec<JudgedExperiment>,
    /// Every incident started before the period's end.
    pub incidents: Vec<Incident>,
    pub weaknesses: Vec<Weakness>,
    pub quarters: Vec<QuarterSummary>,
    /// Experimental MTTR by quarter, and by month (SPEC section 7).
    pub mttr: Vec<MttrRow>,
    pub monthly_mttr: Vec<MttrRow>,
    pub incident_mttr: Vec<MttrRow>,
    pub roi: Roi,
    pub maturity: Maturity,
    /// The period's own figures (verdicts by month, counts, weaknesses discussed, coverage, …).
    pub review: PeriodReview,
    /// RTO compliance, evidence freshness, blind spots and the rehearsal gap (SPEC section 11).
    pub readiness: Readiness,
}

impl Drop for Analysis {
    /// Frees the experiments on polars' threads, both cores at once. Each owns some forty small
    /// allocations (its record's strings and tags, its outcome's series and reasons): on one core
    /// freeing 10,000 of them took 23 ms, a tenth of the run after reading.
    fn drop(&mut self) {
        let experiments = std::mem::take(&mut self.experiments);
        polars_core::runtime::THREAD_POOL
            .install(|| experiments.into_par_iter().with_min_len(256).for_each(drop));
    }
}

/// The reference data analysis reads besides the ledger.
pub struct ReferenceData<'a> {
    pub catalog: &'a ActionCatalog,
    pub rubric: &'a Rubric,
}

/// The default reporting period: the calendar quarter of the newest experiment, or `None` for an
/// empty ledger.
pub fn default_period<'a>(experiments: impl IntoIterator<Item = &'a Experiment>) -> Option<Period> {
    let newest = experiments.into_iter().map(Experiment::start).max()?;
    Some(parse_period(&quarter_of(newest), 0).expect("a quarter parses"))
}

/// Analyzes the program as of `period.end` from every experiment of the ledger already judged
/// (`app::load::load_and_judge`), in ledger order; returns the analysis and the experiments
/// started after the period, which it leaves out. The experiments are moved into the analysis,
/// not copied (on a million experiments a copy was a gigabyte), and marked `in_period`; `data`
/// gives the actions and incidents, its `experiments` are not read. Reads no series and no points.
pub fn analyze_judged(
    data: &LedgerRecords,
    mut experiments: Vec<JudgedExperiment>,
    config: &Config,
    reference: &ReferenceData,
    period: Period,
) -> Result<(Analysis, Vec<JudgedExperiment>), AnalyzeError> {
    let query = AnalyzeError::Query;
    let actions_by_experiment = by_experiment(&data.actions, |a| &a.experiment_id[..]);
    let actions_of = |experiment_id: &str| -> &[&Action] {
        actions_by_experiment
            .get(experiment_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };

    // In place: on a million experiments, moving them into a new list took 1.5 s.
    let after_period: Vec<JudgedExperiment> = experiments
        .extract_if(.., |judged| judged.start() >= period.end)
        .collect();
    for judged in &mut experiments {
        judged.in_period = period.contains(judged.start());
    }
    let incidents: Vec<Incident> = data
        .incidents
        .iter()
        .filter(|i| i.started_at < period.end)
        .cloned()
        .collect();

    let frame = experiment_outcomes_frame(&experiments).map_err(|source| {
        query(QueryError {
            name: "experiment_outcomes table".to_string(),
            source,
        })
    })?;
    let min_runs = config.window.min_runs;
    // Independent of each other, and each mostly one polars query's planning: side by side.
    let systems = experiment_systems_frame(&experiments).map_err(|source| {
        query(QueryError {
            name: "experiment_systems table".to_string(),
            source,
        })
    })?;
    let mttr_by = |unit| experiment_mttr_of(&frame, &systems, unit, min_runs);
    let ((quarters, weaknesses), (mttr, monthly_mttr)) = rayon::join(
        || (quarterly_summary(&frame), track_weaknesses(&experiments)),
        || {
            rayon::join(
                || mttr_by(PeriodUnit::Quarter),
                || mttr_by(PeriodUnit::Month),
            )
        },
    );
    let (quarters, mttr, monthly_mttr) = (
        quarters.map_err(query)?,
        mttr.map_err(query)?,
        monthly_mttr.map_err(query)?,
    );
    let incident_mttr = incident_mttr(&incidents, PeriodUnit::Quarter, min_runs).map_err(query)?;

    let revenue_share: BTreeMap<String, f64> = config
        .services
        .iter()
        .map(|service| (service.name.clone(), service.revenue_share))
        .collect();
    // Maturity (the rubric's polars SQL over every scope × quarter) and the rest (ROI and its
    // trials, the period review, readiness) read the same experiments and nothing of each other:
    // they run side by side on the two cores.
    let (maturity, (roi, review, readiness)) = rayon::join(
        || {
            assess_maturity(
                reference.rubric,
                &MaturityInput {
                    experiments: &experiments,
                    experiment_outcomes: &frame,
                    weaknesses: &weaknesses,
                    incidents: &incidents,
                    post_window_s: config.window.post_s,
                    mttr_by_quarter: &mttr,
                    mttr_by_month: &monthly_mttr,
                    min_runs,
                },
                period,
            )
        },
        || {
            let roi = compute_roi(&RoiInput {
                cost: &config.cost,
                configured: &config.cost_keys_set,
                revenue_share: &revenue_share,
                min_runs,
                period_end: period.end,
                experiments: &experiments,
                actions_of: &actions_of,
                weaknesses: &weaknesses,
                catalog: reference.catalog,
                incidents: &incidents,
            });
            let review = review_period(period, &experiments, &weaknesses, &incidents, &quarters);
            let readiness = assess_readiness(&ReadinessInput {
                period,
                experiments: &experiments,
                incidents: &incidents,
                rto_by_service: &config.rto_by_service(),
                fresh_for_s: config.window.fresh_for_s,
            });
            (roi, review, readiness)
        },
    );
    let maturity = maturity.map_err(query)?;
    let analysis = Analysis {
        period,
        experiments,
        incidents,
        weaknesses,
        quarters,
        mttr,
        monthly_mttr,
        incident_mttr,
        roi,
        maturity,
        review,
        readiness,
    };
    Ok((analysis, after_period))
}
