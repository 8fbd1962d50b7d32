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
            path: temporary_path(path),
            source,
        })
    })
}

/// Writes `path` atomically with `write`, which fills the temporary file it is given. An error of
/// `write` leaves the target as it was.
pub fn write_with<E: From<WriteError>>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<(), E> {
    let temporary = temporary_path(path);
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    let mut file = File::create(&temporary).map_err(failed(&temporary))?;
    if let Err(error) = write(&mut file) {
        drop(file);
        let _ = fs::remove_file(&temporary);
        return Err(error);
    }
    file.sync_all().map_err(failed(&temporary))?;
    drop(file);
    fs::rename(&temporary, path).map_err(failed(path))?;
    // The rename is durable only once the folder's entry is on disk.
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|dir_handle| dir_handle.sync_all())
        .map_err(failed(dir))?;
    Ok(())
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
