//! The CI/CD gate (SPEC section 2, `checkup gate`): rules over one period's analysis, each
//! passed or failed with the numbers behind it. A pipeline fails when resilience regresses.

use crate::analyze::headline::period_mttr;
use crate::analyze::mttr::PeriodUnit;
use crate::analyze::program::Analysis;
use crate::vocab::{Scope, Verdict};

/// The rules asked for; a rule left `None` is not checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GateRules {
    /// Only this team's experiments, MTTR and stage (default: the organisation).
    pub team: Option<String>,
    pub max_red: Option<usize>,
    /// The largest allowed increase of experimental MTTR (mean) against the previous quarter, in
    /// percent.
    pub max_mttr_regression_pct: Option<f64>,
    pub min_stage: Option<u8>,
}

/// One rule's result.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleResult {
    /// The flag that asked for it (`max-red`).
    pub rule: &'static str,
    pub passed: bool,
    /// What was measured against what was allowed.
    pub message: String,
}

/// Checks every rule asked for against the analysis of the gate's period.
pub fn check_gate(analysis: &Analysis, rules: &GateRules) -> Vec<RuleResult> {
    let scope = match &rules.team {
        Some(team) => Scope::Team(team.clone()),
        None => Scope::Organization,
    };
    let scope_words = match &rules.team {
        Some(team) => format!("team {team}"),
        None => "the organisation".to_string(),
    };
    let mut results = Vec::new();

    if let Some(max_red) = rules.max_red {
        let red: Vec<&str> = analysis
            .experiments
            .iter()
            .filter(|judged| {
                judged.in_period
                    && judged.outcome.verdict == Verdict::Red
                    && rules
                        .team
                        .as_ref()
                        .is_none_or(|team| judged.experiment.team.as_ref() == Some(team))
            })
            .map(|judged| judged.id())
            .collect();
        let listed = if red.is_empty() {
            String::new()
        } else if red.len() > 10 {
            format!(": {} and {} more", red[..10].join(", "), red.len() - 10)
        } else {
            format!(": {}", red.join(", "))
        };
        results.push(RuleResult {
            rule: "max-red",
            passed: red.len() <= max_red,
            message: format!(
                "{} red experiments of {scope_words} in the period, at most {max_red} allowed{listed}",
                red.len()
            ),
        });
    }

    if let Some(max_regression) = rules.max_mttr_regression_pct {
        // The gate compares periods of the kind it was given: a month with the month before.
        let unit = PeriodUnit::of(analysis.period);
        let kind = unit.name();
        let label = unit.label(analysis.period.end - 1);
        let row = period_mttr(analysis, rules.team.as_deref());
        let result = match row.and_then(|r| Some((r.mean_s?, r.change_vs_previous?))) {
            Some((mean, change)) => RuleResult {
                rule: "max-mttr-regression",
                passed: change * 100.0 <= max_regression,
                message: format!(
                    "experimental MTTR of {scope_words} in {label}: {mean:.0} s, {:+.1}% against the previous {kind}, at most {max_regression:+.1}% allowed",
                    change * 100.0
                ),
            },
            // Nothing to compare (too few runs in this period or the one before): a new team is
            // not blocked, and the line says why.
            None => RuleResult {
                rule: "max-mttr-regression",
                passed: true,
                message: format!(
                    "experimental MTTR of {scope_words} in {label} cannot be compared: not enough recovered runs in this {kind} or the one before (at least [window] min_runs each)"
                ),
            },
        };
        results.push(result);
    }

    if let Some(min_stage) = rules.min_stage {
        let stage = analysis
            .maturity
            .scopes
            .iter()
            .find(|s| s.scope == scope)
            .map_or(0, |s| s.stage);
        let missing: Vec<&str> = analysis
            .maturity
            .scopes
            .iter()
            .find(|s| s.scope == scope)
            .map(|s| {
                s.criteria
                    .iter()
                    .filter(|c| !c.met() && c.level <= min_stage)
                    .map(|c| c.description.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let needs = if stage >= min_stage || missing.is_empty() {
            String::new()
        } else {
            format!("; not met: {}", missing.join("; "))
        };
        results.push(RuleResult {
            rule: "min-stage",
            passed: stage >= min_stage,
            message: format!(
                "maturity stage of {scope_words}: {stage}, at least {min_stage} required{needs}"
            ),
        });
    }
    results
}
