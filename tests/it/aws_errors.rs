//! What the stand-ins cannot produce, through the real SDK clients with replayed answers
//! (aws-smithy-mocks): throttling and 5xx answers, NextToken pages of GetMetricData, `state.error`,
//! access denied, expired credentials, and an operation outside the read-only list.

use std::time::Duration;

use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsError;
use aws_sdk_cloudwatch::operation::get_metric_data::{GetMetricDataError, GetMetricDataOutput};
use aws_sdk_cloudwatch::types::{MetricDataResult, StatusCode};
use aws_sdk_fis::error::ErrorMetadata;
use aws_sdk_fis::operation::get_experiment::{GetExperimentError, GetExperimentOutput};
use aws_sdk_fis::operation::list_experiment_resolved_targets::{
    ListExperimentResolvedTargetsError, ListExperimentResolvedTargetsOutput,
};
use aws_sdk_fis::operation::list_experiment_templates::ListExperimentTemplatesOutput;
use aws_sdk_fis::operation::list_experiments::{ListExperimentsError, ListExperimentsOutput};
use aws_sdk_fis::operation::start_experiment::StartExperimentOutput;
use aws_sdk_fis::primitives::DateTime;
use aws_sdk_fis::types::{
    Experiment, ExperimentAction, ExperimentError, ExperimentState, ExperimentStatus,
    ExperimentSummary, ExperimentTemplateSummary, ResolvedTarget,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};

use checkup::aws::{OperationGuard, retry_config};
use checkup::config::Config;
use checkup::ingest::cloudwatch::{self, MetricKey, MetricRequest};
use checkup::ingest::fis::{self, FisQuery};

fn error(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn guard() -> OperationGuard {
    OperationGuard::reading(false)
}

fn query() -> FisQuery {
    FisQuery {
        since: None,
        until: None,
        holdings: Default::default(),
        concurrency: 4,
        account_id: None,
        region: Some("eu-west-1".to_string()),
        tag_keys: Config::default().tags,
        ingested_at: 1_795_000_000_000_000,
    }
}

/// Our retry configuration, with millisecond backoff so the test does not sleep.
fn fast_retries() -> aws_config::retry::RetryConfig {
    retry_config().with_initial_backoff(Duration::from_millis(1))
}

fn failed_experiment() -> Experiment {
    Experiment::builder()
        .id("EXP1")
        .arn("arn:aws:fis:eu-west-1:123456789012:experiment/EXP1")
        .experiment_template_id("EXT1")
        .creation_time(DateTime::from_secs(1_795_000_000))
        .start_time(DateTime::from_secs(1_795_000_000))
        .end_time(DateTime::from_secs(1_795_000_300))
        .state(
            ExperimentState::builder()
                .status(ExperimentStatus::Failed)
                .reason("Experiment failed.")
                .error(
                    ExperimentError::builder()
                        .code("ConfigurationFailure")
                        .location("action:inject")
                        .account_id("210987654321")
                        .build(),
                )
                .build(),
        )
        .actions(
            "inject",
            ExperimentAction::builder()
                .action_id("aws:ec2:stop-instances")
                .start_time(DateTime::from_secs(1_795_000_010))
                .build(),
        )
        .build()
}

/// The FIS history read through a client whose answers are throttled `throttles` times and
/// fail with a 503 `unavailable` times before they succeed.
fn read_fis(throttles: usize, unavailable: usize) -> (checkup::ingest::fis::FisHistory, usize) {
    let templates = mock!(aws_sdk_fis::Client::list_experiment_templates).then_output(|| {
        ListExperimentTemplatesOutput::builder()
            .experiment_templates(
                ExperimentTemplateSummary::builder()
                    .id("EXT1")
                    .tags("Name", "web-stop")
                    .tags("team", "platform")
                    .build(),
            )
            .build()
    });
    let mut list = mock!(aws_sdk_fis::Client::list_experiments).sequence();
    for _ in 0..throttles {
        list = list
            .error(|| ListExperimentsError::generic(error("ThrottlingException", "Rate exceeded")));
    }
    let list = list
        .output(|| {
            ListExperimentsOutput::builder()
                .experiments(
                    ExperimentSummary::builder()
                        .id("EXP1")
                        .creation_time(DateTime::from_secs(1_795_000_000))
                        .build(),
                )
                .build()
        })
        .build();
    let mut get = mock!(aws_sdk_fis::Client::get_experiment).sequence();
    for _ in 0..unavailable {
        get = get.http_status(503, None);
    }
    let get = get
        .output(|| {
            GetExperimentOutput::builder()
                .experiment(failed_experiment())
                .build()
        })
        .build();
    // Two pages of resolved targets: 2 instances, then 1.
    let instance = |n: u32| {
        ResolvedTarget::builder()
            .resource_type("aws:ec2:instance")
            .target_name("Instances")
            .target_information(
                "arn",
                format!("arn:aws:ec2:eu-west-1:123456789012:instance/i-{n}"),
            )
            .build()
    };
    let resolved = mock!(aws_sdk_fis::Client::list_experiment_resolved_targets)
        .sequence()
        .output(move || {
            ListExperimentResolvedTargetsOutput::builder()
                .resolved_targets(instance(1))
                .resolved_targets(instance(2))
                .next_token("page-2")
                .build()
        })
        .output(move || {
            ListExperimentResolvedTargetsOutput::builder()
                .resolved_targets(instance(3))
                .build()
        })
        .build();
    let client = mock_client!(
        aws_sdk_fis,
        RuleMode::MatchAny,
        [&templates, &list, &get, &resolved],
        |c| c.retry_config(fast_retries())
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let history = runtime.block_on(async {
        let ids = fis::list_experiment_ids(&client, &query()).await.unwrap();
        fis::read_history(&client, &query(), &ids, || {})
            .await
            .unwrap()
    });
    (history, list.num_calls() + get.num_calls())
}

#[test]
fn throttling_and_5xx_answers_are_retried_and_change_nothing() {
    let (calm, calm_calls) = read_fis(0, 0);
    let (stormy, stormy_calls) = read_fis(3, 2);
    assert_eq!(calm_calls, 2);
    assert_eq!(
        stormy_calls, 7,
        "3 throttled lists and 2 unavailable gets were retried"
    );
    assert_eq!(stormy.experiments, calm.experiments);
    assert_eq!(stormy.actions, calm.actions);

    // `state.error` says why the run failed.
    let experiment = &calm.experiments[0];
    assert_eq!(experiment.status, checkup::vocab::Status::Failed);
    assert_eq!(
        experiment.status_reason.as_deref(),
        Some(
            "Experiment failed. (error ConfigurationFailure at action:inject in account 210987654321)"
        )
    );
    assert_eq!(experiment.template_name.as_deref(), Some("web-stop"));
    assert_eq!(experiment.team.as_deref(), Some("platform"));
    // Both pages of resolved targets are counted.
    assert_eq!(experiment.resolved_targets, Some(3));
}

fn metric_page(id: &str, seconds: &[i64], token: Option<&str>) -> GetMetricDataOutput {
    let mut result = MetricDataResult::builder()
        .id(id)
        .status_code(if token.is_some() {
            StatusCode::PartialData
        } else {
            StatusCode::Complete
        });
    for s in seconds {
        result = result.timestamps(DateTime::from_secs(*s)).values(*s as f64);
    }
    GetMetricDataOutput::builder()
        .metric_data_results(result.build())
        .set_next_token(token.map(str::to_string))
        .build()
}

#[test]
fn metric_data_pages_are_followed_through_throttling() {
    let rule = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .sequence()
        .error(|| {
            GetMetricDataError::generic(
                aws_sdk_cloudwatch::error::ErrorMetadata::builder()
                    .code("Throttling")
                    .message("Rate exceeded")
                    .build(),
            )
        })
        .output(|| metric_page("m0", &[1_795_000_060, 1_795_000_000], Some("page-2")))
        .output(|| metric_page("m0", &[1_795_000_120], None))
        .build();
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::Sequential, [&rule], |c| c
        .retry_config(fast_retries()));
    let key = MetricKey {
        namespace: "AWS/ApplicationELB".to_string(),
        metric: "HealthyHostCount".to_string(),
        dimensions: Default::default(),
        stat: "Minimum".to_string(),
        period_s: 60,
    };
    let request = MetricRequest {
        start: 1_795_000_000_000_000,
        end: 1_795_000_180_000_000,
        metrics: vec![key.clone()],
    };
    let mut warnings = Vec::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fetched = runtime
        .block_on(cloudwatch::fetch_points(
            &client,
            &[request],
            cloudwatch::RequestPace::default(),
            &mut warnings,
            || {},
        ))
        .unwrap();
    assert_eq!(rule.num_calls(), 3);
    let seconds: Vec<i64> = fetched[&key].iter().map(|p| p.0 / 1_000_000).collect();
    assert_eq!(seconds, [1_795_000_000, 1_795_000_060, 1_795_000_120]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn access_denied_names_the_missing_iam_action() {
    let rule = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_error(|| {
        DescribeAlarmsError::generic(
            aws_sdk_cloudwatch::error::ErrorMetadata::builder()
                .code("AccessDenied")
                .message("User: arn:aws:sts::123456789012:assumed-role/reader/checkup is not authorized to perform: cloudwatch:DescribeAlarms")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_cloudwatch, [&rule]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let message = runtime
        .block_on(cloudwatch::describe_alarms(
            &client,
            &["pay-db-errors".to_string()],
            &mut Vec::new(),
        ))
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("access denied: CloudWatch DescribeAlarms (pay-db-errors) needs the IAM action cloudwatch:DescribeAlarms"),
        "{message}"
    );

    let rule = mock!(aws_sdk_fis::Client::get_experiment).then_error(|| {
        GetExperimentError::generic(error("AccessDeniedException", "not authorized"))
    });
    let templates = mock!(aws_sdk_fis::Client::list_experiment_templates)
        .then_output(|| ListExperimentTemplatesOutput::builder().build());
    let client = mock_client!(aws_sdk_fis, RuleMode::MatchAny, [&templates, &rule]);
    let message = runtime
        .block_on(fis::read_history(
            &client,
            &query(),
            &["EXP9".to_string()],
            || {},
        ))
        .unwrap_err()
        .to_string();
    assert!(
        message
            .contains("fis GetExperiment (experiment EXP9) needs the IAM action fis:GetExperiment"),
        "{message}"
    );

    // A policy written before checkup read resolved targets: the message names the action.
    let get = mock!(aws_sdk_fis::Client::get_experiment).then_output(|| {
        GetExperimentOutput::builder()
            .experiment(failed_experiment())
            .build()
    });
    let resolved = mock!(aws_sdk_fis::Client::list_experiment_resolved_targets).then_error(|| {
        ListExperimentResolvedTargetsError::generic(error(
            "AccessDeniedException",
            "not authorized",
        ))
    });
    let client = mock_client!(
        aws_sdk_fis,
        RuleMode::MatchAny,
        [&templates, &get, &resolved]
    );
    let message = runtime
        .block_on(fis::read_history(
            &client,
            &query(),
            &["EXP1".to_string()],
            || {},
        ))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("needs the IAM action fis:ListExperimentResolvedTargets"),
        "{message}"
    );
}

#[test]
fn expired_credentials_say_to_refresh_them() {
    let rule = mock!(aws_sdk_fis::Client::list_experiments).then_error(|| {
        ListExperimentsError::generic(error(
            "ExpiredTokenException",
            "The security token included in the request is expired",
        ))
    });
    let client = mock_client!(aws_sdk_fis, [&rule]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let message = runtime
        .block_on(fis::list_experiment_ids(&client, &query()))
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "the AWS credentials have expired (ExpiredTokenException at fis ListExperiments); refresh them (for example `aws sso login` or new session keys) and run the ingest again"
    );
}

#[test]
fn an_operation_that_changes_anything_never_leaves_the_process() {
    let rule = mock!(aws_sdk_fis::Client::start_experiment)
        .then_output(|| StartExperimentOutput::builder().build());
    let guard = guard();
    let client = mock_client!(aws_sdk_fis, RuleMode::MatchAny, [&rule], |c| c
        .interceptor(guard.clone()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let error = runtime
        .block_on(
            client
                .start_experiment()
                .experiment_template_id("EXT1")
                .send(),
        )
        .unwrap_err();
    let message = aws_sdk_fis::error::DisplayErrorContext(&error).to_string();
    assert!(
        message.contains("checkup refuses to send fis StartExperiment"),
        "{message}"
    );
    // Refused while the request was being built: nothing was serialized or sent.
    assert!(
        matches!(error, aws_sdk_fis::error::SdkError::ConstructionFailure(_)),
        "{message}"
    );
    assert_eq!(guard.log.entries(), ["fis StartExperiment"]);
}
