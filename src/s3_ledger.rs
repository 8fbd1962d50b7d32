//! `--ledger s3://BUCKET/PREFIX`: the ledger lives on S3 in the same layout as on disk, so a team
//! shares one ledger and Athena reads it where it is. A command works on a local mirror: it is
//! pulled before the command (only objects whose ETag changed are downloaded; `experiments` first,
//! then the rest from a second listing, so a copy taken while a writer pushes never holds an
//! experiment without its rows), and after a command
//! that writes, the files it changed are pushed back in the ledger's write order (the marker, the
//! child tables, `experiments` last), one atomic PutObject each, so a reader of the bucket never
//! sees an experiment without its rows. One writer at a time: a writer first creates
//! `PREFIX/.checkup-writer` with a conditional PutObject (If-None-Match), and deletes it at the end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

use crate::aws::{AwsError, aws_error, error_code, get_object_bytes};
use crate::ledger::Table;
use crate::publish::S3Location;

/// The object that marks a writer at work.
pub const WRITER_OBJECT: &str = ".checkup-writer";

#[derive(Debug, thiserror::Error)]
pub enum S3LedgerError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error(transparent)]
    Write(#[from] crate::atomic_file::WriteError),
    #[error("cannot use the local mirror {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "uploaded {uploaded} of {changed} changed ledger files to s3://{bucket}/{prefix}; these were not uploaded: {not_uploaded}. The bucket holds no experiment without its rows (experiments go last); run the command again to upload what is missing"
    )]
    PushIncomplete {
        bucket: String,
        prefix: String,
        uploaded: usize,
        changed: usize,
        /// The keys not uploaded, the failed one first.
        not_uploaded: String,
        source: AwsError,
    },
    #[error(
        "the ledger s3://{bucket}/{prefix} is being written by another checkup ({holder}); if that run died, `checkup --ledger s3://{bucket}/{prefix} ledger unlock` removes its mark ({key}) once it is old enough"
    )]
    Busy {
        bucket: String,
        prefix: String,
        key: String,
        holder: String,
    },
}

type Result<T> = std::result::Result<T, S3LedgerError>;

/// The writer's mark of a ledger on S3: who wrote it (`pid 123 since …`) and when S3 stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterMark {
    pub key: String,
    pub holder: String,
    /// S3's LastModified of the mark.
    pub since: Option<crate::vocab::time::Micros>,
    pub etag: Option<String>,
}

/// The ledger on S3 and its local mirror.
#[derive(Debug, Clone)]
pub struct S3Ledger {
    pub location: S3Location,
    /// The mirror folder, a ledger like any other.
    pub local: PathBuf,
    /// ETags and stamps of the mirrored objects, beside the mirror (a ledger folder holds only
    /// ledger files).
    manifest: PathBuf,
}

/// What the mirror held after a pull: each file's stamp, to find what a command changed.
pub type Pulled = BTreeMap<String, FileStamp>;

/// A mirror file's identity on disk: the ledger replaces a partition by renaming a new file over
/// it, which always changes the inode, so a changed file is found without reading any file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileStamp {
    len: u64,
    modified_ns: i128,
    inode: u64,
}

impl FileStamp {
    fn of(path: &Path) -> std::io::Result<FileStamp> {
        let metadata = std::fs::metadata(path)?;
        let modified_ns = metadata
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos() as i128);
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
        #[cfg(not(unix))]
        let inode = 0;
        Ok(FileStamp {
            len: metadata.len(),
            modified_ns,
            inode,
        })
    }
}

/// What the mirror knows of each object: its ETag on S3 and the stamp of the local copy made
/// from it. A local file whose stamp differs was changed by a command that never pushed (it was
/// killed, or failed); the next pull replaces it with the bucket's version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Mirrored {
    etag: String,
    stamp: FileStamp,
}

impl S3Ledger {
    /// A ledger at `location` mirrored under `cache` (`cache/BUCKET/PREFIX/ledger`).
    pub fn new(location: S3Location, cache: &Path) -> S3Ledger {
        let base = cache
            .join(&location.bucket)
            .join(if location.prefix.is_empty() {
                "_root"
            } else {
                location.prefix.as_str()
            });
        S3Ledger {
            local: base.join("ledger"),
            manifest: base.join("etags.json"),
            location,
        }
    }

    fn key(&self, relative: &str) -> String {
        if self.location.prefix.is_empty() {
            relative.to_string()
        } else {
            format!("{}/{relative}", self.location.prefix)
        }
    }

    fn io(&self, path: &Path) -> impl Fn(std::io::Error) -> S3LedgerError {
        let path = path.to_path_buf();
        move |source| S3LedgerError::Io {
            path: path.clone(),
            source,
        }
    }

    /// The manifest; unreadable (or from an older checkup) means nothing is trusted and the next
    /// pull downloads everything.
    fn read_manifest(&self) -> BTreeMap<String, Mirrored> {
        std::fs::read(&self.manifest)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Written like a ledger file, so a killed process leaves the old manifest or the new one.
    fn write_manifest(&self, mirrored: &BTreeMap<String, Mirrored>) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(mirrored).expect("strings and numbers serialize");
        crate::atomic_file::write_bytes(&self.manifest, &bytes).map_err(|error| S3LedgerError::Io {
            path: error.path,
            source: error.source,
        })
    }

    fn stamp(&self, relative: &str) -> Result<FileStamp> {
        let path = self.local.join(relative);
        FileStamp::of(&path).map_err(self.io(&path))
    }

    /// Brings the mirror up to date with the bucket.
    pub async fn pull(&self, client: &Client) -> Result<Pulled> {
        std::fs::create_dir_all(&self.local).map_err(self.io(&self.local))?;
        let mut mirrored = self.read_manifest();
        // Experiments first, then everything else from a second listing: a writer uploads an
        // experiment's rows before the experiment, so every experiment of the copy downloaded
        // first finds its rows in what the second listing shows (a reader never gets an
        // experiment without its rows, even while a writer is pushing).
        let first = self.list(client).await?;
        for (relative, etag) in first.iter().filter(|(r, _)| is_experiments(r)) {
            self.fetch(client, relative, etag, &mut mirrored).await?;
        }
        let second = self.list(client).await?;
        let mut rest: Vec<(&String, &String)> =
            second.iter().filter(|(r, _)| !is_experiments(r)).collect();
        // The reverse of the write order: a table is fetched after the tables written after it.
        rest.sort_by_key(|(relative, _)| std::cmp::Reverse(write_rank(relative)));
        for (relative, etag) in rest {
            self.fetch(client, relative, etag, &mut mirrored).await?;
        }
        // What this copy holds: the experiments of the first listing, the rest of the second.
        let remote: BTreeMap<&String, &String> = first
            .iter()
            .filter(|(r, _)| is_experiments(r))
            .chain(second.iter().filter(|(r, _)| !is_experiments(r)))
            .collect();
        // Files the bucket no longer has (a user may have removed a partition).
        for relative in local_files(&self.local)? {
            if !remote.contains_key(&relative) {
                let path = self.local.join(&relative);
                std::fs::remove_file(&path).map_err(self.io(&path))?;
            }
        }
        mirrored.retain(|relative, _| remote.contains_key(relative));
        self.write_manifest(&mirrored)?;
        Ok(mirrored
            .into_iter()
            .map(|(relative, known)| (relative, known.stamp))
            .collect())
    }

    /// The ledger's objects in the bucket (relative key → ETag), hidden names left out.
    async fn list(&self, client: &Client) -> Result<BTreeMap<String, String>> {
        let url = format!("s3://{}/{}", self.location.bucket, self.location.prefix);
        let prefix = self.key("");
        let mut remote: BTreeMap<String, String> = BTreeMap::new();
        let mut pages = client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("S3", "ListObjectsV2", &url, e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                let relative = key.strip_prefix(&prefix).unwrap_or(key);
                // Hidden names are work in progress or the writer's mark, never ledger data.
                if relative.is_empty() || relative.split('/').any(|part| part.starts_with('.')) {
                    continue;
                }
                remote.insert(
                    relative.to_string(),
                    object.e_tag().unwrap_or_default().to_string(),
                );
            }
        }
        Ok(remote)
    }

    /// Downloads one object unless the mirror already holds that version untouched.
    async fn fetch(
        &self,
        client: &Client,
        relative: &str,
        etag: &str,
        mirrored: &mut BTreeMap<String, Mirrored>,
    ) -> Result<()> {
        let path = self.local.join(relative);
        let unchanged = mirrored.get(relative).is_some_and(|known| {
            known.etag == etag && FileStamp::of(&path).ok() == Some(known.stamp)
        });
        if unchanged {
            return Ok(());
        }
        let key = self.key(relative);
        let bytes = get_object_bytes(client, &self.location.bucket, &key).await?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(self.io(dir))?;
        }
        // Whole or not at all: a full disk leaves no cut file in the mirror.
        crate::atomic_file::write_bytes(&path, &bytes)?;
        mirrored.insert(
            relative.to_string(),
            Mirrored {
                etag: etag.to_string(),
                stamp: self.stamp(relative)?,
            },
        );
        Ok(())
    }

    /// Uploads what the command changed since `pulled`, in the ledger's write order. Returns how
    /// many files were uploaded.
    pub async fn push(&self, client: &Client, pulled: &Pulled) -> Result<usize> {
        let mut changed = Vec::new();
        for relative in local_files(&self.local)? {
            let stamp = self.stamp(&relative)?;
            if pulled.get(&relative) != Some(&stamp) {
                let path = self.local.join(&relative);
                let bytes = std::fs::read(&path).map_err(self.io(&path))?;
                changed.push((relative, bytes, stamp));
            }
        }
        // The marker first, then the tables children first and experiments last.
        changed.sort_by(|a, b| (write_rank(&a.0), &a.0).cmp(&(write_rank(&b.0), &b.0)));
        let mut mirrored = self.read_manifest();
        for (uploaded, (relative, bytes, stamp)) in changed.iter().enumerate() {
            let key = self.key(relative);
            let output = client
                .put_object()
                .bucket(&self.location.bucket)
                .key(&key)
                .content_type(if relative.ends_with(".parquet") {
                    "application/vnd.apache.parquet"
                } else {
                    "application/json"
                })
                .body(ByteStream::from(bytes.clone()))
                .send()
                .await
                .map_err(|e| {
                    // Retries ran out: say what is missing, in write order.
                    let not_uploaded: Vec<String> = changed[uploaded..]
                        .iter()
                        .map(|(relative, ..)| self.key(relative))
                        .collect();
                    S3LedgerError::PushIncomplete {
                        bucket: self.location.bucket.clone(),
                        prefix: self.location.prefix.clone(),
                        uploaded,
                        changed: changed.len(),
                        not_uploaded: not_uploaded.join(", "),
                        source: aws_error(
                            "S3",
                            "PutObject",
                            format!("s3://{}/{key}", self.location.bucket),
                            e,
                        ),
                    }
                })?;
            mirrored.insert(
                relative.clone(),
                Mirrored {
                    etag: output.e_tag().unwrap_or_default().to_string(),
                    stamp: *stamp,
                },
            );
            // After each object, so a push cut short is not pushed again in full.
            self.write_manifest(&mirrored)?;
        }
        Ok(changed.len())
    }

    /// Marks this process as the one writer, or says who is.
    pub async fn claim(&self, client: &Client, holder: &str) -> Result<()> {
        let key = self.key(WRITER_OBJECT);
        let result = client
            .put_object()
            .bucket(&self.location.bucket)
            .key(&key)
            .if_none_match("*")
            .body(ByteStream::from(holder.as_bytes().to_vec()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if matches!(
                    error_code(&error),
                    Some("PreconditionFailed" | "ConditionalRequestConflict")
                ) || error
                    .raw_response()
                    .is_some_and(|r| r.status().as_u16() == 412) =>
            {
                let holder = get_object_bytes(client, &self.location.bucket, &key)
                    .await
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                    .unwrap_or_else(|_| "unknown".to_string());
                Err(S3LedgerError::Busy {
                    bucket: self.location.bucket.clone(),
                    prefix: self.location.prefix.clone(),
                    key,
                    holder,
                })
            }
            Err(error) => Err(aws_error(
                "S3",
                "PutObject",
                format!("s3://{}/{key}", self.location.bucket),
                error,
            )
            .into()),
        }
    }

    /// The writer's mark as the bucket holds it, or `None` when no writer holds the ledger.
    pub async fn writer_mark(&self, client: &Client) -> Result<Option<WriterMark>> {
        let key = self.key(WRITER_OBJECT);
        let url = format!("s3://{}/{key}", self.location.bucket);
        let answer = client
            .get_object()
            .bucket(&self.location.bucket)
            .key(&key)
            .send()
            .await;
        let object = match answer {
            Ok(object) => object,
            Err(error) if matches!(error_code(&error), Some("NoSuchKey")) => return Ok(None),
            Err(error) => return Err(aws_error("S3", "GetObject", &url, error).into()),
        };
        let since = object.last_modified().map(crate::aws::micros_of);
        let etag = object.e_tag().map(str::to_string);
        let body = object.body.collect().await.map_err(|e| AwsError::Call {
            service: "S3",
            operation: "GetObject",
            context: url.clone(),
            message: e.to_string(),
        })?;
        Ok(Some(WriterMark {
            key,
            holder: String::from_utf8_lossy(&body.into_bytes()).into_owned(),
            since,
            etag,
        }))
    }

    /// Removes a dead writer's mark, only if it is still the one read (DeleteObject with
    /// If-Match on its ETag): a writer that claimed the ledger in between keeps its mark.
    /// Returns `false` when the mark changed.
    pub async fn remove_mark(&self, client: &Client, mark: &WriterMark) -> Result<bool> {
        let mut request = client
            .delete_object()
            .bucket(&self.location.bucket)
            .key(&mark.key);
        if let Some(etag) = &mark.etag {
            request = request.if_match(etag);
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(error)
                if matches!(error_code(&error), Some("PreconditionFailed"))
                    || error
                        .raw_response()
                        .is_some_and(|r| r.status().as_u16() == 412) =>
            {
                Ok(false)
            }
            Err(error) => Err(aws_error(
                "S3",
                "DeleteObject",
                format!("s3://{}/{}", self.location.bucket, mark.key),
                error,
            )
            .into()),
        }
    }

    /// Removes this writer's mark.
    pub async fn release(&self, client: &Client) -> Result<()> {
        let key = self.key(WRITER_OBJECT);
        client
            .delete_object()
            .bucket(&self.location.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    "S3",
                    "DeleteObject",
                    format!("s3://{}/{key}", self.location.bucket),
                    e,
                )
            })?;
        Ok(())
    }
}

/// Where a file comes in the ledger's write order: the marker (0), then the tables children first
/// and experiments last.
fn write_rank(relative: &str) -> usize {
    let first = relative.split('/').next().unwrap_or_default();
    Table::ALL
        .iter()
        .position(|t| t.name() == first)
        .map_or(0, |position| position + 1)
}

fn is_experiments(relative: &str) -> bool {
    relative.starts_with("experiments/")
}

/// The ledger files under `root`, as `/`-separated relative paths, hidden ones (the local lock,
/// a writer's temporary files) left out.
fn local_files(root: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|source| S3LedgerError::Io {
            path: folder.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| S3LedgerError::Io {
                path: folder.clone(),
                source,
            })?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                folders.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                files.push(
                    relative
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
        }
    }
    files.sort();
    Ok(files)
}
