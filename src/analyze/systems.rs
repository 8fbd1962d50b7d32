//! Which of the seed's four systems (I–IV) an experiment exercises.

use std::collections::BTreeSet;

use crate::ledger::{Action, Experiment};
use crate::vocab::catalog::{ActionCatalog, SYSTEM_TAG};

/// The systems an experiment exercises: the template's `checkup:system` tag when present, else
/// the catalog's system of each of its actions.
pub fn systems_of(
    experiment: &Experiment,
    actions: &[&Action],
    catalog: &ActionCatalog,
) -> Vec<String> {
    if let Some(system) = experiment.tags.get(SYSTEM_TAG) {
        return vec![system.clone()];
    }
    let systems: BTreeSet<String> = actions
        .iter()
        .filter_map(|action| {
            action
                .system
                .clone()
                .or_else(|| catalog.system_of(&action.action_id).map(str::to_string))
        })
        .collect();
    let order = ["I", "II", "III", "IV"];
    let mut systems: Vec<String> = systems.into_iter().collect();
    systems.sort_by_key(|system| order.iter().position(|known| known == system));
    systems
}
