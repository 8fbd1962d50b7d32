//! The action catalog (`data/action_catalog.csv`): every FIS action id mapped to the seed's four
//! systems (I musculoskeletal, II circulatory, III nervous, IV immune), whether it injects a
//! fault at all, a fault class and the default annual rate of that fault in production, with a low
//! and high estimate and where those rates come from.

use std::collections::HashMap;

use serde::Deserialize;

use super::System;

pub const BUILT_IN_CATALOG: &str = include_str!("../../data/action_catalog.csv");

/// The tag on a template or experiment that overrides the catalog's system.
pub const SYSTEM_TAG: &str = "checkup:system";

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct CatalogEntry {
    pub action_id: String,
    /// I, II, III or IV; `None` for actions that inject no fault (`aws:fis:wait`).
    #[serde(deserialize_with = "system")]
    pub system: Option<System>,
    /// `false` for actions that inject nothing (`aws:fis:wait`, `aws:cloudwatch:assert-alarm-state`):
    /// they place neither the fault's start nor a system's coverage (SPEC section 6).
    pub injects_fault: bool,
    pub fault_class: String,
    #[serde(deserialize_with = "rate")]
    pub annual_rate: f64,
    #[serde(deserialize_with = "rate")]
    pub annual_rate_low: f64,
    #[serde(deserialize_with = "rate")]
    pub annual_rate_high: f64,
    pub description: String,
    /// Where the rates come from: a citation, or `assumption: …` said plainly (SPEC section 8).
    #[serde(deserialize_with = "source")]
    pub source: String,
}

/// A rate's source: never empty, so no figure of the executive page is unexplained.
fn source<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.trim().is_empty() {
        Err(serde::de::Error::custom(
            "column `source` is empty: every rate names its source (a citation, or `assumption: ...`)",
        ))
    } else {
        Ok(text.trim().to_string())
    }
}

/// An empty system (no fault injected), or one of the seed's four.
fn system<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<System>, D::Error> {
    let text = String::deserialize(deserializer)?;
    match text.as_str() {
        "" => Ok(None),
        other => System::from_name(other).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("system `{other}` is not I, II, III or IV"))
        }),
    }
}

fn rate<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let rate = f64::deserialize(deserializer)?;
    if rate.is_finite() && rate >= 0.0 {
        Ok(rate)
    } else {
        Err(serde::de::Error::custom(format!(
            "{rate} is not a non-negative number"
        )))
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionCatalog {
    /// By action id. Hashed, not ordered: judging, systems and ROI look up every action of every
    /// run, several times (a million lookups on 100,000 experiments).
    pub entries: HashMap<String, CatalogEntry>,
}

impl ActionCatalog {
    pub fn built_in() -> ActionCatalog {
        ActionCatalog::parse(BUILT_IN_CATALOG).expect("the built-in action catalog parses")
    }

    /// Parses the catalog's CSV (a header row, then one action per row; the csv crate's quoting).
    pub fn parse(text: &str) -> Result<ActionCatalog, String> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut entries = HashMap::new();
        for row in reader.deserialize() {
            let entry: CatalogEntry = row.map_err(|error| match error.position() {
                Some(position) => format!("line {}: {error}", position.line()),
                None => error.to_string(),
            })?;
            entries.insert(entry.action_id.clone(), entry);
        }
        Ok(ActionCatalog { entries })
    }

    /// The entry of an action id, else the service's wildcard entry (`aws:kinesis:*`), so that an
    /// action FIS adds after this catalog was written still lands in a system.
    pub fn lookup(&self, action_id: &str) -> Option<&CatalogEntry> {
        self.entries.get(action_id).or_else(|| {
            let service = action_id.rsplit_once(':')?.0;
            self.entries.get(&format!("{service}:*"))
        })
    }

    /// Whether an action injects a fault: the catalog says so for the actions it knows; a Chaos
    /// Toolkit probe only observes; any other action (a FIS action newer than the catalog, a Chaos
    /// Toolkit action) is taken to inject one.
    pub fn injects_fault(&self, action_id: &str) -> bool {
        if action_id.starts_with("chaostoolkit:probe:") {
            return false;
        }
        self.lookup(action_id)
            .is_none_or(|entry| entry.injects_fault)
    }

    pub fn system_of(&self, action_id: &str) -> Option<System> {
        self.lookup(action_id).and_then(|entry| entry.system)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalog_maps_the_seed_examples() {
        let catalog = ActionCatalog::built_in();
        assert_eq!(
            catalog.system_of("aws:ec2:terminate-instances"),
            Some(System::I)
        );
        assert_eq!(
            catalog.system_of("aws:rds:failover-db-cluster"),
            Some(System::II)
        );
        assert_eq!(
            catalog.system_of("aws:network:disrupt-connectivity"),
            Some(System::III)
        );
        assert_eq!(catalog.system_of("aws:fis:wait"), None);
        assert!(!catalog.injects_fault("aws:fis:wait"));
        assert!(!catalog.injects_fault("aws:cloudwatch:assert-alarm-state"));
        assert!(!catalog.injects_fault("chaostoolkit:probe:python:m.f"));
        assert!(catalog.injects_fault("aws:ec2:terminate-instances"));
        assert!(catalog.injects_fault("aws:brand-new:fault"));
        // An action newer than the catalog falls back to its service's entry.
        assert_eq!(
            catalog
                .lookup("aws:kinesis:inject-api-some-new-error")
                .map(|e| e.fault_class.as_str()),
            Some("stream-api-error")
        );
        assert_eq!(
            catalog.system_of("aws:dsql:some-new-fault"),
            Some(System::II)
        );
        assert_eq!(catalog.system_of("aws:unknown:thing"), None);
        assert!(catalog.entries.len() > 40);
        // A quoted description keeps its commas.
        assert!(
            catalog.entries["aws:ssm:send-command"]
                .description
                .contains("stress, kill")
        );
    }

    #[test]
    fn a_bad_row_is_refused_naming_its_line() {
        let header = "action_id,system,injects_fault,fault_class,annual_rate,annual_rate_low,annual_rate_high,description,source\n";
        let bad_system = format!("{header}aws:x:y,V,true,c,1,0.5,2,d,assumption\n");
        let error = ActionCatalog::parse(&bad_system).unwrap_err();
        assert!(
            error.starts_with("line 2:") && error.contains("system `V`"),
            "{error}"
        );
        let negative = format!("{header}aws:x:y,I,true,c,1,-0.5,2,d,assumption\n");
        let error = ActionCatalog::parse(&negative).unwrap_err();
        assert!(
            error.contains("-0.5 is not a non-negative number"),
            "{error}"
        );
        let short = format!("{header}aws:x:y,I,c\n");
        assert!(
            ActionCatalog::parse(&short)
                .unwrap_err()
                .starts_with("line 2:")
        );
        let unsourced =
            format!("{header}aws:x:y,I,true,c,1,0.5,2,d,assumption\naws:x:z,I,true,c,1,0.5,2,d,\n");
        let error = ActionCatalog::parse(&unsourced).unwrap_err();
        assert!(
            error.starts_with("line 3:") && error.contains("column `source` is empty"),
            "{error}"
        );
        assert!(
            ActionCatalog::built_in()
                .entries
                .values()
                .all(|entry| !entry.source.is_empty())
        );
    }
}
