//! How an experiment was run, read from its free-text tags: the class of its environment (which
//! values are which comes from `[environments]`, `config::Environments::class_of`) and of its
//! trigger. The ledger keeps the tag values as written; maturity and the practice table read
//! these classes.

/// The kind of environment an experiment ran in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentClass {
    /// A value of `[environments] production` (default prod, production, prd, live).
    Production,
    /// A value of `[environments] staging` (default staging, stage, stg, uat, preprod).
    Staging,
    /// Anything else, or no environment tag.
    Development,
}

impl EnvironmentClass {
    pub const ALL: [EnvironmentClass; 3] = [
        EnvironmentClass::Production,
        EnvironmentClass::Staging,
        EnvironmentClass::Development,
    ];

    /// The class's name in `checkup.toml` (`findings_from`) and `report.json`.
    pub fn name(self) -> &'static str {
        match self {
            EnvironmentClass::Production => "production",
            EnvironmentClass::Staging => "staging",
            EnvironmentClass::Development => "development",
        }
    }

    pub fn from_name(name: &str) -> Option<EnvironmentClass> {
        EnvironmentClass::ALL
            .into_iter()
            .find(|class| class.name() == name)
    }

    /// Staging or production.
    pub fn is_outside_dev(self) -> bool {
        self != EnvironmentClass::Development
    }
}

/// How an experiment was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerClass {
    /// `ci` or `scheduled`: by CI/CD or a schedule.
    Automated,
    /// `gameday`: a team exercise.
    GameDay,
    /// Anything else, or no trigger tag.
    Manual,
}

impl TriggerClass {
    pub fn of(trigger: Option<&str>) -> TriggerClass {
        match trigger {
            Some("ci" | "scheduled") => TriggerClass::Automated,
            Some("gameday") => TriggerClass::GameDay,
            _ => TriggerClass::Manual,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_values_fall_into_classes() {
        assert!(EnvironmentClass::Staging.is_outside_dev());
        assert_eq!(TriggerClass::of(Some("scheduled")), TriggerClass::Automated);
        assert_eq!(TriggerClass::of(Some("gameday")), TriggerClass::GameDay);
        assert_eq!(TriggerClass::of(Some("GameDay")), TriggerClass::Manual);
        assert_eq!(TriggerClass::of(None), TriggerClass::Manual);
    }
}
