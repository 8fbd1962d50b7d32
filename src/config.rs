//! `checkup.toml` (SPEC section 5): organization, tag keys, cost assumptions, the observation
//! window and the steady-state hypotheses. Every key is optional; the built-in defaults apply
//! when the file or a key is absent. Errors name the file, the line and the key.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::vocab::catalog::ActionCatalog;
use crate::vocab::metric_math;
use crate::vocab::practice::EnvironmentClass;
use crate::vocab::time::{Micros, micros_from_seconds, parse_duration_s};
use crate::vocab::{Condition, SeriesKind};

/// The observation window and the recovery rule, from `[window]` in `checkup.toml`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSettings {
    pub pre_s: f64,
    pub post_s: f64,
    /// How many consecutive points inside the band make a recovery.
    pub hold: usize,
    /// How many impacted runs a period needs before its MTTR is compared (SPEC section 7).
    pub min_runs: u64,
    /// Evidence older than this is stale (SPEC section 11: freshness, blind spots).
    pub fresh_for_s: f64,
}

impl WindowSettings {
    /// SPEC section 6: an experiment is observed and judged inside `[t0 - pre, t1 + post]`.
    pub fn observation_window(&self, t0: Micros, t1: Micros) -> (Micros, Micros) {
        (
            t0 - micros_from_seconds(self.pre_s),
            t1 + micros_from_seconds(self.post_s),
        )
    }
}

impl Default for WindowSettings {
    fn default() -> Self {
        WindowSettings {
            pre_s: 15.0 * 60.0,
            post_s: 30.0 * 60.0,
            hold: 3,
            min_runs: 3,
            fresh_for_s: 90.0 * 86_400.0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {key}: {message}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub key: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub organization: String,
    pub currency: String,
    pub tags: TagKeys,
    pub cost: CostConfig,
    /// The `[cost]` keys the file set; the others are built-in defaults (the ROI page says which).
    pub cost_keys_set: Vec<&'static str>,
    pub window: WindowSettings,
    /// Which environment tag values are production and staging (`[environments]`).
    pub environments: Environments,
    /// Per service: recovery time objective and revenue share (`[[service]]`).
    pub services: Vec<ServiceConfig>,
    pub hypotheses: Vec<Hypothesis>,
    /// The action catalog: `[cost] action_catalog` (a CSV beside the config file, with a source
    /// for every rate), else the built-in `data/action_catalog.csv`.
    pub catalog: ActionCatalog,
}

/// The environment tag values of each class, lower case (SPEC section 5); any other value, or no
/// tag, is development.
#[derive(Debug, Clone, PartialEq)]
pub struct Environments {
    pub production: Vec<String>,
    pub staging: Vec<String>,
}

impl Default for Environments {
    fn default() -> Self {
        let words = |list: &[&str]| list.iter().map(|w| w.to_string()).collect();
        Environments {
            production: words(&["prod", "production", "prd", "live"]),
            staging: words(&["staging", "stage", "stg", "uat", "preprod"]),
        }
    }
}

impl Environments {
    /// The class of an environment tag value (case-insensitive).
    pub fn class_of(&self, environment: Option<&str>) -> EnvironmentClass {
        let Some(value) = environment else {
            return EnvironmentClass::Development;
        };
        // The lists are lower case: compared without a lower-case copy of every run's tag.
        let listed = |list: &[String]| list.iter().any(|word| word.eq_ignore_ascii_case(value));
        if listed(&self.production) {
            EnvironmentClass::Production
        } else if listed(&self.staging) {
            EnvironmentClass::Staging
        } else {
            EnvironmentClass::Development
        }
    }
}

/// One `[[service]]`: a value of the service tag with its recovery time objective.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    pub name: String,
    /// Used as `recover_within` for the service's runs when no hypothesis sets one.
    pub rto_s: Option<f64>,
    /// Share of `revenue_per_hour` lost while the service is down (default 1).
    pub revenue_share: f64,
}

impl Config {
    /// The recovery time objective of each service that sets one.
    pub fn rto_by_service(&self) -> BTreeMap<String, f64> {
        self.services
            .iter()
            .filter_map(|s| Some((s.name.clone(), s.rto_s?)))
            .collect()
    }
}

/// Which experiment or template tag keys carry these fields.
#[derive(Debug, Clone, PartialEq)]
pub struct TagKeys {
    pub environment: String,
    pub team: String,
    pub service: String,
    pub trigger: String,
}

/// The cost assumptions (SPEC section 8); also what the executive report prints.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CostConfig {
    pub revenue_per_hour: f64,
    pub engineers_on_incident: f64,
    pub engineer_hourly_rate: f64,
    pub outage_hours: f64,
    pub degraded_factor: f64,
    pub engineer_hours_per_experiment: f64,
    /// Engineer hours to fix one weakness (SPEC section 8's program cost).
    pub remediation_hours_per_weakness: f64,
    /// What FIS charges per action-minute, in the report's currency (AWS list price USD 0.10).
    pub fis_price_per_action_minute: f64,
    /// The environments whose fixed weaknesses count as avoided loss.
    pub findings_from: Vec<EnvironmentClass>,
    pub fixed_costs: f64,
}

impl Default for CostConfig {
    fn default() -> Self {
        CostConfig {
            revenue_per_hour: 100_000.0,
            engineers_on_incident: 20.0,
            engineer_hourly_rate: 100.0,
            outage_hours: 2.0,
            degraded_factor: 0.25,
            engineer_hours_per_experiment: 4.0,
            remediation_hours_per_weakness: 16.0,
            fis_price_per_action_minute: 0.10,
            findings_from: vec![EnvironmentClass::Production, EnvironmentClass::Staging],
            fixed_costs: 0.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    pub name: String,
    pub matcher: HypothesisMatch,
    pub recover_within_s: Option<f64>,
    pub series: Vec<SeriesConfig>,
}

/// How a hypothesis finds its experiments: by template id, template name or tags (all given must match).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HypothesisMatch {
    pub template_id: Option<String>,
    pub template_name: Option<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeriesConfig {
    pub id: String,
    /// Empty for an expression.
    pub namespace: String,
    pub metric: String,
    pub dimensions: BTreeMap<String, String>,
    pub stat: String,
    pub period_s: i64,
    /// Metric math over other series of the hypothesis (`100 * FILL(errors, 0) / requests`),
    /// computed by checkup (`vocab::metric_math`); checked to parse and to name only metric
    /// series of the same hypothesis.
    pub expression: Option<metric_math::MetricExpression>,
    /// As written (`>= 2`, `baseline`); checked to parse. Empty for an input.
    pub steady: String,
    pub limit: Option<String>,
    /// `level`, `errors`, or `input` (read only to feed expressions; not judged, not stored).
    pub kind: SeriesKind,
    pub budget: Option<f64>,
    pub outage: Option<f64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            organization: "Example Corp".to_string(),
            currency: "USD".to_string(),
            tags: TagKeys {
                environment: "env".to_string(),
                team: "team".to_string(),
                service: "service".to_string(),
                trigger: "trigger".to_string(),
            },
            cost: CostConfig::default(),
            cost_keys_set: Vec::new(),
            window: WindowSettings::default(),
            environments: Environments::default(),
            services: Vec::new(),
            hypotheses: Vec::new(),
            catalog: ActionCatalog::built_in(),
        }
    }
}

// The file as written. Spanned values keep their place in the file for error messages.

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    organization: RawOrganization,
    #[serde(default)]
    tags: RawTags,
    #[serde(default)]
    cost: RawCost,
    #[serde(default)]
    window: RawWindow,
    #[serde(default)]
    environments: Option<Spanned<RawEnvironments>>,
    #[serde(default)]
    service: Vec<Spanned<RawService>>,
    #[serde(default)]
    hypothesis: Vec<RawHypothesis>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironments {
    production: Option<Vec<String>>,
    staging: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: Spanned<String>,
    rto: Option<Spanned<String>>,
    revenue_share: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOrganization {
    name: Option<String>,
    currency: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTags {
    environment: Option<String>,
    team: Option<String>,
    service: Option<String>,
    trigger: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCost {
    revenue_per_hour: Option<Spanned<f64>>,
    engineers_on_incident: Option<Spanned<f64>>,
    engineer_hourly_rate: Option<Spanned<f64>>,
    outage_hours: Option<Spanned<f64>>,
    degraded_factor: Option<Spanned<f64>>,
    engineer_hours_per_experiment: Option<Spanned<f64>>,
    remediation_hours_per_weakness: Option<Spanned<f64>>,
    fis_price_per_action_minute: Option<Spanned<f64>>,
    findings_from: Option<Spanned<Vec<String>>>,
    fixed_costs: Option<Spanned<f64>>,
    action_catalog: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    pre: Option<Spanned<String>>,
    post: Option<Spanned<String>>,
    hold: Option<Spanned<i64>>,
    min_runs: Option<Spanned<i64>>,
    fresh_for: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHypothesis {
    name: Spanned<String>,
    #[serde(rename = "match")]
    matcher: Spanned<RawMatch>,
    recover_within: Option<Spanned<String>>,
    #[serde(default)]
    series: Vec<RawSeries>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    template_id: Option<String>,
    template_name: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeries {
    /// Required unless `preset` is given (then it picks one series of the preset).
    id: Option<Spanned<String>>,
    /// A metric preset of `queries/cloudwatch/` (`alb`, `rds`, …) to expand.
    preset: Option<Spanned<String>>,
    namespace: Option<String>,
    metric: Option<String>,
    #[serde(default)]
    dimensions: BTreeMap<String, String>,
    stat: Option<String>,
    expression: Option<Spanned<String>>,
    period: Option<Spanned<String>>,
    steady: Option<Spanned<String>>,
    limit: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    budget: Option<Spanned<f64>>,
    outage: Option<Spanned<f64>>,
}

/// Where a configured series' points come from.
enum SeriesSource {
    /// Namespace, metric name, statistic.
    Metric(String, String, String),
    /// The expression as written (for its position in errors) and parsed.
    Expression(Spanned<String>, metric_math::Expr),
}

impl Config {
    /// Reads `path`; `Ok(None)` when the file does not exist.
    pub fn load(path: &Path) -> Result<Option<Config>, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(path, &text).map(Some),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(ConfigError {
                path: path.to_path_buf(),
                line: 0,
                key: "(file)".into(),
                message: error.to_string(),
            }),
        }
    }

    /// Parses the text of a configuration file; `path` only names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let file = ConfigFile { path, text };
        let raw: RawConfig = toml::from_str(text).map_err(|problem| {
            let span = problem.span().unwrap_or(0..0);
            let key = file
                .key_at(span.start)
                .unwrap_or_else(|| "(syntax)".to_string());
            file.error(span, &key, problem.message().to_string())
        })?;

        let mut config = Config::default();
        if let Some(name) = raw.organization.name {
            config.organization = name;
        }
        if let Some(currency) = raw.organization.currency {
            config.currency = currency;
        }
        let tags = &mut config.tags;
        for (target, value) in [
            (&mut tags.environment, raw.tags.environment),
            (&mut tags.team, raw.tags.team),
            (&mut tags.service, raw.tags.service),
            (&mut tags.trigger, raw.tags.trigger),
        ] {
            if let Some(value) = value {
                *target = value;
            }
        }
        if let Some(catalog) = &raw.cost.action_catalog {
            config.catalog = file.catalog(catalog)?;
        }
        config.cost_keys_set = file.cost(raw.cost, &mut config.cost)?;
        file.window(&raw.window, &mut config.window)?;
        if let Some(environments) = raw.environments {
            config.environments = file.environments(environments)?;
        }
        config.services = file.services(raw.service)?;
        for (index, hypothesis) in raw.hypothesis.into_iter().enumerate() {
            config
                .hypotheses
                .push(file.hypothesis(&format!("hypothesis[{index}]"), hypothesis)?);
        }
        Ok(config)
    }

    /// The first hypothesis whose match holds for a template (SPEC section 5: first match wins).
    pub fn hypothesis_for(
        &self,
        template_id: Option<&str>,
        template_name: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> Option<&Hypothesis> {
        self.hypotheses.iter().find(|hypothesis| {
            let m = &hypothesis.matcher;
            m.template_id
                .as_deref()
                .is_none_or(|id| Some(id) == template_id)
                && m.template_name
                    .as_deref()
                    .is_none_or(|name| Some(name) == template_name)
                && m.tags
                    .iter()
                    .all(|(key, value)| tags.get(key) == Some(value))
        })
    }
}

/// The configuration file being parsed: its path and text name the line of every error.
struct ConfigFile<'a> {
    path: &'a Path,
    text: &'a str,
}

impl ConfigFile<'_> {
    fn error(&self, span: Range<usize>, key: &str, message: String) -> ConfigError {
        let start = span.start.min(self.text.len());
        ConfigError {
            path: self.path.to_path_buf(),
            line: self.text[..start].matches('\n').count() + 1,
            key: key.to_string(),
            message,
        }
    }

    /// The dotted key written on the line holding `offset` (`window.min_runs`), under the nearest
    /// table header above it; `None` when the line assigns no key (a header, a syntax error).
    fn key_at(&self, offset: usize) -> Option<String> {
        let offset = offset.min(self.text.len());
        let line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[line_start..].lines().next().unwrap_or_default();
        let (key, _) = line.split_once('=')?;
        let key = key.trim();
        if key.is_empty() || key.starts_with('[') || key.starts_with('#') {
            return None;
        }
        let header = self.text[..line_start]
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('['))
            .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
        Some(match header {
            Some(table) => format!("{table}.{key}"),
            None => key.to_string(),
        })
    }

    fn duration(&self, value: &Spanned<String>, key: &str) -> Result<f64, ConfigError> {
        parse_duration_s(value.get_ref()).map_err(|message| self.error(value.span(), key, message))
    }

    /// A count (`budget`, `outage`): a non-negative number.
    fn count(&self, value: &Option<Spanned<f64>>, key: &str) -> Result<Option<f64>, ConfigError> {
        match value {
            Some(value) if !value.get_ref().is_finite() || *value.get_ref() < 0.0 => {
                Err(self.error(value.span(), key, "must be a non-negative number".into()))
            }
            Some(value) => Ok(Some(*value.get_ref())),
            None => Ok(None),
        }
    }

    /// `[cost] action_catalog`: a CSV file, relative to the configuration file's folder, parsed
    /// as the built-in catalog is; its errors name the file and line.
    fn catalog(&self, value: &Spanned<String>) -> Result<ActionCatalog, ConfigError> {
        let relative = Path::new(value.get_ref());
        let path = self
            .path
            .parent()
            .map(|folder| folder.join(relative))
            .unwrap_or_else(|| relative.to_path_buf());
        let text = std::fs::read_to_string(&path).map_err(|error| {
            self.error(
                value.span(),
                "cost.action_catalog",
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        ActionCatalog::parse(&text).map_err(|problem| {
            self.error(
                value.span(),
                "cost.action_catalog",
                format!("{}: {problem}", path.display()),
            )
        })
    }

    /// `[cost]` into `cost`; the keys the file set.
    fn cost(&self, raw: RawCost, cost: &mut CostConfig) -> Result<Vec<&'static str>, ConfigError> {
        let mut keys_set = Vec::new();
        for (key, target, value) in [
            (
                "revenue_per_hour",
                &mut cost.revenue_per_hour,
                raw.revenue_per_hour,
            ),
            (
                "engineers_on_incident",
                &mut cost.engineers_on_incident,
                raw.engineers_on_incident,
            ),
            (
                "engineer_hourly_rate",
                &mut cost.engineer_hourly_rate,
                raw.engineer_hourly_rate,
            ),
            ("outage_hours", &mut cost.outage_hours, raw.outage_hours),
            (
                "degraded_factor",
                &mut cost.degraded_factor,
                raw.degraded_factor,
            ),
            (
                "engineer_hours_per_experiment",
                &mut cost.engineer_hours_per_experiment,
                raw.engineer_hours_per_experiment,
            ),
            (
                "remediation_hours_per_weakness",
                &mut cost.remediation_hours_per_weakness,
                raw.remediation_hours_per_weakness,
            ),
            (
                "fis_price_per_action_minute",
                &mut cost.fis_price_per_action_minute,
                raw.fis_price_per_action_minute,
            ),
            ("fixed_costs", &mut cost.fixed_costs, raw.fixed_costs),
        ] {
            if let Some(value) = value {
                let number = *value.get_ref();
                if !number.is_finite() || number < 0.0 {
                    return Err(self.error(
                        value.span(),
                        &format!("cost.{key}"),
                        format!("{number} must be a non-negative number"),
                    ));
                }
                *target = number;
                keys_set.push(key);
            }
        }
        if let Some(findings_from) = raw.findings_from {
            let span = findings_from.span();
            let mut classes = Vec::new();
            for name in findings_from.into_inner() {
                let class = EnvironmentClass::from_name(name.trim()).ok_or_else(|| {
                    self.error(
                        span.clone(),
                        "cost.findings_from",
                        format!(
                            "`{name}` is not an environment class: production, staging or development"
                        ),
                    )
                })?;
                if !classes.contains(&class) {
                    classes.push(class);
                }
            }
            cost.findings_from = classes;
            keys_set.push("findings_from");
        }
        Ok(keys_set)
    }

    /// `[window]` into `window`.
    fn window(&self, raw: &RawWindow, window: &mut WindowSettings) -> Result<(), ConfigError> {
        if let Some(pre) = &raw.pre {
            window.pre_s = self.duration(pre, "window.pre")?;
        }
        if let Some(post) = &raw.post {
            window.post_s = self.duration(post, "window.post")?;
        }
        if let Some(hold) = &raw.hold {
            let value = *hold.get_ref();
            if !(1..=1000).contains(&value) {
                return Err(self.error(
                    hold.span(),
                    "window.hold",
                    format!("{value} must be between 1 and 1000 points"),
                ));
            }
            window.hold = value as usize;
        }
        if let Some(min_runs) = &raw.min_runs {
            let value = *min_runs.get_ref();
            if !(1..=1_000_000).contains(&value) {
                return Err(self.error(
                    min_runs.span(),
                    "window.min_runs",
                    format!("{value} must be a whole number of runs, at least 1"),
                ));
            }
            window.min_runs = value as u64;
        }
        if let Some(fresh_for) = &raw.fresh_for {
            window.fresh_for_s = self.duration(fresh_for, "window.fresh_for")?;
        }
        Ok(())
    }

    /// `[environments]`: the values of each class, lower case; one value in two classes is an error.
    fn environments(&self, raw: Spanned<RawEnvironments>) -> Result<Environments, ConfigError> {
        let span = raw.span();
        let raw = raw.into_inner();
        let lower = |list: Option<Vec<String>>, default: Vec<String>| -> Vec<String> {
            list.map(|l| l.iter().map(|v| v.trim().to_ascii_lowercase()).collect())
                .unwrap_or(default)
        };
        let defaults = Environments::default();
        let environments = Environments {
            production: lower(raw.production, defaults.production),
            staging: lower(raw.staging, defaults.staging),
        };
        if let Some(both) = environments
            .production
            .iter()
            .find(|value| environments.staging.contains(value))
        {
            return Err(self.error(
                span,
                "environments",
                format!("`{both}` is both production and staging"),
            ));
        }
        Ok(environments)
    }

    /// Every `[[service]]`: a name given once, a duration for `rto`, a share between 0 and 1.
    fn services(&self, raw: Vec<Spanned<RawService>>) -> Result<Vec<ServiceConfig>, ConfigError> {
        let mut services: Vec<ServiceConfig> = Vec::new();
        for (index, service) in raw.into_iter().enumerate() {
            let key = |field: &str| format!("service[{index}].{field}");
            let service = service.into_inner();
            let name = service.name.get_ref().trim().to_string();
            if name.is_empty() || services.iter().any(|s| s.name == name) {
                let problem = if name.is_empty() {
                    "a service needs a name".to_string()
                } else {
                    format!("service `{name}` is given twice")
                };
                return Err(self.error(service.name.span(), &key("name"), problem));
            }
            let rto_s = match &service.rto {
                Some(rto) => Some(self.duration(rto, &key("rto"))?),
                None => None,
            };
            let revenue_share = match &service.revenue_share {
                Some(share) if !(0.0..=1.0).contains(share.get_ref()) => {
                    return Err(self.error(
                        share.span(),
                        &key("revenue_share"),
                        format!("{} must be between 0 and 1", share.get_ref()),
                    ));
                }
                Some(share) => *share.get_ref(),
                None => 1.0,
            };
            services.push(ServiceConfig {
                name,
                rto_s,
                revenue_share,
            });
        }
        Ok(services)
    }

    /// One `[[hypothesis]]`; `prefix` is `hypothesis[i]`.
    fn hypothesis(&self, prefix: &str, raw: RawHypothesis) -> Result<Hypothesis, ConfigError> {
        let matcher = raw.matcher.get_ref();
        if matcher.template_id.is_none()
            && matcher.template_name.is_none()
            && matcher.tags.is_empty()
        {
            return Err(self.error(
                raw.matcher.span(),
                &format!("{prefix}.match"),
                "needs template_id, template_name or tags".to_string(),
            ));
        }
        let recover_within_s = match &raw.recover_within {
            Some(value) => Some(self.duration(value, &format!("{prefix}.recover_within"))?),
            None => None,
        };
        let mut series: Vec<SeriesConfig> = Vec::new();
        let mut expressions = Vec::new();
        let mut expanded = Vec::new();
        for (index, raw_series) in raw.series.into_iter().enumerate() {
            match &raw_series.preset {
                Some(_) => expanded
                    .extend(self.expand_preset(&format!("{prefix}.series[{index}]"), raw_series)?),
                None => expanded.push(raw_series),
            }
        }
        for (index, raw_series) in expanded.into_iter().enumerate() {
            let prefix = format!("{prefix}.series[{index}]");
            let (parsed, expression) = self.series(&prefix, raw_series)?;
            if let Some((text, expr)) = expression {
                expressions.push((index, prefix, text, expr));
            }
            series.push(parsed);
        }
        // An expression reads metric series of its own hypothesis; it takes their longest
        // period.
        for (index, prefix, text, parsed) in expressions {
            let mut period_s = 0;
            for id in parsed.series_ids() {
                match series.iter().find(|s| s.id == id && s.expression.is_none()) {
                    Some(input) => period_s = period_s.max(input.period_s),
                    None => {
                        return Err(self.error(
                            text.span(),
                            &format!("{prefix}.expression"),
                            format!(
                                "`{id}` is not a metric series of this hypothesis (series with namespace, metric and stat)"
                            ),
                        ));
                    }
                }
            }
            if period_s > 0 {
                series[index].period_s = period_s;
            }
        }
        let matcher = raw.matcher.into_inner();
        Ok(Hypothesis {
            name: raw.name.into_inner(),
            matcher: HypothesisMatch {
                template_id: matcher.template_id,
                template_name: matcher.template_name,
                tags: matcher.tags,
            },
            recover_within_s,
            series,
        })
    }

    /// One `[[hypothesis.series]]`; `prefix` is `hypothesis[i].series[j]`. Returns the series and,
    /// for an expression, its text and parse (whose inputs the hypothesis checks).
    /// A `preset = "…"` series entry as the preset's series (all, or the one its `id` names), with
    /// the entry's dimensions (each series takes the names it needs) and its other keys
    /// overriding the preset's. Values from the preset carry the `preset` key's position.
    fn expand_preset(&self, prefix: &str, raw: RawSeries) -> Result<Vec<RawSeries>, ConfigError> {
        let name = raw.preset.clone().expect("called for a preset entry");
        let key = |field: &str| format!("{prefix}.{field}");
        let preset = crate::presets::preset(name.get_ref()).ok_or_else(|| {
            self.error(
                name.span(),
                &key("preset"),
                format!(
                    "`{}` is not a metric preset: {}",
                    name.get_ref(),
                    crate::presets::names().join(", ")
                ),
            )
        })?;
        if raw.expression.is_some() || raw.namespace.is_some() || raw.metric.is_some() {
            return Err(self.error(
                name.span(),
                &key("preset"),
                "a preset gives namespace and metric; leave out namespace, metric and expression"
                    .into(),
            ));
        }
        let chosen: Vec<&crate::presets::PresetSeries> = match &raw.id {
            None => preset.series.iter().collect(),
            Some(id) => {
                let one = preset.series.iter().find(|s| &s.id == id.get_ref());
                vec![one.ok_or_else(|| {
                    self.error(
                        id.span(),
                        &key("id"),
                        format!(
                            "preset `{}` has no series `{}`: {}",
                            name.get_ref(),
                            id.get_ref(),
                            preset
                                .series
                                .iter()
                                .map(|s| s.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?]
            }
        };
        let at = |value: String| Spanned::new(name.span(), value);
        let mut out = Vec::new();
        for series in chosen {
            let mut dimensions = BTreeMap::new();
            for dimension in &series.dimensions {
                let value = raw.dimensions.get(dimension).ok_or_else(|| {
                    self.error(
                        name.span(),
                        &key("dimensions"),
                        format!(
                            "preset `{}` series `{}` needs the dimension {dimension} ({})",
                            name.get_ref(),
                            series.id,
                            preset.dimensions_hint
                        ),
                    )
                })?;
                dimensions.insert(dimension.clone(), value.clone());
            }
            out.push(RawSeries {
                id: Some(at(series.id.clone())),
                preset: None,
                namespace: Some(series.namespace.clone()),
                metric: Some(series.metric.clone()),
                dimensions,
                stat: raw.stat.clone().or(Some(series.stat.clone())),
                expression: None,
                period: raw.period.clone().or(series.period.clone().map(at)),
                steady: raw.steady.clone().or(series.steady.clone().map(at)),
                limit: raw.limit.clone().or(series.limit.clone().map(at)),
                kind: raw.kind.clone().or(series.kind.clone().map(at)),
                budget: raw
                    .budget
                    .clone()
                    .or(series.budget.map(|b| Spanned::new(name.span(), b))),
                outage: raw
                    .outage
                    .clone()
                    .or(series.outage.map(|o| Spanned::new(name.span(), o))),
            });
        }
        Ok(out)
    }

    fn series(
        &self,
        prefix: &str,
        raw: RawSeries,
    ) -> Result<(SeriesConfig, Option<(Spanned<String>, metric_math::Expr)>), ConfigError> {
        let key = |field: &str| format!("{prefix}.{field}");
        let Some(id) = raw.id.clone() else {
            // The entry's first key with a position, for the line.
            let span = [
                &raw.steady,
                &raw.kind,
                &raw.period,
                &raw.expression,
                &raw.limit,
            ]
            .into_iter()
            .flatten()
            .map(|value| value.span())
            .next()
            .unwrap_or(0..0);
            return Err(self.error(
                span,
                &key("id"),
                "a series needs an id (or a preset)".into(),
            ));
        };
        let kind = match &raw.kind {
            None => SeriesKind::Level,
            Some(kind) => SeriesKind::from_name(kind.get_ref()).ok_or_else(|| {
                self.error(
                    kind.span(),
                    &key("kind"),
                    format!("`{}` must be level, errors or input", kind.get_ref()),
                )
            })?,
        };
        let source = match (&raw.expression, &raw.namespace, &raw.metric, &raw.stat) {
            (Some(expression), None, None, None) => {
                let parsed = metric_math::parse(expression.get_ref()).map_err(|message| {
                    self.error(expression.span(), &key("expression"), message)
                })?;
                if kind == SeriesKind::Input {
                    return Err(self.error(
                        expression.span(),
                        &key("kind"),
                        "an expression cannot be an input".into(),
                    ));
                }
                SeriesSource::Expression(expression.clone(), parsed)
            }
            (None, Some(namespace), Some(metric), Some(stat)) => {
                SeriesSource::Metric(namespace.clone(), metric.clone(), stat.clone())
            }
            _ => {
                return Err(self.error(
                    id.span(),
                    &key("expression"),
                    "a series has either namespace, metric and stat, or an expression".into(),
                ));
            }
        };
        let steady = match &raw.steady {
            Some(steady) => {
                Condition::parse(steady.get_ref())
                    .map_err(|message| self.error(steady.span(), &key("steady"), message))?;
                steady.get_ref().trim().to_string()
            }
            None if kind == SeriesKind::Errors => ">= 0".to_string(),
            None if kind == SeriesKind::Input => String::new(),
            None => {
                return Err(self.error(
                    id.span(),
                    &key("steady"),
                    "a level series needs a steady condition".into(),
                ));
            }
        };
        let limit = match &raw.limit {
            Some(limit) => {
                let parsed = Condition::parse(limit.get_ref())
                    .map_err(|message| self.error(limit.span(), &key("limit"), message))?;
                if parsed == Condition::Baseline {
                    return Err(self.error(
                        limit.span(),
                        &key("limit"),
                        "a limit must be a number, not baseline".into(),
                    ));
                }
                Some(limit.get_ref().trim().to_string())
            }
            None => None,
        };
        let period_s = match &raw.period {
            Some(period) => {
                let seconds = self.duration(period, &key("period"))?;
                if seconds < 1.0 || seconds.fract() != 0.0 {
                    return Err(self.error(
                        period.span(),
                        &key("period"),
                        "must be a whole number of seconds, at least 1s".into(),
                    ));
                }
                seconds as i64
            }
            None => 60,
        };
        let (namespace, metric, stat, expression, parsed) = match source {
            SeriesSource::Metric(namespace, metric, stat) => (namespace, metric, stat, None, None),
            SeriesSource::Expression(text, expr) => {
                let expression = metric_math::MetricExpression {
                    text: text.get_ref().clone(),
                    expr: expr.clone(),
                };
                let empty = String::new;
                (
                    empty(),
                    empty(),
                    empty(),
                    Some(expression),
                    Some((text, expr)),
                )
            }
        };
        let series = SeriesConfig {
            id: id.get_ref().clone(),
            namespace,
            metric,
            dimensions: raw.dimensions,
            stat,
            period_s,
            expression,
            steady,
            limit,
            kind,
            budget: self.count(&raw.budget, &key("budget"))?,
            outage: self.count(&raw.outage, &key("outage"))?,
        };
        Ok((series, parsed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of SPEC section 5, verbatim.
    const SPEC_EXAMPLE: &str = r#"
[organization]
name = "Example Corp"
currency = "USD"

[tags]                       # which experiment/template tag keys carry these fields
environment = "env"
team = "team"
service = "service"
trigger = "trigger"          # values: manual, ci, scheduled, gameday

[cost]
revenue_per_hour = 100000
engineers_on_incident = 20
engineer_hourly_rate = 100
outage_hours = 2
degraded_factor = 0.25
engineer_hours_per_experiment = 4
remediation_hours_per_weakness = 16
fis_price_per_action_minute = 0.10   # AWS list price in USD; give it in your currency
findings_from = ["production", "staging"]   # environments whose fixed weaknesses count as avoided loss
fixed_costs = 0

[window]
pre = "15m"
post = "30m"
hold = 3
fresh_for = "90d"            # evidence older than this is stale (§11)

[environments]               # tag values per class, case-insensitive; anything else is development
production = ["prod", "production", "prd", "live"]
staging = ["staging", "stage", "stg", "uat", "preprod"]

[[service]]                  # optional, one per value of the service tag
name = "checkout"
rto = "15m"                  # recovery time objective; recover_within when no hypothesis sets one
revenue_share = 0.4          # share of revenue_per_hour lost while this service is down (default 1.0)

[[hypothesis]]
name = "web tier survives losing one instance"
match = { template_name = "web-asg-terminate" }    # or template_id = "...", or tags = { k = "v" }
recover_within = "5m"

  [[hypothesis.series]]
  id = "healthy_hosts"
  namespace = "AWS/ApplicationELB"
  metric = "HealthyHostCount"
  dimensions = { LoadBalancer = "app/web/50dc6c495c0c9188", TargetGroup = "targetgroup/web/73e2d6bc24d8a067" }
  stat = "Minimum"
  period = "1m"
  steady = ">= 2"

  [[hypothesis.series]]
  id = "p99_latency"
  namespace = "AWS/ApplicationELB"
  metric = "TargetResponseTime"
  dimensions = { LoadBalancer = "app/web/50dc6c495c0c9188" }
  stat = "p99"
  period = "1m"
  steady = "< 0.2"
  limit = "<= 0.5"

  [[hypothesis.series]]
  id = "errors_5xx"
  namespace = "AWS/ApplicationELB"
  metric = "HTTPCode_Target_5XX_Count"
  dimensions = { LoadBalancer = "app/web/50dc6c495c0c9188" }
  stat = "Sum"
  period = "1m"
  kind = "errors"
  budget = 0
  outage = 5
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("checkup.toml"), text)
    }

    #[test]
    fn the_spec_example_parses() {
        let config = parse(SPEC_EXAMPLE).unwrap();
        assert_eq!(
            config.window,
            WindowSettings {
                pre_s: 900.0,
                post_s: 1800.0,
                hold: 3,
                min_runs: 3,
                fresh_for_s: 90.0 * 86_400.0,
            }
        );
        assert_eq!(config.cost, CostConfig::default());
        let hypothesis = &config.hypotheses[0];
        assert_eq!(hypothesis.recover_within_s, Some(300.0));
        let ids: Vec<&str> = hypothesis.series.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["healthy_hosts", "p99_latency", "errors_5xx"]);
        assert_eq!(hypothesis.series[1].limit.as_deref(), Some("<= 0.5"));
        assert_eq!(
            (
                hypothesis.series[2].kind.name(),
                hypothesis.series[2].outage
            ),
            ("errors", Some(5.0))
        );
        assert_eq!(hypothesis.series[0].period_s, 60);
        let tags = BTreeMap::new();
        assert!(
            config
                .hypothesis_for(None, Some("web-asg-terminate"), &tags)
                .is_some()
        );
        assert!(config.hypothesis_for(None, Some("other"), &tags).is_none());
    }

    #[test]
    fn an_empty_file_gives_the_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
    }

    fn check_error(text: &str, expected: &str) {
        let error = parse(text).unwrap_err().to_string();
        assert_eq!(error, expected);
    }

    #[test]
    fn a_preset_expands_to_its_series_with_the_dimensions_each_needs() {
        let text = "[[hypothesis]]\nname = \"web\"\nmatch = { template_name = \"web\" }\n[[hypothesis.series]]\npreset = \"alb\"\ndimensions = { LoadBalancer = \"app/web/1\", TargetGroup = \"targetgroup/web/2\" }\n[[hypothesis.series]]\npreset = \"rds\"\nid = \"connections\"\nsteady = \">= 5\"\nperiod = \"5m\"\ndimensions = { DBClusterIdentifier = \"web-db\" }\n";
        let config = parse(text).unwrap();
        let series = &config.hypotheses[0].series;
        let ids: Vec<&str> = series.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            ["healthy_hosts", "p99_latency", "errors_5xx", "connections"]
        );
        let hosts = &series[0];
        assert_eq!(
            (
                hosts.namespace.as_str(),
                hosts.metric.as_str(),
                hosts.stat.as_str()
            ),
            ("AWS/ApplicationELB", "HealthyHostCount", "Minimum")
        );
        assert_eq!(hosts.dimensions.len(), 2);
        // p99 latency needs only the load balancer.
        assert_eq!(
            series[1].dimensions.keys().collect::<Vec<_>>(),
            ["LoadBalancer"]
        );
        assert_eq!(series[2].kind, SeriesKind::Errors);
        // Keys beside the preset override it.
        let connections = &series[3];
        assert_eq!(
            (connections.steady.as_str(), connections.period_s),
            (">= 5", 300)
        );
        assert_eq!(connections.metric, "DatabaseConnections");

        // Every preset expands with its own metric names.
        let every = "[[hypothesis]]\nname = \"all\"\nmatch = { template_name = \"all\" }\n[[hypothesis.series]]\npreset = \"ecs\"\ndimensions = { ClusterName = \"c\", ServiceName = \"s\" }\n[[hypothesis.series]]\npreset = \"dynamodb\"\ndimensions = { TableName = \"orders\", Operation = \"GetItem\" }\n[[hypothesis.series]]\npreset = \"asg\"\ndimensions = { AutoScalingGroupName = \"web\" }\n[[hypothesis.series]]\npreset = \"lambda\"\ndimensions = { FunctionName = \"f\" }\n";
        let metrics: Vec<String> = parse(every).unwrap().hypotheses[0]
            .series
            .iter()
            .map(|s| format!("{} {} {}", s.namespace, s.metric, s.stat))
            .collect();
        assert_eq!(
            metrics,
            [
                "ECS/ContainerInsights RunningTaskCount Minimum",
                "AWS/ECS CPUUtilization Average",
                "AWS/ECS MemoryUtilization Average",
                "AWS/DynamoDB SuccessfulRequestLatency Average",
                "AWS/DynamoDB ThrottledRequests Sum",
                "AWS/DynamoDB SystemErrors Sum",
                "AWS/AutoScaling GroupInServiceInstances Minimum",
                "AWS/EC2 CPUUtilization Average",
                "AWS/Lambda Errors Sum",
                "AWS/Lambda Throttles Sum",
                "AWS/Lambda Duration p99",
            ]
        );

        let unknown = "[[hypothesis]]\nname = \"web\"\nmatch = { template_name = \"web\" }\n[[hypothesis.series]]\npreset = \"elb\"\n";
        check_error(
            unknown,
            "checkup.toml:5: hypothesis[0].series[0].preset: `elb` is not a metric preset: alb, asg, rds, ecs, lambda, dynamodb",
        );
        let missing = "[[hypothesis]]\nname = \"web\"\nmatch = { template_name = \"web\" }\n[[hypothesis.series]]\npreset = \"alb\"\ndimensions = { LoadBalancer = \"app/web/1\" }\n";
        check_error(
            missing,
            "checkup.toml:5: hypothesis[0].series[0].dimensions: preset `alb` series `healthy_hosts` needs the dimension TargetGroup (LoadBalancer = \"app/<name>/<id>\", TargetGroup = \"targetgroup/<name>/<id>\")",
        );
        let wrong_id = "[[hypothesis]]\nname = \"web\"\nmatch = { template_name = \"web\" }\n[[hypothesis.series]]\npreset = \"lambda\"\nid = \"latency\"\n";
        check_error(
            wrong_id,
            "checkup.toml:6: hypothesis[0].series[0].id: preset `lambda` has no series `latency`: function_errors, throttles, p99_duration",
        );
    }

    #[test]
    fn errors_name_the_line_and_the_key() {
        check_error(
            "[window]\npre = \"15\"\n",
            "checkup.toml:2: window.pre: duration `15` needs a unit: s, m, h or d",
        );
        check_error(
            "[window]\nfresh_for = \"ninety days\"\n",
            "checkup.toml:2: window.fresh_for: duration `ninety days` is not a number followed by s, m, h or d",
        );
        check_error(
            "[cost]\nfis_price_per_action_minute = -0.1\n",
            "checkup.toml:2: cost.fis_price_per_action_minute: -0.1 must be a non-negative number",
        );
        check_error(
            "[cost]\nremediation_hours_per_weakness = \"16h\"\n",
            "checkup.toml:2: cost.remediation_hours_per_weakness: invalid type: string \"16h\", expected f64",
        );
        check_error(
            "[cost]\nfindings_from = [\"production\", \"qa\"]\n",
            "checkup.toml:2: cost.findings_from: `qa` is not an environment class: production, staging or development",
        );
        check_error(
            "[window]\nhold = 0\n",
            "checkup.toml:2: window.hold: 0 must be between 1 and 1000 points",
        );
        check_error(
            "[window]\nhold = 3\nmin_runs = -1\n",
            "checkup.toml:3: window.min_runs: -1 must be a whole number of runs, at least 1",
        );
        check_error(
            "[window]\nmin_runs = \"three\"\n",
            "checkup.toml:2: window.min_runs: invalid type: string \"three\", expected i64",
        );
        check_error(
            "[cost]\noutage_hours = -2\n",
            "checkup.toml:2: cost.outage_hours: -2 must be a non-negative number",
        );
        check_error(
            "[[hypothesis]]\nname = \"x\"\nmatch = { template_name = \"t\" }\n[[hypothesis.series]]\nid = \"a\"\nnamespace = \"n\"\nmetric = \"m\"\nstat = \"Sum\"\nsteady = \"=> 2\"\n",
            "checkup.toml:9: hypothesis[0].series[0].steady: condition `=> 2` must be <, <=, >, >=, == followed by a number, or baseline",
        );
        let with_input = "[[hypothesis]]\nname = \"x\"\nmatch = { template_name = \"t\" }\n[[hypothesis.series]]\nid = \"requests\"\nnamespace = \"n\"\nmetric = \"m\"\nstat = \"Sum\"\nkind = \"input\"\n[[hypothesis.series]]\nid = \"rate\"\nsteady = \"< 1\"\n";
        check_error(
            &format!("{with_input}expression = \"100 * errors / requests\"\n"),
            "checkup.toml:13: hypothesis[0].series[1].expression: `errors` is not a metric series of this hypothesis (series with namespace, metric and stat)",
        );
        check_error(
            &format!("{with_input}expression = \"100 * (requests\"\n"),
            "checkup.toml:13: hypothesis[0].series[1].expression: the `(` at character 7 is not closed",
        );
        check_error(
            &format!("{with_input}expression = \"requests\"\nnamespace = \"n\"\n"),
            "checkup.toml:11: hypothesis[0].series[1].expression: a series has either namespace, metric and stat, or an expression",
        );
        let config = parse(&format!(
            "{with_input}expression = \"100 * FILL(requests, 0) / 60\"\nperiod = \"5m\"\n"
        ))
        .unwrap();
        let rate = &config.hypotheses[0].series[1];
        assert_eq!(
            rate.expression.as_ref().unwrap().text,
            "100 * FILL(requests, 0) / 60"
        );
        // An expression takes the period of its inputs.
        assert_eq!(rate.period_s, 60);
        assert_eq!(config.hypotheses[0].series[0].steady, "");
        check_error(
            "[[hypothesis]]\nname = \"x\"\nmatch = {}\n",
            "checkup.toml:3: hypothesis[0].match: needs template_id, template_name or tags",
        );
        check_error(
            "[environments]\nproduction = [\"prod\", \"UAT\"]\nstaging = [\"uat\"]\n",
            "checkup.toml:1: environments: `uat` is both production and staging",
        );
        check_error(
            "[[service]]\nname = \"web\"\n[[service]]\nname = \"web\"\n",
            "checkup.toml:4: service[1].name: service `web` is given twice",
        );
        check_error(
            "[[service]]\nname = \"web\"\nrto = \"-5m\"\n",
            "checkup.toml:3: service[0].rto: duration `-5m` must be a non-negative number",
        );
        check_error(
            "[[service]]\nname = \"web\"\nrevenue_share = 1.5\n",
            "checkup.toml:3: service[0].revenue_share: 1.5 must be between 0 and 1",
        );
        check_error(
            "[[service]]\nname = \"web\"\nrto = 15\n",
            "checkup.toml:3: service.rto: invalid type: integer `15`, expected a string",
        );
        let services = parse(
            "[environments]\nproduction = [\"Live\"]\n[[service]]\nname = \"checkout\"\nrto = \"15m\"\nrevenue_share = 0.4\n",
        )
        .unwrap();
        assert_eq!(
            services.environments.class_of(Some("LIVE")),
            crate::vocab::practice::EnvironmentClass::Production
        );
        assert_eq!(
            services.environments.class_of(Some("prod")),
            crate::vocab::practice::EnvironmentClass::Development,
            "a class given replaces its default values"
        );
        assert_eq!(
            services.environments.class_of(Some("uat")),
            crate::vocab::practice::EnvironmentClass::Staging
        );
        assert_eq!(services.rto_by_service()["checkout"], 900.0);
        assert_eq!(services.services[0].revenue_share, 0.4);
        let unknown = parse("[cost]\nrevenue = 5\n").unwrap_err();
        assert_eq!((unknown.line, unknown.key.as_str()), (2, "cost.revenue"));
        assert!(
            unknown.message.contains("unknown field `revenue`"),
            "{}",
            unknown.message
        );
    }
}
