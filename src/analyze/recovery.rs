//! Recovery time and verdict of one experiment (SPEC section 6): steady-state bands, impact,
//! recovery with `hold` and the `2P` gap rule, censoring, peaks, limits, errors series, and the
//! green / yellow / red / inconclusive / in_progress verdict with the sentences that explain it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::reason::Reason;
use crate::config::WindowSettings;
use crate::ledger::{Action, Experiment, MetricSeries};
use crate::vocab::catalog::ActionCatalog;
use crate::vocab::stats::{median_in_place, median_of_sorted, percentile};
use crate::vocab::time::{MICROS_PER_SECOND, Micros, seconds_from_micros};
use crate::vocab::{AlarmState, Band, Condition, SeriesKind, Source, Status, Verdict};

/// The baseline band: median `m` and MAD of the points before the fault,
/// `m ± max(3 × 1.4826 × MAD, 0.05 × |m|, 1e-9)` (SPEC section 6).
///
/// One addition: when at least 20 baseline points are given and more than 5% of them (at least 2)
/// lie outside that band, leaving it is part of the steady state (an hourly cron burst on an idle
/// instance, as in NAB's ec2_cpu_utilization_c6585a), and the band widens to cover the baseline's 1st to 99th
/// percentile plus the same half-width. The MAD ignores such recurring bursts, so without this
/// every experiment on such a metric would be "impacted" by its own routine. A baseline whose
/// points all sit inside the band (the usual case) keeps the spec's band exactly.
pub fn baseline_band(values: &[f64]) -> Option<Band> {
    // Sorted once: the center, the outliers and the percentiles all read it.
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    // Unstable: under `total_cmp` equal values are the same bits, so the order is the same, and
    // the stable sort's scratch buffer (an allocation a series) is not needed.
    sorted.sort_unstable_by(f64::total_cmp);
    let center = median_of_sorted(&sorted)?;
    let mut deviations: Vec<f64> = sorted
        .iter()
        .map(|value| (value - center).abs())
        .filter(|deviation| !deviation.is_nan())
        .collect();
    let mad = median_in_place(&mut deviations).unwrap_or(0.0);
    let half_width = (3.0 * 1.4826 * mad).max(0.05 * center.abs()).max(1e-9);
    let mut band = Band {
        low: center - half_width,
        high: center + half_width,
        low_inclusive: true,
        high_inclusive: true,
    };
    let outside = sorted.iter().filter(|v| !band.contains(**v)).count();
    if sorted.len() >= MIN_WIDENING_POINTS
        && outside >= MIN_WIDENING_OUTLIERS
        && outside as f64 > RECURRING_SHARE * sorted.len() as f64
    {
        band.low = band.low.min(percentile(&sorted, 0.01) - half_width);
        band.high = band.high.max(percentile(&sorted, 0.99) + half_width);
    }
    Some(band)
}

/// The share of baseline points outside the MAD band above which leaving it is routine.
const RECURRING_SHARE: f64 = 0.05;
/// Widening needs a baseline long enough to show a routine, and more than one spike (SPEC
/// revision 2: one spike in a 15-point baseline widened the band).
const MIN_WIDENING_POINTS: usize = 20;
const MIN_WIDENING_OUTLIERS: usize = 2;
/// Fewer baseline points than this: the baseline cannot be learned.
const MIN_BASELINE_POINTS: usize = 3;

/// One series as judging reads it: whose it is and the rule it is judged by, borrowed from a
/// series record or straight from the series table's columns, so that judging a ledger makes no
/// owned copy of its series (namespaces, dimensions and units are for ingest and reports).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesRule<'a> {
    pub experiment_id: &'a str,
    pub series_id: &'a str,
    /// The CloudWatch statistic: counts (`Sum`, `SampleCount`) have no point for a zero.
    pub stat: &'a str,
    pub period_s: i64,
    /// `>= 2`, `< 0.2`, or `baseline`.
    pub steady: &'a str,
    pub limit: Option<&'a str>,
    pub kind: SeriesKind,
    pub budget: Option<f64>,
    pub outage: Option<f64>,
}

impl<'a> SeriesRule<'a> {
    pub fn is_count(&self) -> bool {
        crate::vocab::is_count_statistic(self.stat)
    }
}

impl<'a> From<&'a MetricSeries> for SeriesRule<'a> {
    fn from(series: &'a MetricSeries) -> Self {
        SeriesRule {
            experiment_id: &series.experiment_id,
            series_id: &series.series_id,
            stat: &series.stat,
            period_s: series.period_s,
            steady: &series.steady,
            limit: series.limit.as_deref(),
            kind: series.kind,
            budget: series.budget,
            outage: series.outage,
        }
    }
}

/// One series of an experiment with its points, sorted by time.
#[derive(Debug, Clone, Copy)]
pub struct ObservedSeries<'a> {
    pub series: SeriesRule<'a>,
    pub ts: &'a [Micros],
    pub values: &'a [f64],
}

/// Everything the verdict of one experiment depends on.
#[derive(Debug, Clone, Copy)]
pub struct ExperimentInput<'a> {
    pub experiment: &'a Experiment,
    pub actions: &'a [&'a Action],
    /// Which actions inject a fault.
    pub catalog: &'a ActionCatalog,
    /// The recovery time allowed: the hypothesis's, else the service's `rto` (`[[service]]`).
    pub recover_within_s: Option<f64>,
    pub series: &'a [ObservedSeries<'a>],
    /// The state changes of the experiment's stop-condition alarms in its observation window:
    /// time, alarm, new state.
    pub alarm_changes: &'a [(Micros, &'a str, AlarmState)],
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
    /// `None` for a censored experiment (impacted, never recovered) and when not measured.
    pub time_to_recover_s: Option<f64>,
    /// For a censored experiment, the time from `t0` to the end of the window: how long it was
    /// seen not to recover (Kaplan–Meier counts it as "at least this long").
    pub censored_at_s: Option<f64>,
    /// The recovery time allowed: the hypothesis's `recover_within`, else the service's `rto`.
    pub recover_within_s: Option<f64>,
    pub impacted: bool,
    pub recovered: bool,
    pub degraded_s: Option<f64>,
    pub error_total: Option<f64>,
    /// The coarsest period its CloudWatch series were read at (CloudWatch keeps older data only
    /// at coarser periods, SPEC section 4); `None` for Chaos Toolkit runs and runs without series.
    pub period_used_s: Option<i64>,
    pub series: Vec<(String, SeriesResult)>,
    pub reasons: Vec<Reason>,
}

impl ExperimentOutcome {
    /// Nothing measured yet: inconclusive, no times, no series, no reasons.
    fn unmeasured(experiment_id: &str) -> ExperimentOutcome {
        ExperimentOutcome {
            experiment_id: experiment_id.to_string(),
            verdict: Verdict::Inconclusive,
            t0: None,
            t1: None,
            window: None,
            time_to_impact_s: None,
            time_to_recover_s: None,
            censored_at_s: None,
            recover_within_s: None,
            impacted: false,
            recovered: false,
            degraded_s: None,
            error_total: None,
            period_used_s: None,
            series: Vec::new(),
            reasons: Vec::new(),
        }
    }

    /// An outcome with `verdict` whose fault began at `t0` and nothing else measured: for tests
    /// to adjust.
    #[cfg(test)]
    pub(crate) fn example(experiment_id: &str, verdict: Verdict, t0: Micros) -> ExperimentOutcome {
        ExperimentOutcome {
            verdict,
            t0: Some(t0),
            ..ExperimentOutcome::unmeasured(experiment_id)
        }
    }
}

/// Judges one experiment: runs that never came to a verdict first, then the series in the
/// observation window, then the verdict from what they showed (SPEC section 6).
pub fn analyze_experiment(input: &ExperimentInput, settings: &WindowSettings) -> ExperimentOutcome {
    let experiment = input.experiment;
    let mut outcome = ExperimentOutcome::unmeasured(&experiment.experiment_id);
    outcome.recover_within_s = input.recover_within_s;
    if let Some((verdict, reason)) = unjudged_run(experiment) {
        outcome.verdict = verdict;
        outcome.reasons.push(reason);
        return outcome;
    }
    let Some((t0, t1)) = experiment.fault_times(input.actions.iter().copied(), input.catalog)
    else {
        outcome.reasons.push(Reason::NoStartTime);
        return outcome;
    };
    let window = settings.observation_window(t0, t1);
    outcome.t0 = Some(t0);
    outcome.t1 = Some(t1);
    outcome.window = Some(window);

    // Chaos Toolkit's samples are its probes' own results, a few by design, not aggregates that
    // CloudWatch coarsened with age: the coarse-data rule is for CloudWatch series.
    let rules = SeriesRules {
        settings,
        coarse_data: experiment.source != Source::ChaosToolkit,
    };
    let findings = read_series(input.series, t0, window, &rules);
    outcome.period_used_s = input
        .series
        .iter()
        .filter(|_| rules.coarse_data)
        .map(|observed| observed.series.period_s)
        .max();
    outcome.error_total = findings.error_total;
    outcome.impacted = !findings.impacts.is_empty();
    outcome.time_to_impact_s = findings
        .impacts
        .iter()
        .min()
        .map(|v| seconds_from_micros(*v));
    outcome.time_to_recover_s = if findings.any_censored {
        None
    } else if outcome.impacted {
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
    outcome.censored_at_s = findings
        .any_censored
        .then(|| seconds_from_micros(window.1 - t0));
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
    // Times read from coarser points are only known to within a period: the verdict says so.
    if let Some(period_s) = outcome.period_used_s.filter(|period| *period > 60)
        && matches!(verdict, Verdict::Green | Verdict::Yellow | Verdict::Red)
    {
        outcome.reasons.push(Reason::ReadAtResolution { period_s });
    }
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

/// How the series of one experiment are read.
struct SeriesRules<'a> {
    settings: &'a WindowSettings,
    /// Whether too few points after the fault make a series not measurable.
    coarse_data: bool,
}

fn read_series(
    observed_series: &[ObservedSeries],
    t0: Micros,
    (window_start, window_end): (Micros, Micros),
    rules: &SeriesRules,
) -> Findings {
    let mut findings = Findings::default();
    for observed in observed_series {
        let completed = completed_counts(observed, (window_start, window_end));
        let observed = match &completed {
            Some((ts, values)) => &ObservedSeries {
                series: observed.series,
                ts,
                values,
            },
            None => observed,
        };
        let series = observed.series;
        let id = series.series_id;
        if series.kind == SeriesKind::Errors {
            let total = error_count(observed, t0, window_end);
            findings.error_total = Some(findings.error_total.unwrap_or(0.0) + total);
            let reasons = &mut findings.reasons;
            let series_id = id.to_string();
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
                .push((id.to_string(), SeriesResult::Errors { total }));
            continue;
        }

        let result = match analyze_level_series(observed, t0, (window_start, window_end), rules) {
            Ok(result) => result,
            Err(problem) => {
                findings.reasons.inconclusive.push(problem.clone());
                findings
                    .series
                    .push((id.to_string(), SeriesResult::NoData(problem)));
                continue;
            }
        };
        let steady = series.steady.trim().to_string();
        // The point whose period holds t0 is stamped before it: an impact there counts as at t0.
        match (result.impact_at, result.recovered_at) {
            (None, _) => findings.reasons.green.push(Reason::StayedSteady {
                series: id.to_string(),
                steady,
            }),
            (Some(impact_at), Some(recovered_at)) => {
                findings.impacts.push((impact_at - t0).max(0));
                findings.recoveries.push(recovered_at - t0);
                findings
                    .degraded_s
                    .push(seconds_from_micros(recovered_at - impact_at));
                findings.reasons.green.push(Reason::Recovered {
                    series: id.to_string(),
                    steady,
                    impact_s: seconds_from_micros((impact_at - t0).max(0)),
                    back_s: seconds_from_micros(recovered_at - t0),
                });
            }
            (Some(impact_at), None) => {
                findings.impacts.push((impact_at - t0).max(0));
                findings.recoveries.push(window_end - t0);
                findings
                    .degraded_s
                    .push(seconds_from_micros(window_end - impact_at));
                findings.any_censored = true;
                findings.reasons.red.push(Reason::NotRecovered {
                    series: id.to_string(),
                    steady,
                    impact_s: seconds_from_micros((impact_at - t0).max(0)),
                    window_s: seconds_from_micros(window_end - t0),
                });
            }
        }
        if result.limit_exceeded {
            findings.reasons.yellow.push(Reason::LimitBroken {
                series: id.to_string(),
                limit: series.limit.unwrap_or_default().trim().to_string(),
                peak: result.peak,
            });
        }
        findings
            .series
            .push((id.to_string(), SeriesResult::Level(result)));
    }
    findings
}

/// CloudWatch publishes no datapoint for a zero count, so a `Sum` or `SampleCount` series is
/// completed with a zero at every period of the window that has no point (SPEC section 6); other
/// statistics keep their gaps. `None` when the series is not a count.
fn completed_counts(
    observed: &ObservedSeries,
    (start, end): (Micros, Micros),
) -> Option<(Vec<Micros>, Vec<f64>)> {
    if !observed.series.is_count() {
        return None;
    }
    let period = observed.series.period_s.max(1) * MICROS_PER_SECOND;
    // Periods are aligned to the epoch, as CloudWatch aligns them for periods of a minute or more.
    // The points (in time order) and the window's periods are merged: a period keeps its last
    // point, and a period of the window without one gets a zero at its start.
    let first_slot = start.div_euclid(period) + i64::from(start.rem_euclid(period) != 0);
    let mut empty_slots = (first_slot..=end.div_euclid(period)).peekable();
    // Each point's period is worked out once, not two or three times: the division showed in
    // judging's profile.
    let mut points = observed
        .ts
        .iter()
        .zip(observed.values)
        .map(|(ts, value)| (ts.div_euclid(period), *ts, *value))
        .peekable();
    let capacity = observed.ts.len() + empty_slots.size_hint().0;
    let (mut ts_out, mut values_out) = (Vec::with_capacity(capacity), Vec::with_capacity(capacity));
    loop {
        let point_slot = points.peek().map(|(slot, _, _)| *slot);
        match (point_slot, empty_slots.peek().copied()) {
            (Some(slot), empty) if empty.is_none_or(|empty| slot <= empty) => {
                let mut last = points.next().expect("peeked");
                while let Some(next) = points.next_if(|(next_slot, _, _)| *next_slot == slot) {
                    last = next;
                }
                ts_out.push(last.1);
                values_out.push(last.2);
                if empty == Some(slot) {
                    empty_slots.next();
                }
            }
            (_, Some(empty)) => {
                ts_out.push(empty * period);
                values_out.push(0.0);
                empty_slots.next();
            }
            (None, None) => break,
            (Some(_), None) => unreachable!("a point with no empty slot left is taken first"),
        }
    }
    Some((ts_out, values_out))
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

/// The verdict and the reasons that explain it, in SPEC section 6's order (revision 2): nothing
/// injected; then hard evidence of harm (red), even when another series could not be judged;
/// then not measurable; then yellow; then green, or inconclusive for a run stopped after the
/// fault began that shows no breach.
fn decide(
    input: &ExperimentInput,
    t0: Micros,
    (_, window_end): (Micros, Micros),
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
    let status = experiment.status;
    let why = status_reason(experiment);
    let chaos_toolkit = experiment.source == Source::ChaosToolkit;
    // FIS ends a run `failed` or `stopped` for reasons that are not the system's (no target found,
    // a person pressing stop); a Chaos Toolkit run is `failed` when it deviated.
    let ended_early = !chaos_toolkit && matches!(status, Status::Failed | Status::Stopped);

    // 2. Nothing injected.
    if dry_run(input) {
        return (Verdict::Inconclusive, vec![Reason::DryRun]);
    }
    if ended_early && nothing_injected(input) {
        return (
            Verdict::Inconclusive,
            vec![Reason::NothingInjected { status, why }],
        );
    }
    if chaos_toolkit && input.series.is_empty() && status != Status::Failed {
        return (Verdict::Inconclusive, vec![Reason::NoProbe]);
    }

    // 3. Red on hard evidence: the alarm first, then how the run ended, then what series showed.
    let alarm_fired = first_alarm_entered(input.alarm_changes, t0, window_end);
    let names_stop_condition = why
        .as_deref()
        .is_some_and(|why| why.to_ascii_lowercase().contains("stop condition"));
    let evidence = !red.is_empty() || alarm_fired.is_some() || names_stop_condition;
    if (chaos_toolkit && status == Status::Failed) || (ended_early && evidence) {
        let status_reason = match status {
            Status::Stopped => Reason::Stopped { why: why.clone() },
            _ => Reason::Failed { why: why.clone() },
        };
        red.insert(0, status_reason);
    }
    if let Some((entered, alarm)) = alarm_fired {
        let reason = Reason::AlarmFired {
            alarm: alarm.to_string(),
            after_s: seconds_from_micros(entered - t0),
        };
        red.insert(0, reason);
    }
    if !red.is_empty() {
        return (Verdict::Red, red);
    }

    // 4. Not measurable.
    if !inconclusive.is_empty() {
        return (Verdict::Inconclusive, inconclusive);
    }
    if let Some((entered, alarm)) = alarm_in_alarm_at(input.alarm_changes, t0) {
        let reason = Reason::AlarmBeforeFault {
            alarm: alarm.to_string(),
            before_s: seconds_from_micros(t0 - entered),
        };
        return (Verdict::Inconclusive, vec![reason]);
    }
    if input.series.is_empty() {
        return (Verdict::Inconclusive, vec![Reason::NoSeries]);
    }

    // 5. Yellow.
    let allowed = input.recover_within_s.zip(time_to_recover_s);
    if let Some((allowed_s, took_s)) = allowed
        && took_s > allowed_s
    {
        yellow.insert(0, Reason::RecoveryTooSlow { took_s, allowed_s });
    }
    if !yellow.is_empty() {
        return (Verdict::Yellow, yellow);
    }

    // 6. Green, unless the run ended before its fault did.
    if ended_early {
        return (
            Verdict::Inconclusive,
            vec![Reason::StoppedWithoutBreach { status, why }],
        );
    }
    if let Some((allowed_s, took_s)) = allowed {
        green.insert(0, Reason::RecoveredInTime { took_s, allowed_s });
    }
    (Verdict::Green, green)
}

/// A dry run: started with `actionsMode = skip-all`, or every fault action skipped.
fn dry_run(input: &ExperimentInput) -> bool {
    input.experiment.actions_mode.as_deref() == Some("skip-all")
        || all_fault_actions(input, |action| {
            action.status.eq_ignore_ascii_case("skipped")
        })
}

/// Whether the run has fault actions and none of them started (FIS found no target, or failed
/// before its first fault). A run without action records gives no such evidence.
fn nothing_injected(input: &ExperimentInput) -> bool {
    all_fault_actions(input, |action| action.started_at.is_none())
}

/// Whether the run has fault actions and every one of them is `such`.
fn all_fault_actions(input: &ExperimentInput, such: impl Fn(&Action) -> bool) -> bool {
    let mut faults = input
        .actions
        .iter()
        .filter(|action| input.catalog.injects_fault(&action.action_id))
        .peekable();
    faults.peek().is_some() && faults.all(|action| such(action))
}

/// The first time a stop-condition alarm entered ALARM inside `[t0, end]`.
fn first_alarm_entered<'a>(
    changes: &[(Micros, &'a str, AlarmState)],
    t0: Micros,
    end: Micros,
) -> Option<(Micros, &'a str)> {
    changes
        .iter()
        .filter(|(ts, _, to)| *to == AlarmState::Alarm && (t0..=end).contains(ts))
        .map(|(ts, alarm, _)| (*ts, *alarm))
        .min()
}

/// A stop-condition alarm in ALARM at `t0` (its last change before `t0` went to ALARM), with the
/// time it entered ALARM.
fn alarm_in_alarm_at<'a>(
    changes: &[(Micros, &'a str, AlarmState)],
    t0: Micros,
) -> Option<(Micros, &'a str)> {
    let mut last: BTreeMap<&str, (Micros, AlarmState)> = BTreeMap::new();
    for (ts, alarm, to) in changes.iter().filter(|(ts, _, _)| *ts < t0) {
        if last.get(alarm).is_none_or(|(seen, _)| seen <= ts) {
            last.insert(alarm, (*ts, *to));
        }
    }
    last.into_iter()
        .filter(|(_, (_, state))| *state == AlarmState::Alarm)
        .map(|(alarm, (ts, _))| (ts, alarm))
        .min()
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

/// A series' points in the observation window, in time order, without NaN values (CloudWatch
/// never sends them, but a journal or a hand-made file might). Borrowed when the series is in
/// time order and the window holds no NaN, as a ledger's series are: copying every series'
/// window was a quarter of `analyze_experiment`'s time on 10,000 experiments (`perf`).
fn window_points<'a>(
    observed: &ObservedSeries<'a>,
    (start, end): (Micros, Micros),
) -> (Cow<'a, [Micros]>, Cow<'a, [f64]>) {
    let (ts, values) = (observed.ts, observed.values);
    if ts.len() == values.len() && ts.is_sorted() {
        let first = ts.partition_point(|ts| *ts < start);
        let rows = first..ts.partition_point(|ts| *ts <= end).max(first);
        if !values[rows.clone()].iter().any(|value| value.is_nan()) {
            return (
                Cow::Borrowed(&ts[rows.clone()]),
                Cow::Borrowed(&values[rows]),
            );
        }
    }
    let (ts, values): (Vec<Micros>, Vec<f64>) = ts
        .iter()
        .zip(values)
        .filter(|(ts, value)| **ts >= start && **ts <= end && !value.is_nan())
        .map(|(ts, value)| (*ts, *value))
        .unzip();
    (Cow::Owned(ts), Cow::Owned(values))
}

/// Band, impact, recovery, peak and limit of one level series.
fn analyze_level_series(
    observed: &ObservedSeries,
    t0: Micros,
    (window_start, window_end): (Micros, Micros),
    rules: &SeriesRules,
) -> Result<LevelResult, Reason> {
    let series = observed.series;
    let id = series.series_id;
    let (ts, values) = window_points(observed, (window_start, window_end));
    let (ts, values) = (&ts[..], &values[..]);
    if ts.is_empty() {
        return Err(Reason::NoPoints {
            series: id.to_string(),
        });
    }
    let condition = Condition::parse(series.steady).map_err(|problem| Reason::BadSteady {
        series: id.to_string(),
        problem: problem.to_string(),
    })?;
    let period = series.period_s.max(1) * MICROS_PER_SECOND;
    // A point is stamped with the start of its period: it is baseline only when its whole period
    // ends by t0; the point whose period holds t0 already counts from the fault on.
    let first_after_t0 = ts.partition_point(|ts| *ts + period <= t0);
    let hold = rules.settings.hold.max(1);
    // Data kept at a coarser period than asked for (old history, SPEC section 4) leaves too few
    // points after the fault to see a recovery of `hold` points (and, at that period, too few
    // before it for a baseline: the period is the reason to give).
    if rules.coarse_data && ts.len() - first_after_t0 < hold {
        return Err(Reason::CoarseData {
            series: id.to_string(),
            points: ts.len() - first_after_t0,
            period_s: series.period_s,
        });
    }
    let band = match condition.band() {
        Some(band) => band,
        None => {
            let before = &values[..first_after_t0];
            if before.len() < MIN_BASELINE_POINTS {
                return Err(Reason::NoBaseline {
                    series: id.to_string(),
                    points: before.len(),
                });
            }
            baseline_band(before).expect("a baseline of at least 3 points")
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
                    series: id.to_string(),
                    limit: text.to_string(),
                })?,
        ),
    };

    let impact_index = (first_after_t0..ts.len()).find(|index| !band.contains(values[*index]));

    let mut recovered_at = None;
    if let Some(impact_index) = impact_index {
        'candidates: for start in impact_index + 1..ts.len() {
            if start + hold > ts.len() {
                break;
            }
            for index in start..start + hold {
                if !band.contains(values[index]) {
                    continue 'candidates;
                }
                if index > start && ts[index] - ts[index - 1] > 2 * period {
                    continue 'candidates;
                }
            }
            recovered_at = Some(ts[start]);
            break;
        }
    }

    let peak = values[first_after_t0..]
        .iter()
        .map(|value| (band.distance_outside(*value), *value))
        .filter(|(distance, _)| *distance > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, value)| value);
    let limit_exceeded = limit.is_some_and(|limit| {
        values[first_after_t0..]
            .iter()
            .any(|value| !limit.contains(*value))
    });

    Ok(LevelResult {
        band,
        impact_at: impact_index.map(|index| ts[index]),
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
            series: series.into(),
            ts: &ts,
            values: &values,
        }];
        let input = ExperimentInput {
            experiment,
            actions: &[],
            catalog: catalog(),
            recover_within_s: experiment.recover_within_s,
            series: &observed,
            alarm_changes: &[],
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
        check("completed", &never, (Verdict::Red, None));
        // Stopped or failed after the fault began, without a stop condition and without a
        // breach: inconclusive (revision 2; it used to be red whatever the curves).
        check("stopped", &curve(0..0), (Verdict::Inconclusive, Some(0.0)));
        check("failed", &curve(1..3), (Verdict::Inconclusive, Some(180.0)));
        // With a breach, red.
        check("failed", &never, (Verdict::Red, None));
        let outcome = judge(
            &experiment("completed", Some(300.0)),
            &series("healthy_hosts", ">= 2", "level"),
            &never,
        );
        assert_eq!(
            (
                outcome.time_to_recover_s,
                outcome.censored_at_s,
                outcome.recovered
            ),
            (None, Some(2400.0), false)
        );
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
        check("completed", &short, (Verdict::Red, None));
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
    fn a_windows_points_are_borrowed_when_in_order_and_copied_without_nans_otherwise() {
        let rule = series("latency", "< 5", "level");
        let rule = SeriesRule::from(&rule);
        let window = |ts: &[Micros], values: &[f64]| {
            let observed = ObservedSeries {
                series: rule,
                ts,
                values,
            };
            let (ts, values) = window_points(&observed, (10, 30));
            let borrowed = matches!(ts, Cow::Borrowed(_)) && matches!(values, Cow::Borrowed(_));
            let points: Vec<(Micros, f64)> =
                ts.iter().copied().zip(values.iter().copied()).collect();
            (points, borrowed)
        };
        // In time order: the window's rows, bounds included, borrowed.
        let (points, borrowed) = window(&[0, 10, 20, 30, 40], &[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(points, [(10, 2.0), (20, 3.0), (30, 4.0)]);
        assert!(borrowed);
        // A NaN in the window is dropped; out of order, rows keep their order.
        let (points, borrowed) = window(&[10, 20, 30], &[1.0, f64::NAN, 3.0]);
        assert_eq!(points, [(10, 1.0), (30, 3.0)]);
        assert!(!borrowed);
        let (points, _) = window(&[30, 5, 10], &[3.0, 0.0, 1.0]);
        assert_eq!(points, [(30, 3.0), (10, 1.0)]);
        // Nothing in the window.
        assert_eq!(window(&[0, 40], &[1.0, 2.0]).0, []);
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
        // Widening needs at least 20 points and 2 outliers: one spike in 15 points (6.7%) is not
        // a routine.
        let mut short = vec![10.0; 14];
        short.push(20.0);
        let band = baseline_band(&short).unwrap();
        assert_eq!((band.low, band.high), (9.5, 10.5));
        let experiment = experiment("completed", None);
        let dashboard = series("requests", "baseline", "level");
        let after_t0: Vec<(i64, f64)> = (0..10).map(|minute| (minute, 100.0)).collect();
        let outcome = judge(&experiment, &dashboard, &after_t0);
        assert_eq!(outcome.verdict, Verdict::Inconclusive);
        assert_eq!(
            outcome.reasons,
            vec![Reason::NoBaseline {
                series: "requests".into(),
                points: 0,
            }]
        );
    }

    fn catalog() -> &'static ActionCatalog {
        static CATALOG: std::sync::OnceLock<ActionCatalog> = std::sync::OnceLock::new();
        CATALOG.get_or_init(ActionCatalog::built_in)
    }

    /// Judges one experiment with several series and the state changes of its stop-condition
    /// alarm `api-errors` at the given minutes.
    fn judge_many(
        experiment: &Experiment,
        actions: &[&Action],
        series: &[(&MetricSeries, Vec<(i64, f64)>)],
        alarm_changes: &[(i64, AlarmState)],
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
            .map(|((series, _), (ts, values))| ObservedSeries {
                series: (*series).into(),
                ts,
                values,
            })
            .collect();
        let alarms: Vec<(Micros, &str, AlarmState)> = alarm_changes
            .iter()
            .map(|(m, state)| (m * MINUTE, "api-errors", *state))
            .collect();
        analyze_experiment(
            &ExperimentInput {
                experiment,
                actions,
                catalog: catalog(),
                recover_within_s: experiment.recover_within_s,
                series: &observed,
                alarm_changes: &alarms,
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
        let fired = judge_many(
            &experiment,
            &[],
            &[(&healthy, flat.clone())],
            &[(4, AlarmState::Alarm)],
        );
        assert_eq!(fired.verdict, Verdict::Red, "{:?}", fired.reasons);
        // An alarm that fired an hour before the fault and went back to OK: green.
        let before = judge_many(
            &experiment,
            &[],
            &[(&healthy, flat.clone())],
            &[(-60, AlarmState::Alarm), (-50, AlarmState::Ok)],
        );
        assert_eq!(before.verdict, Verdict::Green, "{:?}", before.reasons);
        // Still in ALARM when the fault began: the system was not steady before it.
        let not_steady = judge_many(
            &experiment,
            &[],
            &[(&healthy, flat.clone())],
            &[(-60, AlarmState::Alarm)],
        );
        assert_eq!(
            (not_steady.verdict, not_steady.reasons),
            (
                Verdict::Inconclusive,
                vec![Reason::AlarmBeforeFault {
                    alarm: "api-errors".into(),
                    before_s: 3600.0
                }]
            )
        );
        // A stop condition that fired is red even when another series has no points at all.
        let latency = series("p99_latency", "< 0.2", "level");
        let with_empty = judge_many(
            &experiment,
            &[],
            &[(&healthy, flat), (&latency, vec![])],
            &[(4, AlarmState::Alarm)],
        );
        assert_eq!(with_empty.verdict, Verdict::Red, "{:?}", with_empty.reasons);
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

    fn fis_action(action_id: &str, minutes: Option<(i64, i64)>) -> Action {
        Action {
            experiment_id: "EXP1".into(),
            action_name: action_id.rsplit(':').next().unwrap().into(),
            action_id: action_id.into(),
            system: None,
            status: if minutes.is_some() {
                "completed"
            } else {
                "cancelled"
            }
            .into(),
            started_at: minutes.map(|(start, _)| start * MINUTE),
            ended_at: minutes.map(|(_, end)| end * MINUTE),
            targets: vec![],
        }
    }

    #[test]
    fn a_wait_before_the_fault_places_neither_t0_nor_the_baseline() {
        // A 5-minute aws:fis:wait from minute 0, the fault from minute 5: t0 is 5, so the dip at
        // 6..8 is 1 minute after t0 and the recovery at 8 is 3 minutes after it.
        let wait = fis_action("aws:fis:wait", Some((0, 5)));
        let fault = fis_action("aws:ec2:terminate-instances", Some((5, 7)));
        let healthy = series("healthy_hosts", ">= 2", "level");
        let outcome = judge_many(
            &experiment("completed", Some(300.0)),
            &[&wait, &fault],
            &[(&healthy, curve(6..8))],
            &[],
        );
        assert_eq!(outcome.t0, Some(5 * MINUTE));
        assert_eq!(
            (
                outcome.verdict,
                outcome.time_to_impact_s,
                outcome.time_to_recover_s
            ),
            (Verdict::Green, Some(60.0), Some(180.0))
        );
    }

    #[test]
    fn runs_that_injected_nothing_or_ended_early_without_harm_are_inconclusive() {
        let healthy = series("healthy_hosts", ">= 2", "level");
        let never_started = fis_action("aws:ec2:terminate-instances", None);
        let mut failed = experiment("failed", Some(300.0));
        failed.status_reason =
            Some("InvalidTarget: no resources found (location: targets.web)".into());
        let outcome = judge_many(&failed, &[&never_started], &[(&healthy, curve(0..0))], &[]);
        assert_eq!(
            (outcome.verdict, outcome.reasons),
            (
                Verdict::Inconclusive,
                vec![Reason::NothingInjected {
                    status: Status::Failed,
                    why: failed.status_reason.clone()
                }]
            )
        );
        // Stopped by hand after the fault began, no breach: inconclusive, not red, not green.
        let started = fis_action("aws:ec2:terminate-instances", Some((0, 2)));
        let mut stopped = experiment("stopped", Some(300.0));
        stopped.status_reason = Some("Experiment stopped by user.".into());
        let outcome = judge_many(&stopped, &[&started], &[(&healthy, curve(1..3))], &[]);
        assert_eq!(
            outcome.verdict,
            Verdict::Inconclusive,
            "{:?}",
            outcome.reasons
        );
        assert!(matches!(
            outcome.reasons[..],
            [Reason::StoppedWithoutBreach {
                status: Status::Stopped,
                ..
            }]
        ));
        // A dry run (every fault action skipped) completes but injects nothing.
        let skipped = Action {
            status: "skipped".into(),
            ..fis_action("aws:ec2:terminate-instances", Some((0, 2)))
        };
        let wait = fis_action("aws:fis:wait", Some((0, 1)));
        let outcome = judge_many(
            &experiment("completed", Some(300.0)),
            &[&wait, &skipped],
            &[(&healthy, curve(0..0))],
            &[],
        );
        assert_eq!(
            (outcome.verdict, outcome.reasons),
            (Verdict::Inconclusive, vec![Reason::DryRun])
        );
        // FIS's state reason naming a stop condition is evidence of harm on its own.
        stopped.status_reason = Some("Experiment stopped by stop condition.".into());
        let outcome = judge_many(&stopped, &[&started], &[(&healthy, curve(1..3))], &[]);
        assert_eq!(outcome.verdict, Verdict::Red, "{:?}", outcome.reasons);
    }

    #[test]
    fn a_count_keeps_each_periods_last_point_and_gets_zeros_where_the_window_has_none() {
        let mut count = series("http_5xx", "< 5", "level");
        count.stat = "Sum".into();
        let complete = |points: &[(i64, f64)], window: (i64, i64)| {
            let ts: Vec<Micros> = points.iter().map(|(s, _)| s * MICROS_PER_SECOND).collect();
            let values: Vec<f64> = points.iter().map(|(_, value)| *value).collect();
            let observed = ObservedSeries {
                series: (&count).into(),
                ts: &ts,
                values: &values,
            };
            let window = (window.0 * MICROS_PER_SECOND, window.1 * MICROS_PER_SECOND);
            let (ts, values) = completed_counts(&observed, window).expect("a count");
            ts.iter()
                .map(|ts| ts / MICROS_PER_SECOND)
                .zip(values)
                .collect::<Vec<_>>()
        };
        // Nothing in the window: a zero at the start of each of its periods (the first period
        // starting at or after the window's start, the last one holding its end).
        assert_eq!(
            complete(&[], (-90, 150)),
            [(-60, 0.0), (0, 0.0), (60, 0.0), (120, 0.0)]
        );
        // Two points in one period (the period keeps the last), a point off the minute, points
        // before and after the window (kept as they are), a gap of two periods.
        assert_eq!(
            complete(
                &[
                    (-200, 7.0),
                    (0, 1.0),
                    (30, 2.0),
                    (75, 3.0),
                    (240, 4.0),
                    (400, 5.0)
                ],
                (-60, 300)
            ),
            [
                (-200, 7.0),
                (-60, 0.0),
                (30, 2.0),
                (75, 3.0),
                (120, 0.0),
                (180, 0.0),
                (240, 4.0),
                (300, 0.0),
                (400, 5.0)
            ]
        );
        // A point in each period: nothing added, nothing dropped.
        let every_minute: Vec<(i64, f64)> = (0..5).map(|m| (m * 60, m as f64)).collect();
        assert_eq!(complete(&every_minute, (0, 240)), every_minute);
    }

    #[test]
    fn sparse_counts_are_completed_with_zeros() {
        // A 5XX count (Sum) that must stay below 5 a minute. CloudWatch publishes no point for a
        // zero count: a quiet run has no points at all.
        let mut errors = series("http_5xx", "< 5", "level");
        errors.stat = "Sum".into();
        let quiet = judge_many(
            &experiment("completed", Some(300.0)),
            &[],
            &[(&errors, vec![])],
            &[],
        );
        assert_eq!(
            (quiet.verdict, quiet.time_to_recover_s),
            (Verdict::Green, Some(0.0)),
            "{:?}",
            quiet.reasons
        );
        // A burst at minutes 1 and 2 only: the zeros around it make the recovery measurable
        // (back at minute 3, held for 3 points).
        let burst = vec![(1, 12.0), (2, 30.0)];
        let outcome = judge_many(
            &experiment("completed", Some(300.0)),
            &[],
            &[(&errors, burst.clone())],
            &[],
        );
        assert_eq!(
            (
                outcome.verdict,
                outcome.time_to_impact_s,
                outcome.time_to_recover_s
            ),
            (Verdict::Green, Some(60.0), Some(180.0)),
            "{:?}",
            outcome.reasons
        );
        // A statistic that is not a count keeps its gaps: the same points as an Average are too few.
        errors.stat = "Average".into();
        let outcome = judge_many(
            &experiment("completed", Some(300.0)),
            &[],
            &[(&errors, burst)],
            &[],
        );
        assert_eq!(
            outcome.verdict,
            Verdict::Inconclusive,
            "{:?}",
            outcome.reasons
        );
    }

    #[test]
    fn a_point_whose_period_holds_t0_counts_from_the_fault_on() {
        // t0 falls 30 s into the minute stamped 0 (the fault action starts at 0:30): that point's
        // period holds t0, so it is not baseline but the first point from the fault on. Its low
        // value is the impact, within the first period: time to impact 0 (never negative).
        let fault = Action {
            started_at: Some(MINUTE / 2),
            ..fis_action("aws:ec2:terminate-instances", Some((0, 2)))
        };
        let healthy = series("healthy_hosts", ">= 2", "level");
        let outcome = judge_many(
            &experiment("completed", Some(300.0)),
            &[&fault],
            &[(&healthy, curve(0..2))],
            &[],
        );
        assert_eq!(outcome.t0, Some(MINUTE / 2));
        assert_eq!(
            (
                outcome.verdict,
                outcome.time_to_impact_s,
                outcome.time_to_recover_s
            ),
            (Verdict::Green, Some(0.0), Some(90.0)),
            "{:?}",
            outcome.reasons
        );
    }

    #[test]
    fn too_few_points_are_not_measurable() {
        // Two baseline points cannot teach a baseline.
        let dashboard = series("requests", "baseline", "level");
        let two_before: Vec<(i64, f64)> = [(-2, 100.0), (-1, 100.0)]
            .into_iter()
            .chain((0..10).map(|m| (m, 100.0)))
            .collect();
        let outcome = judge(&experiment("completed", None), &dashboard, &two_before);
        assert_eq!(
            outcome.reasons,
            vec![Reason::NoBaseline {
                series: "requests".into(),
                points: 2
            }]
        );
        // Hourly data (kept that coarse for old history) gives one point after the fault: fewer
        // than hold = 3, so no recovery could be seen.
        let mut hourly = series("healthy_hosts", ">= 2", "level");
        hourly.period_s = 3600;
        let outcome = judge(&experiment("completed", None), &hourly, &[(0, 2.0)]);
        assert_eq!(
            (outcome.verdict, outcome.reasons),
            (
                Verdict::Inconclusive,
                vec![Reason::CoarseData {
                    series: "healthy_hosts".into(),
                    points: 1,
                    period_s: 3600
                }]
            )
        );
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
