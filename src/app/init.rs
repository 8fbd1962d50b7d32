//! `checkup init`: a starting `checkup.toml` from the account's FIS templates (read operations
//! only): the tag keys and environment values it finds, one `[[hypothesis]]` per template with the
//! metric presets its targets' resource types call for and the dimensions it can infer, and
//! comments saying what a person must still fill in. It never overwrites a file without `--force`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::aws_session::aws_runtime;
use crate::atomic_file::write_bytes;
use crate::aws::{self, AwsTarget, OperationGuard};
use crate::config::Environments;
use crate::ingest::fis::{TargetInfo, TemplateInfo, read_templates};
use crate::presets;

pub struct InitCommand {
    pub out: PathBuf,
    pub force: bool,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub attempt_timeout: Duration,
    pub verbose: bool,
}

/// What `init` read and wrote.
pub struct InitSummary {
    pub templates: usize,
    pub hypotheses_with_series: usize,
    pub operations: Vec<String>,
}

pub fn init(command: &InitCommand) -> Result<InitSummary> {
    if command.out.exists() && !command.force {
        bail!(
            "{} exists; init never overwrites a configuration (use --force to replace it)",
            command.out.display()
        );
    }
    let runtime = aws_runtime()?;
    let guard = OperationGuard::reading(command.verbose);
    let target = AwsTarget {
        profile: command.profile.clone(),
        region: command.region.clone(),
        endpoint_url: command.endpoint_url.clone(),
        s3_path_style: false,
        attempt_timeout: command.attempt_timeout,
    };
    let templates = runtime
        .block_on(async {
            let clients = aws::clients(&target, &guard).await;
            read_templates(&clients.fis).await
        })
        .context("cannot read the FIS experiment templates")?;
    let text = config_text(&templates);
    write_bytes(&command.out, text.as_bytes())
        .with_context(|| format!("cannot write {}", command.out.display()))?;
    Ok(InitSummary {
        templates: templates.len(),
        hypotheses_with_series: templates
            .iter()
            .filter(|t| inferred_series(t).iter().any(|u| u.missing.is_empty()))
            .count(),
        operations: guard.log.entries(),
    })
}

/// Tag keys people use for each field, most common first.
const TAG_CANDIDATES: [(&str, &[&str]); 4] = [
    (
        "environment",
        &["env", "environment", "Environment", "stage", "Stage"],
    ),
    ("team", &["team", "Team", "owner", "Owner"]),
    (
        "service",
        &["service", "Service", "app", "application", "App"],
    ),
    ("trigger", &["trigger", "Trigger"]),
];

/// A preset of a template with the dimensions inferred for it (all it needs, or some missing).
struct PresetUse {
    preset: &'static str,
    dimensions: BTreeMap<String, String>,
    missing: Vec<String>,
    hint: &'static str,
}

/// The presets a template's targets call for, each with the dimensions its targets tell.
fn inferred_series(template: &TemplateInfo) -> Vec<PresetUse> {
    let mut uses: Vec<PresetUse> = Vec::new();
    for target in &template.targets {
        for name in presets::for_resource_type(&target.resource_type) {
            if uses.iter().any(|u| u.preset == name) {
                continue;
            }
            let preset = presets::preset(name).expect("a built-in preset");
            let needed: BTreeSet<&String> =
                preset.series.iter().flat_map(|s| &s.dimensions).collect();
            let known = dimensions_of(target);
            let dimensions: BTreeMap<String, String> = needed
                .iter()
                .filter_map(|d| Some(((*d).clone(), known.get(*d)?.clone())))
                .collect();
            let missing = needed
                .iter()
                .filter(|d| !dimensions.contains_key(**d))
                .map(|d| (*d).clone())
                .collect();
            uses.push(PresetUse {
                preset: name,
                dimensions,
                missing,
                hint: &preset.dimensions_hint,
            });
        }
    }
    uses
}

/// The metric dimensions a target's ARNs, tags and parameters tell (one resource each).
fn dimensions_of(target: &TargetInfo) -> BTreeMap<String, String> {
    let mut known = BTreeMap::new();
    let arn = target.resource_arns.first().map(String::as_str);
    let after = |arn: &str, marker: &str| arn.split(marker).nth(1).map(str::to_string);
    match target.resource_type.as_str() {
        "aws:rds:cluster" => {
            if let Some(id) = arn.and_then(|a| after(a, ":cluster:")) {
                known.insert("DBClusterIdentifier".into(), id);
            }
        }
        "aws:lambda:function" => {
            if let Some(name) = arn.and_then(|a| after(a, ":function:")) {
                let name = name.split(':').next().unwrap_or(&name).to_string();
                known.insert("FunctionName".into(), name);
            }
        }
        "aws:ec2:autoscaling-group" => {
            if let Some(name) = arn.and_then(|a| after(a, "autoScalingGroupName/")) {
                known.insert("AutoScalingGroupName".into(), name);
            }
        }
        "aws:ec2:instance" | "aws:ec2:spot-instance" => {
            if let Some(name) = target.resource_tags.get("aws:autoscaling:groupName") {
                known.insert("AutoScalingGroupName".into(), name.clone());
            }
        }
        "aws:ecs:task" | "aws:ecs:service" | "aws:ecs:cluster" => {
            for (parameter, dimension) in [("cluster", "ClusterName"), ("service", "ServiceName")] {
                if let Some(value) = target.parameters.get(parameter) {
                    known.insert(dimension.into(), value.clone());
                }
            }
        }
        "aws:dynamodb:global-table" | "aws:dynamodb:table" => {
            if let Some(name) = arn.and_then(|a| after(a, ":table/")) {
                known.insert("TableName".into(), name);
            }
        }
        _ => {}
    }
    known
}

/// TOML's basic string: quoted, with `"` and `\` escaped.
fn quoted(text: &str) -> String {
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            '\n' => vec!['\\', 'n'],
            c if c.is_control() => vec![' '],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

fn inline_table(map: &BTreeMap<String, String>) -> String {
    let entries: Vec<String> = map
        .iter()
        .map(|(k, v)| {
            let key = if k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                k.clone()
            } else {
                quoted(k)
            };
            format!("{key} = {}", quoted(v))
        })
        .collect();
    format!("{{ {} }}", entries.join(", "))
}

/// The commented `checkup.toml` for these templates.
pub fn config_text(templates: &[TemplateInfo]) -> String {
    let mut out = String::new();
    let all_keys: BTreeSet<&str> = templates
        .iter()
        .flat_map(|t| t.tags.keys().map(String::as_str))
        .filter(|k| *k != "Name")
        .collect();
    let tag_key = |candidates: &[&str]| {
        candidates
            .iter()
            .find(|c| all_keys.contains(**c))
            .map(|c| c.to_string())
    };
    let _ = writeln!(
        out,
        "# checkup.toml written by `checkup init` from {} FIS experiment template(s).",
        templates.len()
    );
    out.push_str(
        "# Every key is optional (SPEC section 5). Lines starting with `# TODO` need a person.\n\n",
    );
    out.push_str("[organization]\n");
    out.push_str("name = \"Example Corp\"          # TODO: your organisation, printed on every report\ncurrency = \"USD\"\n\n");

    out.push_str("[tags]                           # which template tag keys carry these fields\n");
    let mut chosen: BTreeMap<&str, String> = BTreeMap::new();
    for (field, candidates) in TAG_CANDIDATES {
        match tag_key(candidates) {
            Some(key) => {
                let _ = writeln!(out, "{field} = {}", quoted(&key));
                chosen.insert(field, key);
            }
            None => {
                let _ = writeln!(
                    out,
                    "# {field} = \"{}\"             # TODO: no template has this tag yet",
                    candidates[0]
                );
            }
        }
    }
    if !all_keys.is_empty() {
        let _ = writeln!(
            out,
            "# tag keys found on templates: {}",
            all_keys.iter().copied().collect::<Vec<_>>().join(", ")
        );
    }
    out.push('\n');

    // Environments: the values of the environment tag, classed by the usual words.
    let defaults = Environments::default();
    let values: BTreeSet<String> = chosen
        .get("environment")
        .map(|key| {
            templates
                .iter()
                .filter_map(|t| t.tags.get(key))
                .map(|v| v.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let class = |list: &[String]| -> Vec<String> {
        let mut class: BTreeSet<String> = list.iter().cloned().collect();
        class.extend(values.iter().filter(|v| list.contains(v)).cloned());
        class.into_iter().collect()
    };
    let development: Vec<&String> = values
        .iter()
        .filter(|v| !defaults.production.contains(v) && !defaults.staging.contains(v))
        .collect();
    out.push_str(
        "[environments]                   # tag values per class; anything else is development\n",
    );
    let list = |items: Vec<String>| {
        items
            .iter()
            .map(|v| quoted(v))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "production = [{}]", list(class(&defaults.production)));
    let _ = writeln!(out, "staging = [{}]", list(class(&defaults.staging)));
    if !development.is_empty() {
        let _ = writeln!(
            out,
            "# development (found on templates): {}. TODO: move a value above if it is not development",
            development
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out.push('\n');

    out.push_str(
        "# [[service]]                    # TODO: one per service tag value, with its objective\n# name = \"checkout\"\n# rto = \"15m\"\n# revenue_share = 0.4\n\n",
    );

    for template in templates {
        let title = template.name.clone().unwrap_or_else(|| template.id.clone());
        let _ = writeln!(out, "[[hypothesis]]");
        let _ = writeln!(
            out,
            "name = {}",
            quoted(&format!("{title} keeps its steady state"))
        );
        match &template.name {
            Some(name) => {
                let _ = writeln!(out, "match = {{ template_name = {} }}", quoted(name));
            }
            None => {
                let _ = writeln!(out, "match = {{ template_id = {} }}", quoted(&template.id));
            }
        }
        if let Some(description) = &template.description {
            let _ = writeln!(out, "# {}", description.replace('\n', " "));
        }
        let _ = writeln!(
            out,
            "# TODO: recover_within = \"5m\"   # the recovery objective of this experiment"
        );
        let types: BTreeSet<&str> = template
            .targets
            .iter()
            .map(|t| t.resource_type.as_str())
            .collect();
        let _ = writeln!(
            out,
            "# targets: {}; actions: {}",
            types.into_iter().collect::<Vec<_>>().join(", "),
            template.action_ids.join(", ")
        );
        if !template.stop_condition_alarms.is_empty() {
            let _ = writeln!(
                out,
                "# stop-condition alarms, read as series without configuration: {}",
                template.stop_condition_alarms.join(", ")
            );
        }
        if !template.dashboards.is_empty() {
            let _ = writeln!(
                out,
                "# report dashboards, read as baseline series: {}",
                template.dashboards.join(", ")
            );
        }
        let uses = inferred_series(template);
        if uses.is_empty() {
            out.push_str("# TODO: no preset fits these targets; add [[hypothesis.series]] with namespace, metric, stat and steady\n");
        }
        for used in uses {
            if used.missing.is_empty() {
                out.push_str("\n  [[hypothesis.series]]\n");
                let _ = writeln!(out, "  preset = {}", quoted(used.preset));
                let _ = writeln!(out, "  dimensions = {}", inline_table(&used.dimensions));
            } else {
                let _ = writeln!(
                    out,
                    "\n  # TODO: fill in {} to read the {} preset ({})",
                    used.missing.join(", "),
                    used.preset,
                    used.hint
                );
                out.push_str("  # [[hypothesis.series]]\n");
                let _ = writeln!(out, "  # preset = {}", quoted(used.preset));
                let mut partial = used.dimensions.clone();
                for dimension in &used.missing {
                    partial.insert(dimension.clone(), "TODO".into());
                }
                let _ = writeln!(out, "  # dimensions = {}", inline_table(&partial));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn template(name: &str, resource_type: &str, arn: &str) -> TemplateInfo {
        TemplateInfo {
            id: format!("EXT-{name}"),
            name: Some(name.into()),
            tags: BTreeMap::from([
                ("Name".into(), name.into()),
                ("env".into(), "Prod".into()),
                ("team".into(), "payments".into()),
            ]),
            targets: vec![TargetInfo {
                name: "Targets".into(),
                resource_type: resource_type.into(),
                resource_arns: vec![arn.into()],
                ..TargetInfo::default()
            }],
            action_ids: vec!["aws:rds:failover-db-cluster".into()],
            stop_condition_alarms: vec!["orders-5xx".into()],
            ..TemplateInfo::default()
        }
    }

    #[test]
    fn the_written_file_parses_with_inferred_presets_and_todos() {
        let templates = [
            template(
                "orders-db-failover",
                "aws:rds:cluster",
                "arn:aws:rds:eu-west-1:123456789012:cluster:orders-db",
            ),
            template(
                "web-stop",
                "aws:ec2:instance",
                "arn:aws:ec2:eu-west-1:123456789012:instance/i-1",
            ),
            TemplateInfo {
                tags: BTreeMap::from([("env".into(), "sandbox \"a\"".into())]),
                ..template(
                    "checkout-fn-errors",
                    "aws:lambda:function",
                    "arn:aws:lambda:eu-west-1:123456789012:function:checkout:live",
                )
            },
        ];
        let text = config_text(&templates);
        let config = Config::parse(Path::new("checkup.toml"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.tags.environment, "env");
        assert_eq!(config.tags.team, "team");
        assert_eq!(config.hypotheses.len(), 3);
        let db = &config.hypotheses[0];
        assert_eq!(db.series.len(), 3, "{text}");
        assert_eq!(db.series[0].dimensions["DBClusterIdentifier"], "orders-db");
        // Instances without an Auto Scaling group tag: the asg preset is left for a person.
        assert!(config.hypotheses[1].series.is_empty());
        assert!(text.contains("# TODO: fill in AutoScalingGroupName to read the asg preset"));
        let lambda = &config.hypotheses[2];
        assert_eq!(lambda.series[0].dimensions["FunctionName"], "checkout");
        assert_eq!(
            config.environments.class_of(Some("prod")),
            crate::vocab::practice::EnvironmentClass::Production
        );
        assert!(text.contains("# development (found on templates): sandbox \"a\""));
        assert!(
            text.contains(
                "stop-condition alarms, read as series without configuration: orders-5xx"
            )
        );
    }
}
