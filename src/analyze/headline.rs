//! The headline of one period: the few figures a report archive's index and a chat digest show
//! (verdict counts, experimental MTTR and its change, ROI, the organisation's stage). Each is
//! picked from the analysis, never computed again, so the index, the digest and the reports agree.

use serde::{Deserialize, Serialize};

use crate::analyze::mttr::{MttrRow, PeriodUnit};
use crate::analyze::program::Analysis;
use crate::analyze::review::VerdictCounts;
use crate::vocab::Scope;
use crate::vocab::time::format_rfc3339;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// `2026Q3`, `2026-07`, or `2026-07-01 – 2026-09-30`.
    pub label: String,
    /// The period's first and last day (RFC 3339 instants, UTC, end excluded).
    pub start: String,
    pub end: String,
    pub experiments: usize,
    pub verdicts: VerdictCounts,
    /// The organisation's experimental MTTR row of the period (a month is compared with the month
    /// before, any other period by its last quarter): `None` without recovered runs.
    pub mttr: Option<HeadlineMttr>,
    /// Open at the period's end, and fixed in the period.
    pub weaknesses_open: usize,
    pub weaknesses_fixed: usize,
    pub currency: String,
    pub avoided_cost: f64,
    pub program_cost: f64,
    /// (avoided − cost) / cost; `None` when the program cost is zero.
    pub roi: Option<f64>,
    pub roi_p10: Option<f64>,
    pub roi_p90: Option<f64>,
    /// The organisation's maturity stage (1 to 4; 0 when not even stage 1 is met).
    pub stage: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadlineMttr {
    /// The MTTR row's own period (`2026Q3` or `2026-07`).
    pub period: String,
    pub n: u64,
    pub mean_s: Option<f64>,
    pub median_s: Option<f64>,
    /// Against the previous period of the same kind; `None` when either had fewer than `min_runs`
    /// impacted runs.
    pub change_vs_previous: Option<f64>,
}

/// The headline of the analysis's period.
pub fn headline(analysis: &Analysis, currency: &str) -> Headline {
    let verdicts = &analysis.review.verdicts;
    let counts = &analysis.review.counts;
    let roi = &analysis.roi;
    Headline {
        label: analysis.period.label(),
        start: format_rfc3339(analysis.period.start),
        end: format_rfc3339(analysis.period.end),
        experiments: verdicts.total(),
        verdicts: verdicts.clone(),
        mttr: period_mttr(analysis, None).map(|row| HeadlineMttr {
            period: row.period.clone(),
            n: row.n,
            mean_s: row.mean_s,
            median_s: row.median_s,
            change_vs_previous: row.change_vs_previous,
        }),
        weaknesses_open: counts.weaknesses_open,
        weaknesses_fixed: counts.weaknesses_fixed,
        currency: currency.to_string(),
        avoided_cost: roi.avoided_cost,
        program_cost: roi.program_cost,
        roi: roi.roi,
        roi_p10: roi.roi_p10,
        roi_p90: roi.roi_p90,
        stage: analysis
            .maturity
            .scopes
            .iter()
            .find(|s| s.scope == Scope::Organization)
            .map_or(0, |s| s.stage),
    }
}

/// The experimental MTTR row a period is judged by: of the organisation or of one team, for the
/// month or quarter that holds the period's last day (the gate compares the same row).
pub fn period_mttr<'a>(analysis: &'a Analysis, team: Option<&str>) -> Option<&'a MttrRow> {
    let unit = PeriodUnit::of(analysis.period);
    let rows = match unit {
        PeriodUnit::Month => &analysis.monthly_mttr,
        PeriodUnit::Quarter => &analysis.mttr,
    };
    let label = unit.label(analysis.period.end - 1);
    let (group_by, group) = match team {
        Some(team) => ("team", team),
        None => ("all", "all"),
    };
    rows.iter()
        .find(|r| r.period == label && r.group_by == group_by && r.group == group)
}
