//! Aggregations over judged experiments. The SQL lives in `queries/analytics/*.sql` (polars SQL);
//! this module builds the tables those queries read and runs them.
//!
//! Registered tables (a contract for the SQL files):
//! - `experiment_outcomes`: one row per experiment with experiment_id, template, team, service,
//!   environment, trigger, month (`YYYY-MM`), quarter (`2026Q3`), verdict, conclusive, impacted,
//!   recovered, time_to_impact_s, time_to_recover_s.

use polars::prelude::*;
use polars::sql::SQLContext;

use super::JudgedExperiment;
use super::weaknesses::template_key;
use crate::ledger::Experiment;
use crate::vocab::time::{PerDay, month_of, quarter_of};

/// The built-in queries, compiled in so that the binary works from any folder.
pub const QUARTERLY_SUMMARY_SQL: &str =
    include_str!("../../queries/analytics/quarterly_summary.sql");

#[derive(Debug, thiserror::Error)]
#[error("query {name} failed")]
pub struct QueryError {
    pub name: String,
    #[source]
    pub source: PolarsError,
}

/// One row per experiment, joined with its outcome.
pub fn experiment_outcomes_frame(experiments: &[JudgedExperiment]) -> PolarsResult<DataFrame> {
    let texts = |f: &dyn Fn(&Experiment) -> Option<&str>| -> Vec<Option<&str>> {
        experiments.iter().map(|e| f(&e.experiment)).collect()
    };
    let by_day = PerDay::new(experiments.iter().map(|e| e.start()), |start| {
        (month_of(start), quarter_of(start))
    });
    let periods = |pick: fn(&(String, String)) -> &str| -> Vec<&str> {
        experiments
            .iter()
            .map(|e| pick(by_day.of(e.start())))
            .collect()
    };
    let outcomes = || experiments.iter().map(|e| &e.outcome);
    DataFrame::new_infer_height(vec![
        Column::new(
            "experiment_id".into(),
            texts(&|e| Some(e.experiment_id.as_str())),
        ),
        Column::new("template".into(), texts(&template_key)),
        Column::new(
            "template_name".into(),
            texts(&|e| e.template_name.as_deref()),
        ),
        Column::new("team".into(), texts(&|e| e.team.as_deref())),
        Column::new("service".into(), texts(&|e| e.service.as_deref())),
        Column::new("environment".into(), texts(&|e| e.environment.as_deref())),
        Column::new("trigger".into(), texts(&|e| e.trigger.as_deref())),
        Column::new("month".into(), periods(|(month, _)| month)),
        Column::new("quarter".into(), periods(|(_, quarter)| quarter)),
        Column::new(
            "verdict".into(),
            outcomes().map(|o| o.verdict.name()).collect::<Vec<_>>(),
        ),
        Column::new(
            "conclusive".into(),
            outcomes()
                .map(|o| o.verdict.is_conclusive())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "impacted".into(),
            outcomes().map(|o| o.impacted).collect::<Vec<_>>(),
        ),
        Column::new(
            "recovered".into(),
            outcomes().map(|o| o.recovered).collect::<Vec<_>>(),
        ),
        Column::new(
            "time_to_impact_s".into(),
            outcomes().map(|o| o.time_to_impact_s).collect::<Vec<_>>(),
        ),
        Column::new(
            "time_to_recover_s".into(),
            outcomes().map(|o| o.time_to_recover_s).collect::<Vec<_>>(),
        ),
        Column::new(
            "censored_at_s".into(),
            outcomes().map(|o| o.censored_at_s).collect::<Vec<_>>(),
        ),
    ])
}

/// Runs one SQL query over the registered tables.
pub fn run_query(
    name: &str,
    sql: &str,
    tables: &[(&str, &DataFrame)],
) -> Result<DataFrame, QueryError> {
    plan_query(name, sql, tables)?
        .collect()
        .map_err(|source| QueryError {
            name: name.to_string(),
            source,
        })
}

/// The plan of one query, for running several together ([`run_queries`]).
fn plan_query(
    name: &str,
    sql: &str,
    tables: &[(&str, &DataFrame)],
) -> Result<LazyFrame, QueryError> {
    let mut context = SQLContext::new();
    for (table, frame) in tables {
        context.register(table, (*frame).clone().lazy());
    }
    context.execute(sql).map_err(|source| QueryError {
        name: name.to_string(),
        source,
    })
}

/// Runs named queries over the same tables in one polars execution, which runs them in parallel:
/// the maturity rubric's small queries are mostly planning, one at a time they leave a core idle.
pub fn run_queries(
    queries: &[(String, &str)],
    tables: &[(&str, &DataFrame)],
) -> Result<Vec<DataFrame>, QueryError> {
    let plans = queries
        .iter()
        .map(|(name, sql)| Ok(plan_query(name, sql, tables)?.logical_plan))
        .collect::<Result<Vec<_>, QueryError>>()?;
    match LazyFrame::collect_all_with_engine(plans, Engine::InMemory, OptFlags::default()) {
        Ok(frames) => Ok(frames),
        // Run them one by one to name the query that failed.
        Err(source) => {
            for (name, sql) in queries {
                run_query(name, sql, tables)?;
            }
            Err(QueryError {
                name: "the queries run together".to_string(),
                source,
            })
        }
    }
}

/// One quarter's verdicts and recovery times.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarterSummary {
    pub quarter: String,
    pub experiments: u64,
    pub green: u64,
    pub yellow: u64,
    pub red: u64,
    pub inconclusive: u64,
    pub in_progress: u64,
    pub recovered: u64,
    pub censored: u64,
    pub median_time_to_recover_s: Option<f64>,
    pub p90_time_to_recover_s: Option<f64>,
}

pub fn quarterly_summary(
    experiment_outcomes: &DataFrame,
) -> Result<Vec<QuarterSummary>, QueryError> {
    let name = "quarterly_summary";
    let frame = run_query(
        name,
        QUARTERLY_SUMMARY_SQL,
        &[("experiment_outcomes", experiment_outcomes)],
    )?;
    let error = |source| QueryError {
        name: name.to_string(),
        source,
    };
    let counts = |column: &str| -> PolarsResult<Vec<u64>> {
        let values = frame.column(column)?.cast(&DataType::UInt64)?;
        Ok(values
            .u64()?
            .iter()
            .map(|value| value.unwrap_or(0))
            .collect())
    };
    let floats = |column: &str| -> PolarsResult<Vec<Option<f64>>> {
        let values = frame.column(column)?.cast(&DataType::Float64)?;
        Ok(values.f64()?.iter().collect())
    };
    let quarters: Vec<String> = frame
        .column("quarter")
        .and_then(|c| c.str().cloned())
        .map_err(error)?
        .iter()
        .map(|q| q.unwrap_or_default().to_string())
        .collect();
    let experiments = counts("experiments").map_err(error)?;
    let green = counts("green").map_err(error)?;
    let yellow = counts("yellow").map_err(error)?;
    let red = counts("red").map_err(error)?;
    let inconclusive = counts("inconclusive").map_err(error)?;
    let in_progress = counts("in_progress").map_err(error)?;
    let recovered = counts("recovered").map_err(error)?;
    let censored = counts("censored").map_err(error)?;
    let median = floats("median_time_to_recover_s").map_err(error)?;
    let p90 = floats("p90_time_to_recover_s").map_err(error)?;
    Ok((0..quarters.len())
        .map(|i| QuarterSummary {
            quarter: quarters[i].clone(),
            experiments: experiments[i],
            green: green[i],
            yellow: yellow[i],
            red: red[i],
            inconclusive: inconclusive[i],
            in_progress: in_progress[i],
            recovered: recovered[i],
            censored: censored[i],
            median_time_to_recover_s: median[i],
            p90_time_to_recover_s: p90[i],
        })
        .collect())
}
