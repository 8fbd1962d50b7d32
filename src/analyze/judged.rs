//! One experiment as the program's analysis sees it: its ledger record with its outcome, the
//! systems it exercises and whether it started in the reporting period, kept together so that
//! nothing pairs parallel lists by index.

use super::recovery::ExperimentOutcome;
use crate::ledger::Experiment;
use crate::vocab::System;
use crate::vocab::practice::EnvironmentClass;
use crate::vocab::time::Micros;

#[derive(Debug, Clone)]
pub struct JudgedExperiment {
    pub experiment: Experiment,
    pub outcome: ExperimentOutcome,
    /// The systems (I–IV) the experiment exercises (`analyze::systems::systems_of`).
    pub systems: Vec<System>,
    /// Whether the experiment started inside the reporting period (the others are history).
    pub in_period: bool,
    /// Production, staging or development, by `[environments]` (SPEC section 5).
    pub environment: EnvironmentClass,
}

impl JudgedExperiment {
    pub fn id(&self) -> &str {
        &self.experiment.experiment_id
    }

    /// When the experiment started (`Experiment::start`).
    pub fn start(&self) -> Micros {
        self.experiment.start()
    }
}
