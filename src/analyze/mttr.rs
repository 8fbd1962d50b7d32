//! MTTR trends (SPEC section 7): experimental recovery time per period (quarter or month) and
//! group (all, team, service, system, template), and the real incident MTTR, computed by
//! `queries/analytics/mttr.sql` and `queries/analytics/incident_mttr.sql`. The change of the mean
//! against the previous and the first period is added here; the seed's Phase 2 target is −30%.

use polars::prelude::*;

use super::JudgedExperiment;
use super::summary::{QueryError, experiment_outcomes_frame, run_query};
use crate::ledger::Incident;
use crate::vocab::stats::kaplan_meier_quantile;
use crate::vocab::time::{Micros, Period, month_of, parse_period, quarter_of};

pub const MTTR_SQL: &str = include_str!("../../queries/analytics/mttr.sql");
pub const INCIDENT_MTTR_SQL: &str = include_str!("../../queries/analytics/incident_mttr.sql");

/// The seed's Phase 2 success metric: MTTR 30% below the first period.
pub const MTTR_TARGET_CHANGE: f64 = -0.30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodUnit {
    Quarter,
    Month,
}

impl PeriodUnit {
    /// The word of `report.json`'s `period_kind`.
    pub fn name(self) -> &'static str {
        self.column()
    }

    /// The unit of a reporting period: a calendar month, else quarters.
    pub fn of(period: Period) -> PeriodUnit {
        let month = month_of(period.start);
        if parse_period(&month, 0) == Ok(period) {
            PeriodUnit::Month
        } else {
            PeriodUnit::Quarter
        }
    }

    /// The label of the unit's period holding `ts` (`2026Q3`, `2026-07`).
    pub fn label(self, ts: Micros) -> String {
        match self {
            PeriodUnit::Quarter => quarter_of(ts),
            PeriodUnit::Month => month_of(ts),
        }
    }

    fn column(self) -> &'static str {
        match self {
            PeriodUnit::Quarter => "quarter",
            PeriodUnit::Month => "month",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MttrRow {
    pub period: String,
    /// `quarter` or `month`.
    pub period_kind: &'static str,
    /// all, team, service, system or template.
    pub group_by: String,
    pub group: String,
    pub n: u64,
    pub mean_s: Option<f64>,
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
    pub censored: u64,
    /// Kaplan–Meier median and P90 over recovered and censored runs together (`None` when the
    /// estimate never falls that far).
    pub km_median_s: Option<f64>,
    pub km_p90_s: Option<f64>,
    /// Whether the period had `min_runs` impacted runs: only then is it compared.
    pub enough_runs: bool,
    /// Relative change of `mean_s` against the group's previous period (−0.3 is 30% faster).
    pub change_vs_previous: Option<f64>,
    /// Relative change of `mean_s` against the group's first period.
    pub change_vs_first: Option<f64>,
}

/// Experimental MTTR.
pub fn experiment_mttr(
    experiments: &[JudgedExperiment],
    unit: PeriodUnit,
    min_runs: u64,
) -> Result<Vec<MttrRow>, QueryError> {
    let frame = experiment_outcomes_frame(experiments).map_err(|source| QueryError {
        name: "mttr".to_string(),
        source,
    })?;
    let systems = experiment_systems_frame(experiments).map_err(|source| QueryError {
        name: "mttr".to_string(),
        source,
    })?;
    experiment_mttr_of(&frame, &systems, unit, min_runs)
}

/// The `experiment_systems` table `mttr.sql` reads: one row per system an experiment exercises.
/// Built once for MTTR by quarter and by month.
pub fn experiment_systems_frame(experiments: &[JudgedExperiment]) -> PolarsResult<DataFrame> {
    let (ids, names): (Vec<&str>, Vec<&str>) = experiments
        .iter()
        .flat_map(|judged| {
            judged
                .systems
                .iter()
                .map(|system| (judged.id(), system.name()))
        })
        .unzip();
    DataFrame::new_infer_height(vec![
        Column::new("experiment_id".into(), ids),
        Column::new("system".into(), names),
    ])
}

/// Experimental MTTR from the `experiment_outcomes` and `experiment_systems` tables of the
/// experiments, already built.
pub fn experiment_mttr_of(
    experiment_outcomes: &DataFrame,
    experiment_systems: &DataFrame,
    unit: PeriodUnit,
    min_runs: u64,
) -> Result<Vec<MttrRow>, QueryError> {
    let name = "mttr";
    let error = |source| QueryError {
        name: name.to_string(),
        source,
    };
    let frame = experiment_outcomes
        .clone()
        .lazy()
        .with_column(col(unit.column()).alias("period"))
        .collect()
        .map_err(error)?;
    let result = run_query(
        name,
        MTTR_SQL,
        &[
            ("experiment_outcomes", &frame),
            ("experiment_systems", experiment_systems),
        ],
    )?;
    rows_from_frame(&result, unit, min_runs).map_err(error)
}

/// The period of a group that later periods are compared with (SPEC section 7): its first with
/// at least `min_runs` impacted runs and a mean, as `add_changes` picks it. `rows` are
/// `experiment_mttr`'s, of one period unit.
pub fn first_compared<'a>(rows: &'a [MttrRow], group_by: &str, group: &str) -> Option<&'a MttrRow> {
    rows.iter().find(|row| {
        row.group_by == group_by && row.group == group && row.enough_runs && row.mean_s.is_some()
    })
}

/// SPEC section 7's statistics of one span of runs, as `mttr.sql` computes them per period: the
/// impacted runs of a conclusive verdict (`n + censored`), and the mean recovery time of those
/// that recovered.
pub fn span_mttr<'a>(runs: impl IntoIterator<Item = &'a JudgedExperiment>) -> (u64, Option<f64>) {
    let mut impacted = 0;
    let mut recovered = Vec::new();
    for judged in runs {
        let outcome = &judged.outcome;
        if !(outcome.verdict.is_conclusive() && outcome.impacted) {
            continue;
        }
        impacted += 1;
        if outcome.recovered {
            recovered.extend(outcome.time_to_recover_s);
        }
    }
    let mean =
        (!recovered.is_empty()).then(|| recovered.iter().sum::<f64>() / recovered.len() as f64);
    (impacted, mean)
}

/// Real incident MTTR: `resolved_at − started_at`, grouped like the experimental one (all, team, service).
pub fn incident_mttr(
    incidents: &[Incident],
    unit: PeriodUnit,
    min_runs: u64,
) -> Result<Vec<MttrRow>, QueryError> {
    let name = "incident_mttr";
    let error = |source| QueryError {
        name: name.to_string(),
        source,
    };
    let period = |incident: &Incident| match unit {
        PeriodUnit::Quarter => quarter_of(incident.started_at),
        PeriodUnit::Month => month_of(incident.started_at),
    };
    let frame = DataFrame::new_infer_height(vec![
        Column::new(
            "incident_id".into(),
            incidents
                .iter()
                .map(|i| i.incident_id.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "period".into(),
            incidents.iter().map(period).collect::<Vec<_>>(),
        ),
        Column::new(
            "team".into(),
            incidents.iter().map(|i| i.team.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "service".into(),
            incidents
                .iter()
                .map(|i| i.service.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "duration_s".into(),
            incidents
                .iter()
                .map(|i| (i.resolved_at - i.started_at) as f64 / 1e6)
                .collect::<Vec<_>>(),
        ),
    ])
    .map_err(error)?;
    let result = run_query(name, INCIDENT_MTTR_SQL, &[("incident_durations", &frame)])?;
    rows_from_frame(&result, unit, min_runs).map_err(error)
}

/// Each row's runs as (duration, recovered) from its `durations` and `events` lists; a frame
/// without them (incident MTTR: every incident is resolved) gives no runs.
fn survival_runs(frame: &DataFrame) -> PolarsResult<Vec<Vec<(f64, bool)>>> {
    let (Ok(durations), Ok(events)) = (frame.column("durations"), frame.column("events")) else {
        return Ok(vec![Vec::new(); frame.height()]);
    };
    let (durations, events) = (durations.list()?, events.list()?);
    (0..frame.height())
        .map(|row| {
            let (Some(durations), Some(events)) =
                (durations.get_as_series(row), events.get_as_series(row))
            else {
                return Ok(Vec::new());
            };
            let durations = durations.cast(&DataType::Float64)?;
            Ok(durations
                .f64()?
                .iter()
                .zip(events.bool()?.iter())
                .filter_map(|(duration, event)| Some((duration?, event?)))
                .collect())
        })
        .collect()
}

fn rows_from_frame(
    frame: &DataFrame,
    unit: PeriodUnit,
    min_runs: u64,
) -> PolarsResult<Vec<MttrRow>> {
    let text = |name: &str| -> PolarsResult<Vec<String>> {
        Ok(frame
            .column(name)?
            .str()?
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect())
    };
    let count = |name: &str| -> PolarsResult<Vec<u64>> {
        Ok(frame
            .column(name)?
            .cast(&DataType::UInt64)?
            .u64()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let float = |name: &str| -> PolarsResult<Vec<Option<f64>>> {
        Ok(frame
            .column(name)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .collect())
    };
    let (period, group_by, group) = (text("period")?, text("group_by")?, text("group_value")?);
    let (n, censored) = (count("n")?, count("censored")?);
    let (mean, median, p90) = (float("mean_s")?, float("median_s")?, float("p90_s")?);
    let runs = survival_runs(frame)?;
    let mut rows: Vec<MttrRow> = (0..frame.height())
        .map(|i| MttrRow {
            period: period[i].clone(),
            period_kind: unit.name(),
            group_by: group_by[i].clone(),
            group: group[i].clone(),
            n: n[i],
            mean_s: mean[i],
            median_s: median[i],
            p90_s: p90[i],
            censored: censored[i],
            km_median_s: kaplan_meier_quantile(&runs[i], 0.5),
            km_p90_s: kaplan_meier_quantile(&runs[i], 0.9),
            enough_runs: false,
            change_vs_previous: None,
            change_vs_first: None,
        })
        .collect();
    add_changes(&mut rows, min_runs);
    Ok(rows)
}

/// Fills the changes of each group's mean against its previous and its first period with a mean.
/// Rows come sorted by group and period (the SQL orders them so).
/// Changes against the group's previous and first periods (SPEC section 7): only a period with at
/// least `min_runs` impacted runs (`n + censored`) counts, for a change of its own and as the
/// previous or first period of another; the others read "not enough runs".
fn add_changes(rows: &mut [MttrRow], min_runs: u64) {
    let relative = |now: Option<f64>, before: Option<f64>| match (now, before) {
        (Some(now), Some(before)) if before > 0.0 => Some(now / before - 1.0),
        _ => None,
    };
    let mut first: Option<f64> = None;
    let mut previous: Option<f64> = None;
    for index in 0..rows.len() {
        let new_group = index == 0
            || rows[index].group_by != rows[index - 1].group_by
            || rows[index].group != rows[index - 1].group;
        if new_group {
            first = None;
            previous = None;
        }
        let row = &mut rows[index];
        row.enough_runs = row.n + row.censored >= min_runs;
        if !row.enough_runs {
            continue;
        }
        let mean = row.mean_s;
        row.change_vs_previous = relative(mean, previous);
        row.change_vs_first = first.and_then(|first| relative(mean, Some(first)));
        if first.is_none() {
            first = mean;
        }
        if mean.is_some() {
            previous = mean;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::ExperimentOutcome;
    use crate::ledger::Experiment;
    use crate::vocab::practice::EnvironmentClass;
    use crate::vocab::time::{MICROS_PER_SECOND, from_datetime};
    use crate::vocab::{System, Verdict};
    use chrono::{TimeZone, Utc};

    /// (month of 2026, team, verdict, impacted, recovered, time_to_recover_s)
    type Case = (u32, &'static str, Verdict, bool, bool, f64);

    /// The cases as judged experiments, each exercising system I.
    fn judged(cases: &[Case]) -> Vec<JudgedExperiment> {
        cases
            .iter()
            .enumerate()
            .map(
                |(index, (month, team, verdict, impacted, recovered, time_to_recover_s))| {
                    let start =
                        from_datetime(Utc.with_ymd_and_hms(2026, *month, 10, 12, 0, 0).unwrap());
                    let experiment = Experiment {
                        template_id: Some(format!("EXT-{team}")),
                        team: Some(team.to_string()),
                        ..Experiment::example(&format!("EXP{index}"), start)
                    };
                    let outcome = ExperimentOutcome {
                        // A censored run has no recovery time, only how long it was seen.
                        time_to_recover_s: recovered.then_some(*time_to_recover_s),
                        censored_at_s: (*impacted && !*recovered).then_some(*time_to_recover_s),
                        impacted: *impacted,
                        recovered: *recovered,
                        ..ExperimentOutcome::example(&format!("EXP{index}"), *verdict, start)
                    };
                    JudgedExperiment {
                        experiment,
                        outcome,
                        systems: vec![System::I],
                        in_period: true,
                        environment: EnvironmentClass::Development,
                    }
                },
            )
            .collect()
    }

    fn row<'a>(rows: &'a [MttrRow], period: &str, group_by: &str, group: &str) -> &'a MttrRow {
        rows.iter()
            .find(|r| r.period == period && r.group_by == group_by && r.group == group)
            .unwrap_or_else(|| panic!("no row {period} {group_by} {group} in {rows:#?}"))
    }

    #[test]
    fn mttr_per_quarter_and_group_worked_by_hand() {
        use Verdict::*;
        let cases: &[Case] = &[
            (1, "a", Green, true, true, 100.0),
            (2, "a", Yellow, true, true, 200.0),
            (3, "b", Green, true, true, 300.0),
            (3, "a", Red, true, false, 2400.0), // censored: counted, never averaged
            (3, "b", Green, false, false, 0.0), // not impacted: not in MTTR
            (3, "b", Inconclusive, true, true, 999.0), // inconclusive: excluded
            (4, "a", Green, true, true, 60.0),
            (5, "a", Green, true, true, 90.0),
        ];
        let mut experiments = judged(cases);
        experiments[0].systems.push(System::II);
        let rows = experiment_mttr(&experiments, PeriodUnit::Quarter, 1).unwrap();

        let q1 = row(&rows, "2026Q1", "all", "all");
        // Recovered: 100, 200, 300. p90 by linear interpolation: 200 + 0.8 × (300 − 200) = 280.
        assert_eq!(
            (q1.n, q1.mean_s, q1.median_s, q1.censored),
            (3, Some(200.0), Some(200.0), 1)
        );
        assert!((q1.p90_s.unwrap() - 280.0).abs() < 1e-9);
        // Kaplan–Meier with the run censored at 2400 s: S(100) = 3/4, S(200) = 1/2 (median 200),
        // S(300) = 1/4 and no later recovery, so the estimate never reaches 10% (no KM P90).
        assert_eq!((q1.km_median_s, q1.km_p90_s), (Some(200.0), None));
        assert_eq!(q1.change_vs_previous, None);
        let q2 = row(&rows, "2026Q2", "all", "all");
        // 60 and 90: mean 75, p90 = 60 + 0.9 × 30 = 87; 75 / 200 − 1 = −62.5%.
        assert_eq!(
            (q2.n, q2.mean_s, q2.median_s, q2.censored),
            (2, Some(75.0), Some(75.0), 0)
        );
        assert!((q2.p90_s.unwrap() - 87.0).abs() < 1e-9);
        assert_eq!(
            (q2.change_vs_previous, q2.change_vs_first),
            (Some(-0.625), Some(-0.625))
        );

        let team_a = row(&rows, "2026Q1", "team", "a");
        assert_eq!(
            (team_a.n, team_a.mean_s, team_a.censored),
            (2, Some(150.0), 1)
        );
        assert_eq!(
            row(&rows, "2026Q2", "team", "a").change_vs_first,
            Some(-0.5)
        );
        let system_two = row(&rows, "2026Q1", "system", "II");
        assert_eq!((system_two.n, system_two.mean_s), (1, Some(100.0)));
        assert_eq!(
            row(&rows, "2026Q1", "template", "EXT-b").mean_s,
            Some(300.0)
        );

        // With min_runs = 3, 2026Q2 (2 impacted runs) is not compared; 2026Q1 (3 + 1 censored) is.
        let strict = experiment_mttr(&experiments, PeriodUnit::Quarter, 3).unwrap();
        let (q1, q2) = (
            row(&strict, "2026Q1", "all", "all"),
            row(&strict, "2026Q2", "all", "all"),
        );
        assert!(q1.enough_runs && !q2.enough_runs);
        assert_eq!((q2.change_vs_previous, q2.change_vs_first), (None, None));
        // Maturity's first compared period and span statistics agree with the rows.
        assert_eq!(
            first_compared(&strict, "all", "all").map(|r| r.period.as_str()),
            Some("2026Q1")
        );
        assert_eq!(first_compared(&strict, "team", "b"), None);
        let first_quarter = &experiments[..6];
        assert_eq!(span_mttr(first_quarter), (q1.n + q1.censored, q1.mean_s));

        let monthly = experiment_mttr(&experiments, PeriodUnit::Month, 1).unwrap();
        assert_eq!(row(&monthly, "2026-03", "all", "all").censored, 1);
        assert_eq!(
            row(&monthly, "2026-05", "all", "all").change_vs_previous,
            Some(90.0 / 60.0 - 1.0)
        );
    }

    #[test]
    fn incident_mttr_is_the_mean_duration() {
        let hour = 3600 * MICROS_PER_SECOND;
        let start = from_datetime(Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap());
        let incident = |id: &str, hours: i64| Incident {
            incident_id: id.into(),
            service: Some("web".into()),
            team: Some("platform".into()),
            severity: None,
            started_at: start,
            resolved_at: start + hours * hour,
            customer_impact: None,
        };
        let rows = incident_mttr(
            &[incident("1", 1), incident("2", 3)],
            PeriodUnit::Quarter,
            1,
        )
        .unwrap();
        let all = row(&rows, "2026Q3", "all", "all");
        assert_eq!(
            (all.n, all.mean_s, all.median_s, all.censored),
            (2, Some(7200.0), Some(7200.0), 0)
        );
        assert_eq!(row(&rows, "2026Q3", "service", "web").n, 2);
    }
}
