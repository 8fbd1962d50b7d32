//! Every file a command writes: report files by kind and format, lab reports, exports and gate
//! results. Each is written whole through [`crate::atomic_file`], so a reader never sees half a
//! report; names follow SPEC section 2.

use std::fs;
use std::path::{Path, PathBuf};

use super::{AppError, Result};
use crate::atomic_file;
use crate::report::ReportKind;

/// A format of `checkup report --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Html,
    Pdf,
    /// The report model itself, `report.json` (one file for every kind).
    Json,
    /// One test case per experiment of the period, `junit.xml`.
    Junit,
    /// The experiments of the period, `experiments.csv`.
    Csv,
}

impl ReportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Html => "html",
            ReportFormat::Pdf => "pdf",
            ReportFormat::Json => "json",
            ReportFormat::Junit => "xml",
            ReportFormat::Csv => "csv",
        }
    }

    /// The one file of a format that covers the whole report rather than one kind.
    pub fn whole_report_file(self) -> Option<&'static str> {
        match self {
            ReportFormat::Json => Some("report.json"),
            ReportFormat::Junit => Some("junit.xml"),
            ReportFormat::Csv => Some("experiments.csv"),
            ReportFormat::Html | ReportFormat::Pdf => None,
        }
    }
}

/// `quarterly.html`, `executive.pdf`, …
pub fn kind_file(out: &Path, kind: ReportKind, format: ReportFormat) -> PathBuf {
    out.join(format!("{}.{}", kind.name(), format.extension()))
}

/// `experiment-<id>.html`: FIS ids are letters and digits; anything else becomes `_`.
pub fn experiment_file(out: &Path, experiment_id: &str, format: ReportFormat) -> PathBuf {
    let safe: String = experiment_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    out.join(format!("experiment-{safe}.{}", format.extension()))
}

pub fn create_dir(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|source| AppError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes an output file whole: a reader never sees half a report.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(atomic_file::write_bytes(path, bytes)?)
}
