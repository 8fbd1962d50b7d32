//! The subcommands, each wiring the stages left to right: a source into the ledger, the ledger
//! through analysis, the analysis into reports. `main.rs` resolves arguments into these settings.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use polars::prelude::*;

use std::collections::{BTreeSet, HashMap};

use crate::analyze::by_experiment;
use crate::analyze::catalog::ActionCatalog;
use crate::analyze::curves::{MOST_CURVES_CHARTED, charted_experiments, curves_of};
use crate::analyze::gate::{GateRules, check_gate};
use crate::analyze::maturity::Rubric;
use crate::analyze::program::{ReferenceData, analyze_judged, default_period};
use crate::analyze::{
    AnalyzeError, ExperimentOutcome, JudgeInput, LedgerData, WindowSettings, judge_experiments,
    outcome_records,
};
use crate::config::Config;
use crate::ingest::aws::{self, AwsTarget, OperationGuard};
use crate::ingest::demo::{self, DemoError, DemoSettings, MonthBatch};
use crate::ingest::fis::{self, FisHistory, FisQuery, Holdings};
use crate::ingest::observe::{self, Observations};
use crate::ledger::{
    self, Action, AlarmEvent, Experiment, Ledger, LedgerError, MetricSeries, PointColumns, Table,
};
use crate::report::charts::{recovery_curve_chart, render_charts};
use crate::report::experiment::experiment_detail;
use crate::report::html::HtmlRenderer;
use crate::report::i18n::{Lang, Sentences};
use crate::report::junit::{CaseOutcome, TestCase, experiment_cases, experiments_csv, junit_xml};
use crate::report::model::ModelInput;
use crate::report::pdf::PdfRenderer;
use crate::report::{RenderError, ReportKind, build_model};
use crate::time::{Micros, Period, parse_period, quarter_of};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Demo(#[from] DemoError),
    #[error(transparent)]
    Analyze(#[from] AnalyzeError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("cannot write {path}")]
    Write { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Aws(#[from] crate::ingest::aws::AwsError),
    #[error(transparent)]
    Incidents(#[from] crate::ingest::incidents::IncidentsError),
    #[error(transparent)]
    Journal(#[from] crate::ingest::chaostoolkit::JournalError),
    #[error("cannot start the async runtime for AWS calls")]
    Runtime(#[source] io::Error),
    #[error(
        "experiment {0} is not in the ledger before the period's end (see `checkup export --table experiments`)"
    )]
    UnknownExperiment(String),
    #[error("cannot prepare rows for table {table}")]
    Rows { table: Table, source: PolarsError },
    #[error("cannot export table {table} to {path}")]
    Export {
        table: Table,
        path: PathBuf,
        source: PolarsError,
    },
}

pub type Result<T, E = CommandError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    fn whole_report_file(self) -> Option<&'static str> {
        match self {
            ReportFormat::Json => Some("report.json"),
            ReportFormat::Junit => Some("junit.xml"),
            ReportFormat::Csv => Some("experiments.csv"),
            ReportFormat::Html | ReportFormat::Pdf => None,
        }
    }
}

/// `checkup demo`.
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
    let ledger = Ledger::open_for_write(&ledger_path)?;
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
            templates: None,
            lang: Lang::En,
            font_dirs: Vec::new(),
        },
    )?;
    Ok(DemoSummary {
        experiments,
        incidents,
        ledger: ledger_path,
        reports,
    })
}

/// Writes the demo history into a ledger opened for writing; returns how many experiments and
/// incidents it stored.
pub fn generate_demo_ledger(ledger: &Ledger, settings: &DemoSettings) -> Result<(usize, usize)> {
    let mut experiments = 0;
    let incidents = demo::generate(settings, |batch: MonthBatch| -> Result<()> {
        experiments += batch.experiments.len();
        store_month(ledger, batch)
    })?;
    let rows = ledger::incidents_frame(&incidents).map_err(|source| CommandError::Rows {
        table: Table::Incidents,
        source,
    })?;
    ledger.upsert(Table::Incidents, rows)?;
    Ok((experiments, incidents.len()))
}

/// Stores one month of demo history.
fn store_month(ledger: &Ledger, batch: MonthBatch) -> Result<()> {
    let month = batch.month;
    store_rows(
        ledger,
        Rows {
            experiments: &batch.experiments,
            actions: &batch.actions,
            series: &batch.series,
            points: batch.points,
            alarm_events: &batch.alarm_events,
        },
        |_: &str| month.clone(),
    )
}

/// What one source read, for every table it fills.
struct Rows<'a> {
    experiments: &'a [Experiment],
    actions: &'a [Action],
    series: &'a [MetricSeries],
    points: PointColumns,
    alarm_events: &'a [AlarmEvent],
}

/// Stores rows children first and experiments last, one upsert per table, so that a reader never
/// sees an experiment without its rows; `month_of` gives each experiment's partition. Rows of an
/// experiment read again replace the old ones by key.
fn store_rows(ledger: &Ledger, rows: Rows, month_of: impl Fn(&str) -> String) -> Result<()> {
    let frame = |table: Table, frame: PolarsResult<DataFrame>| {
        frame.map_err(|source| CommandError::Rows { table, source })
    };
    if !rows.points.is_empty() {
        ledger.upsert(
            Table::Points,
            frame(Table::Points, rows.points.into_frame())?,
        )?;
    }
    if !rows.series.is_empty() {
        ledger.upsert(
            Table::Series,
            frame(Table::Series, ledger::series_frame(rows.series, &month_of))?,
        )?;
    }
    if !rows.actions.is_empty() {
        ledger.upsert(
            Table::Actions,
            frame(
                Table::Actions,
                ledger::actions_frame(rows.actions, &month_of),
            )?,
        )?;
    }
    if !rows.alarm_events.is_empty() {
        ledger.upsert(
            Table::AlarmEvents,
            frame(
                Table::AlarmEvents,
                ledger::alarm_events_frame(rows.alarm_events),
            )?,
        )?;
    }
    if !rows.experiments.is_empty() {
        ledger.upsert(
            Table::Experiments,
            frame(
                Table::Experiments,
                ledger::experiments_frame(rows.experiments),
            )?,
        )?;
    }
    Ok(())
}

/// Reads one table (whole, or one month's partition).
type ReadTable<'a> = dyn Fn(Table) -> Result<DataFrame> + 'a;

/// Reads a table into records, naming the table when its rows do not fit.
fn records<T>(
    read: &ReadTable,
    table: Table,
    convert: fn(&DataFrame) -> PolarsResult<Vec<T>>,
) -> Result<Vec<T>> {
    convert(&read(table)?).map_err(|source| CommandError::Rows { table, source })
}

/// Reads every table that analysis needs, whole.
pub fn load_ledger_data(ledger: &Ledger) -> Result<LedgerData> {
    let read = |table| -> Result<DataFrame> { Ok(ledger.read(table)?) };
    Ok(LedgerData {
        experiments: records(&read, Table::Experiments, ledger::experiments_from_frame)?,
        actions: records(&read, Table::Actions, ledger::actions_from_frame)?,
        series: records(&read, Table::Series, ledger::series_from_frame)?,
        points: read(Table::Points)?,
        alarm_events: records(&read, Table::AlarmEvents, ledger::alarm_events_from_frame)?,
        incidents: records(&read, Table::Incidents, ledger::incidents_from_frame)?,
    })
}

/// The ledger with every experiment judged.
pub struct JudgedLedger {
    /// Every table but series and points (see [`load_and_judge`]).
    pub data: LedgerData,
    /// The outcome of `data.experiments[i]` is `outcomes[i]`.
    pub outcomes: Vec<ExperimentOutcome>,
}

/// Reads the ledger and judges every experiment (SPEC section 6), one month partition at a time.
/// An experiment's rows all live in its month's partitions, so only one month of series and
/// points, most of a ledger's bytes, is in memory at once: that is what lets a million
/// experiments fit in the machine's memory. The data returned holds no series and no points;
/// [`load_observations`] reads those of the experiments a report shows.
pub fn load_and_judge(ledger: &Ledger, settings: &WindowSettings) -> Result<JudgedLedger> {
    let read = |table| -> Result<DataFrame> { Ok(ledger.read(table)?) };
    let mut data = LedgerData {
        experiments: Vec::new(),
        actions: Vec::new(),
        series: Vec::new(),
        points: DataFrame::empty_with_schema(&Table::Points.schema()),
        alarm_events: records(&read, Table::AlarmEvents, ledger::alarm_events_from_frame)?,
        incidents: records(&read, Table::Incidents, ledger::incidents_from_frame)?,
    };
    let mut outcomes = Vec::new();
    // One month after the other: judging already uses every core, and two months at once held
    // 50% more memory on 100,000 experiments for no gain there.
    for partition in ledger.partitions(Table::Experiments)? {
        let read = |table| -> Result<DataFrame> { Ok(ledger.read_month(table, &partition.month)?) };
        let experiments = records(&read, Table::Experiments, ledger::experiments_from_frame)?;
        let actions = records(&read, Table::Actions, ledger::actions_from_frame)?;
        let series = records(&read, Table::Series, ledger::series_from_frame)?;
        let points = read(Table::Points)?;
        outcomes.extend(judge_experiments(
            &JudgeInput {
                experiments: &experiments,
                actions: &actions,
                series: &series,
                points: &points,
                alarm_events: &data.alarm_events,
            },
            settings,
        )?);
        data.experiments.extend(experiments);
        data.actions.extend(actions);
    }
    Ok(JudgedLedger { data, outcomes })
}

/// The series and points of some experiments, read from the month partitions they live in with
/// polars' streaming engine, which keeps in memory only the rows asked for.
pub fn load_observations(
    ledger: &Ledger,
    experiments: &[&Experiment],
) -> Result<(Vec<MetricSeries>, DataFrame)> {
    let months: BTreeSet<String> = experiments.iter().map(|e| e.month()).collect();
    let ids: Vec<&str> = experiments
        .iter()
        .map(|e| e.experiment_id.as_str())
        .collect();
    let ids = Series::new("experiment_id".into(), ids);
    let rows_of = |table: Table| -> Result<DataFrame> {
        let kept = col("experiment_id").is_in(lit(ids.clone()).implode(false), false);
        ledger
            .scan_months(table, &months)?
            .filter(kept)
            .collect_with_engine(Engine::Streaming)
            .map(|result| result.unwrap_single())
            .map_err(|source| CommandError::Rows { table, source })
    };
    let series = records(&rows_of, Table::Series, ledger::series_from_frame)?;
    Ok((series, rows_of(Table::Points)?))
}

/// A ledger analyzed as of one period.
struct Analyzed {
    data: LedgerData,
    analysis: crate::analyze::program::Analysis,
    rubric: Rubric,
    /// The newest ingest time: "now" for the ledger, so reports of the same ledger are identical.
    generated_at: Micros,
}

/// Loads the ledger, analyzes it as of `period` (default: the quarter of the newest experiment)
/// and stores the outcomes when the ledger is writable.
fn analyze_ledger(ledger: &Ledger, config: &Config, period: Option<Period>) -> Result<Analyzed> {
    let JudgedLedger { data, outcomes } = load_and_judge(ledger, &config.window)?;
    let generated_at: Micros = data
        .experiments
        .iter()
        .map(|e| e.ingested_at)
        .max()
        .unwrap_or(0);
    let period = period
        .or_else(|| default_period(&data.experiments))
        .unwrap_or_else(|| parse_period(&quarter_of(generated_at), 0).expect("a quarter parses"));
    let catalog = ActionCatalog::built_in();
    let rubric = Rubric::built_in();
    let reference = ReferenceData {
        catalog: &catalog,
        rubric: &rubric,
    };
    let (analysis, outcomes_after_period) =
        analyze_judged(&data, outcomes, config, &reference, period)?;

    let records = outcome_records(
        analysis.outcomes.iter().chain(&outcomes_after_period),
        generated_at,
    );
    let month_by_id: HashMap<&str, String> = data
        .experiments
        .iter()
        .map(|e| (e.experiment_id.as_str(), e.month()))
        .collect();
    let rows = ledger::outcomes_frame(&records, |id| {
        month_by_id.get(id).cloned().unwrap_or_default()
    })
    .map_err(|source| CommandError::Rows {
        table: Table::Outcomes,
        source,
    })?;
    if ledger.is_writable() && rows.height() > 0 {
        ledger.upsert(Table::Outcomes, rows)?;
    }
    Ok(Analyzed {
        data,
        analysis,
        rubric,
        generated_at,
    })
}

/// `checkup gate`.
#[derive(Debug, Clone)]
pub struct GateCommand {
    pub period: Option<Period>,
    pub config: Config,
    pub rules: GateRules,
    /// JUnit XML (one test case per rule) instead of text lines.
    pub junit: bool,
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
    let Analyzed { analysis, .. } = analyze_ledger(ledger, &command.config, command.period)?;
    let results = check_gate(&analysis, &command.rules);
    let passed = results.iter().all(|r| r.passed);
    let output = if command.junit {
        let cases: Vec<TestCase> = results
            .iter()
            .map(|r| TestCase {
                name: r.rule.to_string(),
                classname: "checkup.gate".to_string(),
                time_s: None,
                outcome: if r.passed {
                    CaseOutcome::Passed
                } else {
                    CaseOutcome::Failed {
                        message: r.message.clone(),
                        details: r.message.clone(),
                    }
                },
            })
            .collect();
        junit_xml("checkup gate", &cases)
    } else {
        let mut text: String = results
            .iter()
            .map(|r| {
                format!(
                    "{} {}: {}\n",
                    if r.passed { "PASS" } else { "FAIL" },
                    r.rule,
                    r.message
                )
            })
            .collect();
        text.push_str(if passed {
            "gate passed\n"
        } else {
            "gate failed\n"
        });
        text
    };
    Ok(GateVerdict { passed, output })
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
    /// A folder whose `html/*.html` and `pdf/report.typ` replace the built-in templates.
    pub templates: Option<PathBuf>,
    pub lang: Lang,
    /// Extra folders with fonts for the PDF (a CJK font for Japanese).
    pub font_dirs: Vec<PathBuf>,
}

/// Analyzes the ledger, stores the outcomes when the ledger is writable, and writes one file per
/// report kind and format. Returns the paths written.
pub fn report(ledger: &Ledger, command: &ReportCommand) -> Result<Vec<PathBuf>> {
    let Analyzed {
        mut data,
        analysis,
        rubric,
        generated_at,
    } = analyze_ledger(ledger, &command.config, command.period)?;
    let requested = command
        .experiments
        .iter()
        .map(|id| {
            analysis
                .experiments
                .iter()
                .position(|e| &e.experiment_id == id)
                .ok_or_else(|| CommandError::UnknownExperiment(id.clone()))
        })
        .collect::<Result<Vec<usize>>>()?;
    let charted = charted_experiments(&analysis, MOST_CURVES_CHARTED);
    // Series and points only of the experiments drawn: analysis left them on disk.
    let shown: Vec<&Experiment> = charted
        .experiments
        .iter()
        .chain(&requested)
        .map(|i| &analysis.experiments[*i])
        .collect();
    (data.series, data.points) = load_observations(ledger, &shown)?;
    let config = &command.config;
    let model = build_model(&ModelInput {
        lang: command.lang,
        organization: &config.organization,
        currency: &config.currency,
        generated_at,
        analysis: &analysis,
        cost: config.cost,
        rubric: &rubric,
    });

    create_dir(&command.out)?;
    let mut written = Vec::new();
    let html = HtmlRenderer::with_overrides(command.templates.as_deref(), command.lang)?;
    let curves = curves_of(&data, &analysis, &charted.experiments)?;
    let messages = command.lang.messages();
    let charts = render_charts(&model, &curves, charted.left_out, messages);
    let mut html_data = html.prepare(&model, &charts)?;
    let pdf = if command.formats.contains(&ReportFormat::Pdf) {
        let renderer = PdfRenderer::with_overrides(
            command.templates.as_deref(),
            command.lang,
            &command.font_dirs,
        )?;
        let data = renderer.prepare(&model, &charts)?;
        Some((renderer, data))
    } else {
        None
    };
    for format in &command.formats {
        let Some(file) = format.whole_report_file() else {
            continue;
        };
        let bytes = match format {
            ReportFormat::Json => serde_json::to_vec_pretty(&model).map_err(RenderError::Model)?,
            ReportFormat::Junit => junit_xml(
                &format!("checkup {}", model.period.label),
                &experiment_cases(&model.experiments),
            )
            .into_bytes(),
            ReportFormat::Csv => {
                experiments_csv(&model.experiments).map_err(|source| CommandError::Write {
                    path: command.out.join(file),
                    source: source.into(),
                })?
            }
            ReportFormat::Html | ReportFormat::Pdf => continue,
        };
        let path = command.out.join(file);
        write_file(&path, &bytes)?;
        written.push(path);
    }
    for kind in &command.kinds {
        for format in &command.formats {
            let path = command
                .out
                .join(format!("{}.{}", kind.name(), format.extension()));
            let bytes = match format {
                ReportFormat::Html => html.render(*kind, &mut html_data)?.into_bytes(),
                ReportFormat::Pdf => {
                    let (renderer, data) = pdf.as_ref().expect("built when PDF is asked for");
                    renderer.render(*kind, data)?
                }
                ReportFormat::Json | ReportFormat::Junit | ReportFormat::Csv => continue,
            };
            write_file(&path, &bytes)?;
            written.push(path);
        }
    }
    let actions_by_experiment = by_experiment(&data.actions, |a| &a.experiment_id);
    let series_by_experiment = by_experiment(&data.series, |s| &s.experiment_id);
    for (id, index) in command.experiments.iter().zip(requested) {
        let detail = experiment_detail(
            &analysis,
            index,
            actions_by_experiment
                .get(id.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default(),
            series_by_experiment
                .get(id.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default(),
            &data.alarm_events,
            Sentences::for_lang(command.lang),
        );
        let curve = curves_of(&data, &analysis, &[index])?
            .first()
            .and_then(|curve| recovery_curve_chart(curve, messages));
        for format in &command.formats {
            let path = command.out.join(format!(
                "experiment-{}.{}",
                file_safe(id),
                format.extension()
            ));
            let bytes = match format {
                ReportFormat::Html => html
                    .render_experiment(&mut html_data, &detail, curve.as_ref())?
                    .into_bytes(),
                ReportFormat::Pdf => {
                    let (renderer, data) = pdf.as_ref().expect("built when PDF is asked for");
                    renderer.render_experiment(data, &detail, curve.as_ref())?
                }
                ReportFormat::Json | ReportFormat::Junit | ReportFormat::Csv => continue,
            };
            write_file(&path, &bytes)?;
            written.push(path);
        }
    }
    Ok(written)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
    Parquet,
}

/// `checkup export`: one table of the ledger as CSV, JSON (an array of objects) or Parquet.
#[derive(Debug, Clone)]
pub struct ExportCommand {
    pub table: Table,
    pub format: ExportFormat,
    /// `None` writes to standard output.
    pub out: Option<PathBuf>,
}

pub fn export(ledger: &Ledger, command: &ExportCommand, stdout: &mut dyn io::Write) -> Result<()> {
    let mut frame = ledger.read(command.table)?;
    let path = command.out.clone().unwrap_or_else(|| PathBuf::from("-"));
    let export_error = |source| CommandError::Export {
        table: command.table,
        path: path.clone(),
        source,
    };
    let mut buffer = Vec::new();
    match command.format {
        ExportFormat::Csv => {
            // CSV has no list type: list columns become JSON arrays in one cell.
            let list_columns: Vec<String> = frame
                .schema()
                .iter()
                .filter(|(_, dtype)| matches!(dtype, DataType::List(_)))
                .map(|(name, _)| name.to_string())
                .collect();
            for name in list_columns {
                let lists = ledger::Columns::new(&frame)
                    .text_lists(&name)
                    .map_err(export_error)?;
                let json: Vec<String> = lists
                    .iter()
                    .map(|list| serde_json::to_string(list).expect("strings serialize"))
                    .collect();
                frame
                    .with_column(Column::new(name.as_str().into(), json))
                    .map_err(export_error)?;
            }
            CsvWriter::new(&mut buffer)
                .include_header(true)
                .finish(&mut frame)
                .map_err(export_error)?;
        }
        ExportFormat::Json => {
            JsonWriter::new(&mut buffer)
                .with_json_format(JsonFormat::Json)
                .finish(&mut frame)
                .map_err(export_error)?;
        }
        ExportFormat::Parquet => {
            ParquetWriter::new(&mut buffer)
                .finish(&mut frame)
                .map_err(export_error)?;
        }
    }
    match &command.out {
        Some(path) => write_file(path, &buffer),
        None => stdout
            .write_all(&buffer)
            .map_err(|source| CommandError::Write {
                path: PathBuf::from("standard output"),
                source,
            }),
    }
}

fn create_dir(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|source| CommandError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// An experiment id as a file name: FIS ids are letters and digits; anything else becomes `_`.
fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes an output file through a temporary file and a rename, so a reader never sees half a report.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let write_error = |source| CommandError::Write {
        path: path.to_path_buf(),
        source,
    };
    fs::write(&temporary, bytes).map_err(write_error)?;
    fs::rename(&temporary, path).map_err(write_error)
}

/// `checkup ingest incidents FILE.csv`: checks every row, then stores them (an incident read
/// again replaces its row). Returns how many were stored.
pub fn ingest_incidents(ledger: &Ledger, path: &Path) -> Result<usize> {
    let incidents = crate::ingest::incidents::read_incidents(path)?;
    if !incidents.is_empty() {
        let rows = ledger::incidents_frame(&incidents).map_err(|source| CommandError::Rows {
            table: Table::Incidents,
            source,
        })?;
        ledger.upsert(Table::Incidents, rows)?;
    }
    Ok(incidents.len())
}

/// The async runtime the AWS SDK calls run on (the commands themselves are synchronous).
fn aws_runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// `checkup report --publish`: uploads the files written through a client that may only put
/// objects. Returns the object URLs.
pub fn publish_reports(
    files: &[PathBuf],
    location: &crate::publish::S3Location,
    target: &AwsTarget,
    verbose: bool,
) -> Result<Vec<String>> {
    let runtime = aws_runtime().map_err(CommandError::Runtime)?;
    let guard = OperationGuard::publishing(verbose);
    let urls = runtime.block_on(async {
        let clients = aws::clients(target, &guard).await;
        crate::publish::publish(&clients.s3, location, files).await
    })?;
    Ok(urls)
}

/// A command's use of a ledger on S3: the mirror pulled (and the writer's mark taken when the
/// command writes) before, and pushed after.
pub struct S3LedgerSession {
    pub ledger: crate::s3_ledger::S3Ledger,
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_s3::Client,
    pulled: crate::s3_ledger::Pulled,
    writing: bool,
}

/// Claims the ledger when the command writes, then pulls its mirror.
pub fn open_s3_ledger(
    location: crate::publish::S3Location,
    cache: &Path,
    target: &AwsTarget,
    verbose: bool,
    writing: bool,
) -> std::result::Result<S3LedgerSession, crate::s3_ledger::S3LedgerError> {
    let runtime = aws_runtime().map_err(|source| crate::s3_ledger::S3LedgerError::Io {
        path: cache.to_path_buf(),
        source,
    })?;
    let guard = OperationGuard::ledger(verbose);
    let ledger = crate::s3_ledger::S3Ledger::new(location, cache);
    let (client, pulled) = runtime.block_on(async {
        let client = aws::clients(target, &guard).await.s3;
        if writing {
            let holder = format!(
                "pid {} since {}",
                std::process::id(),
                chrono::Utc::now().to_rfc3339()
            );
            ledger.claim(&client, &holder).await?;
        }
        match ledger.pull(&client).await {
            Ok(pulled) => Ok((client, pulled)),
            Err(error) => {
                if writing {
                    let _ = ledger.release(&client).await;
                }
                Err(error)
            }
        }
    })?;
    Ok(S3LedgerSession {
        ledger,
        runtime,
        client,
        pulled,
        writing,
    })
}

/// After the command: pushes what it changed when it succeeded, then releases the writer's mark.
/// Returns how many files were uploaded.
pub fn close_s3_ledger(
    session: S3LedgerSession,
    succeeded: bool,
) -> std::result::Result<usize, crate::s3_ledger::S3LedgerError> {
    if !session.writing {
        return Ok(0);
    }
    session.runtime.block_on(async {
        let pushed = if succeeded {
            session.ledger.push(&session.client, &session.pulled).await
        } else {
            Ok(0)
        };
        let released = session.ledger.release(&session.client).await;
        let pushed = pushed?;
        released?;
        Ok(pushed)
    })
}

/// `checkup ingest chaostoolkit FILE...`: reads every journal first, then stores them all, so a
/// malformed file leaves the ledger as it was. A journal read again replaces its rows. Returns
/// how many journals were stored.
pub fn ingest_chaostoolkit(
    ledger: &Ledger,
    files: &[PathBuf],
    config: &Config,
    now: Micros,
) -> Result<usize> {
    let journals = files
        .iter()
        .map(|file| crate::ingest::chaostoolkit::read_journal(file, config, now))
        .collect::<Result<Vec<_>, _>>()?;
    let month_by_id: HashMap<String, String> = journals
        .iter()
        .map(|j| (j.experiment.experiment_id.clone(), j.experiment.month()))
        .collect();
    let mut points = PointColumns::default();
    for journal in &journals {
        let id = &journal.experiment.experiment_id;
        for &(ts, value) in &journal.points {
            points.push(
                id,
                &month_by_id[id],
                crate::ingest::chaostoolkit::STEADY_STATE_MET,
                ts,
                value,
            );
        }
    }
    let experiments: Vec<Experiment> = journals.iter().map(|j| j.experiment.clone()).collect();
    let actions: Vec<Action> = journals.iter().flat_map(|j| j.actions.clone()).collect();
    let series: Vec<MetricSeries> = journals.iter().filter_map(|j| j.series.clone()).collect();
    store_rows(
        ledger,
        Rows {
            experiments: &experiments,
            actions: &actions,
            series: &series,
            points,
            alarm_events: &[],
        },
        |id: &str| month_by_id.get(id).cloned().unwrap_or_default(),
    )?;
    Ok(journals.len())
}

/// `checkup ingest fis`.
#[derive(Debug, Clone, Default)]
pub struct IngestFisCommand {
    /// Each region to read (none: the SDK's default region).
    pub regions: Vec<String>,
    /// Each profile to read (none: the standard credential chain).
    pub profiles: Vec<String>,
    pub endpoint_url: Option<String>,
    pub since: Option<Micros>,
    pub until: Option<Micros>,
    pub config: Config,
    /// The time of this ingest, stamped on the rows.
    pub now: Micros,
    /// Print every AWS operation sent on stderr (`-v`).
    pub verbose: bool,
    /// Show progress bars (on a terminal only; `--quiet` turns them off).
    pub progress: bool,
    /// S3 has a custom endpoint (see `AwsTarget::s3_path_style`).
    pub s3_path_style: bool,
    /// See `AwsTarget::attempt_timeout`.
    pub attempt_timeout: std::time::Duration,
    /// How many GetExperiment calls may be in flight at once.
    pub concurrency: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestSummary {
    pub experiments: usize,
    pub actions: usize,
    pub series: usize,
    pub points: usize,
    pub alarm_events: usize,
    /// GetMetricData requests sent (every page counts) and SPEC section 12's lower bound.
    pub metric_requests: usize,
    pub metric_requests_lower_bound: usize,
    /// Every AWS operation sent, in order (`CloudWatch GetMetricData`).
    pub operations: Vec<String>,
    /// What could not be read and what that means for the verdicts.
    pub warnings: Vec<String>,
}

/// Everything one profile and region gave.
struct AwsRead {
    history: FisHistory,
    observations: Observations,
}

fn progress_bar(show: bool, what: &'static str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    // Drawn on stderr only when it is a terminal; indicatif hides it otherwise.
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{prefix:>24} {bar:30} {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(what);
    bar
}

/// Reads FIS experiments, their S3 log records and CloudWatch series into the ledger. Without
/// `--since`, it starts at the oldest experiment already in the ledger that is unfinished or
/// whose observation window had not closed when it was read (so those are read again), else at
/// the newest one. Nothing is written until every read of a profile and region succeeded.
pub fn ingest_fis(ledger: &Ledger, command: &IngestFisCommand) -> Result<IngestSummary> {
    let known =
        ledger::experiments_from_frame(&ledger.read(Table::Experiments)?).map_err(|source| {
            CommandError::Rows {
                table: Table::Experiments,
                source,
            }
        })?;
    // Without `--since`, read what the ledger lacks or holds unsettled; with it, the window again.
    let holdings = match command.since {
        Some(_) => Holdings::default(),
        None => Holdings::new(&known, (command.config.window.post_s * 1e6) as Micros),
    };
    let runtime = aws_runtime().map_err(CommandError::Runtime)?;
    let profiles: Vec<Option<String>> = if command.profiles.is_empty() {
        vec![None]
    } else {
        command.profiles.iter().cloned().map(Some).collect()
    };
    let regions: Vec<Option<String>> = if command.regions.is_empty() {
        vec![None]
    } else {
        command.regions.iter().cloned().map(Some).collect()
    };
    let mut summary = IngestSummary::default();
    for profile in &profiles {
        for region in &regions {
            let target = AwsTarget {
                profile: profile.clone(),
                region: region.clone(),
                endpoint_url: command.endpoint_url.clone(),
                s3_path_style: command.s3_path_style,
                attempt_timeout: command.attempt_timeout,
            };
            let guard = OperationGuard::reading(command.verbose);
            let mut warnings = Vec::new();
            let read =
                runtime.block_on(read_aws(command, &target, &guard, &holdings, &mut warnings));
            summary.operations.extend(guard.log.entries());
            summary.metric_requests += guard.log.count("GetMetricData");
            summary.warnings.extend(warnings);
            let AwsRead {
                history,
                observations,
            } = read?;
            summary.experiments += history.experiments.len();
            summary.actions += history.actions.len();
            summary.series += observations.series.len();
            summary.points += observations.points.len();
            summary.alarm_events += observations.alarm_events.len();
            summary.metric_requests_lower_bound += observations.lower_bound;
            store_fis_history(ledger, history, observations)?;
        }
    }
    Ok(summary)
}

async fn read_aws(
    command: &IngestFisCommand,
    target: &AwsTarget,
    guard: &OperationGuard,
    holdings: &Holdings,
    warnings: &mut Vec<String>,
) -> Result<AwsRead> {
    let clients = aws::clients(target, guard).await;
    let query = FisQuery {
        since: command.since,
        until: command.until,
        holdings: holdings.clone(),
        concurrency: command.concurrency,
        account_id: None,
        region: clients.region.clone(),
        tag_keys: command.config.tags.clone(),
        ingested_at: command.now,
    };
    let ids = fis::list_experiment_ids(&clients.fis, &query).await?;
    let bar = progress_bar(command.progress, "FIS experiments");
    bar.set_length(ids.len() as u64);
    let mut history = fis::read_history(&clients.fis, &query, &ids, || bar.inc(1)).await?;
    bar.finish_and_clear();
    observe::add_logged_action_times(&clients.s3, &mut history, warnings).await?;
    let bar = progress_bar(command.progress, "GetMetricData requests");
    let observations = observe::observe(
        &clients.cloudwatch,
        &mut history,
        &command.config,
        command.now,
        warnings,
        |requests| bar.set_length(requests as u64),
        || bar.inc(1),
    )
    .await?;
    bar.finish_and_clear();
    Ok(AwsRead {
        history,
        observations,
    })
}

/// Stores what one profile and region gave; rows are partitioned by their experiment's creation
/// month.
fn store_fis_history(
    ledger: &Ledger,
    history: FisHistory,
    observations: Observations,
) -> Result<()> {
    let month_by_id: HashMap<String, String> = history
        .experiments
        .iter()
        .map(|e| (e.experiment_id.clone(), e.month()))
        .collect();
    store_rows(
        ledger,
        Rows {
            experiments: &history.experiments,
            actions: &history.actions,
            series: &observations.series,
            points: observations.points,
            alarm_events: &observations.alarm_events,
        },
        |id: &str| month_by_id.get(id).cloned().unwrap_or_default(),
    )
}
