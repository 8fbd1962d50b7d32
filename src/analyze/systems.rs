//! Which of the seed's four systems (I–IV) an experiment exercises.

use std::collections::BTreeSet;

use crate::ledger::{Action, Experiment};
use crate::vocab::System;
use crate::vocab::catalog::{ActionCatalog, SYSTEM_TAG};

/// The systems an experiment exercises, in order: the template's `checkup:system` tag when it
/// names one (`I` to `IV`), else the catalog's system of each of its fault actions (an alarm
/// assertion covers no system: it injects nothing).
pub fn systems_of(
    experiment: &Experiment,
    actions: &[&Action],
    catalog: &ActionCatalog,
) -> Vec<System> {
    if let Some(system) = experiment
        .tags
        .get(SYSTEM_TAG)
        .and_then(|tag| System::from_name(tag.trim()))
    {
        return vec![system];
    }
    let systems: BTreeSet<System> = actions
        .iter()
        .filter(|action| catalog.injects_fault(&action.action_id))
        .filter_map(|action| {
            action
                .system
                .or_else(|| catalog.system_of(&action.action_id))
        })
        .collect();
    systems.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn experiment(system_tag: Option<&str>) -> Experiment {
        Experiment {
            tags: system_tag
                .map(|tag| {
                    std::collections::BTreeMap::from([(SYSTEM_TAG.to_string(), tag.to_string())])
                        .into()
                })
                .unwrap_or_default(),
            ..Experiment::example("EXP1", 0)
        }
    }

    fn action(action_id: &str) -> Action {
        Action {
            experiment_id: "EXP1".into(),
            action_name: action_id.into(),
            action_id: action_id.into(),
            system: None,
            status: "completed".into(),
            started_at: None,
            ended_at: None,
            targets: vec![],
        }
    }

    #[test]
    fn the_tag_names_the_system_else_the_catalog_does_in_order() {
        let catalog = ActionCatalog::built_in();
        let network = action("aws:network:disrupt-connectivity");
        let terminate = action("aws:ec2:terminate-instances");
        let wait = action("aws:fis:wait");
        let actions = [&network, &terminate, &wait];
        assert_eq!(
            systems_of(&experiment(None), &actions, &catalog),
            [System::I, System::III]
        );
        assert_eq!(
            systems_of(&experiment(Some("IV")), &actions, &catalog),
            [System::IV]
        );
        // A tag that names no system is not one: the catalog decides.
        assert_eq!(
            systems_of(&experiment(Some("V")), &actions, &catalog),
            [System::I, System::III]
        );
    }
}
