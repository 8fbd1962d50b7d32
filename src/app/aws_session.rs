//! What the commands share to talk to AWS: the async runtime the SDK calls run on (the commands
//! themselves are synchronous), `report --publish`, and a ledger kept on S3 (`--ledger s3://…`),
//! whose mirror is pulled before a command and pushed after it.

use std::io;
use std::path::{Path, PathBuf};

use super::{AppError, Result};
use crate::aws::{self, AwsTarget, OperationGuard};

/// The async runtime the AWS SDK calls run on (the commands themselves are synchronous).
pub(crate) fn aws_runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// `checkup report --publish`: uploads the files (keyed by their path under `root`) through a
/// client that may only put objects. Returns the object URLs.
pub fn publish_reports(
    root: &Path,
    files: &[PathBuf],
    location: &crate::publish::S3Location,
    target: &AwsTarget,
    verbose: bool,
) -> Result<Vec<String>> {
    let runtime = aws_runtime().map_err(AppError::Runtime)?;
    let guard = OperationGuard::publishing(verbose);
    let urls = runtime.block_on(async {
        let clients = aws::clients(target, &guard).await;
        crate::publish::publish(&clients.s3, location, root, files).await
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

/// The runtime, the allow-list and the mirror of a ledger on S3.
fn s3_ledger_parts(
    location: crate::publish::S3Location,
    cache: &Path,
    verbose: bool,
) -> std::result::Result<
    (
        tokio::runtime::Runtime,
        OperationGuard,
        crate::s3_ledger::S3Ledger,
    ),
    crate::s3_ledger::S3LedgerError,
> {
    let runtime = aws_runtime().map_err(|source| crate::s3_ledger::S3LedgerError::Io {
        path: cache.to_path_buf(),
        source,
    })?;
    let guard = OperationGuard::ledger(verbose);
    let ledger = crate::s3_ledger::S3Ledger::new(location, cache);
    Ok((runtime, guard, ledger))
}

/// Claims the ledger when the command writes, then pulls its mirror.
pub fn open_s3_ledger(
    location: crate::publish::S3Location,
    cache: &Path,
    target: &AwsTarget,
    verbose: bool,
    writing: bool,
) -> std::result::Result<S3LedgerSession, crate::s3_ledger::S3LedgerError> {
    let (runtime, guard, ledger) = s3_ledger_parts(location, cache, verbose)?;
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

/// What `checkup ledger unlock` found and did on an S3 ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unlock {
    /// No writer's mark: nothing to do.
    NoMark,
    /// The mark was removed; it said who held it and since when.
    Removed { holder: String, age_s: Option<i64> },
    /// The mark is younger than the age asked for: its writer may still be at work.
    TooYoung { holder: String, age_s: i64 },
    /// Another writer replaced the mark while it was being checked.
    Changed { holder: String },
}

/// Removes a killed writer's mark from an S3 ledger when it is older than `older_than_s`
/// (by S3's own clock for the mark, and `now`).
pub fn unlock_s3_ledger(
    location: crate::publish::S3Location,
    cache: &Path,
    target: &AwsTarget,
    verbose: bool,
    older_than_s: i64,
    now: crate::vocab::time::Micros,
) -> std::result::Result<Unlock, crate::s3_ledger::S3LedgerError> {
    let (runtime, guard, ledger) = s3_ledger_parts(location, cache, verbose)?;
    runtime.block_on(async {
        let client = aws::clients(target, &guard).await.s3;
        let Some(mark) = ledger.writer_mark(&client).await? else {
            return Ok(Unlock::NoMark);
        };
        let age_s = mark.since.map(|since| (now - since) / 1_000_000);
        if let Some(age_s) = age_s.filter(|age| *age < older_than_s) {
            return Ok(Unlock::TooYoung {
                holder: mark.holder,
                age_s,
            });
        }
        Ok(if ledger.remove_mark(&client, &mark).await? {
            Unlock::Removed {
                holder: mark.holder,
                age_s,
            }
        } else {
            Unlock::Changed {
                holder: mark.holder,
            }
        })
    })
}
