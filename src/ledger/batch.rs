//! The ledger's write order: what one source read goes in children first (points, series, actions,
//! alarm events) and experiments last, one upsert per table, so that a reader never sees an
//! experiment without its rows. Callers hand over a [`Batch`]; the order is the ledger's alone.

use std::collections::HashMap;

use polars::prelude::*;

use super::{
    Action, AlarmEvent, Experiment, Incident, Ledger, LedgerError, MetricSeries, Outcome,
    PointColumns, Result, Table, actions_frame, alarm_events_frame, commit, experiments_frame,
    incidents_frame, outcomes_frame, series_frame,
};

/// What one source read, for every table it fills. Rows of an experiment read again replace the
/// old ones by key.
#[derive(Debug, Default)]
pub struct Batch {
    pub experiments: Vec<Experiment>,
    pub actions: Vec<Action>,
    pub series: Vec<MetricSeries>,
    pub points: PointColumns,
    pub alarm_events: Vec<AlarmEvent>,
}

/// Names the table whose rows could not be turned into a frame.
pub fn rows_of(table: Table) -> impl FnOnce(PolarsError) -> LedgerError {
    move |source| LedgerError::Rows { table, source }
}

/// The `outcomes` rows of judged experiments with the month of each, as
/// [`Ledger::store_outcome_rows`] stores them. Owned, borrowing nothing from the analysis, so that
/// the store can run beside other work (a report's rendering) once the analysis is done.
pub struct OutcomeRows {
    outcomes: Vec<Outcome>,
    /// The month partition of `outcomes[i]`'s experiment.
    months: Vec<String>,
}

/// The rows of `outcomes`; `experiments[i]` is the experiment of `outcomes[i]`.
pub fn outcome_rows<'a>(
    outcomes: Vec<Outcome>,
    experiments: impl IntoIterator<Item = &'a Experiment>,
) -> OutcomeRows {
    let months: Vec<String> = experiments.into_iter().map(Experiment::month).collect();
    debug_assert_eq!(months.len(), outcomes.len());
    OutcomeRows { outcomes, months }
}

impl Ledger {
    /// Stores a batch children first and experiments last. Every row lands in the partition of
    /// its experiment's creation month, so a batch carries the experiments of all its rows.
    /// Every partition of the batch is written in full before any replaces its file, so a write
    /// that fails (a full disk) leaves the ledger as it was.
    pub fn store(&self, batch: Batch) -> Result<()> {
        let month_by_id: HashMap<String, String> = batch
            .experiments
            .iter()
            .map(|e| (e.experiment_id.clone(), e.month()))
            .collect();
        let month_of = |id: &str| month_by_id.get(id).cloned().unwrap_or_default();
        let mut staged = Vec::new();
        if !batch.points.is_empty() {
            let rows = batch.points.into_frame().map_err(rows_of(Table::Points))?;
            self.stage_upsert(Table::Points, rows, &mut staged)?;
        }
        if !batch.series.is_empty() {
            let rows = series_frame(&batch.series, &month_of).map_err(rows_of(Table::Series))?;
            self.stage_upsert(Table::Series, rows, &mut staged)?;
        }
        if !batch.actions.is_empty() {
            let rows = actions_frame(&batch.actions, &month_of).map_err(rows_of(Table::Actions))?;
            self.stage_upsert(Table::Actions, rows, &mut staged)?;
        }
        if !batch.alarm_events.is_empty() {
            let rows =
                alarm_events_frame(&batch.alarm_events).map_err(rows_of(Table::AlarmEvents))?;
            self.stage_upsert(Table::AlarmEvents, rows, &mut staged)?;
        }
        if !batch.experiments.is_empty() {
            let rows =
                experiments_frame(&batch.experiments).map_err(rows_of(Table::Experiments))?;
            self.stage_upsert(Table::Experiments, rows, &mut staged)?;
        }
        commit(staged)
    }

    /// Stores derived outcome rows ([`outcome_rows`]); a row replaces the stored one of its
    /// experiment.
    pub fn store_outcome_rows(&self, rows: OutcomeRows) -> Result<()> {
        if rows.outcomes.is_empty() {
            return Ok(());
        }
        let frame =
            outcomes_frame(&rows.outcomes, &rows.months).map_err(rows_of(Table::Outcomes))?;
        self.upsert(Table::Outcomes, frame)?;
        Ok(())
    }

    /// Stores incidents (an incident read again replaces its row).
    pub fn store_incidents(&self, incidents: &[Incident]) -> Result<()> {
        if incidents.is_empty() {
            return Ok(());
        }
        let rows = incidents_frame(incidents).map_err(rows_of(Table::Incidents))?;
        self.upsert(Table::Incidents, rows)?;
        Ok(())
    }
}
