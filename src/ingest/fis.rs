//! AWS FIS: experiment templates and experiments into ledger records (SPEC section 4). Only read
//! operations are called: ListExperimentTemplates, ListExperiments, GetExperiment.
//!
//! This first slice reads the experiments themselves (states, times, actions, targets, stop
//! conditions, tags); the CloudWatch series around each run come with the next slice (see
//! docs/ingest-notes.md), so until then experiments ingested here are judged without series.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_fis::Client;
use aws_sdk_fis::error::DisplayErrorContext;
use aws_sdk_fis::primitives::DateTime;

use crate::config::TagKeys;
use crate::ledger::{Action, Experiment};
use crate::time::Micros;

#[derive(Debug, thiserror::Error)]
pub enum FisError {
    /// The SDK's whole error chain: "dispatch failure" alone would hide the cause (an endpoint
    /// that refuses connections, missing credentials, access denied).
    #[error("FIS {operation} failed: {message}")]
    Call {
        operation: &'static str,
        message: String,
    },
}

/// The experiments read, with their actions.
#[derive(Debug, Default)]
pub struct FisHistory {
    pub experiments: Vec<Experiment>,
    pub actions: Vec<Action>,
}

/// Where and what to read.
#[derive(Debug, Clone)]
pub struct FisQuery {
    /// Experiments created before this time are skipped (the newest finished one in the ledger).
    pub since: Option<Micros>,
    pub until: Option<Micros>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub tag_keys: TagKeys,
    pub ingested_at: Micros,
}

fn micros(time: Option<&DateTime>) -> Option<Micros> {
    let time = time?;
    Some(time.secs() * 1_000_000 + i64::from(time.subsec_nanos()) / 1_000)
}

fn call_error(operation: &'static str) -> impl Fn(String) -> FisError {
    move |message| FisError::Call { operation, message }
}

/// Reads every template's tags and every experiment created in the query's window.
pub async fn read_history(client: &Client, query: &FisQuery) -> Result<FisHistory, FisError> {
    let mut template_tags: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut templates = client
        .list_experiment_templates()
        .into_paginator()
        .items()
        .send();
    while let Some(template) = templates.next().await {
        let template = template.map_err(|e| {
            call_error("ListExperimentTemplates")(DisplayErrorContext(&e).to_string())
        })?;
        if let Some(id) = template.id() {
            template_tags.insert(id.to_string(), template.tags().cloned().unwrap_or_default());
        }
    }

    let mut history = FisHistory::default();
    let mut summaries = client.list_experiments().into_paginator().items().send();
    let mut ids = Vec::new();
    while let Some(summary) = summaries.next().await {
        let summary = summary
            .map_err(|e| call_error("ListExperiments")(DisplayErrorContext(&e).to_string()))?;
        let created = micros(summary.creation_time());
        let in_window = created.is_none_or(|created| {
            query.since.is_none_or(|since| created >= since)
                && query.until.is_none_or(|until| created < until)
        });
        if in_window && let Some(id) = summary.id() {
            ids.push(id.to_string());
        }
    }
    for id in ids {
        let output = client.get_experiment().id(&id).send().await.map_err(|e| {
            call_error("GetExperiment")(format!("{id}: {}", DisplayErrorContext(&e)))
        })?;
        let Some(experiment) = output.experiment() else {
            continue;
        };
        let tags = experiment
            .experiment_template_id()
            .and_then(|t| template_tags.get(t))
            .cloned()
            .unwrap_or_default();
        let (record, actions) = experiment_records(experiment, &tags, query);
        history.experiments.push(record);
        history.actions.extend(actions);
    }
    Ok(history)
}

/// One FIS experiment as ledger records. Tags of the experiment win over the template's.
pub fn experiment_records(
    experiment: &aws_sdk_fis::types::Experiment,
    template_tags: &HashMap<String, String>,
    query: &FisQuery,
) -> (Experiment, Vec<Action>) {
    let id = experiment.id().unwrap_or_default().to_string();
    let mut tags: BTreeMap<String, String> = template_tags
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(own) = experiment.tags() {
        tags.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let tag = |key: &str| tags.get(key).cloned();
    let created = micros(experiment.creation_time())
        .or(micros(experiment.start_time()))
        .unwrap_or(query.ingested_at);
    let mut blast_radius: Vec<String> = experiment
        .targets()
        .map(|targets| {
            targets
                .values()
                .filter_map(|t| t.selection_mode().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    blast_radius.sort();
    let stop_condition_alarms: Vec<String> = experiment
        .stop_conditions()
        .iter()
        .filter(|c| c.source() == Some("aws:cloudwatch:alarm"))
        .filter_map(|c| c.value())
        .map(|arn| arn.rsplit(':').next().unwrap_or(arn).to_string())
        .collect();
    let status = experiment
        .state()
        .and_then(|s| s.status())
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|| "pending".to_string());
    let status_reason = experiment
        .state()
        .and_then(|s| s.reason())
        .map(str::to_string);
    let stop_condition_triggered = status == "stopped"
        && status_reason
            .as_deref()
            .is_some_and(|r| r.to_ascii_lowercase().contains("stop condition"));
    let record = Experiment {
        experiment_id: id.clone(),
        source: "fis".to_string(),
        // arn:aws:fis:<region>:<account>:experiment/<id>
        account_id: query.account_id.clone().or_else(|| {
            experiment
                .arn()
                .and_then(|arn| arn.split(':').nth(4))
                .filter(|account| !account.is_empty())
                .map(str::to_string)
        }),
        region: query.region.clone(),
        template_id: experiment.experiment_template_id().map(str::to_string),
        template_name: tag("Name"),
        description: None,
        status,
        status_reason,
        created_at: created,
        started_at: micros(experiment.start_time()),
        ended_at: micros(experiment.end_time()),
        environment: tag(&query.tag_keys.environment),
        team: tag(&query.tag_keys.team),
        service: tag(&query.tag_keys.service),
        trigger: tag(&query.tag_keys.trigger),
        tags,
        stop_condition_alarms,
        stop_condition_triggered,
        blast_radius,
        hypothesis: None,
        recover_within_s: None,
        ingested_at: query.ingested_at,
    };
    let mut actions: Vec<Action> = experiment
        .actions()
        .map(|actions| {
            actions
                .iter()
                .map(|(name, action)| Action {
                    experiment_id: id.clone(),
                    action_name: name.clone(),
                    action_id: action.action_id().unwrap_or_default().to_string(),
                    system: None,
                    status: action
                        .state()
                        .and_then(|s| s.status())
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    started_at: micros(action.start_time()),
                    ended_at: micros(action.end_time()),
                    targets: action
                        .targets()
                        .map(|t| t.values().cloned().collect())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    actions.sort_by(|a, b| a.action_name.cmp(&b.action_name));
    (record, actions)
}
