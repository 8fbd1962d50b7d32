//! Recovery time and verdict of one experiment (SPEC section 6): steady-state bands, impact,
//! recovery with `hold` and the `2P` gap rule, censoring, peaks, limits, errors series, and the
//! green / yellow / red / inconclusive / in_progress verdict with the sentences that explain it.

use super::reason::Reason;
use crate::config::WindowSettings;
use crate::ledger::{Action, Experiment, MetricSeries};
use crate::vocab::stats::{median, percentile};
use crate::vocab::time::{MICROS_PER_SECOND, Micros, seconds_from_micros};
use crate::vocab::{Band, Condition, SeriesKind, Source, Status, Verdict};

/// The baseline band: median `m` and MAD of the points before the fault,
/// `m ± max(3 × 1.4826 × MAD, 0.05 × |m|, 1e-9)` (SPEC section 6).
///
/// One addition: when more than 5% of the baseline points themselves lie outside that band,
/// leaving it is part of the steady state (an hourly cron burst on an idle instance, as in
/// NAB's ec2_cpu_utilization_c6585a), and the band widens to cover the baseline's 1st to 99th
/// percentile plus the same half-width. The MAD ignores such recurring bursts, so without this
/// every experiment on such a metric would be "impacted" by its own routine. A baseline whose
/// points all sit inside the band (the usual case) keeps the spec's band exactly.
pub fn baseline_band(values: &[f64]) -> Option<Band> {
    let center = median(values)?;
    let deviations: Vec<f64> = values.iter().map(|value| (value - center).abs()).collect();
    let mad = median(&deviations).unwrap_or(0.0);
    let half_width = (3.0 * 1.4826 * mad).max(0.05 * center.abs()).max(1e-9);
    let mut band = Band {
        low: center - half_width,
        high: center + half_width,
        low_inclusive: true,
        high_inclusive: true,
    };
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let outside = sorted.iter().filter(|v| !band.contains(**v)).count();
    if outside as f64 > RECURRING_SHARE * sorted.len() as f64 {
        band.low = band.low.min(percentile(&sorted, 0.01) - half_width);
        band.high = band.high.max(percentile(&sorted, 0.99) + half_width);
    }
    Some(band)
}

/// The share of baseline points outside the MAD band above which leaving it is routine.
const RECURRING_SHARE: f64 = 0.05;

/// One series of an experiment with its points, sorted by time.
#[derive(Debug, Clone, Copy)]
pub struct ObservedSeries<'a> {
    pub series: &'a MetricSeries,
    pub ts: &'a [Micros],
    pub values: &'a [f64],
}

/// Everything the verdict of one experiment depends on.
#[derive(Debug, Clone, Copy)]
pub struct ExperimentInput<'a> {
    pub experiment: &'a Experiment,
    pub actions: &'a [&'a Action],
    pub series: &'a [ObservedSeries<'a>],
    /// Times at which one of the experiment's stop-condition alarms entered ALARM.
    pub alarm_times: &'a [(Micros, &'a str)],
}

/// What happened to one level series.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelResult {
    pub band: Band,
    pub impact_at: Option<Micros>,
    pub recovered_at: Option<Micros>,
    /// `true` when the series left its band and no recovery run followed before the window ended.
    pub censored: bool,
    pub peak: Option<f64>,
    pub limit_exceeded: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SeriesResult {
    Level(LevelResult),
    Errors {
        total: f64,
    },
    /// The series could not be judged; the reason says why.
    NoData(Reason),
}

/// The analysis of one experiment, with the detail that charts need.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentOutcome {
    pub experiment_id: String,
    pub verdict: Verdict,
    /// Earliest action start (or the experiment start): the moment the fault began.
    pub t0: Option<Micros>,
    pub t1: Option<Micros>,
    pub window: Option<(Micros, Micros)>,
    pub time_to_impact_s: Option<f64>,
    /// For a censored experiment, the time from `t0` to the end of the window.
    pub time_to_recover_s: Option<f64>,
    pub impacted: bool,
    pub recovered: bool,
    pub degraded_s: Option<f64>,
    pub error_total: Option<f64>,
    pub series: Vec<(String, SeriesResult)>,
    pub reasons: Vec<Reason>,
}

/// Judges one experiment: runs that never came to a verdict first, then the series in the
/// observation window, then the verdict from what they showed (SPEC section 6).
pub fn analyze_experiment(input: &ExperimentInput, settings: &WindowSettings) -> ExperimentOutcome {
    let experiment = input.experiment;
    let mut outcome = ExperimentOutcome {
        experiment_id: experiment.experiment_id.clone(),
        verdict: Verdict::Inconclusive,
        t0: None,
        t1: None,
        window: None,
        time_to_impact_s: None,
        time_to_recover_s: None,
        impacted: false,
        recovered: false,
        degraded_s: None,
        error_total: None,
        series: Vec::new(),
        reasons: Vec::new(),
    };
    if let Some((verdict, reason)) = unjudged_run(experiment) {
        outcome.verdict = verdict;
        outcome.reasons.push(reason);
        return outcome;
    }
    let Some((t0, t1)) = experiment.fault_times(input.actions.iter().copied()) else {
        outcome.reasons.push(Reason::NoStartTime);
        return outcome;
    };
    let window = settings.observation_window(t0, t1);
    outcome.t0 = Some(t0);
    outcome.t1 = Some(t1);
    outcome.window = Some(window);

    let findings = read_series(input.series, t0, window, settings);
    outcome.error_total = findings.error_total;
    outcome.impacted = !findings.impacts.is_empty();
    outcome.time_to_impact_s = findings
        .impacts
        .iter()
        .min()
        .map(|v| seconds_from_micros(*v));
    outcome.time_to_recover_s = if outcome.impacted {
        findings
            .recoveries
            .iter()
            .max()
            .map(|value| seconds_from_micros(*value))
    } else if findings.reasons.inconclusive.is_empty()
        && input
            .series
            .iter()
            .any(|s| s.series.kind != SeriesKind::Errors)
    {
        Some(0.0)
    } else {
        None
    };
    outcome.recovered = outcome.impacted && !findings.any_censored;
    outcome.degraded_s = findings.degraded_s.iter().copied().reduce(f64::max);
    outcome.series = findings.series;
    let (verdict, reasons) = decide(
        input,
        t0,
        window,
        outcome.time_to_recover_s,
        findings.reasons,
    );
    outcome.verdict = verdict;
    outcome.reasons = reasons;
    outcome
}

/// The verdict of a run that never reached its fault or its end: in progress, cancelled, or a
/// Chaos Toolkit run cut short (what ran proves nothing either way).
fn unjudged_run(experiment: &Experiment) -> Option<(Verdict, Reason)> {
    let status = experiment.status;
    let why = || status_reason(experiment);
    if status.is_in_progress() {
        return Some((Verdict::InProgress, Reason::InProgress { status }));
    }
    match status {
        Status::Cancelled => Some((Verdict::Inconclusive, Reason::Cancelled { why: why() })),
        Status::Interrupted | Status::Aborted => Some((
            Verdict::Inconclusive,
            Reason::CutShort { status, why: why() },
        )),
        _ => None,
    }
}

/// The reasons found, by the verdict they argue for.
#[derive(Debug, Default)]
struct Reasons {
    inconclusive: Vec<Reason>,
    red: Vec<Reason>,
    yellow: Vec<Reason>,
    green: Vec<Reason>,
}

/// What the series of one experiment showed in its observation window.
#[derive(Debug, Default)]
struct Findings {
    reasons: Reasons,
    /// From `t0`, one per level series that left its steady state.
    impacts: Vec<Micros>,
    /// From `t0`, the recovery (or the window's end, when censored) of each impacted series.
    recoveries: Vec<Micros>,
    degraded_s: Vec<f64>,
    any_censored: bool,
    error_total: Option<f64>,
    series: Vec<(String, SeriesResult)>,
}

fn read_series(
    observed_series: &[ObservedSeries],
    t0: Micros,
    (window_start, window_end): (Micros, Micros),
    settings: &WindowSettings,
) -> Findings {
    let mut findings = Findings::default();
    for observed in observed_series {
        let series = observed.series;
        let id = &series.series_id;
        if series.kind == SeriesKind::Errors {
            let total = error_count(observed, t0, window_end);
            findings.error_total = Some(findings.error_total.unwrap_or(0.0) + total);
            let reasons = &mut findings.reasons;
            let series_id = id.clone();
            match (series.outage, series.budget) {
                (Some(outage), _) if total >= outage => reasons.red.push(Reason::ErrorsAtOutage {
                    series: series_id,
                    total,
                    outage,
                }),
                (_, Some(budget)) if total > budget => {
                    reasons.yellow.push(Reason::ErrorsOverBudget {
                        series: series_id,
                        total,
                        budget,
                    })
                }
                (_, Some(budget)) => reasons.green.push(Reason::ErrorsWithinBudget {
                    series: series_id,
                    total,
                    budget,
                }),
                _ => reasons.green.push(Reason::ErrorsCounted {
                    series: series_id,
                    total,
                }),
            }
            findings
                .series
                .push((id.clone(), SeriesResult::Errors { total }));
            continue;
        }

        let result = match analyze_level_series(observed, t0, window_start, window_end, settings) {
            Ok(result) => result,
            Err(problem) => {
                findings.reasons.inconclusive.push(problem.clone());
                findings
                    .series
                    .push((id.clone(), SeriesResult::NoData(problem)));
                continue;
            }
        };
        let steady = series.steady.trim().to_string();
        match (result.impact_at, result.recovered_at) {
            (None, _) => findings.reasons.green.push(Reason::StayedSteady {
                series: id.clone(),
                steady,
            }),
            (Some(impact_at), Some(recovered_at)) => {
                findings.impacts.push(impact_at - t0);
                findings.recoveries.push(recovered_at - t0);
                findings
                    .degraded_s
                    .push(seconds_from_micros(recovered_at - impact_at));
                findings.reasons.green.push(Reason::Recovered {
                    series: id.clone(),
                    steady,
                    impact_s: seconds_from_micros(impact_at - t0),
                    back_s: seconds_from_micros(recovered_at - t0),
                });
            }
            (Some(impact_at), None) => {
                findings.impacts.push(impact_at - t0);
                findings.recoveries.push(window_end - t0);
                findings
                    .degraded_s
                    .push(seconds_from_micros(window_end - impact_at));
                findings.any_censored = true;
                findings.reasons.red.push(Reason::NotRecovered {
                    series: id.clone(),
                    steady,
                    impact_s: seconds_from_micros(impact_at - t0),
                    window_s: seconds_from_micros(window_end - t0),
                });
            }
        }
        if result.limit_exceeded {
            findings.reasons.yellow.push(Reason::LimitBroken {
                series: id.clone(),
                limit: series
                    .limit
                    .as_deref()
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
                peak: result.peak,
            });
        }
        findings
            .series
            .push((id.clone(), SeriesResult::Level(result)));
    }
    findings
}

/// The errors an errors series counted from the fault's start to the window's end.
fn error_count(observed: &ObservedSeries, t0: Micros, window_end: Micros) -> f64 {
    observed
        .ts
        .iter()
        .zip(observed.values)
        .filter(|(ts, value)| **ts >= t0 && **ts <= window_end && !value.is_nan())
        .map(|(_, value)| value)
        .sum()
}

/// The verdict and the reasons that explain it, in SPEC section 6's order: a series that could
/// not be judged, then evidence of harm (the run's end state, a stop-condition alarm, red
/// findings), then no evidence at all, then yellow, then green.
fn decide(
    input: &ExperimentInput,
    t0: Micros,
    (window_start, window_end): (Micros, Micros),
    time_to_recover_s: Option<f64>,
    reasons: Reasons,
) -> (Verdict, Vec<Reason>) {
    let Reasons {
        inconclusive,
        mut red,
        mut yellow,
        mut green,
    } = reasons;
    let experiment = input.experiment;
    if !inconclusive.is_empty() {
        return (Verdict::Inconclusive, inconclusive);
    }
    let why = status_reason(experiment);
    match experiment.status {
        Status::Failed => red.insert(0, Reason::Failed { why }),
        Status::Stopped => red.insert(0, Reason::Stopped { why }),
        _ => {}
    }
    if let Some((first_alarm, alarm)) = input
        .alarm_times
        .iter()
        .filter(|(ts, _)| *ts >= window_start && *ts <= window_end)
        .min()
    {
        red.insert(
            0,
            Reason::AlarmFired {
                alarm: alarm.to_string(),
                after_s: seconds_from_micros(first_alarm - t0),
            },
        );
    }
    if input.series.is_empty() && red.is_empty() {
        // A Chaos Toolkit journal without hypothesis probes: the toolkit itself judged the run
        // (completed, not deviated), and that is what the seed's scenario A asks.
        return if experiment.source == Source::ChaosToolkit
            && experiment.status == Status::Completed
        {
            (Verdict::Green, vec![Reason::CompletedWithoutProbes])
        } else {
            (Verdict::Inconclusive, vec![Reason::NoSeries])
        };
    }
    if !red.is_empty() {
        return (Verdict::Red, red);
    }
    let allowed = experiment.recover_within_s.zip(time_to_recover_s);
    if let Some((allowed_s, took_s)) = allowed
        && took_s > allowed_s
    {
        yellow.insert(0, Reason::RecoveryTooSlow { took_s, allowed_s });
    }
    if !yellow.is_empty() {
        return (Verdict::Yellow, yellow);
    }
    if let Some((allowed_s, took_s)) = allowed {
        green.insert(0, Reason::RecoveredInTime { took_s, allowed_s });
    }
    (Verdict::Green, green)
}

/// The status reason FIS or Chaos Toolkit gave, when it says anything.
fn status_reason(experiment: &Experiment) -> Option<String> {
    experiment
        .status_reason
        .as_deref()
        .map(str::trim)
        .filter(|reason| !reason.is_empty())
        .map(str::to_string)
}

/// Band, impact, recovery, peak and limit of one level series.
fn analyze_level_series(
    observed: &ObservedSeries,
    t0: Micros,
    window_start: Micros,
    window_end: Micros,
    settings: &WindowSettings,
) -> Result<LevelResult, Reason> {
    let series = observed.series;
    let id = &series.series_id;
    // The window's points, in time order, ignoring NaN values (CloudWatch never sends them,
    // but a journal or a hand-made file might).
    let points: Vec<(Micros, f64)> = observed
        .ts
        .iter()
        .zip(observed.values)
        .filter(|(ts, value)| **ts >= window_start && **ts <= window_end && !value.is_nan())
        .map(|(ts, value)| (*ts, *value))
        .collect();
    if points.is_empty() {
        return Err(Reason::NoPoints { series: id.clone() });
    }
    let condition = Condition::parse(&series.steady).map_err(|problem| Reason::BadSteady {
        series: id.clone(),
        problem: problem.to_string(),
    })?;
    let band = match condition.band() {
        Some(band) => band,
        None => {
            let before: Vec<f64> = points
                .iter()
                .filter(|(ts, _)| *ts < t0)
                .map(|(_, value)| *value)
                .collect();
            baseline_band(&before).ok_or_else(|| Reason::NoBaseline { series: id.clone() })?
        }
    };
    let limit = match series
        .limit
        .as_deref()
        .map(str::trim)
        .filter(|limit| !limit.is_empty())
    {
        None => None,
        Some(text) => Some(
            Condition::parse(text)
                .ok()
                .and_then(Condition::band)
                .ok_or_else(|| Reason::BadLimit {
                    series: id.clone(),
                    limit: text.to_string(),
                })?,
        ),
    };

    let period = series.period_s.max(1) * MICROS_PER_SECOND;
    let hold = settings.hold.max(1);
    let first_after_t0 = points.partition_point(|(ts, _)| *ts < t0);
    let impact_index =
        (first_after_t0..points.len()).find(|index| !band.contains(points[*index].1));

    let mut recovered_at = None;
    if let Some(impact_index) = impact_index {
        'candidates: for start in impact_index + 1..points.len() {
            if start + hold > points.len() {
                break;
            }
            for index in start..start + hold {
                if !band.contains(points[index].1) {
                    continue 'candidates;
                }
                if index > start && points[index].0 - points[index - 1].0 > 2 * period {
                    continue 'candidates;
                }
            }
            recovered_at = Some(points[start].0);
            break;
        }
    }

    let peak = points[first_after_t0..]
        .iter()
        .map(|(_, value)| (band.distance_outside(*value), *value))
        .filter(|(distance, _)| *distance > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, value)| value);
    let limit_exceeded = limit.is_some_and(|limit| {
        points[first_after_t0..]
            .iter()
            .any(|(_, value)| !limit.contains(*value))
    });

    Ok(LevelResult {
        band,
        impact_at: impact_index.map(|index| points[index].0),
        recovered_at,
        censored: impact_index.is_some() && recovered_at.is_none(),
        peak,
        limit_exceeded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const MINUTE: Micros = 60 * MICROS_PER_SECOND;

    fn experiment(status: &str, recover_within_s: Option<f64>) -> Experiment {
        Experiment {
            template_id: Some("EXT1".into()),
            status: Status::from_name(status).unwrap(),
            recover_within_s,
            ..Experiment::example("EXP1", 0)
        }
    }

    fn series(id: &str, steady: &str, kind: &str) -> MetricSeries {
        MetricSeries {
            experiment_id: "EXP1".into(),
            series_id: id.into(),
            namespace: "AWS/ApplicationELB".into(),
            metric: "HealthyHostCount".into(),
            stat: "Minimum".into(),
            dimensions: BTreeMap::new(),
            period_s: 60,
            unit: None,
            origin: crate::vocab::Origin::from_name("hypothesis").unwrap(),
            steady: steady.into(),
            limit: None,
            kind: SeriesKind::from_name(kind).unwrap(),
            budget: Some(0.0),
            outage: Some(5.0),
        }
    }

    /// Judges one experiment with one series whose points sit at the given minutes after t0 = 0
    /// (the window runs from −15m to t1 + 30m = 40m).
    fn judge(
        experiment: &Experiment,
        series: &MetricSeries,
        points: &[(i64, f64)],
    ) -> ExperimentOutcome {
        let ts: Vec<Micros> = points.iter().map(|(minute, _)| minute * MINUTE).collect();
        let values: Vec<f64> = points.iter().map(|(_, value)| *value).collect();
        let observed = [ObservedSeries {
            series,
            ts: &ts,
            values: &values,
        }];
        let input = ExperimentInput {
            experiment,
            actions: &[],
            series: &observed,
            alarm_times: &[],
        };
        analyze_experiment(&input, &WindowSettings::default())
    }

    /// One level series (`>= 2`) with points at the given minutes (t0 = 0, window −15m..+40m).
    fn check(status: &str, points: &[(i64, f64)], expected: (Verdict, Option<f64>)) {
        let healthy = series("healthy_hosts", ">= 2", "level");
        let outcome = judge(&experiment(status, Some(300.0)), &healthy, points);
        assert_eq!(
            (outcome.verdict, outcome.time_to_recover_s),
            expected,
            "reasons: {:?}",
            outcome.reasons
        );
        assert!(!outcome.reasons.is_empty());
    }

    /// Points every minute from −5 to +20 with value 2, except `low` minutes at 1.
    fn curve(low: std::ops::Range<i64>) -> Vec<(i64, f64)> {
        (-5..=20)
            .map(|minute| (minute, if low.contains(&minute) { 1.0 } else { 2.0 }))
            .collect()
    }

    #[test]
    fn verdicts_and_recovery_times() {
        // Never left the band: green, recovery 0.
        check("completed", &curve(0..0), (Verdict::Green, Some(0.0)));
        // Down at minutes 1..3, back from 3 and held for 3 points: recovered 3 minutes after t0.
        check("completed", &curve(1..3), (Verdict::Green, Some(180.0)));
        // Recovery exactly at recover_within (5m) is still green.
        check("completed", &curve(1..5), (Verdict::Green, Some(300.0)));
        // One minute longer is yellow.
        check("completed", &curve(1..6), (Verdict::Yellow, Some(360.0)));
        // Never recovered before the window closed (t1 + 30m = 40m): red, censored at the window end.
        let never: Vec<(i64, f64)> = (-5..=40)
            .map(|m| (m, if m >= 1 { 1.0 } else { 2.0 }))
            .collect();
        check("completed", &never, (Verdict::Red, Some(2400.0)));
        // A stopped experiment is red whatever its curves.
        check("stopped", &curve(0..0), (Verdict::Red, Some(0.0)));
        check("failed", &curve(1..3), (Verdict::Red, Some(180.0)));
        check("running", &curve(1..3), (Verdict::InProgress, None));
        check("cancelled", &[], (Verdict::Inconclusive, None));
        // No points at all in the window: inconclusive.
        check("completed", &[], (Verdict::Inconclusive, None));
    }

    #[test]
    fn a_recovery_needs_hold_points_without_long_gaps() {
        // Back at 3 but the next point comes 3 minutes later (> 2P): the run from 3 is broken,
        // so recovery starts at 6 (6, 7, 8 are consecutive).
        let mut points = curve(1..3);
        points.retain(|(minute, _)| !(4..6).contains(minute));
        check("completed", &points, (Verdict::Yellow, Some(360.0)));
        // A gap of exactly 2P does not break the run.
        let mut points = curve(1..3);
        points.retain(|(minute, _)| *minute != 4);
        check("completed", &points, (Verdict::Green, Some(180.0)));
        // Only two good points before the window ends are not a recovery.
        let short: Vec<(i64, f64)> = (-5..=40)
            .map(|m| (m, if (1..39).contains(&m) { 1.0 } else { 2.0 }))
            .collect();
        check("completed", &short, (Verdict::Red, Some(2400.0)));
    }

    #[test]
    fn errors_series_count_missing_points_as_zero() {
        let experiment = experiment("completed", Some(300.0));
        let errors = series("errors_5xx", ">= 0", "errors");
        let judge = |points: &[(i64, f64)]| judge(&experiment, &errors, points);
        let none = judge(&[]);
        assert_eq!(
            (none.verdict, none.error_total),
            (Verdict::Green, Some(0.0)),
            "{:?}",
            none.reasons
        );
        let some = judge(&[(2, 1.0), (3, 2.0)]);
        assert_eq!(
            (some.verdict, some.error_total),
            (Verdict::Yellow, Some(3.0))
        );
        // Errors before t0 do not count; 5 in the window reach the outage level.
        let outage = judge(&[(-3, 50.0), (2, 4.0), (30, 1.0)]);
        assert_eq!(
            (outage.verdict, outage.error_total),
            (Verdict::Red, Some(5.0))
        );
    }

    #[test]
    fn baseline_bands_need_points_before_the_fault() {
        let band = baseline_band(&[100.0, 102.0, 98.0, 101.0, 99.0]).unwrap();
        // median 100, MAD 1: max(3 × 1.4826 × 1, 5, 1e-9) = 5.
        assert_eq!((band.low, band.high), (95.0, 105.0));
        assert!(baseline_band(&[]).is_none());
        // One burst in 20 points (5%) is an outlier: the band stays the MAD band.
        let mut quiet = vec![10.0; 19];
        quiet.push(20.0);
        let band = baseline_band(&quiet).unwrap();
        assert_eq!((band.low, band.high), (9.5, 10.5));
        // Two bursts in 20 (10%) are routine: the band reaches the 99th percentile (position
        // 0.99 × 19 = 18.81, between the two sorted 20s: 20) plus the half-width 0.5.
        let mut bursty = vec![10.0; 18];
        bursty.extend([20.0, 20.0]);
        let band = baseline_band(&bursty).unwrap();
        assert_eq!((band.low, band.high), (9.5, 20.0 + 0.5));
        let experiment = experiment("completed", None);
        let dashboard = series("requests", "baseline", "level");
        let after_t0: Vec<(i64, f64)> = (0..10).map(|minute| (minute, 100.0)).collect();
        let outcome = judge(&experiment, &dashboard, &after_t0);
        assert_eq!(outcome.verdict, Verdict::Inconclusive);
        assert_eq!(
            outcome.reasons,
            vec![Reason::NoBaseline {
                series: "requests".into()
            }]
        );
    }

    /// Judges one experiment with several series and optional stop-condition alarm times.
    fn judge_many(
        experiment: &Experiment,
        actions: &[&Action],
        series: &[(&MetricSeries, Vec<(i64, f64)>)],
        alarm_minutes: &[i64],
    ) -> ExperimentOutcome {
        let columns: Vec<(Vec<Micros>, Vec<f64>)> = series
            .iter()
            .map(|(_, points)| {
                (
                    points.iter().map(|(minute, _)| minute * MINUTE).collect(),
                    points.iter().map(|(_, value)| *value).collect(),
                )
            })
            .collect();
        let observed: Vec<ObservedSeries> = series
            .iter()
            .zip(&columns)
            .map(|((series, _), (ts, values))| ObservedSeries { series, ts, values })
            .collect();
        let alarms: Vec<(Micros, &str)> = alarm_minutes
            .iter()
            .map(|m| (m * MINUTE, "api-errors"))
            .collect();
        analyze_experiment(
            &ExperimentInput {
                experiment,
                actions,
                series: &observed,
                alarm_times: &alarms,
            },
            &WindowSettings::default(),
        )
    }

    #[test]
    fn a_limit_crossed_makes_an_otherwise_green_run_yellow() {
        // p99 latency, steady < 0.2, limit <= 0.5: 0.4 at minute 2 leaves the band and recovers
        // (green so far); 0.6 crosses the limit (yellow) although it recovers as fast.
        let mut latency = series("p99_latency", "< 0.2", "level");
        latency.limit = Some("<= 0.5".into());
        let experiment = experiment("completed", Some(300.0));
        let curve = |peak: f64| -> Vec<(i64, f64)> {
            (-5..=20)
                .map(|m| (m, if m == 2 { peak } else { 0.1 }))
                .collect()
        };
        let inside = judge_many(&experiment, &[], &[(&latency, curve(0.4))], &[]);
        assert_eq!(
            (
                inside.verdict,
                inside.time_to_impact_s,
                inside.time_to_recover_s
            ),
            (Verdict::Green, Some(120.0), Some(180.0))
        );
        let crossed = judge_many(&experiment, &[], &[(&latency, curve(0.6))], &[]);
        assert_eq!(crossed.verdict, Verdict::Yellow, "{:?}", crossed.reasons);
        let SeriesResult::Level(level) = &crossed.series[0].1 else {
            panic!("a level series")
        };
        // The peak is the value farthest outside the band.
        assert_eq!((level.peak, level.limit_exceeded), (Some(0.6), true));
        assert!(
            crossed
                .reasons
                .iter()
                .any(|r| matches!(r, Reason::LimitBroken { .. })),
            "{:?}",
            crossed.reasons
        );
    }

    #[test]
    fn a_stop_condition_alarm_inside_the_window_is_red() {
        let mut experiment = experiment("completed", Some(300.0));
        experiment.stop_condition_alarms = vec!["web-5xx".into()];
        let healthy = series("healthy_hosts", ">= 2", "level");
        let flat = curve(0..0);
        // The alarm fired 4 minutes after t0: red, even though the curve never moved.
        let fired = judge_many(&experiment, &[], &[(&healthy, flat.clone())], &[4]);
        assert_eq!(fired.verdict, Verdict::Red, "{:?}", fired.reasons);
        // An alarm an hour before the window (−15m) is someone else's: green.
        let before = judge_many(&experiment, &[], &[(&healthy, flat)], &[-60]);
        assert_eq!(before.verdict, Verdict::Green, "{:?}", before.reasons);
    }

    #[test]
    fn the_experiment_recovers_when_its_last_level_series_does() {
        // Hosts drop at minute 1 and are back at 3; latency leaves at 2 and is back at 6.
        // time_to_impact = min(60, 120) = 60 s; time_to_recover = max(180, 360) = 360 s > 300 s.
        let healthy = series("healthy_hosts", ">= 2", "level");
        let latency = series("p99_latency", "< 0.2", "level");
        let slow: Vec<(i64, f64)> = (-5..=20)
            .map(|m| (m, if (2..6).contains(&m) { 0.3 } else { 0.1 }))
            .collect();
        let outcome = judge_many(
            &experiment("completed", Some(300.0)),
            &[],
            &[(&healthy, curve(1..3)), (&latency, slow)],
            &[],
        );
        assert_eq!(
            (
                outcome.verdict,
                outcome.time_to_impact_s,
                outcome.time_to_recover_s
            ),
            (Verdict::Yellow, Some(60.0), Some(360.0))
        );
        // A level series with no points in the window makes the experiment inconclusive, even
        // when another series has points.
        let outcome = judge_many(
            &experiment("completed", Some(300.0)),
            &[],
            &[(&healthy, curve(1..3)), (&latency, vec![])],
            &[],
        );
        assert_eq!(outcome.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn t0_is_the_earliest_action_start() {
        // The experiment starts at 0 but its first action at minute 2: the dip at minute 3 is
        // 1 minute after t0 and the recovery at 5 is 3 minutes after it.
        let action = Action {
            experiment_id: "EXP1".into(),
            action_name: "terminate".into(),
            action_id: "aws:ec2:terminate-instances".into(),
            system: None,
            status: "completed".into(),
            started_at: Some(2 * MINUTE),
            ended_at: Some(4 * MINUTE),
            targets: vec![],
        };
        let healthy = series("healthy_hosts", ">= 2", "level");
        let outcome = judge_many(
            &experiment("completed", Some(300.0)),
            &[&action],
            &[(&healthy, curve(3..5))],
            &[],
        );
        assert_eq!(outcome.t0, Some(2 * MINUTE));
        assert_eq!(
            (outcome.time_to_impact_s, outcome.time_to_recover_s),
            (Some(60.0), Some(180.0))
        );
    }

    #[test]
    fn unfinished_experiments_are_in_progress() {
        for status in ["pending", "initiating", "running", "stopping"] {
            check(status, &curve(1..3), (Verdict::InProgress, None));
        }
    }

    #[test]
    fn conditions_parse() {
        assert_eq!(Condition::parse(">= 2"), Ok(Condition::GreaterOrEqual(2.0)));
        assert_eq!(Condition::parse("<0.2"), Ok(Condition::Less(0.2)));
        assert_eq!(Condition::parse("baseline"), Ok(Condition::Baseline));
        assert!(Condition::parse("=> 2").is_err());
        assert!(Condition::parse(">= two").is_err());
        let band = Condition::parse("< 0.2").unwrap().band().unwrap();
        assert!(band.contains(0.19) && !band.contains(0.2));
    }
}
