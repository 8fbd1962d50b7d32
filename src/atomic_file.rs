//! Files written whole or not at all: the content goes to a temporary file beside the target,
//! which is flushed to disk, renamed over the target, and the folder's entry flushed too. A reader
//! (or a crash at any moment) sees the old file or the new one, never half of one. The ledger's
//! partitions, its marker, the S3 mirror's manifest and every report file are written this way.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The file that could not be written, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}")]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_with(path, |file| {
        file.write_all(bytes).map_err(|source| WriteError {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// Writes `path` atomically with `write`, which fills the temporary file it is given. An error
/// leaves the target as it was and no temporary file behind.
pub fn write_with<E: From<WriteError>>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<(), E> {
    let staged = stage(path, write)?;
    Ok(staged.commit()?)
}

/// A file written in full to its temporary file and flushed, not yet in place. [`Staged::commit`]
/// renames it over its target; dropping it uncommitted removes the temporary file, so a batch of
/// files (a ledger write) is staged whole before any of them replaces its target.
#[derive(Debug)]
pub struct Staged {
    temporary: PathBuf,
    path: PathBuf,
    committed: bool,
}

/// Writes the temporary file of `path` with `write` and flushes it; the target is not touched.
/// Any error (a full disk at the write or at the flush) removes the temporary file.
pub fn stage<E: From<WriteError>>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<Staged, E> {
    let staged = Staged {
        temporary: temporary_path(path),
        path: path.to_path_buf(),
        committed: false,
    };
    // The target's name in errors: it is the file the user knows.
    let failed = |source| WriteError {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::create(&staged.temporary).map_err(failed)?;
    write(&mut file)?;
    file.sync_all().map_err(failed)?;
    Ok(staged)
}

impl Staged {
    /// Renames the temporary file over the target and flushes the folder's entry (the rename is
    /// durable only then).
    pub fn commit(mut self) -> Result<(), WriteError> {
        fs::rename(&self.temporary, &self.path).map_err(|source| WriteError {
            path: self.path.clone(),
            source,
        })?;
        self.committed = true;
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|dir_handle| dir_handle.sync_all())
            .map_err(|source| WriteError {
                path: dir.to_path_buf(),
                source,
            })
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

/// The temporary file a write of `path` goes through: hidden, and named after the process so two
/// writers never share one.
pub fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Whether a file name is one of [`temporary_path`]'s, left behind by a killed writer.
pub fn is_temporary_file(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}
