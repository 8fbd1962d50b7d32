//! `checkup ingest fis | chaostoolkit | incidents`: a source read whole, then stored in the
//! ledger's write order. Nothing is stored when a read fails, so the ledger keeps what it held.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::aws_session::aws_runtime;
use super::{AppError, Result, stop_point, stopped};
use crate::aws::{self, AwsTarget, OperationGuard};
use crate::config::Config;
use crate::ingest::fis::{self, FisHistory, FisQuery, Holdings};
use crate::ingest::observe::{self, Observations};
use crate::ledger::{self, Batch, Ledger, Table, rows_of};
use crate::vocab::time::{Micros, micros_from_seconds};

/// `checkup ingest incidents FILE.csv`: checks every row, then stores them (an incident read
/// again replaces its row). Returns how many were stored.
pub fn ingest_incidents(ledger: &Ledger, path: &Path) -> Result<usize> {
    let incidents = crate::ingest::incidents::read_incidents(path)?;
    ledger.store_incidents(&incidents)?;
    Ok(incidents.len())
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
    let stored = journals.len();
    ledger.store(crate::ingest::chaostoolkit::journals_batch(journals))?;
    Ok(stored)
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
    /// How GetMetricData requests go out (in flight at once, started per second).
    pub metric_pace: crate::ingest::cloudwatch::RequestPace,
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
    let known = ledger::experiments_from_frame(&ledger.read(Table::Experiments)?)
        .map_err(rows_of(Table::Experiments))?;
    // Without `--since`, read what the ledger lacks or holds unsettled; with it, the window again.
    let holdings = match command.since {
        Some(_) => Holdings::default(),
        None => Holdings::new(&known, micros_from_seconds(command.config.window.post_s)),
    };
    let runtime = aws_runtime().map_err(AppError::Runtime)?;
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
            // A stop request ends the reads in flight at once; nothing of this profile and
            // region is stored then.
            let read = runtime.block_on(async {
                tokio::select! {
                    read = read_aws(command, &target, &guard, &holdings, &mut warnings) => Some(read),
                    () = stop_requested() => None,
                }
            });
            let unread = |summary: &IngestSummary| {
                format!(
                    "stored {} experiments before it; {} was being read and is not stored (nor any profile or region after it): run the command again, it reads what the ledger lacks",
                    summary.experiments,
                    target_words(profile, region)
                )
            };
            let Some(read) = read else {
                return Err(stopped(unread(&summary)));
            };
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
            stop_point(|| {
                format!(
                    "stored {} experiments, {} included; any profile or region after it was not read: run the command again, it reads what the ledger lacks",
                    summary.experiments,
                    target_words(profile, region)
                )
            })?;
        }
    }
    Ok(summary)
}

/// Resolves once a stop was asked (Ctrl-C, SIGTERM); checked every 50 ms.
async fn stop_requested() {
    while crate::interrupt::requested().is_none() {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `profile prod, region eu-west-1`, for what was stored and what was not.
fn target_words(profile: &Option<String>, region: &Option<String>) -> String {
    format!(
        "profile {}, region {}",
        profile.as_deref().unwrap_or("(default)"),
        region.as_deref().unwrap_or("(the SDK's)")
    )
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
    observe::add_logged_action_times(&clients.s3, &mut history, command.concurrency, warnings)
        .await?;
    let bar = progress_bar(command.progress, "GetMetricData requests");
    let observations = observe::observe(
        &clients.cloudwatch,
        &mut history,
        &command.config,
        command.now,
        command.metric_pace,
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
    ledger.store(Batch {
        experiments: history.experiments,
        actions: history.actions,
        series: observations.series,
        points: observations.points,
        alarm_events: observations.alarm_events,
    })?;
    Ok(())
}
