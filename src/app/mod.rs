//! The application layer: one module per command, each wiring the stages left to right (a source
//! into the ledger, the ledger through analysis, the analysis into reports). `main.rs` parses the
//! command line into [`cli::Cli`] and calls [`run`]; everything a command does happens here.
//!
//! - [`demo`], [`ingest`], [`report`] (and [`site`], its archive), [`gate`], [`export`], [`init`],
//!   [`notify`]: the commands.
//! - [`load`]: reading and judging the ledger month by month, storing the outcomes.
//! - [`output`]: every file a command writes (atomically) and the names of report files.
//! - [`aws_session`]: the async runtime of AWS calls, `--publish`, and a ledger on S3.

pub mod aws_session;
pub mod cli;
pub mod demo;
pub mod export;
pub mod gate;
pub mod ingest;
pub mod init;
pub mod load;
pub mod notify;
pub mod output;
pub mod report;
pub mod site;

use std::io;
use std::path::PathBuf;

use polars::prelude::PolarsError;

use crate::analyze::AnalyzeError;
use crate::ingest::demo::DemoError;
use crate::ledger::{LedgerError, Table};
use crate::report::RenderError;

pub use cli::{Cli, Environment, run};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
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
    Aws(#[from] crate::aws::AwsError),
    #[error(transparent)]
    Publish(#[from] crate::publish::PublishError),
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
    #[error("interrupted by {}: {done}", signal.name())]
    Interrupted {
        signal: crate::interrupt::Signal,
        /// What was stored or written before the stop, and what was not.
        done: String,
    },
    #[error("posting the digest to the webhook failed: {0}")]
    Webhook(String),
    #[error("cannot read the report site at {path}")]
    SiteRead { path: PathBuf, source: io::Error },
    #[error("{path} is not a period headline written by checkup report --site")]
    SiteHeadline {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot export table {table} to {path}")]
    Export {
        table: Table,
        path: PathBuf,
        source: PolarsError,
    },
}

impl From<crate::atomic_file::WriteError> for AppError {
    fn from(error: crate::atomic_file::WriteError) -> AppError {
        AppError::Write {
            path: error.path,
            source: error.source,
        }
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// A safe point of a long command: when a stop was asked (Ctrl-C, SIGTERM), ends the command
/// with `done()`, what it stored and what it did not.
pub(crate) fn stop_point(done: impl FnOnce() -> String) -> Result<()> {
    match crate::interrupt::requested() {
        Some(_) => Err(stopped(done())),
        None => Ok(()),
    }
}

/// The error of a command stopped by a signal, with what it stored and what it did not.
pub(crate) fn stopped(done: String) -> AppError {
    AppError::Interrupted {
        signal: crate::interrupt::requested().unwrap_or(crate::interrupt::Signal::Interrupt),
        done,
    }
}
