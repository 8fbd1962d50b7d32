//! What every AWS source shares: the SDK configuration (credential chain, profile, region,
//! endpoints, retries), the read-only guard that records every operation sent, and errors that
//! say what to do about them.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::DateTime;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::vocab::time::{MICROS_PER_SECOND, Micros};

/// An AWS timestamp (every SDK crate's `primitives::DateTime`) as our microseconds.
pub fn micros_of(time: &DateTime) -> Micros {
    time.secs() * MICROS_PER_SECOND + i64::from(time.subsec_nanos()) / 1_000
}

/// Our microseconds as an AWS timestamp.
pub fn date_time_of(ts: Micros) -> DateTime {
    DateTime::from_secs_and_nanos(
        ts.div_euclid(MICROS_PER_SECOND),
        (ts.rem_euclid(MICROS_PER_SECOND) * 1_000) as u32,
    )
}

/// One AWS operation checkup may send and the IAM action that allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedOperation {
    /// The SDK's service name (`fis`, `CloudWatch`, `S3`).
    pub service: &'static str,
    pub operation: &'static str,
    pub iam_action: &'static str,
}

// The S3 operations several commands share.
const S3_LIST: AllowedOperation = AllowedOperation {
    service: "S3",
    operation: "ListObjectsV2",
    iam_action: "s3:ListBucket",
};
const S3_GET: AllowedOperation = AllowedOperation {
    service: "S3",
    operation: "GetObject",
    iam_action: "s3:GetObject",
};
const S3_PUT: AllowedOperation = AllowedOperation {
    service: "S3",
    operation: "PutObject",
    iam_action: "s3:PutObject",
};

/// Every operation the engine may send: FIS and CloudWatch are only read (SPEC section 4). The
/// README's least-privilege IAM policy lists exactly these actions (a test compares the two), and
/// [`OperationGuard`] refuses any other operation before it leaves the process.
pub const READ_OPERATIONS: &[AllowedOperation] = &[
    AllowedOperation {
        service: "fis",
        operation: "ListExperimentTemplates",
        iam_action: "fis:ListExperimentTemplates",
    },
    AllowedOperation {
        service: "fis",
        operation: "ListExperiments",
        iam_action: "fis:ListExperiments",
    },
    AllowedOperation {
        service: "fis",
        operation: "GetExperiment",
        iam_action: "fis:GetExperiment",
    },
    AllowedOperation {
        service: "fis",
        operation: "GetExperimentTemplate",
        iam_action: "fis:GetExperimentTemplate",
    },
    AllowedOperation {
        service: "fis",
        operation: "ListExperimentResolvedTargets",
        iam_action: "fis:ListExperimentResolvedTargets",
    },
    AllowedOperation {
        service: "CloudWatch",
        operation: "GetMetricData",
        iam_action: "cloudwatch:GetMetricData",
    },
    AllowedOperation {
        service: "CloudWatch",
        operation: "DescribeAlarms",
        iam_action: "cloudwatch:DescribeAlarms",
    },
    AllowedOperation {
        service: "CloudWatch",
        operation: "DescribeAlarmHistory",
        iam_action: "cloudwatch:DescribeAlarmHistory",
    },
    AllowedOperation {
        service: "CloudWatch",
        operation: "GetDashboard",
        iam_action: "cloudwatch:GetDashboard",
    },
    S3_LIST,
    S3_GET,
];

/// What `report --publish` may send: report files written to S3, nothing else.
pub const PUBLISH_OPERATIONS: &[AllowedOperation] = &[S3_PUT];

/// What a command on an S3 ledger (`--ledger s3://…`) may send: its mirror is listed and read,
/// changed files are put, and the writer's mark is created and deleted.
pub const LEDGER_OPERATIONS: &[AllowedOperation] = &[
    S3_LIST,
    S3_GET,
    S3_PUT,
    AllowedOperation {
        service: "S3",
        operation: "DeleteObject",
        iam_action: "s3:DeleteObject",
    },
];

fn find(allowed: &[AllowedOperation], service: &str, operation: &str) -> Option<&'static str> {
    allowed
        .iter()
        .find(|o| o.service.eq_ignore_ascii_case(service) && o.operation == operation)
        .map(|o| o.iam_action)
}

/// The IAM action that allows an operation, when it is one checkup may send.
pub fn iam_action(service: &str, operation: &str) -> Option<&'static str> {
    [READ_OPERATIONS, PUBLISH_OPERATIONS, LEDGER_OPERATIONS]
        .into_iter()
        .find_map(|allowed| find(allowed, service, operation))
}

/// The operations sent so far, in order (`CloudWatch GetMetricData`), shared by every client of
/// one ingest.
#[derive(Debug, Clone, Default)]
pub struct OperationLog(Arc<Mutex<Vec<String>>>);

impl OperationLog {
    pub fn entries(&self) -> Vec<String> {
        self.0.lock().map(|log| log.clone()).unwrap_or_default()
    }

    /// How many times one operation was sent (each page of a paginated call counts).
    pub fn count(&self, operation: &str) -> usize {
        self.entries()
            .iter()
            .filter(|entry| entry.rsplit(' ').next() == Some(operation))
            .count()
    }

    fn push(&self, entry: String) {
        if let Ok(mut log) = self.0.lock() {
            log.push(entry);
        }
    }
}

/// Records every operation a client sends and refuses any that is not allowed: ingest clients
/// only read ([`READ_OPERATIONS`]), publishing clients only put report files
/// ([`PUBLISH_OPERATIONS`]), so a bug can never start, stop or change anything in the account.
#[derive(Debug, Clone)]
pub struct OperationGuard {
    pub log: OperationLog,
    /// Print each operation on stderr (`checkup -v`).
    pub verbose: bool,
    pub allowed: &'static [AllowedOperation],
}

impl OperationGuard {
    /// For ingest: FIS, CloudWatch and S3 are only read.
    pub fn reading(verbose: bool) -> OperationGuard {
        OperationGuard {
            log: OperationLog::default(),
            verbose,
            allowed: READ_OPERATIONS,
        }
    }

    /// For a ledger on S3: its objects are listed, read and written.
    pub fn ledger(verbose: bool) -> OperationGuard {
        OperationGuard {
            log: OperationLog::default(),
            verbose,
            allowed: LEDGER_OPERATIONS,
        }
    }

    /// For `report --publish`: report files are put into S3.
    pub fn publishing(verbose: bool) -> OperationGuard {
        OperationGuard {
            log: OperationLog::default(),
            verbose,
            allowed: PUBLISH_OPERATIONS,
        }
    }
}

impl Intercept for OperationGuard {
    fn name(&self) -> &'static str {
        "checkup::OperationGuard"
    }

    // Before serialization (not before execution): the operation's metadata is in the
    // configuration only once the operation's own layer is applied.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_else(|| ("unknown".to_string(), "unknown".to_string()));
        let entry = format!("{service} {operation}");
        if self.verbose {
            eprintln!("aws: {entry}");
        }
        self.log.push(entry);
        if find(self.allowed, &service, &operation).is_none() {
            let allowed: Vec<String> = self
                .allowed
                .iter()
                .map(|o| format!("{} {}", o.service, o.operation))
                .collect();
            return Err(format!(
                "checkup refuses to send {service} {operation}: this command may only send {}",
                allowed.join(", ")
            )
            .into());
        }
        Ok(())
    }
}

/// Retries for throttling, 5xx answers and dropped connections: the SDK's standard mode
/// (exponential backoff with full jitter), 5 attempts with backoff up to 10 s, so a burst of
/// throttling is ridden out while a wrong endpoint fails within seconds (with 8 attempts and 30 s,
/// a refused connection took 50 s to report). Not adaptive mode: its client-side rate limiter
/// helps many concurrent callers share a quota, but checkup sends one request at a time, and after
/// a few throttles the limiter held 5 requests for 65 s in tests/it/aws_errors.rs (standard mode:
/// 0.02 s with the same answers).
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(5)
        .with_max_backoff(Duration::from_secs(10))
}

/// How long one attempt of an AWS call may wait for its answer by default (`--aws-attempt-timeout`).
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// A connection that does not open in 10 s, or an attempt not answered in `attempt_timeout`, fails
/// and is retried: an endpoint that hangs must not hang an ingest (the SDK sets no attempt timeout).
pub fn timeout_config(attempt_timeout: Duration) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(attempt_timeout)
        .build()
}

/// Where to read: one profile and region of `--profile` × `--region`.
#[derive(Debug, Clone)]
pub struct AwsTarget {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// `--endpoint-url`; the SDK itself honours `AWS_ENDPOINT_URL` and the service-specific
    /// `AWS_ENDPOINT_URL_FIS`, `AWS_ENDPOINT_URL_CLOUDWATCH`, `AWS_ENDPOINT_URL_S3`.
    pub endpoint_url: Option<String>,
    /// S3 is served at a custom endpoint (`--endpoint-url`, `AWS_ENDPOINT_URL_S3` or
    /// `AWS_ENDPOINT_URL`): address buckets by path, which loopback stand-ins and bucket names
    /// with dots need.
    pub s3_path_style: bool,
    /// How long one attempt may wait for its answer before it is retried.
    pub attempt_timeout: Duration,
}

impl Default for AwsTarget {
    fn default() -> Self {
        AwsTarget {
            profile: None,
            region: None,
            endpoint_url: None,
            s3_path_style: false,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
        }
    }
}

/// The three clients of one target, each with the guard and the retry configuration.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub fis: aws_sdk_fis::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub s3: aws_sdk_s3::Client,
    pub region: Option<String>,
}

/// Loads the SDK configuration the way the AWS CLI does (credential chain, `AWS_PROFILE`,
/// `AWS_REGION`, endpoint variables) and builds the clients.
pub async fn clients(target: &AwsTarget, guard: &OperationGuard) -> AwsClients {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(timeout_config(target.attempt_timeout));
    if let Some(region) = &target.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &target.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &target.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let sdk = loader.load().await;
    let fis = aws_sdk_fis::Client::from_conf(
        aws_sdk_fis::config::Builder::from(&sdk)
            .interceptor(guard.clone())
            .build(),
    );
    let cloudwatch = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::config::Builder::from(&sdk)
            .interceptor(guard.clone())
            .build(),
    );
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .interceptor(guard.clone())
            .force_path_style(target.s3_path_style)
            .build(),
    );
    AwsClients {
        fis,
        cloudwatch,
        s3,
        region: sdk.region().map(|r| r.to_string()),
    }
}

/// An AWS call that failed, said so that the reader knows what to do.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error(
        "access denied: {service} {operation} ({context}) needs the IAM action {iam_action}, which the credentials lack; grant it (README: least-privilege IAM policy). AWS said: {message}"
    )]
    AccessDenied {
        service: &'static str,
        operation: &'static str,
        iam_action: &'static str,
        context: String,
        message: String,
    },
    #[error(
        "the AWS credentials have expired ({code} at {service} {operation}); refresh them (for example `aws sso login` or new session keys) and run the ingest again"
    )]
    ExpiredCredentials {
        service: &'static str,
        operation: &'static str,
        code: String,
    },
    #[error(
        "AWS rejected the credentials ({code} at {service} {operation}): check the access key, the profile and the region. AWS said: {message}"
    )]
    RejectedCredentials {
        service: &'static str,
        operation: &'static str,
        code: String,
        message: String,
    },
    /// The SDK's whole error chain: "dispatch failure" alone would hide the cause (an endpoint
    /// that refuses connections, missing credentials).
    #[error("{service} {operation} failed ({context}): {message}")]
    Call {
        service: &'static str,
        operation: &'static str,
        context: String,
        message: String,
    },
}

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
];
const EXPIRED: &[&str] = &["ExpiredToken", "ExpiredTokenException", "RequestExpired"];
const REJECTED: &[&str] = &[
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
];

/// Turns an SDK error into an [`AwsError`]; `context` names what was being read (an experiment,
/// an alarm, a bucket).
pub fn aws_error<E, R>(
    service: &'static str,
    operation: &'static str,
    context: impl fmt::Display,
    error: SdkError<E, R>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let code = error.code().map(str::to_string);
    let message = error.message().unwrap_or_default().to_string();
    let context = context.to_string();
    match code.as_deref() {
        Some(code) if ACCESS_DENIED.contains(&code) => AwsError::AccessDenied {
            service,
            operation,
            iam_action: iam_action(service, operation)
                .unwrap_or("(not an operation checkup sends)"),
            context,
            message,
        },
        Some(code) if EXPIRED.contains(&code) => AwsError::ExpiredCredentials {
            service,
            operation,
            code: code.to_string(),
        },
        Some(code) if REJECTED.contains(&code) => AwsError::RejectedCredentials {
            service,
            operation,
            code: code.to_string(),
            message,
        },
        _ => AwsError::Call {
            service,
            operation,
            context,
            message: aws_sdk_fis::error::DisplayErrorContext(&error).to_string(),
        },
    }
}

/// The whole body of one S3 object.
pub async fn get_object_bytes(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Vec<u8>, AwsError> {
    let url = format!("s3://{bucket}/{key}");
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| aws_error("S3", "GetObject", &url, e))?;
    let body = object.body.collect().await.map_err(|e| AwsError::Call {
        service: "S3",
        operation: "GetObject",
        context: url,
        message: e.to_string(),
    })?;
    Ok(body.into_bytes().to_vec())
}

/// The error code of a service answer, for callers that treat one code as data (a missing
/// dashboard is a warning, not a failure).
pub fn error_code<E, R>(error: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_names_its_iam_action_and_only_reads() {
        for operation in READ_OPERATIONS {
            let verb = operation.operation;
            assert!(
                ["List", "Get", "Describe"]
                    .iter()
                    .any(|prefix| verb.starts_with(prefix)),
                "{verb} is not a read"
            );
            assert_eq!(
                iam_action(&operation.service.to_lowercase(), verb),
                Some(operation.iam_action)
            );
        }
        assert_eq!(iam_action("fis", "StartExperiment"), None);
        assert_eq!(iam_action("CloudWatch", "PutMetricAlarm"), None);
    }
}
