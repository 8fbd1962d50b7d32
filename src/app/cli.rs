//! The command line (SPEC section 2) as clap reads it, on the library's own types, and [`run`],
//! which hands each command to its module. `main.rs` parses, reads the environment into
//! [`Environment`], calls [`run`] and maps the result to an exit code.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use super::aws_session::{
    Unlock, close_s3_ledger, open_s3_ledger, publish_reports, unlock_s3_ledger,
};
use super::demo::{DemoCommand, demo};
use super::export::{ExportCommand, ExportFormat, export};
use super::gate::{GateCommand, GateFormat, gate};
use super::ingest::{IngestFisCommand, ingest_chaostoolkit, ingest_fis, ingest_incidents};
use super::init::{InitCommand, init};
use super::notify::{NotifyCommand, WebhookUrl, notify};
use super::output::ReportFormat;
use super::report::{LabReports, ReportCommand, ReportSelection, report};
use super::site::{INDEX_FILE, files_under, report_site};
use crate::analyze::gate::GateRules;
use crate::aws::AwsTarget;
use crate::config::Config;
use crate::ingest::demo::{DEFAULT_SEED, DemoSettings};
use crate::ledger::{Ledger, Table, check_ledger};
use crate::publish::S3Location;
use crate::report::digest::DigestStyle;
use crate::report::i18n::Lang;
use crate::vocab::format::format_duration;
use crate::vocab::time::{Micros, Period, parse_period, parse_timestamp};

#[derive(Debug, Parser)]
#[command(
    name = "checkup",
    version,
    about = "The quarterly health check of a chaos-engineering program"
)]
pub struct Cli {
    /// The ledger folder.
    #[arg(long, global = true, env = "CHECKUP_LEDGER", default_value = "ledger")]
    pub ledger: PathBuf,
    /// The configuration file (default: ./checkup.toml when present, else built-in defaults).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, global = true)]
    pub quiet: bool,
    /// Say more: every AWS operation sent during an ingest.
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
    /// Seconds one attempt of an AWS call may wait for its answer before it is retried.
    #[arg(long, global = true, env = "CHECKUP_AWS_ATTEMPT_TIMEOUT", default_value = "60", value_parser = parse_seconds)]
    pub aws_attempt_timeout: Duration,
    #[command(subcommand)]
    pub command: Command,
}

// The examples of every command, printed after its --help.
const DEMO_EXAMPLES: &str = "Examples:
  checkup demo                          # 600 experiments into ./demo/ledger, reports into ./demo/reports
  checkup demo --out /tmp/big --experiments 100000 --seed 7";
const REPORT_EXAMPLES: &str = "Examples:
  checkup report --period 2026Q3                     # HTML, PDF and report.json into ./reports
  checkup report --kind experiment:EXP123abc --format html
  checkup report --period 2026Q3 --lab-reports failing --site ./site --publish s3://chaos-reports/site";
const INGEST_EXAMPLES: &str = "Examples:
  checkup ingest fis --region eu-west-1 --profile prod
  checkup ingest chaostoolkit runs/*/journal.json
  checkup ingest incidents incidents.csv";
const INIT_EXAMPLES: &str = "Examples:
  checkup init --region eu-west-1            # writes ./checkup.toml
  checkup init --profile prod --out prod.toml --force";
const GATE_EXAMPLES: &str = "Examples:
  checkup gate --max-red 0 --max-mttr-regression 10 --min-stage 2
  checkup gate --team payments --period 2026-07 --max-red 1 --format junit --out gate.xml";
const NOTIFY_EXAMPLES: &str = "Examples:
  export CHECKUP_WEBHOOK_URL=…   # from your secret store: the URL is never printed
  checkup notify --link https://reports.example.com/2026Q3/quarterly.html
  checkup notify --style teams --period 2026Q3 --max-red 0 --min-stage 2";
const LEDGER_EXAMPLES: &str = "Examples:
  checkup ledger check
  checkup --ledger s3://chaos-ledger/prod ledger unlock --older-than 3h";
const COMPLETIONS_EXAMPLES: &str = "Examples:
  checkup completions bash > ~/.local/share/bash-completion/completions/checkup
  checkup completions zsh > \"${fpath[1]}/_checkup\"";
const MAN_EXAMPLES: &str = "Examples:
  checkup man | man -l -
  checkup man > ~/.local/share/man/man1/checkup.1";
const EXPORT_EXAMPLES: &str = "Examples:
  checkup export --table experiments > experiments.csv
  checkup export --table points --format parquet --out points.parquet";
const INGEST_FIS_EXAMPLES: &str = "Examples:
  checkup ingest fis                                      # the SDK's region and credentials
  checkup ingest fis --region eu-west-1 --region us-east-1 --profile prod --profile staging
  checkup ingest fis --since 2026-07-01 --until 2026-10-01";
const INGEST_CT_EXAMPLES: &str = "Examples:
  checkup ingest chaostoolkit journal.json
  checkup ingest chaostoolkit runs/*/journal.json";
const INGEST_INCIDENTS_EXAMPLES: &str = "Examples:
  checkup ingest incidents incidents.csv";
const LEDGER_CHECK_EXAMPLES: &str = "Examples:
  checkup ledger check
  checkup --ledger s3://chaos-ledger/prod ledger check";
const LEDGER_UNLOCK_EXAMPLES: &str = "Examples:
  checkup --ledger s3://chaos-ledger/prod ledger unlock
  checkup --ledger s3://chaos-ledger/prod ledger unlock --older-than 30m";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a realistic history into DIR/ledger and render every report into DIR/reports.
    #[command(after_help = DEMO_EXAMPLES)]
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
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Read experiments from a source into the ledger.
    #[command(after_help = INGEST_EXAMPLES)]
    Ingest {
        #[command(subcommand)]
        source: IngestSource,
    },
    /// Write a starting checkup.toml from the account's FIS templates (read-only): tag keys,
    /// environments, one hypothesis per template with metric presets and the dimensions it can
    /// infer, and TODO comments for the rest.
    #[command(after_help = INIT_EXAMPLES)]
    Init {
        /// The file to write.
        #[arg(long, default_value = "checkup.toml")]
        out: PathBuf,
        /// Replace the file when it exists.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        profile: Option<String>,
        /// An endpoint for every AWS service (AWS_ENDPOINT_URL_FIS also works).
        #[arg(long)]
        endpoint_url: Option<String>,
    },
    /// Check the period against rules; exit 1 when one is violated (for CI/CD pipelines).
    #[command(after_help = GATE_EXAMPLES)]
    Gate(GateArgs),
    /// Post the digest of a period to a chat webhook (Slack, Teams or plain text).
    #[command(after_help = NOTIFY_EXAMPLES)]
    Notify(NotifyArgs),
    /// Check the ledger, or release an S3 ledger a killed writer left marked.
    #[command(after_help = LEDGER_EXAMPLES)]
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
    /// Print the completion script of a shell (bash, zsh, fish, elvish, powershell).
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), for `man -l -` or a man folder.
    #[command(after_help = MAN_EXAMPLES)]
    Man,
    /// Write one ledger table as CSV, JSON or Parquet.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export {
        #[arg(long, value_parser = parse_table)]
        table: Table,
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `checkup report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// `2026Q3`, `2026-07`, `2026-07-01..2026-09-30` or `last-90d` (default: the quarter of
    /// the newest experiment).
    #[arg(long, value_parser = parse_period_arg)]
    pub period: Option<Period>,
    /// quarterly, executive, maturity, experiment:<id> or all.
    #[arg(long, value_parser = ReportSelection::parse, default_value = "all")]
    pub kind: ReportSelection,
    /// One or more of html, pdf, json, junit, csv, separated by commas.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "html,pdf,json"
    )]
    pub format: Vec<ReportFormat>,
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// A folder with `html/<kind>.html` or `pdf/report.typ` files that replace the built-in
    /// templates of the same name.
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// The language of the reports.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    /// A folder with fonts for the PDF (Japanese needs a CJK font); may be repeated.
    #[arg(long = "font-dir")]
    pub font_dirs: Vec<PathBuf>,
    /// Upload every file written to s3://BUCKET/PREFIX (credentials and endpoints as for
    /// `ingest fis`: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_S3).
    #[arg(long, value_parser = S3Location::parse)]
    pub publish: Option<S3Location>,
    /// Add the period to an archive of every period instead of writing into --out: its reports
    /// into DIR/<period>/ (earlier periods are left as they are) and DIR/index.html rebuilt.
    /// With --publish, the whole archive is uploaded.
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub site: Option<PathBuf>,
    /// Also write the lab report of these experiments of the period (the quarterly's experiments
    /// table links each to its lab report).
    #[arg(long, value_enum, default_value_t = LabReports::None)]
    pub lab_reports: LabReports,
}

/// `checkup gate`.
#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// As for `report` (default: the quarter of the newest experiment).
    #[arg(long, value_parser = parse_period_arg)]
    pub period: Option<Period>,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[arg(long, value_enum, default_value_t = GateFormat::Text)]
    pub format: GateFormat,
    /// Write the result here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The rules of `gate`, which `notify` can state in its digest.
#[derive(Debug, Clone, clap::Args)]
pub struct RuleArgs {
    /// Check one team's experiments, MTTR and stage instead of the organisation's.
    #[arg(long)]
    pub team: Option<String>,
    /// The most red experiments allowed in the period.
    #[arg(long)]
    pub max_red: Option<usize>,
    /// The largest allowed increase of experimental MTTR against the previous quarter, in
    /// percent (10 allows +10%).
    #[arg(long, allow_negative_numbers = true)]
    pub max_mttr_regression: Option<f64>,
    /// The lowest allowed maturity stage (1 to 4).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=4))]
    pub min_stage: Option<u8>,
}

impl RuleArgs {
    /// The rules asked for, or `None` when no rule was given.
    fn rules(&self) -> Option<GateRules> {
        let any = self.max_red.is_some()
            || self.max_mttr_regression.is_some()
            || self.min_stage.is_some();
        any.then(|| GateRules {
            team: self.team.clone(),
            max_red: self.max_red,
            max_mttr_regression_pct: self.max_mttr_regression,
            min_stage: self.min_stage,
        })
    }
}

/// `checkup notify`.
#[derive(Debug, clap::Args)]
pub struct NotifyArgs {
    /// The chat webhook (a secret: never printed). Prefer the environment variable, which keeps it
    /// out of shell history and process lists.
    #[arg(long, env = "CHECKUP_WEBHOOK_URL", hide_env_values = true, value_parser = WebhookUrl::from_arg)]
    pub webhook: WebhookUrl,
    #[arg(long, value_enum, default_value_t = DigestStyle::Slack)]
    pub style: DigestStyle,
    /// As for `report` (default: the quarter of the newest experiment).
    #[arg(long, value_parser = parse_period_arg)]
    pub period: Option<Period>,
    /// The report the digest links to (a published quarterly or site index).
    #[arg(long)]
    pub link: Option<String>,
    /// The language of the digest.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    #[command(flatten)]
    pub rules: RuleArgs,
}

#[derive(Debug, Subcommand)]
pub enum LedgerAction {
    /// Check every partition (readable, the documented columns and types, keys unique, each row
    /// in its month, every child with its experiment); exit 1 naming each problem and its file.
    #[command(after_help = LEDGER_CHECK_EXAMPLES)]
    Check,
    /// Remove the writer's mark (`.checkup-writer`) a killed writer left on a ledger on S3
    /// (`--ledger s3://…`), printing who held it; a mark younger than --older-than is kept.
    #[command(after_help = LEDGER_UNLOCK_EXAMPLES)]
    Unlock {
        /// How old the mark must be before it is presumed dead (`90m`, `2h`, `1d`).
        #[arg(long, default_value = "2h", value_parser = parse_age)]
        older_than: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum IngestSource {
    /// AWS FIS experiments (read-only), with the AWS CLI's conventions for credentials and endpoints.
    #[command(after_help = INGEST_FIS_EXAMPLES)]
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
        #[arg(long, value_parser = parse_timestamp)]
        since: Option<Micros>,
        #[arg(long, value_parser = parse_timestamp)]
        until: Option<Micros>,
        /// How many GetExperiment calls (and S3 log reads) may be in flight at once.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
        /// How many GetMetricData requests may be in flight at once.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
        metric_concurrency: u16,
        /// The most GetMetricData requests started per second (CloudWatch's default quota is 50
        /// per account and region, shared with every other tool).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=50))]
        metric_rate: u16,
    },
    /// Chaos Toolkit journals (journal.json of `chaos run`).
    #[command(after_help = INGEST_CT_EXAMPLES)]
    Chaostoolkit {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Real incidents from a CSV file (incident_id,service,team,severity,started_at,resolved_at
    /// [,customer_impact]), for the incident MTTR trend.
    #[command(after_help = INGEST_INCIDENTS_EXAMPLES)]
    Incidents { file: PathBuf },
}

/// What `main.rs` read from the environment besides the flags.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The time of this run.
    pub now: Micros,
    /// Where a ledger on S3 is mirrored (`$CHECKUP_CACHE/s3-ledgers`, default `~/.cache/checkup`).
    pub s3_ledger_cache: PathBuf,
    /// S3 is served at a custom endpoint (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`), where
    /// buckets are addressed by path.
    pub custom_s3_endpoint: bool,
}

/// What a command ended with: success, a gate that was violated, or a ledger check that found
/// problems (both exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    Done,
    GateViolated,
    ProblemsFound,
}

/// `--older-than`: a duration in whole seconds.
fn parse_age(text: &str) -> Result<i64, String> {
    crate::vocab::time::parse_duration_s(text).map(|seconds| seconds.round() as i64)
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 3600.0 => Ok(Duration::from_secs_f64(seconds)),
        _ => Err(format!(
            "`{text}` is not a number of seconds between 0 and 3600"
        )),
    }
}

fn parse_period_arg(text: &str) -> Result<Period, String> {
    parse_period(text, crate::vocab::time::from_datetime(chrono::Utc::now()))
}

fn parse_table(name: &str) -> Result<Table, String> {
    Table::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Table::ALL.iter().map(|table| table.name()).collect();
        format!("unknown table `{name}`; tables are {}", names.join(", "))
    })
}

/// `--config FILE` must exist; without it, `./checkup.toml` is read when present.
fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    match path {
        Some(path) => Config::load(path)?
            .with_context(|| format!("configuration file {} does not exist", path.display())),
        None => Ok(Config::load(Path::new("checkup.toml"))?.unwrap_or_default()),
    }
}

/// The S3 target of `--ledger s3://…` and `--publish`: the SDK's credentials, region and
/// endpoint variables.
fn s3_target(cli: &Cli, environment: &Environment) -> AwsTarget {
    AwsTarget {
        s3_path_style: environment.custom_s3_endpoint,
        attempt_timeout: cli.aws_attempt_timeout,
        ..AwsTarget::default()
    }
}

/// Runs the command; with `--ledger s3://BUCKET/PREFIX`, on a local mirror of that ledger which is
/// pulled before and, for commands that write, pushed after.
pub fn run(mut cli: Cli, environment: &Environment) -> anyhow::Result<Completion> {
    // The long commands stop at a safe point on Ctrl-C or SIGTERM (the S3 writer's mark is then
    // released below, and nothing is uploaded).
    if matches!(
        cli.command,
        Command::Demo { .. } | Command::Report(_) | Command::Ingest { .. }
    ) {
        crate::interrupt::install().context("cannot handle Ctrl-C and SIGTERM")?;
    }
    let ledger_text = cli.ledger.to_string_lossy().into_owned();
    if let Command::Ledger {
        action: LedgerAction::Unlock { older_than },
    } = &cli.command
    {
        return run_unlock(&cli, &ledger_text, *older_than, environment);
    }
    if !ledger_text.starts_with("s3://")
        || matches!(
            cli.command,
            Command::Demo { .. }
                | Command::Init { .. }
                | Command::Completions { .. }
                | Command::Man
        )
    {
        return run_command(cli, environment);
    }
    let location = S3Location::parse(&ledger_text)
        .map_err(|message| anyhow::anyhow!("--ledger: {message}"))?;
    let writing = matches!(cli.command, Command::Ingest { .. } | Command::Report(_));
    let target = s3_target(&cli, environment);
    let session = open_s3_ledger(
        location,
        &environment.s3_ledger_cache,
        &target,
        cli.verbose,
        writing,
    )
    .with_context(|| format!("cannot open the ledger {ledger_text}"))?;
    cli.ledger = session.ledger.local.clone();
    let quiet = cli.quiet;
    let result = run_command(cli, environment);
    let pushed = close_s3_ledger(session, result.is_ok())
        .with_context(|| format!("cannot write the ledger {ledger_text}"))?;
    if writing && crate::interrupt::requested().is_some() && result.is_err() {
        eprintln!(
            "checkup: nothing was uploaded to {ledger_text} and the writer's mark was removed; the next run starts from the bucket as it was"
        );
    }
    if writing && !quiet && result.is_ok() {
        eprintln!("Uploaded {pushed} changed ledger files to {ledger_text}");
    }
    result
}

fn run_command(cli: Cli, environment: &Environment) -> anyhow::Result<Completion> {
    // Completions and the man page come from the definitions alone: no configuration, no ledger.
    match &cli.command {
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut command, "checkup", &mut std::io::stdout());
            return Ok(Completion::Done);
        }
        Command::Man => {
            let page = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command());
            page.render(&mut std::io::stdout())
                .context("cannot write the man page")?;
            return Ok(Completion::Done);
        }
        _ => {}
    }
    // init writes the configuration: it reads none.
    if let Command::Init {
        out,
        force,
        region,
        profile,
        endpoint_url,
    } = &cli.command
    {
        let summary = init(&InitCommand {
            out: out.clone(),
            force: *force,
            region: region.clone(),
            profile: profile.clone(),
            endpoint_url: endpoint_url.clone(),
            attempt_timeout: cli.aws_attempt_timeout,
            verbose: cli.verbose,
        })?;
        if !cli.quiet {
            println!(
                "Wrote {} from {} FIS templates ({} with metric presets filled in; see the TODO comments)",
                out.display(),
                summary.templates,
                summary.hypotheses_with_series
            );
        }
        return Ok(Completion::Done);
    }
    let config = load_config(cli.config.as_deref())?;
    match &cli.command {
        Command::Demo {
            out,
            experiments,
            seed,
        } => run_demo(&cli, config, out, *experiments, *seed),
        Command::Report(args) => run_report(&cli, args, config, environment),
        Command::Ingest { source } => run_ingest(&cli, config, source, environment),
        Command::Gate(args) => run_gate(&cli, args, config),
        Command::Notify(args) => run_notify(&cli, args, config),
        Command::Ledger { action } => match action {
            LedgerAction::Check => run_check(&cli),
            LedgerAction::Unlock { .. } => unreachable!("handled before a ledger is opened"),
        },
        Command::Init { .. } | Command::Completions { .. } | Command::Man => {
            unreachable!("handled before the configuration is read")
        }
        Command::Export { table, format, out } => {
            let ledger = Ledger::open_for_read(&cli.ledger)?;
            let command = ExportCommand {
                table: *table,
                format: *format,
                out: out.clone(),
            };
            export(&ledger, &command, &mut std::io::stdout().lock())?;
            Ok(Completion::Done)
        }
    }
}

fn run_demo(
    cli: &Cli,
    config: Config,
    out: &Path,
    experiments: Option<usize>,
    seed: u64,
) -> anyhow::Result<Completion> {
    let command = DemoCommand {
        out: out.to_path_buf(),
        // Each run's series have points over the window the reports judge it in.
        settings: DemoSettings {
            experiments,
            seed,
            ..DemoSettings::default()
        }
        .observed_over(&config.window),
        config,
    };
    let summary = demo(&command).with_context(|| format!("demo into {} failed", out.display()))?;
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
    Ok(Completion::Done)
}

fn ensure_ledger_exists(ledger: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        ledger.exists(),
        "ledger {} does not exist; create one with `checkup ingest` or `checkup demo`",
        ledger.display()
    );
    Ok(())
}

fn run_report(
    cli: &Cli,
    args: &ReportArgs,
    config: Config,
    environment: &Environment,
) -> anyhow::Result<Completion> {
    let ReportArgs {
        period,
        kind,
        format,
        out,
        templates,
        lang,
        font_dirs,
        publish,
        site,
        lab_reports,
    } = args;
    ensure_ledger_exists(&cli.ledger)?;
    let ledger = Ledger::open_for_read(&cli.ledger)?;
    // Outcomes are stored when the ledger can be written; a locked or read-only ledger still
    // gets its reports.
    let ledger = Ledger::open_for_write(&cli.ledger).unwrap_or(ledger);
    let mut formats: Vec<ReportFormat> = Vec::new();
    for format in format {
        if !formats.contains(format) {
            formats.push(*format);
        }
    }
    let (kinds, experiments) = kind.kinds_and_experiments();
    let command = ReportCommand {
        out: out.clone(),
        formats,
        kinds,
        config,
        period: *period,
        experiments,
        lab_reports: *lab_reports,
        templates: templates.clone(),
        lang: *lang,
        font_dirs: font_dirs.clone(),
    };
    // What --publish uploads: the files written, or with --site the whole archive.
    let (root, uploads) = match site {
        None => {
            let run = report(&ledger, &command).with_context(|| {
                format!(
                    "report of ledger {} into {} failed",
                    cli.ledger.display(),
                    out.display()
                )
            })?;
            if !cli.quiet {
                for path in &run.written {
                    println!("Wrote {}", path.display());
                }
            }
            (out.clone(), run.written)
        }
        Some(site) => {
            let run = report_site(&ledger, &command, site).with_context(|| {
                format!(
                    "report of ledger {} into the site {} failed",
                    cli.ledger.display(),
                    site.display()
                )
            })?;
            if !cli.quiet {
                for path in &run.written {
                    println!("Wrote {}", path.display());
                }
                println!(
                    "The site {} lists {} period{}",
                    site.join(INDEX_FILE).display(),
                    run.periods,
                    if run.periods == 1 { "" } else { "s" }
                );
            }
            let files = files_under(site)?;
            (site.clone(), files)
        }
    };
    if let Some(location) = publish {
        let target = s3_target(cli, environment);
        let urls = publish_reports(&root, &uploads, location, &target, cli.verbose).with_context(
            || {
                format!(
                    "publishing to s3://{}/{} failed; the reports are in {}",
                    location.bucket,
                    location.prefix,
                    root.display()
                )
            },
        )?;
        if !cli.quiet {
            for url in &urls {
                println!("Published {url}");
            }
        }
    }
    Ok(Completion::Done)
}

fn run_ingest(
    cli: &Cli,
    config: Config,
    source: &IngestSource,
    environment: &Environment,
) -> anyhow::Result<Completion> {
    let ledger = Ledger::open_for_write(&cli.ledger)?;
    let ledger_path = cli.ledger.display();
    match source {
        IngestSource::Fis {
            regions,
            profiles,
            endpoint_url,
            since,
            until,
            concurrency,
            metric_concurrency,
            metric_rate,
        } => {
            let command = IngestFisCommand {
                regions: regions.clone(),
                profiles: profiles.clone(),
                endpoint_url: endpoint_url.clone(),
                s3_path_style: endpoint_url.is_some() || environment.custom_s3_endpoint,
                attempt_timeout: cli.aws_attempt_timeout,
                concurrency: usize::from(*concurrency),
                metric_pace: crate::ingest::cloudwatch::RequestPace {
                    concurrency: usize::from(*metric_concurrency),
                    per_second: f64::from(*metric_rate),
                },
                since: *since,
                until: *until,
                config,
                now: environment.now,
                verbose: cli.verbose,
                progress: !cli.quiet,
            };
            let summary = ingest_fis(&ledger, &command).with_context(|| {
                format!("ingest into ledger {ledger_path} failed; nothing it already held was lost")
            })?;
            if !cli.quiet {
                for warning in &summary.warnings {
                    eprintln!("warning: {warning}");
                }
                println!(
                    "Read {} experiments and {} actions from FIS into {ledger_path}",
                    summary.experiments, summary.actions
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
        IngestSource::Chaostoolkit { files } => {
            let stored = ingest_chaostoolkit(&ledger, files, &config, environment.now)
                .with_context(|| {
                    format!(
                        "ingest into ledger {ledger_path} failed; nothing was stored and nothing it already held was lost"
                    )
                })?;
            if !cli.quiet {
                println!("Read {stored} Chaos Toolkit journals into {ledger_path}");
            }
        }
        IngestSource::Incidents { file } => {
            let stored = ingest_incidents(&ledger, file).with_context(|| {
                format!(
                    "ingest of {} into ledger {ledger_path} failed; nothing it already held was lost",
                    file.display()
                )
            })?;
            if !cli.quiet {
                println!(
                    "Read {stored} incidents from {} into {ledger_path}",
                    file.display()
                );
            }
        }
    }
    Ok(Completion::Done)
}

fn run_gate(cli: &Cli, args: &GateArgs, config: Config) -> anyhow::Result<Completion> {
    let GateArgs {
        period,
        rules,
        format,
        out,
    } = args;
    ensure_ledger_exists(&cli.ledger)?;
    let rules = rules.rules().ok_or_else(|| {
        anyhow::anyhow!(
            "gate needs at least one rule: --max-red N, --max-mttr-regression PCT or --min-stage N"
        )
    })?;
    let ledger = Ledger::open_for_read(&cli.ledger)?;
    let command = GateCommand {
        period: *period,
        config,
        rules,
        format: *format,
    };
    let verdict = gate(&ledger, &command)?;
    match out {
        Some(path) => super::output::write_file(path, verdict.output.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{}", verdict.output),
    }
    Ok(if verdict.passed {
        Completion::Done
    } else {
        Completion::GateViolated
    })
}

fn run_notify(cli: &Cli, args: &NotifyArgs, config: Config) -> anyhow::Result<Completion> {
    ensure_ledger_exists(&cli.ledger)?;
    let ledger = Ledger::open_for_read(&cli.ledger)?;
    let command = NotifyCommand {
        webhook: args.webhook.clone(),
        style: args.style,
        period: args.period,
        link: args.link.clone(),
        rules: args.rules.rules(),
        config,
        lang: args.lang,
    };
    let digest = notify(&ledger, &command)?;
    if !cli.quiet {
        println!("Posted the digest ({}) to the webhook", digest.title);
    }
    Ok(Completion::Done)
}

fn run_check(cli: &Cli) -> anyhow::Result<Completion> {
    ensure_ledger_exists(&cli.ledger)?;
    let report = check_ledger(&cli.ledger)?;
    for problem in &report.problems {
        println!("{}: {}", problem.path.display(), problem.message);
    }
    let rows: Vec<String> = report
        .rows
        .iter()
        .map(|(table, rows)| format!("{} {rows}", table.name()))
        .collect();
    let partitions: usize = report.partitions.values().sum();
    if report.problems.is_empty() {
        if !cli.quiet {
            println!(
                "The ledger {} is sound: {partitions} partitions read; rows: {}",
                cli.ledger.display(),
                rows.join(", ")
            );
        }
        Ok(Completion::Done)
    } else {
        eprintln!(
            "checkup: the ledger {} has {} problems (listed above)",
            cli.ledger.display(),
            report.problems.len()
        );
        Ok(Completion::ProblemsFound)
    }
}

fn run_unlock(
    cli: &Cli,
    ledger_text: &str,
    older_than_s: i64,
    environment: &Environment,
) -> anyhow::Result<Completion> {
    if !ledger_text.starts_with("s3://") {
        // The local lock is the operating system's: it goes with the process that held it.
        anyhow::ensure!(
            !Ledger::is_locked(&cli.ledger)?,
            "the ledger {ledger_text} is held by a running checkup process; a local ledger's lock is released when that process ends, so there is nothing to unlock"
        );
        if !cli.quiet {
            println!(
                "The ledger {ledger_text} is not locked (a local ledger's lock ends with its process): nothing to unlock"
            );
        }
        return Ok(Completion::Done);
    }
    let location =
        S3Location::parse(ledger_text).map_err(|message| anyhow::anyhow!("--ledger: {message}"))?;
    let target = s3_target(cli, environment);
    let outcome = unlock_s3_ledger(
        location,
        &environment.s3_ledger_cache,
        &target,
        cli.verbose,
        older_than_s,
        environment.now,
    )
    .with_context(|| format!("cannot unlock the ledger {ledger_text}"))?;
    let age = |age_s: Option<i64>| {
        age_s.map_or("of unknown age".to_string(), |age| {
            format!("{} old", format_duration(age as f64))
        })
    };
    match outcome {
        Unlock::NoMark => {
            if !cli.quiet {
                println!("No writer holds the ledger {ledger_text}: nothing to unlock");
            }
        }
        Unlock::Removed { holder, age_s } => {
            if !cli.quiet {
                println!(
                    "Removed the writer's mark of {ledger_text}: it was held by {holder}, {}",
                    age(age_s)
                );
            }
        }
        Unlock::TooYoung { holder, age_s } => anyhow::bail!(
            "the ledger {ledger_text} is held by {holder}, {}: younger than --older-than {}, so its writer may still be at work; wait, or pass a shorter --older-than once you know it died",
            age(Some(age_s)),
            format_duration(older_than_s as f64)
        ),
        Unlock::Changed { holder } => anyhow::bail!(
            "the writer's mark of {ledger_text} (held by {holder}) was replaced while it was checked: another writer has just started, so it was kept"
        ),
    }
    Ok(Completion::Done)
}
