//! `checkup report --site DIR`: an archive of every period. This period's reports go into
//! `DIR/<period>/` with its `headline.json`; `DIR/index.html` is rebuilt from the headline of
//! every period folder. Other periods' folders are never touched, so they stay as they were
//! written.

use std::path::{Path, PathBuf};

use super::load::analyze_ledger;
use super::output::write_file;
use super::report::{ReportCommand, write_reports};
use super::{AppError, Result};
use crate::analyze::headline::{Headline, headline};
use crate::ledger::Ledger;
use crate::report::html::HtmlRenderer;
use crate::report::site::{IndexFile, IndexPeriod, site_index};
use crate::vocab::time::{Period, format_rfc3339};

/// Each period folder's headline figures, read back to build the index.
pub const HEADLINE_FILE: &str = "headline.json";
pub const INDEX_FILE: &str = "index.html";

/// The files of a period the index links to, in the order a reader looks for them.
const LISTED_FILES: [&str; 9] = [
    "quarterly.html",
    "executive.html",
    "maturity.html",
    "quarterly.pdf",
    "executive.pdf",
    "maturity.pdf",
    "report.json",
    "experiments.csv",
    "junit.xml",
];

#[derive(Debug, Clone)]
pub struct SiteRun {
    /// This period's folder under the site.
    pub folder: PathBuf,
    /// Every file written: the period's reports, its headline and the index.
    pub written: Vec<PathBuf>,
    pub headline: Headline,
    /// How many periods the index lists.
    pub periods: usize,
}

/// The folder of a period: its label when that is a quarter or a month (`2026Q3`, `2026-07`),
/// else its first and last day (`2026-07-01..2026-09-30`).
pub fn period_folder(period: Period) -> String {
    let label = period.label();
    if label.contains(' ') {
        let day = |ts| format_rfc3339(ts)[..10].to_string();
        format!("{}..{}", day(period.start), day(period.end - 1))
    } else {
        label
    }
}

/// Writes the period's reports into its folder of `site`, then rebuilds the index.
pub fn report_site(ledger: &Ledger, command: &ReportCommand, site: &Path) -> Result<SiteRun> {
    let analyzed = analyze_ledger(ledger, &command.config, command.period)?;
    let headline = headline(&analyzed.analysis, &command.config.currency);
    let generated_at = analyzed.generated_at;
    let folder = site.join(period_folder(analyzed.analysis.period));
    let mut written = write_reports(
        ledger,
        command,
        analyzed,
        &folder,
        Some(&format!("../{INDEX_FILE}")),
    )?;
    let headline_path = folder.join(HEADLINE_FILE);
    let bytes = serde_json::to_vec_pretty(&headline).expect("a headline serializes");
    write_file(&headline_path, &bytes)?;
    written.push(headline_path);

    let periods = read_periods(site)?;
    let count = periods.len();
    let renderer = HtmlRenderer::with_overrides(command.templates.as_deref(), command.lang)?;
    let index = renderer.render_site_index(&site_index(
        &command.config.organization,
        &format_rfc3339(generated_at),
        periods,
        command.lang.messages(),
    ))?;
    let index_path = site.join(INDEX_FILE);
    write_file(&index_path, index.as_bytes())?;
    written.push(index_path);
    Ok(SiteRun {
        folder,
        written,
        headline,
        periods: count,
    })
}

/// Every folder of the site with a headline, with the report files it holds.
fn read_periods(site: &Path) -> Result<Vec<IndexPeriod>> {
    let unreadable = |path: &Path, source| AppError::SiteRead {
        path: path.to_path_buf(),
        source,
    };
    let mut periods = Vec::new();
    let entries = std::fs::read_dir(site).map_err(|e| unreadable(site, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| unreadable(site, e))?;
        let dir = entry.path();
        let headline_path = dir.join(HEADLINE_FILE);
        if !dir.is_dir() || !headline_path.is_file() {
            continue;
        }
        let text = std::fs::read(&headline_path).map_err(|e| unreadable(&headline_path, e))?;
        let headline: Headline =
            serde_json::from_slice(&text).map_err(|source| AppError::SiteHeadline {
                path: headline_path.clone(),
                source,
            })?;
        let folder = entry.file_name().to_string_lossy().into_owned();
        let files: Vec<IndexFile> = LISTED_FILES
            .iter()
            .filter(|name| dir.join(name).is_file())
            .map(|name| IndexFile {
                name: name.to_string(),
                href: format!("{folder}/{name}"),
            })
            .collect();
        let main = files
            .iter()
            .find(|f| f.name.ends_with(".html"))
            .map(|f| f.href.clone());
        periods.push(IndexPeriod {
            folder,
            headline,
            main,
            files,
        });
    }
    Ok(periods)
}

/// Every file under `dir`, in a stable order (what `--publish` uploads of a site).
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|source| AppError::SiteRead {
            path: folder.clone(),
            source,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|source| AppError::SiteRead {
                    path: folder.clone(),
                    source,
                })?
                .path();
            if path.is_dir() {
                folders.push(path);
            } else if !path
                .file_name()
                .is_some_and(|name| crate::atomic_file::is_temporary_file(&name.to_string_lossy()))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::time::parse_period;

    #[test]
    fn a_period_folder_is_its_label_or_its_first_and_last_day() {
        let folder = |text: &str| period_folder(parse_period(text, 0).unwrap());
        assert_eq!(folder("2026Q3"), "2026Q3");
        assert_eq!(folder("2026-07"), "2026-07");
        assert_eq!(folder("2026-07-01..2026-08-15"), "2026-07-01..2026-08-15");
    }
}
