//! `checkup gate`: the period's analysis against the rules a pipeline sets; exit 1 when one is
//! violated.

use super::Result;
use super::load::{AnalyzedLedger, analyze_ledger};
use crate::analyze::gate::{GateRules, check_gate};
use crate::config::Config;
use crate::ledger::Ledger;
use crate::report::junit::{gate_junit, gate_text};
use crate::vocab::time::Period;

/// How the gate prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GateFormat {
    /// A line per rule, then `gate passed` or `gate failed`.
    Text,
    /// JUnit XML, one test case per rule.
    Junit,
}

#[derive(Debug, Clone)]
pub struct GateCommand {
    pub period: Option<Period>,
    pub config: Config,
    pub rules: GateRules,
    pub format: GateFormat,
}

/// What the gate decided and what to print.
#[derive(Debug, Clone, PartialEq)]
pub struct GateVerdict {
    pub passed: bool,
    pub output: String,
}

/// Checks the rules against the analysis of the period: every rule's line says what was measured
/// against what was allowed.
pub fn gate(ledger: &Ledger, command: &GateCommand) -> Result<GateVerdict> {
    let AnalyzedLedger { analysis, .. } = analyze_ledger(ledger, &command.config, command.period)?;
    let results = check_gate(&analysis, &command.rules);
    let output = match command.format {
        GateFormat::Text => gate_text(&results),
        GateFormat::Junit => gate_junit(&results),
    };
    Ok(GateVerdict {
        passed: results.iter().all(|r| r.passed),
        output,
    })
}
