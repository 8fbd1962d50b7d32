//! `checkup report`: the ledger analyzed as of a period, rendered into one file per kind and
//! format, plus the lab report of each experiment asked for.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::load::{
    AnalyzedLedger, analyze_ledger_then, load_observations, on_polars_pool, release_free_memory,
};
use super::output::{ReportFormat, create_dir, experiment_file, kind_file, write_file};
use super::{AppError, Result, stop_point};
use crate::analyze::curves::{MOST_CURVES_CHARTED, charted_experiments, curves_of};
use crate::analyze::headline::{Headline, headline};
use crate::analyze::program::Analysis;
use crate::analyze::{LedgerRecords, by_experiment};
use crate::config::Config;
use crate::ledger::{Experiment, Ledger};
use crate::report::charts::{Chart, Charts, recovery_curve_chart, render_charts};
use crate::report::experiment::{ExperimentDetail, experiment_detail};
use crate::report::html::{HtmlData, HtmlRenderer};
use crate::report::i18n::Lang;
use crate::report::junit::{experiment_cases, experiments_csv, junit_xml};
use crate::report::model::{ModelInput, ReportModel};
use crate::report::pdf::{PdfData, PdfRenderer};
use crate::report::{RenderError, ReportKind, build_model};
use crate::vocab::Verdict;
use crate::vocab::time::Period;

/// What `--kind` asks for: every kind, one kind, or the lab report of one experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportSelection {
    All,
    Kind(ReportKind),
    Experiment(String),
}

impl ReportSelection {
    /// `quarterly`, `executive`, `maturity`, `experiment:<id>` or `all`.
    pub fn parse(text: &str) -> Result<ReportSelection, String> {
        if text == "all" {
            return Ok(ReportSelection::All);
        }
        if let Some(kind) = ReportKind::ALL.into_iter().find(|kind| kind.name() == text) {
            return Ok(ReportSelection::Kind(kind));
        }
        match text.strip_prefix("experiment:") {
            Some(id) if !id.trim().is_empty() => {
                Ok(ReportSelection::Experiment(id.trim().to_string()))
            }
            _ => Err(format!(
                "unknown kind `{text}`; kinds are quarterly, executive, maturity, experiment:<id> and all"
            )),
        }
    }

    /// The kinds to render and the experiments to write a lab report for.
    pub fn kinds_and_experiments(&self) -> (Vec<ReportKind>, Vec<String>) {
        match self {
            ReportSelection::All => (ReportKind::ALL.to_vec(), Vec::new()),
            ReportSelection::Kind(kind) => (vec![*kind], Vec::new()),
            ReportSelection::Experiment(id) => (Vec::new(), vec![id.clone()]),
        }
    }
}

/// Which experiments of the period get a lab report besides those named by `--kind experiment:<id>`
/// (the quarterly's experiments table links each to its lab report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LabReports {
    #[default]
    None,
    /// The red and yellow experiments the quarterly draws a recovery curve of (the most severe,
    /// at most `MOST_CURVES_CHARTED`): a bounded cost whatever the ledger's size.
    Charted,
    /// The red and yellow experiments of the period (about 50 ms each in HTML and PDF).
    Failing,
    /// Every experiment of the period.
    All,
}

/// `checkup report`.
#[derive(Debug, Clone)]
pub struct ReportCommand {
    pub out: PathBuf,
    pub formats: Vec<ReportFormat>,
    pub kinds: Vec<ReportKind>,
    pub config: Config,
    /// `None`: the calendar quarter of the newest experiment in the ledger.
    pub period: Option<Period>,
    /// Experiments to write a lab report for (`--kind experiment:<id>`).
    pub experiments: Vec<String>,
    /// More lab reports, chosen by verdict (`--lab-reports`).
    pub lab_reports: LabReports,
    /// A folder whose `html/*.html` and `pdf/report.typ` replace the built-in templates.
    pub templates: Option<PathBuf>,
    pub lang: Lang,
    /// Extra folders with fonts for the PDF (a CJK font for Japanese).
    pub font_dirs: Vec<PathBuf>,
}

/// What a report run wrote, and the period's headline (for a site index or a digest).
#[derive(Debug, Clone)]
pub struct ReportRun {
    pub written: Vec<PathBuf>,
    pub headline: Headline,
}

/// Analyzes the ledger and writes one file per report kind and format into `command.out`, while
/// the outcomes are stored when the ledger is writable.
pub fn report(ledger: &Ledger, command: &ReportCommand) -> Result<ReportRun> {
    analyze_ledger_then(ledger, &command.config, command.period, |analyzed| {
        let headline = headline(&analyzed.analysis, &command.config.currency);
        let written = write_reports(ledger, command, analyzed, &command.out, None)?;
        Ok(ReportRun { written, headline })
    })
}

/// The reports of one period written into `out`; `site_index` is the link from each HTML report
/// back to the archive's index when the period is part of a site.
pub(super) fn write_reports(
    ledger: &Ledger,
    command: &ReportCommand,
    analyzed: AnalyzedLedger,
    out: &Path,
    site_index: Option<&str>,
) -> Result<Vec<PathBuf>> {
    let AnalyzedLedger {
        mut data,
        analysis,
        rubric,
        generated_at,
    } = analyzed;
    let charted = charted_experiments(&analysis, MOST_CURVES_CHARTED);
    let mut requested = lab_reports_requested(command, &analysis, &charted.experiments)?;
    let config = &command.config;
    let model = on_polars_pool(|| {
        build_model(&ModelInput {
            lang: command.lang,
            organization: &config.organization,
            currency: &config.currency,
            generated_at,
            analysis: &analysis,
            cost: config.cost.clone(),
            rubric: &rubric,
        })
    });
    create_dir(out)?;
    // Charts and lab reports exist only in HTML and PDF: json, junit and csv need neither the
    // series and points of the experiments drawn nor the curves.
    let drawn = command
        .formats
        .iter()
        .any(|format| matches!(format, ReportFormat::Html | ReportFormat::Pdf));
    let charts = if drawn {
        // Series and points only of the experiments drawn: analysis left them on disk.
        let shown: Vec<&Experiment> = charted
            .experiments
            .iter()
            .chain(&requested)
            .map(|i| &analysis.experiments[*i].experiment)
            .collect();
        (data.series, data.points) = load_observations(ledger, &shown)?;
        let curves = curves_of(&data, &analysis, &charted.experiments)?;
        Some(render_charts(
            &model,
            &curves,
            charted.left_out,
            command.lang.messages(),
        ))
    } else {
        requested.clear();
        None
    };
    // The quarterly links each experiment that gets a lab report in HTML to it.
    let lab_report_links: BTreeMap<String, String> = requested
        .iter()
        .map(|index| {
            let id = analysis.experiments[*index].id();
            (
                id.to_string(),
                file_name(&experiment_file(out, id, ReportFormat::Html)),
            )
        })
        .collect();
    // Only the lab reports read the analysis and the records from here on. Without any, their
    // memory (360 MB of heap on 100,000 experiments) goes back before the renderers take theirs.
    let lab_reports = if requested.is_empty() {
        if command.formats.contains(&ReportFormat::Pdf) {
            // Typst lays out the PDF in the memory freed here: on 100,000 experiments the PDF's
            // peak was 0.9-1.0 GB with the analysis kept or freed meanwhile; freed first and
            // handed back, typst's part stays near 600 MB, under the analysis's own peak.
            drop((analysis, data));
            release_free_memory();
        } else {
            // Freed on the other core meanwhile: freeing 100,000 experiments' records takes 0.3 s.
            std::thread::spawn(move || drop((analysis, data)));
        }
        None
    } else {
        Some((analysis, data, requested))
    };
    let mut renderers = match &charts {
        Some(charts) => Renderers::new(command, &model, charts)?,
        None => Renderers::default(),
    };
    if let Some((_, html)) = renderers.html.as_mut() {
        html.link_lab_reports(&lab_report_links);
        if let Some(index) = site_index {
            html.link_site_index(index);
        }
    }
    let mut written: Vec<PathBuf> = Vec::new();
    for format in &command.formats {
        if let Some(file) = format.whole_report_file() {
            stop_point(|| stopped(out, &written))?;
            let path = out.join(file);
            write_file(&path, &whole_report_bytes(*format, &model, &path)?)?;
            written.push(path);
        }
    }
    // The renderers hold what they need of the model.
    drop(model);
    for kind in &command.kinds {
        for format in &command.formats {
            stop_point(|| stopped(out, &written))?;
            if let Some(bytes) = renderers.render(*kind, *format)? {
                let path = kind_file(out, *kind, *format);
                write_file(&path, &bytes)?;
                written.push(path);
            }
        }
    }
    if let Some((analysis, data, requested)) = lab_reports {
        write_lab_reports(
            command,
            &mut renderers,
            &analysis,
            &data,
            &requested,
            out,
            &mut written,
        )?;
    }
    Ok(written)
}

/// The experiments (indexes of `analysis.experiments`) that get a lab report: those named with
/// `--kind experiment:<id>`, in the order given, then those of the period that `--lab-reports`
/// chooses (`charted`: the experiments whose curves the reports draw).
fn lab_reports_requested(
    command: &ReportCommand,
    analysis: &Analysis,
    charted: &[usize],
) -> Result<Vec<usize>> {
    let mut requested = command
        .experiments
        .iter()
        .map(|id| {
            analysis
                .experiments
                .iter()
                .position(|e| e.id() == id)
                .ok_or_else(|| AppError::UnknownExperiment(id.clone()))
        })
        .collect::<Result<Vec<usize>>>()?;
    // Membership by set: `--lab-reports all` may choose every experiment of the period.
    let mut listed: HashSet<usize> = requested.iter().copied().collect();
    for (index, judged) in analysis.experiments.iter().enumerate() {
        let chosen = judged.in_period
            && match command.lab_reports {
                LabReports::None => false,
                LabReports::Charted => charted.contains(&index),
                LabReports::Failing => {
                    matches!(judged.outcome.verdict, Verdict::Red | Verdict::Yellow)
                }
                LabReports::All => true,
            };
        if chosen && listed.insert(index) {
            requested.push(index);
        }
    }
    Ok(requested)
}

/// The lab report of each experiment at `requested` (indexes of `analysis.experiments`), in
/// every format asked for, appended to `written`.
fn write_lab_reports(
    command: &ReportCommand,
    renderers: &mut Renderers,
    analysis: &Analysis,
    data: &LedgerRecords,
    requested: &[usize],
    out: &Path,
    written: &mut Vec<PathBuf>,
) -> Result<()> {
    let actions_by_experiment = by_experiment(&data.actions, |a| &a.experiment_id[..]);
    let series_by_experiment = by_experiment(&data.series, |s| &s.experiment_id[..]);
    for index in requested {
        let judged = &analysis.experiments[*index];
        let id = judged.id();
        let detail = experiment_detail(
            judged,
            actions_by_experiment
                .get(id)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            series_by_experiment
                .get(id)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            &data.alarm_events,
            command.lang,
        );
        let curve = curves_of(data, analysis, &[*index])?
            .first()
            .and_then(|curve| recovery_curve_chart(curve, command.lang.messages()));
        for format in &command.formats {
            stop_point(|| stopped(out, written))?;
            if let Some(bytes) = renderers.render_experiment(*format, &detail, curve.as_ref())? {
                let path = experiment_file(out, id, *format);
                write_file(&path, &bytes)?;
                written.push(path);
            }
        }
    }
    Ok(())
}

/// What a run stopped by a signal says about the files it wrote.
fn stopped(out: &Path, written: &[PathBuf]) -> String {
    format!(
        "wrote {} report files into {} before it (each one whole); the others were not written: run the command again",
        written.len(),
        out.display()
    )
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `report.json`, `junit.xml` or `experiments.csv`: the files that cover the whole report.
fn whole_report_bytes(format: ReportFormat, model: &ReportModel, path: &Path) -> Result<Vec<u8>> {
    Ok(match format {
        ReportFormat::Json => serde_json::to_vec_pretty(model).map_err(RenderError::Model)?,
        ReportFormat::Junit => junit_xml(
            &format!("checkup {}", model.period.label),
            &experiment_cases(&model.experiments),
        )
        .into_bytes(),
        ReportFormat::Csv => {
            experiments_csv(&model.experiments).map_err(|source| AppError::Write {
                path: path.to_path_buf(),
                source: source.into(),
            })?
        }
        ReportFormat::Html | ReportFormat::Pdf => {
            unreachable!("HTML and PDF are written per kind")
        }
    })
}

/// The HTML and PDF renderers of one run, each with the model and charts prepared once, each
/// built only when its format is asked for (the HTML's data is a copy of the whole model; the PDF
/// loads fonts).
#[derive(Default)]
struct Renderers {
    html: Option<(HtmlRenderer, HtmlData)>,
    pdf: Option<(PdfRenderer, PdfData)>,
}

impl Renderers {
    fn new(command: &ReportCommand, model: &ReportModel, charts: &Charts) -> Result<Renderers> {
        let html = if command.formats.contains(&ReportFormat::Html) {
            let renderer =
                HtmlRenderer::with_overrides(command.templates.as_deref(), command.lang)?;
            let data = renderer.prepare(model, charts)?;
            Some((renderer, data))
        } else {
            None
        };
        let pdf = if command.formats.contains(&ReportFormat::Pdf) {
            let renderer = PdfRenderer::with_overrides(
                command.templates.as_deref(),
                command.lang,
                &command.font_dirs,
            )?;
            let data = renderer.prepare(model, charts)?;
            Some((renderer, data))
        } else {
            None
        };
        Ok(Renderers { html, pdf })
    }

    fn html(&mut self) -> &mut (HtmlRenderer, HtmlData) {
        self.html.as_mut().expect("built when HTML is asked for")
    }

    fn pdf(&self) -> &(PdfRenderer, PdfData) {
        self.pdf.as_ref().expect("built when PDF is asked for")
    }

    /// One kind in HTML or PDF; `None` for the formats written once per report.
    fn render(&mut self, kind: ReportKind, format: ReportFormat) -> Result<Option<Vec<u8>>> {
        Ok(match format {
            ReportFormat::Html => {
                let (renderer, data) = self.html();
                Some(renderer.render(kind, data)?.into_bytes())
            }
            ReportFormat::Pdf => {
                let (renderer, data) = self.pdf();
                Some(renderer.render(kind, data)?)
            }
            ReportFormat::Json | ReportFormat::Junit | ReportFormat::Csv => None,
        })
    }

    /// One lab report in HTML or PDF; `None` for the other formats.
    fn render_experiment(
        &mut self,
        format: ReportFormat,
        detail: &ExperimentDetail,
        curve: Option<&Chart>,
    ) -> Result<Option<Vec<u8>>> {
        Ok(match format {
            ReportFormat::Html => {
                let (renderer, data) = self.html();
                Some(
                    renderer
                        .render_experiment(data, detail, curve)?
                        .into_bytes(),
                )
            }
            ReportFormat::Pdf => {
                let (renderer, data) = self.pdf();
                Some(renderer.render_experiment(data, detail, curve)?)
            }
            ReportFormat::Json | ReportFormat::Junit | ReportFormat::Csv => None,
        })
    }
}
