//! The `checkup` command line: parses arguments, runs one command, prints errors.
//! Exit codes: 0 success, 1 gate violated, 2 usage or input error.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use checkup::commands::{
    self, DemoCommand, ExportCommand, ExportFormat, IngestFisCommand, ReportCommand, ReportFormat,
};
use checkup::config::Config;
use checkup::ingest::aws::AwsTarget;
use checkup::ingest::demo::{DEFAULT_SEED, DemoSettings};
use checkup::ledger::{Ledger, Table};
use checkup::report::ReportKind;
use checkup::report::i18n::Lang;
use checkup::time::{Period, from_datetime, parse_period};

#[derive(Debug, Parser)]
#[command(
    name = "checkup",
    version,
    about = "The quarterly health check of a chaos-engineering program"
)]
struct Cli {
    /// The ledger folder.
    #[arg(long, global = true, env = "CHECKUP_LEDGER", default_value = "ledger")]
    ledger: PathBuf,
    /// The configuration file (default: ./checkup.toml when present, else built-in defaults).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, global = true)]
    quiet: bool,
    /// Say more: every AWS operation sent during an ingest.
    #[arg(short = 'v', long, global = true)]
    verbose: bool,
    /// Seconds one attempt of an AWS call may wait for its answer before it is retried.
    #[arg(long, global = true, env = "CHECKUP_AWS_ATTEMPT_TIMEOUT", default_value = "60", value_parser = parse_seconds)]
    aws_attempt_timeout: std::time::Duration,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a realistic history into DIR/ledger and render every report into DIR/reports.
    Demo {
        #[arg(long, default_value = "demo")]
        out: PathBuf,
        /// Number of experiments (default: the scenario file's 600).
        #[arg(long)]
        experiments: Option<usize>,
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// Analyze the ledger and write the reports of one period.
    Report {
        /// `2026Q3`, `2026-07`, `2026-07-01..2026-09-30` or `last-90d` (default: the quarter of
        /// the newest experiment).
        #[arg(long, value_parser = parse_period_arg)]
        period: Option<Period>,
        /// quarterly, executive, maturity, experiment:<id> or all.
        #[arg(long, value_parser = parse_kind, default_value = "all")]
        kind: KindArg,
        /// One or more of html, pdf, json, junit, csv, separated by commas.
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            default_value = "html,pdf,json"
        )]
        format: Vec<FormatArg>,
        #[arg(long, default_value = "reports")]
        out: PathBuf,
        /// A folder with `html/<kind>.html` or `pdf/report.typ` files that replace the built-in
        /// templates of the same name.
        #[arg(long)]
        templates: Option<PathBuf>,
        /// The language of the reports: en or ja.
        #[arg(long, value_parser = ["en", "ja"], default_value = "en")]
        lang: String,
        /// A folder with fonts for the PDF (Japanese needs a CJK font); may be repeated.
        #[arg(long = "font-dir")]
        font_dirs: Vec<PathBuf>,
        /// Upload every file written to s3://BUCKET/PREFIX (credentials and endpoints as for
        /// `ingest fis`: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_S3).
        #[arg(long, value_parser = checkup::publish::S3Location::parse)]
        publish: Option<checkup::publish::S3Location>,
    },
    /// Read experiments from a source into the ledger.
    Ingest {
        #[command(subcommand)]
        source: IngestSource,
    },
    /// Check the period against rules; exit 1 when one is violated (for CI/CD pipelines).
    Gate {
        /// As for `report` (default: the quarter of the newest experiment).
        #[arg(long, value_parser = parse_period_arg)]
        period: Option<Period>,
        /// Check one team's experiments, MTTR and stage instead of the organisation's.
        #[arg(long)]
        team: Option<String>,
        /// The most red experiments allowed in the period.
        #[arg(long)]
        max_red: Option<usize>,
        /// The largest allowed increase of experimental MTTR against the previous quarter, in
        /// percent (10 allows +10%).
        #[arg(long, allow_negative_numbers = true)]
        max_mttr_regression: Option<f64>,
        /// The lowest allowed maturity stage (1 to 4).
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=4))]
        min_stage: Option<u8>,
        #[arg(long, value_enum, default_value_t = GateFormatArg::Text)]
        format: GateFormatArg,
        /// Write the result here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write one ledger table as CSV, JSON or Parquet.
    Export {
        #[arg(long, value_parser = parse_table)]
        table: Table,
        #[arg(long, value_enum, default_value_t = ExportFormatArg::Csv)]
        format: ExportFormatArg,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum IngestSource {
    /// AWS FIS experiments (read-only), with the AWS CLI's conventions for credentials and endpoints.
    Fis {
        /// A region to read; repeat for several (default: the SDK's region).
        #[arg(long = "region")]
        regions: Vec<String>,
        /// A profile to read; repeat for several accounts (default: the standard credential chain).
        #[arg(long = "profile")]
        profiles: Vec<String>,
        /// An endpoint for every AWS service (AWS_ENDPOINT_URL_FIS and friends also work).
        #[arg(long)]
        endpoint_url: Option<String>,
        /// Read again the experiments created from this time (`2026-07-01` or RFC 3339; default:
        /// what the ledger lacks or holds unfinished).
        #[arg(long, value_parser = parse_time_arg)]
        since: Option<i64>,
        #[arg(long, value_parser = parse_time_arg)]
        until: Option<i64>,
        /// How many GetExperiment calls may be in flight at once.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
    },
    /// Chaos Toolkit journals (journal.json of `chaos run`).
    Chaostoolkit {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Real incidents from a CSV file (incident_id,service,team,severity,started_at,resolved_at
    /// [,customer_impact]), for the incident MTTR trend.
    Incidents { file: PathBuf },
}

fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 3600.0 => {
            Ok(std::time::Duration::from_secs_f64(seconds))
        }
        _ => Err(format!(
            "`{text}` is not a number of seconds between 0 and 3600"
        )),
    }
}

/// The S3 target of `--ledger s3://…` and `--publish`: the SDK's credentials, region and
/// endpoint variables.
fn s3_target(attempt_timeout: std::time::Duration) -> AwsTarget {
    AwsTarget {
        s3_path_style: custom_s3_endpoint(None),
        attempt_timeout,
        ..AwsTarget::default()
    }
}

/// Whether S3 is served at a custom endpoint (`--endpoint-url`, `AWS_ENDPOINT_URL_S3` or
/// `AWS_ENDPOINT_URL`), where buckets are addressed by path.
fn custom_s3_endpoint(endpoint_url: Option<&str>) -> bool {
    endpoint_url.is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
        || std::env::var_os("AWS_ENDPOINT_URL").is_some()
}

fn parse_time_arg(text: &str) -> Result<i64, String> {
    checkup::time::parse_timestamp(text)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KindArg {
    All,
    Quarterly,
    Executive,
    Maturity,
    Experiment(String),
}

fn parse_kind(text: &str) -> Result<KindArg, String> {
    Ok(match text {
        "all" => KindArg::All,
        "quarterly" => KindArg::Quarterly,
        "executive" => KindArg::Executive,
        "maturity" => KindArg::Maturity,
        _ => match text.strip_prefix("experiment:") {
            Some(id) if !id.trim().is_empty() => KindArg::Experiment(id.trim().to_string()),
            _ => {
                return Err(format!(
                    "unknown kind `{text}`; kinds are quarterly, executive, maturity, experiment:<id> and all"
                ));
            }
        },
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Html,
    Pdf,
    Json,
    Junit,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GateFormatArg {
    Text,
    Junit,
}

fn parse_period_arg(text: &str) -> Result<Period, String> {
    parse_period(text, from_datetime(chrono::Utc::now()))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportFormatArg {
    Csv,
    Json,
    Parquet,
}

fn parse_table(name: &str) -> Result<Table, String> {
    Table::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Table::ALL.iter().map(|table| table.name()).collect();
        format!("unknown table `{name}`; tables are {}", names.join(", "))
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        // A reader that stops early (`checkup export | head`) is not an error.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("checkup: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// `--config FILE` must exist; without it, `./checkup.toml` is read when present.
fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<Config> {
    match path {
        Some(path) => Config::load(path)?
            .with_context(|| format!("configuration file {} does not exist", path.display())),
        None => Ok(Config::load(std::path::Path::new("checkup.toml"))?.unwrap_or_default()),
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Runs the command; with `--ledger s3://BUCKET/PREFIX`, on a local mirror of that ledger which is
/// pulled before and, for commands that write, pushed after.
fn run(mut cli: Cli) -> anyhow::Result<ExitCode> {
    let ledger_text = cli.ledger.to_string_lossy().into_owned();
    if !ledger_text.starts_with("s3://") || matches!(cli.command, Command::Demo { .. }) {
        return run_command(cli);
    }
    let location = checkup::publish::S3Location::parse(&ledger_text)
        .map_err(|message| anyhow::anyhow!("--ledger: {message}"))?;
    let writing = matches!(cli.command, Command::Ingest { .. } | Command::Report { .. });
    let cache = std::env::var_os("CHECKUP_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/checkup")))
        .unwrap_or_else(std::env::temp_dir)
        .join("s3-ledgers");
    let target = s3_target(cli.aws_attempt_timeout);
    let session = commands::open_s3_ledger(location, &cache, &target, cli.verbose, writing)
        .with_context(|| format!("cannot open the ledger {ledger_text}"))?;
    cli.ledger = session.ledger.local.clone();
    let quiet = cli.quiet;
    let result = run_command(cli);
    let pushed = commands::close_s3_ledger(session, result.is_ok())
        .with_context(|| format!("cannot write the ledger {ledger_text}"))?;
    if writing && !quiet && result.is_ok() {
        eprintln!("Uploaded {pushed} changed ledger files to {ledger_text}");
    }
    result
}

fn run_command(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = load_config(cli.config.as_deref())?;
    match cli.command {
        Command::Demo {
            out,
            experiments,
            seed,
        } => {
            let command = DemoCommand {
                out: out.clone(),
                settings: DemoSettings { experiments, seed },
                config,
            };
            let summary = commands::demo(&command)
                .with_context(|| format!("demo into {} failed", out.display()))?;
            if !cli.quiet {
                println!(
                    "Generated {} experiments and {} incidents into {}",
                    summary.experiments,
                    summary.incidents,
                    summary.ledger.display()
                );
                for report in &summary.reports {
                    println!("Wrote {}", report.display());
                }
            }
        }
        Command::Report {
            period,
            kind,
            format,
            out,
            templates,
            lang,
            font_dirs,
            publish,
        } => {
            anyhow::ensure!(
                cli.ledger.exists(),
                "ledger {} does not exist; create one with `checkup ingest` or `checkup demo`",
                cli.ledger.display()
            );
            let ledger = Ledger::open_for_read(&cli.ledger)?;
            // Outcomes are stored when the ledger can be written; a locked or read-only ledger
            // still gets its reports.
            let ledger = Ledger::open_for_write(&cli.ledger).unwrap_or(ledger);
            let (kinds, experiments) = match kind {
                KindArg::All => (ReportKind::ALL.to_vec(), Vec::new()),
                KindArg::Quarterly => (vec![ReportKind::Quarterly], Vec::new()),
                KindArg::Executive => (vec![ReportKind::Executive], Vec::new()),
                KindArg::Maturity => (vec![ReportKind::Maturity], Vec::new()),
                KindArg::Experiment(id) => (Vec::new(), vec![id]),
            };
            let mut formats: Vec<ReportFormat> = Vec::new();
            for format in format {
                let format = match format {
                    FormatArg::Html => ReportFormat::Html,
                    FormatArg::Pdf => ReportFormat::Pdf,
                    FormatArg::Json => ReportFormat::Json,
                    FormatArg::Junit => ReportFormat::Junit,
                    FormatArg::Csv => ReportFormat::Csv,
                };
                if !formats.contains(&format) {
                    formats.push(format);
                }
            }
            let command = ReportCommand {
                out: out.clone(),
                formats,
                kinds,
                config,
                period,
                experiments,
                templates,
                lang: Lang::from_code(&lang).expect("clap checked the language"),
                font_dirs,
            };
            let written = commands::report(&ledger, &command).with_context(|| {
                format!(
                    "report of ledger {} into {} failed",
                    cli.ledger.display(),
                    out.display()
                )
            })?;
            if !cli.quiet {
                for path in &written {
                    println!("Wrote {}", path.display());
                }
            }
            if let Some(location) = publish {
                let target = s3_target(cli.aws_attempt_timeout);
                let urls = commands::publish_reports(&written, &location, &target, cli.verbose)
                    .with_context(|| {
                        format!(
                            "publishing to s3://{}/{} failed; the reports are in {}",
                            location.bucket,
                            location.prefix,
                            out.display()
                        )
                    })?;
                if !cli.quiet {
                    for url in &urls {
                        println!("Published {url}");
                    }
                }
            }
        }
        Command::Ingest {
            source:
                IngestSource::Fis {
                    regions,
                    profiles,
                    endpoint_url,
                    since,
                    until,
                    concurrency,
                },
        } => {
            let ledger = Ledger::open_for_write(&cli.ledger)?;
            let s3_path_style = custom_s3_endpoint(endpoint_url.as_deref());
            let command = IngestFisCommand {
                regions,
                profiles,
                endpoint_url,
                s3_path_style,
                attempt_timeout: cli.aws_attempt_timeout,
                concurrency: usize::from(concurrency),
                since,
                until,
                config,
                now: from_datetime(chrono::Utc::now()),
                verbose: cli.verbose,
                progress: !cli.quiet,
            };
            let summary = commands::ingest_fis(&ledger, &command).with_context(|| {
                format!(
                    "ingest into ledger {} failed; nothing it already held was lost",
                    cli.ledger.display()
                )
            })?;
            if !cli.quiet {
                for warning in &summary.warnings {
                    eprintln!("warning: {warning}");
                }
                println!(
                    "Read {} experiments and {} actions from FIS into {}",
                    summary.experiments,
                    summary.actions,
                    cli.ledger.display()
                );
                println!(
                    "Read {} series with {} points and {} alarm state changes from CloudWatch in {} GetMetricData requests (lower bound {})",
                    summary.series,
                    summary.points,
                    summary.alarm_events,
                    summary.metric_requests,
                    summary.metric_requests_lower_bound
                );
            }
        }
        Command::Ingest {
            source: IngestSource::Chaostoolkit { files },
        } => {
            let ledger = Ledger::open_for_write(&cli.ledger)?;
            let stored = commands::ingest_chaostoolkit(
                &ledger,
                &files,
                &config,
                from_datetime(chrono::Utc::now()),
            )
            .with_context(|| {
                format!(
                    "ingest into ledger {} failed; nothing was stored and nothing it already held was lost",
                    cli.ledger.display()
                )
            })?;
            if !cli.quiet {
                println!(
                    "Read {stored} Chaos Toolkit journals into {}",
                    cli.ledger.display()
                );
            }
        }
        Command::Ingest {
            source: IngestSource::Incidents { file },
        } => {
            let ledger = Ledger::open_for_write(&cli.ledger)?;
            let stored = commands::ingest_incidents(&ledger, &file).with_context(|| {
                format!(
                    "ingest of {} into ledger {} failed; nothing it already held was lost",
                    file.display(),
                    cli.ledger.display()
                )
            })?;
            if !cli.quiet {
                println!(
                    "Read {stored} incidents from {} into {}",
                    file.display(),
                    cli.ledger.display()
                );
            }
        }
        Command::Gate {
            period,
            team,
            max_red,
            max_mttr_regression,
            min_stage,
            format,
            out,
        } => {
            anyhow::ensure!(
                cli.ledger.exists(),
                "ledger {} does not exist; create one with `checkup ingest` or `checkup demo`",
                cli.ledger.display()
            );
            anyhow::ensure!(
                max_red.is_some() || max_mttr_regression.is_some() || min_stage.is_some(),
                "gate needs at least one rule: --max-red N, --max-mttr-regression PCT or --min-stage N"
            );
            let ledger = Ledger::open_for_read(&cli.ledger)?;
            let command = commands::GateCommand {
                period,
                config,
                rules: checkup::analyze::gate::GateRules {
                    team,
                    max_red,
                    max_mttr_regression_pct: max_mttr_regression,
                    min_stage,
                },
                junit: format == GateFormatArg::Junit,
            };
            let verdict = commands::gate(&ledger, &command)?;
            match &out {
                Some(path) => std::fs::write(path, &verdict.output)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{}", verdict.output),
            }
            if !verdict.passed {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Export { table, format, out } => {
            let ledger = Ledger::open_for_read(&cli.ledger)?;
            let format = match format {
                ExportFormatArg::Csv => ExportFormat::Csv,
                ExportFormatArg::Json => ExportFormat::Json,
                ExportFormatArg::Parquet => ExportFormat::Parquet,
            };
            commands::export(
                &ledger,
                &ExportCommand { table, format, out },
                &mut std::io::stdout().lock(),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
