//! `checkup demo`: a generated history into `DIR/ledger`, every report into `DIR/reports` (with
//! the lab report of each red and yellow run the quarterly charts).

use std::path::PathBuf;

use super::output::{ReportFormat, create_dir};
use super::report::{LabReports, ReportCommand, report};
use super::{AppError, Result, stop_point};
use crate::config::Config;
use crate::ingest::demo::{self, DemoSettings, MonthBatch};
use crate::ledger::Ledger;
use crate::report::ReportKind;
use crate::report::i18n::Lang;

#[derive(Debug, Clone)]
pub struct DemoCommand {
    pub out: PathBuf,
    pub settings: DemoSettings,
    pub config: Config,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub experiments: usize,
    pub incidents: usize,
    pub ledger: PathBuf,
    pub reports: Vec<PathBuf>,
}

/// Generates the demo history into `<out>/ledger` and renders every report into `<out>/reports`.
pub fn demo(command: &DemoCommand) -> Result<DemoSummary> {
    create_dir(&command.out)?;
    let ledger_path = command.out.join("ledger");
    let fresh =
        std::fs::read_dir(&ledger_path).map_or(true, |mut entries| entries.next().is_none());
    let result = demo_into(command, &ledger_path);
    // A demo that failed (a full disk) leaves no half-made ledger behind when it made the ledger;
    // one stopped by Ctrl-C keeps what it stored, as it says.
    if fresh && matches!(&result, Err(error) if !matches!(error, AppError::Interrupted { .. })) {
        let _ = std::fs::remove_dir_all(&ledger_path);
    }
    result
}

fn demo_into(command: &DemoCommand, ledger_path: &std::path::Path) -> Result<DemoSummary> {
    let ledger = Ledger::open_for_write(ledger_path)?;
    let (experiments, incidents) = generate_demo_ledger(&ledger, &command.settings)?;
    let reports = report(
        &ledger,
        &ReportCommand {
            out: command.out.join("reports"),
            formats: vec![ReportFormat::Html, ReportFormat::Pdf, ReportFormat::Json],
            kinds: ReportKind::ALL.to_vec(),
            config: command.config.clone(),
            period: None,
            experiments: Vec::new(),
            // The demo shows the quarterly's rows linked to the lab report of each red and
            // yellow run it charts (every one in the default demo; at most 40 in a large one).
            lab_reports: LabReports::Charted,
            templates: None,
            lang: Lang::En,
            font_dirs: Vec::new(),
        },
    )?
    .written;
    Ok(DemoSummary {
        experiments,
        incidents,
        ledger: ledger_path.to_path_buf(),
        reports,
    })
}

/// Writes the demo history into a ledger opened for writing, one month at a time; returns how
/// many experiments and incidents it stored.
pub fn generate_demo_ledger(ledger: &Ledger, settings: &DemoSettings) -> Result<(usize, usize)> {
    let mut experiments = 0;
    let incidents = demo::generate(settings, |month: MonthBatch| -> Result<()> {
        experiments += month.rows.experiments.len();
        ledger.store(month.rows)?;
        stop_point(|| {
            format!(
                "stored {experiments} experiments of the demo's history, up to month {}; the later months, the incidents and the reports were not made: run the demo again",
                month.month
            )
        })
    })?;
    ledger.store_incidents(&incidents)?;
    Ok((experiments, incidents.len()))
}
