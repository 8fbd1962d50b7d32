//! `checkup report --publish s3://BUCKET/PREFIX`: uploads every report file written (with `--site`,
//! the whole site), with its content type, through a client that may only send S3 PutObject.

use std::path::{Path, PathBuf};

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

use crate::aws::{AwsError, aws_error};

/// Where reports go: a bucket and a key prefix (without leading or trailing `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
}

impl S3Location {
    /// Parses `s3://bucket/prefix`.
    pub fn parse(text: &str) -> Result<S3Location, String> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| format!("`{text}` is not an S3 URL (s3://BUCKET/PREFIX)"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !valid_bucket {
            return Err(format!(
                "`{bucket}` is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)"
            ));
        }
        Ok(S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    /// The key of a file published here: its path under `root` (`2026Q3/quarterly.html` for a
    /// site), with `/` between folders whatever the platform.
    pub fn key_of(&self, root: &Path, file: &Path) -> String {
        let relative = file.strip_prefix(root).unwrap_or(file);
        let name = if relative == file {
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        };
        if self.prefix.is_empty() {
            name
        } else {
            format!("{}/{name}", self.prefix)
        }
    }
}

/// The content type a browser or a pipeline needs for each report file.
pub fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("pdf") => "application/pdf",
        Some("json") => "application/json",
        Some("xml") => "application/xml",
        Some("csv") => "text/csv; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A publication cut short: what was uploaded, what was not, and why.
#[derive(Debug, thiserror::Error)]
#[error("published {published} of {total} files; not published: {not_published}")]
pub struct PublishError {
    pub published: usize,
    pub total: usize,
    /// The `s3://` URLs not published, the failed one first.
    pub not_published: String,
    #[source]
    pub source: AwsError,
}

/// Uploads `files` (each keyed by its path under `root`); returns the `s3://` URL of each
/// object, in order.
pub async fn publish(
    client: &Client,
    location: &S3Location,
    root: &Path,
    files: &[PathBuf],
) -> Result<Vec<String>, PublishError> {
    let url_of =
        |file: &PathBuf| format!("s3://{}/{}", location.bucket, location.key_of(root, file));
    let mut urls = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let url = url_of(file);
        let cut_short = |source: AwsError| PublishError {
            published: index,
            total: files.len(),
            not_published: files[index..]
                .iter()
                .map(url_of)
                .collect::<Vec<_>>()
                .join(", "),
            source,
        };
        let body = std::fs::read(file).map(ByteStream::from).map_err(|e| {
            cut_short(AwsError::Call {
                service: "S3",
                operation: "PutObject",
                context: url.clone(),
                message: format!("cannot read {}: {e}", file.display()),
            })
        })?;
        client
            .put_object()
            .bucket(&location.bucket)
            .key(location.key_of(root, file))
            .content_type(content_type(file))
            .body(body)
            .send()
            .await
            .map_err(|e| cut_short(aws_error("S3", "PutObject", &url, e)))?;
        urls.push(url);
    }
    Ok(urls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_name_a_bucket_and_a_prefix() {
        let location = S3Location::parse("s3://chaos-reports/teams/payments/").unwrap();
        assert_eq!(location.bucket, "chaos-reports");
        assert_eq!(
            location.key_of(Path::new("/tmp/out"), Path::new("/tmp/out/quarterly.html")),
            "teams/payments/quarterly.html"
        );
        assert_eq!(
            location.key_of(
                Path::new("/tmp/site"),
                Path::new("/tmp/site/2026Q3/quarterly.html")
            ),
            "teams/payments/2026Q3/quarterly.html"
        );
        assert_eq!(
            S3Location::parse("s3://chaos-reports")
                .unwrap()
                .key_of(Path::new("reports"), Path::new("report.json")),
            "report.json"
        );
        assert!(S3Location::parse("https://example.com/x").is_err());
        assert!(S3Location::parse("s3://Bad_Bucket/x").is_err());
        assert_eq!(content_type(Path::new("executive.pdf")), "application/pdf");
    }
}
