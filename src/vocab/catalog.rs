//! The action catalog (`data/action_catalog.csv`): every FIS action id mapped to the seed's four
//! systems (I musculoskeletal, II circulatory, III nervous, IV immune), a fault class and the
//! default annual rate of that fault in production, with a low and high estimate.

use std::collections::BTreeMap;

pub const BUILT_IN_CATALOG: &str = include_str!("../../data/action_catalog.csv");

/// The tag on a template or experiment that overrides the catalog's system.
pub const SYSTEM_TAG: &str = "checkup:system";

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    pub action_id: String,
    /// I, II, III or IV; `None` for actions that inject no fault (`aws:fis:wait`).
    pub system: Option<String>,
    pub fault_class: String,
    pub annual_rate: f64,
    pub annual_rate_low: f64,
    pub annual_rate_high: f64,
    pub description: String,
}

#[derive(Debug, Clone, Default)]
pub struct ActionCatalog {
    pub entries: BTreeMap<String, CatalogEntry>,
}

impl ActionCatalog {
    pub fn built_in() -> ActionCatalog {
        ActionCatalog::parse(BUILT_IN_CATALOG).expect("the built-in action catalog parses")
    }

    /// Parses the catalog's CSV. The description is the last column and may hold commas.
    pub fn parse(text: &str) -> Result<ActionCatalog, String> {
        let mut entries = BTreeMap::new();
        for (index, line) in text.lines().enumerate().skip(1) {
            let line_number = index + 1;
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.splitn(7, ',').map(str::trim).collect();
            if fields.len() != 7 {
                return Err(format!(
                    "line {line_number}: expected 7 fields, found {}",
                    fields.len()
                ));
            }
            let rate = |field: usize, name: &str| -> Result<f64, String> {
                fields[field]
                    .parse::<f64>()
                    .ok()
                    .filter(|rate| rate.is_finite() && *rate >= 0.0)
                    .ok_or_else(|| {
                        format!(
                            "line {line_number}: {name} `{}` is not a non-negative number",
                            fields[field]
                        )
                    })
            };
            let system = match fields[1] {
                "" => None,
                "I" | "II" | "III" | "IV" => Some(fields[1].to_string()),
                other => {
                    return Err(format!(
                        "line {line_number}: system `{other}` is not I, II, III or IV"
                    ));
                }
            };
            let entry = CatalogEntry {
                action_id: fields[0].to_string(),
                system,
                fault_class: fields[2].to_string(),
                annual_rate: rate(3, "annual_rate")?,
                annual_rate_low: rate(4, "annual_rate_low")?,
                annual_rate_high: rate(5, "annual_rate_high")?,
                description: fields[6].to_string(),
            };
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

    pub fn system_of(&self, action_id: &str) -> Option<&str> {
        self.lookup(action_id)
            .and_then(|entry| entry.system.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalog_maps_the_seed_examples() {
        let catalog = ActionCatalog::built_in();
        assert_eq!(catalog.system_of("aws:ec2:terminate-instances"), Some("I"));
        assert_eq!(catalog.system_of("aws:rds:failover-db-cluster"), Some("II"));
        assert_eq!(
            catalog.system_of("aws:network:disrupt-connectivity"),
            Some("III")
        );
        assert_eq!(catalog.system_of("aws:fis:wait"), None);
        // An action newer than the catalog falls back to its service's entry.
        assert_eq!(
            catalog
                .lookup("aws:kinesis:inject-api-some-new-error")
                .map(|e| e.fault_class.as_str()),
            Some("stream-api-error")
        );
        assert_eq!(catalog.system_of("aws:dsql:some-new-fault"), Some("II"));
        assert_eq!(catalog.system_of("aws:unknown:thing"), None);
        assert!(catalog.entries.len() > 40);
    }
}
