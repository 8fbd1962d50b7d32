//! One experiment as the program's analysis sees it: its ledger record with its outcome, the
//! systems it exercises and whether it started in the reporting period, kept together so that
//! nothing pairs parallel lists by index.

use super::recovery::ExperimentOutcome;
use super::systems::systems_of;
use crate::config::Environments;
use crate::ledger::{Action, Experiment};
use crate::vocab::System;
use crate::vocab::catalog::ActionCatalog;
use crate::vocab::practice::EnvironmentClass;
use crate::vocab::time::Micros;

#[derive(Debug, Clone)]
pub struct JudgedExperiment {
    pub experiment: Experiment,
    pub outcome: ExperimentOutcome,
    /// The systems (I–IV) the experiment exercises (`analyze::systems::systems_of`).
    pub systems: Vec<System>,
    /// Whether the experiment started inside the reporting period (the others are history).
    /// False until `program::analyze_judged` is given the period.
    pub in_period: bool,
    /// Production, staging or development, by `[environments]` (SPEC section 5).
    pub environment: EnvironmentClass,
}

impl JudgedExperiment {
    /// An experiment just judged, with its `actions`: the systems it exercises and its
    /// environment class, before any reporting period is chosen (`in_period` false).
    pub fn new(
        experiment: Experiment,
        outcome: ExperimentOutcome,
        actions: &[&Action],
        catalog: &ActionCatalog,
        environments: &Environments,
    ) -> JudgedExperiment {
        JudgedExperiment {
            systems: systems_of(&experiment, actions, catalog),
            in_period: false,
            environment: environments.class_of(experiment.environment.as_deref()),
            experiment,
            outcome,
        }
    }

    pub fn id(&self) -> &str {
        &self.experiment.experiment_id
    }

    /// When the experiment started (`Experiment::start`).
    pub fn start(&self) -> Micros {
        self.experiment.start()
    }
}
