//! CloudWatch metric presets (SPEC section 5): `queries/cloudwatch/<name>.toml`, built in. A
//! `[[hypothesis.series]]` entry `preset = "alb"` expands to the preset's series (config.rs), and
//! `checkup init` picks presets by the resource types of a template's targets.

use serde::Deserialize;

/// Every preset, by name, as its file says it.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("alb", include_str!("../queries/cloudwatch/alb.toml")),
    ("asg", include_str!("../queries/cloudwatch/asg.toml")),
    ("rds", include_str!("../queries/cloudwatch/rds.toml")),
    ("ecs", include_str!("../queries/cloudwatch/ecs.toml")),
    ("lambda", include_str!("../queries/cloudwatch/lambda.toml")),
    (
        "dynamodb",
        include_str!("../queries/cloudwatch/dynamodb.toml"),
    ),
];

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub description: String,
    /// The FIS target resource types the preset observes (`aws:rds:cluster`).
    pub resource_types: Vec<String>,
    /// How the dimensions look, for the comments `checkup init` writes.
    pub dimensions_hint: String,
    pub series: Vec<PresetSeries>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetSeries {
    pub id: String,
    pub namespace: String,
    pub metric: String,
    pub stat: String,
    /// The dimension names the series needs from the hypothesis's `dimensions`.
    pub dimensions: Vec<String>,
    pub period: Option<String>,
    pub steady: Option<String>,
    pub limit: Option<String>,
    pub kind: Option<String>,
    pub budget: Option<f64>,
    pub outage: Option<f64>,
}

/// The names of the built-in presets, for messages.
pub fn names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|(name, _)| *name).collect()
}

/// Every built-in preset, parsed once (config expansion and `init` ask for them per series and
/// per target).
fn parsed() -> &'static [(&'static str, Preset)] {
    static PARSED: std::sync::LazyLock<Vec<(&'static str, Preset)>> =
        std::sync::LazyLock::new(|| {
            BUILT_IN
                .iter()
                .map(|(name, text)| {
                    let preset = toml::from_str(text).unwrap_or_else(|error| {
                        panic!("preset {name} parses (a test checks): {error}")
                    });
                    (*name, preset)
                })
                .collect()
        });
    &PARSED
}

/// A built-in preset by name.
pub fn preset(name: &str) -> Option<&'static Preset> {
    parsed()
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, preset)| preset)
}

/// The presets that observe a FIS target resource type.
pub fn for_resource_type(resource_type: &str) -> Vec<&'static str> {
    parsed()
        .iter()
        .filter(|(_, preset)| preset.resource_types.iter().any(|t| t == resource_type))
        .map(|(name, _)| *name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::{Condition, SeriesKind};

    #[test]
    fn every_preset_parses_with_real_metric_names_and_valid_conditions() {
        assert_eq!(names(), ["alb", "asg", "rds", "ecs", "lambda", "dynamodb"]);
        for name in names() {
            let preset = preset(name).unwrap();
            assert!(!preset.series.is_empty(), "{name}");
            for series in &preset.series {
                assert!(
                    series.namespace.starts_with("AWS/") || series.namespace.starts_with("ECS/"),
                    "{name}.{}",
                    series.id
                );
                assert!(!series.dimensions.is_empty(), "{name}.{}", series.id);
                let kind = series.kind.as_deref().map(SeriesKind::from_name);
                assert!(
                    kind.is_none() || kind.unwrap().is_some(),
                    "{name}.{}",
                    series.id
                );
                if let Some(steady) = &series.steady {
                    Condition::parse(steady).unwrap();
                } else {
                    assert_eq!(
                        series.kind.as_deref(),
                        Some("errors"),
                        "{name}.{}",
                        series.id
                    );
                }
            }
        }
        assert_eq!(for_resource_type("aws:rds:cluster"), ["rds"]);
        assert_eq!(for_resource_type("aws:ec2:autoscaling-group"), ["asg"]);
        assert!(for_resource_type("aws:s3:bucket").is_empty());
    }
}
