//! Why a verdict is what it is, as typed values: each names its code and carries the numbers and
//! names its sentence needs. The report layer writes them in the report's language from the
//! `reason_<key>` templates of `report_templates/i18n/<lang>.toml`; nothing here is prose.

use crate::vocab::Status;
use crate::vocab::format::{format_duration, format_number};

/// One reason of a verdict (SPEC section 6). `series` is a series id, `why` the status reason FIS
/// or Chaos Toolkit gave, durations are seconds from the moment the fault began.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// Still pending, initiating, running or stopping.
    InProgress {
        status: Status,
    },
    Cancelled {
        why: Option<String>,
    },
    /// A Chaos Toolkit run interrupted or aborted.
    CutShort {
        status: Status,
        why: Option<String>,
    },
    NoStartTime,
    NoPoints {
        series: String,
    },
    /// Fewer than 3 points before the fault.
    NoBaseline {
        series: String,
        points: usize,
    },
    /// Fewer than `hold` points from the fault on: the data was kept at too coarse a period.
    CoarseData {
        series: String,
        points: usize,
        period_s: i64,
    },
    /// The series were read at `period_s`, coarser than a minute: times are known to within it.
    ReadAtResolution {
        period_s: i64,
    },
    /// A steady condition in the ledger that does not parse (config validation catches it
    /// earlier; a hand-written ledger file may still hold one).
    BadSteady {
        series: String,
        problem: String,
    },
    BadLimit {
        series: String,
        limit: String,
    },
    ErrorsAtOutage {
        series: String,
        total: f64,
        outage: f64,
    },
    ErrorsOverBudget {
        series: String,
        total: f64,
        budget: f64,
    },
    ErrorsWithinBudget {
        series: String,
        total: f64,
        budget: f64,
    },
    ErrorsCounted {
        series: String,
        total: f64,
    },
    StayedSteady {
        series: String,
        steady: String,
    },
    Recovered {
        series: String,
        steady: String,
        impact_s: f64,
        back_s: f64,
    },
    NotRecovered {
        series: String,
        steady: String,
        impact_s: f64,
        window_s: f64,
    },
    LimitBroken {
        series: String,
        limit: String,
        peak: Option<f64>,
    },
    Failed {
        why: Option<String>,
    },
    Stopped {
        why: Option<String>,
    },
    /// A stop-condition alarm entered ALARM `after_s` after the fault began.
    AlarmFired {
        alarm: String,
        after_s: f64,
    },
    /// A stop-condition alarm was in ALARM when the fault began (entered `before_s` earlier): the
    /// system was not steady before the fault.
    AlarmBeforeFault {
        alarm: String,
        before_s: f64,
    },
    /// The run failed or was stopped before any fault action started.
    NothingInjected {
        status: Status,
        why: Option<String>,
    },
    /// The run failed or was stopped after the fault began, without a stop condition and without
    /// any breach in what was observed.
    StoppedWithoutBreach {
        status: Status,
        why: Option<String>,
    },
    /// A Chaos Toolkit journal whose steady-state hypothesis has no probe results.
    NoProbe,
    /// Every fault action was skipped (a dry run).
    DryRun,
    NoSeries,
    RecoveryTooSlow {
        took_s: f64,
        allowed_s: f64,
    },
    RecoveredInTime {
        took_s: f64,
        allowed_s: f64,
    },
}

impl Reason {
    /// The stable code of the reason, as `report.json` lists it in `reason_codes`.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::InProgress { .. } => "in_progress",
            Reason::Cancelled { .. } => "cancelled",
            Reason::CutShort { .. } => "cut_short",
            Reason::NoStartTime => "no_start_time",
            Reason::NoPoints { .. } => "no_points",
            Reason::NoBaseline { .. } => "no_baseline",
            Reason::CoarseData { .. } => "coarse_data",
            Reason::ReadAtResolution { .. } => "read_at_resolution",
            Reason::BadSteady { .. } => "bad_steady",
            Reason::BadLimit { .. } => "bad_limit",
            Reason::ErrorsAtOutage { .. } => "errors_at_outage",
            Reason::ErrorsOverBudget { .. } => "errors_over_budget",
            Reason::ErrorsWithinBudget { .. } => "errors_within_budget",
            Reason::ErrorsCounted { .. } => "errors_counted",
            Reason::StayedSteady { .. } => "stayed_steady",
            Reason::Recovered { .. } => "recovered",
            Reason::NotRecovered { .. } => "not_recovered",
            Reason::LimitBroken { .. } => "limit_broken",
            Reason::Failed { .. } => "failed",
            Reason::Stopped { .. } => "stopped",
            Reason::AlarmFired { .. } => "alarm_fired",
            Reason::AlarmBeforeFault { .. } => "alarm_before_fault",
            Reason::NothingInjected { .. } => "nothing_injected",
            Reason::StoppedWithoutBreach { .. } => "stopped_without_breach",
            Reason::NoProbe => "no_probe",
            Reason::DryRun => "dry_run",
            Reason::NoSeries => "no_series",
            Reason::RecoveryTooSlow { .. } => "recovery_too_slow",
            Reason::RecoveredInTime { .. } => "recovered_in_time",
        }
    }

    /// The key of the sentence template: the code, plus a variant where the sentence differs
    /// (with the status reason FIS gave, or an alarm that fired before the fault).
    pub fn template_key(&self) -> String {
        let variant = match self {
            Reason::Cancelled { why: Some(_) }
            | Reason::CutShort { why: Some(_), .. }
            | Reason::Failed { why: Some(_) }
            | Reason::Stopped { why: Some(_) }
            | Reason::NothingInjected { why: Some(_), .. }
            | Reason::StoppedWithoutBreach { why: Some(_), .. } => "_why",
            _ => "",
        };
        format!("reason_{}{variant}", self.code())
    }

    /// The values of the template's `{placeholders}`, written the same way in every language.
    pub fn values(&self) -> Vec<(&'static str, String)> {
        let number = |value: f64| format_number(value);
        let duration = |seconds: f64| format_duration(seconds);
        let why = |why: &Option<String>| {
            why.as_deref()
                .map(|why| ("why", why.trim().trim_end_matches('.').to_string()))
        };
        match self {
            Reason::InProgress { status } => vec![("status", status.to_string())],
            Reason::Cancelled { why: reason }
            | Reason::Failed { why: reason }
            | Reason::Stopped { why: reason } => why(reason).into_iter().collect(),
            Reason::CutShort {
                status,
                why: reason,
            }
            | Reason::NothingInjected {
                status,
                why: reason,
            }
            | Reason::StoppedWithoutBreach {
                status,
                why: reason,
            } => std::iter::once(("status", status.to_string()))
                .chain(why(reason))
                .collect(),
            Reason::NoStartTime | Reason::NoProbe | Reason::DryRun | Reason::NoSeries => vec![],
            Reason::NoPoints { series } => vec![("series", series.clone())],
            Reason::NoBaseline { series, points } => {
                vec![("series", series.clone()), ("points", points.to_string())]
            }
            Reason::CoarseData {
                series,
                points,
                period_s,
            } => vec![
                ("series", series.clone()),
                ("points", points.to_string()),
                ("period", duration(*period_s as f64)),
            ],
            Reason::ReadAtResolution { period_s } => vec![("period", duration(*period_s as f64))],
            Reason::AlarmBeforeFault { alarm, before_s } => {
                vec![("alarm", alarm.clone()), ("before", duration(*before_s))]
            }
            Reason::BadSteady { series, problem } => {
                vec![("series", series.clone()), ("problem", problem.clone())]
            }
            Reason::BadLimit { series, limit } => {
                vec![
                    ("series", series.clone()),
                    ("limit", crate::vocab::format::quoted(limit)),
                ]
            }
            Reason::ErrorsAtOutage {
                series,
                total,
                outage,
            } => vec![
                ("series", series.clone()),
                ("total", number(*total)),
                ("outage", number(*outage)),
            ],
            Reason::ErrorsOverBudget {
                series,
                total,
                budget,
            }
            | Reason::ErrorsWithinBudget {
                series,
                total,
                budget,
            } => vec![
                ("series", series.clone()),
                ("total", number(*total)),
                ("budget", number(*budget)),
            ],
            Reason::ErrorsCounted { series, total } => {
                vec![("series", series.clone()), ("total", number(*total))]
            }
            Reason::StayedSteady { series, steady } => {
                vec![
                    ("series", series.clone()),
                    ("steady", steady.trim().to_string()),
                ]
            }
            Reason::Recovered {
                series,
                steady,
                impact_s,
                back_s,
            } => vec![
                ("series", series.clone()),
                ("steady", steady.trim().to_string()),
                ("impact", duration(*impact_s)),
                ("back", duration(*back_s)),
            ],
            Reason::NotRecovered {
                series,
                steady,
                impact_s,
                window_s,
            } => vec![
                ("series", series.clone()),
                ("steady", steady.trim().to_string()),
                ("impact", duration(*impact_s)),
                ("end", duration(*window_s)),
            ],
            Reason::LimitBroken {
                series,
                limit,
                peak,
            } => vec![
                ("series", series.clone()),
                ("limit", limit.trim().to_string()),
                ("peak", peak.map(number).unwrap_or_default()),
            ],
            Reason::AlarmFired { alarm, after_s } => {
                vec![("alarm", alarm.clone()), ("after", duration(*after_s))]
            }
            Reason::RecoveryTooSlow { took_s, allowed_s }
            | Reason::RecoveredInTime { took_s, allowed_s } => vec![
                ("took", duration(*took_s)),
                ("allowed", duration(*allowed_s)),
            ],
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One reason of every kind and template variant, for the tests of every language.
    pub(crate) fn every_reason() -> Vec<Reason> {
        let series = || "latency".to_string();
        let why = || Some("Experiment stopped by stop condition.".to_string());
        vec![
            Reason::InProgress {
                status: Status::Running,
            },
            Reason::Cancelled { why: None },
            Reason::Cancelled { why: why() },
            Reason::CutShort {
                status: Status::Interrupted,
                why: None,
            },
            Reason::CutShort {
                status: Status::Aborted,
                why: why(),
            },
            Reason::NoStartTime,
            Reason::NoPoints { series: series() },
            Reason::NoBaseline {
                series: series(),
                points: 2,
            },
            Reason::CoarseData {
                series: series(),
                points: 1,
                period_s: 3600,
            },
            Reason::ReadAtResolution { period_s: 300 },
            Reason::BadSteady {
                series: series(),
                problem: "`<<` is not a condition".into(),
            },
            Reason::BadLimit {
                series: series(),
                limit: "about 5".into(),
            },
            Reason::ErrorsAtOutage {
                series: series(),
                total: 12.0,
                outage: 10.0,
            },
            Reason::ErrorsOverBudget {
                series: series(),
                total: 6.0,
                budget: 5.0,
            },
            Reason::ErrorsWithinBudget {
                series: series(),
                total: 2.0,
                budget: 5.0,
            },
            Reason::ErrorsCounted {
                series: series(),
                total: 2.5,
            },
            Reason::StayedSteady {
                series: series(),
                steady: "< 300".into(),
            },
            Reason::Recovered {
                series: series(),
                steady: "< 300".into(),
                impact_s: 60.0,
                back_s: 180.0,
            },
            Reason::NotRecovered {
                series: series(),
                steady: "< 300".into(),
                impact_s: 60.0,
                window_s: 900.0,
            },
            Reason::LimitBroken {
                series: series(),
                limit: "< 2000".into(),
                peak: Some(2500.0),
            },
            Reason::Failed { why: None },
            Reason::Failed { why: why() },
            Reason::Stopped { why: None },
            Reason::Stopped { why: why() },
            Reason::AlarmFired {
                alarm: "api-5xx".into(),
                after_s: 90.0,
            },
            Reason::AlarmBeforeFault {
                alarm: "api-5xx".into(),
                before_s: 30.0,
            },
            Reason::NothingInjected {
                status: Status::Failed,
                why: None,
            },
            Reason::NothingInjected {
                status: Status::Failed,
                why: Some("InvalidTarget: no resources found (location: targets.web)".into()),
            },
            Reason::StoppedWithoutBreach {
                status: Status::Stopped,
                why: None,
            },
            Reason::StoppedWithoutBreach {
                status: Status::Stopped,
                why: Some("Experiment stopped by user.".into()),
            },
            Reason::NoProbe,
            Reason::DryRun,
            Reason::NoSeries,
            Reason::RecoveryTooSlow {
                took_s: 400.0,
                allowed_s: 300.0,
            },
            Reason::RecoveredInTime {
                took_s: 200.0,
                allowed_s: 300.0,
            },
        ]
    }

    #[test]
    fn a_status_reason_is_given_without_its_full_stop_and_picks_the_longer_sentence() {
        let stopped = Reason::Stopped {
            why: Some(" Experiment stopped by stop condition. ".into()),
        };
        assert_eq!(stopped.template_key(), "reason_stopped_why");
        assert_eq!(
            stopped.values(),
            vec![("why", "Experiment stopped by stop condition".to_string())]
        );
        assert_eq!(
            Reason::Stopped { why: None }.template_key(),
            "reason_stopped"
        );
        let before = Reason::AlarmBeforeFault {
            alarm: "a".into(),
            before_s: 90.0,
        };
        assert_eq!(before.template_key(), "reason_alarm_before_fault");
        assert_eq!(before.values()[1], ("before", "1m 30s".to_string()));
    }
}
