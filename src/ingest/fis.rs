//! AWS FIS: experiment templates and experiments into ledger records (SPEC section 4). Only read
//! operations are called: ListExperimentTemplates, ListExperiments, GetExperiment and
//! ListExperimentResolvedTargets (the blast radius by count); `checkup init` adds
//! GetExperimentTemplate (`read_templates`).
//!
//! Besides the records, each experiment's other sources are kept for the next steps: the
//! dashboards of its report configuration (CloudWatch) and its S3 log location (action times).

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_sdk_fis::Client;

use crate::aws::{AwsError, aws_error, micros_of};
use crate::config::TagKeys;
use crate::ingest::fis_logs::LogLocation;
use crate::ledger::{Action, Experiment};
use crate::vocab::time::Micros;
use crate::vocab::{Source, Status};

/// The experiments read, with their actions and where else to look.
#[derive(Debug, Default)]
pub struct FisHistory {
    pub experiments: Vec<Experiment>,
    pub actions: Vec<Action>,
    /// Dashboard names of each experiment's report configuration, by experiment id.
    pub dashboards: HashMap<String, Vec<String>>,
    /// Each experiment's S3 log location (log schema version 2), by experiment id.
    pub log_locations: HashMap<String, LogLocation>,
}

/// Where and what to read.
#[derive(Debug, Clone)]
pub struct FisQuery {
    /// Experiments created before this time are skipped (`--since`).
    pub since: Option<Micros>,
    pub until: Option<Micros>,
    /// What the ledger holds already; empty when `--since` asks to read a window again.
    pub holdings: Holdings,
    /// How many GetExperiment calls may be in flight at once (`--concurrency`).
    pub concurrency: usize,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub tag_keys: TagKeys,
    pub ingested_at: Micros,
}

/// The account of `arn:aws:fis:<region>:<account>:experiment/<id>`.
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|account| !account.is_empty())
}

/// What the ledger already holds of FIS, so that an ingest without `--since` reads exactly what
/// is missing or unsettled. ListExperiments returns FIS's whole history whatever the window, so
/// this costs no call, and an ingest cut short (killed between two partitions, or one profile or
/// region of several failing) is completed by the next one.
#[derive(Debug, Clone, Default)]
pub struct Holdings {
    /// Experiments stored finished with their observation window closed: never read again.
    settled: HashSet<String>,
    /// The oldest stored experiment of each account and region: where the ledger's coverage of
    /// that account and region begins (older ones were left out on purpose, with `--since`).
    coverage_start: HashMap<(Option<String>, Option<String>), Micros>,
}

impl Holdings {
    /// `post_window` is `window.post`: an experiment that ended less than that before it was
    /// ingested had not been fully observed.
    pub fn new(stored: &[Experiment], post_window: Micros) -> Self {
        let mut holdings = Holdings::default();
        for experiment in stored.iter().filter(|e| e.source == Source::Fis) {
            let unsettled = !experiment.status.is_finished()
                && experiment.status != Status::Cancelled
                || experiment
                    .ended_at
                    .is_some_and(|end| end + post_window > experiment.ingested_at);
            if !unsettled {
                holdings.settled.insert(experiment.experiment_id.clone());
            }
            let key = (experiment.account_id.clone(), experiment.region.clone());
            let start = holdings
                .coverage_start
                .entry(key)
                .or_insert(experiment.created_at);
            *start = (*start).min(experiment.created_at);
        }
        holdings
    }

    /// Whether an ingest without `--since` reads this listed experiment: not if it is settled,
    /// nor if it is older than the ledger's coverage of its account and region; an account and
    /// region the ledger has never seen are read in full.
    pub fn wants(
        &self,
        id: &str,
        account_id: Option<&str>,
        region: Option<&str>,
        created_at: Option<Micros>,
    ) -> bool {
        if self.settled.contains(id) {
            return false;
        }
        // A listing without an ARN names no account: the region's earliest coverage applies.
        let start = self
            .coverage_start
            .iter()
            .filter(|((account, stored_region), _)| {
                stored_region.as_deref() == region
                    && account_id.is_none_or(|listed| account.as_deref() == Some(listed))
            })
            .map(|(_, start)| *start)
            .min();
        match (start, created_at) {
            (Some(start), Some(created)) => created >= start,
            _ => true,
        }
    }
}

/// The ids of the experiments created in the query's window that the ledger lacks or holds
/// unsettled, newest pages included.
pub async fn list_experiment_ids(
    client: &Client,
    query: &FisQuery,
) -> Result<Vec<String>, AwsError> {
    let mut summaries = client.list_experiments().into_paginator().items().send();
    let mut ids = Vec::new();
    while let Some(summary) = summaries.next().await {
        let summary =
            summary.map_err(|e| aws_error("fis", "ListExperiments", "all experiments", e))?;
        let created = summary.creation_time().map(micros_of);
        let in_window = created.is_none_or(|created| {
            query.since.is_none_or(|since| created >= since)
                && query.until.is_none_or(|until| created < until)
        });
        let Some(id) = summary.id() else { continue };
        if in_window
            && query.holdings.wants(
                id,
                summary.arn().and_then(arn_account),
                query.region.as_deref(),
                created,
            )
        {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

/// Every template's tags by template id (ListExperimentTemplates, all pages).
async fn template_tags(
    client: &Client,
) -> Result<HashMap<String, HashMap<String, String>>, AwsError> {
    let mut tags = HashMap::new();
    let mut pages = client
        .list_experiment_templates()
        .into_paginator()
        .items()
        .send();
    while let Some(template) = pages.next().await {
        let template = template
            .map_err(|e| aws_error("fis", "ListExperimentTemplates", "all templates", e))?;
        if let Some(id) = template.id() {
            tags.insert(id.to_string(), template.tags().cloned().unwrap_or_default());
        }
    }
    Ok(tags)
}

/// Reads every template's tags and the experiments `ids`; `on_experiment` is called after each
/// (the progress bar).
pub async fn read_history(
    client: &Client,
    query: &FisQuery,
    ids: &[String],
    mut on_experiment: impl FnMut(),
) -> Result<FisHistory, AwsError> {
    let template_tags = template_tags(client).await?;

    let mut history = FisHistory::default();
    // Up to `concurrency` GetExperiment calls are in flight at once; records keep the listing's
    // order whatever order the answers come in.
    let mut outputs = Vec::with_capacity(ids.len());
    super::in_flight::in_order(
        ids.iter().cloned(),
        query.concurrency,
        |id| {
            let client = client.clone();
            async move {
                match client.get_experiment().id(&id).send().await {
                    Ok(output) => resolved_targets(&client, &id)
                        .await
                        .map(|count| (output, count)),
                    Err(e) => Err(aws_error(
                        "fis",
                        "GetExperiment",
                        format!("experiment {id}"),
                        e,
                    )),
                }
            }
        },
        |answer| {
            on_experiment();
            outputs.push(answer);
            Ok(())
        },
    )
    .await?;
    for (output, resolved_targets) in &outputs {
        let Some(experiment) = output.experiment() else {
            continue;
        };
        let tags = experiment
            .experiment_template_id()
            .and_then(|t| template_tags.get(t))
            .cloned()
            .unwrap_or_default();
        let (mut record, actions) = experiment_records(experiment, &tags, query);
        record.resolved_targets = *resolved_targets;
        let dashboards = dashboard_names(
            experiment
                .experiment_report_configuration()
                .and_then(|r| r.data_sources())
                .map(|d| d.cloud_watch_dashboards())
                .unwrap_or_default()
                .iter()
                .map(|d| d.dashboard_identifier()),
        );
        if !dashboards.is_empty() {
            history
                .dashboards
                .insert(record.experiment_id.clone(), dashboards);
        }
        if let Some(s3) = experiment
            .log_configuration()
            .and_then(|l| l.s3_configuration())
            && let Some(bucket) = s3.bucket_name()
        {
            history.log_locations.insert(
                record.experiment_id.clone(),
                LogLocation {
                    bucket: bucket.to_string(),
                    prefix: s3.prefix().unwrap_or_default().to_string(),
                },
            );
        }
        history.experiments.push(record);
        history.actions.extend(actions);
    }
    Ok(history)
}

/// How many resources the experiment's targets resolved to, over every page of
/// ListExperimentResolvedTargets. FIS lists them once target resolution has ended; a run that
/// never got there lists none.
async fn resolved_targets(client: &Client, id: &str) -> Result<Option<i64>, AwsError> {
    let mut pages = client
        .list_experiment_resolved_targets()
        .experiment_id(id)
        .max_results(100)
        .into_paginator()
        .send();
    let mut count = 0;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            aws_error(
                "fis",
                "ListExperimentResolvedTargets",
                format!("experiment {id}"),
                e,
            )
        })?;
        count += page.resolved_targets().len() as i64;
    }
    Ok(Some(count))
}

/// The alarm names of stop conditions given as (source, value): CloudWatch alarms only, by the
/// last part of their ARN.
fn alarm_names<'a>(
    conditions: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Vec<String> {
    conditions
        .filter(|(source, _)| *source == Some("aws:cloudwatch:alarm"))
        .filter_map(|(_, value)| value)
        .map(|arn| arn.rsplit(':').next().unwrap_or(arn).to_string())
        .collect()
}

/// The dashboard names of a report configuration's dashboard identifiers (names or ARNs).
fn dashboard_names<'a>(identifiers: impl Iterator<Item = Option<&'a str>>) -> Vec<String> {
    identifiers
        .flatten()
        .map(|identifier| crate::ingest::cloudwatch::dashboard_name(identifier).to_string())
        .collect()
}

/// One experiment template as `checkup init` reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateInfo {
    pub id: String,
    /// The `Name` tag.
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub targets: Vec<TargetInfo>,
    pub action_ids: Vec<String>,
    pub stop_condition_alarms: Vec<String>,
    pub dashboards: Vec<String>,
}

/// One target of a template: what it selects, from which the metric dimensions can be inferred.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TargetInfo {
    pub name: String,
    pub resource_type: String,
    pub resource_arns: Vec<String>,
    pub resource_tags: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
}

/// Every experiment template with its targets, actions, stop conditions and report dashboards
/// (ListExperimentTemplates, then GetExperimentTemplate for each), in id order.
pub async fn read_templates(client: &Client) -> Result<Vec<TemplateInfo>, AwsError> {
    let mut ids: Vec<String> = template_tags(client).await?.into_keys().collect();
    ids.sort();
    let mut templates = Vec::with_capacity(ids.len());
    for id in ids {
        let output = client
            .get_experiment_template()
            .id(&id)
            .send()
            .await
            .map_err(|e| aws_error("fis", "GetExperimentTemplate", format!("template {id}"), e))?;
        let Some(template) = output.experiment_template() else {
            continue;
        };
        let tags: BTreeMap<String, String> = template
            .tags()
            .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let mut targets: Vec<TargetInfo> = template
            .targets()
            .map(|targets| {
                targets
                    .iter()
                    .map(|(name, target)| TargetInfo {
                        name: name.clone(),
                        resource_type: target.resource_type().unwrap_or_default().to_string(),
                        resource_arns: target.resource_arns().to_vec(),
                        resource_tags: target
                            .resource_tags()
                            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                            .unwrap_or_default(),
                        parameters: target
                            .parameters()
                            .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        targets.sort_by(|a, b| a.name.cmp(&b.name));
        let mut action_ids: Vec<String> = template
            .actions()
            .map(|actions| {
                actions
                    .values()
                    .filter_map(|a| a.action_id().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        action_ids.sort();
        templates.push(TemplateInfo {
            id: id.clone(),
            name: tags.get("Name").cloned(),
            description: template.description().map(str::to_string),
            tags,
            targets,
            action_ids,
            stop_condition_alarms: alarm_names(
                template
                    .stop_conditions()
                    .iter()
                    .map(|c| (c.source(), c.value())),
            ),
            dashboards: dashboard_names(
                template
                    .experiment_report_configuration()
                    .and_then(|r| r.data_sources())
                    .map(|d| d.cloud_watch_dashboards())
                    .unwrap_or_default()
                    .iter()
                    .map(|d| d.dashboard_identifier()),
            ),
        });
    }
    Ok(templates)
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
    let created = experiment
        .creation_time()
        .map(micros_of)
        .or(experiment.start_time().map(micros_of))
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
    let stop_condition_alarms = alarm_names(
        experiment
            .stop_conditions()
            .iter()
            .map(|c| (c.source(), c.value())),
    );
    let status = experiment
        .state()
        .and_then(|s| s.status())
        // A state FIS adds after this was written reads as pending: read again next time.
        .and_then(|s| Status::from_name(s.as_str()))
        .unwrap_or(Status::Pending);
    // A failed run says why in `state.error` (code and location, e.g. a target account); the
    // reason alone ("Experiment failed.") would hide it from the report.
    let error = experiment.state().and_then(|s| s.error()).map(|e| {
        let mut text = format!("error {}", e.code().unwrap_or("unknown"));
        if let Some(location) = e.location() {
            text.push_str(&format!(" at {location}"));
        }
        if let Some(account) = e.account_id() {
            text.push_str(&format!(" in account {account}"));
        }
        text
    });
    let status_reason = match (experiment.state().and_then(|s| s.reason()), error) {
        (Some(reason), Some(error)) => Some(format!("{reason} ({error})")),
        (reason, error) => reason.map(str::to_string).or(error),
    };
    let stop_condition_triggered = status == Status::Stopped
        && status_reason
            .as_deref()
            .is_some_and(|r| r.to_ascii_lowercase().contains("stop condition"));
    let record = Experiment {
        experiment_id: id.clone(),
        source: Source::Fis,
        account_id: query
            .account_id
            .clone()
            .or_else(|| experiment.arn().and_then(arn_account).map(str::to_string)),
        region: query.region.clone(),
        template_id: experiment.experiment_template_id().map(str::to_string),
        template_name: tag("Name"),
        description: None,
        status,
        status_reason,
        created_at: created,
        started_at: experiment.start_time().map(micros_of),
        ended_at: experiment.end_time().map(micros_of),
        environment: tag(&query.tag_keys.environment),
        team: tag(&query.tag_keys.team),
        service: tag(&query.tag_keys.service),
        trigger: tag(&query.tag_keys.trigger),
        tags: tags.into(),
        stop_condition_alarms,
        stop_condition_triggered,
        blast_radius,
        hypothesis: None,
        recover_within_s: None,
        ingested_at: query.ingested_at,
        actions_mode: experiment
            .experiment_options()
            .and_then(|options| options.actions_mode())
            .map(|mode| mode.as_str().to_string()),
        resolved_targets: None,
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
                    started_at: action.start_time().map(micros_of),
                    ended_at: action.end_time().map(micros_of),
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

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Micros = 3_600_000_000;

    fn stored(
        id: &str,
        account: &str,
        region: &str,
        created_at: Micros,
        status: Status,
    ) -> Experiment {
        Experiment {
            experiment_id: id.into(),
            source: Source::Fis,
            account_id: Some(account.into()),
            region: Some(region.into()),
            template_id: None,
            template_name: None,
            description: None,
            status,
            status_reason: None,
            created_at,
            started_at: Some(created_at),
            ended_at: (status != Status::Running).then_some(created_at + HOUR),
            environment: None,
            team: None,
            service: None,
            trigger: None,
            tags: Default::default(),
            stop_condition_alarms: vec![],
            stop_condition_triggered: false,
            blast_radius: vec![],
            hypothesis: None,
            recover_within_s: None,
            ingested_at: created_at + 3 * HOUR,
            actions_mode: None,
            resolved_targets: None,
        }
    }

    #[test]
    fn an_ingest_without_since_reads_what_the_ledger_lacks_or_holds_unsettled() {
        let ledger = [
            stored("OLD", "111", "eu-west-1", 10 * HOUR, Status::Completed),
            stored("RUNNING", "111", "eu-west-1", 20 * HOUR, Status::Running),
            stored("NEW", "111", "eu-west-1", 30 * HOUR, Status::Completed),
            stored("ANOTHER", "222", "eu-west-1", 50 * HOUR, Status::Completed),
        ];
        let holdings = Holdings::new(&ledger, HOUR);
        let eu = Some("eu-west-1");
        assert!(!holdings.wants("OLD", Some("111"), eu, Some(10 * HOUR)));
        assert!(!holdings.wants("NEW", Some("111"), eu, Some(30 * HOUR)));
        assert!(holdings.wants("RUNNING", Some("111"), eu, Some(20 * HOUR)));
        // A gap left by an ingest cut short, inside the ledger's coverage, is filled ...
        assert!(holdings.wants("GAP", Some("111"), eu, Some(25 * HOUR)));
        // ... and so is anything newer; what is older than the coverage was left out on purpose.
        assert!(holdings.wants("NEWER", Some("111"), eu, Some(40 * HOUR)));
        assert!(!holdings.wants("BEFORE", Some("111"), eu, Some(5 * HOUR)));
        // Account 222 is covered from 50 h on; a listing without an ARN takes the region's earliest.
        assert!(!holdings.wants("BEFORE222", Some("222"), eu, Some(40 * HOUR)));
        assert!(holdings.wants("NO-ARN", None, eu, Some(40 * HOUR)));
        // A region or account never ingested (say its first ingest failed) is read in full.
        assert!(holdings.wants("US", Some("111"), Some("us-east-1"), Some(HOUR)));
        assert!(holdings.wants("THIRD", Some("333"), eu, Some(HOUR)));
        // An experiment ingested before its observation window closed is read again.
        let mut early = stored("EARLY", "111", "eu-west-1", 60 * HOUR, Status::Completed);
        early.ingested_at = early.ended_at.unwrap() + HOUR / 2;
        assert!(Holdings::new(&[early], HOUR).wants("EARLY", Some("111"), eu, Some(60 * HOUR)));
        // Nothing stored, or `--since` given: everything in the window is read.
        assert!(Holdings::default().wants("OLD", Some("111"), eu, Some(10 * HOUR)));
    }
}
