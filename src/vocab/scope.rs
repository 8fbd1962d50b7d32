//! Whom a maturity stage, a coverage row or a gate rule is about: the whole organisation or one
//! team. A team may be called anything its tag says, `organization` included, so the two are
//! different values, never told apart by name.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Organization,
    /// A team, by its tag value (never empty: an empty tag is no team).
    Team(String),
}

/// The key of the organisation in analysis tables: no team's name is empty.
const ORGANIZATION_KEY: &str = "";

impl Scope {
    /// The scope's key in analysis tables (the `scope` column the rubric's queries group by).
    pub fn key(&self) -> &str {
        match self {
            Scope::Organization => ORGANIZATION_KEY,
            Scope::Team(team) => team,
        }
    }

    pub fn from_key(key: &str) -> Scope {
        if key == ORGANIZATION_KEY {
            Scope::Organization
        } else {
            Scope::Team(key.to_string())
        }
    }

    /// How `report.json` names the scope: `organization`, or the team's name.
    pub fn name(&self) -> &str {
        match self {
            Scope::Organization => "organization",
            Scope::Team(team) => team,
        }
    }

    pub fn is_organization(&self) -> bool {
        *self == Scope::Organization
    }

    /// Whether a row of this team belongs to the scope (the organisation holds every row).
    pub fn holds(&self, team: Option<&str>) -> bool {
        match self {
            Scope::Organization => true,
            Scope::Team(name) => team == Some(name.as_str()),
        }
    }

    /// The order reports list scopes in: by name, the organisation before a team of that name.
    pub fn report_order(&self) -> (&str, bool) {
        (self.name(), !self.is_organization())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_called_organization_is_not_the_organisation() {
        let team = Scope::Team("organization".into());
        assert_ne!(team, Scope::Organization);
        assert_ne!(team.key(), Scope::Organization.key());
        assert_eq!(Scope::from_key(team.key()), team);
        assert_eq!(
            Scope::from_key(Scope::Organization.key()),
            Scope::Organization
        );
        assert!(Scope::Organization.holds(Some("payments")) && Scope::Organization.holds(None));
        assert!(!team.holds(None) && team.holds(Some("organization")));
    }
}
